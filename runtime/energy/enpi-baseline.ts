/**
 * ISO 50006-style energy baseline (EnB) of one asset: energy per period (shift or day) regressed on
 * its relevant variables (production units, ambient temperature, …) by ordinary least squares
 * (ml-regression MultivariateLinearRegression, with an intercept):
 *   expectedKwh = intercept + Σ coefficient_v × x_v
 * fitted on the first `baselinePeriods` periods. For every later period: expected vs actual,
 * savingKwh = expected − actual (positive = saved) and the CUSUM of savings since the fit.
 *
 * Honest model: a period whose variables lie outside the baseline's range (by more than 10 % of
 * the range) or whose energy is not good quality gives an 'uncertain' point with the reason; a
 * period missing a variable gives a 'bad' point that does not move the CUSUM. Baseline periods
 * with missing variables or bad energy are left out of the fit.
 */
import type { EnergyBaselinePoint } from '../model/energy.js';
import { TwinError } from '../model/errors.js';
import { type Quality, worstQuality } from '../model/quality.js';

interface Mlr {
  weights: number[][];
  predict(x: number[]): number[];
}
type MlrCtor = new (x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean }) => Mlr;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ml-regression ships no types; typed by the cast
const { MultivariateLinearRegression } = require('ml-regression') as { MultivariateLinearRegression: MlrCtor };

export interface BaselineConfig {
  asset: string;
  /** names of the relevant variables, in the order of the coefficients */
  variables: string[];
  /** periods in the baseline (≥ variables + 2, so the fit has residual degrees of freedom) */
  baselinePeriods: number;
}

export interface BaselinePeriod {
  startMs: number;
  endMs: number;
  actualKwh: number;
  quality: Quality;
  /** value of each variable over the period (a total or a mean); missing = not measured */
  x: Record<string, number | undefined>;
}

const RANGE_MARGIN = 0.1;

export class EnpiBaseline {
  private readonly rows: { x: number[]; y: number }[] = [];
  private fit: { coefficients: Record<string, number>; weights: number[]; r2: number; lo: number[]; hi: number[] } | null = null;
  private cusumKwh = 0;
  /** why the fit failed (then no points are given); null while fitting or fitted */
  failure: string | null = null;

  constructor(private readonly cfg: BaselineConfig) {
    if (!Number.isInteger(cfg.baselinePeriods) || cfg.baselinePeriods < cfg.variables.length + 2) {
      throw new TwinError(
        'BAD_CONFIG',
        `baseline needs at least ${cfg.variables.length + 2} periods for ${cfg.variables.length} variable(s) (variables + 2), got ${cfg.baselinePeriods}`,
      );
    }
  }

  get fitted(): boolean {
    return this.fit !== null;
  }

  /** A closed period: part of the baseline until it is fitted, then a comparison point. */
  add(p: BaselinePeriod): EnergyBaselinePoint | null {
    if (this.failure) return null;
    const missing = this.cfg.variables.filter((v) => !Number.isFinite(p.x[v]));
    const x = this.cfg.variables.map((v) => p.x[v] ?? NaN);
    if (!this.fit) {
      if (missing.length === 0 && p.quality !== 'bad') this.rows.push({ x, y: p.actualKwh });
      if (this.rows.length >= this.cfg.baselinePeriods) this.fitNow();
      return null;
    }
    const f = this.fit;
    const base = {
      asset: this.cfg.asset,
      tsMs: p.endMs,
      startMs: p.startMs,
      endMs: p.endMs,
      actualKwh: p.actualKwh,
      coefficients: f.coefficients,
      r2: f.r2,
    };
    if (missing.length > 0) {
      return {
        ...base,
        expectedKwh: p.actualKwh,
        savingKwh: 0,
        cusumKwh: this.cusumKwh,
        quality: 'bad',
        qualityReason: `no value of ${missing.join(', ')} in the period: not compared`,
      };
    }
    const expectedKwh = x.reduce((sum, xi, i) => sum + xi * f.weights[i], f.weights[x.length]);
    const savingKwh = expectedKwh - p.actualKwh;
    this.cusumKwh += savingKwh;
    const reasons: string[] = [];
    x.forEach((xi, i) => {
      const margin = RANGE_MARGIN * (f.hi[i] - f.lo[i]);
      if (xi < f.lo[i] - margin || xi > f.hi[i] + margin)
        reasons.push(`${this.cfg.variables[i]} ${round(xi)} outside the baseline's ${round(f.lo[i])}..${round(f.hi[i])}`);
    });
    if (p.quality !== 'good') reasons.push(`energy ${p.quality}`);
    const quality = worstQuality(p.quality === 'bad' ? 'uncertain' : p.quality, reasons.length ? 'uncertain' : 'good');
    return {
      ...base,
      expectedKwh,
      savingKwh,
      cusumKwh: this.cusumKwh,
      quality,
      ...(reasons.length ? { qualityReason: reasons.join('; ') } : {}),
    };
  }

  private fitNow(): void {
    const X = this.rows.map((r) => r.x);
    const y = this.rows.map((r) => [r.y]);
    const lo = this.cfg.variables.map((_, i) => Math.min(...X.map((r) => r[i])));
    const hi = this.cfg.variables.map((_, i) => Math.max(...X.map((r) => r[i])));
    const constant = this.cfg.variables.filter((_, i) => lo[i] === hi[i]);
    if (constant.length) {
      this.failure = `baseline not fitted: ${constant.join(', ')} did not vary over the ${this.rows.length} baseline periods (the regression cannot tell its effect)`;
      return;
    }
    const weights = new MultivariateLinearRegression(X, y, { intercept: true, statistics: false }).weights.map((w) => w[0]);
    if (!weights.every(Number.isFinite)) {
      this.failure = `baseline not fitted: the variables (${this.cfg.variables.join(', ')}) do not vary independently over the ${this.rows.length} baseline periods`;
      return;
    }
    const mean = y.reduce((s, [v]) => s + v, 0) / y.length;
    let ssRes = 0;
    let ssTot = 0;
    this.rows.forEach((r) => {
      const e = r.x.reduce((s, xi, i) => s + xi * weights[i], weights[r.x.length]);
      ssRes += (r.y - e) ** 2;
      ssTot += (r.y - mean) ** 2;
    });
    const coefficients: Record<string, number> = { intercept: weights[this.cfg.variables.length] };
    this.cfg.variables.forEach((v, i) => (coefficients[v] = weights[i]));
    this.fit = {
      coefficients,
      weights,
      r2: ssTot > 0 ? 1 - ssRes / ssTot : 1,
      lo,
      hi,
    };
  }
}

const round = (x: number): string => String(Math.round(x * 1000) / 1000);
