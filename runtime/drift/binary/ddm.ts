/**
 * DDM (Drift Detection Method, Gama et al. 2004), ported from River (online-ml/river,
 * river/drift/binary/ddm.py, 7cb995639c9185b236a7d45696b85583a175268e). Input: a stream of
 * bits, 1 = error/failure (any non-zero value counts as 1 here). p = error rate so far,
 * s = √(p(1 − p)/n); once n > warmStart, (p_min, s_min) are taken where p + s was smallest, and
 *   warning when p + s > p_min + w·s_min,  drift when p + s > p_min + d·s_min.
 * Reset on the sample after a drift.
 *
 * Change start: the sample after p + s was last at its minimum; error rates before / after it.
 */
import { intParam, noUnknownKeys, numParam, paramObject, ratio, type ChangeEstimate, type Detector } from '../detector.js';

export interface DdmParams {
  /** Samples before testing (River: warm_start = 30). */
  warmStart: number;
  /** Warning level w, in s_min (River: 2). */
  warningThreshold: number;
  /** Drift level d, in s_min (River: 3). */
  driftThreshold: number;
}

export const DDM_DEFAULTS: Readonly<DdmParams> = Object.freeze({ warmStart: 30, warningThreshold: 2, driftThreshold: 3 });

export interface DdmState {
  readonly p: DdmParams;
  drift: boolean;
  warning: boolean;
  n: number;
  rate: number;
  s: number;
  pMin: number;
  sMin: number;
  psMin: number;
  minIdx: number;
  minT: number;
  pending: boolean;
  segSum: number;
  segN: number;
}

const NAME = 'ddm';
const KEYS = ['warmStart', 'warningThreshold', 'driftThreshold'] as const;

export function ddmParams(raw?: unknown): DdmParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = DDM_DEFAULTS;
  const p = {
    warmStart: intParam(o, 'warmStart', d.warmStart, NAME, 0),
    warningThreshold: numParam(o, 'warningThreshold', d.warningThreshold, NAME, (v) => v > 0, 'a number > 0'),
    driftThreshold: numParam(o, 'driftThreshold', d.driftThreshold, NAME, (v) => v > 0, 'a number > 0'),
  };
  return p;
}

export function ddmInit(params: Partial<DdmParams> = {}): DdmState {
  const s = { p: ddmParams(params) } as DdmState;
  reset(s);
  return s;
}

function reset(s: DdmState): void {
  s.drift = false;
  s.warning = false;
  s.n = 0;
  s.rate = 0;
  s.s = 0;
  s.pMin = Infinity;
  s.sMin = Infinity;
  s.psMin = Infinity;
  s.minIdx = 0;
  s.minT = NaN;
  s.pending = true;
  s.segSum = 0;
  s.segN = 0;
}

/** One bit. Mutates `s`; returns true when this sample is flagged as a drift. */
export function ddmStep(s: DdmState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  const bit = x !== 0 ? 1 : 0;
  s.n += 1;
  s.rate += (bit - s.rate) / s.n;
  const pi = s.rate;
  const si = Math.sqrt((pi * (1 - pi)) / s.n);
  s.s = si;
  if (s.n > p.warmStart) {
    if (pi + si <= s.psMin) {
      s.pMin = pi;
      s.sMin = si;
      s.psMin = s.pMin + s.sMin;
      s.minIdx = s.n;
      s.pending = true;
      s.segSum = 0;
      s.segN = 0;
    } else {
      if (s.pending) {
        s.minT = t;
        s.pending = false;
      }
      s.segSum += bit;
      s.segN += 1;
    }
    s.warning = pi + si > s.pMin + p.warningThreshold * s.sMin;
    if (pi + si > s.pMin + p.driftThreshold * s.sMin) {
      s.drift = true;
      s.warning = false;
    }
  }
  return s.drift;
}

export function ddmChange(s: DdmState): ChangeEstimate {
  return {
    startIndex: s.minIdx,
    startT: s.minT,
    direction: 'up',
    meanBefore: s.pMin,
    meanAfter: s.segN > 0 ? s.segSum / s.segN : NaN,
  };
}

export const ddmDetector: Detector<DdmParams, DdmState> = {
  name: NAME,
  defaults: DDM_DEFAULTS,
  describe: 'DDM: rise of an error/failure rate (0/1 input) beyond its best level plus d standard errors (River defaults)',
  params: ddmParams,
  init: ddmInit,
  step: ddmStep,
  statistic: (s) => s.rate + s.s,
  threshold: (s) => s.pMin + s.p.driftThreshold * s.sMin,
  score: (s) =>
    s.n > s.p.warmStart && Number.isFinite(s.pMin) ? Math.max(0, ratio(s.rate + s.s - s.pMin, s.p.driftThreshold * s.sMin)) : 0,
  change: ddmChange,
  count: (s) => s.n,
  warning: (s) => s.warning,
};
