/**
 * Decoding of plain MQTT payloads into Readings: a plain number, a JSON reading (value, timestamp,
 * quality and unit at configurable field paths) or a JSON object of tags. Sparkplug B lives in
 * sparkplug-host.ts.
 *
 * Whole-message problems (too large, malformed JSON, a bad value in single-reading modes) throw a
 * TwinError; in json-object mode a bad tag becomes an error beside the good tags' readings, so one
 * broken sensor does not hide the others.
 */
import { TwinError } from '../model/errors.js';
import { parseQuality, worstQuality, type Quality } from '../model/quality.js';
import { checkNotFuture, toEpochMs, toFiniteNumber, DEFAULT_MAX_FUTURE_MS, type Reading } from '../model/reading.js';

export type MqttPayloadMode = 'number' | 'json' | 'json-object';
export const MQTT_PAYLOAD_MODES: readonly MqttPayloadMode[] = ['number', 'json', 'json-object'];

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface MqttPayloadConfig {
  mode: MqttPayloadMode;
  /** Dot path of the value in a JSON reading (`value`, `data.v`). */
  valuePath: string;
  /** Dot path of the event time; '' = the payload carries none (receive time, quality unchanged). */
  timestampPath: string;
  /** Dot path of the quality; '' = none (good). */
  qualityPath: string;
  /** Dot path of the unit; '' = none. */
  unitPath: string;
  /** How far ahead of the receiving clock a timestamp may lie; 0 disables the check. */
  maxFutureMs: number;
  maxPayloadBytes: number;
  source: string;
}

export const DEFAULT_MQTT_PAYLOAD_CONFIG: MqttPayloadConfig = {
  mode: 'json',
  valuePath: 'value',
  timestampPath: 'tsMs',
  qualityPath: 'quality',
  unitPath: 'unit',
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  source: 'mqtt',
};

const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** Validate a payload config; throws BAD_CONFIG naming the field. */
export function validateMqttPayloadConfig(c: MqttPayloadConfig): void {
  if (!MQTT_PAYLOAD_MODES.includes(c.mode))
    throw new TwinError('BAD_CONFIG', `payload mode must be one of ${MQTT_PAYLOAD_MODES.join(', ')}, not '${c.mode}'`);
  if (c.mode === 'json' && !PATH.test(c.valuePath))
    throw new TwinError('BAD_CONFIG', `value field path '${c.valuePath}' is not a dot path`);
  for (const [k, v] of [
    ['timestamp', c.timestampPath],
    ['quality', c.qualityPath],
    ['unit', c.unitPath],
  ] as const) {
    if (v !== '' && !PATH.test(v)) throw new TwinError('BAD_CONFIG', `${k} field path '${v}' is not a dot path`);
  }
  if (!Number.isFinite(c.maxFutureMs) || c.maxFutureMs < 0)
    throw new TwinError('BAD_CONFIG', `maxFutureMs must be a number ≥ 0, not ${c.maxFutureMs}`);
  if (!Number.isInteger(c.maxPayloadBytes) || c.maxPayloadBytes < 1)
    throw new TwinError('BAD_CONFIG', `maxPayloadBytes must be a positive integer, not ${c.maxPayloadBytes}`);
}

export function getPath(obj: unknown, path: string): unknown {
  // One level (the usual `value`, `tsMs`): no split, no array.
  if (path.indexOf('.') < 0) return obj === null || typeof obj !== 'object' ? undefined : (obj as Record<string, unknown>)[path];
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export interface DecodeResult {
  readings: Reading[];
  errors: TwinError[];
}

function withTag(err: unknown, where: string): TwinError {
  const e = err instanceof TwinError ? err : new TwinError('BAD_PAYLOAD', String((err as Error)?.message ?? err));
  return new TwinError(e.code, `${where}: ${e.message}`, { cause: e });
}

/**
 * One reading from a JSON object (or bare value) at a given asset/tag.
 * `obj` is the reading object; a bare number or string is taken as the value itself.
 */
/** Timestamp and quality may sit on the reading itself or (json-object) on the enclosing object. */
function pick(obj: unknown, isObj: boolean, outer: Record<string, unknown> | undefined, path: string): unknown {
  if (path === '') return undefined;
  const v = isObj ? getPath(obj, path) : undefined;
  return v !== undefined ? v : outer ? getPath(outer, path) : undefined;
}

function readingFromJson(
  c: MqttPayloadConfig,
  obj: unknown,
  asset: string,
  tag: string,
  nowMs: number,
  outer?: Record<string, unknown>,
): Reading {
  const isObj = obj !== null && typeof obj === 'object' && !Array.isArray(obj);
  const rawValue = isObj ? getPath(obj, c.valuePath) : obj;
  let quality: Quality = 'good';
  let qualityReason: string | undefined;
  const rawQ = pick(obj, isObj, outer, c.qualityPath);
  if (rawQ !== undefined && rawQ !== null) {
    const q = parseQuality(rawQ);
    if (q) quality = q;
    else {
      quality = 'uncertain';
      qualityReason = `unknown quality ${JSON.stringify(rawQ).slice(0, 30)}`;
    }
  }
  const reason = isObj ? (obj as Record<string, unknown>).qualityReason : undefined;
  if (quality !== 'good' && typeof reason === 'string' && !qualityReason) qualityReason = reason;

  let tsMs: number;
  const rawTs = pick(obj, isObj, outer, c.timestampPath);
  if (rawTs === undefined || rawTs === null) {
    tsMs = nowMs;
    if (c.timestampPath !== '') {
      if (quality === 'good') qualityReason = 'no timestamp';
      quality = worstQuality(quality, 'uncertain');
    }
  } else {
    tsMs = toEpochMs(rawTs, 'timestamp');
    if (c.maxFutureMs > 0) checkNotFuture(tsMs, nowMs, c.maxFutureMs);
  }

  let value: number;
  if (quality === 'bad' && (rawValue === undefined || rawValue === null)) {
    // A sensor dropout reports bad quality without a value; the value then carries no meaning.
    value = 0;
    qualityReason ??= 'no value';
  } else {
    if (rawValue === undefined) throw new TwinError('NOT_NUMERIC', `no value at field '${c.valuePath}'`);
    value = toFiniteNumber(rawValue, 'value');
  }
  const rawUnit = pick(obj, isObj, outer, c.unitPath);
  const source = c.source;
  // Four literals instead of conditional spreads (this runs per message); same keys, same order.
  if (typeof rawUnit === 'string' && rawUnit !== '') {
    return qualityReason
      ? { asset, tag, value, unit: rawUnit, tsMs, quality, qualityReason, source }
      : { asset, tag, value, unit: rawUnit, tsMs, quality, source };
  }
  return qualityReason ? { asset, tag, value, tsMs, quality, qualityReason, source } : { asset, tag, value, tsMs, quality, source };
}

/** Parse a number the way JSON would, but also accept what a PLC gateway sends (` 12.5\n`, `NaN`). */
function parseNumberText(text: string): number {
  const t = text.trim();
  if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') throw new TwinError('NOT_FINITE', `value is not finite: ${t}`);
  return toFiniteNumber(t, 'value');
}

/**
 * Decode one MQTT payload. `where.tag` is required for number and json modes (from the topic
 * mapping); json-object mode takes tags from the object's keys.
 */
export function decodeMqttPayload(
  c: MqttPayloadConfig,
  payload: Buffer | Uint8Array | string,
  where: { asset: string; tag?: string },
  nowMs: number,
): DecodeResult {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (bytes > c.maxPayloadBytes) {
    throw new TwinError('PAYLOAD_TOO_LARGE', `payload of ${bytes} bytes exceeds the limit of ${c.maxPayloadBytes} bytes`);
  }
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');

  if (c.mode === 'number') {
    if (!where.tag) throw new TwinError('UNMAPPED_TOPIC', 'the topic mapping gives no tag');
    const value = parseNumberText(text);
    return { readings: [{ asset: where.asset, tag: where.tag, value, tsMs: nowMs, quality: 'good', source: c.source }], errors: [] };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const shown = text.length > 40 ? text.slice(0, 40) + '…' : text;
    throw new TwinError('BAD_JSON', `payload is not valid JSON (${(err as Error).message}): ${JSON.stringify(shown)}`, { cause: err });
  }

  if (c.mode === 'json') {
    if (!where.tag) throw new TwinError('UNMAPPED_TOPIC', 'the topic mapping gives no tag');
    return { readings: [readingFromJson(c, parsed, where.asset, where.tag, nowMs)], errors: [] };
  }

  // json-object: every key is a tag, except the fields that carry the shared timestamp/quality.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TwinError('BAD_PAYLOAD', `expected a JSON object of tags, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const outer = parsed as Record<string, unknown>;
  const reserved = new Set([c.timestampPath, c.qualityPath, c.unitPath].filter((p) => p !== '').map((p) => p.split('.')[0]));
  const prefix = where.tag ? `${where.tag}/` : '';
  const readings: Reading[] = [];
  const errors: TwinError[] = [];
  for (const [key, v] of Object.entries(outer)) {
    if (reserved.has(key)) continue;
    const tag = prefix + key;
    try {
      readings.push(readingFromJson(c, v, where.asset, tag, nowMs, outer));
    } catch (err) {
      errors.push(withTag(err, `tag ${tag}`));
    }
  }
  if (readings.length === 0 && errors.length === 0) throw new TwinError('BAD_PAYLOAD', 'JSON object has no tags');
  return { readings, errors };
}
