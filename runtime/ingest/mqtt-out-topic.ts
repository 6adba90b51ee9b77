/**
 * Where twin-mqtt-out publishes a record: `<prefix>/<asset>/twin/<kind>` in the unified namespace,
 * or one fixed topic.
 *
 * The kind is, in this order: the node's configured kind; `msg.kind`; `<kind>/<tag>` for a record
 * whose shape names it (`reading`, `estimate`, `drift`, `score`: runtime/model/record-kind.ts); the
 * record's own string `kind` field. A record that gives none of these is refused.
 */
import { TwinError } from '../model/errors.js';
import { recordPath } from '../model/record-kind.js';

export interface OutTopicConfig {
  topicMode: 'uns' | 'fixed';
  prefix: string;
  kind: string;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

const WILD = /[+#]/;

function checkLevels(s: string, what: string, errCode: 'BAD_CONFIG' | 'BAD_PAYLOAD'): void {
  if (WILD.test(s)) throw new TwinError(errCode, `${what} '${s}' contains an MQTT wildcard (+ or #)`);
  if (s.split('/').some((l) => l === '')) throw new TwinError(errCode, `${what} '${s}' has an empty topic level`);
}

export function validateOutConfig(def: Partial<Record<keyof OutTopicConfig, unknown>>): OutTopicConfig {
  const topicMode = (def.topicMode || 'uns') as string;
  if (topicMode !== 'uns' && topicMode !== 'fixed')
    throw new TwinError('BAD_CONFIG', `topic mode must be 'uns' or 'fixed', not '${topicMode}'`);
  const prefix = String(def.prefix ?? '')
    .trim()
    .replace(/^\/+|\/+$/g, '');
  const kind = String(def.kind ?? '').trim();
  const topic = String(def.topic ?? '').trim();
  if (prefix) checkLevels(prefix, 'prefix', 'BAD_CONFIG');
  if (kind) checkLevels(kind, 'kind', 'BAD_CONFIG');
  if (topicMode === 'fixed') {
    if (!topic) throw new TwinError('BAD_CONFIG', 'a fixed topic is required when the topic mode is fixed');
    checkLevels(topic, 'topic', 'BAD_CONFIG');
  }
  const qos = def.qos === undefined || def.qos === '' ? 1 : Number(def.qos);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new TwinError('BAD_CONFIG', `qos must be 0, 1 or 2, not ${String(def.qos)}`);
  return { topicMode, prefix, kind, topic, qos, retain: def.retain === true };
}

export function outTopic(cfg: OutTopicConfig, payload: unknown, msgKind?: unknown): string {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    throw new TwinError('BAD_PAYLOAD', 'msg.payload must be a TwinLoop record (an object with an asset)');
  }
  const rec = payload as Record<string, unknown>;
  if (typeof rec.asset !== 'string' || rec.asset.trim() === '')
    throw new TwinError('BAD_PAYLOAD', 'msg.payload.asset must be a non-empty string');
  checkLevels(rec.asset, 'asset', 'BAD_PAYLOAD');
  if (cfg.topicMode === 'fixed') return cfg.topic;
  let kind = cfg.kind;
  if (!kind && typeof msgKind === 'string' && msgKind.trim()) kind = msgKind.trim();
  if (!kind) kind = recordPath(rec) ?? '';
  if (!kind && typeof rec.kind === 'string' && rec.kind.trim()) kind = rec.kind.trim();
  if (!kind) throw new TwinError('BAD_PAYLOAD', 'cannot tell the record kind: set Kind in the node, msg.kind, or send a Reading');
  checkLevels(kind, 'kind', 'BAD_PAYLOAD');
  return [cfg.prefix, rec.asset, 'twin', kind].filter((s) => s !== '').join('/');
}

/** The record as JSON text; a record that cannot be serialised is bad input. */
export function recordJson(payload: unknown): string {
  try {
    return JSON.stringify(payload);
  } catch (err) {
    throw new TwinError('BAD_PAYLOAD', `msg.payload cannot be serialised to JSON: ${(err as Error).message}`);
  }
}
