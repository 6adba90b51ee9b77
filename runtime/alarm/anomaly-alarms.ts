/**
 * AnomalyAlarms: Readings or Estimates → per-tag AnomalyDetector → one AlarmManager, as twin-alarm
 * runs them (the node is only its adapter; bench/anomaly-alarms.ts and bench/sim-day.ts measure the
 * same chain). Alarm id = `asset/tag`.
 *
 * - Method (`method`): 'twin-residual' scores an Estimate's innovation against the twin's own
 *   one-step-ahead prediction (`predicted`, `innovationVar`: runtime/model/estimate.ts), so what the
 *   model explains (a setpoint step through a first-order model) raises nothing and the model's
 *   uncertainty sets the scale; 'learned-baseline' scores a Reading against the detector's learned
 *   level and daily profile (tags with no model); 'auto' (default) picks per message: the residual
 *   when the payload is an Estimate carrying a prediction, the baseline for a Reading.
 * - Watched tags: `watch` patterns (runtime/model/tag-pattern.ts); empty = every tag. Unwatched
 *   tags are still kept in the history, as related tags for the classification.
 * - On-delay without re-learning: while an alarm's condition waits out its on-delay, its detector
 *   does not learn what is usual (AnomalyDetector.freeze: residual scale, long-run history), so a
 *   sustained change is judged against the spread normal before it, not absorbed before the delay
 *   is over. Learned-baseline tags take `baselineOnDelayMs` (120 s) as their on-delay.
 * - Cause (`classify`, default on): a 'raised' event carries `cause`, sensor fault or process change
 *   by runtime/drift/classify.ts over the tag's history around the episode's start, against the
 *   other tags of the same asset (which moved: the evidence).
 * - Readings of bad quality (an Estimate that is a prediction only because its reading was bad) are
 *   not scored (a dead sensor's substitute value says nothing about the process). With
 *   `dropoutAlarm` (default on) they are the condition of the tag's alarm, a sensor fault of type
 *   dropout once the on-delay confirms it; else they only advance the alarm clock. Uncertain
 *   readings are scored.
 * - Known inputs (`inputs`: tag patterns, default setpoint names such as `*_sp`): the twin knows
 *   them, so they are never scored; a change of one opens a settling window (`settleMs`) for its
 *   asset, during which the learned-baseline tags of that asset re-learn their level
 *   (AnomalyDetector.relearn) instead of alarming: a tag with no model (heater power after a zone
 *   setpoint step, drive power after a new screw speed) moves because of an input the twin wrote
 *   or read, and settles at a new level that is then its baseline. The twin-residual tags need no
 *   window (their model takes the input). A shift change is such a window only when it comes as an
 *   input (a recipe or setpoint write, or a shift tag listed in `inputs`).
 * - Consequential alarms (`groupConsequential`, default on): an episode classified as a process
 *   change on an asset whose last process-change alarm (the head) is still active, or cleared less
 *   than `alarm.releaseMs` ago, is recorded with `annunciated: false` and `suppressedBy` = the head
 *   (ISA-18.2 state-based suppression: a starved feed moving throughput, pressure, power, current
 *   and quality is one alarm, not six); the head's later events list them in `consequential`.
 *   Sensor faults are never grouped: a fault of one instrument is its own alarm. The episode lasts
 *   while any of its alarms is active (or cleared less than `alarm.releaseMs` ago), not only its
 *   head: a slow process change moves its tags at different times, and the head's own re-raise
 *   within it is recorded as the same episode.
 * - A learned-baseline alarm raised on its trend condition (a trend that does not settle, hours
 *   long) is judged at that time scale: a process or equipment change when another tag of the asset
 *   has its block means in order too, a sensor drift when none has (the classification's window
 *   holds minutes, where such a trend is invisible). Only scored (watched) tags are that evidence.
 * - Root tags (`roots`): their reading is the condition itself (value ≠ 0 is active, e.g. a line
 *   stop signal), not an anomaly score; while active they suppress their `children` (exact ids or
 *   prefixes ending in '*', the manager's syntax) by design: a line stop is one alarm, not forty.
 * - Per-tag consequence (exact ids) sets the alarm's priority (runtime/alarm/priority.ts).
 * - Clock: alarms run in event time. tick(wallMs) advances the alarm clock by the wall time passed
 *   since the last reading arrived, so off-delays and shelve expiry complete with no new reading,
 *   live (event ≈ wall time) and in a replay (event time runs ahead of the wall; ticks then move
 *   it little). Operator actions are dated on that clock; a shelve end given as a wall epoch is
 *   moved onto it by the same offset.
 */
import { AnomalyDetector, type AnomalyConfig } from '../anomaly/detector.js';
import { classifyChange, type ClassifyOptions } from '../drift/classify.js';
import { TwinError } from '../model/errors.js';
import { badSnapshot, decRecord, encNum } from '../model/state-codec.js';
import { assertEstimate, isEstimateLike, type Estimate } from '../model/estimate.js';
import type { Quality } from '../model/quality.js';
import { MAX_NAME_CHARS, singleReadingInput } from '../model/reading.js';
import { compileTagPattern } from '../model/tag-pattern.js';
import { TimedRing } from '../stats/timed-ring.js';
import type { AlarmClassification, AlarmListEntry } from './alarm-registry.js';
import {
  ALARM_STATE_KIND,
  ALARM_STATE_VERSION,
  decMeta,
  decTag,
  type AlarmsMeta,
  type AlarmsSnapshot,
  type TagSnapshot,
} from './alarm-state.js';
import { AlarmManager } from './manager.js';
import type { RateFigures } from './rates.js';
import { anomalyAlarmScore } from './score.js';
import { ALARM_DEFAULTS, type AlarmCause, type AlarmConfig, type AlarmConsequence, type AlarmEvent } from './types.js';

export const ANOMALY_METHODS = ['auto', 'twin-residual', 'learned-baseline'] as const;
export type AnomalyMethod = (typeof ANOMALY_METHODS)[number];

export interface AlarmRootConfig {
  /** The root's alarm id, `asset/tag`; its reading's value ≠ 0 is the condition. */
  id: string;
  /** Alarm ids it suppresses while active: exact, or a prefix ending in '*'. */
  children: string[];
}

export interface AnomalyAlarmsConfig {
  watch: string[];
  detector: Partial<AnomalyConfig>;
  /** Overrides of ALARM_DEFAULTS for every alarm. */
  alarm: Partial<AlarmConfig>;
  roots: AlarmRootConfig[];
  /** Consequence by exact alarm id (`asset/tag`); others take alarm.consequence. */
  consequences: Record<string, AlarmConsequence>;
  maxShelveMs?: number;
  rateWindowMs?: number;
  /** Shelving time when an operator gives no end (default one hour). */
  defaultShelveMs: number;
  /** 'auto' (default): the twin's residual for Estimates with a prediction, the learned baseline for Readings. */
  method: AnomalyMethod;
  /** Classify each raised alarm (sensor fault / process change, with evidence). */
  classify: boolean;
  classifyOptions: ClassifyOptions;
  /** Readings kept per tag for the classification (before and after an episode's start). */
  historySamples: number;
  /** Bad readings of a tag are its alarm's condition (a dropout), not only skipped. */
  dropoutAlarm: boolean;
  /**
   * On-delay of the alarms of learned-baseline tags (the others take alarm.onDelayMs). Trades: with
   * no model to explain a change, a normal excursion of a minute looks like a fault; a longer delay
   * lets it pass (SKAB's anomaly-free file: 72 → 0 alarms/day from 30 s to 120 s) and reports every
   * baseline alarm that much later.
   */
  baselineOnDelayMs: number;
  /** Tag patterns of known inputs (setpoints): not scored; a change opens the asset's settling window. */
  inputs: string[];
  /**
   * Settling window after a known input changes, during which the asset's learned-baseline tags
   * re-learn their level. Trades: longer covers slower responses, and hides a fault of those tags
   * that starts within it (the twin-residual tags still alarm).
   */
  settleMs: number;
  /** One alarm per process-change episode of an asset (consequential ones recorded, not annunciated). */
  groupConsequential: boolean;
  /**
   * Most tags (inputs included) the node keeps state for: bounded memory when anyone on the network
   * can invent tag names. A reading of one more is refused with an error, never silently dropped,
   * and no tag's alarm state is evicted to make room (an alarm must not vanish).
   */
  maxTags: number;
}

export const BASELINE_ON_DELAY_MS = 120_000;
/** Usual setpoint names (ISA-5.1's SP, and common PLC suffixes). */
export const DEFAULT_INPUT_PATTERNS: readonly string[] = ['*_sp', '*_SP', '*.SP', '*_setpoint', '*Setpoint'];
/**
 * About four time constants of the slowest loop on the simulated line (zone τ 150 s: a first-order
 * response is within 2 % of its end by then). Measured on its fault-free day with every tag watched
 * (bench/sim-day.ts): false alarms 16 with no window, 4 at 60 s, 1 at 120 s, 0 at 5, 10 and 15 min.
 */
export const SETTLE_MS = 600_000;
/** ~10 KB of state per tag (detector, 600-reading history): 10,000 tags ≈ 100 MB at most. */
export const MAX_TAGS = 10_000;

/** What one payload says (one reused object: the per-reading path allocates nothing for it). */
interface Measurement {
  asset: string;
  tag: string;
  tsMs: number;
  quality: Quality;
  value: number;
  /** The twin's prediction and innovation variance (NaN: score on the learned baseline). */
  predicted: number;
  variance: number;
}

/**
 * Everything kept for one tag, found by asset then tag with no `asset/tag` string joined per
 * reading: what the patterns say of it (judged once), its detector, history and last times.
 */
interface TagRecord {
  /** `asset/tag`, made once: the alarm id, and the key of every per-id map (a stable string hashes once). */
  readonly id: string;
  readonly asset: string;
  readonly tag: string;
  readonly root: boolean;
  /** A known input (setpoint): not scored; its changes open the asset's settling window. */
  readonly input: boolean;
  readonly watched: boolean;
  /** Event time of the last reading taken (-Infinity before the first). */
  lastTsMs: number;
  detector: AnomalyDetector | undefined;
  /** Method that last scored it (the cause reports it). */
  method: string | undefined;
  /** The learned baseline's trend condition on the last reading (+1, −1; 0: not holding). */
  trend: number;
  /** Last value of a known input. */
  inputValue: number;
  /** Measured values (classification), and the time of the last one kept. */
  ring: TimedRing | undefined;
  ringTsMs: number;
  /** Its alarm takes the learned baseline's on-delay (set when its detector was made). */
  baseline: boolean;
}

/** An asset's current process-change episode: its head alarm and the alarms recorded as its consequences. */
interface EpisodeHead {
  id: string;
  /** When the head cleared (Infinity while active). */
  clearedTsMs: number;
  /** Alarms of the episode (head or consequences) active now, and when the last of them cleared. */
  active: Set<string>;
  lastClearedTsMs: number;
  consequential: string[];
}

export const DEFAULT_SHELVE_MS = 3_600_000;

export type AlarmCommand = 'ack' | 'shelve' | 'unshelve';

export interface AlarmCommandPayload {
  id: string;
  user: string;
  reason?: string;
  untilTsMs?: number;
}

const CONSEQUENCES: AlarmConsequence[] = ['minor', 'moderate', 'severe'];

export class AnomalyAlarms {
  readonly manager: AlarmManager;
  private readonly cfg: AnomalyAlarmsConfig;
  /** Tag records by asset, then tag (the per-reading lookup), and by id (alarm events, causes). */
  private readonly records = new Map<string, Map<string, TagRecord>>();
  private readonly recordById = new Map<string, TagRecord>();
  /** Records with a history, per asset (related tags of a flagged one). */
  private readonly historyByAsset = new Map<string, TagRecord[]>();
  private readonly scratch: Measurement = { asset: '', tag: '', tsMs: NaN, quality: 'good', value: NaN, predicted: NaN, variance: NaN };
  private readonly rootIds: Set<string>;
  private readonly watched: Array<(asset: string, tag: string) => boolean>;
  private readonly inputs: Array<(asset: string, tag: string) => boolean>;
  /** The end of each asset's settling window. */
  private readonly settleUntil = new Map<string, number>();
  /** Cause of an episode about to be raised (computed when the manager asks whether it is consequential). */
  private readonly pendingCause = new Map<string, AlarmCause>();
  /** The cause of each alarm's latest raise, for the overview page (until the next raise replaces it). */
  private readonly lastCause = new Map<string, AlarmCause>();
  /** Per asset: the head of its current process-change episode and the alarms recorded as its consequences. */
  private readonly heads = new Map<string, EpisodeHead>();
  /** Event time of the newest reading, and the wall time it arrived at. */
  private eventMs = NaN;
  private wallAtEventMs = NaN;

  constructor(
    cfg: Partial<AnomalyAlarmsConfig> = {},
    private readonly wallNow: () => number = Date.now,
  ) {
    this.cfg = {
      watch: [],
      detector: {},
      alarm: {},
      roots: [],
      consequences: {},
      defaultShelveMs: DEFAULT_SHELVE_MS,
      method: 'auto',
      classify: true,
      // recurring spikes over an on-delay: up to 15 % of the readings after the episode's start
      classifyOptions: { spikeMaxFraction: 0.15 },
      historySamples: 600,
      dropoutAlarm: true,
      baselineOnDelayMs: BASELINE_ON_DELAY_MS,
      inputs: [...DEFAULT_INPUT_PATTERNS],
      settleMs: SETTLE_MS,
      groupConsequential: true,
      maxTags: MAX_TAGS,
      ...cfg,
    };
    if (!(Number.isInteger(this.cfg.maxTags) && this.cfg.maxTags >= 1))
      throw new TwinError('BAD_CONFIG', 'max tags must be a whole number ≥ 1');
    if (!(this.cfg.settleMs >= 0)) throw new TwinError('BAD_CONFIG', 'settling time must be ≥ 0');
    if (!(this.cfg.baselineOnDelayMs >= 0)) throw new TwinError('BAD_CONFIG', 'baseline on-delay must be ≥ 0');
    if (!ANOMALY_METHODS.includes(this.cfg.method))
      throw new TwinError('BAD_CONFIG', `method must be one of ${ANOMALY_METHODS.join(', ')}`);
    if (!(Number.isInteger(this.cfg.historySamples) && this.cfg.historySamples >= 20)) {
      throw new TwinError('BAD_CONFIG', 'history must be a whole number of readings ≥ 20');
    }
    const alarms: Record<string, Partial<AlarmConfig>> = {};
    for (const [id, c] of Object.entries(this.cfg.consequences)) {
      if (!CONSEQUENCES.includes(c)) throw new TwinError('BAD_CONFIG', `consequence of ${id} must be one of ${CONSEQUENCES.join(', ')}`);
      alarms[id] = { consequence: c };
    }
    for (const r of this.cfg.roots) {
      if (typeof r.id !== 'string' || !r.id.includes('/')) throw new TwinError('BAD_CONFIG', `root '${r.id}' must be an asset/tag path`);
      alarms[r.id] = { ...alarms[r.id], children: r.children };
    }
    if (!(this.cfg.defaultShelveMs > 0)) throw new TwinError('BAD_CONFIG', 'default shelving time must be positive');
    this.rootIds = new Set(this.cfg.roots.map((r) => r.id));
    this.watched = this.cfg.watch.map(compileTagPattern);
    this.inputs = this.cfg.inputs.map(compileTagPattern);
    // the manager's clock for actions given without a time: the alarm clock
    this.manager = new AlarmManager({
      defaults: this.cfg.alarm,
      alarms,
      maxShelveMs: this.cfg.maxShelveMs,
      rateWindowMs: this.cfg.rateWindowMs,
      now: () => this.clockMs(),
      consequentialOf: (id, startTsMs, tsMs) => this.consequentialOf(id, startTsMs, tsMs),
    });
  }

  /** One Reading or Estimate (validated here); returns the alarm events it caused. */
  push(payload: unknown): AlarmEvent[] {
    const m = this.measurement(payload);
    const t = this.record(m.asset, m.tag);
    if (t.input) return this.input(t, m);
    if (m.tsMs < t.lastTsMs) {
      throw new TwinError('OUT_OF_ORDER', `${t.id}: reading at ${new Date(m.tsMs).toISOString()} is before the last one`);
    }
    if (this.cfg.classify && m.quality !== 'bad' && Number.isFinite(m.value)) this.remember(t, m);
    if (!t.watched) {
      t.lastTsMs = m.tsMs;
      return [];
    }
    this.advance(m.tsMs);
    let input: number | boolean;
    if (m.quality === 'bad' || !Number.isFinite(m.value)) {
      if (t.root || !this.cfg.dropoutAlarm || m.quality !== 'bad') return this.annotate(this.manager.tick(this.eventMs));
      input = true;
      t.method = 'dropout';
    } else if (t.root) input = m.value !== 0;
    else {
      const residual = Number.isFinite(m.predicted);
      let d = t.detector;
      if (!d) {
        t.detector = d = new AnomalyDetector(this.cfg.detector);
        t.baseline = !residual;
        if (!residual) this.manager.configure(t.id, { onDelayMs: this.cfg.baselineOnDelayMs });
      }
      // the condition waiting out its on-delay is judged against the spread usual before it
      d.freeze(this.manager.pending(t.id));
      if (!residual) d.relearn(m.tsMs < (this.settleUntil.get(m.asset) ?? -Infinity));
      const o = residual ? d.stepPredicted(m.value, m.predicted, m.variance, m.tsMs) : d.step(m.tsMs, m.value);
      input = anomalyAlarmScore(o);
      t.trend = o.trend;
      t.method = residual ? 'twin-residual' : 'learned-baseline';
    }
    t.lastTsMs = m.tsMs;
    return this.annotate(this.manager.update(t.id, input, m.tsMs));
  }

  /** The record of (asset, tag), made on its first reading; at most maxTags of them (one more is refused). */
  private record(asset: string, tag: string): TagRecord {
    let tags = this.records.get(asset);
    const found = tags?.get(tag);
    if (found !== undefined) return found;
    const id = `${asset}/${tag}`;
    if (this.recordById.size >= this.cfg.maxTags) {
      throw new TwinError('BAD_PAYLOAD', `${id}: this node already keeps ${this.cfg.maxTags} tags (its max tags); reading refused`);
    }
    const root = this.rootIds.has(id);
    const t: TagRecord = {
      id,
      asset,
      tag,
      root,
      input: !root && this.inputs.some((w) => w(asset, tag)),
      watched: root || !this.watched.length || this.watched.some((w) => w(asset, tag)),
      lastTsMs: -Infinity,
      detector: undefined,
      method: undefined,
      trend: 0,
      inputValue: NaN,
      ring: undefined,
      ringTsMs: -Infinity,
      baseline: false,
    };
    if (tags === undefined) this.records.set(asset, (tags = new Map<string, TagRecord>()));
    tags.set(tag, t);
    this.recordById.set(id, t);
    return t;
  }

  /** A known input: not scored; a change of its value opens its asset's settling window. */
  private input(t: TagRecord, m: Measurement): AlarmEvent[] {
    if (m.tsMs < t.lastTsMs) {
      throw new TwinError('OUT_OF_ORDER', `${t.id}: reading at ${new Date(m.tsMs).toISOString()} is before the last one`);
    }
    t.lastTsMs = m.tsMs;
    if (m.quality === 'bad' || !Number.isFinite(m.value)) return [];
    const prev = t.inputValue;
    t.inputValue = m.value;
    if (!Number.isNaN(prev) && prev !== m.value) {
      this.settleUntil.set(m.asset, Math.max(this.settleUntil.get(m.asset) ?? -Infinity, m.tsMs + this.cfg.settleMs));
    }
    return [];
  }

  /** Causes on raised events, and the consequences recorded so far on a head's later events. */
  private annotate(evs: AlarmEvent[]): AlarmEvent[] {
    for (const e of evs) {
      const cause = this.pendingCause.get(e.alarmId);
      if (e.kind === 'raised' && cause) {
        e.cause = cause;
        this.pendingCause.delete(e.alarmId);
      } else if (e.kind === 'raised' && this.cfg.classify && !this.rootIds.has(e.alarmId) && e.startTsMs !== undefined) {
        const t = this.recordById.get(e.alarmId);
        if (t !== undefined) e.cause = this.cause(t, e.startTsMs);
      }
      if (e.kind === 'raised' && e.cause) this.lastCause.set(e.alarmId, e.cause);
      const asset = this.recordById.get(e.alarmId)?.asset;
      const head = asset === undefined ? undefined : this.heads.get(asset);
      if (head && head.id === e.alarmId && e.kind !== 'raised') {
        if (e.kind === 'cleared') head.clearedTsMs = e.tsMs;
        if (head.consequential.length) e.consequential = [...head.consequential];
      }
      // the episode lasts while any of its alarms does (the head's own condition may end first)
      if (head && (head.id === e.alarmId || head.consequential.includes(e.alarmId))) {
        if (e.kind === 'raised') head.active.add(e.alarmId);
        else if (e.kind === 'cleared') {
          head.active.delete(e.alarmId);
          head.lastClearedTsMs = e.tsMs;
        }
      }
    }
    return evs;
  }

  /**
   * The manager's question before annunciating an episode of `id`: the head alarm it is a
   * consequence of, if any. The cause is judged here (and kept for the raised event).
   */
  private consequentialOf(id: string, startTsMs: number, tsMs: number): string | undefined {
    const t = this.recordById.get(id);
    if (t === undefined || t.root || !this.cfg.classify) return undefined;
    const asset = t.asset;
    const cause = this.cause(t, startTsMs);
    this.pendingCause.set(id, cause);
    if (!this.cfg.groupConsequential || cause.kind !== 'process-change') return undefined;
    const head = this.heads.get(asset);
    const releaseMs = this.cfg.alarm.releaseMs ?? ALARM_DEFAULTS.releaseMs;
    const open = head !== undefined && (head.clearedTsMs === Infinity || head.active.size > 0 || tsMs - head.lastClearedTsMs < releaseMs);
    if (head && open) {
      // the head raised again while the episode it began goes on (its other alarms still active) is
      // that episode, recorded, not a new one
      if (head.id === id) return head.clearedTsMs === Infinity ? undefined : head.id;
      if (!head.consequential.includes(id)) head.consequential.push(id);
      return head.id;
    }
    this.heads.set(asset, { id, clearedTsMs: Infinity, lastClearedTsMs: -Infinity, active: new Set(), consequential: [] });
    return undefined;
  }

  /** What one payload says: the measured value and, for the residual, the twin's prediction. */
  private measurement(payload: unknown): Measurement {
    const out = this.scratch;
    const method = this.cfg.method;
    if (isEstimateLike(payload) && !Array.isArray(payload)) {
      assertEstimate(payload);
      const e = payload as Estimate;
      if (e.asset.length > MAX_NAME_CHARS || e.tag.length > MAX_NAME_CHARS) {
        throw new TwinError('PAYLOAD_TOO_LARGE', `Estimate.asset and Estimate.tag must be at most ${MAX_NAME_CHARS} characters`);
      }
      const hasPrediction =
        typeof e.predicted === 'number' &&
        Number.isFinite(e.predicted) &&
        typeof e.innovation === 'number' &&
        Number.isFinite(e.innovation);
      const variance = typeof e.innovationVar === 'number' && e.innovationVar > 0 ? e.innovationVar : NaN;
      if (method === 'twin-residual' && hasPrediction && !(variance > 0)) {
        throw new TwinError('BAD_PAYLOAD', `${e.asset}/${e.tag}: the twin residual needs the estimate's innovationVar > 0`);
      }
      // an estimate that is a prediction only stands for a bad reading (runtime/estimate/step.ts)
      const bad = !hasPrediction && typeof e.qualityReason === 'string' && e.qualityReason.includes('prediction only');
      const value = hasPrediction ? (e.predicted as number) + (e.innovation as number) : NaN;
      const residual = hasPrediction && method !== 'learned-baseline';
      out.asset = e.asset;
      out.tag = e.tag;
      out.tsMs = e.tsMs;
      out.quality = bad ? 'bad' : e.quality;
      out.value = value;
      out.predicted = residual ? (e.predicted as number) : NaN;
      out.variance = residual ? variance : NaN;
      return out;
    }
    const r = singleReadingInput(payload, 'twin-alarm');
    if (method === 'twin-residual' && !this.rootIds.has(`${r.asset}/${r.tag}`)) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `${r.asset}/${r.tag}: the twin residual needs an Estimate (twin-estimate's output), got a Reading`,
      );
    }
    out.asset = r.asset;
    out.tag = r.tag;
    out.tsMs = r.tsMs;
    out.quality = r.quality;
    out.value = r.value;
    out.predicted = NaN;
    out.variance = NaN;
    return out;
  }

  private remember(t: TagRecord, m: Measurement): void {
    if (t.ring === undefined) {
      t.ring = new TimedRing(this.cfg.historySamples);
      const list = this.historyByAsset.get(t.asset);
      if (list) list.push(t);
      else this.historyByAsset.set(t.asset, [t]);
    }
    if (m.tsMs <= t.ringTsMs) return;
    t.ringTsMs = m.tsMs;
    t.ring.push(m.tsMs, m.value);
  }

  /** Sensor fault or process change, at an alarm's raise, with the evidence. */
  private cause(t: TagRecord, startTsMs: number): AlarmCause {
    const method = t.method ?? 'learned-baseline';
    if (method === 'dropout') {
      return {
        kind: 'sensor-fault',
        faultType: 'dropout',
        magnitude: 0,
        method,
        reason: 'readings of bad quality (the sensor delivers no usable value)',
        evidence: {},
      };
    }
    if (method === 'learned-baseline' && t.trend !== 0) return this.trendCause(t);
    const tag = t.tag;
    const window = t.ring ? t.ring.window() : [];
    const from = window.length ? window[0].tsMs : startTsMs;
    const related = (this.historyByAsset.get(t.asset) ?? [])
      .filter((other) => other !== t)
      .map((other) => ({ tag: other.tag, window: (other.ring as TimedRing).window(from) }))
      .filter((r) => r.window.length > 0);
    // No `expected` from the twin's prediction: a one-step-ahead prediction is pulled along by the
    // readings it is updated with (a filter follows a drifting sensor), so "the estimate moved with
    // it" would call every slow sensor fault a process change. The related tags decide.
    const c = classifyChange(
      { tag, window, changeTsMs: startTsMs, related, residualDeparture: method === 'twin-residual' },
      this.cfg.classifyOptions,
    );
    return {
      kind: c.kind,
      ...(c.faultType ? { faultType: c.faultType } : {}),
      magnitude: c.magnitude,
      method,
      reason: c.evidence.reason,
      evidence: c.evidence as unknown as Record<string, unknown>,
    };
  }

  /**
   * A trend that does not settle, judged at its own time scale (hours, where the classification's
   * window holds minutes): the same asset's tags whose block means run in order too are the evidence.
   * With one, a process or equipment change (a worn bearing moves vibration, power and quality);
   * alone, the instrument drifts.
   */
  private trendCause(t: TagRecord): AlarmCause {
    const related: Array<{ tag: string; moved: boolean }> = [];
    for (const other of this.records.get(t.asset)?.values() ?? []) {
      if (other === t || other.input || other.root || other.detector === undefined) continue;
      related.push({ tag: other.tag, moved: other.detector.trendDirection() !== 0 });
    }
    const moved = related.filter((r) => r.moved).map((r) => r.tag);
    const d = t.detector as AnomalyDetector;
    const hours = (d.cfg.trendBlockMs * d.trendBlocks()) / 3_600_000;
    const way = t.trend > 0 ? 'rising' : 'falling';
    const reason = moved.length
      ? `${way} for ${hours} h without settling, with ${moved.join(', ')}: a process or equipment change`
      : `${way} for ${hours} h without settling, no related tag with it: the sensor drifts`;
    return {
      kind: moved.length ? 'process-change' : 'sensor-fault',
      ...(moved.length ? {} : { faultType: 'drift' as const }),
      magnitude: d.trendChange(),
      method: 'learned-baseline',
      reason,
      evidence: { reason, trendHours: hours, related },
    };
  }

  /**
   * The state of every tag (detector, history, alarm) and of the line (alarm clock, settling
   * windows, episode heads) as JSON (runtime/alarm/alarm-state.ts): what another instance taking the
   * line over needs so that it neither re-learns (blind, then alarming on what it half-learned) nor
   * ends and re-raises an episode open at the handover. The alarm-rate window is not in it.
   */
  snapshot(): AlarmsSnapshot {
    const heads: AlarmsMeta['heads'] = {};
    for (const [asset, h] of this.heads) {
      heads[asset] = {
        id: h.id,
        clearedTsMs: encNum(h.clearedTsMs),
        active: [...h.active],
        lastClearedTsMs: encNum(h.lastClearedTsMs),
        consequential: [...h.consequential],
      };
    }
    const meta: AlarmsMeta = {
      kind: ALARM_STATE_KIND,
      v: ALARM_STATE_VERSION,
      eventMs: encNum(this.eventMs),
      settleUntil: Object.fromEntries([...this.settleUntil].map(([a, ms]) => [a, encNum(ms)])),
      heads,
    };
    const tags: TagSnapshot[] = [];
    for (const t of this.recordById.values()) {
      const alarm = this.manager.snapshotAlarm(t.id);
      const cause = this.lastCause.get(t.id);
      tags.push({
        kind: ALARM_STATE_KIND,
        v: ALARM_STATE_VERSION,
        asset: t.asset,
        tag: t.tag,
        lastTsMs: encNum(t.lastTsMs),
        ...(t.method !== undefined ? { method: t.method } : {}),
        trend: t.trend,
        inputValue: encNum(t.inputValue),
        baseline: t.baseline,
        ringTsMs: encNum(t.ringTsMs),
        ...(t.ring ? { ring: t.ring.snapshot() } : {}),
        ...(t.detector ? { detector: t.detector.snapshot() } : {}),
        ...(alarm ? { alarm } : {}),
        ...(cause ? { cause } : {}),
      });
    }
    return { meta, tags };
  }

  /**
   * Take the state of a snapshot() into this instance, which must be new (no reading yet). The
   * snapshot is untrusted (another instance wrote it to a store): a wrong kind or version, a field
   * out of shape or more tags than maxTags throws a TwinError naming it, and the caller then drops
   * this instance and starts from a new one (what it restored so far is not undone).
   */
  restore(snapshot: unknown): void {
    if (this.recordById.size > 0 || !Number.isNaN(this.eventMs)) {
      throw new TwinError('BAD_PAYLOAD', 'a snapshot is restored only into a new alarm state');
    }
    const s = decRecord(snapshot, 'alarm state');
    const meta = decMeta(s.meta);
    if (!Array.isArray(s.tags)) badSnapshot('tags is not a list');
    if (s.tags.length > this.cfg.maxTags) badSnapshot(`${s.tags.length} tags, this node keeps at most ${this.cfg.maxTags}`);
    const decoded = s.tags.map((v, i) => decTag(v, i));
    for (const d of decoded) {
      const t = this.record(d.asset, d.tag);
      if (t.lastTsMs !== -Infinity) badSnapshot(`tag ${t.id} twice`);
      t.lastTsMs = d.lastTsMs;
      t.method = d.method;
      t.trend = d.trend;
      t.inputValue = d.inputValue;
      t.ringTsMs = d.ringTsMs;
      if (d.ring !== undefined) {
        const ring = new TimedRing(this.cfg.historySamples);
        ring.restore(d.ring);
        t.ring = ring;
        const list = this.historyByAsset.get(t.asset);
        if (list) list.push(t);
        else this.historyByAsset.set(t.asset, [t]);
      }
      if (d.detector !== undefined) {
        const det = new AnomalyDetector(this.cfg.detector);
        det.restore(d.detector);
        t.detector = det;
        t.baseline = d.baseline;
        if (d.baseline) this.manager.configure(t.id, { onDelayMs: this.cfg.baselineOnDelayMs });
      }
      if (d.alarm !== undefined) this.manager.restoreAlarm(t.id, d.alarm);
      if (d.cause !== undefined) this.lastCause.set(t.id, d.cause);
    }
    for (const [asset, ms] of Object.entries(meta.settleUntil)) this.settleUntil.set(asset, ms);
    for (const [asset, h] of Object.entries(meta.heads)) this.heads.set(asset, h);
    if (!Number.isNaN(meta.eventMs)) {
      this.eventMs = meta.eventMs;
      this.wallAtEventMs = this.wallNow();
    }
  }

  /** Advance the alarm clock by the wall time since the last reading (no-op before the first). */
  tick(): AlarmEvent[] {
    if (Number.isNaN(this.eventMs)) return [];
    return this.annotate(this.manager.tick(this.clockMs()));
  }

  /** An operator action from a control message; throws a TwinError on a bad one. */
  command(topic: string, payload: unknown): AlarmEvent[] {
    if (topic !== 'ack' && topic !== 'shelve' && topic !== 'unshelve') {
      throw new TwinError('BAD_PAYLOAD', `unknown command '${topic}' (ack, shelve, unshelve)`);
    }
    if (!payload || typeof payload !== 'object') throw new TwinError('BAD_PAYLOAD', `${topic}: payload must be {id, user, reason}`);
    const p = payload as Partial<AlarmCommandPayload>;
    if (typeof p.id !== 'string' || p.id === '') throw new TwinError('BAD_PAYLOAD', `${topic}: id must be an alarm or episode id`);
    if (typeof p.user !== 'string') throw new TwinError('BAD_PAYLOAD', `${topic}: user is required`);
    if (p.reason !== undefined && typeof p.reason !== 'string') throw new TwinError('BAD_PAYLOAD', `${topic}: reason must be text`);
    const now = this.clockMs();
    if (topic === 'ack') return this.annotate(this.manager.ack(p.id, p.user, p.reason ?? '', now));
    if (topic === 'unshelve') return this.annotate(this.manager.unshelve(p.id, p.user, p.reason ?? '', now));
    let until = now + this.cfg.defaultShelveMs;
    if (p.untilTsMs !== undefined) {
      if (typeof p.untilTsMs !== 'number' || !Number.isFinite(p.untilTsMs)) {
        throw new TwinError('BAD_PAYLOAD', 'shelve: untilTsMs must be an epoch ms');
      }
      until = now + (p.untilTsMs - this.wallNow());
    }
    return this.manager.shelve(p.id, p.user, p.reason ?? '', until, now);
  }

  rates(): RateFigures {
    return this.manager.rates(this.clockMs());
  }

  /** Every alarm's state, with the cause of its latest raise when it was classified. */
  list(): AlarmListEntry[] {
    return this.manager.list().map((v) => {
      const c = this.lastCause.get(v.alarmId);
      if (!c) return v;
      return c.kind !== 'unclassified' ? { ...v, method: c.method, classification: classificationOf(c) } : { ...v, method: c.method };
    });
  }

  /** The alarm clock: the newest event time plus the wall time since it arrived (wall time before any reading). */
  clockMs(): number {
    if (Number.isNaN(this.eventMs)) return this.wallNow();
    return this.eventMs + Math.max(0, this.wallNow() - this.wallAtEventMs);
  }

  private advance(tsMs: number): void {
    if (Number.isNaN(this.eventMs) || tsMs >= this.eventMs) {
      this.eventMs = tsMs;
      this.wallAtEventMs = this.wallNow();
    }
  }
}

/** What the page shows of a cause: its kind and which related tags moved with the tag and which did not. */
export function classificationOf(c: AlarmCause): AlarmClassification {
  const related = Array.isArray(c.evidence.related) ? (c.evidence.related as Array<{ tag: string; moved: boolean; usable?: boolean }>) : [];
  return {
    kind: c.kind,
    ...(c.faultType ? { faultType: c.faultType } : {}),
    moved: related.filter((r) => r.moved).map((r) => r.tag),
    still: related.filter((r) => !r.moved && r.usable !== false).map((r) => r.tag),
  };
}
