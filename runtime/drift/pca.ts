/**
 * Principal component analysis of a reference period, the model under Hotelling's T² (hotelling.ts)
 * and the residual statistic Q / SPE (spe.ts).
 *
 * Fit: each tag is standardised with its reference mean and standard deviation (sample, n − 1), so
 * tags in different units weigh alike; the covariance of the standardised rows (= the correlation
 * matrix) is eigen-decomposed (ml-matrix, symmetric); eigenpairs are sorted by falling eigenvalue.
 *
 * Number of retained components k: the smallest k whose cumulative explained variance
 * Σ_{i≤k} λ_i / Σ λ_i reaches `varianceFraction` (default 0.9), capped at p − 1 so that a residual
 * space is always left for Q (with k = p, Q is identically 0 and says nothing). `components` fixes k
 * instead.
 *
 * Tags whose reference standard deviation is 0 (flat for the whole reference period) cannot be
 * standardised; they are left out of the model and listed in `droppedTags` (SKAB's reference code
 * does the same). The model is honest about what it saw: `referenceRows`, the per-tag mean, std,
 * min and max of the reference are kept so callers can tell when a row lies outside it.
 */
import { EigenvalueDecomposition, Matrix, inverse } from 'ml-matrix';
import { TwinError } from '../model/errors.js';

export interface PcaOptions {
  /** Cumulative explained variance that chooses k (0 < f ≤ 1). Default 0.9. */
  varianceFraction?: number;
  /** Fixed number of retained components (1 ≤ k < p); overrides varianceFraction. */
  components?: number;
}

export interface PcaModel {
  /** Tags in the model, in column order (dropped tags removed). */
  tags: string[];
  /** Column index of each model tag in the rows given to `fitPca` / `standardise`. */
  columns: number[];
  /** Tags left out because their reference std was 0. */
  droppedTags: string[];
  /** Number of reference rows. */
  referenceRows: number;
  mean: Float64Array;
  std: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** All eigenvalues of the correlation matrix, descending (length p). */
  eigenvalues: Float64Array;
  /** Eigenvectors as columns, p × p, row-major: loadings[j * p + i] = weight of tag j in PC i. */
  loadings: Float64Array;
  /** Retained components. */
  k: number;
  /** Fraction of the variance the k components explain. */
  explained: number;
}

export const DEFAULT_VARIANCE_FRACTION = 0.9;

/**
 * Fit on reference rows (each row one value per input column). `tags` names the columns.
 * Throws TwinError MODEL when there are too few rows or too few varying tags.
 */
export function fitPca(rows: ArrayLike<number>[], tags: string[], opts: PcaOptions = {}): PcaModel {
  const f = opts.varianceFraction ?? DEFAULT_VARIANCE_FRACTION;
  if (!(f > 0 && f <= 1)) throw new TwinError('BAD_CONFIG', `varianceFraction must be in (0, 1], got ${f}`);
  const n = rows.length;
  const cols = tags.length;
  for (const r of rows) {
    if (r.length !== cols) throw new TwinError('MODEL', `reference row has ${r.length} values, expected ${cols}`);
  }
  // Per-column mean and sample std (two-pass: stable for large offsets such as 230 V).
  const mean0 = new Float64Array(cols);
  const std0 = new Float64Array(cols);
  for (const r of rows) for (let j = 0; j < cols; j++) mean0[j] += r[j];
  for (let j = 0; j < cols; j++) mean0[j] /= n;
  for (const r of rows) for (let j = 0; j < cols; j++) std0[j] += (r[j] - mean0[j]) ** 2;
  for (let j = 0; j < cols; j++) std0[j] = Math.sqrt(std0[j] / Math.max(1, n - 1));

  const columns: number[] = [];
  const droppedTags: string[] = [];
  for (let j = 0; j < cols; j++) {
    // "Flat": no spread beyond floating-point noise relative to the level.
    if (std0[j] > 1e-12 * Math.max(1, Math.abs(mean0[j]))) columns.push(j);
    else droppedTags.push(tags[j]);
  }
  const p = columns.length;
  if (p < 2) throw new TwinError('MODEL', `PCA needs at least 2 varying tags in the reference, got ${p}`);
  if (n < p + 2) throw new TwinError('MODEL', `PCA needs more than ${p + 1} reference rows for ${p} tags, got ${n}`);
  if (opts.components !== undefined && !(Number.isInteger(opts.components) && opts.components >= 1 && opts.components < p)) {
    throw new TwinError('BAD_CONFIG', `components must be an integer in [1, ${p - 1}], got ${opts.components}`);
  }

  const mean = Float64Array.from(columns, (j) => mean0[j]);
  const std = Float64Array.from(columns, (j) => std0[j]);
  const min = new Float64Array(p).fill(Infinity);
  const max = new Float64Array(p).fill(-Infinity);
  const cov = Matrix.zeros(p, p);
  const z = new Float64Array(p);
  for (const r of rows) {
    for (let a = 0; a < p; a++) {
      const v = r[columns[a]];
      if (v < min[a]) min[a] = v;
      if (v > max[a]) max[a] = v;
      z[a] = (v - mean[a]) / std[a];
    }
    for (let a = 0; a < p; a++) for (let b = a; b < p; b++) cov.set(a, b, cov.get(a, b) + z[a] * z[b]);
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const c = cov.get(a, b) / (n - 1);
      cov.set(a, b, c);
      cov.set(b, a, c);
    }
  }
  const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const vals = eig.realEigenvalues;
  const vecs = eig.eigenvectorMatrix;
  const order = vals.map((_, i) => i).sort((a, b) => vals[b] - vals[a]);
  const eigenvalues = Float64Array.from(order, (i) => Math.max(0, vals[i])); // clip −1e-16 round-off
  const loadings = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    // Sign convention: the largest-magnitude loading of each PC is positive (reproducible output).
    let big = 0;
    for (let j = 0; j < p; j++) if (Math.abs(vecs.get(j, order[i])) > Math.abs(big)) big = vecs.get(j, order[i]);
    const s = big < 0 ? -1 : 1;
    for (let j = 0; j < p; j++) loadings[j * p + i] = s * vecs.get(j, order[i]);
  }
  const total = eigenvalues.reduce((s, v) => s + v, 0);
  let k = opts.components ?? 0;
  if (k === 0) {
    let cum = 0;
    while (k < p - 1) {
      cum += eigenvalues[k];
      k++;
      if (cum / total >= f - 1e-12) break;
    }
  }
  // A component with (numerically) zero variance cannot be scaled by 1/λ in T²: keep it in the residual.
  while (k > 1 && eigenvalues[k - 1] <= 1e-10 * total) k--;
  let explained = 0;
  for (let i = 0; i < k; i++) explained += eigenvalues[i];
  explained /= total;
  return {
    tags: columns.map((j) => tags[j]),
    columns,
    droppedTags,
    referenceRows: n,
    mean,
    std,
    min,
    max,
    eigenvalues,
    loadings,
    k,
    explained,
  };
}

/** Standardised model vector of a full input row (columns as given to fitPca). */
export function standardise(m: PcaModel, row: ArrayLike<number>, out: Float64Array = new Float64Array(m.tags.length)): Float64Array {
  for (let a = 0; a < out.length; a++) out[a] = (row[m.columns[a]] - m.mean[a]) / m.std[a];
  return out;
}

/** Scores t = P_kᵀ z on the retained components. */
export function project(m: PcaModel, z: ArrayLike<number>, out: Float64Array = new Float64Array(m.k)): Float64Array {
  const p = m.tags.length;
  for (let i = 0; i < m.k; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += m.loadings[j * p + i] * z[j];
    out[i] = s;
  }
  return out;
}

/**
 * What the other tags say tag `j` should be: the weights β of the conditional expectation
 * E[z_j | z_others] = Σ_{o≠j} β_o z_o under the reference correlation C = P Λ Pᵀ
 * (β = C[j, O] C[O, O]⁻¹; pseudo-inverse, so collinear tags do not break it). Used as the
 * "expected" value of a flagged tag when classifying a change (classify.ts). β_j = 0.
 */
export function weightsFromOthers(m: PcaModel, j: number): Float64Array {
  const p = m.tags.length;
  const c = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < p; i++) s += m.loadings[a * p + i] * m.eigenvalues[i] * m.loadings[b * p + i];
    return s;
  };
  const others = Array.from({ length: p }, (_, i) => i).filter((i) => i !== j);
  const coo = new Matrix(others.map((a) => others.map((b) => c(a, b))));
  const cjo = new Matrix([others.map((o) => c(j, o))]);
  const beta = cjo.mmul(inverse(coo, true));
  const w = new Float64Array(p);
  others.forEach((o, n) => (w[o] = beta.get(0, n)));
  return w;
}

/** The value of tag `j` (model index) expected from the other tags of an input row, in its unit. */
export function expectedFromOthers(m: PcaModel, j: number, weights: ArrayLike<number>, row: ArrayLike<number>): number {
  let zj = 0;
  for (let o = 0; o < m.tags.length; o++) if (o !== j) zj += weights[o] * ((row[m.columns[o]] - m.mean[o]) / m.std[o]);
  return m.mean[j] + m.std[j] * zj;
}
