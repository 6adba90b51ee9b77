import { TwinError } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import { toFiniteNumber, type Reading } from '../model/reading.js';
import type { OpcuaItem } from './opcua-config.js';
import { qualityOfStatusCode, type StatusLike } from './opcua-status.js';

/**
 * One OPC UA DataValue → one Reading. Status travels with the value (node-opcua's DataValue is the
 * model): a bad sample becomes a bad reading, it never throws. Only a good or uncertain sample whose
 * value is not a number is an error (the mapping is wrong, not the plant).
 */
export interface DataValueLike {
  value?: { dataType?: number; arrayType?: number; value?: unknown } | null;
  statusCode?: StatusLike | null;
  sourceTimestamp?: Date | null;
  serverTimestamp?: Date | null;
}

export interface ToReadingOptions {
  /** Receive time, epoch ms (wall clock). */
  nowMs: number;
  /** Allowed lead of a source timestamp over nowMs; 0 disables the check. */
  maxFutureMs: number;
  /** The item's last value: carried by a bad sample that has no value of its own. */
  lastValue?: number;
}

// node-opcua encodes (U)Int64 as [high, low] 32-bit words
const INT64 = 8;
const UINT64 = 9;
const SCALAR = 0;

// OPC UA's "no time" is 1601-01-01; node-opcua decodes it as that date or as null
const MIN_VALID_MS = Date.UTC(1601, 0, 2);

function validTime(d: Date | null | undefined): number | undefined {
  if (!(d instanceof Date)) return undefined;
  const t = d.getTime();
  return Number.isFinite(t) && t > MIN_VALID_MS ? t : undefined;
}

function numericValue(v: DataValueLike['value'], what: string): number {
  const raw = v?.value;
  if (v && (v.dataType === INT64 || v.dataType === UINT64) && Array.isArray(raw) && raw.length === 2) {
    const [hi, lo] = raw as number[];
    const n = v.dataType === INT64 ? (hi | 0) * 2 ** 32 + (lo >>> 0) : (hi >>> 0) * 2 ** 32 + (lo >>> 0);
    return toFiniteNumber(n, what);
  }
  if (v && v.arrayType !== undefined && v.arrayType !== SCALAR) {
    throw new TwinError('NOT_NUMERIC', `${what} is an array, not a number`);
  }
  if (raw === null || raw === undefined) throw new TwinError('NOT_NUMERIC', `${what} is empty (null variant)`);
  if (raw instanceof Date) throw new TwinError('NOT_NUMERIC', `${what} is a DateTime, not a number`);
  if (typeof raw === 'object') throw new TwinError('NOT_NUMERIC', `${what} is a structure, not a number`);
  return toFiniteNumber(raw, what);
}

/** Map a DataValue of `item` to a Reading; throws NOT_NUMERIC/NOT_FINITE only for a usable sample. */
export function dataValueToReading(dv: DataValueLike, item: OpcuaItem, opts: ToReadingOptions): Reading {
  const status = qualityOfStatusCode(dv.statusCode ?? 0);
  let quality: Quality = status.quality;
  const reasons: string[] = status.reason && quality !== 'good' ? [status.reason] : [];

  let value: number;
  try {
    value = numericValue(dv.value, `${item.nodeId} value`);
  } catch (err) {
    // a bad sample often has no value: keep the last one (a Reading value is always a number),
    // the quality says it must not be used
    if (quality !== 'bad') throw err;
    value = opts.lastValue ?? 0;
  }

  let tsMs = validTime(dv.sourceTimestamp);
  if (tsMs === undefined) tsMs = validTime(dv.serverTimestamp);
  if (tsMs === undefined) {
    tsMs = opts.nowMs;
    // a bad sample already says why; the missing time adds nothing
    if (quality !== 'bad') reasons.push('no source timestamp');
    quality = worstQuality(quality, 'uncertain');
  } else if (opts.maxFutureMs > 0 && tsMs - opts.nowMs > opts.maxFutureMs) {
    // a wrong device clock: keep the reading in order on the receive time and say why it is bad
    tsMs = opts.nowMs;
    quality = 'bad';
    reasons.push('future timestamp');
  }

  const reading: Reading = { asset: item.asset, tag: item.tag, value, tsMs, quality, source: 'opcua' };
  if (item.unit) reading.unit = item.unit;
  if (reasons.length) reading.qualityReason = reasons.join('; ');
  else if (status.reason && quality === 'good') reading.qualityReason = status.reason;
  return reading;
}

/** The reading that marks a gap: the item's last value, bad, at the time the link was lost. */
export function gapReading(item: OpcuaItem, nowMs: number, reason: string, lastValue?: number): Reading {
  const reading: Reading = {
    asset: item.asset,
    tag: item.tag,
    value: lastValue ?? 0,
    tsMs: nowMs,
    quality: 'bad',
    qualityReason: reason,
    source: 'opcua',
  };
  if (item.unit) reading.unit = item.unit;
  return reading;
}
