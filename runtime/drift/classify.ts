/**
 * Fault classification of a detected change (pure): is it the sensor, or the process?
 *
 * Input: the flagged tag's recent readings around the change time, the related tags' readings over
 * the same span (same asset, physically coupled), optionally the flagged tag's physics/model
 * estimate (`expected`) or its innovations. Each window is split at `changeTsMs` into "before"
 * (t < change) and "after" (t ≥ change); levels are medians (robust to the outliers being judged).
 *
 * Noise σ (what "k σ" means): from successive differences, MAD-σ of x[i+1] − x[i] over √2, of the
 * before part (else the after part), and no larger than the before part's level spread (MAD-σ).
 * A slow trend (wear) inflates the level spread but not the differences, so a tag that moved with
 * a trend is not measured against the trend itself. Floors: the tag's resolution (smallest gap
 * between its distinct values) and `relativeNoiseFloor` × |level|. Related tags that cannot speak
 * to a change are kept out of corroboration (`usable: false` with the reason): too little data, a
 * side pinned at a limit (its most frequent value is its min or max and holds ≥ `pinnedFraction`
 * of the readings, e.g. a quality index at 100 %), fewer than `minDistinct` distinct values, or
 * monotonic over the window (≥ 4·minDistinct readings never decreasing or never increasing: a
 * counter or totaliser, whose level moves by design).
 * A related tag flat on both sides at two different values is a clean step (a valve): it moved.
 *
 * Corroboration by the related tags, either of:
 *  - per tag: a usable related tag's level moved ≥ k of its own σ (`moved`);
 *  - combined: Σ changeSigma² over the usable related tags against χ² with as many degrees of
 *    freedom, p < `corroborationAlpha` — several tags each moving 2σ the same way are a change
 *    none of them shows alone. changeSigma is in σ of one reading (an effect size, not a standard
 *    error), so one related tag's noise, or slow wander, cannot pass it.
 * Both are in `evidence.corroboration` (perTag, chi2, dof, pValue, alpha).
 *
 * Decision, in this order (the first that applies):
 *  1. too few readings on either side of the change in the flagged tag → `unclassified`;
 *  2. stuck: after the change ≥ `stuckFraction` of the flagged readings repeat one value (within
 *     `stuckTolerance`) and its noise has collapsed below `varianceCollapse` × the noise before
 *     → `sensor-fault` / `stuck` (a frozen sensor is a sensor fault whatever the process does);
 *  3. spike: at most `spikeMaxSamples` flagged readings after the change lie beyond
 *     max(k, the Bonferroni bound of the after readings at `spikeAlpha`) σ, then the tag returns
 *     (its after level is within k σ of before), no related tag shows an outlier at those times
 *     and none moved → `sensor-fault` / `spike`;
 *  4. level change of the flagged tag — its own level moved ≥ k σ (or `residualDeparture` says a
 *     detector against a model has established it), or its residual against the
 *     estimate (value − expected) moved ≥ k σ of the residual's noise, or the mean innovation is
 *     ≥ k — corroborated by the related tags (above), or by the estimate moving with it (residual
 *     steady) → `process-change`; otherwise, with usable related tags or an estimate available and
 *     none corroborating → `sensor-fault` / `drift`; with nothing to compare against →
 *     `unclassified` (honest: one tag alone cannot tell). The residual matters where the process
 *     itself moves the tag a lot: a small sensor drift hides in the raw level but stands out
 *     against what the related tags say the value should be;
 *  5. noise grew ≥ `noiseGrowth` × with no level change and no corroboration
 *     → `sensor-fault` / `noise`.
 *  Spike (3) and noise (5) look at the residual value − expected when an estimate is given (so a
 *  process excursion the estimate follows is not mistaken for a sensor spike), else at the raw tag;
 *  6. otherwise → `unclassified`.
 * The evidence always lists every related tag with its change, change in σ, its σ, `moved` and `usable`.
 */
import type { DriftKind, RelatedTagEvidence, SensorFaultType } from '../model/drift.js';
import { chi2Survival, madSigma, median, normalQuantile } from '../stats/index.js';
import type { TimedValue } from '../stats/timed-ring.js';

export type { TimedValue };

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
  /**
   * The flagged tag's departure is already established by a detector against a model (twin-alarm on
   * the twin's residual: a bias a few tenths of σ wide, far below k σ of the raw level, after a few
   * minutes): step 4's size test counts as passed, so the related tags alone say process or sensor.
   */
  residualDeparture?: boolean;
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
  /**
   * Also a spike when the outliers are at most this share of the after readings (recurring isolated
   * outliers of a failing sensor, seen over an alarm's on-delay). Default 0: spikeMaxSamples alone.
   */
  spikeMaxFraction?: number;
  noiseGrowth?: number;
  /** Chance that noise alone puts any after reading past the spike threshold. Default 0.01. */
  spikeAlpha?: number;
  /**
   * Off (default): the χ² scores are changeSigma, effect sizes in σ of one reading. A number m: the
   * scores are changes over their standard error, crediting at most m independent readings a side.
   */
  chi2EffectiveSamples?: number;
  /** Significance of the combined (χ²) test over the related tags. Default 0.01. */
  corroborationAlpha?: number;
  /** Noise σ is at least this share of the tag's level. Default 1e-3. */
  relativeNoiseFloor?: number;
  /** Distinct values a related tag needs on each side of the change to corroborate. Default 5. */
  minDistinct?: number;
  /** A side whose most frequent value is its min or max and holds this share of readings is pinned at a limit. Default 0.2. */
  pinnedFraction?: number;
}

/** A related tag's part in the evidence, with the noise it was measured against. */
export interface RelatedEvidence extends RelatedTagEvidence {
  /** σ its change is measured in (noise from successive differences, floored), in its unit. */
  noiseSigma: number;
  /** False when it cannot corroborate (too little data, pinned at a limit, too few distinct values). */
  usable: boolean;
  unusable?: string;
}

/** The two corroboration tests over the related tags. */
export interface Corroboration {
  /** Related tags that moved ≥ k σ each. */
  perTag: string[];
  /** Σ changeSigma² over the usable related tags (clean steps left out), its degrees of freedom and P(χ²_dof ≥ chi2). */
  chi2: number;
  dof: number;
  pValue: number;
  alpha: number;
  chi2Corroborates: boolean;
  /** Either test. */
  corroborated: boolean;
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
    related: RelatedEvidence[];
    corroboration: Corroboration;
    /** sigmaBefore/After: noise from successive differences on each side; noiseSigma: the (floored) σ of changeSigma. */
    flagged: {
      change: number;
      changeSigma: number;
      sigmaBefore: number;
      sigmaAfter: number;
      noiseSigma: number;
      before: number;
      after: number;
    };
    /** Residual (value − expected) level change in its unit and in σ of the residual, when an estimate was given. */
    residualChange?: number;
    residualChangeSigma?: number;
    /** Mean innovation after the change, σ units, when given. */
    meanInnovationSigma?: number;
    reason: string;
  };
}

/** Cap for a change measured against zero noise (a flat reference): large, but finite for JSON. */
const SIGMA_CAP = 1e6;

/**
 * Noise σ from successive differences: MAD-σ of x[i+1] − x[i], over √2. A slow trend only shifts
 * the differences' median (which the MAD removes), so, unlike the spread of the levels, it does
 * not inflate the noise that a change is measured against. Assumes readings in time order and
 * noise that is not strongly autocorrelated at the sample spacing.
 */
function diffSigma(xs: number[]): number {
  if (xs.length < 3) return NaN;
  const d: number[] = new Array<number>(xs.length - 1);
  for (let i = 1; i < xs.length; i++) d[i - 1] = xs[i] - xs[i - 1];
  return madSigma(d) / Math.SQRT2;
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

/** How one side of a window looks: distinct values, and whether it sits on a limit. */
interface SideShape {
  distinct: number;
  /** Share of readings equal to the most frequent value. */
  modeShare: number;
  /** The most frequent value is also the side's min or max (a clipped/limited signal). */
  modeAtEdge: boolean;
}

function shapeOf(xs: number[]): SideShape {
  const counts = new Map<number, number>();
  let mode = NaN;
  let best = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    const n = (counts.get(x) ?? 0) + 1;
    counts.set(x, n);
    if (n > best) {
      best = n;
      mode = x;
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return { distinct: counts.size, modeShare: xs.length ? best / xs.length : 0, modeAtEdge: mode === lo || mode === hi };
}

/** Smallest positive gap between distinct values (the tag's resolution, as far as it shows). */
function resolutionOf(xs: number[]): number {
  const s = Float64Array.from(xs).sort(); // numeric, in native code; repeats skipped below (no Set of doubles)
  let r = Infinity;
  for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]) r = Math.min(r, s[i] - s[i - 1]);
  return Number.isFinite(r) ? r : 0;
}

interface NoiseOptions {
  relativeNoiseFloor: number;
  minDistinct: number;
  pinnedFraction: number;
}

interface LevelStats {
  before: number;
  after: number;
  change: number;
  /** Noise σ from successive differences, before and after the change (unfloored). */
  sigmaBefore: number;
  sigmaAfter: number;
  /** The σ the change is measured in: the noise before (else after), floored. */
  sigma: number;
  changeSigma: number;
  nBefore: number;
  nAfter: number;
  /** Both sides flat at different values: a clean step (a valve, a mode), not noise. */
  step: boolean;
  /** Why the tag cannot say anything about a change (pinned at a limit, too few distinct values, monotonic). */
  unusable?: string;
  /** Monotonic over the window (a counter): its distance from the level before says nothing, not even about a spike. */
  monotonic: boolean;
}

/**
 * Never decreasing (or never increasing) over at least `minN` readings: a totaliser (energy, mass,
 * parts) whose level moves by design. A noisy measurement is not monotonic over a few dozen readings.
 */
function monotonic(w: TimedValue[], minN: number): boolean {
  if (w.length < minN) return false;
  let up = true;
  let down = true;
  for (let i = 1; i < w.length && (up || down); i++) {
    const d = w[i].value - w[i - 1].value;
    if (d < 0) up = false;
    if (d > 0) down = false;
  }
  return up || down;
}

function levelStats(w: TimedValue[], changeTsMs: number, o: NoiseOptions): LevelStats {
  const [b, a] = split(w, changeTsMs);
  const before = median(b);
  const after = median(a);
  const sigmaBefore = diffSigma(b);
  const sigmaAfter = diffSigma(a);
  const change = b.length && a.length ? after - before : 0;
  // Noise floor: the tag's resolution and a small share of its level, so that a tag whose readings
  // mostly repeat (quantised, or clipped at a limit) does not get a near-zero σ and "move" by
  // dozens of σ on pure noise.
  // For white noise the level spread (MAD-σ) and the difference estimate measure the same σ; a
  // trend inflates only the first, and the first is the less variable one: take the smaller.
  const spreadB = b.length ? madSigma(b, before) : NaN;
  const spreadA = a.length ? madSigma(a, after) : NaN;
  const pick = (d: number, l: number) => (d > 0 && l > 0 ? Math.min(d, l) : d > 0 ? d : l > 0 ? l : 0);
  const raw = pick(sigmaBefore, spreadB) || pick(sigmaAfter, spreadA);
  const level = Number.isFinite(before) ? before : after;
  const sigma = Math.max(raw, resolutionOf(w.map((p) => p.value)), o.relativeNoiseFloor * Math.abs(level || 0));
  const sb = shapeOf(b);
  const sa = shapeOf(a);
  const step = b.length > 0 && a.length > 0 && sb.distinct === 1 && sa.distinct === 1 && change !== 0;
  let unusable: string | undefined;
  let mono = false;
  if (!step) {
    const pinned = [sb, sa].some((s) => s.distinct > 0 && s.modeAtEdge && s.modeShare >= o.pinnedFraction);
    if (pinned) unusable = `pinned: ≥ ${Math.round(o.pinnedFraction * 100)} % of its readings on one side sit on its min or max`;
    else if (sb.distinct < o.minDistinct || sa.distinct < o.minDistinct)
      unusable = `too few distinct values (${sb.distinct} before, ${sa.distinct} after)`;
    else if ((mono = monotonic(w, 4 * o.minDistinct))) unusable = 'monotonic over the window: a counter or totaliser always moves';
  }
  return {
    before,
    after,
    change,
    sigmaBefore,
    sigmaAfter,
    sigma,
    changeSigma: step ? Math.sign(change) * SIGMA_CAP : inSigma(change, sigma),
    nBefore: b.length,
    nAfter: a.length,
    step,
    ...(unusable ? { unusable } : {}),
    monotonic: mono,
  };
}

export function classifyChange(input: ClassifyInput, opts: ClassifyOptions = {}): Classification {
  const k = opts.k ?? 3;
  const minSamples = opts.minSamples ?? 5;
  const stuckFraction = opts.stuckFraction ?? 0.9;
  const stuckTolerance = opts.stuckTolerance ?? 0;
  const varianceCollapse = opts.varianceCollapse ?? 0.1;
  const spikeMaxSamples = opts.spikeMaxSamples ?? 3;
  const noiseGrowth = opts.noiseGrowth ?? 3;
  const alpha = opts.corroborationAlpha ?? 0.01;
  const spikeAlpha = opts.spikeAlpha ?? 0.01;
  const noise: NoiseOptions = {
    relativeNoiseFloor: opts.relativeNoiseFloor ?? 1e-3,
    minDistinct: opts.minDistinct ?? 5,
    pinnedFraction: opts.pinnedFraction ?? 0.2,
  };

  const f = levelStats(input.window, input.changeTsMs, noise);
  const relStats = input.related.map((r) => levelStats(r.window, input.changeTsMs, noise));
  const related: RelatedEvidence[] = input.related.map((r, i) => {
    const s = relStats[i];
    const enough = s.nBefore >= minSamples && s.nAfter >= minSamples;
    const usable = enough && !s.unusable;
    return {
      tag: r.tag,
      change: s.change,
      changeSigma: s.changeSigma,
      moved: usable && Math.abs(s.changeSigma) >= k,
      noiseSigma: s.sigma,
      usable,
      ...(s.unusable ? { unusable: s.unusable } : !enough ? { unusable: `too little data (${s.nBefore} before, ${s.nAfter} after)` } : {}),
    };
  });
  // Combined test: the usable related tags' changes, each in its own noise σ, as k independent
  // standard-normal scores under "nothing moved": several tags that each moved 2σ the same way are
  // a change none of them shows alone at k σ. (A clean step is already `moved`, kept out of the sum.)
  const scoredIdx = related.map((r, i) => (r.usable && !relStats[i].step ? i : -1)).filter((i) => i >= 0);
  const scored = scoredIdx.map((i) => related[i]);
  // Score per tag: changeSigma (σ of one reading), or, with `chi2EffectiveSamples` = m, the change
  // over the standard error of a difference of medians crediting at most m independent readings
  // per side (1.2533 σ √(1/nB + 1/nA)).
  const m = opts.chi2EffectiveSamples;
  const zOf = (i: number): number => {
    const r = related[i];
    if (!(m && m > 0)) return r.changeSigma;
    const st = relStats[i];
    return r.changeSigma / (1.2533 * Math.sqrt(1 / Math.min(st.nBefore, m) + 1 / Math.min(st.nAfter, m)));
  };
  const chi2 = scoredIdx.reduce((acc, i) => acc + zOf(i) ** 2, 0);
  const pValue = scored.length > 0 ? chi2Survival(chi2, scored.length) : NaN;
  const chi2Corroborates = scored.length > 0 && pValue < alpha;
  const anyMoved = related.some((r) => r.moved);
  const corroborated = anyMoved || chi2Corroborates;
  const evidence: Classification['evidence'] = {
    related,
    corroboration: {
      perTag: related.filter((r) => r.moved).map((r) => r.tag),
      chi2,
      dof: scored.length,
      pValue,
      alpha,
      chi2Corroborates,
      corroborated,
    },
    flagged: {
      change: f.change,
      changeSigma: f.changeSigma,
      sigmaBefore: f.sigmaBefore,
      sigmaAfter: f.sigmaAfter,
      noiseSigma: f.sigma,
      before: f.before,
      after: f.after,
    },
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
    const r = levelStats(resid, input.changeTsMs, noise);
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
    return out(
      'sensor-fault',
      `stuck: ${best} of ${after.length} readings after the change repeat ${mode} while the noise before was ${f.sigmaBefore.toPrecision(3)}`,
      'stuck',
    );
  }

  // 3. spike (on the residual when there is one: a process excursion is not a sensor spike)
  const sigmaB = pStats.sigma;
  const outlierIdx: number[] = [];
  const afterTimed = primary.filter((p) => p.tsMs >= input.changeTsMs);
  // An outlier must be beyond k σ and beyond what the largest of the after readings reaches by
  // noise alone (two-sided, Bonferroni over them at `spikeAlpha`): among 200 readings one is past
  // 3σ about 4 times in 10, so 3σ alone would call ordinary noise a spike.
  const spikeP = 1 - spikeAlpha / (2 * Math.max(1, afterTimed.length));
  // As before the move to runtime/stats: spikeAlpha ≤ 0 flags no spike (bound ∞); a huge one leaves k alone.
  const spikeK = Math.max(k, spikeP >= 1 ? Infinity : spikeP <= 0 ? -Infinity : normalQuantile(spikeP));
  for (let i = 0; i < afterTimed.length; i++) {
    if (Math.abs(afterTimed[i].value - pStats.before) > spikeK * sigmaB) outlierIdx.push(i);
  }
  const returned = Math.abs(pStats.after - pStats.before) < k * sigmaB;
  const spikeMax = Math.max(spikeMaxSamples, Math.floor((opts.spikeMaxFraction ?? 0) * afterTimed.length));
  if (sigmaB > 0 && outlierIdx.length > 0 && outlierIdx.length <= spikeMax && returned && pStats.nBefore > 0) {
    const spikeTimes = outlierIdx.map((i) => afterTimed[i].tsMs);
    const lo = Math.min(...spikeTimes);
    const hi = Math.max(...spikeTimes);
    // A few spikes close together: no related outlier anywhere in their span. Recurring ones spread
    // over minutes (spikeMaxFraction set): none at their own times, past the same bound — over a span
    // that long some related reading is past k σ by noise alone.
    const spread = outlierIdx.length > spikeMaxSamples || (opts.spikeMaxFraction ?? 0) > 0;
    const at = new Set(spikeTimes);
    const relatedSpiked = input.related.some((r, i) => {
      const s = relStats[i];
      if (!(s.sigma > 0) || s.monotonic) return false;
      if (!spread) return r.window.some((p) => p.tsMs >= lo && p.tsMs <= hi && Math.abs(p.value - s.before) > k * s.sigma);
      // past the bound at the spike times more often than its other readings would put it there by
      // chance (at spikeAlpha): a heavy-tailed related tag (a gauge pinned at its scale's end, every
      // dip "beyond") passes the bound now and then whatever the flagged tag does
      let nAt = 0;
      let hitsAt = 0;
      let hitsElse = 0;
      for (const p of r.window) {
        const past = Math.abs(p.value - s.before) > spikeK * s.sigma ? 1 : 0;
        if (at.has(p.tsMs)) {
          nAt++;
          hitsAt += past;
        } else hitsElse += past;
      }
      if (hitsAt === 0) return false;
      const rate = hitsElse / Math.max(1, r.window.length - nAt);
      return binomialTail(nAt, rate, hitsAt) < spikeAlpha;
    });
    if (!relatedSpiked && !anyMoved) {
      return out(
        'sensor-fault',
        `spike: ${outlierIdx.length} isolated reading(s) beyond ${spikeK.toFixed(1)}σ, then back to the previous level; no related tag moved`,
        'spike',
      );
    }
  }

  // 4. level change, seen in the raw level or against the estimate
  const estimateMoved =
    (evidence.residualChangeSigma !== undefined && Math.abs(evidence.residualChangeSigma) >= k) ||
    (evidence.meanInnovationSigma !== undefined && Math.abs(evidence.meanInnovationSigma) >= k);
  if (Math.abs(f.changeSigma) >= k || estimateMoved || input.residualDeparture === true) {
    const size =
      Math.abs(f.changeSigma) >= k
        ? `level moved ${f.changeSigma.toFixed(1)}σ`
        : estimateMoved
          ? 'value left its expected relation'
          : `value left the twin's prediction (level ${f.changeSigma.toFixed(1)}σ)`;
    if (corroborated) {
      const moved = related.filter((r) => r.moved).map((r) => r.tag);
      const joint = `the related tags together moved (χ² ${chi2.toFixed(1)} on ${scored.length} dof, p ${pValue.toExponential(1)} < ${alpha})`;
      const why = moved.length ? `related tag(s) ${moved.join(', ')} moved too${chi2Corroborates ? '; ' + joint : ''}` : joint;
      return out('process-change', `${size} and ${why}`);
    }
    if (estimateCorroborates === true) {
      return out('process-change', `${size} and the estimate moved with it (residual steady)`);
    }
    if (scored.length > 0 || related.some((r) => r.usable) || estimateCorroborates === false) {
      const joint = scored.length > 0 ? ` (χ² ${chi2.toFixed(1)} on ${scored.length} dof, p ${pValue.toPrecision(2)})` : '';
      return out(
        'sensor-fault',
        `${size} but no related tag${estimateCorroborates === false ? ' nor the estimate' : ''} corroborates it${joint}`,
        'drift',
      );
    }
    return out('unclassified', `${size} but there is no usable related tag or estimate to corroborate or refute it`);
  }

  // 5. noise (again on the residual when there is one)
  if (pStats.sigmaBefore > 0 && pStats.sigmaAfter >= noiseGrowth * pStats.sigmaBefore && !corroborated) {
    return out(
      'sensor-fault',
      `noise grew ${(pStats.sigmaAfter / pStats.sigmaBefore).toFixed(1)}× with no level change and no related tag moved`,
      'noise',
    );
  }
  return out('unclassified', 'no level change, collapse, spike or noise growth beyond the thresholds in the flagged tag');
}

/** P(X ≥ x) for X ~ Binomial(n, q): 1 − the sum of the terms below x (x ≤ n, small n). */
function binomialTail(n: number, q: number, x: number): number {
  if (q <= 0) return x > 0 ? 0 : 1;
  if (q >= 1) return 1;
  let term = Math.pow(1 - q, n);
  let below = 0;
  for (let j = 0; j < x; j++) {
    below += term;
    term *= ((n - j) / (j + 1)) * (q / (1 - q));
  }
  return Math.max(0, 1 - below);
}
