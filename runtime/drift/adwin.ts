/**
 * ADWIN (adaptive windowing, Bifet & Gavaldà 2007), ported from River (online-ml/river,
 * river/drift/adwin.py + river/drift/adwin_c.pyx at b19b9cab061c9adc971fdcbba6e1580f39b3e4a8,
 * the version with clock / max_buckets / min_window_length / grace_period).
 *
 * The window is an exponential histogram: row r holds up to `maxBuckets` buckets of 2^r samples
 * (sum and variance each); when a row gets maxBuckets + 1 buckets its two oldest merge into one
 * bucket of the next row. So the state grows with log2(window length), never with the stream.
 * Every `clock` samples (once the window is longer than `gracePeriod`) every bucket boundary is
 * tried as a cut W0 | W1 (oldest first); when |mean(W0) − mean(W1)| > ε_cut with both parts at
 * least `minWindowLength` long, the oldest bucket is dropped and the scan restarts. A detector
 * that dropped anything on a sample flags a drift, and (latest River) starts afresh on the next
 * sample.
 *
 * Kept from River on purpose, because they decide which indices are flagged: the scan skips the
 * newest bucket of every row (`range(bucket.current_idx - 1)`), ε uses the variance of the whole
 * window, and `2 / 3` is a true division.
 *
 * Storage: flat typed arrays (rows × (maxBuckets + 1) slots) instead of River's deque of bucket
 * objects, plus the label `t` of each bucket's oldest sample, so the cut point can be dated.
 * Change estimate: on the first cut of a detecting pass, the bucket boundary with the largest
 * |mean(W0) − mean(W1)|·√(n0·n1/(n0+n1)) is taken as the change start.
 */
import { intParam, noUnknownKeys, numParam, paramObject, type ChangeEstimate, type Detector } from './detector.js';

export interface AdwinParams {
  /** Confidence δ of each cut test (River: 0.002). */
  delta: number;
  /** Check for a cut every `clock` samples (River: 32). */
  clock: number;
  /** Buckets of each size kept before two merge (River: 5). */
  maxBuckets: number;
  /** Shortest sub-window a cut may leave (River: 5). */
  minWindowLength: number;
  /** No check until the window is longer than this (River: 10). */
  gracePeriod: number;
}

export const ADWIN_DEFAULTS: Readonly<AdwinParams> = Object.freeze({
  delta: 0.002,
  clock: 32,
  maxBuckets: 5,
  minWindowLength: 5,
  gracePeriod: 10,
});

export interface AdwinState {
  readonly p: AdwinParams;
  drift: boolean;
  /** Slots per row = maxBuckets + 1. */
  readonly slots: number;
  /** Rows allocated (grows by doubling, rarely). */
  capRows: number;
  /** Rows in use (River's len(bucket_deque)); row 0 holds single samples, the newest. */
  nRows: number;
  /** Per row: buckets in use. Within a row slot 0 is the oldest. */
  cnt: Int32Array;
  tot: Float64Array;
  vr: Float64Array;
  /** Label `t` of the oldest sample of each bucket. */
  ts: Float64Array;
  width: number;
  total: number;
  variance: number;
  tick: number;
  nDetections: number;
  /** max |Δmean|/ε over the cuts tried in the last check (held between checks). */
  lastRatio: number;
  // change estimate of the last drift
  cutIndex: number;
  cutT: number;
  cutMeanBefore: number;
  cutMeanAfter: number;
}

const NAME = 'adwin';
const KEYS = ['delta', 'clock', 'maxBuckets', 'minWindowLength', 'gracePeriod'] as const;
const INITIAL_ROWS = 4;

export function adwinParams(raw?: unknown): AdwinParams {
  const o = paramObject(raw, NAME);
  noUnknownKeys(o, KEYS, NAME);
  const d = ADWIN_DEFAULTS;
  return {
    delta: numParam(o, 'delta', d.delta, NAME, (v) => v > 0 && v < 1, 'in (0, 1)'),
    clock: intParam(o, 'clock', d.clock, NAME, 1),
    maxBuckets: intParam(o, 'maxBuckets', d.maxBuckets, NAME, 2),
    minWindowLength: intParam(o, 'minWindowLength', d.minWindowLength, NAME, 1),
    gracePeriod: intParam(o, 'gracePeriod', d.gracePeriod, NAME, 0),
  };
}

export function adwinInit(params: Partial<AdwinParams> = {}): AdwinState {
  const p = adwinParams(params);
  const slots = p.maxBuckets + 1;
  const s: AdwinState = {
    p,
    drift: false,
    slots,
    capRows: INITIAL_ROWS,
    nRows: 1,
    cnt: new Int32Array(INITIAL_ROWS),
    tot: new Float64Array(INITIAL_ROWS * slots),
    vr: new Float64Array(INITIAL_ROWS * slots),
    ts: new Float64Array(INITIAL_ROWS * slots),
    width: 0,
    total: 0,
    variance: 0,
    tick: 0,
    nDetections: 0,
    lastRatio: 0,
    cutIndex: 0,
    cutT: NaN,
    cutMeanBefore: NaN,
    cutMeanAfter: NaN,
  };
  return s;
}

/** River's ADWIN._reset(): a fresh window (arrays are reused; n_detections restarts too). */
function reset(s: AdwinState): void {
  s.drift = false;
  s.nRows = 1;
  s.cnt.fill(0);
  s.width = 0;
  s.total = 0;
  s.variance = 0;
  s.tick = 0;
  s.lastRatio = 0;
}

function grow(s: AdwinState): void {
  const cap = s.capRows * 2;
  const n = cap * s.slots;
  const cnt = new Int32Array(cap);
  cnt.set(s.cnt);
  const tot = new Float64Array(n);
  tot.set(s.tot);
  const vr = new Float64Array(n);
  vr.set(s.vr);
  const ts = new Float64Array(n);
  ts.set(s.ts);
  s.capRows = cap;
  s.cnt = cnt;
  s.tot = tot;
  s.vr = vr;
  s.ts = ts;
}

/** Drop the `m` oldest buckets of a row (River's Bucket.compress). */
function shiftRow(s: AdwinState, row: number, m: number): void {
  const base = row * s.slots;
  const c = s.cnt[row];
  for (let i = m; i < c; i++) {
    s.tot[base + i - m] = s.tot[base + i];
    s.vr[base + i - m] = s.vr[base + i];
    s.ts[base + i - m] = s.ts[base + i];
  }
  s.cnt[row] = c - m;
}

function insertElement(s: AdwinState, value: number, t: number): void {
  const slots = s.slots;
  const c0 = s.cnt[0];
  s.tot[c0] = value;
  s.vr[c0] = 0;
  s.ts[c0] = t;
  s.cnt[0] = c0 + 1;

  s.width += 1;
  if (s.width > 1) {
    const w1 = s.width - 1;
    const d = value - s.total / w1;
    s.variance += (w1 * d * d) / s.width;
  }
  s.total += value;

  // compress: merge the two oldest buckets of a full row into the next row
  const full = s.p.maxBuckets + 1;
  for (let idx = 0; idx < s.nRows; idx++) {
    if (s.cnt[idx] !== full) break;
    if (idx + 1 >= s.nRows) {
      if (idx + 1 >= s.capRows) grow(s);
      s.cnt[idx + 1] = 0;
      s.nRows += 1;
    }
    const base = idx * slots;
    const size = 2 ** idx;
    const t0 = s.tot[base];
    const t1 = s.tot[base + 1];
    const mu1 = t0 / size;
    const mu2 = t1 / size;
    const temp = (size * size * (mu1 - mu2) * (mu1 - mu2)) / (size + size);
    const v12 = s.vr[base] + s.vr[base + 1] + temp;
    const nb = (idx + 1) * slots + s.cnt[idx + 1];
    s.tot[nb] = t0 + t1;
    s.vr[nb] = v12;
    s.ts[nb] = s.ts[base];
    s.cnt[idx + 1] += 1;
    shiftRow(s, idx, 2);
    if (s.cnt[idx + 1] <= s.p.maxBuckets) break;
  }
}

/** Drop the oldest bucket (River's _delete_element); returns its size. */
function deleteElement(s: AdwinState): number {
  const row = s.nRows - 1;
  const base = row * s.slots;
  const n = 2 ** row;
  const u = s.tot[base];
  const mu = u / n;
  const v = s.vr[base];
  s.width -= n;
  s.total -= u;
  const muWindow = s.total / s.width;
  s.variance -= v + (n * s.width * (mu - muWindow) * (mu - muWindow)) / (n + s.width);
  shiftRow(s, row, 1);
  if (s.cnt[row] === 0) s.nRows -= 1;
  return n;
}

/** ε_cut of River's _evaluate_cut. */
function epsilonCut(s: AdwinState, n0: number, n1: number): number {
  const mwl = s.p.minWindowLength;
  const deltaPrime = Math.log((2 * Math.log(s.width)) / s.p.delta);
  const mRecip = 1.0 / (n0 - mwl + 1) + 1.0 / (n1 - mwl + 1);
  return Math.sqrt(2 * mRecip * (s.variance / s.width) * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
}

/** Best change point of the current window: the boundary with the largest two-sample z. */
function estimateCut(s: AdwinState): void {
  const mwl = s.p.minWindowLength;
  let n0 = 0;
  let u0 = 0;
  let best = -1;
  for (let idx = s.nRows - 1; idx >= 0; idx--) {
    const size = 2 ** idx;
    const base = idx * s.slots;
    for (let k = 0; k < s.cnt[idx]; k++) {
      const n1 = s.width - n0;
      if (n0 >= mwl && n1 >= mwl) {
        const m0 = u0 / n0;
        const m1 = (s.total - u0) / n1;
        const z = Math.abs(m0 - m1) * Math.sqrt((n0 * n1) / (n0 + n1));
        if (z > best) {
          best = z;
          s.cutIndex = s.tick - n1;
          s.cutT = s.ts[base + k];
          s.cutMeanBefore = m0;
          s.cutMeanAfter = m1;
        }
      }
      n0 += size;
      u0 += s.tot[base + k];
    }
  }
}

function detectChange(s: AdwinState): boolean {
  let changed = false;
  s.tick += 1;
  if (s.tick % s.p.clock !== 0 || !(s.width > s.p.gracePeriod)) return false;
  const mwl = s.p.minWindowLength;
  let reduce = true;
  let first = true;
  while (reduce) {
    reduce = false;
    let exit = false;
    let n0 = 0;
    let n1 = s.width;
    let u0 = 0;
    let u1 = s.total;
    let maxRatio = 0;
    for (let idx = s.nRows - 1; idx >= 0; idx--) {
      if (exit) break;
      const size = 2 ** idx;
      const base = idx * s.slots;
      const kEnd = s.cnt[idx] - 1; // River: range(bucket.current_idx - 1)
      for (let k = 0; k < kEnd; k++) {
        const u2 = s.tot[base + k];
        n0 += size;
        n1 -= size;
        u0 += u2;
        u1 -= u2;
        if (idx === 0 && k === s.cnt[idx] - 1) {
          exit = true;
          break;
        }
        const deltaMean = u0 / n0 - u1 / n1;
        if (n1 >= mwl && n0 >= mwl) {
          const eps = epsilonCut(s, n0, n1);
          const adm = Math.abs(deltaMean);
          if (first) {
            const r = adm / eps;
            if (r > maxRatio) maxRatio = r;
          }
          if (adm > eps) {
            if (!changed) estimateCut(s);
            reduce = true;
            changed = true;
            if (s.width > 0) {
              n0 -= deleteElement(s);
              exit = true;
              break;
            }
          }
        }
      }
    }
    if (first) s.lastRatio = maxRatio;
    first = false;
  }
  if (changed) s.nDetections += 1;
  return changed;
}

/** One sample. Mutates `s`; returns true when this sample is flagged as a drift. */
export function adwinStep(s: AdwinState, x: number, t = 0): boolean {
  if (s.drift) reset(s);
  insertElement(s, x, t);
  s.drift = detectChange(s);
  return s.drift;
}

/** Number of buckets in use (bounded by maxBuckets · rows, rows ≈ log2(width / maxBuckets)). */
export function adwinBucketCount(s: AdwinState): number {
  let n = 0;
  for (let i = 0; i < s.nRows; i++) n += s.cnt[i];
  return n;
}

export function adwinChange(s: AdwinState): ChangeEstimate {
  return {
    startIndex: s.cutIndex,
    startT: s.cutT,
    direction: s.cutMeanAfter >= s.cutMeanBefore ? 'up' : 'down',
    meanBefore: s.cutMeanBefore,
    meanAfter: s.cutMeanAfter,
  };
}

export const adwinDetector: Detector<AdwinParams, AdwinState> = {
  name: NAME,
  defaults: ADWIN_DEFAULTS,
  describe: 'ADWIN: adaptive window cut where two sub-window means differ beyond a Hoeffding-type bound (River defaults)',
  params: adwinParams,
  init: adwinInit,
  step: adwinStep,
  statistic: (s) => s.lastRatio,
  threshold: () => 1,
  score: (s) => s.lastRatio,
  change: adwinChange,
  count: (s) => s.tick,
};
