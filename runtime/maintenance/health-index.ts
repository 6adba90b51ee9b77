/**
 * Degradation signals for the RUL model: pick the channels that trend towards failure, standardise
 * them on the training units, and describe each moment of a history by the rolling mean and the
 * rolling slope of every selected channel over the last `windowRows` samples. Means smooth the
 * sensor noise; slopes say how fast the asset is wearing. Only the past is used at each row, so a
 * live history and a training history give the same features.
 */
import { TwinError } from '../model/errors.js';

/** One asset's history in event time: rows of `values` in `channels` order, ascending tsMs. */
export interface UnitHistory {
  asset: string;
  channels: string[];
  tsMs: number[];
  values: number[][];
}

export interface SignalSpec {
  /** selected channel names and their column in the input rows */
  channels: string[];
  columns: number[];
  mean: number[];
  std: number[];
  /** correlation of each selected channel with (capped) RUL on the training rows */
  corr: number[];
  windowRows: number;
}

/**
 * Select the channels whose correlation with capped RUL reaches `minAbsCorr` (constant channels
 * have none) and record their mean and std over every training row.
 */
export function selectSignals(units: UnitHistory[], rulCapMs: number, opts: { minAbsCorr: number; windowRows: number }): SignalSpec {
  if (units.length === 0) throw new TwinError('BAD_PAYLOAD', 'no training units');
  const channels = units[0].channels;
  for (const u of units) {
    if (u.channels.join('\u0000') !== channels.join('\u0000')) {
      throw new TwinError('BAD_PAYLOAD', `unit ${u.asset}: channels differ from ${units[0].asset}`);
    }
  }
  const n = channels.length;
  const s = new Array<number>(n).fill(0),
    ss = new Array<number>(n).fill(0),
    sy = new Array<number>(n).fill(0);
  let count = 0,
    y1 = 0,
    y2 = 0;
  for (const u of units) {
    const failMs = u.tsMs[u.tsMs.length - 1];
    for (let r = 0; r < u.values.length; r++) {
      const y = Math.min(failMs - u.tsMs[r], rulCapMs);
      count++;
      y1 += y;
      y2 += y * y;
      const row = u.values[r];
      for (let c = 0; c < n; c++) {
        s[c] += row[c];
        ss[c] += row[c] * row[c];
        sy[c] += row[c] * y;
      }
    }
  }
  const yMean = y1 / count,
    yVar = y2 / count - yMean * yMean;
  const spec: SignalSpec = { channels: [], columns: [], mean: [], std: [], corr: [], windowRows: opts.windowRows };
  for (let c = 0; c < n; c++) {
    const m = s[c] / count;
    const v = ss[c] / count - m * m;
    // relative test: sensors like s6 vary in the last digit only (rounding noise, not wear)
    if (!(v > 1e-12 * Math.max(1, m * m)) || !(yVar > 0)) continue;
    const corr = (sy[c] / count - m * yMean) / Math.sqrt(v * yVar);
    if (Math.abs(corr) < opts.minAbsCorr) continue;
    spec.channels.push(channels[c]);
    spec.columns.push(c);
    spec.mean.push(m);
    spec.std.push(Math.sqrt(v));
    spec.corr.push(corr);
  }
  if (spec.channels.length === 0) throw new TwinError('MODEL', 'no channel trends with time to failure');
  return spec;
}

/**
 * Features of every row of a history: [mean_1..mean_k, slope_1..slope_k] of the standardised
 * channels over the trailing window (shorter at the start of the history). Slopes are per row.
 */
export function signalFeatures(spec: SignalSpec, values: number[][]): number[][] {
  const k = spec.columns.length;
  const w = spec.windowRows;
  const z = values.map((row) => spec.columns.map((col, j) => (row[col] - spec.mean[j]) / spec.std[j]));
  const out: number[][] = [];
  for (let r = 0; r < z.length; r++) {
    const from = Math.max(0, r - w + 1);
    const m = r - from + 1;
    const f = new Array<number>(2 * k).fill(0);
    const tMean = (m - 1) / 2;
    let tVar = 0;
    for (let i = 0; i < m; i++) tVar += (i - tMean) ** 2;
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (let i = from; i <= r; i++) sum += z[i][j];
      const mean = sum / m;
      let cov = 0;
      for (let i = from; i <= r; i++) cov += (i - from - tMean) * (z[i][j] - mean);
      f[j] = mean;
      f[k + j] = tVar > 0 ? cov / tVar : 0;
    }
    out.push(f);
  }
  return out;
}
