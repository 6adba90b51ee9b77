/**
 * EDDM (Early Drift Detection Method, Baena-García et al. 2006), ported from River
 * (online-ml/river, river/drift/binary/eddm.py, 70cad9e796184ed597f8469e9ba1880fca352f4f).
 * Input: bits, 1 = error/failure (only exactly 1 counts, as in River). Watches the distance
 * between consecutive errors: p' = its mean, s' = its standard deviation (stats.Var, ddof 1);
 * (p' + 2s') is tracked at its maximum and, once more than warmStart samples and errors were
 * seen, level = (p' + 2s') / max is compared: < beta → drift, < alpha → warning.
 * Reset on the sample after a drift.
 *
 * Change start: the sample after (p' + 2s') was last at its maximum; error rates before/after.
 */
import { intParam, noUnknownKeys, numParam, paramObject, type ChangeEstimate, type Detector } from '../detector.js';
import { TwinError } from '../../model/errors.js';

export interface EddmParams {
  /** Samples and errors before testing (River: warm_start = 30). */
  warmStart: number;
  /** Warning level (River: 0.95). */
  alpha: number;
  /** Drift level (River: 0.9); must not exceed alpha. */
  beta: number;
}

export const EDDM_DEFAULTS: Readonly<EddmParams> = Object.freeze({ warmStart: 30, alpha: 0.95, beta: 0.9 });

export interface EddmState {
  readonly p: EddmParams;
  drift: boolean;
  warning: boolean;
  n: number;
  lastError: number;
  nErrors: number;
  dMean: number;
  dVar: number;
  p2sMax: number;
  level: number;
  maxIdx: number;
  maxT: number;
  maxErrors: number;
  pending: boolean;
}

const NAME = 'eddm';
const KEYS = ['warmStart', 'alpha', 'beta'] as const;

export function eddmParams(raw?: unknown): EddmParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = EDDM_DEFAULTS;
  const p = {
    warmStart: intParam(o, 'warmStart', d.warmStart, NAME, 0),
    alpha: numParam(o, 'alpha', d.alpha, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    beta: numParam(o, 'beta', d.beta, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
  };
  if (p.alpha < p.beta) throw new TwinError('BAD_CONFIG', `${NAME}: alpha must be ≥ beta (got alpha ${p.alpha}, beta ${p.beta})`);
  return p;
}

export function eddmInit(params: Partial<EddmParams> = {}): EddmState {
  const s = { p: eddmParams(params) } as EddmState;
  reset(s);
  return s;
}

function reset(s: EddmState): void {
  s.drift = false;
  s.warning = false;
  s.n = 0;
  s.lastError = 0;
  s.nErrors = 0;
  s.dMean = 0;
  s.dVar = 0;
  s.p2sMax = -1;
  s.level = 1;
  s.maxIdx = 0;
  s.maxT = NaN;
  s.maxErrors = 0;
  s.pending = true;
}

/** One bit. Mutates `s`; returns true when this sample is flagged as a drift. */
export function eddmStep(s: EddmState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  const p = s.p;
  s.n += 1;
  if (s.pending && s.n > s.maxIdx) {
    s.maxT = t;
    s.pending = false;
  }
  if (x === 1) {
    s.nErrors += 1;
    // stats.Var (ddof 1) of the distance between errors
    const dist = s.n - s.lastError;
    const old = s.dMean;
    s.dMean += (dist - s.dMean) / s.nErrors;
    if (s.nErrors > 1) s.dVar += ((dist - old) * (dist - s.dMean) - s.dVar) / (s.nErrors - 1);
    if (s.n > p.warmStart) {
      const p2s = s.dMean + 2 * Math.sqrt(s.dVar);
      if (p2s > s.p2sMax) {
        s.p2sMax = p2s;
        s.level = 1;
        s.maxIdx = s.n;
        s.maxErrors = s.nErrors;
        s.pending = true;
      } else if (s.nErrors > p.warmStart) {
        s.level = p2s / s.p2sMax;
        if (s.level < p.beta) s.drift = true;
        else if (s.level < p.alpha) s.warning = true;
        else s.warning = false;
      }
    }
    s.lastError = s.n;
  }
  return s.drift;
}

export function eddmChange(s: EddmState): ChangeEstimate {
  const after = s.n - s.maxIdx;
  return {
    startIndex: s.maxIdx,
    startT: s.maxT,
    direction: 'up',
    meanBefore: s.maxIdx > 0 ? s.maxErrors / s.maxIdx : NaN,
    meanAfter: after > 0 ? (s.nErrors - s.maxErrors) / after : NaN,
  };
}

export const eddmDetector: Detector<EddmParams, EddmState> = {
  name: NAME,
  defaults: EDDM_DEFAULTS,
  describe: 'EDDM: shrinking distance between errors/failures (0/1 input), for gradual rises of an error rate (River defaults)',
  params: eddmParams,
  init: eddmInit,
  step: eddmStep,
  statistic: (s) => 1 - s.level,
  threshold: (s) => 1 - s.p.beta,
  score: (s) => Math.max(0, (1 - s.level) / (1 - s.p.beta)),
  change: eddmChange,
  count: (s) => s.n,
  warning: (s) => s.warning,
};
