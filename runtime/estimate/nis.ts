/**
 * Consistency check of a filter: the windowed mean of the normalised innovation squared
 * NIS = ν²/S. When the model and its noise levels fit the data, each NIS is χ²(1) and the sum of
 * N of them is χ²(N), so the mean stays below χ²_{1−α}(N)/N with probability 1 − α. A mean above
 * that bound means the innovations are larger than the filter believes (an unmodelled jump or
 * ramp, noise larger than configured): the estimate's variance is too small to be trusted and
 * the step marks it `uncertain` with reason `model misfit (NIS …)`. Nothing is judged until the
 * window is full. Only the upper tail is used: innovations smaller than expected (noise set too
 * high) make the reported variance conservative, which is honest, not misleading.
 */

import { chi2Quantile } from '../stats/index.js';

export interface NisTracker {
  readonly window: number;
  /** Upper bound of the mean NIS over a full window. */
  readonly upper: number;
  ring: Float64Array;
  i: number;
  n: number;
  sum: number;
}

/** @param confidence one-sided probability that a fitting model stays under the bound (e.g. 0.99). */
export function nisInit(window: number, confidence: number): NisTracker {
  return { window, upper: chi2Quantile(confidence, window) / window, ring: new Float64Array(window), i: 0, n: 0, sum: 0 };
}

export function nisReset(t: NisTracker): void {
  t.ring.fill(0);
  t.i = 0;
  t.n = 0;
  t.sum = 0;
}

export function nisPush(t: NisTracker, nis: number): void {
  const old = t.ring[t.i];
  t.ring[t.i] = nis;
  t.i = t.i + 1 === t.window ? 0 : t.i + 1;
  if (t.n < t.window) {
    t.n++;
    t.sum += nis;
  } else {
    t.sum += nis - old;
    if (t.i === 0) {
      // Once per window: recompute, so rounding in the running sum cannot accumulate.
      let s = 0;
      for (let j = 0; j < t.window; j++) s += t.ring[j];
      t.sum = s;
    }
  }
}

/** Windowed mean NIS (NaN before the window is full). */
export function nisMean(t: NisTracker): number {
  return t.n === t.window ? t.sum / t.window : NaN;
}

/** True when a full window's mean NIS exceeds the χ² bound. */
export function nisMisfit(t: NisTracker): boolean {
  return t.n === t.window && t.sum / t.window > t.upper;
}

/** The quality reason for a misfit, e.g. `model misfit (NIS 4.12 > 1.93 over 20)`. */
export function nisReason(t: NisTracker): string {
  return `model misfit (NIS ${(t.sum / t.window).toFixed(2)} > ${t.upper.toFixed(2)} over ${t.window})`;
}
