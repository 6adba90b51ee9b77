/**
 * The Numenta Anomaly Benchmark scorer (NAB 1.x, `nab/sweeper.py` + the normalisation of
 * `nab/runner.py`), ported for one fixed threshold: a row is a detection when its score ≥ threshold
 * (binary detections: score 1/0, threshold 0.5).
 *
 * Per file:
 * - the first min(floor(0.15 n), 0.15 · 5000) rows are probationary and never scored;
 * - every row inside a labelled window [start, end] weighs scaledSigmoid(−(right − i + 1)/width)
 *   · A_TP / scaledSigmoid(−1) (≈ +A_TP at the window's first row, ≈ 0 at its last);
 * - every row outside windows weighs scaledSigmoid(|prevRight − i|/(prevWidth − 1)) · A_FP, where
 *   prev is the last window that ended before it (−A_FP when there is none): a detection just after a
 *   window costs almost nothing, one three window-widths later the full A_FP;
 * - a window scores the best weight among its detected rows (= its first detection: the weight falls
 *   across the window), or −A_FN without one; every detected row outside windows adds its weight.
 * Windows whose rows are all probationary take no part. Over a corpus the raw sums are normalised:
 * 100 · (raw − null)/(perfect − null), null = the never-detecting detector's raw score (−A_FN per
 * scored window), perfect = A_TP · (all labelled windows), as NAB's runner does.
 */

export interface NabCostProfile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's three application profiles (config/profiles.json). */
export const NAB_PROFILES = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
} as const satisfies Record<string, NabCostProfile>;

export type NabProfileName = keyof typeof NAB_PROFILES;
export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];

export const NAB_PROBATION_FRACTION = 0.15;

/** Rows at the start of an n-row file whose detections are not scored. */
export function probationaryLength(n: number, fraction = NAB_PROBATION_FRACTION): number {
  return Math.min(Math.floor(fraction * n), fraction * 5000);
}

/** NAB's scaled sigmoid: +0.987 at −1 (a window's left edge), 0 at 0, −1 from 3 on. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/** Marks the rows of one file: `window[i]` = index of the window row i lies in, −1 outside, −2 probationary. */
export interface NabRows {
  window: Int32Array;
  /** Row weight under unit costs before profile scaling: in-window rows ∈ (0, 1], others ∈ [−1, 0]. */
  unitWeight: Float64Array;
  /** Windows (as given, sorted by start) that have at least one scored row. */
  scoredWindows: number;
  /** First row index of each window, −1 when no row falls inside it. */
  windowStart: Int32Array;
}

/**
 * Row weights of one file. Times in ms, ascending; windows [startMs, endMs] inclusive, not overlapping.
 * A window's rows are those with startMs ≤ t ≤ endMs (NAB requires the limits to be row times).
 */
export function nabRows(
  tsMs: ArrayLike<number>,
  windows: readonly (readonly [number, number])[],
  probationFraction = NAB_PROBATION_FRACTION,
): NabRows {
  const n = tsMs.length;
  const sorted = [...windows].sort((a, b) => a[0] - b[0]);
  const window = new Int32Array(n).fill(-1);
  const unitWeight = new Float64Array(n);
  const windowStart = new Int32Array(sorted.length).fill(-1);
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(n, probationFraction);
  let w = 0;
  let cur = -1;
  let curRight = -1;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  const scored = new Set<number>();
  for (let i = 0; i < n; i++) {
    const t = tsMs[i];
    while (cur < 0 && w < sorted.length && sorted[w][1] < t) w++; // a window between two rows: skipped
    if (cur < 0 && w < sorted.length && t >= sorted[w][0]) {
      cur = w++;
      let r = i;
      while (r + 1 < n && tsMs[r + 1] <= sorted[cur][1]) r++;
      curRight = r;
      curWidth = r - i + 1;
      windowStart[cur] = i;
    }
    if (cur >= 0) {
      unitWeight[i] = scaledSigmoid(-(curRight - i + 1) / curWidth) / maxTp;
    } else {
      unitWeight[i] = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    }
    if (i >= probation) {
      window[i] = cur;
      if (cur >= 0) scored.add(cur);
    } else window[i] = -2;
    if (cur >= 0 && i === curRight) {
      prevRight = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return { window, unitWeight, scoredWindows: scored.size, windowStart };
}

export interface NabFileScore {
  /** Raw score under the profile (sum of window and false-positive parts). */
  score: number;
  /** The never-detecting detector's raw score on this file (−A_FN per scored window). */
  nullScore: number;
  /** Labelled windows of the file (all of them, as NAB's normalisation counts). */
  windows: number;
  detectedWindows: number;
  /** Detected rows in windows / outside windows (scored rows only), as NAB's tp/fp counts. */
  tpRows: number;
  fpRows: number;
  /** Rows from the first row of each window to its first detection (−1: missed). */
  delayRows: number[];
}

/** Scores one file's per-row detections (`scores[i] ≥ threshold`) under a profile. */
export function nabScoreFile(rows: NabRows, scores: ArrayLike<number | boolean>, profile: NabCostProfile, threshold = 0.5): NabFileScore {
  const nWin = rows.windowStart.length;
  const best = new Float64Array(nWin).fill(NaN);
  const firstDet = new Int32Array(nWin).fill(-1);
  let fpPart = 0;
  let tpRows = 0;
  let fpRows = 0;
  for (let i = 0; i < rows.window.length; i++) {
    const wi = rows.window[i];
    if (wi === -2 || !(Number(scores[i]) >= threshold)) continue;
    if (wi >= 0) {
      tpRows++;
      const v = rows.unitWeight[i] * profile.tpWeight;
      if (!(best[wi] >= v)) best[wi] = v;
      if (firstDet[wi] < 0) firstDet[wi] = i;
    } else {
      fpRows++;
      fpPart += rows.unitWeight[i] * profile.fpWeight;
    }
  }
  let winPart = 0;
  let detected = 0;
  const scoredWin = new Set<number>();
  for (let i = 0; i < rows.window.length; i++) if (rows.window[i] >= 0) scoredWin.add(rows.window[i]);
  for (const wi of scoredWin) {
    // NAB keeps max(−A_FN, best detection), so a detection at a window's very end still beats a miss
    if (Number.isNaN(best[wi])) winPart -= profile.fnWeight;
    else {
      winPart += Math.max(-profile.fnWeight, best[wi]);
      detected++;
    }
  }
  const delayRows = Array.from(firstDet, (d, wi) => (d < 0 ? -1 : d - rows.windowStart[wi]));
  return {
    score: winPart + fpPart,
    nullScore: -profile.fnWeight * scoredWin.size,
    windows: nWin,
    detectedWindows: detected,
    tpRows,
    fpRows,
    delayRows,
  };
}

/** NAB's normalised score over a corpus: 100 · (raw − null)/(perfect − null). */
export function nabNormalise(files: readonly Pick<NabFileScore, 'score' | 'nullScore' | 'windows'>[], profile: NabCostProfile): number {
  let raw = 0;
  let nul = 0;
  let windows = 0;
  for (const f of files) {
    raw += f.score;
    nul += f.nullScore;
    windows += f.windows;
  }
  const perfect = windows * profile.tpWeight;
  return perfect === nul ? 0 : (100 * (raw - nul)) / (perfect - nul);
}

/** NAB timestamps (`YYYY-MM-DD HH:MM:SS[.ffffff]`, no zone) as ms, read as UTC. */
export function nabTimeMs(text: string): number {
  const t = Date.parse(
    text
      .trim()
      .replace(' ', 'T')
      .replace(/(\.\d{3})\d*$/, '$1') + 'Z',
  );
  if (Number.isNaN(t)) throw new Error(`not a NAB timestamp: ${text}`);
  return t;
}
