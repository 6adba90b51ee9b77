/**
 * The MQTT side of twin-mqtt-write (kept apart from the node file, whose only export must be the
 * Node-RED registration function).
 *
 * A command goes out directly (QoS 1), never through the broker node's disk outbox: a setpoint
 * delivered late, after the link returns, would act on a plant that has moved on, so with the link
 * down the write fails. There is no reply to a publish, so the plant's value is what it reports:
 *  - json: the command `{"value":v,"commandId":..,"tsMs":..}` to a command topic; the value is read
 *    from a read-back topic carrying a UNS JSON reading `{"value":..,"quality":..}` or a bare number;
 *  - sparkplug: a DCMD with the metric by name; the value is read from the device's DBIRTH/DDATA
 *    (DDATA names metrics by alias, learnt from DBIRTH; without a birth seen, an NCMD rebirth is asked).
 * The present value is the last one seen (forgotten when the link drops); the read-back is the first
 * value within tolerance seen after the publish, else, at the timeout, the last value seen after it
 * (a sample already on its way when the command left can arrive after it: it is not a failure yet).
 * Interlocks and inputs are the latest readings twin-mqtt-in received on the same broker (MQTT
 * cannot be asked for a value). Without broker ACLs anyone who can publish there can fake them:
 * MQTT is an authenticated source only where the broker lets only the plant publish plant topics.
 */
import type { MessageHandler } from '../../runtime/ingest/mqtt-link.js';
import { decodeSparkplugPayload, encodeSparkplugPayload, formatSparkplugTopic } from '../../runtime/ingest/sparkplug-codec.js';
import { rebirthPayload } from '../../runtime/ingest/sparkplug-host.js';
import type { Command } from '../../runtime/model/control.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { WriterTransport } from '../../runtime/control/writer.js';
import type { Reading } from '../../runtime/model/reading.js';

export type MqttWriteFormat = 'json' | 'sparkplug';

export interface MqttWriteSettings {
  format: MqttWriteFormat;
  /** json */
  commandTopic: string;
  readBackTopic: string;
  /** sparkplug */
  groupId: string;
  edgeNodeId: string;
  /** blank: a node-level metric (NCMD / NBIRTH / NDATA) */
  deviceId: string;
  metric: string;
  readBackTimeoutMs: number;
}

/** The part of a twin-mqtt-broker node the transport uses. */
export interface MqttWriteLink {
  subscribe(filter: string, qos: 0 | 1 | 2, handler: MessageHandler): (unsubscribe?: boolean) => void;
  publishDirect(topic: string, payload: Buffer | string, qos?: 0 | 1 | 2): Promise<void>;
  /** Whether the link is up now (a command with the link down fails at once, with a clear reason). */
  isConnected(): boolean;
}

const TOPIC_PART = /^[^#+\0]+$/;

/** Validate the MQTT fields; throws BAD_CONFIG naming the field. */
export function validateMqttWriteSettings(def: Record<string, unknown>, readBackTimeoutMs: number): MqttWriteSettings {
  const str = (k: string) => (typeof def[k] === 'string' ? (def[k] as string).trim() : '');
  const bad = (msg: string) => new TwinError('BAD_CONFIG', msg);
  const format = str('format') || 'json';
  if (format !== 'json' && format !== 'sparkplug') throw bad(`format must be json or sparkplug, not ${JSON.stringify(format)}`);
  const s: MqttWriteSettings = {
    format,
    commandTopic: str('commandTopic'),
    readBackTopic: str('readBackTopic'),
    groupId: str('groupId'),
    edgeNodeId: str('edgeNodeId'),
    deviceId: str('deviceId'),
    metric: str('metric'),
    readBackTimeoutMs,
  };
  if (format === 'json') {
    if (!s.commandTopic || !TOPIC_PART.test(s.commandTopic)) throw bad('commandTopic is required and must not contain + or # (a command goes to one topic)');
    if (!s.readBackTopic || !TOPIC_PART.test(s.readBackTopic)) throw bad('readBackTopic is required and must not contain + or #');
  } else {
    for (const k of ['groupId', 'edgeNodeId'] as const) {
      if (!s[k] || /[/#+]/.test(s[k])) throw bad(`${k} is required and must not contain /, + or #`);
    }
    if (/[/#+]/.test(s.deviceId)) throw bad('deviceId must not contain /, + or #');
    if (!s.metric) throw bad('metric is required (the Sparkplug metric name of the setpoint)');
  }
  return s;
}

interface Waiter {
  accept(v: number): boolean;
}

export class MqttWriteTransport implements WriterTransport {
  private last: number | undefined;
  /** Values seen since the last publish of a command. */
  private sinceWrite: number[] | undefined;
  private readonly waiters = new Set<Waiter>();
  private alias: number | undefined;
  private lastRebirthMs = 0;
  private unsubs: Array<(u?: boolean) => void> = [];

  constructor(
    private readonly link: MqttWriteLink,
    private readonly s: MqttWriteSettings,
    /** The latest readings received on the same broker, by `asset/tag` (the broker node's LatestReadings). */
    private readonly latest: { get(key: string): Reading | undefined },
    private readonly now: () => number = Date.now,
  ) {}

  async readInputs(keys: readonly string[]): Promise<ReadonlyMap<string, Reading>> {
    this.requireLink();
    const out = new Map<string, Reading>();
    for (const k of keys) {
      const r = this.latest.get(k);
      if (r) out.set(k, r);
    }
    return out;
  }

  private spTopic(type: 'CMD' | 'BIRTH' | 'DATA' | 'DEATH'): string {
    const device = this.s.deviceId || undefined;
    return formatSparkplugTopic({
      groupId: this.s.groupId,
      edgeNodeId: this.s.edgeNodeId,
      messageType: `${device ? 'D' : 'N'}${type}` as 'DCMD',
      ...(device ? { deviceId: device } : {}),
    });
  }

  /** Subscribe to the read-back topics. */
  start(): void {
    if (this.s.format === 'json') {
      this.unsubs.push(this.link.subscribe(this.s.readBackTopic, 1, (_t, payload) => this.onJson(payload)));
    } else {
      this.unsubs.push(this.link.subscribe(this.spTopic('BIRTH'), 0, (_t, p) => this.onSparkplug(p, true)));
      this.unsubs.push(this.link.subscribe(this.spTopic('DATA'), 0, (_t, p) => this.onSparkplug(p, false)));
      // a death (the device's, or its edge node's) means the last value is no longer the plant's
      this.unsubs.push(this.link.subscribe(this.spTopic('DEATH'), 0, () => this.forget()));
      if (this.s.deviceId) {
        const nodeDeath = formatSparkplugTopic({ groupId: this.s.groupId, edgeNodeId: this.s.edgeNodeId, messageType: 'NDEATH' });
        this.unsubs.push(this.link.subscribe(nodeDeath, 0, () => this.forget()));
      }
    }
  }

  stop(): void {
    this.unsubs.splice(0).forEach((u) => u());
  }

  /** The link went down or the edge node died: the last value may no longer be the plant's. */
  forget(): void {
    this.last = undefined;
  }

  private onJson(payload: Buffer): void {
    let v: unknown;
    try {
      v = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (typeof v === 'number') return this.seen(v);
    const o = v as { value?: unknown; quality?: unknown } | null;
    // a bad reading is not the plant's value (a dropped-out sensor, a gap marker)
    if (o && typeof o.value === 'number' && o.quality !== 'bad') this.seen(o.value);
  }

  private onSparkplug(payload: Buffer, birth: boolean): void {
    let metrics;
    try {
      metrics = decodeSparkplugPayload(payload).metrics;
    } catch {
      return;
    }
    if (birth) this.alias = undefined;
    for (const m of metrics) {
      if (birth && m.name === this.s.metric && m.alias !== undefined) this.alias = m.alias;
      const mine = m.name === this.s.metric || (!birth && m.name === undefined && m.alias !== undefined && m.alias === this.alias);
      if (mine && typeof m.value === 'number' && !m.isNull) this.seen(m.value);
    }
    // data by alias without the birth that names them: ask the edge node for one
    if (!birth && this.alias === undefined && metrics.some((m) => m.name === undefined)) this.requestRebirth();
  }

  private requestRebirth(): void {
    const nowMs = this.now();
    if (nowMs - this.lastRebirthMs < this.s.readBackTimeoutMs) return;
    this.lastRebirthMs = nowMs;
    const topic = formatSparkplugTopic({ groupId: this.s.groupId, edgeNodeId: this.s.edgeNodeId, messageType: 'NCMD' });
    this.link.publishDirect(topic, encodeSparkplugPayload(rebirthPayload(nowMs)), 0).catch(() => undefined);
  }

  private seen(v: number): void {
    if (!Number.isFinite(v)) return;
    this.last = v;
    this.sinceWrite?.push(v);
    for (const w of [...this.waiters]) if (w.accept(v)) this.waiters.delete(w);
  }

  /** Resolve with the first value `accept`ed within timeoutMs, else undefined. */
  private waitFor(accept: (v: number) => boolean, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const w: Waiter = {
        accept: (v) => {
          if (!accept(v)) return false;
          clearTimeout(timer);
          resolve(v);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  private where(): string {
    return this.s.format === 'json' ? this.s.readBackTopic : `${this.spTopic('DATA')} metric ${this.s.metric}`;
  }

  private requireLink(): void {
    if (!this.link.isConnected()) throw new TwinError('CONNECTION', 'not connected to the broker');
  }

  async readCurrent(): Promise<number> {
    this.requireLink();
    if (this.last !== undefined) return this.last;
    if (this.s.format === 'sparkplug') this.requestRebirth();
    const v = await this.waitFor(() => true, this.s.readBackTimeoutMs);
    if (v === undefined) throw new TwinError('CONNECTION', `no value seen on ${this.where()} within ${this.s.readBackTimeoutMs} ms`);
    return v;
  }

  async write(value: number, cmd: Command): Promise<void> {
    this.requireLink();
    this.sinceWrite = [];
    const nowMs = this.now();
    const [topic, payload] =
      this.s.format === 'json'
        ? [this.s.commandTopic, JSON.stringify({ value, commandId: cmd.id, tsMs: nowMs })]
        : [this.spTopic('CMD'), encodeSparkplugPayload({ timestampMs: nowMs, metrics: [{ name: this.s.metric, type: 'Double', value }] })];
    await this.link.publishDirect(topic, payload, 1);
  }

  async readBack(expected: number, toleranceAbs: number): Promise<number> {
    const seen = this.sinceWrite ?? [];
    const match = (v: number) => Math.abs(v - expected) <= toleranceAbs;
    try {
      const early = seen.find(match);
      if (early !== undefined) return early;
      const v = await this.waitFor(match, this.s.readBackTimeoutMs);
      if (v !== undefined) return v;
      if (seen.length > 0) return seen[seen.length - 1];
      throw new TwinError('CONNECTION', `no value seen on ${this.where()} within ${this.s.readBackTimeoutMs} ms of the command`);
    } finally {
      this.sinceWrite = undefined;
    }
  }
}
