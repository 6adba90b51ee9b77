/**
 * A history request → InfluxQL, and InfluxDB's JSON answer (queried with epoch=u) → records in time
 * order (runtime/store/influx-points.ts rowToRecord).
 */
import { TwinError } from '../model/errors.js';
import { toEpochMs } from '../model/reading.js';
import { checkMeasurement, rowToRecord } from './influx-points.js';

export interface HistoryRequest {
  measurement: string;
  asset?: string;
  tag?: string;
  /** Inclusive start, epoch ms. */
  fromMs: number;
  /** Exclusive end, epoch ms. */
  toMs: number;
  limit: number;
}

export const MAX_HISTORY_LIMIT = 1_000_000;

/** Merge a request (msg.payload) over defaults (node config); throws BAD_PAYLOAD on bad values. */
export function historyRequest(input: Record<string, unknown>, defaults: Partial<Record<keyof HistoryRequest, unknown>>): HistoryRequest {
  const pick = (k: keyof HistoryRequest): unknown => (input[k] !== undefined && input[k] !== '' ? input[k] : defaults[k]);
  const m = pick('measurement') ?? (input.kind !== undefined && input.kind !== '' ? input.kind : undefined);
  if (typeof m !== 'string' || m === '') throw new TwinError('BAD_PAYLOAD', 'measurement (or kind) is required, e.g. reading');
  const measurement = checkMeasurement(m, 'BAD_PAYLOAD');
  const text = (k: 'asset' | 'tag'): string | undefined => {
    const v = pick(k);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new TwinError('BAD_PAYLOAD', `${k} must be a string`);
    return v;
  };
  const time = (k: 'fromMs' | 'toMs'): number => {
    const v = pick(k);
    if (v === undefined || v === null || v === '') throw new TwinError('BAD_PAYLOAD', `${k} is required (epoch ms or ISO 8601)`);
    return toEpochMs(v, k);
  };
  const fromMs = time('fromMs');
  const toMs = time('toMs');
  if (!(toMs > fromMs)) throw new TwinError('BAD_PAYLOAD', `toMs (${toMs}) must be after fromMs (${fromMs})`);
  const rawLimit = pick('limit');
  const limit = rawLimit === undefined || rawLimit === null || rawLimit === '' ? 10_000 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
    throw new TwinError('BAD_PAYLOAD', `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}, not ${String(rawLimit)}`);
  return { measurement, asset: text('asset'), tag: text('tag'), fromMs, toMs, limit };
}

/** InfluxQL string literal (single quotes; backslash and quote escaped). */
export function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** InfluxQL identifier (double quotes; backslash and quote escaped). */
export function ident(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The SELECT for a request; `extraTags` (site, line) narrow it to this deployment's points. */
export function historyQuery(req: HistoryRequest, extraTags: Record<string, string> = {}, retentionPolicy = ''): string {
  const where = [`time >= ${Math.ceil(req.fromMs * 1000)}u`, `time < ${Math.ceil(req.toMs * 1000)}u`];
  if (req.asset !== undefined) where.push(`"asset" = ${literal(req.asset)}`);
  if (req.tag !== undefined) where.push(`"tag" = ${literal(req.tag)}`);
  for (const [k, v] of Object.entries(extraTags)) if (v !== '') where.push(`${ident(k)} = ${literal(v)}`);
  const from = retentionPolicy ? `${ident(retentionPolicy)}.${ident(req.measurement)}` : ident(req.measurement);
  return `SELECT * FROM ${from} WHERE ${where.join(' AND ')} ORDER BY time ASC LIMIT ${req.limit}`;
}

interface RawSeries {
  name: string;
  columns: string[];
  values: unknown[][];
}
interface RawResults {
  results?: { error?: string; series?: RawSeries[] }[];
  error?: string;
}

/** Rows of a `queryRaw(…, { precision: 'u' })` answer as records, in time order. */
export function recordsFromRaw(measurement: string, raw: unknown, extraTagKeys: readonly string[] = []): Record<string, unknown>[] {
  const r = raw as RawResults;
  const err = r?.error ?? r?.results?.find((x) => x.error)?.error;
  if (err) throw new TwinError('CONNECTION', `InfluxDB refused the query: ${err}`);
  const out: { tsMs: number; rec: Record<string, unknown> }[] = [];
  for (const res of r?.results ?? []) {
    for (const s of res.series ?? []) {
      const ti = s.columns.indexOf('time');
      for (const values of s.values) {
        const row: Record<string, unknown> = {};
        s.columns.forEach((c, i) => (row[c] = values[i]));
        const tsMs = Number(values[ti]) / 1000;
        out.push({ tsMs, rec: rowToRecord(measurement, row, tsMs, extraTagKeys) });
      }
    }
  }
  // One series without GROUP BY is already in time order; a stable sort keeps it so in any case.
  return out.sort((a, b) => a.tsMs - b.tsMs).map((x) => x.rec);
}
