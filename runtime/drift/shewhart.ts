/**
 * Shewhart individuals chart, ported from River (online-ml/river, river/drift/shewhart.py,
 * snapshot 5c08caac75e9659a96fc56ccb9b14ddd9dca9982). The centre line μ and σ (stats.Mean,
 * stats.Var with ddof = 1) are frozen on sample `minInstances`; from that sample on, a drift is
 * flagged when x − μ (or μ − x, per mode) > k·σ. No accumulated evidence: each sample is judged
 * alone. Reset on the sample after a drift.
 *
 * Change start: the flagged sample itself; magnitude = x − μ.
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

export interface ShewhartParams {
  /** Limit width in reference standard deviations (River: 3). */
  k: number;
  /** Warm-up samples (River: 30). */
  minInstances: number;
  mode: DriftMode;
}

export const SHEWHART_DEFAULTS: Readonly<ShewhartParams> = Object.freeze({ k: 3, minInstances: 30, mode: 'both' });

export interface ShewhartState {
  readonly p: ShewhartParams;
  drift: boolean;
  n: number;
  mean: number;
  variance: number;
  center: number;
  sigma: number;
  /** Last deviation x − μ (0 during warm-up) and its label. */
  dev: number;
  lastX: number;
  lastT: number;
}

const NAME = 'shewhart';
const KEYS = ['k', 'minInstances', 'mode'] as const;

export function shewhartParams(raw?: unknown): ShewhartParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = SHEWHART_DEFAULTS;
  return {
    k: numParam(o, 'k', d.k, NAME, (v) => v > 0, 'a number > 0'),
    minInstances: intParam(o, 'minInstances', d.minInstances, NAME, 1),
    mode: modeParam(o, d.mode, NAME),
  };
}

export function shewhartInit(params: Partial<ShewhartParams> = {}): ShewhartState {
  const s = { p: shewhartParams(params) } as ShewhartState;
  reset(s);
  return s;
}

function reset(s: ShewhartState): void {
  s.drift = false;
  s.n = 0;
  s.mean = 0;
  s.variance = 0;
  s.center = 0;
  s.sigma = 0;
  s.dev = 0;
  s.lastX = NaN;
  s.lastT = NaN;
}

/** One sample. Mutates `s`; returns true when this sample is flagged as a drift. */
export function shewhartStep(s: ShewhartState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  s.n += 1;
  s.lastX = x;
  s.lastT = t;
  if (s.n <= p.minInstances) {
    const old = s.mean;
    s.mean += (x - s.mean) / s.n;
    if (s.n > 1) s.variance += ((x - old) * (x - s.mean) - s.variance) / (s.n - 1);
    if (s.n < p.minInstances) return false;
    s.center = s.mean;
    s.sigma = Math.sqrt(s.variance > 0 ? s.variance : 0);
  }
  const dev = x - s.center;
  const limit = p.k * s.sigma;
  s.dev = dev;
  s.drift = (p.mode !== 'down' && dev > limit) || (p.mode !== 'up' && -dev > limit);
  return s.drift;
}

export function shewhartStatistic(s: ShewhartState): number {
  const m = s.p.mode;
  return m === 'up' ? Math.max(0, s.dev) : m === 'down' ? Math.max(0, -s.dev) : Math.abs(s.dev);
}

export function shewhartChange(s: ShewhartState): ChangeEstimate {
  return {
    startIndex: s.n - 1,
    startT: s.lastT,
    direction: s.dev >= 0 ? 'up' : 'down',
    meanBefore: s.center,
    meanAfter: s.lastX,
  };
}

export const shewhartDetector: Detector<ShewhartParams, ShewhartState> = {
  name: NAME,
  defaults: SHEWHART_DEFAULTS,
  describe: 'Shewhart chart: each sample against frozen ±kσ limits (River defaults), for large abrupt shifts',
  params: shewhartParams,
  init: shewhartInit,
  step: shewhartStep,
  statistic: shewhartStatistic,
  threshold: (s) => s.p.k * s.sigma,
  score: (s) => (s.n < s.p.minInstances ? 0 : ratio(shewhartStatistic(s), s.p.k * s.sigma)),
  change: shewhartChange,
  count: (s) => s.n,
};
