/**
 * AnomalyAlarms: Readings → per-tag AnomalyDetector → one AlarmManager, as twin-alarm runs them (the
 * node is only its adapter; bench/anomaly-alarms.ts measures the same chain). Alarm id = `asset/tag`.
 *
 * - Watched tags: `watch` patterns (runtime/model/tag-pattern.ts); empty = every tag.
 * - Readings of bad quality are not scored (a dead sensor's substitute value says nothing about the
 *   process); they only advance the alarm clock. Uncertain readings are scored.
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
import { TwinError } from '../model/errors.js';
import { singleReadingInput, type Reading } from '../model/reading.js';
import { compileTagPattern } from '../model/tag-pattern.js';
import { AlarmManager, type AlarmView } from './manager.js';
import type { RateFigures } from './rates.js';
import { anomalyAlarmScore } from './score.js';
import type { AlarmConfig, AlarmConsequence, AlarmEvent } from './types.js';

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
  private readonly detectors = new Map<string, AnomalyDetector>();
  private readonly lastTsById = new Map<string, number>();
  private readonly rootIds: Set<string>;
  private readonly watched: Array<(asset: string, tag: string) => boolean>;
  /** Event time of the newest reading, and the wall time it arrived at. */
  private eventMs = NaN;
  private wallAtEventMs = NaN;

  constructor(cfg: Partial<AnomalyAlarmsConfig> = {}, private readonly wallNow: () => number = Date.now) {
    this.cfg = { watch: [], detector: {}, alarm: {}, roots: [], consequences: {}, defaultShelveMs: DEFAULT_SHELVE_MS, ...cfg };
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
    // the manager's clock for actions given without a time: the alarm clock
    this.manager = new AlarmManager({
      defaults: this.cfg.alarm,
      alarms,
      maxShelveMs: this.cfg.maxShelveMs,
      rateWindowMs: this.cfg.rateWindowMs,
      now: () => this.clockMs(),
    });
  }

  /** One Reading (validated here); returns the alarm events it caused. */
  push(payload: unknown): AlarmEvent[] {
    const r: Reading = singleReadingInput(payload, 'twin-alarm');
    const id = `${r.asset}/${r.tag}`;
    const root = this.rootIds.has(id);
    if (!root && this.watched.length && !this.watched.some((w) => w(r.asset, r.tag))) return [];
    const last = this.lastTsById.get(id);
    if (last !== undefined && r.tsMs < last) {
      throw new TwinError('OUT_OF_ORDER', `${id}: reading at ${new Date(r.tsMs).toISOString()} is before the last one`);
    }
    this.advance(r.tsMs);
    if (r.quality === 'bad') return this.manager.tick(this.eventMs);
    let input: number | boolean;
    if (root) input = r.value !== 0;
    else {
      let d = this.detectors.get(id);
      if (!d) this.detectors.set(id, (d = new AnomalyDetector(this.cfg.detector)));
      input = anomalyAlarmScore(d.step(r.tsMs, r.value));
    }
    this.lastTsById.set(id, r.tsMs);
    return this.manager.update(id, input, r.tsMs);
  }

  /** Advance the alarm clock by the wall time since the last reading (no-op before the first). */
  tick(): AlarmEvent[] {
    if (Number.isNaN(this.eventMs)) return [];
    return this.manager.tick(this.clockMs());
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
    if (topic === 'ack') return this.manager.ack(p.id, p.user, p.reason ?? '', now);
    if (topic === 'unshelve') return this.manager.unshelve(p.id, p.user, p.reason ?? '', now);
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

  list(): AlarmView[] {
    return this.manager.list();
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
