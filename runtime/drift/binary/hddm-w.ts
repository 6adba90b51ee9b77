/**
 * HDDM_W (Hoeffding/McDiarmid-bound drift detection, weighted moving-average test; Frías-Blanco
 * et al. 2014), ported from River (online-ml/river, river/drift/binary/hddm_w.py,
 * 3aa815f94e287ce6c657d0c75f08bcbc5f885692, after MOA). Input: bits, 1 = error/failure.
 * Keeps EWMAs (weight λ) of the whole run and of the part after the cut point where the EWMA plus
 * its McDiarmid bound was lowest (highest for decreases), each with its independent-bound
 * condition ibc ← λ² + (1 − λ)²·ibc; drift when the difference exceeds √(ibc₁ + ibc₂)·… bound.
 * River's EWMean takes x as its value whenever its current value is exactly 0; kept.
 * Reset on the sample after a drift.
 *
 * Change start: the sample after the cut point; magnitude = EWMA after − EWMA at the cut.
 */
import { boolParam, noUnknownKeys, numParam, paramObject, ratio, type ChangeEstimate, type Detector } from '../detector.js';

export interface HddmWParams {
  /** River: drift_confidence = 0.001. */
  driftConfidence: number;
  /** River: warning_confidence = 0.005. */
  warningConfidence: number;
  /** Weight of the newest sample (River: lambda_val = 0.05). */
  lambda: number;
  /** Also watch for decreases (River: two_sided_test = False). */
  twoSidedTest: boolean;
}

export const HDDM_W_DEFAULTS: Readonly<HddmWParams> = Object.freeze({
  driftConfidence: 0.001,
  warningConfidence: 0.005,
  lambda: 0.05,
  twoSidedTest: false,
});

/**
 * The five SampleInfo records of River (total, s1/s2 for increases and decreases), flattened:
 * ewma, ibc, init flag per record. Index: 0 total, 1 s1Incr, 2 s2Incr, 3 s1Decr, 4 s2Decr.
 */
export interface HddmWState {
  readonly p: HddmWParams;
  drift: boolean;
  warning: boolean;
  n: number;
  ewma: Float64Array;
  ibc: Float64Array;
  init: Uint8Array;
  incrCut: number;
  decrCut: number;
  incrIdx: number;
  incrT: number;
  incrPending: boolean;
  decrIdx: number;
  decrT: number;
  decrPending: boolean;
  side: number;
}

const NAME = 'hddm-w';
const KEYS = ['driftConfidence', 'warningConfidence', 'lambda', 'twoSidedTest'] as const;
const TOTAL = 0;
const S1I = 1;
const S2I = 2;
const S1D = 3;
const S2D = 4;

export function hddmWParams(raw?: unknown): HddmWParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = HDDM_W_DEFAULTS;
  return {
    driftConfidence: numParam(o, 'driftConfidence', d.driftConfidence, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    warningConfidence: numParam(o, 'warningConfidence', d.warningConfidence, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    lambda: numParam(o, 'lambda', d.lambda, NAME, (v) => v > 0 && v <= 1, 'in (0, 1]'),
    twoSidedTest: boolParam(o, 'twoSidedTest', d.twoSidedTest, NAME),
  };
}

export function hddmWInit(params: Partial<HddmWParams> = {}): HddmWState {
  const s = { p: hddmWParams(params), ewma: new Float64Array(5), ibc: new Float64Array(5), init: new Uint8Array(5) } as HddmWState;
  reset(s);
  return s;
}

function fresh(s: HddmWState, i: number): void {
  s.ewma[i] = 0;
  s.ibc[i] = 1.0;
  s.init[i] = 0;
}

function copyTotal(s: HddmWState, i: number): void {
  s.ewma[i] = s.ewma[TOTAL];
  s.ibc[i] = s.ibc[TOTAL];
  s.init[i] = s.init[TOTAL];
}

function update(s: HddmWState, i: number, x: number): void {
  const l = s.p.lambda;
  const e = s.ewma[i];
  s.ewma[i] = e !== 0 ? l * x + (1 - l) * e : x; // River's EWMean
  s.init[i] = 1;
  s.ibc[i] = l * l + (1 - l) ** 2 * s.ibc[i];
}

function reset(s: HddmWState): void {
  s.drift = false;
  s.warning = false;
  s.n = 0;
  for (let i = 0; i < 5; i++) fresh(s, i);
  s.incrCut = Infinity;
  s.decrCut = -Infinity;
  s.incrIdx = 0;
  s.incrT = NaN;
  s.incrPending = true;
  s.decrIdx = 0;
  s.decrT = NaN;
  s.decrPending = true;
  s.side = 1;
}

function mcdiarmid(ibc: number, confidence: number): number {
  return Math.sqrt((ibc * Math.log(1 / confidence)) / 2);
}

/** River's _has_mean_changed(sample1, sample2): sample2.ewma − sample1.ewma > bound. */
function changed(s: HddmWState, a: number, b: number, confidence: number): boolean {
  if (!(s.init[a] && s.init[b])) return false;
  return s.ewma[b] - s.ewma[a] > mcdiarmid(s.ibc[a] + s.ibc[b], confidence);
}

/** One bit. Mutates `s`; returns true when this sample is flagged as a drift. */
export function hddmWStep(s: HddmWState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  const bit = x !== 0 ? 1 : 0;
  s.n += 1;
  if (s.incrPending && s.n > s.incrIdx) {
    s.incrT = t;
    s.incrPending = false;
  }
  if (s.decrPending && s.n > s.decrIdx) {
    s.decrT = t;
    s.decrPending = false;
  }
  update(s, TOTAL, bit);

  // _update_incr_stats
  let e = mcdiarmid(s.ibc[TOTAL], p.driftConfidence);
  if (s.ewma[TOTAL] + e < s.incrCut) {
    s.incrCut = s.ewma[TOTAL] + e;
    copyTotal(s, S1I);
    fresh(s, S2I);
    s.incrIdx = s.n;
    s.incrPending = true;
  } else update(s, S2I, bit);
  if (changed(s, S1I, S2I, p.driftConfidence)) {
    s.warning = false;
    s.drift = true;
    s.side = 1;
  } else if (changed(s, S1I, S2I, p.warningConfidence)) {
    s.warning = true;
    s.drift = false;
  } else {
    s.warning = false;
    s.drift = false;
  }

  // _update_decr_stats
  e = mcdiarmid(s.ibc[TOTAL], p.driftConfidence);
  if (s.ewma[TOTAL] - e > s.decrCut) {
    s.decrCut = s.ewma[TOTAL] - e;
    copyTotal(s, S1D);
    fresh(s, S2D);
    s.decrIdx = s.n;
    s.decrPending = true;
  } else update(s, S2D, bit);
  if (p.twoSidedTest) {
    if (changed(s, S2D, S1D, p.driftConfidence)) {
      if (!s.drift) s.side = -1;
      s.drift = true;
    } else if (changed(s, S2D, S1D, p.warningConfidence)) s.warning = true;
  }
  return s.drift;
}

function bound(s: HddmWState, a: number, b: number): number {
  return mcdiarmid(s.ibc[a] + s.ibc[b], s.p.driftConfidence);
}

function score(s: HddmWState): number {
  const up = s.init[S1I] && s.init[S2I] ? ratio(s.ewma[S2I] - s.ewma[S1I], bound(s, S1I, S2I)) : 0;
  const down = s.p.twoSidedTest && s.init[S1D] && s.init[S2D] ? ratio(s.ewma[S1D] - s.ewma[S2D], bound(s, S1D, S2D)) : 0;
  return Math.max(up, down, 0);
}

export function hddmWChange(s: HddmWState): ChangeEstimate {
  const up = s.side >= 0;
  return {
    startIndex: up ? s.incrIdx : s.decrIdx,
    startT: up ? s.incrT : s.decrT,
    direction: up ? 'up' : 'down',
    meanBefore: up ? s.ewma[S1I] : s.ewma[S1D],
    meanAfter: up ? s.ewma[S2I] : s.ewma[S2D],
  };
}

export const hddmWDetector: Detector<HddmWParams, HddmWState> = {
  name: NAME,
  defaults: HDDM_W_DEFAULTS,
  describe: 'HDDM_W: McDiarmid-bound test of EWMAs of an error/failure rate (0/1 input) around a cut point (River defaults)',
  params: hddmWParams,
  init: hddmWInit,
  step: hddmWStep,
  statistic: (s) => Math.max(0, s.ewma[S2I] - s.ewma[S1I]),
  threshold: (s) => bound(s, S1I, S2I),
  score,
  change: hddmWChange,
  count: (s) => s.n,
  warning: (s) => s.warning,
};
