/**
 * twin-mqtt-in: MQTT (unified namespace JSON, plain numbers, JSON objects of tags) and Sparkplug B
 * into Readings. Thin adapter: topic mapping, decoding, dedupe and the Sparkplug host are in
 * runtime/ingest/.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IPublishPacket } from 'mqtt';
import { compileTopicMapping, fillTemplate, mapTopic, type TopicMapping } from '../../runtime/ingest/mqtt-topic-map.js';
import {
  decodeMqttPayload, validateMqttPayloadConfig, DEFAULT_MAX_PAYLOAD_BYTES, type MqttPayloadConfig, type MqttPayloadMode,
} from '../../runtime/ingest/mqtt-payload.js';
import { OutboxDedupe } from '../../runtime/ingest/mqtt-dedupe.js';
import { SparkplugHost, rebirthPayload } from '../../runtime/ingest/sparkplug-host.js';
import { decodeSparkplugPayload, encodeSparkplugPayload, parseSparkplugTopic } from '../../runtime/ingest/sparkplug-codec.js';
import { TwinError } from '../../runtime/model/errors.js';
import { DEFAULT_MAX_FUTURE_MS, readingTopic, type Reading } from '../../runtime/model/reading.js';
import { statusError, statusIdle, statusOk, statusWarn, errorStatusText } from '../shared/status.js';
import { dataPath, type TwinMqttBrokerApi } from '../twin-mqtt-broker/broker-config.js';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mqttTranslator } from '../shared/mqtt-i18n.js';

interface TwinMqttInDef extends NodeDef {
  broker: string;
  mode: MqttPayloadMode | 'sparkplug';
  pattern: string;
  assetTemplate: string;
  tagTemplate: string;
  valuePath: string;
  timestampPath: string;
  qualityPath: string;
  unitPath: string;
  unit: string;
  qos: number | string;
  maxFutureMs: number | string;
  maxPayloadBytes: number | string;
  sparkplugGroup: string;
  rebirthHoldOffMs: number | string;
}

const num = (v: unknown, dflt: number): number => (v === undefined || v === null || v === '' ? dflt : Number(v));

export default function (RED: NodeAPI): void {
  function TwinMqttInNode(this: Node, def: TwinMqttInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = mqttTranslator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-mqtt-in');
    const broker = RED.nodes.getNode(def.broker) as TwinMqttBrokerApi | null;
    const mode = def.mode || 'json';
    let unsubscribe: ((unsubscribe?: boolean) => void) | undefined;
    let mapping: TopicMapping | undefined;
    let payloadCfg: MqttPayloadConfig | undefined;
    let host: SparkplugHost | undefined;
    let filter: string;
    let qos: 0 | 1 | 2;
    const unit = (def.unit ?? '').trim();
    // What was seen survives a restart, so outbox messages redelivered then are still dropped.
    const dedupeFile = `${dataPath((RED.settings as unknown as { userDir?: string }).userDir, 'dedupe', node.id)}.json`;
    let saved: Record<string, number> | undefined;
    try {
      saved = JSON.parse(readFileSync(dedupeFile, 'utf8')) as Record<string, number>;
    } catch {
      saved = undefined; // first run, or unreadable: start empty
    }
    const dedupe = new OutboxDedupe(saved);
    let dedupeDirty = false;
    let saveTimer: NodeJS.Timeout | undefined;
    const saveDedupe = (): void => {
      saveTimer = undefined;
      if (!dedupeDirty) return;
      dedupeDirty = false;
      try {
        mkdirSync(dirname(dedupeFile), { recursive: true });
        writeFileSync(`${dedupeFile}.tmp`, JSON.stringify(dedupe.snapshot()));
        renameSync(`${dedupeFile}.tmp`, dedupeFile);
      } catch (err) {
        node.warn(`cannot save ${dedupeFile}: ${(err as Error).message}`);
      }
    };
    let healthy = true;

    try {
      if (!broker) throw new TwinError('BAD_CONFIG', 'no twin-mqtt-broker selected');
      qos = num(def.qos, 1) as 0 | 1 | 2;
      if (![0, 1, 2].includes(qos)) throw new TwinError('BAD_CONFIG', `qos must be 0, 1 or 2, not ${String(def.qos)}`);
      const maxFutureMs = num(def.maxFutureMs, DEFAULT_MAX_FUTURE_MS);
      const maxPayloadBytes = num(def.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);
      if (mode === 'sparkplug') {
        const group = (def.sparkplugGroup ?? '').trim() || '+';
        if (/[#/]/.test(group) || (group.includes('+') && group !== '+')) throw new TwinError('BAD_CONFIG', `Sparkplug group must be a group id or '+', not '${group}'`);
        const assetTemplate = (def.assetTemplate ?? '').trim() || '{group}/{edge}/{device}';
        for (const r of assetTemplate.matchAll(/\{([^}]*)\}/g)) {
          if (!['group', 'edge', 'device'].includes(r[1])) throw new TwinError('BAD_CONFIG', `asset template refers to {${r[1]}}; Sparkplug offers {group}, {edge} and {device}`);
        }
        const holdOff = num(def.rebirthHoldOffMs, 5000);
        if (!Number.isFinite(maxFutureMs) || maxFutureMs < 0) throw new TwinError('BAD_CONFIG', `maxFutureMs must be ≥ 0, not ${String(def.maxFutureMs)}`);
        if (!Number.isFinite(holdOff) || holdOff < 0) throw new TwinError('BAD_CONFIG', `rebirthHoldOffMs must be ≥ 0, not ${String(def.rebirthHoldOffMs)}`);
        if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) throw new TwinError('BAD_CONFIG', `maxPayloadBytes must be a positive integer, not ${String(def.maxPayloadBytes)}`);
        payloadCfg = { mode: 'json', valuePath: 'value', timestampPath: '', qualityPath: '', unitPath: '', maxFutureMs, maxPayloadBytes, source: 'sparkplug' };
        host = new SparkplugHost({
          // Node metrics have no device: drop the empty level the template would leave.
          assetFor: (g, e, d) => fillTemplate(assetTemplate, { group: g, edge: e, device: d ?? '' }).split('/').filter((s) => s !== '').join('/'),
          maxFutureMs, rebirthHoldOffMs: holdOff,
        });
        filter = `spBv1.0/${group}/#`;
      } else {
        payloadCfg = {
          mode,
          valuePath: def.valuePath ?? 'value',
          timestampPath: def.timestampPath ?? 'tsMs',
          qualityPath: def.qualityPath ?? 'quality',
          unitPath: def.unitPath ?? 'unit',
          maxFutureMs, maxPayloadBytes, source: 'mqtt',
        };
        validateMqttPayloadConfig(payloadCfg);
        mapping = compileTopicMapping({
          pattern: (def.pattern ?? '').trim() || '{asset+}/{tag}',
          assetTemplate: def.assetTemplate, tagTemplate: def.tagTemplate,
          needsTag: mode !== 'json-object',
        });
        filter = mapping.pattern.filter;
      }
    } catch (err) {
      node.error(`${t('errors.config')}: ${(err as Error).message}`);
      statusError(node, t('status.config'));
      return;
    }

    /** Report bad input like a node input error: Catch nodes get it with the MQTT topic. */
    const reportBad = (err: TwinError, topic: string): void => {
      healthy = false;
      statusError(node, errorStatusText(err));
      const msgLike = { topic, mqtt: { topic } };
      node.error(err, msgLike as unknown as NodeMessage);
    };

    const emit = (readings: Reading[], topic: string, packet: IPublishPacket): void => {
      if (readings.length === 0) return;
      const msgs = readings.map((r) => {
        if (unit && r.unit === undefined) r.unit = unit;
        return { topic: readingTopic(r), payload: r, mqtt: { topic, qos: packet.qos, retain: packet.retain } };
      });
      node.send([msgs] as unknown as NodeMessage);
      if (!healthy) {
        healthy = true;
        statusOk(node, t('status.connected'));
      }
    };

    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      const nowMs = Date.now();
      try {
        const props = packet.properties?.userProperties as Record<string, string> | undefined;
        if (!dedupe.accept(props)) return;
        if (props && !saveTimer) {
          dedupeDirty = true;
          saveTimer = setTimeout(saveDedupe, 2000);
          saveTimer.unref();
        } else if (props) dedupeDirty = true;
        if (payload.byteLength > payloadCfg!.maxPayloadBytes) {
          throw new TwinError('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes on ${topic} exceeds the limit of ${payloadCfg!.maxPayloadBytes} bytes`);
        }
        if (host) {
          const spTopic = parseSparkplugTopic(topic);
          if (!spTopic) return; // not a Sparkplug message type we know (e.g. a stray topic under spBv1.0)
          const res = host.step(spTopic, decodeSparkplugPayload(payload), nowMs);
          for (const a of res.actions) {
            broker!.publishDirect(a.topic, encodeSparkplugPayload(rebirthPayload(nowMs)), 0).catch((err: Error) => {
              node.warn(t('errors.rebirth', { topic: a.topic, error: err.message }));
            });
          }
          emit(res.readings, topic, packet);
          for (const e of res.errors) reportBad(e, topic);
          return;
        }
        const where = mapTopic(mapping!, topic);
        if (!where) throw new TwinError('UNMAPPED_TOPIC', `topic ${topic} does not match pattern ${mapping!.pattern.source}`);
        const res = decodeMqttPayload(payloadCfg!, payload, where, nowMs);
        emit(res.readings, topic, packet);
        for (const e of res.errors) reportBad(e, topic);
      } catch (err) {
        reportBad(err instanceof TwinError ? err : new TwinError('BAD_PAYLOAD', (err as Error).message), topic);
      }
    };

    const onState = (state: string, text: string): void => {
      if (state === 'connected') {
        healthy = true;
        statusOk(node, t('status.connected'));
      } else if (state === 'connecting') statusWarn(node, t('status.connecting'));
      else if (state === 'error') statusError(node, text);
      else statusIdle(node, t('status.disconnected'));
    };

    broker!.register(node, onState);
    unsubscribe = broker!.subscribe(filter!, qos!, onMessage);

    node.on('close', (removed: boolean, done: () => void) => {
      // Only a removed node unsubscribes; on a restart the persistent session keeps our messages.
      unsubscribe?.(removed === true);
      if (saveTimer) clearTimeout(saveTimer);
      saveDedupe();
      broker!.deregister(node, done);
    });
  }

  RED.nodes.registerType('twin-mqtt-in', TwinMqttInNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
