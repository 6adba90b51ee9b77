/**
 * Hotelling's T² on the retained principal components of a PCA model (pca.ts):
 *   T² = Σ_{i≤k} t_i² / λ_i,  t = P_kᵀ z (z = the standardised row).
 *
 * Control limit for a new observation (Phase II, mean and covariance estimated from n reference rows,
 * k components; Tracy, Young & Mason 1992; MacGregor & Kourti 1995):
 *   UCL = k (n − 1)(n + 1) / (n (n − k)) · F_{1−α}(k, n − k)
 * where F_{1−α} is the upper-α quantile of the F distribution. The F quantile is computed here from
 * the regularised incomplete beta function (Lentz continued fraction, Lanczos log-gamma), inverted
 * by bisection on the beta variable, which is bounded in (0, 1) and so always converges.
 *
 * Per-tag contributions (Kourti & MacGregor 1996): c_j = z_j · Σ_i p_ji t_i / λ_i; they sum to T²
 * (a single one can be negative). They say which tags push the row along the modelled directions.
 */
import { TwinError } from '../model/errors.js';
import type { PcaModel } from './pca.js';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x); // reflection
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of the F(d1, d2) distribution. */
export function fCdf(x: number, d1: number, d2: number): number {
  if (x <= 0) return 0;
  return regularizedBeta((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
}

/** Quantile of F(d1, d2): the x with fCdf(x) = prob (0 < prob < 1). */
export function fQuantile(prob: number, d1: number, d2: number): number {
  if (!(prob > 0 && prob < 1)) throw new TwinError('BAD_CONFIG', `probability must be in (0, 1), got ${prob}`);
  if (!(d1 > 0 && d2 > 0)) throw new TwinError('MODEL', `F degrees of freedom must be positive, got ${d1}, ${d2}`);
  // Solve I_y(d1/2, d2/2) = prob for y in (0, 1), then map back: x = d2 y / (d1 (1 − y)).
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-16; i++) {
    const mid = 0.5 * (lo + hi);
    if (regularizedBeta(mid, d1 / 2, d2 / 2) < prob) lo = mid;
    else hi = mid;
  }
  const y = 0.5 * (lo + hi);
  return (d2 * y) / (d1 * (1 - y));
}

/** Phase-II T² upper control limit for k components fitted on n rows at false-alarm rate alpha. */
export function t2Limit(k: number, n: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new TwinError('BAD_CONFIG', `alpha must be in (0, 1), got ${alpha}`);
  if (!(n > k)) throw new TwinError('MODEL', `T² limit needs more reference rows (${n}) than components (${k})`);
  return ((k * (n - 1) * (n + 1)) / (n * (n - k))) * fQuantile(1 - alpha, k, n - k);
}

/** T² of a standardised row z (length p) given its scores t = P_kᵀ z. */
export function t2FromScores(m: PcaModel, t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < m.k; i++) s += (t[i] * t[i]) / m.eigenvalues[i];
  return s;
}

/** Per-tag T² contributions (sum = T²), written into `out`. */
export function t2Contributions(m: PcaModel, z: ArrayLike<number>, t: ArrayLike<number>, out: Float64Array = new Float64Array(m.tags.length)): Float64Array {
  const p = m.tags.length;
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < m.k; i++) s += (m.loadings[j * p + i] * t[i]) / m.eigenvalues[i];
    out[j] = z[j] * s;
  }
  return out;
}
