/**
 * The simulator's MQTT face, two ways at once so both ingestion paths have a real source:
 *  - unified-namespace JSON: `<prefix>/extruder/<tag>` ← `{"value","tsMs","quality","unit"}`
 *  - Sparkplug B: NBIRTH/DBIRTH with every tag (alias = 1-based index in TAGS), DDATA with the
 *    changed metrics by alias, NDEATH as the MQTT will, rebirth on NCMD `Node Control/Rebirth`.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  formatSparkplugTopic,
  type SparkplugMetric,
  type SparkplugMessageType,
} from '../../runtime/ingest/sparkplug-codec.js';
import { TAGS, TAG_NAMES, isTagName, sparkplugAlias, unsTopic, type TagName } from './tags.js';
import type { Readings } from './model.js';

export interface SimMqttOptions {
  url: string;
  prefix: string;
  groupId: string;
  edgeNodeId: string;
  deviceId: string;
  username?: string;
  password?: string;
  json: boolean;
  sparkplug: boolean;
  /** Setpoint writes arriving as Sparkplug DCMD (throws SimError when refused). */
  onWrite(tag: TagName, value: number): void;
  log(line: string): void;
}

export interface SimMqttPublisher {
  publish(tsMs: number, readings: Readings): void;
  /** The Sparkplug birth/death sequence number of the present MQTT session. */
  readonly bdSeq: number;
  readonly client: MqttClient;
  /** Send NDEATH and disconnect cleanly. */
  stop(): Promise<void>;
}

const REBIRTH = 'Node Control/Rebirth';

export function startMqttPublisher(opts: SimMqttOptions): SimMqttPublisher {
  const topic = (messageType: SparkplugMessageType, device?: string) =>
    formatSparkplugTopic({ groupId: opts.groupId, messageType, edgeNodeId: opts.edgeNodeId, ...(device ? { deviceId: device } : {}) });
  let bdSeq = 0;
  let seq = 0;
  let born = false;
  let last: { tsMs: number; readings: Readings } | undefined;
  /** What the host last got per alias (value + null flag) so DDATA carries only changes. */
  let sent = new Map<TagName, string>();

  const deathPayload = () =>
    encodeSparkplugPayload({ timestampMs: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
  const nextSeq = () => {
    const s = seq;
    seq = (seq + 1) % 256;
    return s;
  };

  const clientOptions: IClientOptions = {
    clientId: `twinloop-sim-${opts.edgeNodeId}-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
    username: opts.username,
    password: opts.password,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // Live data only: samples from while the link was down are not worth replaying (births follow).
    queueQoSZero: false,
    ...(opts.sparkplug ? { will: { topic: topic('NDEATH'), payload: deathPayload(), qos: 1, retain: false } } : {}),
  };

  function metricOf(tag: TagName, readings: Readings, birth: boolean): SparkplugMetric {
    const def = TAGS.find((t) => t.name === tag)!;
    const r = readings[tag];
    const isNull = r.quality === 'bad';
    return {
      ...(birth ? { name: tag } : {}),
      alias: sparkplugAlias(tag),
      type: def.dataType,
      value: isNull ? null : r.value,
      ...(isNull ? { isNull: true } : {}),
      ...(birth && def.unit ? { unit: def.unit } : {}),
    };
  }

  function birth(client: MqttClient): void {
    if (!last) return;
    const { tsMs, readings } = last;
    seq = 0;
    client.publish(
      topic('NBIRTH'),
      encodeSparkplugPayload({
        timestampMs: tsMs,
        seq: nextSeq(),
        metrics: [
          { name: 'bdSeq', type: 'UInt64', value: bdSeq },
          { name: REBIRTH, type: 'Boolean', value: false },
        ],
      }),
      { qos: 0 },
    );
    client.publish(
      topic('DBIRTH', opts.deviceId),
      encodeSparkplugPayload({
        timestampMs: tsMs,
        seq: nextSeq(),
        metrics: TAG_NAMES.map((t) => ({ ...metricOf(t, readings, true), timestampMs: tsMs })),
      }),
      { qos: 0 },
    );
    sent = new Map(TAG_NAMES.map((t) => [t, key(readings, t)]));
    born = true;
  }
  const key = (readings: Readings, t: TagName) => `${readings[t].quality}:${readings[t].value}`;

  // No waiting for the broker: like a real edge node the simulator keeps trying and births on connect.
  const client = connect(opts.url, clientOptions);

  function onMessage(t: string, payload: Buffer): void {
    try {
      if (t === topic('NCMD')) {
        const p = decodeSparkplugPayload(payload);
        if (p.metrics.some((m) => m.name === REBIRTH && m.value === true)) {
          opts.log('sparkplug: rebirth requested');
          birth(client);
        }
      } else if (t === topic('DCMD', opts.deviceId)) {
        for (const m of decodeSparkplugPayload(payload).metrics) {
          const tag = m.name ?? (m.alias !== undefined ? TAG_NAMES[m.alias - 1] : undefined);
          if (!tag || !isTagName(tag) || typeof m.value !== 'number') continue;
          try {
            opts.onWrite(tag, m.value);
          } catch (err) {
            opts.log(`sparkplug: DCMD ${tag}=${m.value} refused: ${(err as Error).message}`);
          }
        }
      }
    } catch (err) {
      opts.log(`sparkplug: bad command payload on ${t}: ${(err as Error).message}`);
    }
  }

  let everConnected = false;
  function onConnect(): void {
    opts.log(`mqtt: connected to ${opts.url}`);
    everConnected = true;
    saidOffline = false;
    if (!opts.sparkplug) return;
    client.subscribe([topic('NCMD'), topic('DCMD', opts.deviceId)], { qos: 0 });
    birth(client);
  }
  client.on('message', onMessage);
  client.on('connect', onConnect);
  client.on('close', () => {
    if (!opts.sparkplug || !born) return;
    // A new MQTT session is a new birth/death pair: the will of the next session carries the next bdSeq.
    born = false;
    bdSeq = (bdSeq + 1) % 256;
    if (client.options.will) client.options.will.payload = deathPayload();
  });
  let saidOffline = false;
  client.on('offline', () => {
    if (saidOffline) return; // once per outage, not once per retry
    saidOffline = true;
    opts.log(everConnected ? `mqtt: lost ${opts.url}, reconnecting` : `mqtt: waiting for broker at ${opts.url}`);
  });
  client.on('error', (err) => opts.log(`mqtt: ${err.message}`));

  return {
    get bdSeq() {
      return bdSeq;
    },
    client,
    publish(tsMs, readings) {
      last = { tsMs, readings };
      if (!client.connected) return;
      if (opts.json) {
        for (const def of TAGS) {
          const r = readings[def.name];
          const body = {
            value: r.value,
            tsMs,
            quality: r.quality,
            ...(def.unit ? { unit: def.unit } : {}),
            ...(r.qualityReason ? { qualityReason: r.qualityReason } : {}),
          };
          client.publish(unsTopic(def.name, opts.prefix), JSON.stringify(body), { qos: 0, retain: false });
        }
      }
      if (opts.sparkplug) {
        if (!born) return birth(client);
        const changed = TAG_NAMES.filter((t) => sent.get(t) !== key(readings, t));
        if (changed.length === 0) return;
        for (const t of changed) sent.set(t, key(readings, t));
        client.publish(
          topic('DDATA', opts.deviceId),
          encodeSparkplugPayload({
            timestampMs: tsMs,
            seq: nextSeq(),
            metrics: changed.map((t) => ({ ...metricOf(t, readings, false), timestampMs: tsMs })),
          }),
          { qos: 0 },
        );
      }
    },
    async stop() {
      if (opts.sparkplug && client.connected) {
        // A clean disconnect suppresses the will, so say goodbye explicitly.
        await client.publishAsync(topic('NDEATH'), deathPayload(), { qos: 0 }).catch(() => undefined);
      }
      await client.endAsync(!client.connected);
    },
  };
}
