/**
 * The static response of a KPI to a setpoint (and optional other inputs), fitted by ordinary least
 * squares on recent history:
 *
 *   kpi = β0 + β1·z + (β2·z²) + Σ γj·uj + ε,   z = (sp − mean(sp)) / sd(sp),  uj standardised likewise
 *
 * Standardising does not change the fit or the predictions, but keeps XᵀX well conditioned (a raw
 * sp² column of a 215 degC setpoint is ~46 000 next to an intercept of 1), so a real collinearity
 * (an input that moves with the setpoint) can be told apart from a scaling artefact by the
 * condition number.
 *
 * Prediction at a new point x (a design row) with the classical OLS prediction interval
 *   ŷ ± t_{1−α/2, n−p} · s · √(1 + c·xᵀ(XᵀX)⁻¹x)      (c = 1 for independent residuals, see below)
 * (s = residual standard error on n − p degrees of freedom), and the standard error of the
 * difference of the mean response at two points, s·√(dᵀ(XᵀX)⁻¹d), d = x₁ − x₀: the proposer's
 * significance test for a predicted gain.
 *
 * Residuals of a plant's history are rarely independent (slow disturbances, transients the settle
 * time did not cover, a shape the model misses): OLS then overstates how well the mean response is
 * known. The lag-1 autocorrelation ρ of the residuals in time order gives the usual AR(1)
 * inflation (1 + ρ)/(1 − ρ) of the variance of the fitted mean (ρ ≤ 0 counts as 0), applied to
 * the model term of the interval and to the difference — not to the new sample's own noise.
 *
 * Honest refusal (DESIGN principle 8): too few samples, too few distinct setpoints to identify the
 * shape, or collinear inputs give `{ ok: false, reason }`, never a model.
 */
import { Matrix, SingularValueDecomposition, inverse } from 'ml-matrix';
import { tQuantile } from '../stats/index.js';

export type ResponseShape = 'linear' | 'quadratic';

export interface ResponseSample {
  sp: number;
  kpi: number;
  /** Other inputs, in a fixed order (the same length in every sample). */
  inputs?: readonly number[];
}

export interface ResponseModel {
  shape: ResponseShape;
  n: number;
  /** Parameters fitted (columns of X). */
  p: number;
  r2: number;
  /** Residual standard error s = √(SSE / (n − p)), KPI units. */
  rmse: number;
  spMin: number;
  spMax: number;
  /** Standardisation of sp and of each input (an input with no spread is left out: scale 0). */
  spMean: number;
  spScale: number;
  inputMean: number[];
  inputScale: number[];
  beta: number[];
  /** (XᵀX)⁻¹ of the standardised design. */
  xtxInv: number[][];
  /** Lag-1 autocorrelation of the residuals (samples in the order given, i.e. time order). */
  rho: number;
  /** Variance inflation of the fitted mean for that autocorrelation, ≥ 1. */
  inflation: number;
}

export type FitRefusal = 'too-few-samples' | 'no-variation' | 'collinear' | 'missing-input';
export type FitOutcome = { ok: true; model: ResponseModel } | { ok: false; code: FitRefusal; reason: string };

export interface ResponsePrediction {
  mean: number;
  low: number;
  high: number;
  /** Standard error of the mean response at this point (without the new sample's noise). */
  seMean: number;
}

/** Largest condition number of the standardised design accepted: beyond it the inputs are collinear. */
const MAX_CONDITION = 1e6;

function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { mean, sd: Math.sqrt(v) };
}

/** Setpoint values count as distinct beyond this relative difference (float noise is not variation). */
function distinctCount(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const tol = 1e-9 * Math.max(1, Math.abs(sorted[sorted.length - 1]), Math.abs(sorted[0]));
  let k = sorted.length ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] - sorted[i - 1] > tol) k++;
  return k;
}

/** The standardised design row of one point; inputs with scale 0 are left out. */
export function designRow(
  m: Pick<ResponseModel, 'shape' | 'spMean' | 'spScale' | 'inputMean' | 'inputScale'>,
  sp: number,
  inputs: readonly number[] = [],
): number[] {
  const z = (sp - m.spMean) / m.spScale;
  const row = [1, z];
  if (m.shape === 'quadratic') row.push(z * z);
  for (let j = 0; j < m.inputScale.length; j++) if (m.inputScale[j] > 0) row.push((inputs[j] - m.inputMean[j]) / m.inputScale[j]);
  return row;
}

function quadForm(a: number[][], x: readonly number[]): number {
  let q = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) q += x[i] * a[i][j] * x[j];
  return Math.max(0, q);
}

export function fitResponse(samples: readonly ResponseSample[], shape: ResponseShape, minSamples = 0): FitOutcome {
  const n = samples.length;
  const nInputs = samples[0]?.inputs?.length ?? 0;
  const sps = samples.map((s) => s.sp);
  const spTerms = shape === 'quadratic' ? 2 : 1;
  // A line needs two distinct setpoints, a parabola three; fewer cannot separate the shape from noise.
  const distinct = distinctCount(sps);
  if (distinct < spTerms + 1) {
    return {
      ok: false,
      code: n === 0 ? 'too-few-samples' : 'no-variation',
      reason:
        n === 0 ? 'no samples' : `no setpoint variation (${distinct} distinct value${distinct === 1 ? '' : 's'}, need ${spTerms + 1})`,
    };
  }
  const { mean: spMean, sd: spScale } = meanSd(sps);
  const inputMean: number[] = [];
  const inputScale: number[] = [];
  for (let j = 0; j < nInputs; j++) {
    const { mean, sd } = meanSd(samples.map((s) => s.inputs?.[j] ?? NaN));
    if (!Number.isFinite(mean)) return { ok: false, code: 'missing-input', reason: `input ${j + 1} missing in some samples` };
    inputMean.push(mean);
    // An input that did not move carries no information and is collinear with the intercept.
    inputScale.push(sd > 1e-12 * Math.max(1, Math.abs(mean)) ? sd : 0);
  }
  const std = { shape, spMean, spScale, inputMean, inputScale };
  const rows = samples.map((s) => designRow(std, s.sp, s.inputs));
  const p = rows[0].length;
  // At least two residual degrees of freedom, so s and the t quantile mean something.
  const need = Math.max(minSamples, p + 2);
  if (n < need) return { ok: false, code: 'too-few-samples', reason: `too few samples (${n}, need ${need})` };

  const X = new Matrix(rows);
  const y = Matrix.columnVector(samples.map((s) => s.kpi));
  const svd = new SingularValueDecomposition(X, { autoTranspose: true });
  if (!(svd.condition < MAX_CONDITION)) return { ok: false, code: 'collinear', reason: 'inputs are collinear with the setpoint' };
  const Xt = X.transpose();
  const xtxInv = inverse(Xt.mmul(X));
  const beta = xtxInv.mmul(Xt.mmul(y)).getColumn(0);

  let sse = 0;
  let sst = 0;
  let lag1 = 0;
  let prevResidual = 0;
  const { mean: yMean } = meanSd(samples.map((s) => s.kpi));
  for (let i = 0; i < n; i++) {
    const fitted = rows[i].reduce((a, x, k) => a + x * beta[k], 0);
    const e = samples[i].kpi - fitted;
    sse += e * e;
    if (i > 0) lag1 += e * prevResidual;
    prevResidual = e;
    sst += (samples[i].kpi - yMean) ** 2;
  }
  const rho = sse > 0 ? Math.min(0.99, Math.max(0, lag1 / sse)) : 0;
  const rmse = Math.sqrt(sse / (n - p));
  // A KPI that did not move at all is fitted exactly by the intercept: nothing is left unexplained.
  const r2 = sst > 0 ? Math.max(0, 1 - sse / sst) : 1;
  return {
    ok: true,
    model: {
      shape,
      n,
      p,
      r2,
      rmse,
      spMin: Math.min(...sps),
      spMax: Math.max(...sps),
      spMean,
      spScale,
      inputMean,
      inputScale,
      beta,
      xtxInv: xtxInv.to2DArray(),
      rho,
      inflation: (1 + rho) / (1 - rho),
    },
  };
}

/** Two-sided t multiplier of an interval with `intervalPct` coverage on the model's residual degrees of freedom. */
export function intervalT(m: ResponseModel, intervalPct: number): number {
  return tQuantile(0.5 + intervalPct / 200, m.n - m.p);
}

export function predictResponse(m: ResponseModel, sp: number, inputs: readonly number[] = [], intervalPct = 90): ResponsePrediction {
  const x = designRow(m, sp, inputs);
  const mean = x.reduce((a, v, k) => a + v * m.beta[k], 0);
  const h = m.inflation * quadForm(m.xtxInv, x);
  const half = intervalT(m, intervalPct) * m.rmse * Math.sqrt(1 + h);
  return { mean, low: mean - half, high: mean + half, seMean: m.rmse * Math.sqrt(h) };
}

/**
 * Standard error of ŷ(sp1) − ŷ(sp0) at the same other inputs: the uncertainty of a predicted
 * change of the mean KPI (the intercept and the inputs cancel; the new sample's noise does not enter).
 */
export function differenceSe(m: ResponseModel, sp0: number, sp1: number, inputs: readonly number[] = []): number {
  const x0 = designRow(m, sp0, inputs);
  const x1 = designRow(m, sp1, inputs);
  return (
    m.rmse *
    Math.sqrt(
      m.inflation *
        quadForm(
          m.xtxInv,
          x1.map((v, k) => v - x0[k]),
        ),
    )
  );
}
