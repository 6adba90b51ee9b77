/**
 * Hybrid model: a physics prediction corrected by a regression of its residual.
 *
 *   physics:     the first-order lag of first-order.ts, f(x, u) = a·x + (1 − a)·gain·u
 *   residual:    ĝ(x, u) fitted by ordinary least squares (ml-regression's
 *                MultivariateLinearRegression, with intercept) on one-step residuals of the
 *                physics between consecutive good measurements: features [z_{k−1}, u],
 *                target z_k − f(z_{k−1}, u). Measurements, not the filter's own estimates: a
 *                regression on its own output would learn to chase the filter's errors.
 *   prediction:  x⁻ = f(x, u) + ĝ(x, u), P⁻ = a²·P + q + Var ĝ(x, u) (the regression's own
 *                prediction variance, so an uncertain fit widens the estimate); then the usual
 *                scalar Kalman update with z. Features are standardised at each fit.
 *
 * The regression is refitted every `refitEvery` good samples on a rolling window of the last
 * `window` ones (so it follows a plant that changes slowly), once at least `minSamples` are in.
 * It remembers each feature's range over the window it was fitted on; features outside
 * [min − margin, max + margin] (margin = max(rangeMarginFrac·(max − min), rangeMarginAbs)) are
 * outside what the correction knows: the step marks the estimate `uncertain`, reason `input
 * outside fitted range`, and the correction is evaluated at the features clamped to that range
 * (it does not extrapolate; dropping it altogether would make the estimate jump back onto the
 * biased physics). Before the first fit the estimate is physics only and uncertain too
 * (`residual model not fitted yet`).
 */
import { TwinError } from '../model/errors.js';
import { kf1Update, type Kf1 } from './kalman1d.js';
import type { FirstOrderParams } from './first-order.js';
import type { StateModel } from './model.js';

/** The part of ml-regression this file uses (the package ships no type declarations). */
interface Mlr {
  predict(x: number[]): number[];
  /** Covariance of the weights (features then intercept), with `statistics: true`. */
  stdErrorMatrix: { get(i: number, j: number): number };
}
type MlrCtor = new (x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean }) => Mlr;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ml-regression ships no types; typed by the cast
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

/** Number of regression features: [state (previous measurement when fitting, estimate when predicting), input]. */
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
  /** Standardisation of the features at the last fit (centred and scaled: the normal equations
   * of raw temperatures around 200 with an intercept are badly conditioned). */
  private readonly mean = new Float64Array(NF);
  private readonly scale = new Float64Array(NF);
  private readonly fs = [0, 0];
  /** Variance of the last correction (regression prediction variance), added to P⁻. */
  correctionVar = 0;
  private canLearn = false;
  /** The previous good measurement, NaN when the last step did not learn (not consecutive). */
  private zPrev = NaN;
  private learnedLast = false;
  private stepA = 1;
  private stepB = 0;
  private stepU = NaN;
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
    this.zPrev = z;
    this.learnedLast = true;
  }

  predict(dtS: number, u: number, qScale: number): void {
    const { levelVarPerS, tauS, gain } = this.params;
    if (!this.learnedLast) this.zPrev = NaN; // a step without a good measurement breaks the pair
    this.learnedLast = false;
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
    this.stepA = a;
    this.stepB = (1 - a) * gain * u;
    this.stepU = u;
    this.xPhys = a * this.x + this.stepB;
    this.outOfRange = false;
    this.correction = 0;
    this.correctionVar = 0;
    if (this.reg !== undefined) {
      const f = this.fs;
      f[0] = this.feat[0];
      f[1] = this.feat[1];
      this.outOfRange = this.clampToRange(f);
      for (let i = 0; i < NF; i++) f[i] = (f[i] - this.mean[i]) / this.scale[i];
      this.correction = this.reg.predict(f)[0];
      // Uncertainty of the fitted correction at these features: [f, 1]ᵀ·Cov(w)·[f, 1].
      const C = this.reg.stdErrorMatrix;
      let v = 0;
      for (let i = 0; i <= NF; i++) {
        const fi = i < NF ? f[i] : 1;
        for (let j = 0; j <= NF; j++) v += fi * C.get(i, j) * (j < NF ? f[j] : 1);
      }
      this.correctionVar = v > 0 ? v : 0;
    }
    this.x = this.xPhys + this.correction;
    this.qStep = q;
    this.p = a * a * this.p + q * qScale + this.correctionVar;
    this.canLearn = true;
  }

  update(z: number, r: number): number {
    this.hph = this.p;
    const nu = kf1Update(this, z, r);
    this.gainSq = this.k * this.k;
    return nu;
  }

  /** Learn from a good measurement z of the last step; refit when due. */
  learn(z: number): void {
    const zPrev = this.zPrev;
    this.zPrev = z;
    this.learnedLast = true;
    if (!this.canLearn || Number.isNaN(zPrev)) return;
    const i = this.ring;
    this.fx[i * NF] = zPrev;
    this.fx[i * NF + 1] = this.stepU;
    this.fy[i] = z - (this.stepA * zPrev + this.stepB);
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
    this.zPrev = NaN;
  }

  private refit(): void {
    const X: number[][] = new Array<number[]>(this.n);
    const Y: number[][] = new Array<number[]>(this.n);
    this.lo.fill(Infinity);
    this.hi.fill(-Infinity);
    this.mean.fill(0);
    this.scale.fill(0);
    for (let j = 0; j < this.n; j++) {
      for (let f = 0; f < NF; f++) {
        const v = this.fx[j * NF + f];
        if (v < this.lo[f]) this.lo[f] = v;
        if (v > this.hi[f]) this.hi[f] = v;
        this.mean[f] += v / this.n;
      }
    }
    for (let j = 0; j < this.n; j++) for (let f = 0; f < NF; f++) this.scale[f] += (this.fx[j * NF + f] - this.mean[f]) ** 2 / this.n;
    for (let f = 0; f < NF; f++) this.scale[f] = Math.sqrt(this.scale[f]) || 1; // a constant feature: centred only
    for (let j = 0; j < this.n; j++) {
      X[j] = [(this.fx[j * NF] - this.mean[0]) / this.scale[0], (this.fx[j * NF + 1] - this.mean[1]) / this.scale[1]];
      Y[j] = [this.fy[j]];
    }
    this.reg = new MultivariateLinearRegression(X, Y, { intercept: true, statistics: true });
    this.sinceFit = 0;
    this.fits++;
  }

  /** Clamp features into the fitted range (with margin); true when any was outside. */
  private clampToRange(f: number[]): boolean {
    const { rangeMarginFrac, rangeMarginAbs } = this.params;
    let outside = false;
    for (let i = 0; i < NF; i++) {
      const m = Math.max(rangeMarginFrac * (this.hi[i] - this.lo[i]), rangeMarginAbs);
      const lo = this.lo[i] - m;
      const hi = this.hi[i] + m;
      if (f[i] < lo) {
        f[i] = lo;
        outside = true;
      } else if (f[i] > hi) {
        f[i] = hi;
        outside = true;
      }
    }
    return outside;
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
