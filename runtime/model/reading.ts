import { TwinError } from './errors.js';
import type { Quality } from './quality.js';

/** Where a reading came from: the ingestion path, or a derived/replayed source (`string & {}` keeps the names as hints). */
export type ReadingSource = 'opcua' | 'mqtt' | 'sparkplug' | 'replay' | 'historian' | 'sim' | (string & {});

/**
 * Which plant connection and which item of it a reading came from, stamped by the ingest node that
 * received it (never taken from a payload). The approval gate counts a reading for an envelope only
 * when `connection` is the envelope's source. Ingest reuses one frozen object per item.
 */
export interface ReadingOrigin {
  /** Config node id of the connection: a twin-opcua-endpoint or a twin-mqtt-broker. */
  readonly connection: string;
  /** The item on it: an OPC UA nodeId, an MQTT topic, or `<Sparkplug topic>#<metric>`. */
  readonly item: string;
}

/**
 * One measurement of one tag of one asset, in event time. The unit of exchange between
 * ingestion, screening and every analytic (ARCHITECTURE.md, "Message contracts").
 */
export interface Reading {
  /** Asset path in the unified namespace, e.g. `acme/plant1/extrusion/line1/extruder`. */
  asset: string;
  /** Tag name within the asset, e.g. `zone1_temp`. */
  tag: string;
  /** The measured value; booleans are carried as 0/1. Never NaN or infinite. */
  value: number;
  unit?: string;
  /** Event time (source timestamp), epoch milliseconds. */
  tsMs: number;
  quality: Quality;
  /** Why the quality is not good (or what screening found), e.g. `stale`, `BadNoCommunication`. */
  qualityReason?: string;
  source: ReadingSource;
  /** Where it was received (set by twin-opcua-in and twin-mqtt-in; carried unchanged by screening). */
  origin?: ReadingOrigin;
}

/** Message topic of a reading: `<asset>/<tag>`. */
export function readingTopic(r: Pick<Reading, 'asset' | 'tag'>): string {
  return `${r.asset}/${r.tag}`;
}

/** Largest accepted distance of a source timestamp ahead of the receiving clock. */
export const DEFAULT_MAX_FUTURE_MS = 5_000;

/**
 * How far ahead of the gate's clock a reading may be dated and still count for an envelope (the
 * approval gate and the envelope check). Small on purpose: clocks on a plant network kept by NTP
 * agree within milliseconds and a reading travels in well under a second, so 2 s leaves room for
 * a PLC clock a little off. Anything further ahead is refused, not preferred: a future-dated
 * reading would otherwise stay "newest" and hide the genuine ones arriving after it.
 */
export const GATE_MAX_FUTURE_MS = 2_000;

/**
 * Whether `r` replaces `prev` as the latest reading of its tag (one source): a newer one does, a late
 * good one never does, a bad one always does (bad news is never hidden behind a reading dated ahead).
 */
export function supersedes(prev: Pick<Reading, 'tsMs'> | undefined, r: Pick<Reading, 'tsMs' | 'quality'>): boolean {
  return prev === undefined || r.tsMs >= prev.tsMs || r.quality === 'bad';
}

/**
 * Coerce a raw value to a finite number, or throw a TwinError that names the problem.
 * Accepts numbers, numeric strings and booleans (0/1).
 */
export function toFiniteNumber(raw: unknown, what = 'value'): number {
  let v: number;
  if (typeof raw === 'number') v = raw;
  else if (typeof raw === 'boolean') v = raw ? 1 : 0;
  else if (typeof raw === 'bigint') v = Number(raw);
  else if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw.trim()))) v = Number(raw.trim());
  else {
    const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw) : typeof raw;
    throw new TwinError('NOT_NUMERIC', `${what} is not numeric: ${shown}`);
  }
  if (!Number.isFinite(v)) throw new TwinError('NOT_FINITE', `${what} is not finite: ${v}`);
  return v;
}

/**
 * Parse a timestamp given as epoch milliseconds, an ISO-8601 string or a Date.
 * Throws BAD_TIMESTAMP on anything else.
 */
export function toEpochMs(raw: unknown, what = 'timestamp'): number {
  let t: number;
  if (raw instanceof Date) t = raw.getTime();
  else if (typeof raw === 'number') t = raw;
  else if (typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim())) t = Number(raw.trim());
  else if (typeof raw === 'string') t = Date.parse(raw);
  else throw new TwinError('BAD_TIMESTAMP', `${what} is missing or not a time: ${typeof raw}`);
  if (!Number.isFinite(t)) throw new TwinError('BAD_TIMESTAMP', `${what} is not a valid time: ${String(raw).slice(0, 40)}`);
  return t;
}

/**
 * Reject source timestamps that lie further in the future than the receiving clock allows
 * (a wrong PLC clock would otherwise make every later reading look out of order).
 */
export function checkNotFuture(tsMs: number, nowMs: number, maxFutureMs = DEFAULT_MAX_FUTURE_MS): void {
  if (tsMs - nowMs > maxFutureMs) {
    throw new TwinError(
      'BAD_TIMESTAMP',
      `timestamp ${new Date(tsMs).toISOString()} is ${Math.round((tsMs - nowMs) / 1000)} s in the future`,
    );
  }
}

/** Runtime check that an unknown value is a well-formed Reading (for node inputs). */
export function assertReading(x: unknown): asserts x is Reading {
  const r = x as Partial<Reading> | null;
  if (!r || typeof r !== 'object') throw new TwinError('BAD_PAYLOAD', 'payload is not a Reading object');
  if (typeof r.asset !== 'string' || r.asset === '') throw new TwinError('BAD_PAYLOAD', 'Reading.asset must be a non-empty string');
  if (typeof r.tag !== 'string' || r.tag === '') throw new TwinError('BAD_PAYLOAD', 'Reading.tag must be a non-empty string');
  if (typeof r.value !== 'number') throw new TwinError('NOT_NUMERIC', `Reading.value is not a number: ${typeof r.value}`);
  if (!Number.isFinite(r.value)) throw new TwinError('NOT_FINITE', `Reading.value is not finite: ${r.value}`);
  if (typeof r.tsMs !== 'number' || !Number.isFinite(r.tsMs))
    throw new TwinError('BAD_TIMESTAMP', 'Reading.tsMs must be epoch milliseconds');
  if (r.quality !== 'good' && r.quality !== 'uncertain' && r.quality !== 'bad') {
    throw new TwinError('BAD_PAYLOAD', `Reading.quality must be good, uncertain or bad, not ${String(r.quality)}`);
  }
}

/** Longest asset or tag name a processing node accepts (each becomes a key of per-tag state). */
export const MAX_NAME_CHARS = 1024;

/**
 * The input check of a node that takes one Reading per message: a clear error for an array (with
 * the hint to split it), a malformed Reading, or names too long to key state by.
 */
export function singleReadingInput(payload: unknown, nodeType: string): Reading {
  if (Array.isArray(payload)) {
    throw new TwinError(
      'BAD_PAYLOAD',
      `payload is an array of ${payload.length}; ${nodeType} takes one Reading per message (split it first)`,
    );
  }
  assertReading(payload);
  if (payload.asset.length > MAX_NAME_CHARS || payload.tag.length > MAX_NAME_CHARS) {
    throw new TwinError('PAYLOAD_TOO_LARGE', `Reading.asset and Reading.tag must be at most ${MAX_NAME_CHARS} characters`);
  }
  return payload;
}
