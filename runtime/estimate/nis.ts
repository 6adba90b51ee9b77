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

/** Standard normal quantile for p in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must lie in (0, 1): ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** χ² quantile with k degrees of freedom (Wilson–Hilferty; within 1 % for k ≥ 3). */
export function chi2Quantile(p: number, k: number): number {
  const z = normalQuantile(p);
  const h = 2 / (9 * k);
  return k * Math.max(0, 1 - h + z * Math.sqrt(h)) ** 3;
}

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
