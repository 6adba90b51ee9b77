/**
 * Q statistic (squared prediction error, SPE) of a PCA model (pca.ts): the squared norm of the part
 * of the standardised row that the k retained components do not explain,
 *   r = z − P_k P_kᵀ z,  Q = ‖r‖² = Σ_j r_j².
 * A sensor that breaks the correlation structure (stuck, drifting alone) shows up here even when its
 * value stays inside its normal range, and r_j² (the per-tag contribution, sum = Q) names it.
 *
 * Control limit (Jackson & Mudholkar 1979), from the residual eigenvalues λ_{k+1..p}:
 *   θ_i = Σ_{j>k} λ_j^i (i = 1, 2, 3),  h0 = 1 − 2 θ1 θ3 / (3 θ2²),
 *   Q_α = θ1 · [ c_α √(2 θ2 h0²) / θ1 + 1 + θ2 h0 (h0 − 1) / θ1² ]^(1/h0)
 * with c_α the upper-α standard normal quantile. (SKAB's reference code raises θ1 to the powers
 * instead of summing λ^i; this is the published formula.)
 *
 * The normal quantile comes from runtime/stats (alpha is checked here, so it never sees a bad p).
 */
import { TwinError } from '../model/errors.js';
import { normalQuantile } from '../stats/index.js';
import type { PcaModel } from './pca.js';

/** Jackson–Mudholkar upper control limit of Q from the residual eigenvalues (λ_{k+1..p}). */
export function speLimit(residualEigenvalues: ArrayLike<number>, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new TwinError('BAD_CONFIG', `alpha must be in (0, 1), got ${alpha}`);
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (let i = 0; i < residualEigenvalues.length; i++) {
    const l = residualEigenvalues[i];
    t1 += l;
    t2 += l * l;
    t3 += l * l * l;
  }
  if (!(t1 > 0 && t2 > 0)) throw new TwinError('MODEL', 'Q limit needs a residual space with non-zero variance');
  const h0 = 1 - (2 * t1 * t3) / (3 * t2 * t2);
  const ca = normalQuantile(1 - alpha);
  const inner = (ca * Math.sqrt(2 * t2 * h0 * h0)) / t1 + 1 + (t2 * h0 * (h0 - 1)) / (t1 * t1);
  return t1 * Math.pow(inner, 1 / h0);
}

/** The Q limit of a fitted model. */
export function modelSpeLimit(m: PcaModel, alpha: number): number {
  return speLimit(m.eigenvalues.subarray(m.k), alpha);
}

/**
 * Q of a standardised row z with scores t = P_kᵀ z; the residual r (per-tag contribution r_j²) is
 * written into `contrib`.
 */
export function spe(
  m: PcaModel,
  z: ArrayLike<number>,
  t: ArrayLike<number>,
  contrib: Float64Array = new Float64Array(m.tags.length),
): number {
  const p = m.tags.length;
  let q = 0;
  for (let j = 0; j < p; j++) {
    let zHat = 0;
    for (let i = 0; i < m.k; i++) zHat += m.loadings[j * p + i] * t[i];
    const r = z[j] - zHat;
    contrib[j] = r * r;
    q += r * r;
  }
  return q;
}
