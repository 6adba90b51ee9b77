/**
 * Hybrid model: a physics prediction corrected by a regression of its residual.
 *
 *   physics:     the first-order lag of first-order.ts, x_phys = a·x + (1 − a)·gain·u
 *   correction:  ĝ(features) fitted by ordinary least squares (ml-regression's
 *                MultivariateLinearRegression, with intercept) on residuals z − x_phys,
 *                features = [x (the previous estimate), u]
 *   prediction:  x⁻ = x_phys + ĝ(features); then the usual scalar Kalman update with z.
 *
 * The regression is refitted every `refitEvery` good samples on a rolling window of the last
 * `window` ones (so it follows a plant that changes slowly), once at least `minSamples` are in.
 * It remembers each feature's range over the window it was fitted on; features outside
 * [min − margin, max + margin] (margin = max(rangeMarginFrac·(max − min), rangeMarginAbs)) are
 * outside what the correction knows: the correction is NOT applied (physics only) and the step
 * marks the estimate `uncertain`, reason `input outside fitted range`. Before the first fit the
 * estimate is physics only and uncertain too (`residual model not fitted yet`).
 */
import { TwinError } from '../model/errors.js';
import { kf1Update, type Kf1 } from './kalman1d.js';
import type { FirstOrderParams } from './first-order.js';
import type { StateModel } from './model.js';

/** The part of ml-regression this file uses (the package ships no type declarations). */
interface Mlr {
  predict(x: number[]): number[];
}
type MlrCtor = new (x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean }) => Mlr;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MultivariateLinearRegression } = require('ml-regression') as { MultivariateLinearRegression: MlrCtor };

export interface HybridParams extends FirstOrderParams {
  /** Rolling window of residual samples the regression is fitted on. */
  window: number;
  /** Refit after this many new samples. */
  refitEvery: number;
  /** No fit before this many samples. */
  minSamples: number;
  /** Range margin as a fraction of each feature's fitted span. */
  rangeMarginFrac: number;
  /** Range margin floor, in the feature's unit (a constant feature would otherwise have none). */
  rangeMarginAbs: number;
}

/** Number of regression features: [previous estimate, input]. */
const NF = 2;

export class Hybrid implements StateModel, Kf1 {
  readonly name = 'hybrid/first-order+ols';
  readonly dim = 1;
  x = 0;
  p = 0;
  s = NaN;
  k = NaN;
  hph = NaN;
  gainSq = NaN;
  qStep = 0;
  readonly params: HybridParams;
  /** True while the last prediction's features lay outside the fitted range. */
  outOfRange = false;
  /** Number of fits so far. */
  fits = 0;
  /** Physics-only prediction of the last step (the regression's target is z − xPhys). */
  xPhys = NaN;
  /** Correction applied at the last step. */
  correction = 0;
  private reg: Mlr | undefined;
  private readonly lo = new Float64Array(NF);
  private readonly hi = new Float64Array(NF);
  private readonly feat = new Float64Array(NF);
  private canLearn = false;
  private readonly fx: Float64Array;
  private readonly fy: Float64Array;
  private ring = 0;
  private n = 0;
  private sinceFit = 0;

  constructor(params: HybridParams) {
    if (params.minSamples < NF + 2 || params.minSamples > params.window) {
      throw new TwinError('BAD_CONFIG', `hybrid minSamples must lie in [${NF + 2}, window]`);
    }
    this.params = params;
    this.fx = new Float64Array(params.window * NF);
    this.fy = new Float64Array(params.window);
  }

  get fitted(): boolean {
    return this.reg !== undefined;
  }

  init(z: number, r: number): void {
    this.x = z;
    this.p = r;
    this.canLearn = false;
    this.outOfRange = false;
  }

  predict(dtS: number, u: number, qScale: number): void {
    const { levelVarPerS, tauS, gain } = this.params;
    if (Number.isNaN(u)) {
      // No input yet: hold the level, as first-order.ts does; nothing to learn from.
      this.qStep = levelVarPerS * dtS;
      this.p += this.qStep * qScale;
      this.canLearn = false;
      this.outOfRange = false;
      this.correction = 0;
      this.xPhys = this.x;
      return;
    }
    const a = Math.exp(-dtS / tauS);
    const q = levelVarPerS * (tauS / 2) * (1 - a * a);
    this.feat[0] = this.x;
    this.feat[1] = u;
    this.xPhys = a * this.x + (1 - a) * gain * u;
    this.outOfRange = this.reg !== undefined && !this.inRange();
    this.correction = this.reg !== undefined && !this.outOfRange ? this.reg.predict([this.feat[0], this.feat[1]])[0] : 0;
    this.x = this.xPhys + this.correction;
    this.qStep = q;
    this.p = a * a * this.p + q * qScale;
    this.canLearn = true;
  }

  update(z: number, r: number): number {
    this.hph = this.p;
    const nu = kf1Update(this, z, r);
    this.gainSq = this.k * this.k;
    return nu;
  }

  /** Add the residual of the last prediction against a good measurement z; refit when due. */
  learn(z: number): void {
    if (!this.canLearn) return;
    const i = this.ring;
    this.fx[i * NF] = this.feat[0];
    this.fx[i * NF + 1] = this.feat[1];
    this.fy[i] = z - this.xPhys;
    this.ring = i + 1 === this.params.window ? 0 : i + 1;
    if (this.n < this.params.window) this.n++;
    this.sinceFit++;
    if (this.n >= this.params.minSamples && (this.reg === undefined || this.sinceFit >= this.params.refitEvery)) this.refit();
  }

  /** Forget the residual model (after a gap the plant may have changed). */
  forget(): void {
    this.reg = undefined;
    this.n = this.ring = this.sinceFit = 0;
    this.outOfRange = false;
    this.canLearn = false;
  }

  private refit(): void {
    const X: number[][] = new Array(this.n);
    const Y: number[][] = new Array(this.n);
    this.lo.fill(Infinity);
    this.hi.fill(-Infinity);
    for (let j = 0; j < this.n; j++) {
      const row = [this.fx[j * NF], this.fx[j * NF + 1]];
      for (let f = 0; f < NF; f++) {
        if (row[f] < this.lo[f]) this.lo[f] = row[f];
        if (row[f] > this.hi[f]) this.hi[f] = row[f];
      }
      X[j] = row;
      Y[j] = [this.fy[j]];
    }
    this.reg = new MultivariateLinearRegression(X, Y, { intercept: true, statistics: false });
    this.sinceFit = 0;
    this.fits++;
  }

  private inRange(): boolean {
    const { rangeMarginFrac, rangeMarginAbs } = this.params;
    for (let f = 0; f < NF; f++) {
      const m = Math.max(rangeMarginFrac * (this.hi[f] - this.lo[f]), rangeMarginAbs);
      if (this.feat[f] < this.lo[f] - m || this.feat[f] > this.hi[f] + m) return false;
    }
    return true;
  }

  /** The fitted range per feature ([x, u]), for status and help. */
  fittedRange(): Array<[number, number]> | undefined {
    if (!this.reg) return undefined;
    return [
      [this.lo[0], this.hi[0]],
      [this.lo[1], this.hi[1]],
    ];
  }

  value(): number {
    return this.x;
  }

  variance(): number {
    return this.p;
  }

  state(): Record<string, number> {
    return { physics: this.xPhys, correction: this.correction };
  }
}
