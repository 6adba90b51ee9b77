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
 * The normal quantile is Acklam's rational approximation (relative error < 1.15e-9: ample for a
 * control limit; no refinement step, as any cheap erfc is less accurate than that).
 */
import { TwinError } from '../model/errors.js';
import type { PcaModel } from './pca.js';

/** Standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new TwinError('BAD_CONFIG', `probability must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}

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
export function spe(m: PcaModel, z: ArrayLike<number>, t: ArrayLike<number>, contrib: Float64Array = new Float64Array(m.tags.length)): number {
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
