/**
 * twin-mqtt-in: MQTT (unified namespace JSON, plain numbers, JSON objects of tags) and Sparkplug B
 * into Readings. Thin adapter: topic mapping, decoding, dedupe and the Sparkplug host are in
 * runtime/ingest/.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IPublishPacket } from 'mqtt';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MqttIngest, type MqttIngestConfig } from '../../runtime/ingest/mqtt-ingest.js';
import { OriginCache } from '../../runtime/ingest/source-items.js';
import type { DedupeSnapshot } from '../../runtime/ingest/mqtt-dedupe.js';
import { TwinError } from '../../runtime/model/errors.js';
import { readingTopic } from '../../runtime/model/reading.js';
import { statusError, statusIdle, statusOk, statusWarn, errorStatusText } from '../shared/status.js';
import { dataPath, type TwinMqttBrokerApi } from '../twin-mqtt-broker/broker-config.js';
import { translator } from '../shared/i18n.js';
import { joinReplay } from '../shared/replay-source.js';
import { mqttClaims } from '../../runtime/replay/claims.js';
import type { MqttLink } from '../../runtime/ingest/mqtt-link.js';
import { lineClientId } from '../../runtime/cluster/cluster-config.js';
import { parseLineId } from '../../runtime/cluster/line-id.js';
import { parseState, statePayload, stateTopic } from '../../runtime/ingest/sparkplug-state.js';
import type { TwinClusterNode } from '../twin-cluster/cluster-api.js';

type TwinMqttInDef = NodeDef &
  MqttIngestConfig & {
    broker: string;
    /** Optional twin-cluster: subscribe only while this instance owns `line`. */
    cluster?: string;
    /** 'site/area/line' the readings belong to (with `cluster`). */
    line?: string;
  };

export default function (RED: NodeAPI): void {
  function TwinMqttInNode(this: Node, def: TwinMqttInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-mqtt-in');
    const broker = RED.nodes.getNode(def.broker) as TwinMqttBrokerApi | null;
    // What was seen survives a restart, so outbox messages redelivered then are still dropped.
    const dedupeFile = `${dataPath((RED.settings as unknown as { userDir?: string }).userDir, 'dedupe', node.id)}.json`;
    let saved: DedupeSnapshot | undefined;
    try {
      saved = JSON.parse(readFileSync(dedupeFile, 'utf8')) as DedupeSnapshot;
    } catch {
      saved = undefined; // first run, or unreadable: start empty
    }
    let ingest: MqttIngest;
    const clusterId = (def.cluster ?? '').trim();
    let cluster: TwinClusterNode | null = null;
    let line = '';
    try {
      if (!broker) throw new TwinError('BAD_CONFIG', 'no twin-mqtt-broker selected');
      ingest = new MqttIngest(def, saved);
      if (clusterId !== '') {
        cluster = RED.nodes.getNode(clusterId) as TwinClusterNode | null;
        if (!cluster) throw new TwinError('BAD_CONFIG', 'the twin-cluster named is missing');
        line = parseLineId((def.line ?? '').trim());
        if (!broker.openLink || broker.configError)
          throw new TwinError('BAD_CONFIG', `broker config is invalid: ${broker.configError ?? ''}`);
      }
    } catch (err) {
      node.error(`${t('errors.config')}: ${(err as Error).message}`);
      statusError(node, t('status.config'));
      return;
    }
    // twinloop replay: no subscription; the replay hub delivers the readings this node's pattern names
    if (joinReplay(node, 'twin-mqtt-in', mqttClaims(def), () => def.unit?.trim() || undefined)) return;
    let dedupeDirty = false;
    let saveTimer: NodeJS.Timeout | undefined;
    const saveDedupe = (): void => {
      saveTimer = undefined;
      if (!dedupeDirty) return;
      dedupeDirty = false;
      try {
        mkdirSync(dirname(dedupeFile), { recursive: true });
        writeFileSync(`${dedupeFile}.tmp`, JSON.stringify(ingest.dedupe.snapshot()));
        renameSync(`${dedupeFile}.tmp`, dedupeFile);
      } catch (err) {
        node.warn(`cannot save ${dedupeFile}: ${(err as Error).message}`);
      }
    };
    let healthy = true;
    /** In a cluster: the line's own connection, open while this instance owns the line. */
    let lineLink: MqttLink | undefined;
    const origins = new OriginCache(def.broker);

    /** Report bad input like a node input error: Catch nodes get it with the MQTT topic. */
    const reportBad = (err: TwinError, topic: string): void => {
      healthy = false;
      statusError(node, errorStatusText(err));
      const msgLike = { topic, mqtt: { topic } };
      node.error(err, msgLike as unknown as NodeMessage);
    };

    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      const props = packet.properties?.userProperties as Record<string, string> | undefined;
      const nowMs = Date.now();
      const res = ingest.process(topic, payload, props, nowMs);
      if (props) {
        dedupeDirty = true;
        if (!saveTimer) {
          saveTimer = setTimeout(saveDedupe, 2000);
          saveTimer.unref();
        }
      }
      for (const a of res.actions) {
        (lineLink ?? broker!).publishDirect(a.topic, a.payload, 0).catch((err: Error) => {
          node.warn(t('errors.rebirth', { topic: a.topic, error: err.message }));
        });
      }
      if (res.readings.length > 0) {
        const mqtt = { topic, qos: packet.qos, retain: packet.retain };
        // which broker and topic each reading came from (one frozen object per topic), and the
        // broker's latest value for the twin-mqtt-write re-read
        const origin = origins.of(topic);
        for (const r of res.readings) {
          r.origin = origin;
          broker!.latest.note(r, nowMs);
        }
        if (res.readings.length === 1) {
          // The usual case (one reading per message): Node-RED's single-message path, same result.
          const r = res.readings[0];
          node.send({ topic: readingTopic(r), payload: r, mqtt } as unknown as NodeMessage);
        } else {
          const msgs = res.readings.map((r) => ({ topic: readingTopic(r), payload: r, mqtt: { ...mqtt } }));
          node.send([msgs] as unknown as NodeMessage);
        }
        if (!healthy && res.errors.length === 0) {
          healthy = true;
          statusOk(node, t('status.connected'));
        }
      }
      for (const e of res.errors) reportBad(e, topic);
    };

    const onState = (state: string, text: string): void => {
      if (state === 'connected') {
        healthy = true;
        statusOk(node, t('status.connected'));
      } else if (state === 'connecting') statusWarn(node, t('status.connecting'));
      else if (state === 'error') statusError(node, text);
      else statusIdle(node, t('status.disconnected'));
    };

    if (cluster) {
      // Only the line's owner subscribes, through a session whose client id belongs to the line (the
      // same on every instance): while no instance owns the line, the broker keeps the session and
      // queues its QoS ≥ 1 readings for the next owner. On release it disconnects, never unsubscribes.
      const clientId = lineClientId(line);
      const qos = (ingest.qos < 1 ? 1 : ingest.qos) as 1 | 2;
      const standby = (): void => statusIdle(node, t('status.standby'));
      // Sparkplug B: the line's owner is the line's primary host, host id = the line's session id, so edge
      // nodes store and forward from the owner's death (its will says offline) until the next owner says online.
      const hostTopic = ingest.mode === 'sparkplug' ? stateTopic(clientId) : undefined;
      let bornMs = 0;
      const open = (): void => {
        if (lineLink) return;
        bornMs = Date.now(); // one timestamp for this session's will and its online STATE (Sparkplug 3.0)
        const will = hostTopic ? { topic: hostTopic, payload: statePayload(false, bornMs), qos: 1 as const, retain: true } : undefined;
        const l = broker!.openLink!(clientId, will);
        lineLink = l;
        l.on('state', (s: string) => onState(s, s));
        l.on('linkError', (err: Error) => onState('error', String((err as { code?: unknown }).code ?? err.message)));
        l.subscribe(ingest.filter, qos, onMessage);
        if (hostTopic) {
          // Our own online comes back to us (we subscribe to the topic). An offline before that echo is the past
          // (queued for the line's session, or retained) and our online follows it; an offline after it is an
          // earlier owner's will (say, one that was paused and then cut off) that overwrote us: say online again.
          let echoed = false;
          const announce = (): void => {
            if (lineLink !== l) return;
            echoed = false;
            l.publishDirect(hostTopic, statePayload(true, bornMs), 1, true).catch((err: Error) => {
              node.warn(t('errors.state', { topic: hostTopic, error: err.message }));
            });
          };
          l.on('state', (s: string) => s === 'connected' && announce());
          l.subscribe(hostTopic, 1, (_topic, payload) => {
            const s = parseState(payload);
            if (s?.online === true && s.timestamp === bornMs) echoed = true;
            else if (s?.online === false && echoed) announce();
          });
        }
        l.start();
      };
      const release = async (): Promise<void> => {
        const l = lineLink;
        lineLink = undefined;
        if (!l) return;
        l.removeAllListeners('state');
        // a clean stop says offline itself (the broker sends the will only when the connection dies)
        if (hostTopic && l.connected) await l.publishDirect(hostTopic, statePayload(false, bornMs), 1, true).catch(() => undefined);
        await l.close().catch((err: Error) => node.warn(`closing the session of line ${line}: ${err.message}`));
      };
      standby();
      const stopFollowing = cluster.follow(
        (l) => l === line && open(),
        (l) => {
          if (l === line) void release().then(standby);
        },
      );
      node.on('close', (_removed: boolean, done: () => void) => {
        stopFollowing();
        if (saveTimer) clearTimeout(saveTimer);
        saveDedupe();
        void release().then(() => done());
      });
      return;
    }

    broker!.register(node, onState);
    const unsubscribe = broker!.subscribe(ingest.filter, ingest.qos, onMessage);

    node.on('close', (removed: boolean, done: () => void) => {
      // Only a removed node unsubscribes; on a restart the persistent session keeps our messages.
      unsubscribe(removed === true);
      if (saveTimer) clearTimeout(saveTimer);
      saveDedupe();
      broker!.deregister(node, done);
    });
  }

  RED.nodes.registerType('twin-mqtt-in', TwinMqttInNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
