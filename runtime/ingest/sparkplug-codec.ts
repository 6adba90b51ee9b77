/**
 * Sparkplug B (spBv1.0) topics and payloads: the wire format shared by the simulator (publisher)
 * and twin-mqtt-in (host application). Protobuf work is delegated to Eclipse Tahu's
 * `sparkplug-payload`; this file only normalises its types (Long → number, Date → epoch ms).
 */
import { get as getSparkplug } from 'sparkplug-payload';
import { TwinError } from '../model/errors.js';

export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export type SparkplugMessageType = 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH' | 'NDATA' | 'DDATA' | 'NCMD' | 'DCMD' | 'STATE';

const MESSAGE_TYPES = new Set<string>(['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD', 'STATE']);

export interface SparkplugTopic {
  groupId: string;
  messageType: SparkplugMessageType;
  edgeNodeId: string;
  deviceId?: string;
}

/** Parse `spBv1.0/<group>/<type>/<edge>[/<device>]`; undefined for any other topic. */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== SPARKPLUG_NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, groupId, messageType, edgeNodeId, deviceId] = parts;
  if (!MESSAGE_TYPES.has(messageType)) return undefined;
  return { groupId, messageType: messageType as SparkplugMessageType, edgeNodeId, ...(deviceId ? { deviceId } : {}) };
}

export function formatSparkplugTopic(t: SparkplugTopic): string {
  return [SPARKPLUG_NAMESPACE, t.groupId, t.messageType, t.edgeNodeId, ...(t.deviceId ? [t.deviceId] : [])].join('/');
}

export type SparkplugDataType = 'Int32' | 'Int64' | 'UInt32' | 'UInt64' | 'Float' | 'Double' | 'Boolean' | 'String';

export interface SparkplugMetric {
  /** Present in BIRTH messages; DATA messages may carry only the alias. */
  name?: string;
  alias?: number;
  /** Epoch ms; absent means "the payload's timestamp". */
  timestampMs?: number;
  type: SparkplugDataType | (string & {});
  value: number | boolean | string | null;
  isNull?: boolean;
  /** Engineering unit carried in the metric's properties (`engUnit`), when the publisher sends it. */
  unit?: string;
}

export interface SparkplugPayload {
  timestampMs?: number;
  seq?: number;
  metrics: SparkplugMetric[];
}

const maybeCodec = getSparkplug(SPARKPLUG_NAMESPACE);
if (!maybeCodec) throw new Error(`sparkplug-payload has no codec for ${SPARKPLUG_NAMESPACE}`);
const codec = maybeCodec;

function num(x: unknown): number | undefined {
  if (x === null || x === undefined) return undefined;
  if (typeof x === 'number') return x;
  if (typeof x === 'object' && x !== null && 'toNumber' in x) return (x as { toNumber(): number }).toNumber();
  const n = Number(x);
  return Number.isFinite(n) ? n : undefined;
}

export function encodeSparkplugPayload(p: SparkplugPayload): Buffer {
  const metrics = p.metrics.map((m) => ({
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.alias !== undefined ? { alias: m.alias } : {}),
    ...(m.timestampMs !== undefined ? { timestamp: m.timestampMs } : {}),
    type: m.type,
    value: m.value,
    ...(m.isNull ? { isNull: true } : {}),
    ...(m.unit ? { properties: { engUnit: { type: 'String', value: m.unit } } } : {}),
  }));
  const out = codec.encodePayload({ timestamp: p.timestampMs, seq: p.seq, metrics } as Parameters<typeof codec.encodePayload>[0]);
  return Buffer.from(out);
}

/** Decode a Sparkplug B payload; a malformed buffer becomes a TwinError('BAD_PAYLOAD'). */
export function decodeSparkplugPayload(buf: Uint8Array): SparkplugPayload {
  let raw;
  try {
    raw = codec.decodePayload(buf);
  } catch (err) {
    throw new TwinError('BAD_PAYLOAD', `not a Sparkplug B payload: ${(err as Error).message}`, { cause: err });
  }
  const metrics: SparkplugMetric[] = (raw.metrics ?? []).map((m) => {
    // unknown: the codec types its Long values with a type that does not resolve here
    const unitProp: unknown = m.properties?.engUnit?.value;
    const value: unknown = m.value;
    return {
      ...(m.name ? { name: m.name } : {}),
      ...(num(m.alias) !== undefined ? { alias: num(m.alias) } : {}),
      ...(num(m.timestamp) !== undefined ? { timestampMs: num(m.timestamp) } : {}),
      type: m.type,
      value:
        typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string'
          ? value
          : value === null || value === undefined
            ? null
            : (num(value) ?? null),
      // sparkplug-payload turns the wire's is_null flag into value null.
      ...(m.isNull || value === null || value === undefined ? { isNull: true } : {}),
      ...(typeof unitProp === 'string' ? { unit: unitProp } : {}),
    };
  });
  return { timestampMs: num(raw.timestamp), seq: num(raw.seq), metrics };
}
