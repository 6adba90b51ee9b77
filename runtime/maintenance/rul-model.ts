/**
 * RUL by ridge-stabilised least squares (ml-matrix) of RUL capped at `rulCapMs` on the rolling
 * means (and their squares) and slopes of the trending channels (health-index.ts) plus the age of
 * the history; an optional polynomial calibration of the linear forecast (off by default). The
 * cap is the usual C-MAPSS piecewise-linear target: early in life wear is not observable, so the
 * model is not asked to tell 300 from 200 cycles left.
 * Uncertainty: the model is refitted k times leaving units out, and the residuals (true RUL minus
 * forecast, uncapped truth) on the left-out units give P10/P50/P90 per band of forecast RUL. The
 * bands are from units the fit never saw, so the interval is honest about unseen assets.
 */
import { Matrix, solve } from 'ml-matrix';
import { TwinError } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import { selectSignals, signalFeatures, type SignalSpec, type UnitHistory } from './health-index.js';
import type { RulEstimate } from './rul-estimate.js';
import { quantileSorted as quantile } from '../stats/index.js';

export interface RulFitOptions {
  rulCapMs: number;
  windowRows?: number;
  minAbsCorr?: number;
  ridge?: number;
  /** units left out per residual fold = units / folds */
  residualFolds?: number;
  residualBands?: number;
  /** residuals are taken from rows with at least this many rows of history (C-MAPSS test: 31) */
  minHistoryRows?: number;
  seed?: number;
  /** degree of the polynomial that maps the linear forecast onto capped RUL (0 = none) */
  calibrationDegree?: number;
}

export interface ResidualBand {
  /** forecasts up to this value (ms) use this band; the last band is open-ended */
  upToMs: number;
  q10Ms: number;
  q50Ms: number;
  q90Ms: number;
  n: number;
}

export interface RulModel {
  kind: 'rul-ols';
  version: 1;
  rulCapMs: number;
  signals: SignalSpec;
  /** intercept, rolling means, rolling slopes, ageMs / rulCapMs, squared rolling means */
  coef: number[];
  /** polynomial in (linear forecast / cap), lowest power first; [] = identity */
  calib: number[];
  featureMin: number[];
  featureMax: number[];
  bands: ResidualBand[];
  trainUnits: number;
}

const DEFAULTS = {
  windowRows: 10,
  minAbsCorr: 0.3,
  ridge: 1e-3,
  residualFolds: 5,
  residualBands: 5,
  minHistoryRows: 31,
  seed: 1,
  calibrationDegree: 0,
};

/** [1, means, slopes, age / cap, means²]: the squares let a sensor's wear curve bend */
function designRow(k: number, f: number[], ageMs: number, capMs: number): number[] {
  return [1, ...f, ageMs / capMs, ...f.slice(0, k).map((v) => v * v)];
}

function design(spec: SignalSpec, u: UnitHistory, capMs: number): number[][] {
  const k = spec.columns.length;
  return signalFeatures(spec, u.values).map((row, r) => designRow(k, row, u.tsMs[r] - u.tsMs[0], capMs));
}

interface Fitted {
  coef: number[];
  calib: number[];
}

function fitCoef(units: UnitHistory[], spec: SignalSpec, capMs: number, ridge: number, degree: number): Fitted {
  const xs: number[][] = [],
    ys: number[] = [];
  for (const u of units) {
    const failMs = u.tsMs[u.tsMs.length - 1];
    design(spec, u, capMs).forEach((x, r) => {
      xs.push(x);
      ys.push(Math.min(failMs - u.tsMs[r], capMs) / capMs);
    });
  }
  const X = new Matrix(xs);
  const Xt = X.transpose();
  const A = Xt.mmul(X);
  // small ridge on the features (not the intercept): slopes of near-collinear sensors stay bounded
  for (let i = 1; i < A.rows; i++) A.set(i, i, A.get(i, i) + ridge * xs.length);
  const b = Xt.mmul(Matrix.columnVector(ys));
  const coef = solve(A, b).getColumn(0);
  if (degree <= 0) return { coef: coef.map((c) => c * capMs), calib: [] };
  // the capped target bends at the cap and at failure; a low-degree polynomial of the linear
  // forecast follows the bend that a linear model cannot (fitted on the same training rows)
  const P = new Matrix(
    xs.map((x) => {
      const l = dot(coef, x);
      return Array.from({ length: degree + 1 }, (_, d) => l ** d);
    }),
  );
  const Pt = P.transpose();
  const calib = solve(Pt.mmul(P), Pt.mmul(Matrix.columnVector(ys))).getColumn(0);
  return { coef: coef.map((c) => c * capMs), calib };
}

function forecast(f: Fitted, x: number[], capMs: number): number {
  const lin = dot(f.coef, x);
  if (f.calib.length === 0) return clampRul(lin, capMs);
  const l = lin / capMs;
  let y = 0;
  for (let d = f.calib.length - 1; d >= 0; d--) y = y * l + f.calib[d];
  return clampRul(y * capMs, capMs);
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Deterministic shuffle (mulberry32) so folds are the same on every fit. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Fit on run-to-failure histories: the last row of each unit is its failure. */
export function fitRulModel(units: UnitHistory[], options: RulFitOptions): RulModel {
  const o = { ...DEFAULTS, ...options };
  if (!(o.rulCapMs > 0)) throw new TwinError('BAD_CONFIG', `rulCapMs must be > 0, got ${o.rulCapMs}`);
  if (!(Number.isInteger(o.windowRows) && o.windowRows >= 2))
    throw new TwinError('BAD_CONFIG', `windowRows must be an integer >= 2, got ${o.windowRows}`);
  if (units.length < 2 * o.residualFolds) {
    throw new TwinError('BAD_PAYLOAD', `need at least ${2 * o.residualFolds} run-to-failure units, got ${units.length}`);
  }
  for (const u of units) {
    if (u.values.length < 2) throw new TwinError('BAD_PAYLOAD', `unit ${u.asset}: fewer than 2 rows`);
    for (let r = 1; r < u.tsMs.length; r++) {
      if (!(u.tsMs[r] > u.tsMs[r - 1])) throw new TwinError('OUT_OF_ORDER', `unit ${u.asset}: tsMs not increasing at row ${r}`);
    }
  }
  const signals = selectSignals(units, o.rulCapMs, o);
  const fitted = fitCoef(units, signals, o.rulCapMs, o.ridge, o.calibrationDegree);

  // out-of-fold residuals by unit
  const shuffled = seededShuffle(units, o.seed);
  const pairs: Array<{ pred: number; resid: number }> = [];
  for (let k = 0; k < o.residualFolds; k++) {
    const held = shuffled.filter((_, i) => i % o.residualFolds === k);
    const fitOn = shuffled.filter((_, i) => i % o.residualFolds !== k);
    const spec = selectSignals(fitOn, o.rulCapMs, o);
    const c = fitCoef(fitOn, spec, o.rulCapMs, o.ridge, o.calibrationDegree);
    for (const u of held) {
      const failMs = u.tsMs[u.tsMs.length - 1];
      design(spec, u, o.rulCapMs).forEach((x, r) => {
        if (r + 1 < o.minHistoryRows) return;
        const pred = forecast(c, x, o.rulCapMs);
        pairs.push({ pred, resid: failMs - u.tsMs[r] - pred });
      });
    }
  }
  pairs.sort((a, b) => a.pred - b.pred);
  const bands: ResidualBand[] = [];
  for (let b = 0; b < o.residualBands; b++) {
    const part = pairs.slice(Math.floor((b * pairs.length) / o.residualBands), Math.floor(((b + 1) * pairs.length) / o.residualBands));
    const r = part.map((p) => p.resid).sort((x, y) => x - y);
    bands.push({
      upToMs: b === o.residualBands - 1 ? Infinity : part[part.length - 1].pred,
      q10Ms: quantile(r, 0.1),
      q50Ms: quantile(r, 0.5),
      q90Ms: quantile(r, 0.9),
      n: r.length,
    });
  }

  const featureMin: number[] = [],
    featureMax: number[] = [];
  for (const u of units) {
    for (const x of design(signals, u, o.rulCapMs)) {
      x.forEach((v, i) => {
        featureMin[i] = Math.min(featureMin[i] ?? Infinity, v);
        featureMax[i] = Math.max(featureMax[i] ?? -Infinity, v);
      });
    }
  }
  return {
    kind: 'rul-ols',
    version: 1,
    rulCapMs: o.rulCapMs,
    signals,
    coef: fitted.coef,
    calib: fitted.calib,
    featureMin,
    featureMax,
    bands,
    trainUnits: units.length,
  };
}

function clampRul(rulMs: number, capMs: number): number {
  return Math.min(Math.max(rulMs, 0), capMs);
}

/** JSON drops Infinity: the open-ended last band is written as null and read back here. */
export function rulModelFromJson(json: unknown): RulModel {
  const m = json as RulModel;
  if (
    !m ||
    m.kind !== 'rul-ols' ||
    m.version !== 1 ||
    !Array.isArray(m.coef) ||
    !Array.isArray(m.calib) ||
    !Array.isArray(m.bands) ||
    !m.signals
  ) {
    throw new TwinError('MODEL', 'not a rul-ols v1 model');
  }
  return { ...m, bands: m.bands.map((b, i) => ({ ...b, upToMs: i === m.bands.length - 1 || b.upToMs === null ? Infinity : b.upToMs })) };
}

/**
 * RUL of an asset from its history since new (or since its last renewal), at the last row.
 * Quality: the worst of `inputQuality` and 'uncertain' when the window is not full yet or a
 * feature lies outside what the model was fitted on (the forecast is an extrapolation).
 */
export function estimateRul(model: RulModel, history: UnitHistory, inputQuality: Quality = 'good'): RulEstimate {
  const n = history.values.length;
  if (n === 0) throw new TwinError('BAD_PAYLOAD', `asset ${history.asset}: empty history`);
  const sig = model.signals;
  for (let j = 0; j < sig.channels.length; j++) {
    if (history.channels[sig.columns[j]] !== sig.channels[j]) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `asset ${history.asset}: column ${sig.columns[j]} is '${history.channels[sig.columns[j]]}', the model expects '${sig.channels[j]}'`,
      );
    }
  }
  const from = Math.max(0, n - sig.windowRows);
  const tail = history.values.slice(from);
  for (const row of tail) {
    for (const c of sig.columns) {
      if (!Number.isFinite(row[c])) throw new TwinError('NOT_FINITE', `asset ${history.asset}: ${history.channels[c]} is not finite`);
    }
  }
  const f = signalFeatures(sig, tail);
  const tsMs = history.tsMs[n - 1];
  const x = designRow(sig.columns.length, f[f.length - 1], tsMs - history.tsMs[0], model.rulCapMs);
  const rulMs = forecast(model, x, model.rulCapMs);
  const band = model.bands.find((b) => rulMs <= b.upToMs) ?? model.bands[model.bands.length - 1];
  const reasons: string[] = [];
  if (n < sig.windowRows) reasons.push(`history of ${n} rows is shorter than the ${sig.windowRows}-row window`);
  const out = x.findIndex((v, i) => i > 0 && (v < model.featureMin[i] || v > model.featureMax[i]));
  if (out > 0) reasons.push(`feature ${out} outside the training range`);
  const quality = worstQuality(inputQuality, reasons.length > 0 ? 'uncertain' : 'good');
  const est: RulEstimate = {
    asset: history.asset,
    tsMs,
    rulMs,
    rulP10Ms: Math.max(0, rulMs + band.q10Ms),
    rulP90Ms: Math.max(0, rulMs + band.q90Ms),
    healthIndex: rulMs / model.rulCapMs,
    quality,
  };
  if (reasons.length > 0) est.qualityReason = reasons.join('; ');
  return est;
}
