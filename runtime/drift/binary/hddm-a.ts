/**
 * HDDM_A (Hoeffding's-bound drift detection, moving-average test; Frías-Blanco et al. 2014),
 * ported from River (online-ml/river, river/drift/binary/hddm_a.py,
 * 7cb995639c9185b236a7d45696b85583a175268e, itself after MOA). Input: bits, 1 = error/failure.
 * Keeps the global mean Z and the prefix means X_min / X_max at the cut points where a Hoeffding
 * bound says the mean was lowest / highest; drift when Z − X_min ≥ ε(driftConfidence) (and, with
 * twoSidedTest, X_max − Z ≥ ε). Reset on the sample after a drift.
 *
 * Change start: the sample after the cut point; means before/after are exact (prefix and rest).
 */
import { boolParam, noUnknownKeys, numParam, paramObject, ratio, type ChangeEstimate, type Detector } from '../detector.js';

export interface HddmAParams {
  /** River: drift_confidence = 0.001. */
  driftConfidence: number;
  /** River: warning_confidence = 0.005. */
  warningConfidence: number;
  /** Also watch for decreases (River: two_sided_test = False). */
  twoSidedTest: boolean;
}

export const HDDM_A_DEFAULTS: Readonly<HddmAParams> = Object.freeze({
  driftConfidence: 0.001,
  warningConfidence: 0.005,
  twoSidedTest: false,
});

export interface HddmAState {
  readonly p: HddmAParams;
  drift: boolean;
  warning: boolean;
  zN: number;
  zMean: number;
  minN: number;
  minMean: number;
  maxN: number;
  maxMean: number;
  minT: number;
  minPending: boolean;
  maxT: number;
  maxPending: boolean;
  side: number;
}

const NAME = 'hddm-a';
const KEYS = ['driftConfidence', 'warningConfidence', 'twoSidedTest'] as const;

export function hddmAParams(raw?: unknown): HddmAParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = HDDM_A_DEFAULTS;
  return {
    driftConfidence: numParam(o, 'driftConfidence', d.driftConfidence, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    warningConfidence: numParam(o, 'warningConfidence', d.warningConfidence, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    twoSidedTest: boolParam(o, 'twoSidedTest', d.twoSidedTest, NAME),
  };
}

export function hddmAInit(params: Partial<HddmAParams> = {}): HddmAState {
  const s = { p: hddmAParams(params) } as HddmAState;
  reset(s);
  return s;
}

function reset(s: HddmAState): void {
  s.drift = false;
  s.warning = false;
  s.zN = 0;
  s.zMean = 0;
  s.minN = 0;
  s.minMean = 0;
  s.maxN = 0;
  s.maxMean = 0;
  s.minT = NaN;
  s.minPending = true;
  s.maxT = NaN;
  s.maxPending = true;
  s.side = 1;
}

function hoeffding(s: HddmAState, n: number): number {
  return Math.sqrt((1.0 / (2 * n)) * Math.log(1.0 / s.p.driftConfidence));
}

function eps(zN: number, cutN: number, confidence: number): number {
  const m = ((zN - cutN) / cutN) * (1.0 / zN);
  return Math.sqrt((m / 2) * Math.log(2.0 / confidence));
}

function meanIncr(s: HddmAState, confidence: number): boolean {
  if (s.minN === s.zN) return false;
  return s.zMean - s.minMean >= eps(s.zN, s.minN, confidence);
}

function meanDecr(s: HddmAState, confidence: number): boolean {
  if (s.maxN === s.zN) return false;
  return s.maxMean - s.zMean >= eps(s.zN, s.maxN, confidence);
}

/** One bit. Mutates `s`; returns true when this sample is flagged as a drift. */
export function hddmAStep(s: HddmAState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  const bit = x !== 0 ? 1 : 0;
  s.zN += 1;
  s.zMean += (bit - s.zMean) / s.zN;
  if (s.minPending && s.zN > s.minN) {
    s.minT = t;
    s.minPending = false;
  }
  if (s.maxPending && s.zN > s.maxN) {
    s.maxT = t;
    s.maxPending = false;
  }
  if (s.minN === 0) {
    s.minN = s.zN;
    s.minMean = s.zMean;
    s.minPending = true;
  }
  if (s.maxN === 0) {
    s.maxN = s.zN;
    s.maxMean = s.zMean;
    s.maxPending = true;
  }
  const epsZ = hoeffding(s, s.zN);
  let epsX = hoeffding(s, s.minN);
  if (s.minMean + epsX >= s.zMean + epsZ) {
    s.minN = s.zN;
    s.minMean = s.zMean;
    s.minPending = true;
  }
  epsX = hoeffding(s, s.maxN);
  if (s.maxMean - epsX <= s.zMean - epsZ) {
    s.maxN = s.zN;
    s.maxMean = s.zMean;
    s.maxPending = true;
  }

  if (meanIncr(s, p.driftConfidence)) {
    s.warning = false;
    s.drift = true;
    s.side = 1;
  } else if (meanIncr(s, p.warningConfidence)) {
    s.warning = true;
    s.drift = false;
  } else {
    s.warning = false;
    s.drift = false;
  }
  if (p.twoSidedTest) {
    if (meanDecr(s, p.driftConfidence)) {
      if (!s.drift) s.side = -1;
      s.drift = true;
    } else if (meanDecr(s, p.warningConfidence)) s.warning = true;
  }
  return s.drift;
}

function statistic(s: HddmAState): number {
  const up = s.minN < s.zN ? s.zMean - s.minMean : 0;
  const down = s.p.twoSidedTest && s.maxN < s.zN ? s.maxMean - s.zMean : 0;
  return Math.max(up, down, 0);
}

function score(s: HddmAState): number {
  const up = s.minN > 0 && s.minN < s.zN ? ratio(s.zMean - s.minMean, eps(s.zN, s.minN, s.p.driftConfidence)) : 0;
  const down = s.p.twoSidedTest && s.maxN > 0 && s.maxN < s.zN ? ratio(s.maxMean - s.zMean, eps(s.zN, s.maxN, s.p.driftConfidence)) : 0;
  return Math.max(up, down, 0);
}

export function hddmAChange(s: HddmAState): ChangeEstimate {
  const up = s.side >= 0;
  const cutN = up ? s.minN : s.maxN;
  const cutMean = up ? s.minMean : s.maxMean;
  const rest = s.zN - cutN;
  return {
    startIndex: cutN,
    startT: up ? s.minT : s.maxT,
    direction: up ? 'up' : 'down',
    meanBefore: cutMean,
    meanAfter: rest > 0 ? (s.zMean * s.zN - cutMean * cutN) / rest : NaN,
  };
}

export const hddmADetector: Detector<HddmAParams, HddmAState> = {
  name: NAME,
  defaults: HDDM_A_DEFAULTS,
  describe: 'HDDM_A: Hoeffding-bound test of an error/failure rate (0/1 input) against its best prefix (River defaults)',
  params: hddmAParams,
  init: hddmAInit,
  step: hddmAStep,
  statistic,
  threshold: (s) => (s.minN > 0 && s.minN < s.zN ? eps(s.zN, s.minN, s.p.driftConfidence) : Infinity),
  score,
  change: hddmAChange,
  count: (s) => s.zN,
  warning: (s) => s.warning,
};
