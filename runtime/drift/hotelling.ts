/**
 * Hotelling's T² on the retained principal components of a PCA model (pca.ts):
 *   T² = Σ_{i≤k} t_i² / λ_i,  t = P_kᵀ z (z = the standardised row).
 *
 * Control limit for a new observation (Phase II, mean and covariance estimated from n reference rows,
 * k components; Tracy, Young & Mason 1992; MacGregor & Kourti 1995):
 *   UCL = k (n − 1)(n + 1) / (n (n − k)) · F_{1−α}(k, n − k)
 * where F_{1−α} is the upper-α quantile of the F distribution (runtime/stats: the regularised
 * incomplete beta inverted by bisection).
 *
 * Per-tag contributions (Kourti & MacGregor 1996): c_j = z_j · Σ_i p_ji t_i / λ_i; they sum to T²
 * (a single one can be negative). They say which tags push the row along the modelled directions.
 */
import { TwinError } from '../model/errors.js';
import { fQuantile } from '../stats/index.js';
import type { PcaModel } from './pca.js';

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
export function t2Contributions(
  m: PcaModel,
  z: ArrayLike<number>,
  t: ArrayLike<number>,
  out: Float64Array = new Float64Array(m.tags.length),
): Float64Array {
  const p = m.tags.length;
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < m.k; i++) s += (m.loadings[j * p + i] * t[i]) / m.eigenvalues[i];
    out[j] = z[j] * s;
  }
  return out;
}
