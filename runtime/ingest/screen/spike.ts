/**
 * Spike check, a Hampel filter on a trailing window: x is a spike when
 *   |x − median(W)| > k · 1.4826 · MAD(W)   and   |x − median(W)| > spikeMinDelta
 * where W is the last `spikeWindow` values before x (1.4826·MAD estimates σ for Gaussian noise,
 * so k = 3 is a "3σ" rule that one outlier cannot inflate). Nothing is judged until W is full.
 * A spike still enters W: a real level shift is flagged for about half a window and then
 * becomes the new normal, instead of being flagged forever.
 *
 * Memory is fixed per tag: a ring buffer (arrival order) and the same values kept sorted. Each
 * step replaces the oldest value in the sorted copy by one insertion-sort pass, so median and MAD
 * cost O(w) with no allocation.
 */
import type { Reading } from '../../model/reading.js';
import { flag, type StepResult } from './flag.js';

export interface SpikeConfig {
  /** Window length in readings; 0 = off. */
  spikeWindow: number;
  /** Threshold in robust standard deviations (3 is the usual choice). */
  spikeK: number;
  /**
   * Smallest deviation that can be a spike, engineering units. On a quantised or noise-free
   * signal MAD is 0 and every change would be a spike; set this to the sensor's resolution.
   */
  spikeMinDelta: number;
}

export interface SpikeState {
  /** Values in arrival order; `head` is the oldest once the ring is full. */
  ring: Float64Array;
  /** The same values, ascending (first `n` slots used). */
  sorted: Float64Array;
  n: number;
  head: number;
}

export const SPIKE = flag('spike', 'spike');

/** 1 / Φ⁻¹(3/4): makes MAD a consistent estimator of σ under Gaussian noise. */
export const MAD_TO_SIGMA = 1.4826;

export function spikeInit(c: SpikeConfig): SpikeState {
  const w = Math.max(1, c.spikeWindow | 0);
  return { ring: new Float64Array(w), sorted: new Float64Array(w), n: 0, head: 0 };
}

/** Median of sorted[0..n). */
export function sortedMedian(s: Float64Array, n: number): number {
  const m = n >> 1;
  return n & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median of |s[i] − med| over sorted[0..n): the deviations left of the middle grow leftwards and
 * those right of it grow rightwards, so merging the two runs finds the median in O(n/2).
 */
export function sortedMad(s: Float64Array, n: number, med: number): number {
  const m = n >> 1;
  let i = m - 1; // left run, walking down
  let j = m; // right run, walking up
  const want = n & 1 ? m : m - 1; // index of the (lower) middle deviation
  let prev = 0;
  for (let k = 0; k <= want + (n & 1 ? 0 : 1); k++) {
    const dl = i >= 0 ? med - s[i] : Infinity;
    const dr = j < n ? s[j] - med : Infinity;
    let d: number;
    if (dl <= dr) {
      d = dl;
      i--;
    } else {
      d = dr;
      j++;
    }
    if (k === want) {
      if (n & 1) return d;
      prev = d;
    } else if (k === want + 1) return (prev + d) / 2;
  }
  return prev;
}

/** Put `x` into sorted[0..n) (one slot free at the end). */
function insertSorted(s: Float64Array, n: number, x: number): void {
  let i = n;
  while (i > 0 && s[i - 1] > x) {
    s[i] = s[i - 1];
    i--;
  }
  s[i] = x;
}

/** Replace one occurrence of `old` in the full sorted array by `x`, keeping it sorted. */
function replaceSorted(s: Float64Array, n: number, old: number, x: number): void {
  // Binary search for `old` (it is there: it came from the ring).
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid] < old) lo = mid + 1;
    else hi = mid;
  }
  let i = lo;
  if (x > old) {
    while (i + 1 < n && s[i + 1] < x) {
      s[i] = s[i + 1];
      i++;
    }
  } else {
    while (i > 0 && s[i - 1] > x) {
      s[i] = s[i - 1];
      i--;
    }
  }
  s[i] = x;
}

export function spikeStep(s: SpikeState, r: Reading, c: SpikeConfig): StepResult<SpikeState> {
  const x = r.value;
  const w = s.ring.length;
  let spike = false;
  if (s.n === w) {
    const med = sortedMedian(s.sorted, w);
    const dev = Math.abs(x - med);
    spike = dev > c.spikeMinDelta && dev > c.spikeK * MAD_TO_SIGMA * sortedMad(s.sorted, w, med);
    const old = s.ring[s.head];
    s.ring[s.head] = x;
    s.head = s.head + 1 === w ? 0 : s.head + 1;
    replaceSorted(s.sorted, w, old, x);
  } else {
    insertSorted(s.sorted, s.n, x);
    s.ring[s.n] = x;
    s.n++;
  }
  return spike ? { state: s, flag: SPIKE } : { state: s };
}
