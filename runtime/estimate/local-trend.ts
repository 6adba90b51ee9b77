/**
 * Local linear trend: state [level, slopePerS], the slope driven by white noise (continuous
 * white-noise acceleration of density slopeVarPerS3, unit²/s³), plus an optional random walk on
 * the level (levelVarPerS). Over a step of dt seconds:
 *   F = [[1, dt], [0, 1]],  Q = slopeVarPerS3·[[dt³/3, dt²/2], [dt²/2, dt]] + [[levelVarPerS·dt, 0], [0, 0]]
 * Measured: the level (H = [1, 0]). Runs on the n-D filter (kalman.ts, ml-matrix). The slope
 * starts diffuse (variance initialSlopeVarPerS2), so the first readings fix it.
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

export class LocalTrend implements StateModel {
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
    this.kf = kfInit([0, 0], [
      [0, 0],
      [0, params.initialSlopeVarPerS2],
    ]);
  }

  init(z: number, r: number): void {
    this.kf = kfInit([z, 0], [
      [r, 0],
      [0, this.params.initialSlopeVarPerS2],
    ]);
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
