/**
 * The drift stage's step (what twin-drift runs), without Node-RED: readings (and estimates) in,
 * scores and classified DriftEvents out. It composes the detectors of this folder: `driftStep` of a
 * univariate detector per asset/tag, or `mvStep` of the multivariate PCA detector for one asset, plus
 * `classifyChange` for the fault classification, and owns the routing around them (watch patterns,
 * history, pending events, episodes, score thinning). The node is a thin adapter over `push`.
 *
 * Rules (also in the node's help):
 *  - A payload is an Estimate when it has `model` and `variance`, else it must be a Reading.
 *  - Detection runs on Reading values only. Estimates are evidence: their `value` is the tag's
 *    expected value for the classifier (`expected`), matched to readings by tsMs.
 *  - Bad quality never moves a detector and never enters the classification history; uncertain is
 *    skipped or used as configured (used: scores and events resting on it are uncertain).
 *  - With `screenFlags` (default on), a watched tag's reading that twin-screen flagged `stuck` or
 *    `spike` (whole tokens of qualityReason) gives a sensor-fault event, one per episode
 *    (screen-flags.ts); the reading itself is still skipped or used by the quality rule above.
 *  - A reading older than the last accepted one of its tag is rejected (TwinError OUT_OF_ORDER) and
 *    changes nothing.
 *  - A univariate event is held until its tag has `classifyAfterSamples` more readings (the
 *    classifier needs data after the change), then classified against the related tags' history
 *    over the same span and sent. As many bad readings of the flagged tag in a row classify it with
 *    what there is, so an event is never held forever by a dead sensor.
 */
import { classifyChange, type ClassifyOptions } from './classify.js';
import type { AnyDetector } from './detector.js';
import { mvInit, mvStep, validateMultivariateConfig, type MvState } from './multivariate.js';
import { driftStepReading, type DriftTagEntry } from './step.js';
import { getDetector } from './registry.js';
import { compileTagPattern } from '../model/tag-pattern.js';
import type { AnomalyScore, DriftEvent } from '../model/drift.js';
import { badConfig, TwinError } from '../model/errors.js';
import { assertEstimate, isEstimateLike } from '../model/estimate.js';
import { worstQuality, type Quality } from '../model/quality.js';
import { assertReading, type Reading } from '../model/reading.js';
import { SCREEN_FLAG_DEFAULTS, ScreenFlagEvents } from './screen-flags.js';
import { TimedRing, type TimedValue } from '../stats/timed-ring.js';

/** Tag name of the multivariate detector's score and of an event it could not pin on one tag. */
export const MV_SCORE_TAG = 'multivariate';

/**
 * Default univariate method. ADWIN, not Page-Hinkley: River's Page-Hinkley threshold (50) is in the
 * tag's own unit, so on the simulated line at 1 Hz it false-alarmed about every 20 minutes on melt
 * pressure (σ ≈ 1 bar) and dated a 20 °C/h thermocouple drift 16 minutes early; ADWIN's bound scales
 * with the data and gave no false alarm in 4 h on 12 tags (see the node's help and report).
 */
export const DEFAULT_METHOD = 'adwin';

export interface RelatedRule {
  /** Tag name or `asset/tag` glob of the flagged tag. */
  match: string;
  /** Related tag names of the same asset. */
  tags: string[];
}

export interface DriftEngineConfig {
  mode: 'univariate' | 'multivariate';
  /** Univariate: registry name; multivariate: 'hotelling-t2+spe'. */
  method: string;
  /** Univariate detector parameters (merged over the detector's defaults). */
  params: Record<string, unknown>;
  /** Patterns of watched tags (tag name or `asset/tag` glob); empty = every tag. */
  watch: string[];
  related: RelatedRule[];
  classify: boolean;
  uncertain: 'skip' | 'use';
  /** Readings kept per tag for classification. */
  historySamples: number;
  /** Readings of the flagged tag after detection before its event is classified and sent. */
  classifyAfterSamples: number;
  classifyOptions: ClassifyOptions;
  /** Readings before the change given to the classifier, as a share of those after it (and at least minBeforeSamples). */
  beforeRatio: number;
  minBeforeSamples: number;
  /** A detection within this many readings of the tag's previous one (same direction) continues its episode. */
  episodeGapSamples: number;
  /** Send every Nth score of a tag (1 = all). */
  scoreEvery: number;
  /** Send a score only when it moved at least this much since the last one sent (0 = off). */
  scoreMinChange: number;
  /** A gap longer than this (event time) between two readings of a tag restarts its detector (0 = never). */
  resetAfterGapMs: number;
  /** Multivariate: the asset and its tags, and the PCA options (see multivariate.ts). */
  mv?: Record<string, unknown>;
  /** Turn twin-screen's `stuck` / `spike` flags on watched tags into sensor-fault events (screen-flags.ts). */
  screenFlags: boolean;
  /** At most one spike event per this many readings of a tag. */
  spikeEventHoldOffSamples: number;
  /** Unflagged readings of a tag after which a new flagged run is a new episode. */
  screenEpisodeGapSamples: number;
}

export interface EngineResult {
  /** What the input was taken for. */
  input: 'reading' | 'estimate';
  /** What happened to it. */
  outcome: 'used' | 'skipped-bad' | 'skipped-uncertain' | 'ignored' | 'evidence';
  scores: AnomalyScore[];
  events: DriftEvent[];
}

interface History {
  ring: TimedRing;
  lastTsMs: number;
}

interface Pending {
  event: DriftEvent;
  remaining: number;
  /** Bad readings of the flagged tag in a row. */
  badRun: number;
}

interface ScoreGate {
  n: number;
  last: number;
}

/** What the config says about one asset/tag, worked out on its first reading (the hot path then does one lookup). */
interface TagRoute {
  /** `asset/tag`, the key of the per-tag maps: one string per tag, so its hash is computed once. */
  key: string;
  watched: boolean;
  /** Watched, or kept in the history for a related-tags rule. */
  kept: boolean;
  /** Counted in watchedByAsset. */
  counted: boolean;
}

/** Routes are a cache: past this many tags it starts again rather than grow without bound. */
const MAX_ROUTES = 100_000;

/** The empty scores and events of a result that has none (most of them): not allocated per reading. */
const NONE: never[] = Object.freeze([]) as unknown as never[];

const UNIVARIATE_DEFAULTS = {
  historySamples: 1800,
  classifyAfterSamples: 120,
  beforeRatio: 1,
  minBeforeSamples: 30,
  episodeGapSamples: 360,
};

function newHistory(n: number): History {
  return { ring: new TimedRing(n), lastTsMs: -Infinity };
}

function historyWindow(h: History | undefined, fromTsMs = -Infinity): TimedValue[] {
  return h ? h.ring.window(fromTsMs) : [];
}

/** Validate a raw engine config (from the node's settings); throws TwinError BAD_CONFIG naming the field. */
export function validateEngineConfig(raw: Partial<DriftEngineConfig>): DriftEngineConfig {
  const mode = raw.mode ?? 'univariate';
  if (mode !== 'univariate' && mode !== 'multivariate') badConfig(`mode must be univariate or multivariate, got ${JSON.stringify(mode)}`);
  const int = (v: unknown, dflt: number, name: string, min: number): number => {
    const n = v === undefined ? dflt : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
      badConfig(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const num = (v: unknown, dflt: number, name: string): number => {
    const n = v === undefined ? dflt : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) badConfig(`${name} must be a number ≥ 0, got ${JSON.stringify(v)}`);
    return n;
  };
  const watch = raw.watch ?? [];
  if (!Array.isArray(watch) || !watch.every((w) => typeof w === 'string' && w.trim() !== ''))
    badConfig('watched tags must be a list of tag names or globs');
  const related = raw.related ?? [];
  if (!Array.isArray(related)) badConfig('related tags must be a list of rules');
  for (const r of related) {
    if (!r || typeof r.match !== 'string' || r.match.trim() === '') {
      badConfig('each related-tags rule needs a tag (or asset/tag glob) to match');
    }
    if (!Array.isArray(r.tags) || r.tags.length === 0 || !r.tags.every((t) => typeof t === 'string' && t !== '' && !t.includes('/'))) {
      badConfig(`related tags of '${r.match}' must be a non-empty list of tag names of the same asset`);
    }
  }
  const uncertain = raw.uncertain ?? 'skip';
  if (uncertain !== 'skip' && uncertain !== 'use') badConfig(`uncertain must be skip or use, got ${JSON.stringify(uncertain)}`);
  const params = raw.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) badConfig('method parameters must be an object');
  const cfg: DriftEngineConfig = {
    mode,
    method: raw.method ?? (mode === 'univariate' ? DEFAULT_METHOD : 'hotelling-t2+spe'),
    params,
    watch: watch.map((w) => w.trim()),
    related: related.map((r) => ({ match: r.match.trim(), tags: r.tags })),
    classify: raw.classify ?? true,
    uncertain,
    historySamples: int(raw.historySamples, UNIVARIATE_DEFAULTS.historySamples, 'historySamples', 20),
    classifyAfterSamples: int(raw.classifyAfterSamples, UNIVARIATE_DEFAULTS.classifyAfterSamples, 'classifyAfterSamples', 1),
    classifyOptions: raw.classifyOptions ?? {},
    beforeRatio: num(raw.beforeRatio, UNIVARIATE_DEFAULTS.beforeRatio, 'beforeRatio'),
    minBeforeSamples: int(raw.minBeforeSamples, UNIVARIATE_DEFAULTS.minBeforeSamples, 'minBeforeSamples', 5),
    episodeGapSamples: int(raw.episodeGapSamples, UNIVARIATE_DEFAULTS.episodeGapSamples, 'episodeGapSamples', 0),
    scoreEvery: int(raw.scoreEvery, 1, 'scoreEvery', 1),
    scoreMinChange: num(raw.scoreMinChange, 0, 'scoreMinChange'),
    resetAfterGapMs: num(raw.resetAfterGapMs, 0, 'resetAfterGapMs'),
    mv: raw.mv,
    screenFlags: raw.screenFlags ?? true,
    spikeEventHoldOffSamples: int(
      raw.spikeEventHoldOffSamples,
      SCREEN_FLAG_DEFAULTS.spikeEventHoldOffSamples,
      'spikeEventHoldOffSamples',
      1,
    ),
    screenEpisodeGapSamples: int(raw.screenEpisodeGapSamples, SCREEN_FLAG_DEFAULTS.screenEpisodeGapSamples, 'screenEpisodeGapSamples', 1),
  };
  if (typeof cfg.screenFlags !== 'boolean') badConfig('screenFlags must be true or false');
  if (typeof cfg.classify !== 'boolean') badConfig('classify must be true or false');
  if (cfg.classifyAfterSamples >= cfg.historySamples) badConfig('classifyAfterSamples must be smaller than historySamples');
  if (mode === 'univariate') {
    const d = getDetector(cfg.method); // BAD_CONFIG listing the known methods
    d.params(cfg.params); // BAD_CONFIG naming the parameter
  } else {
    if (cfg.method !== 'hotelling-t2+spe') badConfig(`multivariate method must be hotelling-t2+spe, got ${JSON.stringify(cfg.method)}`);
    validateMultivariateConfig(cfg.mv);
  }
  return cfg;
}

export class DriftEngine {
  readonly config: DriftEngineConfig;
  private readonly detector?: AnyDetector;
  private readonly params: unknown;
  private readonly watchers: ((asset: string, tag: string) => boolean)[];
  private readonly relatedRules: { test: (asset: string, tag: string) => boolean; tags: string[] }[];
  private readonly tags = new Map<string, DriftTagEntry>();
  private readonly history = new Map<string, History>();
  private readonly expected = new Map<string, History>();
  private readonly pending = new Map<string, Pending>();
  private readonly gates = new Map<string, ScoreGate>();
  private readonly episodes = new Map<string, { startTsMs: number; direction: string; sinceLast: number; detections: number }>();
  /** Watched tags per asset (for the default related tags and the status). */
  private readonly watchedByAsset = new Map<string, Set<string>>();
  private mv?: MvState;
  private mvLastTs = new Map<string, number>();
  private readonly screen?: ScreenFlagEvents;
  private readonly routes = new Map<string, Map<string, TagRoute>>();
  private routeCount = 0;
  private readonly stepOptions: { uncertain: 'skip' | 'use' };
  watchedCount = 0;
  eventCount = 0;
  lastEvent?: DriftEvent;

  constructor(raw: Partial<DriftEngineConfig>) {
    this.config = validateEngineConfig(raw);
    const c = this.config;
    this.watchers = c.watch.map(compileTagPattern);
    this.relatedRules = c.related.map((r) => ({ test: compileTagPattern(r.match), tags: r.tags }));
    if (c.screenFlags) this.screen = new ScreenFlagEvents(c.spikeEventHoldOffSamples, c.screenEpisodeGapSamples);
    this.stepOptions = { uncertain: c.uncertain };
    if (c.mode === 'univariate') {
      this.detector = getDetector(c.method);
      this.params = this.detector.params(c.params);
    } else {
      this.mv = mvInit({ ...c.mv, classify: c.classifyOptions });
      this.watchedCount = this.mv.config.tags.length;
    }
  }

  private watched(asset: string, tag: string): boolean {
    if (this.mv) return asset === this.mv.config.asset && this.mv.tagIndex.has(tag);
    return this.watchers.length === 0 || this.watchers.some((w) => w(asset, tag));
  }

  /** Related tags of a flagged tag: the first matching rule, else the asset's other watched tags. */
  relatedOf(asset: string, tag: string): string[] {
    for (const r of this.relatedRules) if (r.test(asset, tag)) return r.tags.filter((t) => t !== tag);
    return [...(this.watchedByAsset.get(asset) ?? [])].filter((t) => t !== tag);
  }

  /** Tags named by a related rule are kept in the history even when not watched. */
  private isRelatedSomewhere(tag: string): boolean {
    return this.relatedRules.some((r) => r.tags.includes(tag));
  }

  private route(asset: string, tag: string): TagRoute {
    let tags = this.routes.get(asset);
    const known = tags?.get(tag);
    if (known !== undefined) return known;
    if (this.routeCount >= MAX_ROUTES) {
      this.routes.clear();
      this.routeCount = 0;
      tags = undefined;
    }
    if (tags === undefined) this.routes.set(asset, (tags = new Map<string, TagRoute>()));
    const watched = this.watched(asset, tag);
    const kept = watched || (this.config.classify && this.isRelatedSomewhere(tag));
    const r: TagRoute = { key: `${asset}/${tag}`, watched, kept, counted: false };
    tags.set(tag, r);
    this.routeCount++;
    return r;
  }

  /** Feed one payload. Throws TwinError for bad input (nothing is changed then). */
  push(payload: unknown): EngineResult {
    if (Array.isArray(payload)) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `payload is an array of ${payload.length}; twin-drift takes one Reading or Estimate per message (split it first)`,
      );
    }
    if (isEstimateLike(payload)) return this.pushEstimate(payload);
    assertReading(payload);
    return this.mv ? this.pushMv(payload) : this.pushReading(payload);
  }

  private result(input: EngineResult['input'], outcome: EngineResult['outcome']): EngineResult {
    return { input, outcome, scores: NONE, events: NONE };
  }

  private addEvent(out: EngineResult, e: DriftEvent): void {
    if (out.events === NONE) out.events = [e];
    else out.events.push(e);
  }

  private pushEstimate(payload: unknown): EngineResult {
    assertEstimate(payload);
    const e = payload;
    const key = `${e.asset}/${e.tag}`;
    const h = this.expected.get(key);
    if (h && e.tsMs < h.lastTsMs) {
      throw new TwinError(
        'OUT_OF_ORDER',
        `${key}: estimate at ${new Date(e.tsMs).toISOString()} is older than the last one (${new Date(h.lastTsMs).toISOString()}); not used`,
      );
    }
    if (e.quality === 'bad') return this.result('estimate', 'skipped-bad');
    if (e.quality === 'uncertain' && this.config.uncertain === 'skip') return this.result('estimate', 'skipped-uncertain');
    if (!this.config.classify) return this.result('estimate', 'ignored');
    let hist = h;
    if (!hist) {
      hist = newHistory(this.config.historySamples);
      this.expected.set(key, hist);
    }
    hist.lastTsMs = e.tsMs;
    hist.ring.push(e.tsMs, e.value);
    return this.result('estimate', 'evidence');
  }

  private pushReading(r: Reading): EngineResult {
    const c = this.config;
    const route = this.route(r.asset, r.tag);
    const key = route.key;
    const watched = route.watched;
    if (!route.kept) return this.result('reading', 'ignored');

    // Order is checked for every reading of a kept tag, whatever its quality: an old reading must
    // not enter the history either.
    let h = this.history.get(key);
    if (h && r.tsMs < h.lastTsMs) {
      throw new TwinError(
        'OUT_OF_ORDER',
        `${key}: reading at ${new Date(r.tsMs).toISOString()} is older than the last one (${new Date(h.lastTsMs).toISOString()}); not applied`,
      );
    }
    const out = this.result('reading', 'used');
    if (this.screen && watched) {
      for (const se of this.screen.push(r, key)) this.addEvent(out, this.count(se));
    }
    if (r.quality === 'bad' || (r.quality === 'uncertain' && c.uncertain === 'skip')) {
      out.outcome = r.quality === 'bad' ? 'skipped-bad' : 'skipped-uncertain';
      // A dead sensor must not hold its event forever: after as many bad readings in a row as the
      // good ones it waits for, classify with what there is. (Counted apart, so that an odd bad
      // reading changes nothing about the detection or its classification.)
      const p = this.pending.get(key);
      if (p && r.quality === 'bad' && ++p.badRun >= c.classifyAfterSamples) {
        this.pending.delete(key);
        this.addEvent(out, this.classified(p.event));
      }
      return out;
    }
    if (!h) {
      h = newHistory(c.historySamples);
      this.history.set(key, h);
    } else if (c.resetAfterGapMs > 0 && r.tsMs - h.lastTsMs > c.resetAfterGapMs) {
      // After a long outage the old run says little about the new one: start the detector again.
      this.tags.delete(key);
      this.episodes.delete(key);
      const p = this.pending.get(key);
      if (p) {
        this.pending.delete(key);
        this.addEvent(out, this.classified(p.event));
      }
    }
    h.lastTsMs = r.tsMs;
    h.ring.push(r.tsMs, r.value);
    if (!watched) {
      out.outcome = 'ignored';
      return out;
    }
    if (!route.counted) {
      route.counted = true;
      let assetTags = this.watchedByAsset.get(r.asset);
      if (!assetTags) this.watchedByAsset.set(r.asset, (assetTags = new Set()));
      if (!assetTags.has(r.tag)) {
        assetTags.add(r.tag);
        this.watchedCount++;
      }
    }

    const o = driftStepReading(this.detector as AnyDetector, this.params, this.stepOptions, this.tags, key, r);
    if (o.type === 'rejected') throw o.error; // not expected: order and shape were checked above
    if (o.type === 'skipped') {
      out.outcome = o.reason === 'bad-quality' ? 'skipped-bad' : 'skipped-uncertain';
      return out;
    }
    const p = this.pending.get(key);
    if (p) p.badRun = 0;
    if (p && --p.remaining <= 0) {
      this.pending.delete(key);
      this.addEvent(out, this.classified(p.event));
    }
    const ep = this.episodes.get(key);
    if (ep) ep.sinceLast++;
    if (o.event) {
      if (!c.classify) this.addEvent(out, this.count(o.event));
      else {
        // A new detection while one is pending: send the old one with what there is.
        if (p && this.pending.has(key)) this.addEvent(out, this.classified(p.event));
        this.pending.set(key, { event: this.episode(key, o.event, h), remaining: c.classifyAfterSamples, badRun: 0 });
      }
    }
    if (this.gate(key, o.score.score, o.event !== null)) out.scores = [o.score];
    return out;
  }

  /**
   * A detector restarts after each detection, so a change that goes on (a sensor drifting for an
   * hour) is detected again and again, each time against a "before" that is already part of the
   * change. A detection in the same direction within `episodeGapSamples` readings of the previous one
   * continues its episode: it is classified against the level before the episode began (while the
   * history still reaches back there) and says so in `evidence.episodeStartTsMs` / `episodeDetections`.
   */
  private episode(key: string, e: DriftEvent, h: History): DriftEvent {
    const c = this.config;
    const ep = this.episodes.get(key);
    const ring = h.ring;
    const oldest = ring.oldestTsMs();
    // The history must still hold minBefore readings before the episode start (1 s spacing is not assumed: count them).
    let covered = false;
    if (ep) {
      let nBefore = 0;
      // …and still will when the event is classified, classifyAfterSamples readings from now.
      const need = c.minBeforeSamples + c.classifyAfterSamples;
      for (let i = 0; i < ring.length && nBefore < need; i++) if (ring.tsMs[ring.slot(i)] < ep.startTsMs) nBefore++;
      covered = nBefore >= need && ep.startTsMs >= oldest;
    }
    if (ep && covered && ep.sinceLast <= c.episodeGapSamples && ep.direction === e.direction) {
      ep.sinceLast = 0;
      ep.detections++;
      return { ...e, evidence: { ...e.evidence, episodeStartTsMs: ep.startTsMs, episodeDetections: ep.detections } };
    }
    this.episodes.set(key, { startTsMs: e.startTsMs, direction: e.direction, sinceLast: 0, detections: 1 });
    return e;
  }

  private count(e: DriftEvent): DriftEvent {
    this.eventCount++;
    this.lastEvent = e;
    return e;
  }

  /** Score thinning: every Nth and/or on change; a detection always passes. */
  private gate(key: string, score: number, force: boolean): boolean {
    const c = this.config;
    if (c.scoreEvery === 1 && c.scoreMinChange === 0) return true;
    let g = this.gates.get(key);
    if (!g) this.gates.set(key, (g = { n: 0, last: NaN }));
    g.n++;
    let pass = force || g.n >= c.scoreEvery;
    if (pass && !force && c.scoreMinChange > 0 && Number.isFinite(g.last) && Math.abs(score - g.last) < c.scoreMinChange) pass = false;
    if (c.scoreEvery > 1 && g.n >= c.scoreEvery) g.n = 0;
    if (pass) g.last = score;
    return pass;
  }

  /** Classify a univariate event against the history of its tag and its related tags. */
  private classified(e: DriftEvent): DriftEvent {
    const c = this.config;
    const key = `${e.asset}/${e.tag}`;
    const all = historyWindow(this.history.get(key));
    // Before part: as long as `beforeRatio` × the after part (at least minBefore readings). A short
    // before part keeps a slow trend from inflating the noise the change is measured against.
    const changeTsMs = typeof e.evidence.episodeStartTsMs === 'number' ? e.evidence.episodeStartTsMs : e.startTsMs;
    let firstAfter = all.findIndex((p) => p.tsMs >= changeTsMs);
    if (firstAfter < 0) firstAfter = all.length;
    const nBefore = Math.max(c.minBeforeSamples, Math.round((all.length - firstAfter) * c.beforeRatio));
    const window = all.slice(Math.max(0, firstAfter - nBefore));
    const from = window.length ? window[0].tsMs : -Infinity;
    const relatedTags = this.relatedOf(e.asset, e.tag);
    const related = relatedTags
      .map((t) => ({ tag: t, window: historyWindow(this.history.get(`${e.asset}/${t}`), from) }))
      .filter((r) => r.window.length > 0);
    const exp = this.expected.get(key);
    const cls = classifyChange(
      { tag: e.tag, window, changeTsMs, related, ...(exp ? { expected: historyWindow(exp, from) } : {}) },
      c.classifyOptions,
    );
    const missing = relatedTags.filter((t) => !related.some((r) => r.tag === t));
    return this.count({
      ...e,
      kind: cls.kind,
      ...(cls.faultType ? { faultType: cls.faultType } : {}),
      direction: cls.direction === 'both' ? e.direction : cls.direction,
      magnitude: cls.kind === 'unclassified' && cls.magnitude === 0 ? e.magnitude : cls.magnitude,
      evidence: {
        ...e.evidence,
        detectorMagnitude: e.magnitude,
        ...cls.evidence,
        ...(missing.length ? { relatedWithoutData: missing } : {}),
        ...(exp ? { estimate: true } : {}),
      },
    });
  }

  private pushMv(r: Reading): EngineResult {
    const mv = this.mv as MvState;
    const out = this.result('reading', 'used');
    if (!this.watched(r.asset, r.tag)) {
      out.outcome = 'ignored';
      return out;
    }
    const key = r.tag;
    const last = this.mvLastTs.get(key);
    if (last !== undefined && r.tsMs < last) {
      throw new TwinError(
        'OUT_OF_ORDER',
        `${r.asset}/${r.tag}: reading at ${new Date(r.tsMs).toISOString()} is older than the last one (${new Date(last).toISOString()}); not applied`,
      );
    }
    if (this.screen) {
      for (const se of this.screen.push(r)) this.addEvent(out, this.count(se));
    }
    if (r.quality === 'bad') {
      out.outcome = 'skipped-bad';
      return out;
    }
    if (r.quality === 'uncertain' && this.config.uncertain === 'skip') {
      out.outcome = 'skipped-uncertain';
      return out;
    }
    this.mvLastTs.set(key, r.tsMs);
    const o = mvStep(mv, r);
    if (!o) return out;
    if (o.type === 'fit-failed')
      throw new TwinError('MODEL', `multivariate reference fit failed: ${o.reason}; collecting the reference again`);
    if (o.type === 'fitted') return out;
    const ratioT2 = o.t2Limit > 0 ? o.t2 / o.t2Limit : 0;
    const ratioSpe = o.speLimit > 0 ? o.spe / o.speLimit : 0;
    const st = mv.config.statistics;
    const score = st === 't2' ? ratioT2 : st === 'spe' ? ratioSpe : Math.max(ratioT2, ratioSpe);
    if (this.gate(MV_SCORE_TAG, score, !!o.event)) {
      const quality = worstQuality(o.quality as Quality);
      out.scores = [{ asset: mv.config.asset, tag: MV_SCORE_TAG, tsMs: o.tsMs, method: this.config.method, score, quality }];
    }
    if (o.event) {
      const e = o.event;
      this.addEvent(out, this.count(this.config.classify ? e : { ...e, kind: 'unclassified', faultType: undefined }));
    }
    return out;
  }

  /** Is the multivariate reference fitted (for the status)? */
  get mvFitted(): boolean | undefined {
    return this.mv ? this.mv.model !== undefined : undefined;
  }
}
