/**
 * EWMA control chart, ported from River (online-ml/river, river/drift/ewma.py, snapshot
 * 2420eb58f9b6fcd8d6b10e7737c61f50cb091671). Per sample:
 *   Z ← x on the first sample, then α·x + (1 − α)·Z
 *   mean ← running mean (stats.Mean);  v ← stats.EWVar(α) = EWMean(x²) − EWMean(x)²
 *   bound = L · √max(v, 0) · √(α/(2 − α) · (1 − (1 − α)^(2n)))
 * and from `minInstances` on a drift is flagged when Z − mean (or mean − Z, per mode) > bound.
 * River's EWMean (Rust `RsEWMean`, same as the Python one) takes x as its value whenever its
 * current value is exactly 0; kept. Reset on the sample after a drift.
 *
 * One departure from River, on purpose: a deviation within floating-point rounding of the levels
 * (|Z − mean| ≤ 1e-12·max(|Z|, |mean|)) counts as zero. On a constant stream River's bound is 0
 * and rounding alone (Z and the mean computed differently) fires an alarm every few dozen samples
 * for some constants (−0.3, say); a stuck tag must not look like a process change. No effect on
 * real deviations (River's cross-check indices are unchanged).
 *
 * Change start: the sample at which Z − mean last took the flagged sign; magnitude = mean since
 * then − mean before.
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

export interface EwmaParams {
  /** Weight of the newest sample in Z and in the variance (River: 0.1). */
  alpha: number;
  /** Control-limit multiplier L on the EWMA standard error (River: 4). */
  threshold: number;
  /** Warm-up samples before testing (River: 30). */
  minInstances: number;
  mode: DriftMode;
}

export const EWMA_DEFAULTS: Readonly<EwmaParams> = Object.freeze({
  alpha: 0.1,
  threshold: 4,
  minInstances: 30,
  mode: 'both',
});

export interface EwmaState {
  readonly p: EwmaParams;
  drift: boolean;
  n: number;
  z: number;
  mean: number;
  ewMean: number;
  ewSq: number;
  /** Last computed deviation Z − mean and bound (0 during warm-up). */
  dev: number;
  bound: number;
  // segment since Z − mean last changed sign
  segSign: number;
  segIdx: number;
  segT: number;
  segSum: number;
  segN: number;
}

const NAME = 'ewma';
/** Relative size of a deviation that is only floating-point rounding (see file comment). */
const ROUNDING = 1e-12;
const KEYS = ['alpha', 'threshold', 'minInstances', 'mode'] as const;

export function ewmaParams(raw?: unknown): EwmaParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = EWMA_DEFAULTS;
  return {
    alpha: numParam(o, 'alpha', d.alpha, NAME, (v) => v > 0 && v <= 1, 'in (0, 1]'),
    threshold: numParam(o, 'threshold', d.threshold, NAME, (v) => v > 0, 'a number > 0'),
    minInstances: intParam(o, 'minInstances', d.minInstances, NAME, 1),
    mode: modeParam(o, d.mode, NAME),
  };
}

export function ewmaInit(params: Partial<EwmaParams> = {}): EwmaState {
  const s = { p: ewmaParams(params) } as EwmaState;
  reset(s);
  return s;
}

function reset(s: EwmaState): void {
  s.drift = false;
  s.n = 0;
  s.z = 0;
  s.mean = 0;
  s.ewMean = 0;
  s.ewSq = 0;
  s.dev = 0;
  s.bound = 0;
  s.segSign = 0;
  s.segIdx = 0;
  s.segT = NaN;
  s.segSum = 0;
  s.segN = 0;
}

/** One sample. Mutates `s`; returns true when this sample is flagged as a drift. */
export function ewmaStep(s: EwmaState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  const a = p.alpha;
  s.n += 1;
  s.z = s.n === 1 ? x : a * x + (1 - a) * s.z;
  s.mean += (x - s.mean) / s.n;
  s.ewMean = s.ewMean !== 0 ? a * x + (1 - a) * s.ewMean : x;
  const x2 = x * x;
  s.ewSq = s.ewSq !== 0 ? a * x2 + (1 - a) * s.ewSq : x2;

  let dev = s.z - s.mean;
  if (Math.abs(dev) <= ROUNDING * Math.max(Math.abs(s.z), Math.abs(s.mean))) dev = 0;
  const sign = dev > 0 ? 1 : dev < 0 ? -1 : 0;
  if (sign !== s.segSign) {
    s.segSign = sign;
    s.segIdx = s.n - 1;
    s.segT = t;
    s.segSum = 0;
    s.segN = 0;
  }
  s.segSum += x;
  s.segN += 1;

  if (s.n < p.minInstances) return false;
  const v = s.ewSq - s.ewMean * s.ewMean;
  const sigma = Math.sqrt(v > 0 ? v : 0);
  const factor = (a / (2 - a)) * (1 - Math.pow(1 - a, 2 * s.n));
  s.bound = p.threshold * sigma * Math.sqrt(factor);
  s.dev = dev;
  s.drift = (p.mode !== 'down' && dev > s.bound) || (p.mode !== 'up' && -dev > s.bound);
  return s.drift;
}

export function ewmaStatistic(s: EwmaState): number {
  const m = s.p.mode;
  return m === 'up' ? Math.max(0, s.dev) : m === 'down' ? Math.max(0, -s.dev) : Math.abs(s.dev);
}

export function ewmaChange(s: EwmaState): ChangeEstimate {
  const before = s.n - s.segN;
  return {
    startIndex: s.segIdx,
    startT: s.segT,
    direction: s.dev >= 0 ? 'up' : 'down',
    meanAfter: s.segN > 0 ? s.segSum / s.segN : NaN,
    meanBefore: before > 0 ? (s.mean * s.n - s.segSum) / before : NaN,
  };
}

export const ewmaDetector: Detector<EwmaParams, EwmaState> = {
  name: NAME,
  defaults: EWMA_DEFAULTS,
  describe: 'EWMA chart: exponentially weighted mean against the running mean with EWMA limits (River defaults)',
  params: ewmaParams,
  init: ewmaInit,
  step: ewmaStep,
  statistic: ewmaStatistic,
  threshold: (s) => s.bound,
  score: (s) => (s.n < s.p.minInstances ? 0 : ratio(ewmaStatistic(s), s.bound)),
  change: ewmaChange,
  count: (s) => s.n,
};
