/**
 * What the live overview page draws, kept bounded on the server so that the page stays responsive
 * whatever the data rate: per asset/tag/kind a thinned series (min / max / last per time bucket, a
 * fixed number of buckets over a window of event time), the latest drift events, the latest
 * maintenance ranking, energy costs and the running demand block per asset. Every change bumps a
 * revision, so a poller asks for "what changed since revision N" and gets only that.
 * Pure: no node-red import, no clock (windows are in event time: the newest record of a series).
 */
import type { DriftEvent } from '../model/drift.js';
import type { DemandStatus, EnergyCost } from '../model/energy.js';
import type { Estimate } from '../model/estimate.js';
import type { MaintenanceWindow, RulEstimate } from '../model/maintenance.js';
import { MAX_NAME_CHARS, type Reading } from '../model/reading.js';
import { TwinError } from '../model/errors.js';
import { isQuality, worstQuality, type Quality } from '../model/quality.js';
import { recordKind, type RecordKind } from '../model/record-kind.js';

export interface OverviewOptions {
  /** Event-time span each series keeps, ending at its newest record. */
  windowMs: number;
  /** Buckets per series: the bucket width is windowMs / pointsPerSeries. */
  pointsPerSeries: number;
  /** Distinct series (asset × tag × kind) kept; a record that would open one more is refused. */
  maxSeries: number;
  /** Drift events kept (newest), energy costs kept per asset, windows kept per ranking. */
  maxEvents: number;
}

export const DEFAULT_OVERVIEW_OPTIONS: OverviewOptions = { windowMs: 3_600_000, pointsPerSeries: 240, maxSeries: 500, maxEvents: 100 };

/** Kinds drawn as thinned series: readings, estimates (with their ±2σ band), RUL (with P10–P90). */
export type SeriesKind = 'reading' | 'estimate' | 'rul';

/** One time bucket: [tsMs, tsMs + bucketMs). `lo`/`hi`: the band (estimate ±2σ, RUL P10/P90), widest in the bucket. */
export interface Bucket {
  tsMs: number;
  /** Records merged into the bucket. */
  n: number;
  min: number;
  max: number;
  /** The value of the newest record in the bucket (by event time). */
  last: number;
  lastTsMs: number;
  lo?: number;
  hi?: number;
  /** Worst quality in the bucket. */
  quality: Quality;
  /** Store revision of the bucket's last change. */
  rev: number;
}

export interface SeriesDelta {
  key: string;
  kind: SeriesKind;
  asset: string;
  /** '' for per-asset series (RUL). */
  tag: string;
  unit?: string;
  /** Buckets before this are gone: the client drops them. */
  fromTsMs: number;
  bucketMs: number;
  /** The buckets changed since the cursor (all of them for a cursor of 0), oldest first. */
  points: Bucket[];
}

export interface AssetDelta {
  asset: string;
  /** The newest ranking (all its windows, by rank), when it changed. */
  windows?: MaintenanceWindow[];
  /** Energy costs by end time (interval, shift and batch), when they changed. */
  energy?: EnergyCost[];
  /** The running demand block, when it changed. */
  demand?: DemandStatus;
}

export interface OverviewDelta {
  /** The cursor for the next call. */
  rev: number;
  windowMs: number;
  series: SeriesDelta[];
  /** The newest drift events (all that are kept), when they changed. */
  drift?: DriftEvent[];
  assets: AssetDelta[];
}

export type AddResult = 'stored' | 'ignored' | 'old';

interface Series {
  key: string;
  kind: SeriesKind;
  asset: string;
  tag: string;
  unit?: string;
  buckets: Bucket[];
  rev: number;
  fromTsMs: number;
}

interface AssetState {
  rankingTsMs: number;
  windows: MaintenanceWindow[];
  windowsRev: number;
  energy: EnergyCost[];
  energyRev: number;
  demand?: DemandStatus;
  demandRev: number;
}

export function validateOverviewOptions(o: Partial<OverviewOptions>): OverviewOptions {
  const opts = { ...DEFAULT_OVERVIEW_OPTIONS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  const int = (name: keyof OverviewOptions, min: number, max: number) => {
    const v = opts[name];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new TwinError('BAD_CONFIG', `${name} must be a whole number from ${min} to ${max}, got ${String(v)}`);
  };
  int('windowMs', 60_000, 7 * 86_400_000);
  int('pointsPerSeries', 2, 2000);
  int('maxSeries', 1, 10_000);
  int('maxEvents', 1, 10_000);
  return opts;
}

export class OverviewStore {
  readonly options: OverviewOptions;
  readonly bucketMs: number;
  private revision = 0;
  private readonly series = new Map<string, Series>();
  private drift: DriftEvent[] = [];
  private driftRev = 0;
  private readonly assets = new Map<string, AssetState>();

  constructor(options: Partial<OverviewOptions> = {}) {
    this.options = validateOverviewOptions(options);
    this.bucketMs = this.options.windowMs / this.options.pointsPerSeries;
  }

  get rev(): number {
    return this.revision;
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /**
   * Take one record. 'ignored': an object that is no kind the overview draws (an anomaly score, a
   * proposal...); 'old': before its series' window. Throws a TwinError for what is not a record.
   */
  add(payload: unknown): AddResult {
    if (Array.isArray(payload)) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `payload is an array of ${payload.length}; the overview takes one record per message (split it first)`,
      );
    }
    if (payload === null || typeof payload !== 'object') {
      throw new TwinError('BAD_PAYLOAD', `payload is ${payload === null ? 'null' : `a ${typeof payload}`}, not a TwinLoop record`);
    }
    const rec = payload as Record<string, unknown>;
    const kind = recordKind(rec);
    if (!kind || kind === 'score' || kind === 'baseline') return 'ignored';
    checkCommon(rec, kind);
    switch (kind) {
      case 'reading': {
        const r = rec as unknown as Reading;
        return this.point('reading', r.asset, r.tag, r.unit, r.tsMs, r.value, undefined, undefined, r.quality);
      }
      case 'estimate': {
        const e = rec as unknown as Estimate;
        if (!Number.isFinite(e.value) || !Number.isFinite(e.variance) || e.variance < 0) {
          throw new TwinError('NOT_FINITE', `Estimate of ${e.tag}: value and variance must be finite numbers, variance ≥ 0`);
        }
        const band = 2 * Math.sqrt(e.variance);
        return this.point('estimate', e.asset, e.tag, e.unit, e.tsMs, e.value, e.value - band, e.value + band, e.quality);
      }
      case 'rul': {
        const r = rec as unknown as RulEstimate;
        if (![r.rulMs, r.rulP10Ms, r.rulP90Ms].every(Number.isFinite))
          throw new TwinError('NOT_FINITE', 'RulEstimate: rulMs, rulP10Ms and rulP90Ms must be finite');
        return this.point('rul', r.asset, '', 'ms', r.tsMs, r.rulMs, r.rulP10Ms, r.rulP90Ms, r.quality);
      }
      case 'drift':
        return this.addDrift(rec as unknown as DriftEvent);
      case 'window':
        return this.addWindow(rec as unknown as MaintenanceWindow);
      case 'energy':
        return this.addEnergy(rec as unknown as EnergyCost);
      case 'demand':
        return this.addDemand(rec as unknown as DemandStatus);
    }
  }

  /** What changed after revision `since` (0: everything kept). */
  changes(since = 0): OverviewDelta {
    const series: SeriesDelta[] = [];
    for (const s of this.series.values()) {
      if (s.rev <= since) continue;
      series.push({
        key: s.key,
        kind: s.kind,
        asset: s.asset,
        tag: s.tag,
        ...(s.unit ? { unit: s.unit } : {}),
        fromTsMs: s.fromTsMs,
        bucketMs: this.bucketMs,
        points: s.buckets.filter((b) => b.rev > since),
      });
    }
    const assets: AssetDelta[] = [];
    for (const [asset, a] of this.assets) {
      const d: AssetDelta = { asset };
      if (a.windowsRev > since) d.windows = a.windows;
      if (a.energyRev > since) d.energy = a.energy;
      if (a.demandRev > since && a.demand) d.demand = a.demand;
      if (d.windows || d.energy || d.demand) assets.push(d);
    }
    return { rev: this.revision, windowMs: this.options.windowMs, series, ...(this.driftRev > since ? { drift: this.drift } : {}), assets };
  }

  private point(
    kind: SeriesKind,
    asset: string,
    tag: string,
    unit: string | undefined,
    tsMs: number,
    value: number,
    lo: number | undefined,
    hi: number | undefined,
    quality: Quality,
  ): AddResult {
    const key = `${kind}|${asset}|${tag}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.options.maxSeries) {
        throw new TwinError(
          'PAYLOAD_TOO_LARGE',
          `the overview keeps at most ${this.options.maxSeries} series; ${kind} ${asset}${tag ? `/${tag}` : ''} would be one more`,
        );
      }
      s = { key, kind, asset, tag, buckets: [], rev: 0, fromTsMs: -Infinity };
      this.series.set(key, s);
    }
    if (tsMs < s.fromTsMs) return 'old';
    if (unit) s.unit = unit;
    const rev = ++this.revision;
    const start = Math.floor(tsMs / this.bucketMs) * this.bucketMs;
    const b = s.buckets;
    // Records mostly arrive in order: look from the end.
    let i = b.length - 1;
    while (i >= 0 && b[i].tsMs > start) i--;
    if (i >= 0 && b[i].tsMs === start) {
      const x = b[i];
      x.n++;
      x.min = Math.min(x.min, value);
      x.max = Math.max(x.max, value);
      if (tsMs >= x.lastTsMs) {
        x.last = value;
        x.lastTsMs = tsMs;
      }
      if (lo !== undefined) x.lo = x.lo === undefined ? lo : Math.min(x.lo, lo);
      if (hi !== undefined) x.hi = x.hi === undefined ? hi : Math.max(x.hi, hi);
      x.quality = worstQuality(x.quality, quality);
      x.rev = rev;
    } else {
      b.splice(i + 1, 0, {
        tsMs: start,
        n: 1,
        min: value,
        max: value,
        last: value,
        lastTsMs: tsMs,
        ...(lo !== undefined ? { lo } : {}),
        ...(hi !== undefined ? { hi } : {}),
        quality,
        rev,
      });
    }
    s.rev = rev;
    // The window ends at the newest bucket; everything that starts before its beginning goes.
    const from = b[b.length - 1].tsMs - this.options.windowMs + this.bucketMs;
    let drop = 0;
    while (drop < b.length && b[drop].tsMs < from) drop++;
    if (drop > 0) b.splice(0, drop);
    s.fromTsMs = Math.max(s.fromTsMs, from);
    return 'stored';
  }

  private addDrift(e: DriftEvent): AddResult {
    const d = this.drift;
    // Idempotent for a redelivered event (MQTT QoS 1): same tag, method and time.
    if (d.some((x) => x.asset === e.asset && x.tag === e.tag && x.method === e.method && x.tsMs === e.tsMs)) return 'stored';
    let i = d.length;
    while (i > 0 && d[i - 1].tsMs > e.tsMs) i--;
    if (d.length >= this.options.maxEvents && i === 0) return 'old';
    d.splice(i, 0, e);
    if (d.length > this.options.maxEvents) d.splice(0, d.length - this.options.maxEvents);
    this.driftRev = ++this.revision;
    return 'stored';
  }

  private asset(asset: string): AssetState {
    let a = this.assets.get(asset);
    if (!a) {
      a = { rankingTsMs: -Infinity, windows: [], windowsRev: 0, energy: [], energyRev: 0, demandRev: 0 };
      this.assets.set(asset, a);
    }
    return a;
  }

  /** Windows of one ranking share its tsMs (the RUL estimate's): a newer tsMs starts a new ranking. */
  private addWindow(w: MaintenanceWindow): AddResult {
    if (!Number.isInteger(w.rank) || w.rank < 1 || !Number.isFinite(w.startMs) || !Number.isFinite(w.endMs) || w.endMs < w.startMs) {
      throw new TwinError('BAD_PAYLOAD', 'MaintenanceWindow: rank must be a whole number ≥ 1 and startMs ≤ endMs');
    }
    const a = this.asset(w.asset);
    if (w.tsMs < a.rankingTsMs) return 'old';
    if (w.tsMs > a.rankingTsMs) {
      a.rankingTsMs = w.tsMs;
      a.windows = [];
    }
    const ws = a.windows.filter((x) => x.rank !== w.rank);
    ws.push(w);
    ws.sort((x, y) => x.rank - y.rank);
    a.windows = ws.slice(0, this.options.maxEvents);
    a.windowsRev = ++this.revision;
    return 'stored';
  }

  private addEnergy(c: EnergyCost): AddResult {
    if (!Number.isFinite(c.startMs) || !Number.isFinite(c.endMs) || !Number.isFinite(c.energyKwh) || !Number.isFinite(c.costEur)) {
      throw new TwinError('NOT_FINITE', 'EnergyCost: startMs, endMs, energyKwh and costEur must be finite numbers');
    }
    const a = this.asset(c.asset);
    // A redelivered or re-closed span replaces its earlier record.
    const list = a.energy.filter((x) => !(x.scope === c.scope && x.startMs === c.startMs && x.label === c.label));
    let i = list.length;
    while (i > 0 && list[i - 1].endMs > c.endMs) i--;
    list.splice(i, 0, c);
    a.energy = list.slice(-this.options.maxEvents);
    a.energyRev = ++this.revision;
    return 'stored';
  }

  private addDemand(d: DemandStatus): AddResult {
    if (![d.averageKwSoFar, d.forecastKw, d.billingPeakKw].every(Number.isFinite)) {
      throw new TwinError('NOT_FINITE', 'DemandStatus: averageKwSoFar, forecastKw and billingPeakKw must be finite numbers');
    }
    const a = this.asset(d.asset);
    if (a.demand && d.tsMs < a.demand.tsMs) return 'old';
    a.demand = d;
    a.demandRev = ++this.revision;
    return 'stored';
  }
}

function checkCommon(rec: Record<string, unknown>, kind: RecordKind): void {
  if (typeof rec.asset !== 'string' || rec.asset === '')
    throw new TwinError('BAD_PAYLOAD', `${kind} record: asset must be a non-empty string`);
  if (typeof rec.tsMs !== 'number' || !Number.isFinite(rec.tsMs))
    throw new TwinError('BAD_TIMESTAMP', `${kind} record: tsMs must be epoch milliseconds`);
  if (!isQuality(rec.quality))
    throw new TwinError('BAD_PAYLOAD', `${kind} record: quality must be good, uncertain or bad, not ${String(rec.quality)}`);
  if (rec.asset.length > MAX_NAME_CHARS || (typeof rec.tag === 'string' && rec.tag.length > MAX_NAME_CHARS)) {
    throw new TwinError('PAYLOAD_TOO_LARGE', `${kind} record: asset and tag must be at most ${MAX_NAME_CHARS} characters`);
  }
}
