/**
 * Local linear trend: state [level, slopePerS], the slope driven by white noise (continuous
 * white-noise acceleration of density slopeVarPerS3, unit²/s³), plus an optional random walk on
 * the level (levelVarPerS). Over a step of dt seconds:
 *   F = [[1, dt], [0, 1]],  Q = slopeVarPerS3·[[dt³/3, dt²/2], [dt²/2, dt]] + [[levelVarPerS·dt, 0], [0, 0]]
 * Measured: the level (H = [1, 0]). Two implementations: LocalTrendMatrix on the n-D filter
 * (kalman.ts, ml-matrix) and LocalTrend, the same algebra written out for 2×2 (the estimator's).
 * The slope starts with variance initialSlopeVarPerS2, so the first readings fix it.
 */
import { Matrix } from 'ml-matrix';
import { kfInit, kfPredict, kfUpdate, type KalmanState } from './kalman.js';
import type { StateModel } from './model.js';

export interface LocalTrendParams {
  levelVarPerS: number;
  slopeVarPerS3: number;
  /** Prior variance of the slope at (re)initialisation, (unit/s)². */
  initialSlopeVarPerS2: number;
}

const H = new Matrix([[1, 0]]);

export function localTrendF(dtS: number): Matrix {
  return new Matrix([
    [1, dtS],
    [0, 1],
  ]);
}

export function localTrendQ(p: LocalTrendParams, dtS: number): Matrix {
  const q = p.slopeVarPerS3;
  return new Matrix([
    [(q * dtS ** 3) / 3 + p.levelVarPerS * dtS, (q * dtS ** 2) / 2],
    [(q * dtS ** 2) / 2, q * dtS],
  ]);
}

/**
 * The local trend on the n-D filter (ml-matrix): the reference the unrolled LocalTrend is checked
 * against, and a template for other n-D models.
 */
export class LocalTrendMatrix implements StateModel {
  readonly name = 'kalman/local-trend';
  readonly dim = 2;
  s = NaN;
  hph = NaN;
  gainSq = NaN;
  qStep = 0;
  kf: KalmanState;
  readonly params: LocalTrendParams;
  private readonly R = new Matrix(1, 1);
  private readonly z = new Matrix(1, 1);

  constructor(params: LocalTrendParams) {
    this.params = params;
    this.kf = kfInit(
      [0, 0],
      [
        [0, 0],
        [0, params.initialSlopeVarPerS2],
      ],
    );
  }

  init(z: number, r: number): void {
    this.kf = kfInit(
      [z, 0],
      [
        [r, 0],
        [0, this.params.initialSlopeVarPerS2],
      ],
    );
  }

  predict(dtS: number, _u: number, qScale: number): void {
    const Q = localTrendQ(this.params, dtS);
    this.qStep = Q.trace();
    if (qScale !== 1) Q.mul(qScale);
    kfPredict(this.kf, localTrendF(dtS), Q);
  }

  update(z: number, r: number): number {
    this.hph = this.kf.P.get(0, 0);
    this.R.set(0, 0, r);
    this.z.set(0, 0, z);
    const u = kfUpdate(this.kf, H, this.z, this.R);
    this.s = u.S.get(0, 0);
    this.gainSq = u.K.get(0, 0) ** 2 + u.K.get(1, 0) ** 2;
    return u.innovation.get(0, 0);
  }

  value(): number {
    return this.kf.x.get(0, 0);
  }

  variance(): number {
    return this.kf.P.get(0, 0);
  }

  state(): Record<string, number> {
    return { level: this.kf.x.get(0, 0), slopePerS: this.kf.x.get(1, 0) };
  }

  covariance(): number[][] {
    return this.kf.P.to2DArray();
  }
}

/**
 * The local trend with the 2×2 algebra written out (same equations as LocalTrendMatrix, Joseph
 * form included; the spec checks they agree): no Matrix objects per reading, which makes it some
 * fifty times faster. This is the one the estimator uses.
 */
export class LocalTrend implements StateModel {
  readonly name = 'kalman/local-trend';
  readonly dim = 2;
  s = NaN;
  hph = NaN;
  gainSq = NaN;
  qStep = 0;
  level = 0;
  slope = 0;
  p00 = 0;
  p01 = 0;
  p11: number;
  readonly params: LocalTrendParams;

  constructor(params: LocalTrendParams) {
    this.params = params;
    this.p11 = params.initialSlopeVarPerS2;
  }

  init(z: number, r: number): void {
    this.level = z;
    this.slope = 0;
    this.p00 = r;
    this.p01 = 0;
    this.p11 = this.params.initialSlopeVarPerS2;
  }

  predict(dtS: number, _u: number, qScale: number): void {
    const { slopeVarPerS3: q, levelVarPerS } = this.params;
    const dt2 = dtS * dtS;
    const q00 = (q * dt2 * dtS) / 3 + levelVarPerS * dtS;
    const q01 = (q * dt2) / 2;
    const q11 = q * dtS;
    this.qStep = q00 + q11;
    this.level += this.slope * dtS;
    // F·P·Fᵀ + Q with F = [[1, dt], [0, 1]]
    const p00 = this.p00 + 2 * dtS * this.p01 + dt2 * this.p11 + q00 * qScale;
    const p01 = this.p01 + dtS * this.p11 + q01 * qScale;
    this.p11 += q11 * qScale;
    this.p00 = p00;
    this.p01 = p01;
  }

  update(z: number, r: number): number {
    const { p00, p01, p11 } = this;
    const nu = z - this.level;
    const s = p00 + r;
    const k0 = p00 / s;
    const k1 = p01 / s;
    this.level += k0 * nu;
    this.slope += k1 * nu;
    // Joseph form: (I − K·H)·P·(I − K·H)ᵀ + K·r·Kᵀ, I − K·H = [[1 − k0, 0], [−k1, 1]]
    const c = 1 - k0;
    this.p00 = c * c * p00 + k0 * k0 * r;
    this.p01 = c * (p01 - k1 * p00) + k0 * k1 * r;
    this.p11 = p11 - 2 * k1 * p01 + k1 * k1 * p00 + k1 * k1 * r;
    this.hph = p00;
    this.s = s;
    this.gainSq = k0 * k0 + k1 * k1;
    return nu;
  }

  value(): number {
    return this.level;
  }

  variance(): number {
    return this.p00;
  }

  state(): Record<string, number> {
    return { level: this.level, slopePerS: this.slope };
  }

  covariance(): number[][] {
    return [
      [this.p00, this.p01],
      [this.p01, this.p11],
    ];
  }
}
