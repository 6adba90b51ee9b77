/**
 * Innovation-based adaptive estimation of the noise levels (covariance matching over a sliding
 * window of N accepted good readings; Mehra 1972, Myers & Tapley 1976, Mohamed & Schwarz 1999):
 *
 *   R̂ = mean_N(ν²) − mean_N(H·P⁻·Hᵀ)           measurement variance (per sensor)
 *   Q̂ = mean_N(‖K‖²·ν²)                        process noise per step; applied as a scale factor
 *   qScale = Q̂ / mean_N(tr Q_step)             on the model's own Q, so its shape (e.g. the trend
 *                                               model's dt³/3, dt²/2, dt) is kept
 *
 * Both are clamped to bounds ([rMin, rMax], [qScaleMin, qScaleMax]) so a burst of outliers or a
 * silent sensor cannot drive them to absurd values, and nothing changes until the window is full.
 * For a steady scalar filter E[ν²] = P⁻ + R and E[K²ν²] = Q exactly, so both estimates are unbiased
 * when the other noise is right. Modes: `R` (sensor noise unknown, process noise trusted), `Q`
 * (sensor noise known from its datasheet, process noise unknown) and `RQ`. Adapting both at once
 * trades one against the other: innovation variances alone cannot tell a noisier sensor from a
 * livelier process, and in `RQ` excess innovation mostly ends up in R. Prefer `R` or `Q`.
 */
export interface NoiseWindow {
  readonly window: number;
  a: Float64Array;
  b: Float64Array;
  i: number;
  n: number;
  sumA: number;
  sumB: number;
}

export function noiseWindow(window: number): NoiseWindow {
  return { window, a: new Float64Array(window), b: new Float64Array(window), i: 0, n: 0, sumA: 0, sumB: 0 };
}

export function noiseReset(w: NoiseWindow): void {
  w.a.fill(0);
  w.b.fill(0);
  w.i = w.n = 0;
  w.sumA = w.sumB = 0;
}

/** Add one pair (a, b); recomputes the sums once per window to shed rounding. */
export function noisePush(w: NoiseWindow, a: number, b: number): void {
  const i = w.i;
  w.sumA += a - w.a[i];
  w.sumB += b - w.b[i];
  w.a[i] = a;
  w.b[i] = b;
  w.i = i + 1 === w.window ? 0 : i + 1;
  if (w.n < w.window) w.n++;
  else if (w.i === 0) {
    let sa = 0;
    let sb = 0;
    for (let j = 0; j < w.window; j++) {
      sa += w.a[j];
      sb += w.b[j];
    }
    w.sumA = sa;
    w.sumB = sb;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Feed one good update (innovation ν, prior H·P⁻·Hᵀ) and return the new R: the clamped covariance
 * match once the window is full, `r` unchanged before.
 */
export function adaptR(w: NoiseWindow, nu: number, hph: number, r: number, rMin: number, rMax: number): number {
  noisePush(w, nu * nu, hph);
  if (w.n < w.window) return r;
  return clamp((w.sumA - w.sumB) / w.window, rMin, rMax);
}

/**
 * Feed one good update (‖K‖²·ν², unscaled tr Q of the step) and return the new process-noise
 * scale; `qScale` unchanged before the window is full or when the model has no process noise.
 */
export function adaptQScale(w: NoiseWindow, gainSqNu2: number, qStep: number, qScale: number, lo: number, hi: number): number {
  noisePush(w, gainSqNu2, qStep);
  if (w.n < w.window || !(w.sumB > 0)) return qScale;
  return clamp(w.sumA / w.sumB, lo, hi);
}
