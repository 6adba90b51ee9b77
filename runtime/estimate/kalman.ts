/**
 * A linear Kalman filter in n dimensions (ml-matrix), for models with a time-varying transition:
 *   predict:  x⁻ = F(dt)·x + B(dt)·u,   P⁻ = F·P·Fᵀ + Q(dt)
 *   update:   ν = z − H·x⁻,  S = H·P⁻·Hᵀ + R,  K = P⁻·Hᵀ·S⁻¹,  x = x⁻ + K·ν,
 *             P = (I − K·H)·P⁻·(I − K·H)ᵀ + K·R·Kᵀ   (Joseph form: stays symmetric positive
 *             semi-definite under rounding, which the short form P = (I − K·H)·P⁻ does not).
 * The ready models build F, Q (and B) for each event-time step; see local-trend.ts. Scalar models
 * use the allocation-free path in kalman1d.ts instead, which computes the same numbers.
 */
import { Matrix, inverse } from 'ml-matrix';
import { TwinError } from '../model/errors.js';

export interface KalmanState {
  /** State mean, n×1. */
  x: Matrix;
  /** State covariance, n×n. */
  P: Matrix;
}

export interface KalmanUpdate {
  /** z − H·x⁻, m×1. */
  innovation: Matrix;
  /** Innovation covariance H·P⁻·Hᵀ + R, m×m. */
  S: Matrix;
  /** Gain, n×m. */
  K: Matrix;
  /** Normalised innovation squared νᵀ·S⁻¹·ν (χ²(m) when the model fits). */
  nis: number;
}

export function kfInit(x0: number[], P0: number[][]): KalmanState {
  const x = Matrix.columnVector(x0);
  const P = new Matrix(P0);
  if (P.rows !== x.rows || P.columns !== x.rows) throw new TwinError('MODEL', `P0 must be ${x.rows}×${x.rows}`);
  return { x, P };
}

/** Force exact symmetry (rounding in F·P·Fᵀ leaves tiny asymmetries that grow over many steps). */
function symmetrise(P: Matrix): Matrix {
  const n = P.rows;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (P.get(i, j) + P.get(j, i));
      P.set(i, j, v);
      P.set(j, i, v);
    }
  }
  return P;
}

/** Propagate the state through F with process noise Q (and an optional input term B·u, n×1). */
export function kfPredict(s: KalmanState, F: Matrix, Q: Matrix, Bu?: Matrix): void {
  const x = F.mmul(s.x);
  if (Bu) x.add(Bu);
  s.x = x;
  s.P = symmetrise(F.mmul(s.P).mmul(F.transpose()).add(Q));
}

/** Measurement update with z (m×1), H (m×n) and R (m×m), Joseph form. Mutates `s`. */
export function kfUpdate(s: KalmanState, H: Matrix, z: Matrix, R: Matrix): KalmanUpdate {
  const n = s.x.rows;
  const innovation = Matrix.sub(z, H.mmul(s.x));
  const PHt = s.P.mmul(H.transpose());
  const S = H.mmul(PHt).add(R);
  const Sinv = inverse(S);
  const K = PHt.mmul(Sinv);
  s.x = Matrix.add(s.x, K.mmul(innovation));
  const IKH = Matrix.eye(n, n).sub(K.mmul(H));
  s.P = symmetrise(IKH.mmul(s.P).mmul(IKH.transpose()).add(K.mmul(R).mmul(K.transpose())));
  const nis = innovation.transpose().mmul(Sinv).mmul(innovation).get(0, 0);
  return { innovation, S, K, nis };
}
