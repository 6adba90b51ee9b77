/**
 * Local level (random walk plus noise): x_k = x_{k−1} + w, w ~ N(0, levelVarPerS·dt);
 * z = x + v, v ~ N(0, r). The level a sensor measures when nothing drives it that we know of.
 * Scalar fast path (kalman1d.ts).
 */
import { kf1Update, type Kf1 } from './kalman1d.js';
import type { ScalarParams, StateModel } from './model.js';

export class LocalLevel implements StateModel, Kf1 {
  readonly name: string = 'kalman/local-level';
  readonly dim = 1;
  x = 0;
  p = 0;
  s = NaN;
  k = NaN;
  hph = NaN;
  gainSq = NaN;
  qStep = 0;
  readonly levelVarPerS: number;

  constructor(params: ScalarParams) {
    this.levelVarPerS = params.levelVarPerS;
  }

  init(z: number, r: number): void {
    this.x = z;
    this.p = r;
  }

  predict(dtS: number, _u: number, qScale: number): void {
    const q = this.levelVarPerS * dtS;
    this.qStep = q;
    this.p += q * qScale;
  }

  update(z: number, r: number): number {
    this.hph = this.p;
    const nu = kf1Update(this, z, r);
    this.gainSq = this.k * this.k;
    return nu;
  }

  value(): number {
    return this.x;
  }

  variance(): number {
    return this.p;
  }
}
