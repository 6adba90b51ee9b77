/**
 * Page-Hinkley test, ported from River (online-ml/river, river/drift/page_hinkley.py, the
 * two-sided "mode" API; blob 812653507 in the reference index). Per sample:
 *   mean  ← running mean of all samples since the last reset (stats.Mean)
 *   dev   = x − mean
 *   S⁺    ← α·S⁺ + dev − δ,  m⁺ = min S⁺  (increase test: S⁺ − m⁺ > λ)
 *   S⁻    ← α·S⁻ + dev + δ,  M⁻ = max S⁻  (decrease test: M⁻ − S⁻ > λ; River starts M⁻ at −1, kept)
 * Tested only once `minInstances` samples were seen. As in River, the detector resets itself on
 * the sample AFTER a drift, so the flagged sample still belongs to the old run.
 *
 * `legacy: true` is River's older one-sided test (river ≤ 0.14, page_hinkley.py at 063ca61d):
 *   S ← max(0, α·S + x − mean − δ), drift when S ≥ λ and more than minInstances − 1 samples seen.
 *
 * Change start: the sample after the cumulative sum last reached its extreme (m⁺, M⁻, or zero in
 * legacy); magnitude = mean since then − mean before.
 */
import {
  boolParam,
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

export interface PageHinkleyParams {
  /** Samples before the test is applied (River: min_instances = 30). */
  minInstances: number;
  /** Tolerated deviation per sample (River: delta = 0.005). */
  delta: number;
  /** Alarm threshold λ on the cumulative sum (River: threshold = 50). */
  threshold: number;
  /** Forgetting factor of the cumulative sums (River: alpha = 1 − 0.0001). */
  alpha: number;
  mode: DriftMode;
  /** River's older one-sided Page-Hinkley (see file comment). */
  legacy: boolean;
}

export const PAGE_HINKLEY_DEFAULTS: Readonly<PageHinkleyParams> = Object.freeze({
  minInstances: 30,
  delta: 0.005,
  threshold: 50,
  alpha: 1 - 0.0001,
  mode: 'both',
  legacy: false,
});

export interface PageHinkleyState {
  readonly p: PageHinkleyParams;
  drift: boolean;
  /** Samples since reset (stats.Mean.n). */
  n: number;
  mean: number;
  sumInc: number;
  sumDec: number;
  minInc: number;
  maxDec: number;
  // change-point bookkeeping, per side: segment since the sum last left its extreme
  incIdx: number;
  incT: number;
  incPending: boolean;
  incSum: number;
  incN: number;
  decIdx: number;
  decT: number;
  decPending: boolean;
  decSum: number;
  decN: number;
  /** Side of the last drift: 1 up, −1 down. */
  side: number;
}

const NAME = 'page-hinkley';
const KEYS = ['minInstances', 'delta', 'threshold', 'alpha', 'mode', 'legacy'] as const;

export function pageHinkleyParams(raw?: unknown): PageHinkleyParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = PAGE_HINKLEY_DEFAULTS;
  return {
    minInstances: intParam(o, 'minInstances', d.minInstances, NAME, 1),
    delta: numParam(o, 'delta', d.delta, NAME, (v) => v >= 0, 'a number ≥ 0'),
    threshold: numParam(o, 'threshold', d.threshold, NAME, (v) => v > 0, 'a number > 0'),
    alpha: numParam(o, 'alpha', d.alpha, NAME, (v) => v > 0 && v <= 1, 'in (0, 1]'),
    mode: modeParam(o, d.mode, NAME),
    legacy: boolParam(o, 'legacy', d.legacy, NAME),
  };
}

export function pageHinkleyInit(params: Partial<PageHinkleyParams> = {}): PageHinkleyState {
  const p = pageHinkleyParams(params);
  const s = { p } as PageHinkleyState;
  reset(s);
  return s;
}

function reset(s: PageHinkleyState): void {
  s.drift = false;
  s.n = 0;
  s.mean = 0;
  s.sumInc = 0;
  s.sumDec = 0;
  s.minInc = Infinity;
  s.maxDec = -1; // River: self._max_decrease = -1
  s.incIdx = 0;
  s.incT = NaN;
  s.incPending = true;
  s.incSum = 0;
  s.incN = 0;
  s.decIdx = 0;
  s.decT = NaN;
  s.decPending = true;
  s.decSum = 0;
  s.decN = 0;
  s.side = 0;
}

/** One sample. Mutates `s`; returns true when this sample is flagged as a drift. */
export function pageHinkleyStep(s: PageHinkleyState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  s.n += 1;
  s.mean += (x - s.mean) / s.n;

  if (p.legacy) {
    // river ≤ 0.14: sample_count starts at 1 and is compared after the increment.
    const v = p.alpha * s.sumInc + (x - s.mean - p.delta);
    s.sumInc = v > 0 ? v : 0;
    if (s.sumInc === 0) {
      s.incIdx = s.n;
      s.incPending = true;
      s.incSum = 0;
      s.incN = 0;
    } else {
      if (s.incPending) {
        s.incT = t;
        s.incPending = false;
      }
      s.incSum += x;
      s.incN += 1;
    }
    if (s.n + 1 >= p.minInstances && s.sumInc >= p.threshold) {
      s.drift = true;
      s.side = 1;
    }
    return s.drift;
  }

  const dev = x - s.mean;
  s.sumInc = p.alpha * s.sumInc + dev - p.delta;
  s.sumDec = p.alpha * s.sumDec + dev + p.delta;

  if (s.sumInc < s.minInc) {
    s.minInc = s.sumInc;
    s.incIdx = s.n;
    s.incPending = true;
    s.incSum = 0;
    s.incN = 0;
  } else {
    if (s.incPending) {
      s.incT = t;
      s.incPending = false;
    }
    s.incSum += x;
    s.incN += 1;
  }
  if (s.sumDec > s.maxDec) {
    s.maxDec = s.sumDec;
    s.decIdx = s.n;
    s.decPending = true;
    s.decSum = 0;
    s.decN = 0;
  } else {
    if (s.decPending) {
      s.decT = t;
      s.decPending = false;
    }
    s.decSum += x;
    s.decN += 1;
  }

  if (s.n >= p.minInstances) {
    const up = p.mode !== 'down' && s.sumInc - s.minInc > p.threshold;
    const down = p.mode !== 'up' && s.maxDec - s.sumDec > p.threshold;
    if (up || down) {
      s.drift = true;
      s.side = up && down ? (s.sumInc - s.minInc >= s.maxDec - s.sumDec ? 1 : -1) : up ? 1 : -1;
    }
  }
  return s.drift;
}

export function pageHinkleyStatistic(s: PageHinkleyState): number {
  if (s.p.legacy) return s.sumInc;
  const inc = s.n > 0 && s.p.mode !== 'down' ? s.sumInc - s.minInc : 0;
  const dec = s.n > 0 && s.p.mode !== 'up' ? Math.max(0, s.maxDec - s.sumDec) : 0;
  return inc > dec ? inc : dec;
}

export function pageHinkleyChange(s: PageHinkleyState): ChangeEstimate {
  const up = s.side >= 0;
  const segSum = up ? s.incSum : s.decSum;
  const segN = up ? s.incN : s.decN;
  const before = s.n - segN;
  return {
    startIndex: up ? s.incIdx : s.decIdx,
    startT: up ? s.incT : s.decT,
    direction: up ? 'up' : 'down',
    meanAfter: segN > 0 ? segSum / segN : NaN,
    meanBefore: before > 0 ? (s.mean * s.n - segSum) / before : NaN,
  };
}

export const pageHinkleyDetector: Detector<PageHinkleyParams, PageHinkleyState> = {
  name: NAME,
  defaults: PAGE_HINKLEY_DEFAULTS,
  describe: 'Page-Hinkley: cumulative deviation from the running mean (River defaults), for sustained mean shifts',
  params: pageHinkleyParams,
  init: pageHinkleyInit,
  step: pageHinkleyStep,
  statistic: pageHinkleyStatistic,
  threshold: (s) => s.p.threshold,
  score: (s) => (s.n < s.p.minInstances ? 0 : ratio(pageHinkleyStatistic(s), s.p.threshold)),
  change: pageHinkleyChange,
  count: (s) => s.n,
};
