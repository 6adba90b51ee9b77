/**
 * Tabular CUSUM, ported from River (online-ml/river, river/drift/cusum.py, snapshot
 * 291ccdd563bf84aa659489df6f2ea4c5bf4e35bb). The reference mean μ and deviation σ are estimated
 * over the first `minInstances` samples (stats.Mean / stats.Var, ddof = 1) and then frozen; from
 * that sample on:
 *   S⁺ ← max(0, S⁺ + (x − μ) − kσ),  S⁻ ← max(0, S⁻ − (x − μ) − kσ)
 * and a drift is flagged when S⁺ (or S⁻, per mode) exceeds hσ. Reset on the sample after a drift.
 *
 * Change start: the sample at which the flagged sum last left zero; magnitude = mean since then − μ.
 */
import {
  intParam,
  modeParam,
  noUnknownKeys,
  numParam,
  paramObject,
  ratio,
  type ChangeEstimate,
  type Detector,
  type DriftMode,
} from './detector.js';

export interface CusumParams {
  /** Warm-up samples over which μ and σ are estimated (River: 30). */
  minInstances: number;
  /** Slack k, in reference standard deviations (River: 0.5). */
  slack: number;
  /** Decision interval h, in reference standard deviations (River: 5). */
  threshold: number;
  mode: DriftMode;
}

export const CUSUM_DEFAULTS: Readonly<CusumParams> = Object.freeze({
  minInstances: 30,
  slack: 0.5,
  threshold: 5,
  mode: 'both',
});

export interface CusumState {
  readonly p: CusumParams;
  drift: boolean;
  n: number;
  // stats.Mean / stats.Var (River's update formulas) until the reference is frozen
  mean: number;
  varMean: number;
  variance: number;
  frozen: boolean;
  reference: number;
  sigma: number;
  sumInc: number;
  sumDec: number;
  // segments since each sum last left zero
  incIdx: number;
  incT: number;
  incSum: number;
  incN: number;
  decIdx: number;
  decT: number;
  decSum: number;
  decN: number;
  side: number;
}

const NAME = 'cusum';
const KEYS = ['minInstances', 'slack', 'threshold', 'mode'] as const;

export function cusumParams(raw?: unknown): CusumParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = CUSUM_DEFAULTS;
  return {
    minInstances: intParam(o, 'minInstances', d.minInstances, NAME, 1),
    slack: numParam(o, 'slack', d.slack, NAME, (v) => v >= 0, 'a number ≥ 0'),
    threshold: numParam(o, 'threshold', d.threshold, NAME, (v) => v > 0, 'a number > 0'),
    mode: modeParam(o, d.mode, NAME),
  };
}

export function cusumInit(params: Partial<CusumParams> = {}): CusumState {
  const s = { p: cusumParams(params) } as CusumState;
  reset(s);
  return s;
}

function reset(s: CusumState): void {
  s.drift = false;
  s.n = 0;
  s.mean = 0;
  s.varMean = 0;
  s.variance = 0;
  s.frozen = false;
  s.reference = 0;
  s.sigma = 0;
  s.sumInc = 0;
  s.sumDec = 0;
  s.incIdx = 0;
  s.incT = NaN;
  s.incSum = 0;
  s.incN = 0;
  s.decIdx = 0;
  s.decT = NaN;
  s.decSum = 0;
  s.decN = 0;
  s.side = 0;
}

/** One sample. Mutates `s`; returns true when this sample is flagged as a drift. */
export function cusumStep(s: CusumState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  s.n += 1;
  if (!s.frozen) {
    // River's stats.Mean and stats.Var (ddof = 1), same update formulas and order.
    s.mean += (x - s.mean) / s.n;
    const old = s.varMean;
    s.varMean += (x - s.varMean) / s.n;
    if (s.n > 1) s.variance += ((x - old) * (x - s.varMean) - s.variance) / (s.n - 1);
    if (s.n < p.minInstances) return false;
    s.frozen = true;
    s.reference = s.mean;
    s.sigma = Math.sqrt(s.variance > 0 ? s.variance : 0);
  }
  const k = p.slack * s.sigma;
  const limit = p.threshold * s.sigma;
  const dev = x - s.reference;

  const inc = s.sumInc + dev - k;
  if (inc > 0) {
    if (s.sumInc === 0) {
      s.incIdx = s.n - 1;
      s.incT = t;
      s.incSum = 0;
      s.incN = 0;
    }
    s.sumInc = inc;
    s.incSum += x;
    s.incN += 1;
  } else s.sumInc = 0;

  const dec = s.sumDec - dev - k;
  if (dec > 0) {
    if (s.sumDec === 0) {
      s.decIdx = s.n - 1;
      s.decT = t;
      s.decSum = 0;
      s.decN = 0;
    }
    s.sumDec = dec;
    s.decSum += x;
    s.decN += 1;
  } else s.sumDec = 0;

  const up = p.mode !== 'down' && s.sumInc > limit;
  const down = p.mode !== 'up' && s.sumDec > limit;
  if (up || down) {
    s.drift = true;
    s.side = up && down ? (s.sumInc >= s.sumDec ? 1 : -1) : up ? 1 : -1;
  }
  return s.drift;
}

export function cusumStatistic(s: CusumState): number {
  const inc = s.p.mode !== 'down' ? s.sumInc : 0;
  const dec = s.p.mode !== 'up' ? s.sumDec : 0;
  return inc > dec ? inc : dec;
}

export function cusumChange(s: CusumState): ChangeEstimate {
  const up = s.side >= 0;
  const segN = up ? s.incN : s.decN;
  return {
    startIndex: up ? s.incIdx : s.decIdx,
    startT: up ? s.incT : s.decT,
    direction: up ? 'up' : 'down',
    meanBefore: s.reference,
    meanAfter: segN > 0 ? (up ? s.incSum : s.decSum) / segN : NaN,
  };
}

export const cusumDetector: Detector<CusumParams, CusumState> = {
  name: NAME,
  defaults: CUSUM_DEFAULTS,
  describe: 'CUSUM: tabular cumulative sums against a frozen warm-up reference (River defaults), for small sustained shifts',
  params: cusumParams,
  init: cusumInit,
  step: cusumStep,
  statistic: cusumStatistic,
  threshold: (s) => s.p.threshold * s.sigma,
  score: (s) => (s.frozen ? ratio(cusumStatistic(s), s.p.threshold * s.sigma) : 0),
  change: cusumChange,
  count: (s) => s.n,
};
