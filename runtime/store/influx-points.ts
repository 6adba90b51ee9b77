/**
 * TwinLoop records ⇄ InfluxDB 1.x points.
 *
 * Measurement: the record kind (runtime/model/record-kind.ts: `reading`, `estimate`, `drift`, `score`,
 * `rul`, `window`, `energy`, `demand`, `baseline`), or a kind the caller names for other records.
 * Tags: `asset`, `tag` (when the record has one), `quality`, the configured extra tags (site, line),
 * and per kind what tells two records at the same time apart (an estimate's `model`, a drift event's
 * `method`, a window's `rank`, an energy record's `scope` and `label`). InfluxDB keys a point by
 * measurement + tag set + timestamp, so a point written twice overwrites itself: redelivery after a
 * lost answer never duplicates. Records that share those would overwrite each other, hence the
 * identity tags.
 * Fields: every other top-level key. Numbers (always written as floats, so a field never changes
 * type), strings, booleans; an object of numbers as one field per entry (`costParts.jobEur`,
 * queryable and chartable); anything else nested (arrays, evidence) as JSON text in `<key>_json`.
 * Time: `tsMs` at the configured precision; coarser than the records' spacing would merge points
 * (the precision is a promise about the data, not a rounding the historian can undo).
 */
import { TwinError } from '../model/errors.js';
import { isQuality } from '../model/quality.js';
import { recordKind } from '../model/record-kind.js';

export type InfluxPrecision = 'n' | 'u' | 'ms' | 's';
export const PRECISIONS: readonly InfluxPrecision[] = ['n', 'u', 'ms', 's'];

export interface InfluxPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Integer timestamp at the write precision, as text (nanoseconds exceed 2^53). */
  timestamp: string;
}

export interface PointOptions {
  precision: InfluxPrecision;
  /** Tags added to every point, e.g. `{ site: 'hamburg', line: 'l2' }` (empty values are left out). */
  extraTags?: Record<string, string>;
  /** Measurement to use instead of the record's own kind. */
  measurement?: string;
}

/** Tags that identify a record beside asset, tag and quality, per kind. */
const IDENTITY_TAGS: Record<string, readonly string[]> = {
  estimate: ['model'],
  drift: ['method'],
  score: ['method'],
  rul: ['model'],
  window: ['rank'],
  energy: ['scope', 'label'],
};
/** Identity tags that are numbers in the record (tags are text in InfluxDB). */
const NUMERIC_TAGS = new Set(['rank']);
const BASE_TAGS = ['asset', 'tag', 'quality'] as const;
const JSON_SUFFIX = '_json';
const MEASUREMENT = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const CONTROL = /[\n\r\t]/;

const tagKeyCache = new Map<string, readonly string[]>();

/** The record keys stored as tags in `measurement` (cached: called for every point). */
export function tagKeysOf(measurement: string): readonly string[] {
  let keys = tagKeyCache.get(measurement);
  if (!keys) {
    keys = [...BASE_TAGS, ...(IDENTITY_TAGS[measurement] ?? [])];
    if (tagKeyCache.size < 1000) tagKeyCache.set(measurement, keys);
  }
  return keys;
}

export function checkMeasurement(m: string, code: 'BAD_CONFIG' | 'BAD_PAYLOAD'): string {
  if (!MEASUREMENT.test(m))
    throw new TwinError(code, `measurement '${m.slice(0, 40)}' must be a letter followed by letters, digits, _ or - (at most 64)`);
  return m;
}

/** The timestamp of `tsMs` at `precision` (floor to whole units: InfluxDB stores integers). */
export function influxTimestamp(tsMs: number, precision: InfluxPrecision): string {
  switch (precision) {
    case 'n':
      return (BigInt(Math.round(tsMs * 1000)) * 1000n).toString();
    case 'u':
      return String(Math.round(tsMs * 1000));
    case 'ms':
      return String(Math.floor(tsMs));
    case 's':
      return String(Math.floor(tsMs / 1000));
  }
}

function isNumberMap(v: object): v is Record<string, number> {
  const entries = Object.entries(v);
  return (
    !Array.isArray(v) &&
    entries.length > 0 &&
    entries.every(([k, x]) => typeof x === 'number' && Number.isFinite(x) && !k.includes('.') && !k.endsWith(JSON_SUFFIX))
  );
}

/** One record as one point; throws BAD_PAYLOAD (or NOT_FINITE) naming what is wrong. */
export function recordToPoint(payload: unknown, opts: PointOptions, msgKind?: unknown): InfluxPoint {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    throw new TwinError('BAD_PAYLOAD', 'a record must be an object with asset and tsMs');
  }
  const rec = payload as Record<string, unknown>;
  const measurement =
    opts.measurement ||
    (typeof msgKind === 'string' && msgKind.trim() ? msgKind.trim() : undefined) ||
    recordKind(rec) ||
    (typeof rec.kind === 'string' && rec.kind.trim() ? rec.kind.trim() : undefined);
  if (!measurement)
    throw new TwinError('BAD_PAYLOAD', 'cannot tell the record kind: set Measurement in the node, msg.kind, or send a TwinLoop record');
  checkMeasurement(measurement, 'BAD_PAYLOAD');
  if (typeof rec.asset !== 'string' || rec.asset.trim() === '')
    throw new TwinError('BAD_PAYLOAD', 'record.asset must be a non-empty string');
  if (typeof rec.tsMs !== 'number' || !Number.isFinite(rec.tsMs))
    throw new TwinError('BAD_TIMESTAMP', 'record.tsMs must be epoch milliseconds');
  if (rec.quality !== undefined && !isQuality(rec.quality))
    throw new TwinError('BAD_PAYLOAD', `record.quality must be good, uncertain or bad, not ${String(rec.quality).slice(0, 20)}`);

  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.extraTags ?? {})) if (v !== '') tags[k] = v;
  const tagKeys = tagKeysOf(measurement);
  for (const k of tagKeys) {
    const v = rec[k];
    if (v === undefined || v === null || v === '') continue;
    if (NUMERIC_TAGS.has(k) ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string') {
      throw new TwinError('BAD_PAYLOAD', `record.${k} must be ${NUMERIC_TAGS.has(k) ? 'a number' : 'a string'}`);
    }
    const s = String(v);
    if (CONTROL.test(s)) throw new TwinError('BAD_PAYLOAD', `record.${k} contains a line break or tab`);
    if (s.length > 1024) throw new TwinError('PAYLOAD_TOO_LARGE', `record.${k} is longer than 1024 characters`);
    tags[k] = s;
  }

  const fields: InfluxPoint['fields'] = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'tsMs' || tagKeys.includes(k) || v === undefined || v === null) continue;
    if (k === 'time' || k.includes('.') || k.endsWith(JSON_SUFFIX) || k in tags) {
      throw new TwinError('BAD_PAYLOAD', `record key '${k}' cannot be stored (reserved by InfluxDB or by the historian's field naming)`);
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TwinError('NOT_FINITE', `record.${k} is not finite: ${v}`);
      fields[k] = v;
    } else if (typeof v === 'string' || typeof v === 'boolean') {
      fields[k] = v;
    } else if (typeof v === 'object' && isNumberMap(v)) {
      for (const [sub, x] of Object.entries(v)) fields[`${k}.${sub}`] = x;
    } else {
      let text: string | undefined;
      try {
        text = JSON.stringify(v);
      } catch (err) {
        throw new TwinError('BAD_PAYLOAD', `record.${k} cannot be serialised: ${(err as Error).message}`);
      }
      if (text !== undefined) fields[k + JSON_SUFFIX] = text;
    }
  }
  // InfluxDB refuses a point without fields; every known record has at least a value or a number.
  if (Object.keys(fields).length === 0) throw new TwinError('BAD_PAYLOAD', 'record has no value to store besides its tags');
  return { measurement, tags, fields, timestamp: influxTimestamp(rec.tsMs, opts.precision) };
}

/**
 * One row of a query back into a record: `row` maps column names to values (nulls are columns
 * other points of the measurement have), `tsMs` is the row's time. Extra tags (site, line) are
 * dropped: they describe where the record was stored, not the record.
 */
export function rowToRecord(
  measurement: string,
  row: Record<string, unknown>,
  tsMs: number,
  extraTagKeys: readonly string[] = [],
): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  const nested: Record<string, Record<string, number>> = {};
  for (const [col, v] of Object.entries(row)) {
    if (v === null || v === undefined || col === 'time' || extraTagKeys.includes(col)) continue;
    if (col.endsWith(JSON_SUFFIX) && typeof v === 'string') {
      rec[col.slice(0, -JSON_SUFFIX.length)] = JSON.parse(v);
      continue;
    }
    const dot = col.indexOf('.');
    if (dot > 0 && typeof v === 'number') {
      (nested[col.slice(0, dot)] ??= {})[col.slice(dot + 1)] = v;
      continue;
    }
    rec[col] = NUMERIC_TAGS.has(col) && tagKeysOf(measurement).includes(col) ? Number(v) : v;
  }
  Object.assign(rec, nested);
  rec.tsMs = tsMs;
  return rec;
}
