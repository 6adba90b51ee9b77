/**
 * One MQTT subscription's ingestion, without Node-RED: config validation, the subscription filter,
 * repeat dropping, the size limit, then plain decoding (topic mapping + payload) or the Sparkplug
 * host. `process` is the step (plus the dedupe and Sparkplug state it owns) that twin-mqtt-in
 * calls for each message of its MqttLink subscription.
 */
import { TwinError } from '../model/errors.js';
import { DEFAULT_MAX_FUTURE_MS, type Reading } from '../model/reading.js';
import { compileTemplate, compileTopicMapping, topicMapper, type TopicMapper, type TopicMapping } from './mqtt-topic-map.js';
import {
  decodeMqttPayload,
  validateMqttPayloadConfig,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MQTT_PAYLOAD_MODES,
  type MqttPayloadConfig,
  type MqttPayloadMode,
} from './mqtt-payload.js';
import { OutboxDedupe, type DedupeSnapshot, type UserProperties } from './mqtt-dedupe.js';
import { SparkplugHost, rebirthPayload, type RebirthAction } from './sparkplug-host.js';
import { decodeSparkplugPayload, encodeSparkplugPayload, parseSparkplugTopic } from './sparkplug-codec.js';

export type MqttIngestMode = MqttPayloadMode | 'sparkplug';

/** As saved in a flow (strings or numbers; empty = default). */
export interface MqttIngestConfig {
  mode?: string;
  pattern?: string;
  assetTemplate?: string;
  tagTemplate?: string;
  valuePath?: string;
  timestampPath?: string;
  qualityPath?: string;
  unitPath?: string;
  /** Unit for readings whose payload names none. */
  unit?: string;
  qos?: number | string;
  maxFutureMs?: number | string;
  maxPayloadBytes?: number | string;
  sparkplugGroup?: string;
  rebirthHoldOffMs?: number | string;
}

export interface IngestResult {
  readings: Reading[];
  errors: TwinError[];
  /** Rebirth requests, with the encoded NCMD payload ready to publish. */
  actions: Array<RebirthAction & { payload: Buffer }>;
  /** True when the message was a repeat of an outbox message already seen (and was dropped). */
  duplicate: boolean;
}

const num = (v: unknown, dflt: number): number => (v === undefined || v === null || v === '' ? dflt : Number(v));

export class MqttIngest {
  readonly mode: MqttIngestMode;
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  readonly dedupe: OutboxDedupe;
  private readonly payloadCfg: MqttPayloadConfig;
  private readonly mapping?: TopicMapping;
  /** The mapping compiled once (templates parsed at construction, not per message). */
  private readonly mapTopic?: TopicMapper;
  private readonly host?: SparkplugHost;
  private readonly unit: string;

  /** Validates the config; throws TwinError('BAD_CONFIG') naming the problem. */
  constructor(cfg: MqttIngestConfig, dedupeSnapshot?: DedupeSnapshot) {
    const mode = (cfg.mode || 'json') as MqttIngestMode;
    if (mode !== 'sparkplug' && !MQTT_PAYLOAD_MODES.includes(mode)) {
      throw new TwinError('BAD_CONFIG', `payload mode must be one of ${[...MQTT_PAYLOAD_MODES, 'sparkplug'].join(', ')}, not '${mode}'`);
    }
    this.mode = mode;
    const qos = num(cfg.qos, 1);
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new TwinError('BAD_CONFIG', `qos must be 0, 1 or 2, not ${String(cfg.qos)}`);
    this.qos = qos;
    this.unit = (cfg.unit ?? '').trim();
    const maxFutureMs = num(cfg.maxFutureMs, DEFAULT_MAX_FUTURE_MS);
    const maxPayloadBytes = num(cfg.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);
    if (mode === 'sparkplug') {
      const group = (cfg.sparkplugGroup ?? '').trim() || '+';
      if (/[#/]/.test(group) || (group.includes('+') && group !== '+'))
        throw new TwinError('BAD_CONFIG', `Sparkplug group must be a group id or '+', not '${group}'`);
      const assetTemplate = (cfg.assetTemplate ?? '').trim() || '{group}/{edge}/{device}';
      for (const r of assetTemplate.matchAll(/\{([^}]*)\}/g)) {
        if (!['group', 'edge', 'device'].includes(r[1]))
          throw new TwinError('BAD_CONFIG', `asset template refers to {${r[1]}}; Sparkplug offers {group}, {edge} and {device}`);
      }
      const fillAsset = compileTemplate(assetTemplate);
      const holdOff = num(cfg.rebirthHoldOffMs, 5000);
      if (!Number.isFinite(holdOff) || holdOff < 0)
        throw new TwinError('BAD_CONFIG', `rebirthHoldOffMs must be ≥ 0, not ${String(cfg.rebirthHoldOffMs)}`);
      this.payloadCfg = {
        mode: 'json',
        valuePath: 'value',
        timestampPath: '',
        qualityPath: '',
        unitPath: '',
        maxFutureMs,
        maxPayloadBytes,
        source: 'sparkplug',
      };
      validateMqttPayloadConfig(this.payloadCfg);
      this.host = new SparkplugHost({
        // Node metrics have no device: drop the empty level the template would leave.
        assetFor: (g, e, d) =>
          fillAsset({ group: g, edge: e, device: d ?? '' })
            .split('/')
            .filter((s) => s !== '')
            .join('/'),
        maxFutureMs,
        rebirthHoldOffMs: holdOff,
      });
      this.filter = `spBv1.0/${group}/#`;
    } else {
      this.payloadCfg = {
        mode,
        valuePath: cfg.valuePath ?? 'value',
        timestampPath: cfg.timestampPath ?? 'tsMs',
        qualityPath: cfg.qualityPath ?? 'quality',
        unitPath: cfg.unitPath ?? 'unit',
        maxFutureMs,
        maxPayloadBytes,
        source: 'mqtt',
      };
      validateMqttPayloadConfig(this.payloadCfg);
      this.mapping = compileTopicMapping({
        pattern: (cfg.pattern ?? '').trim() || '{asset+}/{tag}',
        assetTemplate: cfg.assetTemplate,
        tagTemplate: cfg.tagTemplate,
        needsTag: mode !== 'json-object',
      });
      this.mapTopic = topicMapper(this.mapping);
      this.filter = this.mapping.pattern.filter;
    }
    this.dedupe = new OutboxDedupe(dedupeSnapshot);
  }

  /** One received message → readings, errors (bad input) and actions (rebirth requests). */
  process(topic: string, payload: Uint8Array, userProperties: UserProperties, nowMs: number): IngestResult {
    const out: IngestResult = { readings: [], errors: [], actions: [], duplicate: false };
    if (!this.dedupe.accept(userProperties)) {
      out.duplicate = true;
      return out;
    }
    try {
      // Checked before any parsing: a huge payload costs nothing but this comparison.
      if (payload.byteLength > this.payloadCfg.maxPayloadBytes) {
        throw new TwinError(
          'PAYLOAD_TOO_LARGE',
          `payload of ${payload.byteLength} bytes on ${topic} exceeds the limit of ${this.payloadCfg.maxPayloadBytes} bytes`,
        );
      }
      if (this.host) {
        const spTopic = parseSparkplugTopic(topic);
        if (!spTopic) return out; // e.g. spBv1.0/STATE/<host>: not an edge node's message
        const res = this.host.step(spTopic, decodeSparkplugPayload(payload), nowMs);
        out.readings = res.readings;
        out.errors = res.errors;
        out.actions = res.actions.map((a) => ({ ...a, payload: encodeSparkplugPayload(rebirthPayload(nowMs)) }));
      } else {
        const where = this.mapTopic!(topic);
        if (!where) throw new TwinError('UNMAPPED_TOPIC', `topic ${topic} does not match pattern ${this.mapping!.pattern.source}`);
        const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
        const res = decodeMqttPayload(this.payloadCfg, bytes, where, nowMs);
        out.readings = res.readings;
        out.errors = res.errors;
      }
    } catch (err) {
      out.errors.push(err instanceof TwinError ? err : new TwinError('BAD_PAYLOAD', (err as Error).message));
    }
    if (this.unit) for (const r of out.readings) if (r.unit === undefined) r.unit = this.unit;
    return out;
  }
}
