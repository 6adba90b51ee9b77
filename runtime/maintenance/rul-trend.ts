/**
 * Degradation-trend RUL with ml-regression. A health indicator (HI, 0 ≈ healthy, 1 ≈ failure) is a
 * least-squares combination of the standardised degradation signals fitted to 1 − capped RUL / cap
 * on run-to-failure histories. For an asset, the HI over its recent history (`windowMs`, averaged
 * into at most `maxPoints` time bins so a per-second live feed and an hourly history give the same
 * fit) is fitted by a linear, exponential or Theil-Sen trend and extrapolated to the failure
 * threshold: the median of the training units' trend level at their failure. Without a significant
 * upward trend yet (early life, or a feed too young to show one) the RUL is the median remaining
 * life of the training rows at the same HI level, at most the cap.
 * Uncertainty: the whole fit is repeated leaving units out; the residuals (true RUL − forecast) on
 * the left-out units at many points of their lives give P10/P50/P90 per band of forecast horizon,
 * so the interval is honest about unseen assets. 'auto' takes the method with the lowest
 * out-of-fold RMSE. All times are event time (ms); the model is plain JSON (no Infinity).
 */
// @ts-expect-error ml-regression ships no type declarations; the facade below types what is used
import * as mlRegression from 'ml-regression';
import { TwinError } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import type { RulEstimate } from '../model/maintenance.js';
import { selectSignals, type SignalSpec, type UnitHistory } from './health-index.js';
import { seededShuffle } from './rul-model.js';
import { median, quantileSorted as quantile } from '../stats/index.js';

interface LineFit {
  slope: number;
  intercept: number;
}
interface ExpFit {
  A: number;
  B: number;
}
const ml = mlRegression as {
  SimpleLinearRegression: new (x: number[], y: number[]) => LineFit;
  TheilSenRegression: new (x: number[], y: number[]) => LineFit;
  ExponentialRegression: new (x: number[], y: number[]) => ExpFit;
  MultivariateLinearRegression: new (
    x: number[][],
    y: number[][],
    o: { intercept: boolean; statistics: boolean },
  ) => { weights: number[][] };
};

export type TrendMethod = 'linear' | 'exponential' | 'theil-sen';
export const TREND_METHODS: readonly TrendMethod[] = ['linear', 'exponential', 'theil-sen'];

export interface TrendFitOptions {
  /** trend method; 'auto' picks the one with the lowest out-of-fold RMSE */
  method?: TrendMethod | 'auto';
  /** channels that make the health indicator (default: all that trend with time to failure) */
  signals?: string[];
  /** RUL cap, as for the other models (early-life wear is not observable) */
  rulCapMs: number;
  seed?: number;
  /** history the trend is fitted on, back from the last row (default rulCapMs / 2) */
  windowMs?: number;
  /** the window is averaged into at most this many equal time bins (default 60) */
  maxPoints?: number;
  /** fewer points in the window: no trend yet (default 5) */
  minPoints?: number;
  /** t statistic of the least-squares slope below which there is no trend yet (default 2) */
  minSlopeT?: number;
  /** channels selected by |correlation with capped RUL| at least this (default 0.3) */
  minAbsCorr?: number;
  residualFolds?: number;
  /** bands of forecast horizon for the residuals (default 12; fewer when they would hold under 30 forecasts) */
  residualBands?: number;
  /** forecasts per held-out unit, spread over its life (default 25) */
  residualCutsPerUnit?: number;
}

export interface TrendBand {
  /** forecasts up to this horizon (ms) use this band; null = open-ended (the last band) */
  upToMs: number | null;
  q10Ms: number;
  q50Ms: number;
  q90Ms: number;
  n: number;
}

export interface TrendModel {
  kind: 'rul-trend';
  version: 1;
  rulCapMs: number;
  method: TrendMethod;
  [key: string]: unknown;
}

/** What fitTrendModel writes (TrendModel plus the fitted parts). */
export interface FittedTrendModel extends TrendModel {
  signals: SignalSpec;
  /** HI = hiCoef[0] + Σ hiCoef[j+1] z_j, z_j the standardised selected channel */
  hiCoef: number[];
  /** median remaining life (ms, uncapped) of the training rows by HI level, for forecasts without a trend */
  levelRul: LevelBin[];
  /** trend level of the training units at their failure: the median is the threshold */
  failureHi: { p10: number; p50: number; p90: number };
  /** median HI over the first tenth of the training lives (health index 1) */
  healthyHi: number;
  /** range of the training HI (every row); beyond it the forecast is an extrapolation */
  hiMin: number;
  hiMax: number;
  /** the exponential trend is fitted to HI − expFloor (must stay positive) */
  expFloor: number;
  windowMs: number;
  maxPoints: number;
  minPoints: number;
  minSlopeT: number;
  /** out-of-fold RMSE against capped RUL, per method */
  oofRmseMs: Record<TrendMethod, number>;
  /** residual bands of the forecasts that found a trend, by horizon */
  bands: TrendBand[];
  /** residual bands of the forecasts from the HI level below the cap, for want of a trend (may be empty) */
  levelBands: TrendBand[];
  /** residuals of the forecasts at the cap for want of a trend (early life; null: none seen) */
  noTrendBand: TrendBand | null;
  trainUnits: number;
}

const DEFAULTS = {
  maxPoints: 60,
  minPoints: 5,
  minSlopeT: 2,
  minAbsCorr: 0.3,
  residualFolds: 5,
  residualBands: 12,
  residualCutsPerUnit: 25,
  seed: 1,
};

export interface LevelBin {
  /** HI levels up to this value use this bin; null = open-ended (the last bin) */
  upToHi: number | null;
  rulMs: number;
}

/** The parts of a model that one fit (all units, or one fold) produces. */
interface Core {
  signals: SignalSpec;
  hiCoef: number[];
  levelRul: LevelBin[];
  threshold: number;
  failureHis: number[];
  healthyHi: number;
  hiMin: number;
  hiMax: number;
  expFloor: number;
}

/** What an extrapolation needs of a fit. */
type Extrapolation = Pick<Core, 'threshold' | 'expFloor' | 'levelRul'>;

interface Settings {
  rulCapMs: number;
  windowMs: number;
  maxPoints: number;
  minPoints: number;
  minSlopeT: number;
}

/** HI of every row; NaN where a selected channel is missing or not finite. */
function hiSeries(signals: SignalSpec, hiCoef: number[], cols: number[], values: number[][]): number[] {
  return values.map((row) => {
    let h = hiCoef[0];
    for (let j = 0; j < cols.length; j++) h += (hiCoef[j + 1] * (row[cols[j]] - signals.mean[j])) / signals.std[j];
    return h;
  });
}

/**
 * The window's points: rows of the last `windowMs` up to row `end`, averaged into equal time bins.
 * x is time relative to the last row in units of the cap (keeps the regressions well scaled).
 */
function windowPoints(tsMs: number[], hi: number[], end: number, s: Settings): { x: number[]; y: number[]; spanMs: number } {
  const tEnd = tsMs[end];
  const from = tEnd - s.windowMs;
  let start = end;
  while (start > 0 && tsMs[start - 1] > from) start--;
  // bins over the span the data covers: a live feed younger than the window still gets a trend
  const binMs = Math.max(tEnd - tsMs[start], 1) / s.maxPoints;
  const sumX = new Map<number, number>(),
    sumY = new Map<number, number>(),
    cnt = new Map<number, number>();
  let first = Infinity;
  for (let r = start; r <= end; r++) {
    if (!Number.isFinite(hi[r])) continue;
    first = Math.min(first, tsMs[r]);
    const b = Math.min(s.maxPoints - 1, Math.floor((tEnd - tsMs[r]) / binMs));
    sumX.set(b, (sumX.get(b) ?? 0) + (tsMs[r] - tEnd) / s.rulCapMs);
    sumY.set(b, (sumY.get(b) ?? 0) + hi[r]);
    cnt.set(b, (cnt.get(b) ?? 0) + 1);
  }
  const bins = [...cnt.keys()].sort((a, b) => b - a);
  return {
    x: bins.map((b) => sumX.get(b)! / cnt.get(b)!),
    y: bins.map((b) => sumY.get(b)! / cnt.get(b)!),
    spanMs: Number.isFinite(first) ? tEnd - first : 0,
  };
}

/** t statistic of the least-squares slope (the test for "is there a trend yet"). */
function slopeT(x: number[], y: number[], fit: LineFit): number {
  const n = x.length;
  const xm = x.reduce((a, b) => a + b, 0) / n;
  let sxx = 0,
    sse = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - xm) ** 2;
    sse += (y[i] - fit.intercept - fit.slope * x[i]) ** 2;
  }
  const se = Math.sqrt(sse / Math.max(1, n - 2) / sxx);
  return se > 0 ? fit.slope / se : fit.slope > 0 ? Infinity : 0;
}

interface Forecast {
  /** time to the threshold (ms), at most twice the cap; from the HI level when there is no trend (`early`) */
  rulMs: number;
  /** trend level now (HI) */
  levelHi: number;
  /** why there is no trend, when there is none */
  early?: string;
  spanMs: number;
}

/** Extrapolate one method's trend over the window ending at row `end` to the threshold. */
function forecastAt(core: Extrapolation, method: TrendMethod, tsMs: number[], hi: number[], end: number, s: Settings): Forecast {
  const { x, y, spanMs } = windowPoints(tsMs, hi, end, s);
  // A slope over a small part of the window (a young live feed: minutes of a days-long window) passes
  // the t test on noise alone and extrapolates wildly; until the feed covers a quarter of the window
  // the HI level speaks, with the level's own residual bands.
  const young = spanMs < s.windowMs / 4;
  if (x.length < s.minPoints || young) {
    const early = young
      ? `trend over ${hoursText(spanMs)} of a ${hoursText(s.windowMs)} window`
      : `${x.length} points in the trend window, fewer than ${s.minPoints}`;
    return { ...levelForecast(core, y, s), early, spanMs };
  }
  const ols = new ml.SimpleLinearRegression(x, y);
  const t = slopeT(x, y, ols);
  let levelHi: number, hitX: number;
  if (method === 'exponential') {
    const e = new ml.ExponentialRegression(
      x,
      y.map((v) => Math.max(v - core.expFloor, 1e-6)),
    );
    levelHi = core.expFloor + e.B;
    hitX = e.A > 0 ? Math.log((core.threshold - core.expFloor) / e.B) / e.A : Infinity;
  } else {
    const f = method === 'linear' ? ols : new ml.TheilSenRegression(x, y);
    levelHi = f.intercept;
    hitX = f.slope > 0 ? (core.threshold - f.intercept) / f.slope : Infinity;
  }
  if (levelHi >= core.threshold) return { rulMs: 0, levelHi, spanMs };
  if (!(t >= s.minSlopeT) || !(hitX < Infinity)) {
    return { rulMs: rulAtLevel(core, levelHi, s.rulCapMs), levelHi, early: 'no significant degradation trend yet', spanMs };
  }
  // kept beyond the cap (bands and the bias correction tell a far trend from a near one), not without bound
  return { rulMs: Math.min(Math.max(hitX * s.rulCapMs, 0), 2 * s.rulCapMs), levelHi, spanMs };
}

/** The forecast from the window's HI level alone (no trend): the median of its points. */
function levelForecast(core: Extrapolation, y: number[], s: Settings): { rulMs: number; levelHi: number } {
  const levelHi = y.length ? median(y) : NaN;
  return { rulMs: rulAtLevel(core, levelHi, s.rulCapMs), levelHi };
}

/** remaining life of the training rows at this HI level (the cap for an unknown level) */
function rulAtLevel(core: Extrapolation, levelHi: number, capMs: number): number {
  if (!Number.isFinite(levelHi)) return capMs;
  const bin = core.levelRul.find((b) => b.upToHi === null || levelHi <= b.upToHi)!;
  return Math.min(bin.rulMs, capMs);
}

const LEVEL_BINS = 10;

/** Median true remaining life by HI level over every training row, non-increasing in the level. */
function levelTable(units: UnitHistory[], his: number[][]): LevelBin[] {
  const rows: { hi: number; rul: number }[] = [];
  units.forEach((u, i) => {
    const failMs = u.tsMs[u.tsMs.length - 1];
    his[i].forEach((hi, r) => rows.push({ hi, rul: failMs - u.tsMs[r] }));
  });
  rows.sort((a, b) => a.hi - b.hi);
  const bins: LevelBin[] = [];
  for (let b = 0; b < LEVEL_BINS; b++) {
    const part = rows.slice(Math.floor((b * rows.length) / LEVEL_BINS), Math.floor(((b + 1) * rows.length) / LEVEL_BINS));
    if (part.length === 0) continue;
    const rul = median(part.map((p) => p.rul));
    bins.push({ upToHi: part[part.length - 1].hi, rulMs: bins.length > 0 ? Math.min(rul, bins[bins.length - 1].rulMs) : rul });
  }
  bins[bins.length - 1].upToHi = null;
  return bins;
}

function columnsOf(signals: SignalSpec, u: UnitHistory): number[] {
  return signals.channels.map((c) => {
    const i = u.channels.indexOf(c);
    if (i < 0) throw new TwinError('BAD_PAYLOAD', `asset ${u.asset}: no channel '${c}' (the model needs ${signals.channels.join(', ')})`);
    return i;
  });
}

function fitCore(units: UnitHistory[], o: typeof DEFAULTS & TrendFitOptions, s: Settings): Core {
  let signals = selectSignals(units, o.rulCapMs, { minAbsCorr: o.signals ? 0 : o.minAbsCorr, windowRows: 1 });
  if (o.signals) {
    const keep = o.signals.map((c) => {
      const j = signals.channels.indexOf(c);
      if (j < 0) throw new TwinError('BAD_CONFIG', `signal '${c}' is not a channel of the histories or does not vary`);
      return j;
    });
    const pick = <T>(a: T[]) => keep.map((j) => a[j]);
    signals = {
      ...signals,
      channels: pick(signals.channels),
      columns: pick(signals.columns),
      mean: pick(signals.mean),
      std: pick(signals.std),
      corr: pick(signals.corr),
    };
  }
  const xs: number[][] = [],
    ys: number[][] = [];
  for (const u of units) {
    const failMs = u.tsMs[u.tsMs.length - 1];
    u.values.forEach((row, r) => {
      xs.push(signals.columns.map((col, j) => (row[col] - signals.mean[j]) / signals.std[j]));
      ys.push([1 - Math.min(failMs - u.tsMs[r], o.rulCapMs) / o.rulCapMs]);
    });
  }
  const w = new ml.MultivariateLinearRegression(xs, ys, { intercept: true, statistics: false }).weights.map((r) => r[0]);
  // ml-regression puts the intercept last
  const hiCoef = [w[w.length - 1], ...w.slice(0, -1)];
  const failureHis: number[] = [],
    healthy: number[] = [];
  let hiMin = Infinity,
    hiMax = -Infinity;
  const his = units.map((u) => hiSeries(signals, hiCoef, signals.columns, u.values));
  for (const [i, u] of units.entries()) {
    const hi = his[i];
    const last = u.tsMs.length - 1;
    const { x, y } = windowPoints(u.tsMs, hi, last, s);
    failureHis.push(x.length >= 2 ? new ml.SimpleLinearRegression(x, y).intercept : y[0]);
    for (const v of hi) {
      hiMin = Math.min(hiMin, v);
      hiMax = Math.max(hiMax, v);
    }
    const tenth = u.tsMs[0] + (u.tsMs[last] - u.tsMs[0]) / 10;
    for (let r = 0; r <= last && u.tsMs[r] <= tenth; r++) healthy.push(hi[r]);
  }
  const threshold = median(failureHis);
  const healthyHi = median(healthy);
  // below every training level, so HI − floor stays positive for the log-linear fit
  return {
    signals,
    hiCoef,
    levelRul: levelTable(units, his),
    threshold,
    failureHis,
    healthyHi,
    hiMin,
    hiMax,
    expFloor: Math.min(hiMin, healthyHi) - 0.1 * (threshold - healthyHi),
  };
}

/** Fit on run-to-failure histories: the last row of each unit is its failure. */
export function fitTrendModel(units: UnitHistory[], options: TrendFitOptions): FittedTrendModel {
  const o = { ...DEFAULTS, ...options };
  if (!(o.rulCapMs > 0) || !Number.isFinite(o.rulCapMs))
    throw new TwinError('BAD_CONFIG', `rulCapMs must be a finite number > 0, got ${o.rulCapMs}`);
  const windowMs = o.windowMs ?? o.rulCapMs / 2;
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new TwinError('BAD_CONFIG', `windowMs must be a finite number > 0, got ${windowMs}`);
  if (!(Number.isInteger(o.maxPoints) && o.maxPoints >= 3))
    throw new TwinError('BAD_CONFIG', `maxPoints must be an integer >= 3, got ${o.maxPoints}`);
  if (!(Number.isInteger(o.minPoints) && o.minPoints >= 3 && o.minPoints <= o.maxPoints))
    throw new TwinError('BAD_CONFIG', `minPoints must be an integer in 3..maxPoints, got ${o.minPoints}`);
  if (!(o.minSlopeT >= 0)) throw new TwinError('BAD_CONFIG', `minSlopeT must be >= 0, got ${o.minSlopeT}`);
  const method = o.method ?? 'auto';
  if (method !== 'auto' && !TREND_METHODS.includes(method))
    throw new TwinError('BAD_CONFIG', `method must be auto, ${TREND_METHODS.join(', ')}; got '${method}'`);
  if (units.length < 2 * o.residualFolds)
    throw new TwinError('BAD_PAYLOAD', `need at least ${2 * o.residualFolds} run-to-failure units, got ${units.length}`);
  for (const u of units) {
    if (u.values.length < o.minPoints) throw new TwinError('BAD_PAYLOAD', `unit ${u.asset}: fewer than ${o.minPoints} rows`);
    for (let r = 1; r < u.tsMs.length; r++) {
      if (!(u.tsMs[r] > u.tsMs[r - 1])) throw new TwinError('OUT_OF_ORDER', `unit ${u.asset}: tsMs not increasing at row ${r}`);
    }
    for (const row of u.values) {
      if (!row.every(Number.isFinite)) throw new TwinError('NOT_FINITE', `unit ${u.asset}: a value is not finite`);
    }
  }
  const s: Settings = { rulCapMs: o.rulCapMs, windowMs, maxPoints: o.maxPoints, minPoints: o.minPoints, minSlopeT: o.minSlopeT };
  const core = fitCore(units, o, s);

  // out-of-fold forecasts of every method at cuts spread over each held-out unit's life
  const shuffled = seededShuffle(units, o.seed);
  const pairs: Record<TrendMethod, Pair[]> = { linear: [], exponential: [], 'theil-sen': [] };
  // the level forecast at every cut, trend or not: its spread is what a worn asset with a young feed
  // may expect (cuts without a trend alone would leave it unknown when every worn unit trends)
  const levelPairs: Pair[] = [];
  for (let k = 0; k < o.residualFolds; k++) {
    const c = fitCore(
      shuffled.filter((_, i) => i % o.residualFolds !== k),
      o,
      s,
    );
    for (const u of shuffled.filter((_, i) => i % o.residualFolds === k)) {
      const hi = hiSeries(c.signals, c.hiCoef, c.signals.columns, u.values);
      const n = u.values.length;
      const stride = Math.max(1, Math.floor((n - o.minPoints) / o.residualCutsPerUnit));
      for (let end = n - 2; end >= o.minPoints - 1; end -= stride) {
        const truth = u.tsMs[n - 1] - u.tsMs[end];
        for (const m of TREND_METHODS) {
          const f = forecastAt(c, m, u.tsMs, hi, end, s);
          pairs[m].push({ pred: f.rulMs, early: !!f.early, truth });
        }
        levelPairs.push({ pred: levelForecast(c, windowPoints(u.tsMs, hi, end, s).y, s).rulMs, early: true, truth });
      }
    }
  }
  const bandsOf = Object.fromEntries(
    TREND_METHODS.map((m) => [m, residualBands(pairs[m], levelPairs, o.residualBands, o.rulCapMs)]),
  ) as Record<TrendMethod, Bands>;
  // RMSE of the bias-corrected forecast (what estimateRulTrend gives) against capped RUL
  const oofRmseMs = Object.fromEntries(
    TREND_METHODS.map((m) => [
      m,
      Math.sqrt(
        pairs[m].reduce(
          (a, p) => a + (corrected(p.pred, bandOf(bandsOf[m], p, o.rulCapMs), o.rulCapMs) - Math.min(p.truth, o.rulCapMs)) ** 2,
          0,
        ) / pairs[m].length,
      ),
    ]),
  ) as Record<TrendMethod, number>;
  const chosen = method === 'auto' ? TREND_METHODS.reduce((a, b) => (oofRmseMs[b] < oofRmseMs[a] ? b : a)) : method;
  const f = [...core.failureHis].sort((a, b) => a - b);
  return {
    kind: 'rul-trend',
    version: 1,
    rulCapMs: o.rulCapMs,
    method: chosen,
    signals: core.signals,
    hiCoef: core.hiCoef,
    levelRul: core.levelRul,
    failureHi: { p10: quantile(f, 0.1), p50: core.threshold, p90: quantile(f, 0.9) },
    healthyHi: core.healthyHi,
    hiMin: core.hiMin,
    hiMax: core.hiMax,
    expFloor: core.expFloor,
    windowMs,
    maxPoints: o.maxPoints,
    minPoints: o.minPoints,
    minSlopeT: o.minSlopeT,
    oofRmseMs,
    ...bandsOf[chosen],
    trainUnits: units.length,
  };
}

interface Pair {
  pred: number;
  early: boolean;
  truth: number;
}
interface Bands {
  bands: TrendBand[];
  levelBands: TrendBand[];
  noTrendBand: TrendBand | null;
}

function band(part: Pair[], upToMs: number | null): TrendBand {
  const r = part.map((p) => p.truth - p.pred).sort((x, y) => x - y);
  return { upToMs, q10Ms: quantile(r, 0.1), q50Ms: quantile(r, 0.5), q90Ms: quantile(r, 0.9), n: r.length };
}

/** bands of equal counts by forecast horizon; the last is open-ended */
function splitBands(pairs: Pair[], count: number): TrendBand[] {
  const sorted = [...pairs].sort((a, b) => a.pred - b.pred);
  const bands: TrendBand[] = [];
  for (let b = 0; b < count; b++) {
    const part = sorted.slice(Math.floor((b * sorted.length) / count), Math.floor(((b + 1) * sorted.length) / count));
    if (part.length > 0) bands.push(band(part, part[part.length - 1].pred));
  }
  if (bands.length > 0) bands[bands.length - 1].upToMs = null;
  return bands;
}

/**
 * Residuals (true RUL − forecast) against the uncapped truth, by forecast horizon. Forecasts
 * without a trend have bands of their own: those from the HI level (a worn asset whose feed is too
 * young to show a trend; from the level forecast at every held-out cut), and those at the cap
 * (early life: how long it may still run). Where the held-out units gave no such case, the trend's
 * bands stand in.
 */
function residualBands(pairs: Pair[], levelPairs: Pair[], count: number, capMs: number): Bands {
  const trend = pairs.filter((p) => !p.early);
  // a fine split corrects the bias of each horizon, as long as a band holds enough cases for its P10/P90
  const bands = splitBands(trend, Math.max(1, Math.min(count, Math.floor(trend.length / 30))));
  if (bands.length === 0) throw new TwinError('MODEL', 'no held-out forecast found a degradation trend');
  const capped = pairs.filter((p) => p.early && p.pred >= capMs);
  return {
    bands,
    levelBands: splitBands(
      levelPairs.filter((p) => p.pred < capMs),
      Math.max(1, Math.min(4, Math.floor(levelPairs.length / 30))),
    ),
    noTrendBand: capped.length > 0 ? band(capped, null) : null,
  };
}

function bandOf(b: Bands, f: { pred: number; early: boolean }, capMs: number): TrendBand {
  if (f.early && f.pred >= capMs && b.noTrendBand) return b.noTrendBand;
  const list = f.early && f.pred < capMs && b.levelBands.length > 0 ? b.levelBands : b.bands;
  return list.find((x) => x.upToMs === null || f.pred <= x.upToMs)!;
}

/** P50: the extrapolation plus the band's median residual (a linear fit of an accelerating wear runs late) */
function corrected(rulMs: number, band: TrendBand, capMs: number): number {
  return Math.min(Math.max(rulMs + band.q50Ms, 0), capMs);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Check a model read from JSON (a node loads it by path) before it is used. */
export function trendModelFromJson(json: unknown): FittedTrendModel {
  const m = json as FittedTrendModel;
  const bandsOk = (list: unknown): boolean =>
    Array.isArray(list) &&
    (list as TrendBand[]).every(
      (b, i) => isNum(b.q10Ms) && isNum(b.q50Ms) && isNum(b.q90Ms) && (i === list.length - 1 ? b.upToMs === null : isNum(b.upToMs)),
    );
  const ok =
    !!m &&
    m.kind === 'rul-trend' &&
    m.version === 1 &&
    isNum(m.rulCapMs) &&
    TREND_METHODS.includes(m.method) &&
    !!m.signals &&
    Array.isArray(m.signals.channels) &&
    Array.isArray(m.hiCoef) &&
    m.hiCoef.length === m.signals.channels.length + 1 &&
    !!m.failureHi &&
    isNum(m.failureHi.p50) &&
    isNum(m.windowMs) &&
    isNum(m.maxPoints) &&
    isNum(m.minPoints) &&
    isNum(m.minSlopeT) &&
    isNum(m.expFloor) &&
    isNum(m.healthyHi) &&
    isNum(m.hiMin) &&
    isNum(m.hiMax) &&
    Array.isArray(m.levelRul) &&
    m.levelRul.length > 0 &&
    m.levelRul.every((b, i) => isNum(b.rulMs) && (i === m.levelRul.length - 1 ? b.upToHi === null : isNum(b.upToHi))) &&
    bandsOk(m.bands) &&
    m.bands.length > 0 &&
    bandsOk(m.levelBands) &&
    (m.noTrendBand === null || bandsOk([m.noTrendBand]));
  if (!ok) throw new TwinError('MODEL', 'not a rul-trend v1 model');
  return m;
}

/**
 * RUL of an asset at the last row of its history (since new or since its last renewal; older rows
 * than the window are not used). Rows where a model channel is missing or not finite are skipped.
 * Quality: the worst of `inputQuality` and 'uncertain' when there is no trend yet (RUL from the HI
 * level, or the cap; also while the feed covers less than a quarter of the window), or the HI lies
 * beyond the training range.
 */
export function estimateRulTrend(model: TrendModel, history: UnitHistory, inputQuality: Quality = 'good'): RulEstimate {
  const m = model as FittedTrendModel;
  const n = history.values.length;
  if (n === 0) throw new TwinError('BAD_PAYLOAD', `asset ${history.asset}: empty history`);
  for (let r = 1; r < n; r++) {
    if (!(history.tsMs[r] > history.tsMs[r - 1]))
      throw new TwinError('OUT_OF_ORDER', `asset ${history.asset}: tsMs not increasing at row ${r}`);
  }
  const core: Extrapolation = { threshold: m.failureHi.p50, expFloor: m.expFloor, levelRul: m.levelRul };
  const s: Settings = {
    rulCapMs: m.rulCapMs,
    windowMs: m.windowMs,
    maxPoints: m.maxPoints,
    minPoints: m.minPoints,
    minSlopeT: m.minSlopeT,
  };
  // only the window's rows are needed: a live history may hold weeks of per-second readings
  let start = n - 1;
  while (start > 0 && history.tsMs[start - 1] > history.tsMs[n - 1] - m.windowMs) start--;
  const tsMs = history.tsMs.slice(start);
  const hi = hiSeries(m.signals, m.hiCoef, columnsOf(m.signals, history), history.values.slice(start));
  const f = forecastAt(core, m.method, tsMs, hi, tsMs.length - 1, s);
  const band = bandOf(m, { pred: f.rulMs, early: !!f.early }, m.rulCapMs);
  const reasons: string[] = [];
  if (f.early) {
    reasons.push(
      f.rulMs >= m.rulCapMs
        ? `early life: ${f.early}, RUL capped at ${hoursText(m.rulCapMs)}`
        : `${f.early}: RUL from the health indicator level`,
    );
  }
  const margin = 0.25 * (m.failureHi.p50 - m.healthyHi);
  if (f.levelHi > m.hiMax + margin || f.levelHi < m.hiMin - margin)
    reasons.push(`health indicator ${f.levelHi.toFixed(2)} outside the training range`);
  const degradation = (f.levelHi - m.healthyHi) / (m.failureHi.p50 - m.healthyHi);
  const rulMs = corrected(f.rulMs, band, m.rulCapMs);
  const est: RulEstimate = {
    asset: history.asset,
    tsMs: history.tsMs[n - 1],
    rulMs,
    rulP10Ms: Math.min(rulMs, Math.max(0, f.rulMs + band.q10Ms)),
    rulP90Ms: Math.max(rulMs, Math.max(0, f.rulMs + band.q90Ms)),
    healthIndex: Number.isFinite(degradation) ? Math.min(1, Math.max(0, 1 - degradation)) : 1,
    quality: worstQuality(inputQuality, reasons.length > 0 ? 'uncertain' : 'good'),
    model: `rul-trend ${m.method}`,
  };
  if (reasons.length > 0) est.qualityReason = reasons.join('; ');
  return est;
}

function hoursText(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)} d` : `${h.toFixed(h >= 10 ? 0 : 1)} h`;
}
