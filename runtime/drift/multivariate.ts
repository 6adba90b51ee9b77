/**
 * Multivariate drift detection for a group of related tags of one asset: PCA fitted on a reference
 * period (pca.ts), each later row scored with Hotelling's T² (hotelling.ts) and Q / SPE (spe.ts),
 * alarms after `consecutive` out-of-control rows, and each alarm classified (classify.ts) as a
 * sensor fault or a process change with its evidence.
 *
 * `mvInit(config)` + `mvStep(state, reading)` are the step function (what the drift engine, tests
 * and benches call). Everything runs in event time (reading.tsMs), so no scheduler is involved: a
 * replay gives the same rows and events.
 *
 * Row alignment rule: the step keeps the latest usable reading of each tag. A row is formed, at the
 * event time of the reading that completes it, when (1) every tag has received a reading since the
 * previous row and (2) every tag's held reading is no older than `maxAgeMs` before that time. So
 * tags sampled together (SKAB: all eight at one timestamp) give exactly one row per timestamp, and a
 * tag that falls silent stops the rows rather than being silently held. A source that reports by
 * exception (no update while unchanged) must be republished periodically upstream.
 *
 * Readings used: the configured asset and tags only; quality `bad` is excluded (the held value ages
 * out); `uncertain` is used but makes the row, and any event from it, `uncertain` and keeps the row
 * out of the reference; a reading older than the tag's held one is ignored.
 *
 * Reference: the first `referenceRows` all-good rows (default 400), or the good rows whose time lies
 * in [referenceStartMs, referenceEndMs) when both are given (the fit happens at the first row at or
 * after referenceEndMs). No scores before the fit. A failed fit (too few varying tags, for example)
 * is reported once and the reference is collected again.
 *
 * Alarm: a row is out of control when a selected statistic exceeds its limit; `consecutive` such rows
 * in a row (default 3) raise the alarm, `consecutive` in-control rows clear it. The DriftEvent of an
 * alarm is emitted `classifyAfterRows` rows after the first out-of-control row (default 10: the
 * classifier needs data after the change), its tag being the one with the largest summed
 * contribution over the run (Q contributions when Q alarmed — they isolate a sensor that breaks the
 * correlation — else T² contributions). The classifier gets the history of every model tag and, as
 * the flagged tag's estimate, its value predicted from the other tags under the reference
 * correlation (pca.ts weightsFromOthers). The `alarm` flag of the score rows is immediate.
 *
 * In period mode the row that ends the reference period carries the `fitted` report and is not
 * scored itself (one output per row).
 */
import type { DriftEvent } from '../model/drift.js';
import { badConfig } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import type { Reading } from '../model/reading.js';
import { classifyChange, type ClassifyOptions } from './classify.js';
import { t2Contributions, t2FromScores, t2Limit } from './hotelling.js';
import { expectedFromOthers, fitPca, project, standardise, weightsFromOthers, type PcaModel } from './pca.js';
import { modelSpeLimit, spe } from './spe.js';
import { TimedRing, type TimedValue } from '../stats/timed-ring.js';

export type MvStatistics = 't2' | 'spe' | 'both';

export interface MultivariateConfig {
  asset: string;
  /** Tags of the asset that form a row (≥ 2). */
  tags: string[];
  /** Largest age of a held reading, relative to the row time, event-time ms. Default 5000. */
  maxAgeMs: number;
  /** Rows in the reference when no reference period is given. Default 400. */
  referenceRows: number;
  referenceStartMs?: number;
  referenceEndMs?: number;
  /** Cumulative explained variance that chooses the components. Default 0.9. */
  varianceFraction: number;
  /** False-alarm probability per row of each limit. Default 0.01. */
  alpha: number;
  consecutive: number;
  statistics: MvStatistics;
  /** Rows after the start of an alarm run before its event is classified and emitted. Default 10. */
  classifyAfterRows: number;
  /** Rows of history kept for classification (before + after the change). Default 120. */
  historyRows: number;
  classify?: ClassifyOptions;
}

export interface MvFitted {
  type: 'fitted';
  asset: string;
  tsMs: number;
  /** Model tags (constant ones dropped) in the order of the contribution arrays. */
  tags: string[];
  droppedTags: string[];
  components: number;
  explained: number;
  referenceRows: number;
  t2Limit: number;
  speLimit: number;
}

export interface MvFitFailed {
  type: 'fit-failed';
  asset: string;
  tsMs: number;
  reason: string;
}

export interface MvScore {
  type: 'score';
  asset: string;
  tsMs: number;
  t2: number;
  t2Limit: number;
  spe: number;
  speLimit: number;
  /** Per model tag (order of MvFitted.tags): T² contributions (sum = t2) and Q contributions (sum = spe). */
  t2Contributions: number[];
  speContributions: number[];
  /** This row exceeds a selected limit. */
  outOfControl: boolean;
  /** Alarm state after this row (raised after `consecutive` out-of-control rows). */
  alarm: boolean;
  quality: Quality;
  /** The classified event of an alarm, on the row where it is decided. */
  event?: DriftEvent;
}

export type MultivariateOutput = MvFitted | MvFitFailed | MvScore;

interface Held {
  value: number;
  tsMs: number;
  quality: Quality;
  fresh: boolean;
}

export interface MvState {
  config: MultivariateConfig;
  tagIndex: Map<string, number>;
  held: (Held | undefined)[];
  lastRowTsMs: number;
  refRows: number[][];
  model?: PcaModel;
  t2Lim: number;
  speLim: number;
  // scratch
  row: Float64Array;
  z: Float64Array;
  t: Float64Array;
  ct2: Float64Array;
  cspe: Float64Array;
  // alarm
  runAbove: number;
  runBelow: number;
  runStartTsMs: number;
  runT2: boolean;
  runSpe: boolean;
  runQuality: Quality;
  runFirst?: { t2: number; spe: number };
  runSumT2: Float64Array;
  runSumSpe: Float64Array;
  alarm: boolean;
  /** Rows since the run started while an event is pending; −1 when none is pending. */
  pendingRows: number;
  /** Row history (input column order), for the classifier. */
  history: TimedRing;
  /** Counters for status and tests. */
  rows: number;
  ignored: number;
}

const DEFAULTS = {
  maxAgeMs: 5000,
  referenceRows: 400,
  varianceFraction: 0.9,
  alpha: 0.01,
  consecutive: 3,
  statistics: 'both' as MvStatistics,
  classifyAfterRows: 10,
  historyRows: 120,
};

/** Validate raw config (from a node's settings) and fill defaults. Throws TwinError BAD_CONFIG. */
export function validateMultivariateConfig(raw: unknown): MultivariateConfig {
  if (!raw || typeof raw !== 'object') badConfig('multivariate config must be an object');
  const c = raw as Record<string, unknown>;
  if (typeof c.asset !== 'string' || c.asset === '') badConfig('asset must be a non-empty string');
  if (!Array.isArray(c.tags) || c.tags.length < 2 || !c.tags.every((t) => typeof t === 'string' && t !== '')) {
    badConfig('tags must list at least 2 tag names');
  }
  const tags = c.tags as string[];
  if (new Set(tags).size !== tags.length) badConfig('tags must not repeat');
  const num = (key: keyof typeof DEFAULTS, ok: (v: number) => boolean, what: string): number => {
    const v = c[key] ?? DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) badConfig(`${key} must be ${what}, got ${String(v)}`);
    return v as number;
  };
  const cfg: MultivariateConfig = {
    asset: c.asset as string,
    tags,
    maxAgeMs: num('maxAgeMs', (v) => v >= 0, 'a number ≥ 0'),
    referenceRows: num('referenceRows', (v) => Number.isInteger(v) && v >= tags.length + 2, `an integer ≥ tags + 2 (${tags.length + 2})`),
    varianceFraction: num('varianceFraction', (v) => v > 0 && v <= 1, 'in (0, 1]'),
    alpha: num('alpha', (v) => v > 0 && v < 0.5, 'in (0, 0.5)'),
    consecutive: num('consecutive', (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1'),
    statistics: DEFAULTS.statistics,
    classifyAfterRows: num('classifyAfterRows', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    historyRows: num('historyRows', (v) => Number.isInteger(v) && v >= 2, 'an integer ≥ 2'),
  };
  const st = c.statistics ?? DEFAULTS.statistics;
  if (st !== 't2' && st !== 'spe' && st !== 'both') badConfig(`statistics must be t2, spe or both, got ${String(st)}`);
  cfg.statistics = st;
  if (cfg.classifyAfterRows >= cfg.historyRows) badConfig('classifyAfterRows must be smaller than historyRows');
  const hasStart = c.referenceStartMs !== undefined;
  const hasEnd = c.referenceEndMs !== undefined;
  if (hasStart !== hasEnd) badConfig('referenceStartMs and referenceEndMs go together');
  if (hasStart) {
    const s = c.referenceStartMs;
    const e = c.referenceEndMs;
    if (typeof s !== 'number' || typeof e !== 'number' || !Number.isFinite(s) || !Number.isFinite(e) || !(e > s)) {
      badConfig('reference period must be epoch ms with referenceEndMs > referenceStartMs');
    }
    cfg.referenceStartMs = s;
    cfg.referenceEndMs = e;
  }
  if (c.classify !== undefined) {
    if (typeof c.classify !== 'object' || c.classify === null) badConfig('classify must be an object of options');
    cfg.classify = c.classify as ClassifyOptions;
  }
  return cfg;
}

export function mvInit(raw: unknown): MvState {
  const config = validateMultivariateConfig(raw);
  const p = config.tags.length;
  return {
    config,
    tagIndex: new Map(config.tags.map((t, i) => [t, i])),
    held: new Array<Held | undefined>(p).fill(undefined),
    lastRowTsMs: -Infinity,
    refRows: [],
    t2Lim: NaN,
    speLim: NaN,
    row: new Float64Array(p),
    z: new Float64Array(0),
    t: new Float64Array(0),
    ct2: new Float64Array(0),
    cspe: new Float64Array(0),
    runAbove: 0,
    runBelow: 0,
    runStartTsMs: NaN,
    runT2: false,
    runSpe: false,
    runQuality: 'good',
    runSumT2: new Float64Array(0),
    runSumSpe: new Float64Array(0),
    alarm: false,
    pendingRows: -1,
    history: new TimedRing(config.historyRows, p),
    rows: 0,
    ignored: 0,
  };
}

/** Feed one reading; returns what it produced (a fit report or a scored row), if anything. */
export function mvStep(s: MvState, r: Reading): MultivariateOutput | undefined {
  const c = s.config;
  if (r.asset !== c.asset) return undefined;
  const i = s.tagIndex.get(r.tag);
  if (i === undefined) return undefined;
  const h = s.held[i];
  if (r.quality === 'bad' || !Number.isFinite(r.value) || (h !== undefined && r.tsMs < h.tsMs)) {
    s.ignored++;
    return undefined;
  }
  if (h === undefined) s.held[i] = { value: r.value, tsMs: r.tsMs, quality: r.quality, fresh: true };
  else {
    h.value = r.value;
    h.tsMs = r.tsMs;
    h.quality = r.quality;
    h.fresh = true;
  }
  // Row complete?
  let tsMs = -Infinity;
  for (const x of s.held) {
    if (x === undefined || !x.fresh) return undefined;
    if (x.tsMs > tsMs) tsMs = x.tsMs;
  }
  let quality: Quality = 'good';
  for (const x of s.held) if ((x as Held).tsMs < tsMs - c.maxAgeMs) return undefined;
  for (let j = 0; j < s.held.length; j++) {
    const x = s.held[j] as Held;
    x.fresh = false;
    s.row[j] = x.value;
    quality = worstQuality(quality, x.quality);
  }
  s.lastRowTsMs = tsMs;
  s.rows++;
  s.history.push(tsMs, s.row);
  if (!s.model) return collectReference(s, tsMs, quality);
  return score(s, tsMs, quality);
}

function collectReference(s: MvState, tsMs: number, quality: Quality): MultivariateOutput | undefined {
  const c = s.config;
  const byPeriod = c.referenceStartMs !== undefined && c.referenceEndMs !== undefined;
  const inPeriod = byPeriod ? tsMs >= (c.referenceStartMs as number) && tsMs < (c.referenceEndMs as number) : true;
  if (inPeriod && quality === 'good') s.refRows.push(Array.from(s.row));
  const ready = byPeriod ? tsMs >= (c.referenceEndMs as number) : s.refRows.length >= c.referenceRows;
  if (!ready) return undefined;
  try {
    const m = fitPca(s.refRows, c.tags, { varianceFraction: c.varianceFraction });
    const n = m.referenceRows;
    s.t2Lim = t2Limit(m.k, n, c.alpha);
    s.speLim = modelSpeLimit(m, c.alpha);
    s.model = m;
    const p = m.tags.length;
    s.z = new Float64Array(p);
    s.t = new Float64Array(m.k);
    s.ct2 = new Float64Array(p);
    s.cspe = new Float64Array(p);
    s.runSumT2 = new Float64Array(p);
    s.runSumSpe = new Float64Array(p);
    s.refRows = [];
    return {
      type: 'fitted',
      asset: c.asset,
      tsMs,
      tags: m.tags,
      droppedTags: m.droppedTags,
      components: m.k,
      explained: m.explained,
      referenceRows: n,
      t2Limit: s.t2Lim,
      speLimit: s.speLim,
    };
  } catch (e) {
    s.refRows = [];
    if (byPeriod) {
      // The period is over: shift it forward by its own length so the step tries again.
      const len = (c.referenceEndMs as number) - (c.referenceStartMs as number);
      c.referenceStartMs = tsMs;
      c.referenceEndMs = tsMs + len;
    }
    return { type: 'fit-failed', asset: c.asset, tsMs, reason: e instanceof Error ? e.message : String(e) };
  }
}

function score(s: MvState, tsMs: number, quality: Quality): MvScore {
  const c = s.config;
  const m = s.model as PcaModel;
  standardise(m, s.row, s.z);
  project(m, s.z, s.t);
  const t2 = t2FromScores(m, s.t);
  t2Contributions(m, s.z, s.t, s.ct2);
  const q = spe(m, s.z, s.t, s.cspe);
  const overT2 = c.statistics !== 'spe' && t2 > s.t2Lim;
  const overSpe = c.statistics !== 't2' && q > s.speLim;
  const out = overT2 || overSpe;
  let event: DriftEvent | undefined;

  if (out) {
    s.runBelow = 0;
    if (s.runAbove === 0 && !s.alarm) {
      s.runStartTsMs = tsMs;
      s.runT2 = false;
      s.runSpe = false;
      s.runQuality = 'good';
      s.runFirst = { t2, spe: q };
      s.runSumT2.fill(0);
      s.runSumSpe.fill(0);
    }
    s.runAbove++;
    if (!s.alarm && s.runAbove >= c.consecutive) {
      s.alarm = true;
      s.pendingRows = 0;
    }
  } else {
    s.runBelow++;
    if (!s.alarm) s.runAbove = 0;
    else if (s.runBelow >= c.consecutive) {
      s.alarm = false;
      s.runAbove = 0;
    }
  }
  // Accumulate evidence over the run, until its event is out.
  if ((s.runAbove > 0 && !s.alarm) || s.pendingRows >= 0) {
    s.runT2 ||= overT2;
    s.runSpe ||= overSpe;
    s.runQuality = worstQuality(s.runQuality, quality);
    for (let j = 0; j < s.ct2.length; j++) {
      s.runSumT2[j] += s.ct2[j];
      s.runSumSpe[j] += s.cspe[j];
    }
  }
  if (s.pendingRows >= 0) {
    // Rows since the run started: runAbove counts them while the alarm holds.
    s.pendingRows++;
    const sinceStart = s.pendingRows + c.consecutive - 1;
    if (sinceStart >= c.classifyAfterRows || !s.alarm) {
      event = buildEvent(s, tsMs);
      s.pendingRows = -1;
    }
  }
  return {
    type: 'score',
    asset: c.asset,
    tsMs,
    t2,
    t2Limit: s.t2Lim,
    spe: q,
    speLimit: s.speLim,
    t2Contributions: Array.from(s.ct2),
    speContributions: Array.from(s.cspe),
    outOfControl: out,
    alarm: s.alarm,
    quality,
    ...(event ? { event } : {}),
  };
}

function argMax(xs: Float64Array): number {
  let best = 0;
  for (let j = 1; j < xs.length; j++) if (xs[j] > xs[best]) best = j;
  return best;
}

function buildEvent(s: MvState, tsMs: number): DriftEvent {
  const c = s.config;
  const m = s.model as PcaModel;
  const bySpe = s.runSpe;
  const sums = bySpe ? s.runSumSpe : s.runSumT2;
  const flaggedModelIdx = argMax(sums);
  const tag = m.tags[flaggedModelIdx];
  const total = sums.reduce((a, b) => a + b, 0);
  const share: Record<string, number> = {};
  m.tags.forEach((t, j) => (share[t] = total > 0 ? sums[j] / total : 0));

  // Windows from the history ring, oldest first, input columns.
  const p = s.row.length;
  const h = s.history;
  const windows: TimedValue[][] = c.tags.map((_, j) => h.window(-Infinity, j));
  const flaggedCol = c.tags.indexOf(tag);
  // The flagged tag as the other tags predict it (reference correlation): the estimate that
  // corroborates a process change or exposes a sensor leaving its relation to the rest.
  const weights = weightsFromOthers(m, flaggedModelIdx);
  const expected: TimedValue[] = [];
  const row = new Float64Array(p);
  for (let n = 0; n < h.length; n++) {
    const at = h.slot(n);
    for (let j = 0; j < p; j++) row[j] = h.values[at * p + j];
    expected.push({ tsMs: h.tsMs[at], value: expectedFromOthers(m, flaggedModelIdx, weights, row) });
  }
  const cls = classifyChange(
    {
      tag,
      window: windows[flaggedCol],
      changeTsMs: s.runStartTsMs,
      related: m.tags.filter((t) => t !== tag).map((t) => ({ tag: t, window: windows[c.tags.indexOf(t)] })),
      expected,
    },
    c.classify,
  );
  const first = s.runFirst as { t2: number; spe: number };
  const method = s.runT2 && s.runSpe ? 'hotelling-t2+spe' : bySpe ? 'spe' : 'hotelling-t2';
  return {
    asset: c.asset,
    tag,
    tsMs,
    startTsMs: s.runStartTsMs,
    kind: cls.kind,
    ...(cls.faultType ? { faultType: cls.faultType } : {}),
    method,
    direction: cls.direction,
    magnitude: cls.magnitude,
    evidence: {
      ...cls.evidence,
      statistic: bySpe ? first.spe : first.t2,
      threshold: bySpe ? s.speLim : s.t2Lim,
      t2: first.t2,
      t2Limit: s.t2Lim,
      spe: first.spe,
      speLimit: s.speLim,
      /** Share of the run's summed contributions (Q when Q alarmed, else T²) per model tag. */
      contributionShare: share,
      components: m.k,
      referenceRows: m.referenceRows,
    },
    quality: s.runQuality,
  };
}
