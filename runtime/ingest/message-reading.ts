/**
 * Any message → one Reading (twin-reading): the editor picks where value, asset, tag, unit, event time
 * and quality come from; this turns what it found into a Reading. It knows the shapes other Node-RED
 * nodes send: the core `mqtt in` (number text, JSON text, Buffer), node-red-contrib-opcua (msg.payload
 * plus msg.statusCode, msg.sourceTimestamp, msg.serverTimestamp) and Modbus reads (an array of registers).
 *
 * Bad input throws a TwinError that names the field and where it came from; a bad quality never throws
 * (the quality says the value must not be used), as in mqtt-payload.ts and opcua-reading.ts.
 */
import { TwinError } from '../model/errors.js';
import { parseQuality, worstQuality, type Quality } from '../model/quality.js';
import { checkNotFuture, singleReadingInput, toEpochMs, toFiniteNumber, DEFAULT_MAX_FUTURE_MS, type Reading } from '../model/reading.js';
import { qualityOfStatusCode } from './opcua-status.js';

/** How a numeric quality is read: an OPC UA StatusCode (0 = Good) or an OPC DA quality byte (192 = good). */
export type QualityCodes = 'opcua' | 'opcda';

export interface MessageReadingConfig {
  /** Reading.source of every reading. */
  source: string;
  /** Index of the element to take when the value is an array (Modbus registers); undefined = only a one-element array. */
  element?: number;
  qualityCodes: QualityCodes;
  /** How far ahead of the receiving clock an event time may lie; 0 disables the check. */
  maxFutureMs: number;
}

export const DEFAULT_MESSAGE_READING_CONFIG: MessageReadingConfig = {
  source: 'node-red',
  qualityCodes: 'opcua',
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
};

/** Largest element index accepted (a Modbus read returns at most 125 registers). */
export const MAX_ELEMENT = 65_535;

/** Validate a config; throws BAD_CONFIG naming the field. */
export function validateMessageReadingConfig(c: MessageReadingConfig): void {
  if (typeof c.source !== 'string' || c.source.trim() === '') throw new TwinError('BAD_CONFIG', 'source must be a non-empty name');
  if (c.element !== undefined && !(Number.isInteger(c.element) && c.element >= 0 && c.element <= MAX_ELEMENT)) {
    throw new TwinError('BAD_CONFIG', `element must be an integer 0…${MAX_ELEMENT}, not ${c.element}`);
  }
  if (c.qualityCodes !== 'opcua' && c.qualityCodes !== 'opcda') {
    throw new TwinError('BAD_CONFIG', `quality codes must be opcua or opcda, not '${String(c.qualityCodes)}'`);
  }
  if (!Number.isFinite(c.maxFutureMs) || c.maxFutureMs < 0) {
    throw new TwinError('BAD_CONFIG', `maxFutureMs must be a number ≥ 0, not ${c.maxFutureMs}`);
  }
}

/** What the editor's fields found in one message (undefined = not there). */
export interface MessageFields {
  value: unknown;
  asset: unknown;
  tag: unknown;
  unit?: unknown;
  /** Event time; undefined = not there (the reading then takes the arrival time, uncertain). */
  time?: unknown;
  /** undefined = not there (good). */
  quality?: unknown;
}

/** Where each field came from (`msg.topic`), for the error messages. */
export type FieldOrigins = Partial<Record<keyof MessageFields, string>>;

const MAX_TEXT_BYTES = 1024 * 1024;
// OPC UA's "no time" is 1601-01-01 (node-opcua gives that date for a missing timestamp)
const MIN_VALID_MS = Date.UTC(1601, 0, 2);

function where(what: string, origins: FieldOrigins | undefined, key: keyof MessageFields): string {
  const from = origins?.[key];
  return from ? `${what} (${from})` : what;
}

function shown(raw: unknown): string {
  const s = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/**
 * The text of a string or Buffer parsed as JSON when it looks like an object or array, else the input
 * as it is: a JSON payload straight from the core `mqtt in` (which gives text unless told to parse).
 */
export function parseJsonText(raw: unknown, what = 'payload'): unknown {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (Buffer.isBuffer(raw)) {
    if (raw.byteLength > MAX_TEXT_BYTES) {
      throw new TwinError('PAYLOAD_TOO_LARGE', `${what} of ${raw.byteLength} bytes exceeds ${MAX_TEXT_BYTES}`);
    }
    text = raw.toString('utf8');
  } else return raw;
  const t = text.trim();
  const c = t.charAt(0);
  if (c !== '{' && c !== '[') return Buffer.isBuffer(raw) ? text : raw;
  if (t.length > MAX_TEXT_BYTES) throw new TwinError('PAYLOAD_TOO_LARGE', `${what} of ${t.length} characters exceeds ${MAX_TEXT_BYTES}`);
  try {
    return JSON.parse(t);
  } catch (err) {
    throw new TwinError('BAD_JSON', `${what} is not valid JSON (${(err as Error).message}): ${JSON.stringify(shown(t))}`, { cause: err });
  }
}

/** The quality a free-form field gives, with the reason when it is not plain good. */
export function qualityOfField(raw: unknown, codes: QualityCodes): { quality: Quality; reason?: string } {
  if (raw === undefined || raw === null || raw === '') return { quality: 'good' };
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= 0 && raw <= 0xffffffff) {
      if (codes === 'opcua') return qualityOfStatusCode(raw);
      const q = parseQuality(raw)!;
      return q === 'good' ? { quality: q } : { quality: q, reason: `OPC DA quality ${raw}` };
    }
  } else if (typeof raw === 'string') {
    const q = parseQuality(raw);
    if (q) return { quality: q };
    // an OPC UA status name as node-opcua prints it: `BadSensorFailure`, `Good#Overflow`, `Uncertain (0x40000000)`
    const m = /^\s*((Good|Uncertain|Bad)[A-Za-z0-9_]*)/i.exec(raw);
    if (m) {
      const word = m[2].toLowerCase() as Quality;
      return word === 'good' && m[1].length === 4 ? { quality: 'good' } : { quality: word, reason: m[1] };
    }
  } else if (typeof raw === 'boolean') {
    return { quality: raw ? 'good' : 'bad' };
  } else if (typeof raw === 'object' && !Array.isArray(raw)) {
    // a node-opcua StatusCode (value getter over `_value`), or its JSON form `{ value }`
    const o = raw as { value?: unknown; _value?: unknown; name?: unknown };
    const v = typeof o.value === 'number' ? o.value : o._value;
    if (typeof v === 'number' && Number.isInteger(v)) {
      return qualityOfStatusCode(typeof o.name === 'string' ? { value: v, name: o.name } : v);
    }
  }
  return { quality: 'uncertain', reason: `unknown quality ${shown(raw)}` };
}

/** The number in a value field: a number, numeric text, a boolean, JSON text, `{ value }` or an element of an array. */
function numberOf(raw: unknown, c: MessageReadingConfig, what: string): number {
  let v = parseJsonText(raw, what);
  if (Array.isArray(v)) {
    if (c.element !== undefined) {
      if (c.element >= v.length) throw new TwinError('NOT_NUMERIC', `${what} is an array of ${v.length}: no element ${c.element}`);
      v = v[c.element];
    } else if (v.length === 1) v = v[0];
    else throw new TwinError('NOT_NUMERIC', `${what} is an array of ${v.length}: set Element to pick one`);
  }
  // a Reading-like object or an OPC UA Variant carries the number in `value`
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && 'value' in v) v = (v as { value: unknown }).value;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === 'false') return s === 'true' ? 1 : 0;
  }
  if (v !== null && typeof v === 'object') throw new TwinError('NOT_NUMERIC', `${what} is an object without a numeric value: ${shown(v)}`);
  return toFiniteNumber(v, what);
}

function name(raw: unknown, what: string): string {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') {
    const got = typeof raw === 'string' ? '""' : raw === undefined ? 'undefined' : shown(raw);
    throw new TwinError('BAD_PAYLOAD', `${what} is missing or empty: ${got}`);
  }
  return raw.trim();
}

/**
 * One Reading from the fields found in a message, at receive time `nowMs` (wall clock). The result
 * passes the Reading check every twin node applies (singleReadingInput).
 */
export function readingFromFields(c: MessageReadingConfig, f: MessageFields, nowMs: number, origins?: FieldOrigins): Reading {
  const asset = name(f.asset, where('asset', origins, 'asset'));
  const tag = name(f.tag, where('tag', origins, 'tag'));

  const q = qualityOfField(f.quality, c.qualityCodes);
  let quality = q.quality;
  const reasons: string[] = q.reason ? [q.reason] : [];

  let tsMs: number;
  const timeWhat = where('time', origins, 'time');
  const t = f.time === undefined || f.time === null || f.time === '' ? undefined : toEpochMs(f.time, timeWhat);
  if (t === undefined || t < MIN_VALID_MS) {
    tsMs = nowMs;
    if (quality !== 'bad') reasons.push('no timestamp');
    quality = worstQuality(quality, 'uncertain');
  } else {
    if (c.maxFutureMs > 0) checkNotFuture(t, nowMs, c.maxFutureMs);
    tsMs = t;
  }

  let value: number;
  if (quality === 'bad' && (f.value === undefined || f.value === null || f.value === '')) {
    // a dropout reports bad quality without a value; the value then carries no meaning
    value = 0;
    reasons.push('no value');
  } else {
    value = numberOf(f.value, c, where('value', origins, 'value'));
  }

  let unit: string | undefined;
  if (typeof f.unit === 'string') unit = f.unit.trim() || undefined;
  else if (f.unit !== undefined && f.unit !== null) {
    throw new TwinError('BAD_PAYLOAD', `${where('unit', origins, 'unit')} is not text: ${shown(f.unit)}`);
  }

  const reading: Reading = { asset, tag, value, tsMs, quality, source: c.source };
  if (unit) reading.unit = unit;
  if (reasons.length) reading.qualityReason = reasons.join('; ');
  return singleReadingInput(reading, 'twin-reading');
}
