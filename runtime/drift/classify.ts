/**
 * Fault classification of a detected change (pure): is it the sensor, or the process?
 *
 * Input: the flagged tag's recent readings around the change time, the related tags' readings over
 * the same span (same asset, physically coupled), optionally the flagged tag's physics/model
 * estimate (`expected`) or its innovations. Each window is split at `changeTsMs` into "before"
 * (t < change) and "after" (t ≥ change); levels are medians and noise is the MAD-σ
 * (1.4826 · median |x − median|) of the before part, both robust to the outliers being judged.
 *
 * Decision, in this order (the first that applies):
 *  1. too few readings on either side of the change in the flagged tag → `unclassified`;
 *  2. stuck: after the change ≥ `stuckFraction` of the flagged readings repeat one value (within
 *     `stuckTolerance`) and its spread has collapsed below `varianceCollapse` × the before spread
 *     → `sensor-fault` / `stuck` (a frozen sensor is a sensor fault whatever the process does);
 *  3. spike: at most `spikeMaxSamples` flagged readings right after the change lie beyond k σ, then
 *     the tag returns (its after level is within k σ of before) and no related tag shows an outlier
 *     at those times → `sensor-fault` / `spike`;
 *  4. level change of the flagged tag — its own level moved ≥ k σ, or its residual against the
 *     estimate (value − expected) moved ≥ k σ of the residual's noise, or the mean innovation is
 *     ≥ k — corroborated when any related tag's own level moved ≥ k of its own σ, or when the
 *     estimate moved with it (residual steady) → `process-change`; otherwise, with related tags or
 *     an estimate available to corroborate and none doing so → `sensor-fault` / `drift`; with
 *     nothing to compare against → `unclassified` (honest: one tag alone cannot tell). The
 *     residual matters where the process itself moves the tag a lot: a small sensor drift hides in
 *     the raw level but stands out against what the related tags say the value should be;
 *  5. spread grew ≥ `noiseGrowth` × with no level change and no related tag moved
 *     → `sensor-fault` / `noise`.
 *  Spike (3) and noise (5) look at the residual value − expected when an estimate is given (so a
 *  process excursion the estimate follows is not mistaken for a sensor spike), else at the raw tag;
 *  6. otherwise → `unclassified`.
 * The evidence always lists every related tag with its change, change in σ and `moved`.
 */
import type { DriftKind, RelatedTagEvidence, SensorFaultType } from '../model/drift.js';

export interface TimedValue {
  tsMs: number;
  value: number;
}

export interface ClassifyInput {
  tag: string;
  /** Flagged tag's readings, in time order, spanning both sides of the change. */
  window: TimedValue[];
  changeTsMs: number;
  related: { tag: string; window: TimedValue[] }[];
  /** Physics/model-expected values of the flagged tag at (roughly) the same times. */
  expected?: TimedValue[];
  /** Innovations (measurement − prediction) of the flagged tag after the change, in σ units. */
  innovationsSigma?: number[];
}

export interface ClassifyOptions {
  /** Robust σ multiple that counts as a real level change. Default 3. */
  k?: number;
  /** Readings needed on each side of the change. Default 5. */
  minSamples?: number;
  stuckFraction?: number;
  stuckTolerance?: number;
  varianceCollapse?: number;
  spikeMaxSamples?: number;
  noiseGrowth?: number;
}

export interface Classification {
  kind: DriftKind;
  faultType?: SensorFaultType;
  /**
   * Flagged tag's level change (after − before median), in its unit; when only its residual against
   * the estimate moved, the residual's change.
   */
  magnitude: number;
  direction: 'up' | 'down' | 'both';
  evidence: {
    related: RelatedTagEvidence[];
    flagged: { change: number; changeSigma: number; sigmaBefore: number; sigmaAfter: number; before: number; after: number };
    /** Residual (value − expected) level change in its unit and in σ of the residual, when an estimate was given. */
    residualChange?: number;
    residualChangeSigma?: number;
    /** Mean innovation after the change, σ units, when given. */
    meanInnovationSigma?: number;
    reason: string;
  };
}

const MAD_TO_SIGMA = 1.4826;
/** Cap for a change measured against zero noise (a flat reference): large, but finite for JSON. */
const SIGMA_CAP = 1e6;

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function madSigma(xs: number[], med = median(xs)): number {
  return MAD_TO_SIGMA * median(xs.map((x) => Math.abs(x - med)));
}

function split(w: TimedValue[], changeTsMs: number): [number[], number[]] {
  const before: number[] = [];
  const after: number[] = [];
  for (const p of w) (p.tsMs < changeTsMs ? before : after).push(p.value);
  return [before, after];
}

/** Change in σ units; σ = 0 (flat before) gives 0 for no change and ±SIGMA_CAP otherwise. */
function inSigma(change: number, sigma: number): number {
  if (sigma > 0) return Math.max(-SIGMA_CAP, Math.min(SIGMA_CAP, change / sigma));
  return change === 0 ? 0 : Math.sign(change) * SIGMA_CAP;
}

interface LevelStats {
  before: number;
  after: number;
  change: number;
  sigmaBefore: number;
  sigmaAfter: number;
  changeSigma: number;
  nBefore: number;
  nAfter: number;
}

function levelStats(w: TimedValue[], changeTsMs: number): LevelStats {
  const [b, a] = split(w, changeTsMs);
  const before = median(b);
  const after = median(a);
  const sigmaBefore = b.length ? madSigma(b, before) : NaN;
  const sigmaAfter = a.length ? madSigma(a, after) : NaN;
  const change = b.length && a.length ? after - before : 0;
  // Noise of the before part; if the tag was flat there, the after part's (still robust).
  const sigma = sigmaBefore > 0 ? sigmaBefore : sigmaAfter > 0 ? sigmaAfter : 0;
  return { before, after, change, sigmaBefore, sigmaAfter, changeSigma: inSigma(change, sigma), nBefore: b.length, nAfter: a.length };
}

export function classifyChange(input: ClassifyInput, opts: ClassifyOptions = {}): Classification {
  const k = opts.k ?? 3;
  const minSamples = opts.minSamples ?? 5;
  const stuckFraction = opts.stuckFraction ?? 0.9;
  const stuckTolerance = opts.stuckTolerance ?? 0;
  const varianceCollapse = opts.varianceCollapse ?? 0.1;
  const spikeMaxSamples = opts.spikeMaxSamples ?? 3;
  const noiseGrowth = opts.noiseGrowth ?? 3;

  const f = levelStats(input.window, input.changeTsMs);
  const related: RelatedTagEvidence[] = input.related.map((r) => {
    const s = levelStats(r.window, input.changeTsMs);
    const enough = s.nBefore >= minSamples && s.nAfter >= minSamples;
    return { tag: r.tag, change: s.change, changeSigma: s.changeSigma, moved: enough && Math.abs(s.changeSigma) >= k };
  });
  const anyMoved = related.some((r) => r.moved);
  const evidence: Classification['evidence'] = {
    related,
    flagged: { change: f.change, changeSigma: f.changeSigma, sigmaBefore: f.sigmaBefore, sigmaAfter: f.sigmaAfter, before: f.before, after: f.after },
    reason: '',
  };
  const out = (kind: DriftKind, reason: string, faultType?: SensorFaultType): Classification => {
    evidence.reason = reason;
    // Size of the change: the raw level change, unless only the residual against the estimate
    // moved (the process noise hides it in the raw level): then the residual's.
    const useResidual =
      Math.abs(f.changeSigma) < k && evidence.residualChangeSigma !== undefined && Math.abs(evidence.residualChangeSigma) >= k;
    const magnitude = useResidual ? (evidence.residualChange as number) : f.change;
    const direction = magnitude > 0 ? 'up' : magnitude < 0 ? 'down' : 'both';
    return { kind, ...(faultType ? { faultType } : {}), magnitude, direction, evidence };
  };

  if (f.nBefore < minSamples || f.nAfter < minSamples) {
    return out('unclassified', `too little data: ${f.nBefore} readings before and ${f.nAfter} after the change (need ${minSamples} each)`);
  }

  // Estimate-based evidence: does the flagged tag depart from what the model expects?
  let estimateCorroborates: boolean | undefined;
  /** The series the spike and noise tests look at: the residual when an estimate is given, else the raw tag. */
  let primary = input.window;
  let pStats = f;
  if (input.expected && input.expected.length > 0) {
    const byTs = new Map(input.expected.map((e) => [e.tsMs, e.value]));
    const resid: TimedValue[] = [];
    for (const p of input.window) {
      const e = byTs.get(p.tsMs);
      if (e !== undefined) resid.push({ tsMs: p.tsMs, value: p.value - e });
    }
    const r = levelStats(resid, input.changeTsMs);
    if (r.nBefore >= minSamples && r.nAfter >= minSamples) {
      evidence.residualChange = r.change;
      evidence.residualChangeSigma = r.changeSigma;
      estimateCorroborates = Math.abs(r.changeSigma) < k;
      primary = resid;
      pStats = r;
    }
  } else if (input.innovationsSigma && input.innovationsSigma.length >= minSamples) {
    const m = input.innovationsSigma.reduce((s, x) => s + x, 0) / input.innovationsSigma.length;
    evidence.meanInnovationSigma = m;
    estimateCorroborates = Math.abs(m) < k;
  }

  // 2. stuck
  const after = split(input.window, input.changeTsMs)[1];
  let mode = after[after.length - 1];
  let best = 0;
  if (stuckTolerance === 0) {
    // Exact repeats: one pass with counts.
    const counts = new Map<number, number>();
    for (const x of after) {
      const n = (counts.get(x) ?? 0) + 1;
      counts.set(x, n);
      if (n > best) {
        best = n;
        mode = x;
      }
    }
  } else {
    for (const c of after) {
      let n = 0;
      for (const x of after) if (Math.abs(x - c) <= stuckTolerance) n++;
      if (n > best) {
        best = n;
        mode = c;
      }
    }
  }
  if (best / after.length >= stuckFraction && f.sigmaBefore > 0 && !(f.sigmaAfter > varianceCollapse * f.sigmaBefore)) {
    return out('sensor-fault', `stuck: ${best} of ${after.length} readings after the change repeat ${mode} while the spread before was ${f.sigmaBefore.toPrecision(3)}`, 'stuck');
  }

  // 3. spike (on the residual when there is one: a process excursion is not a sensor spike)
  const sigmaB = pStats.sigmaBefore > 0 ? pStats.sigmaBefore : pStats.sigmaAfter;
  const outlierIdx: number[] = [];
  const afterTimed = primary.filter((p) => p.tsMs >= input.changeTsMs);
  for (let i = 0; i < afterTimed.length; i++) {
    if (Math.abs(afterTimed[i].value - pStats.before) > k * sigmaB) outlierIdx.push(i);
  }
  const returned = Math.abs(pStats.after - pStats.before) < k * sigmaB;
  if (sigmaB > 0 && outlierIdx.length > 0 && outlierIdx.length <= spikeMaxSamples && returned && pStats.nBefore > 0) {
    const spikeTimes = outlierIdx.map((i) => afterTimed[i].tsMs);
    const lo = Math.min(...spikeTimes);
    const hi = Math.max(...spikeTimes);
    const relatedSpiked = input.related.some((r) => {
      const s = levelStats(r.window, input.changeTsMs);
      const sig = s.sigmaBefore > 0 ? s.sigmaBefore : s.sigmaAfter;
      return sig > 0 && r.window.some((p) => p.tsMs >= lo && p.tsMs <= hi && Math.abs(p.value - s.before) > k * sig);
    });
    if (!relatedSpiked && !anyMoved) {
      return out('sensor-fault', `spike: ${outlierIdx.length} isolated reading(s) beyond ${k}σ, then back to the previous level; no related tag moved`, 'spike');
    }
  }

  // 4. level change, seen in the raw level or against the estimate
  const estimateMoved =
    (evidence.residualChangeSigma !== undefined && Math.abs(evidence.residualChangeSigma) >= k) ||
    (evidence.meanInnovationSigma !== undefined && Math.abs(evidence.meanInnovationSigma) >= k);
  if (Math.abs(f.changeSigma) >= k || estimateMoved) {
    const size = Math.abs(f.changeSigma) >= k ? `level moved ${f.changeSigma.toFixed(1)}σ` : 'value left its expected relation';
    if (anyMoved) {
      const moved = related.filter((r) => r.moved).map((r) => r.tag);
      return out('process-change', `${size} and related tag(s) ${moved.join(', ')} moved too`);
    }
    if (estimateCorroborates === true) {
      return out('process-change', `${size} and the estimate moved with it (residual steady)`);
    }
    if (related.length > 0 || estimateCorroborates === false) {
      return out('sensor-fault', `${size} but no related tag${estimateCorroborates === false ? ' nor the estimate' : ''} corroborates it`, 'drift');
    }
    return out('unclassified', `${size} but there is no related tag or estimate to corroborate or refute it`);
  }

  // 5. noise (again on the residual when there is one)
  if (pStats.sigmaBefore > 0 && pStats.sigmaAfter >= noiseGrowth * pStats.sigmaBefore && !anyMoved) {
    return out('sensor-fault', `spread grew ${(pStats.sigmaAfter / pStats.sigmaBefore).toFixed(1)}× with no level change and no related tag moved`, 'noise');
  }
  return out('unclassified', 'no level change, collapse, spike or noise growth beyond the thresholds in the flagged tag');
}
