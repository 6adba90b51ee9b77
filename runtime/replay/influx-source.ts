/**
 * Readings from an InfluxDB 1.x historian, in event time, for `twinloop replay` and `twinloop fit`.
 *
 * The schema is twin-historian's (runtime/store/influx-points.ts): measurement `reading`, tags
 * `asset`, `tag`, `quality` (and `site`, `line`), fields `value`, `unit`, `qualityReason`, `source`.
 * The range is read in pages of at most `pageSize` points ordered by time, so a month of data never
 * sits in memory at once. A page ends on a whole timestamp: the points at a full page's last time
 * are dropped and the next page starts at that time, so a time step is never split across pages.
 */
import { isRecord, TwinError } from '../model/errors.js';
import { isQuality } from '../model/quality.js';
import { toFiniteNumber, type Reading } from '../model/reading.js';
import { ident, literal, recordsFromRaw } from '../store/influx-query.js';

/** InfluxQL → InfluxDB's JSON answer (epoch=u). */
export type InfluxQuery = (q: string) => Promise<unknown>;

export interface InfluxRange {
  measurement: string;
  /** Tag naming the asset (twin-historian: `asset`). */
  assetTag: string;
  /** Only these assets / tags (empty: all). */
  assets: readonly string[];
  tags: readonly string[];
  /** Further equality filters on tags (site, line). */
  where: Record<string, string>;
  retentionPolicy?: string;
  /** Inclusive start and exclusive end, epoch ms. */
  fromMs: number;
  toMs: number;
}

export const DEFAULT_PAGE_SIZE = 10_000;

/** A client for `url` (http[s]://host:port[/path]); credentials go in a Basic header, never in the URL. */
export function influxHttpQuery(
  url: string,
  database: string,
  auth: { username?: string; password?: string } = {},
  timeoutMs = 30_000,
): InfluxQuery {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new TwinError('BAD_CONFIG', `--influx must look like http://host:8086, not '${url}'`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TwinError('BAD_CONFIG', `--influx must start with http:// or https://, not '${url}'`);
  if (base.username || base.password)
    throw new TwinError('BAD_CONFIG', 'put the InfluxDB user and password in INFLUX_USERNAME and INFLUX_PASSWORD, not in the URL');
  const endpoint = `${base.origin}${base.pathname.replace(/\/+$/, '')}/query`;
  const headers: Record<string, string> = {};
  if (auth.username) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  return async (q) => {
    let res: Response;
    try {
      res = await fetch(`${endpoint}?${new URLSearchParams({ db: database, epoch: 'u', q })}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new TwinError(
        'CONNECTION',
        `cannot reach InfluxDB at ${base.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new TwinError('CONNECTION', `${base.origin} did not answer as InfluxDB does (HTTP ${res.status}): ${text.slice(0, 80).trim()}`);
    }
    const error = influxError(body);
    if (error !== undefined) {
      if (/^database not found/.test(error)) throw new TwinError('CONNECTION', `InfluxDB at ${base.origin} has no database '${database}'`);
      if (res.status === 401 || res.status === 403)
        throw new TwinError(
          'CONNECTION',
          `InfluxDB at ${base.origin} refused the credentials (INFLUX_USERNAME, INFLUX_PASSWORD): ${error}`,
        );
      throw new TwinError('CONNECTION', `InfluxDB at ${base.origin} refused the query: ${error}`);
    }
    if (!res.ok) throw new TwinError('CONNECTION', `InfluxDB at ${base.origin} answered HTTP ${res.status}`);
    return body;
  };
}

/** What InfluxDB 1.x answers when it refuses: `{ error }`, or a statement's `results[i].error`. */
function influxError(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  if (typeof body.error === 'string') return body.error;
  const failed = (Array.isArray(body.results) ? (body.results as unknown[]) : []).find((r) => isRecord(r) && !!r.error);
  return isRecord(failed) && typeof failed.error === 'string' ? failed.error : undefined;
}

function conditions(r: InfluxRange, fromUs: number): string {
  const where = [`time >= ${fromUs}u`, `time < ${Math.ceil(r.toMs * 1000)}u`];
  const anyOf = (key: string, values: readonly string[]) =>
    values.length > 0 && where.push(`(${values.map((v) => `${ident(key)} = ${literal(v)}`).join(' OR ')})`);
  anyOf(r.assetTag, r.assets);
  anyOf('tag', r.tags);
  for (const [k, v] of Object.entries(r.where)) anyOf(k, [v]);
  return where.join(' AND ');
}

function from(r: InfluxRange): string {
  return r.retentionPolicy ? `${ident(r.retentionPolicy)}.${ident(r.measurement)}` : ident(r.measurement);
}

/** Readings per `<asset>/<tag>` in the range (what a replay plans its routes on; empty: no data). */
export async function influxTopics(query: InfluxQuery, r: InfluxRange): Promise<Map<string, number>> {
  const raw = (await query(
    `SELECT COUNT("value") FROM ${from(r)} WHERE ${conditions(r, Math.ceil(r.fromMs * 1000))} GROUP BY ${ident(r.assetTag)}, "tag"`,
  )) as {
    results?: { series?: { tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  };
  const out = new Map<string, number>();
  for (const s of raw.results?.[0]?.series ?? []) {
    const asset = s.tags?.[r.assetTag];
    const tag = s.tags?.tag;
    const n = Number(s.values[0]?.[s.columns.indexOf('count')]);
    if (asset && tag && n > 0) out.set(`${asset}/${tag}`, (out.get(`${asset}/${tag}`) ?? 0) + n);
  }
  return out;
}

/** One stored point as a Reading (as the CSV path makes them: source `replay`, the stored quality, unit and reason). */
function toReading(rec: Record<string, unknown>, assetTag: string): Reading {
  const asset = rec[assetTag];
  const tag = rec.tag;
  const at = () =>
    `the point at ${new Date(Number(rec.tsMs)).toISOString()}${typeof asset === 'string' ? ` of ${asset}/${String(tag)}` : ''}`;
  if (typeof asset !== 'string' || asset === '') throw new TwinError('BAD_PAYLOAD', `${at()} has no '${assetTag}' tag`);
  if (typeof tag !== 'string' || tag === '') throw new TwinError('BAD_PAYLOAD', `${at()} has no 'tag' tag`);
  const quality = rec.quality ?? 'good';
  if (!isQuality(quality)) throw new TwinError('BAD_PAYLOAD', `${at()} has quality '${String(quality)}' (good, uncertain or bad)`);
  let value: number;
  try {
    value = toFiniteNumber(rec.value, `${at()}: value`);
  } catch (err) {
    throw new TwinError('BAD_PAYLOAD', (err as Error).message);
  }
  const out: Reading = { asset, tag, value, tsMs: rec.tsMs as number, quality, source: 'replay' };
  if (typeof rec.unit === 'string' && rec.unit !== '') out.unit = rec.unit;
  if (typeof rec.qualityReason === 'string' && rec.qualityReason !== '') out.qualityReason = rec.qualityReason;
  return out;
}

/** Order inside one time step: the listed order of assets and tags, else by name. */
function stepOrder(r: InfluxRange): (a: Reading, b: Reading) => number {
  const rank = (list: readonly string[]) => {
    const m = new Map(list.map((x, i) => [x, i]));
    return (x: string, y: string) => (list.length ? m.get(x)! - m.get(y)! : x < y ? -1 : x > y ? 1 : 0);
  };
  const byAsset = rank(r.assets);
  const byTag = rank(r.tags);
  return (a, b) => a.tsMs - b.tsMs || byAsset(a.asset, b.asset) || byTag(a.tag, b.tag);
}

/**
 * The range's readings as pages of whole time steps, in time order; inside a step, assets and then
 * tags in the order listed in the range (or by name). Throws TwinError('BAD_PAYLOAD') for a point
 * that is not a reading (no asset, tag or numeric value).
 */
export async function* influxReadingPages(query: InfluxQuery, r: InfluxRange, pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<Reading[]> {
  const order = stepOrder(r);
  let cursorUs = Math.ceil(r.fromMs * 1000);
  let limit = pageSize;
  for (;;) {
    const recs = recordsFromRaw(
      r.measurement,
      await query(`SELECT * FROM ${from(r)} WHERE ${conditions(r, cursorUs)} ORDER BY time ASC LIMIT ${limit}`),
    );
    let end = recs.length;
    const full = recs.length === limit;
    if (full) {
      const lastMs = recs[end - 1].tsMs as number;
      while (end > 0 && recs[end - 1].tsMs === lastMs) end--;
      if (end === 0) {
        limit *= 2; // one timestamp holds a whole page: ask for more at once
        continue;
      }
      cursorUs = Math.round(lastMs * 1000);
      limit = pageSize;
    }
    if (end > 0)
      yield recs
        .slice(0, end)
        .map((rec) => toReading(rec, r.assetTag))
        .sort(order);
    if (!full) return;
  }
}
