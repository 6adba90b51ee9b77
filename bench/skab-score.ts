/**
 * Scoring functions of the Skoltech Anomaly Benchmark (SKAB), reusable by `twinloop replay` and the
 * twin-drift node checks. Both follow SKAB's own evaluation code (tsad `chp_score`, as used for the
 * "Proposed Leaderboard" in waico/SKAB): counts are summed over all files before the ratios.
 *
 * Point-wise (outlier detection): TP/TN/FP/FN of the 0/1 prediction against the `anomaly` label,
 * summed over files; F1 = TP / (TP + (FP + FN)/2), FAR = FP / (FP + TN) · 100 %,
 * MAR = FN / (FN + TP) · 100 %.
 *
 * NAB-style change-point score: for each labelled change point a detection window
 * [cp, cp + windowMs] (to the RIGHT, 60 s on the leaderboard); overlapping windows are resolved by
 * moving the later window's left edge to the earlier one's right edge ("cut right window"). Each
 * window with at least one predicted change point in it is a TP scored by its first prediction with
 * SKAB's "improved" scaled sigmoid: y(x) = (A_tp − A_fp)/2 · (−tanh(x)/tanh(π/2)) + (A_tp − A_fp)/2 + A_fp,
 * x = −π/2 … π/2 across the window sampled at 1000 points (A_tp at the change point, A_fp at the
 * window's end); a window without one is an FN (A_fn); every predicted change point outside all
 * windows is an FP (A_fp). Per profile, score = 100 (S − S_null)/(S_perfect − S_null) with
 * S_null = windows · A_fn and S_perfect = windows · A_tp, summed over files. Profiles (A_tp, A_fp,
 * A_fn): standard (1, −0.11, −1), low FP (1, −0.22, −1), low FN (1, −0.11, −2). This is SKAB's
 * variant of NAB (its scale function and per-file sums), not the original NAB scorer with its
 * relative window positions and threshold optimisation.
 */

// Point-wise counts and metrics live in runtime/eval (one copy, shared with the NAB bench and `twinloop evaluate`).
export { confusion, pointwise, risingEdges, type ConfusionCounts, type PointwiseResult } from '../runtime/eval/point-metrics.js';

export interface NabProfile {
  aTp: number;
  aFp: number;
  aFn: number;
}

export const NAB_PROFILES: Record<'standard' | 'lowFp' | 'lowFn', NabProfile> = {
  standard: { aTp: 1, aFp: -0.11, aFn: -1 },
  lowFp: { aTp: 1, aFp: -0.22, aFn: -1 },
  lowFn: { aTp: 1, aFp: -0.11, aFn: -2 },
};

export interface NabFile {
  /** Time of each row, ms, ascending. */
  tsMs: ArrayLike<number>;
  /** Labelled change points (times, ms). */
  changePointsMs: number[];
  /** Predicted change points (times, ms), e.g. the rising edges of an alarm. */
  predictedMs: number[];
}

export interface NabResult {
  standard: number;
  lowFp: number;
  lowFn: number;
  windows: number;
  missed: number;
  falsePositives: number;
  /** Mean delay of the first detection in each detected window, ms. */
  meanDelayMs: number;
}

const DETAIL = 1000;

/** SKAB's "improved" scale function at relative position `rel` (0 = change point, 1 = window end). */
export function nabScale(rel: number, p: NabProfile): number {
  let i = Math.floor(rel * DETAIL);
  if (i >= DETAIL) i = DETAIL - 1;
  if (i < 0) i = 0;
  const x = -Math.PI / 2 + (i * Math.PI) / (DETAIL - 1);
  const a = (p.aTp - p.aFp) / 2;
  return (a * -Math.tanh(x)) / Math.tanh(Math.PI / 2) + a + p.aFp;
}

/** Detection windows of one file, overlaps cut from the right window's left edge. */
export function nabWindows(changePointsMs: number[], windowMs: number): [number, number][] {
  const w = [...changePointsMs].sort((a, b) => a - b).map((t) => [t, t + windowMs] as [number, number]);
  for (let i = 0; i + 1 < w.length; i++) if (w[i][1] >= w[i + 1][0]) w[i + 1][0] = w[i][1];
  return w;
}

export function nabScore(files: NabFile[], windowMs = 60_000): NabResult {
  const sums = { standard: [0, 0, 0], lowFp: [0, 0, 0], lowFn: [0, 0, 0] };
  let windows = 0;
  let missed = 0;
  let fps = 0;
  const delays: number[] = [];
  for (const f of files) {
    const w = nabWindows(f.changePointsMs, windowMs);
    const pred = [...f.predictedMs].sort((a, b) => a - b);
    const inAny = (t: number) => w.some(([l, r]) => t >= l && t <= r);
    const fpCount = pred.filter((t) => !inAny(t)).length;
    const firsts: (number | undefined)[] = w.map(([l, r]) => pred.find((t) => t >= l && t <= r));
    windows += w.length;
    fps += fpCount;
    for (let i = 0; i < w.length; i++) {
      const t = firsts[i];
      if (t === undefined) missed++;
      else delays.push(t - w[i][0]);
    }
    for (const name of ['standard', 'lowFp', 'lowFn'] as const) {
      const p = NAB_PROFILES[name];
      let s = p.aFp * fpCount;
      for (let i = 0; i < w.length; i++) {
        const t = firsts[i];
        if (t === undefined) s += p.aFn;
        else s += nabScale((t - w[i][0]) / (w[i][1] - w[i][0]), p);
      }
      sums[name][0] += s;
      sums[name][1] += w.length * p.aFn;
      sums[name][2] += w.length * p.aTp;
    }
  }
  const norm = (x: number[]) => (x[2] === x[1] ? 0 : (100 * (x[0] - x[1])) / (x[2] - x[1]));
  return {
    standard: norm(sums.standard),
    lowFp: norm(sums.lowFp),
    lowFn: norm(sums.lowFn),
    windows,
    missed,
    falsePositives: fps,
    meanDelayMs: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : NaN,
  };
}
