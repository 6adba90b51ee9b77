/**
 * The scalar Kalman filter, allocation-free: the hot path of every one-state model (local level,
 * first-order, fusion, hybrid). Same equations as kalman.ts with n = m = 1, state kept in a plain
 * object that is mutated in place (no Matrix, no arrays, no closures per reading).
 *   predict: x⁻ = a·x + b,  p⁻ = a²·p + q
 *   update:  ν = z − x⁻, s = p⁻ + r, k = p⁻/s, x = x⁻ + k·ν, p = (1−k)²·p⁻ + k²·r  (Joseph form)
 */
export interface Kf1 {
  /** State mean. */
  x: number;
  /** State variance. */
  p: number;
  /** Innovation variance of the last update. */
  s: number;
  /** Gain of the last update. */
  k: number;
}

export function kf1(x = 0, p = 0): Kf1 {
  return { x, p, s: NaN, k: NaN };
}

export function kf1Predict(f: Kf1, a: number, b: number, q: number): void {
  f.x = a * f.x + b;
  f.p = a * a * f.p + q;
}

/** Update with measurement z of variance r; returns the innovation z − x⁻. */
export function kf1Update(f: Kf1, z: number, r: number): number {
  const nu = z - f.x;
  const s = f.p + r;
  const k = f.p / s;
  const c = 1 - k;
  f.x += k * nu;
  f.p = c * c * f.p + k * k * r;
  f.s = s;
  f.k = k;
  return nu;
}
