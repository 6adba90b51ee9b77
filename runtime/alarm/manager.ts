/**
 * AlarmManager: alarm management for a set of tags as the process industry does it (ANSI/ISA-18.2,
 * IEC 62682, EEMUA 191). Pure and event-time driven, so a node adapter, a replay and a test drive it
 * alike. States and their meaning: ./types.ts. Defaults and what each parameter trades: ALARM_DEFAULTS.
 *
 * API (every call returns the AlarmEvents it caused, in order; records to forward or store):
 *   update(id, score | active, tsMs)    a detector's score (higher is worse; ≥ setpoint is abnormal)
 *                                       or a boolean condition, for alarm `id` (usually the tag path)
 *   tick(tsMs)                          advance time with no sample: off-delays, shelve expiry,
 *                                       suppression release, chatter release
 *   ack(id, user, reason, tsMs)         acknowledge (alarm id or episode id; reason may be ''); a repeat is a no-op
 *   shelve(id, user, reason, untilTsMs, tsMs?)  hide until untilTsMs (at most maxShelveMs); tsMs
 *                                       defaults to the injected clock (operator actions are wall time)
 *   unshelve / setOutOfService / returnToService (id, user, reason, tsMs?)
 *   rates(tsMs)                         alarm-rate figures per line and in total (./rates.ts)
 *   list()                              every known alarm's state, for an overview page
 * Bad input (unknown id for an operator action, missing user or reason, a non-finite score or
 * time, a time before the alarm's last one) throws a TwinError; the manager's state is unchanged.
 *
 * One alarm per episode: an episode runs from the (debounced, ./condition.ts) activation to the
 * return to normal, has one episode id, one 'raised' and one 'cleared'; acknowledgement may come
 * before or after the return (ISA states ack-active or unack-rtn). Chattering alarms are shelved by
 * the system and reported once (./chatter.ts). A root alarm (config `children`) suppresses its
 * children by design while active and `releaseMs` after; their episodes are recorded with
 * `annunciated: false` and `suppressedBy`, and alarms it withdraws get a 'suppressed' event. Only
 * annunciated raises count in the rates. Shelved and out-of-service alarms are still evaluated
 * (silently): when they return with the condition still active, the alarm annunciates afresh.
 */
import { TwinError } from '../model/errors.js';
import { badSnapshot, decBool, decFinite, decInt, decNum, decRecord, decString, encNum, type EncodedNumber } from '../model/state-codec.js';
import { ChatterDetector, type ChatterSnapshot } from './chatter.js';
import { AlarmCondition, type ConditionSnapshot } from './condition.js';
import { alarmPriority } from './priority.js';
import { AlarmRates, type RateFigures } from './rates.js';
import {
  ALARM_DEFAULTS,
  MAX_SHELVE_MS,
  type AlarmAction,
  type AlarmConfig,
  type AlarmEvent,
  type AlarmEventKind,
  type AlarmPriority,
  type AlarmState,
} from './types.js';

export interface AlarmManagerOptions {
  /** Overrides of ALARM_DEFAULTS for every alarm. */
  defaults?: Partial<AlarmConfig>;
  /** Per-alarm configuration by alarm id (the rationalisation record). */
  alarms?: Record<string, Partial<AlarmConfig>>;
  /** Trailing window of the rate figures (default one day). */
  rateWindowMs?: number;
  /** Longest shelving an operator may ask for (default one shift, 12 h). */
  maxShelveMs?: number;
  /** Clock for operator actions given without a time (default Date.now); inject one in tests. */
  now?: () => number;
  /**
   * Asked as an episode of alarm `id` is about to be annunciated (no root suppresses it): the id of
   * the alarm it is a consequence of (state-based suppression: the same event already annunciated
   * on a related tag), or undefined. A consequential episode is recorded with `annunciated: false`
   * and `suppressedBy`, for that episode only (ISA-18.2's state-based designed suppression).
   */
  consequentialOf?: (id: string, startTsMs: number, tsMs: number) => string | undefined;
}

/** What list() shows per alarm. */
export interface AlarmView {
  alarmId: string;
  line: string;
  state: AlarmState;
  priority: AlarmPriority;
  episodeId?: string;
  startTsMs?: number;
  endTsMs?: number;
  peakScore?: number;
  suppressedBy?: string;
  shelvedUntilTsMs?: number;
  shelvedBy?: AlarmAction;
  outOfServiceBy?: AlarmAction;
  ackedBy?: AlarmAction;
  chattering: boolean;
}

interface Episode {
  id: string;
  startTsMs: number;
  endTsMs?: number;
  priority: AlarmPriority;
  peakScore: number;
  /** A 'raised' event went out for it (annunciated or as a suppressed record). */
  reported: boolean;
  ackedBy?: AlarmAction;
}

interface Alarm {
  id: string;
  cfg: AlarmConfig;
  line: string;
  cond: AlarmCondition;
  chatter: ChatterDetector;
  /** The annunciated episode has been acknowledged (true when nothing awaits acknowledgement). */
  acked: boolean;
  episodes: number;
  episode?: Episode;
  /** Highest score since the raw condition last became active. */
  peak: number;
  lastTsMs: number;
  shelf?: { action: AlarmAction; untilTsMs: number; bySystem: boolean };
  oos?: AlarmAction;
  /** Root currently suppressing this alarm (or the head alarm of its episode, see consequential). */
  suppressedBy?: string;
  /** The open episode is a consequence of `suppressedBy`'s (AlarmManagerOptions.consequentialOf), not a root's child. */
  consequential: boolean;
  /** For a root: children stay suppressed until then after it returns to normal. */
  releaseUntilMs: number;
}

const SYSTEM = 'system';
const PRIORITIES: AlarmPriority[] = ['low', 'medium', 'high'];
/** Longest user name or reason a snapshot may carry (an action's texts are the operator's). */
const MAX_ACTION_CHARS = 2_000;

/**
 * One alarm's state as JSON (runtime/model/state-codec.ts), what a new owner of the line needs so an
 * episode open at a handover stays that episode (same id, no second 'raised', its acknowledgement,
 * shelving and on/off-delay timers kept). The configuration is not in it: it comes from the node.
 */
export interface AlarmSnapshot {
  cond: ConditionSnapshot;
  chatter: ChatterSnapshot;
  acked: boolean;
  episodes: number;
  episode?: {
    id: string;
    startTsMs: number;
    endTsMs?: number;
    priority: AlarmPriority;
    peakScore: EncodedNumber;
    reported: boolean;
    ackedBy?: AlarmAction;
  };
  peak: EncodedNumber;
  lastTsMs: EncodedNumber;
  shelf?: { action: AlarmAction; untilTsMs: EncodedNumber; bySystem: boolean };
  oos?: AlarmAction;
  suppressedBy?: string;
  consequential: boolean;
  releaseUntilMs: EncodedNumber;
}

function decAction(v: unknown, field: string): AlarmAction {
  const a = decRecord(v, field);
  return {
    user: decString(a.user, `${field}.user`, MAX_ACTION_CHARS),
    reason: decString(a.reason, `${field}.reason`, MAX_ACTION_CHARS),
    tsMs: decFinite(a.tsMs, `${field}.tsMs`),
  };
}

/** 'site/area/line' of an ISA-95 path site/area/line/asset/tag; the parent path for shorter ids. */
export function lineOfPath(id: string): string {
  const parts = id.split('/');
  if (parts.length > 3) return parts.slice(0, 3).join('/');
  return parts.length > 1 ? parts.slice(0, -1).join('/') : id;
}

function matches(pattern: string, id: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : pattern === id;
}

export class AlarmManager {
  private readonly alarmsById = new Map<string, Alarm>();
  private readonly roots: Alarm[] = [];
  private readonly rateStore: AlarmRates;
  private readonly defaults: AlarmConfig;
  private readonly perAlarm: Record<string, Partial<AlarmConfig>>;
  private readonly maxShelveMs: number;
  private readonly now: () => number;
  private readonly consequentialOf?: (id: string, startTsMs: number, tsMs: number) => string | undefined;
  /** Earliest time a shelve expiry, a suppression release or a chatter release may fall due. */
  private nextDueMs = Infinity;

  constructor(opts: AlarmManagerOptions = {}) {
    this.defaults = { ...ALARM_DEFAULTS, ...opts.defaults };
    this.perAlarm = { ...opts.alarms };
    this.rateStore = new AlarmRates(opts.rateWindowMs);
    this.maxShelveMs = opts.maxShelveMs ?? MAX_SHELVE_MS;
    this.now = opts.now ?? Date.now;
    this.consequentialOf = opts.consequentialOf;
    validate('defaults', this.defaults);
    for (const [id, c] of Object.entries(this.perAlarm)) validate(id, { ...this.defaults, ...c });
    // roots exist from the start, so a child raised before its root's first sample checks them
    for (const [id, c] of Object.entries(this.perAlarm)) if (c.children?.length) this.alarm(id);
  }

  /** A sample of alarm `id`: a score (≥ setpoint is abnormal) or the condition itself. */
  update(id: string, input: number | boolean, tsMs: number): AlarmEvent[] {
    if (typeof id !== 'string' || id === '') throw new TwinError('BAD_PAYLOAD', 'alarm id must be a non-empty string');
    if (!Number.isFinite(tsMs)) throw new TwinError('BAD_TIMESTAMP', `alarm ${id}: time ${tsMs} is not a finite epoch ms`);
    if (typeof input !== 'number' && typeof input !== 'boolean') {
      throw new TwinError('NOT_NUMERIC', `alarm ${id}: expected a score or a boolean`);
    }
    if (typeof input === 'number' && !Number.isFinite(input)) {
      throw new TwinError('NOT_FINITE', `alarm ${id}: score ${input} is not finite`);
    }
    const existing = this.alarmsById.get(id);
    if (existing && tsMs < existing.lastTsMs) {
      throw new TwinError('OUT_OF_ORDER', `alarm ${id}: time ${tsMs} is before the last one (${existing.lastTsMs})`);
    }
    const a = existing ?? this.alarm(id);
    // a tag first seen during a stop is suppressed by design from its first sample
    if (!existing) a.suppressedBy = this.suppressorOf(a, tsMs);
    const out: AlarmEvent[] = [];
    this.rateStore.observe(tsMs);
    this.due(tsMs, out);
    a.lastTsMs = tsMs;
    const wasRaw = a.cond.rawActive;
    const ch = a.cond.update(input, tsMs);
    if (a.cond.rawActive) {
      const score = typeof input === 'number' ? input : NaN;
      a.peak = !wasRaw || Number.isNaN(a.peak) ? score : Math.max(a.peak, score);
      if (a.episode && a.cond.active && !(a.episode.peakScore >= a.peak)) a.episode.peakScore = a.peak;
    }
    if (ch?.kind === 'start') this.start(a, ch.startTsMs, tsMs, out);
    else if (ch?.kind === 'end') this.end(a, ch.endTsMs, tsMs, out);
    this.chatterRelease(a, tsMs, out);
    // timers this sample started (a root's release of 0 ms)
    this.due(tsMs, out);
    return out;
  }

  /**
   * Settings for alarm `id` before its first sample, under any given at construction (which win):
   * how an adapter gives one kind of alarm its own defaults. No effect once the alarm exists.
   */
  configure(id: string, cfg: Partial<AlarmConfig>): void {
    if (this.alarmsById.has(id)) return;
    const merged = { ...cfg, ...this.perAlarm[id] };
    validate(id, { ...this.defaults, ...merged });
    this.perAlarm[id] = merged;
  }

  /** The raw condition of alarm `id` holds but its on-delay has not confirmed it yet. */
  pending(id: string): boolean {
    const a = this.alarmsById.get(id);
    return a !== undefined && a.cond.rawActive && !a.cond.active;
  }

  /** Advance event time with no new sample (the adapter may call it on a timer with its clock). */
  tick(tsMs: number): AlarmEvent[] {
    if (!Number.isFinite(tsMs)) throw new TwinError('BAD_TIMESTAMP', `tick: time ${tsMs} is not a finite epoch ms`);
    const out: AlarmEvent[] = [];
    this.due(tsMs, out);
    for (const a of this.alarmsById.values()) {
      if (tsMs < a.lastTsMs) continue;
      const ch = a.cond.tick(tsMs);
      if (ch?.kind === 'start') this.start(a, ch.startTsMs, tsMs, out);
      else if (ch?.kind === 'end') this.end(a, ch.endTsMs, tsMs, out);
    }
    this.due(tsMs, out);
    return out;
  }

  /** Acknowledge alarm `id` (or its episode id). Nothing awaiting acknowledgement: no events. */
  ack(id: string, user: string, reason: string, tsMs: number = this.now()): AlarmEvent[] {
    const a = this.resolve(id);
    // ISA-18.2 asks who acknowledged and when; a reason is optional here
    const action = this.action(user, reason ?? '', tsMs, 'acknowledge', false);
    const ep = a.episode;
    if (a.acked || !ep || (id !== a.id && id !== ep.id)) return [];
    a.acked = true;
    ep.ackedBy = action;
    const out: AlarmEvent[] = [];
    this.emit(a, 'acked', tsMs, out, { action });
    if (!a.cond.active) a.episode = undefined;
    return out;
  }

  /** Shelve alarm `id` until `untilTsMs` (clamped to maxShelveMs from now). */
  shelve(id: string, user: string, reason: string, untilTsMs: number, tsMs: number = this.now()): AlarmEvent[] {
    const a = this.resolve(id);
    const action = this.action(user, reason, tsMs, 'shelve', true);
    if (!Number.isFinite(untilTsMs) || untilTsMs <= tsMs) {
      throw new TwinError('BAD_PAYLOAD', `shelve ${id}: the end of shelving must be after ${new Date(tsMs).toISOString()}`);
    }
    const until = Math.min(untilTsMs, tsMs + this.maxShelveMs);
    a.shelf = { action, untilTsMs: until, bySystem: false };
    this.hide(a);
    this.nextDueMs = Math.min(this.nextDueMs, until);
    const out: AlarmEvent[] = [];
    this.emit(a, 'shelved', tsMs, out, { action, untilTsMs: until });
    return out;
  }

  unshelve(id: string, user: string, reason: string, tsMs: number = this.now()): AlarmEvent[] {
    const a = this.resolve(id);
    const action = this.action(user, reason, tsMs, 'unshelve', true);
    if (!a.shelf) return [];
    return this.unshelveNow(a, action, tsMs);
  }

  setOutOfService(id: string, user: string, reason: string, tsMs: number = this.now()): AlarmEvent[] {
    const a = this.resolve(id);
    const action = this.action(user, reason, tsMs, 'take out of service', true);
    if (a.oos) return [];
    a.oos = action;
    this.hide(a);
    const out: AlarmEvent[] = [];
    this.emit(a, 'out-of-service', tsMs, out, { action });
    return out;
  }

  returnToService(id: string, user: string, reason: string, tsMs: number = this.now()): AlarmEvent[] {
    const a = this.resolve(id);
    const action = this.action(user, reason, tsMs, 'return to service', true);
    if (!a.oos) return [];
    a.oos = undefined;
    return this.afterReveal(a, 'in-service', action, tsMs);
  }

  rates(tsMs: number): RateFigures {
    return this.rateStore.figures(tsMs);
  }

  list(): AlarmView[] {
    return [...this.alarmsById.values()].map((a) => {
      const ep = a.episode;
      return {
        alarmId: a.id,
        line: a.line,
        state: this.stateOf(a),
        priority: ep?.priority ?? alarmPriority(a.cfg.consequence, NaN, a.cfg.escalateScore),
        episodeId: ep?.id,
        startTsMs: ep?.startTsMs,
        endTsMs: ep?.endTsMs,
        peakScore: ep?.peakScore,
        suppressedBy: a.suppressedBy,
        shelvedUntilTsMs: a.shelf?.untilTsMs,
        shelvedBy: a.shelf?.action,
        outOfServiceBy: a.oos,
        ackedBy: ep?.ackedBy,
        chattering: a.chatter.chattering,
      };
    });
  }

  /** Alarm `id`'s state for a snapshot (undefined for an id never seen). */
  snapshotAlarm(id: string): AlarmSnapshot | undefined {
    const a = this.alarmsById.get(id);
    if (!a) return undefined;
    const ep = a.episode;
    return {
      cond: a.cond.snapshot(),
      chatter: a.chatter.snapshot(),
      acked: a.acked,
      episodes: a.episodes,
      ...(ep
        ? {
            episode: {
              id: ep.id,
              startTsMs: ep.startTsMs,
              ...(ep.endTsMs !== undefined ? { endTsMs: ep.endTsMs } : {}),
              priority: ep.priority,
              peakScore: encNum(ep.peakScore),
              reported: ep.reported,
              ...(ep.ackedBy ? { ackedBy: { ...ep.ackedBy } } : {}),
            },
          }
        : {}),
      peak: encNum(a.peak),
      lastTsMs: encNum(a.lastTsMs),
      ...(a.shelf ? { shelf: { action: { ...a.shelf.action }, untilTsMs: encNum(a.shelf.untilTsMs), bySystem: a.shelf.bySystem } } : {}),
      ...(a.oos ? { oos: { ...a.oos } } : {}),
      ...(a.suppressedBy !== undefined ? { suppressedBy: a.suppressedBy } : {}),
      consequential: a.consequential,
      releaseUntilMs: encNum(a.releaseUntilMs),
    };
  }

  /**
   * Alarm `id` takes the state of a snapshotAlarm() (untrusted: checked in full, then applied; a bad
   * one throws a TwinError and changes nothing). Its configuration is this manager's.
   */
  restoreAlarm(id: string, snapshot: unknown): void {
    const s = decRecord(snapshot, `alarm ${id}`);
    const f = (k: string) => `alarm ${id}.${k}`;
    const a = this.alarmsById.get(id);
    const cfg: AlarmConfig = a?.cfg ?? { ...this.defaults, ...this.perAlarm[id] };
    // checked on scratch parts, so a bad snapshot leaves the alarm as it was
    const cond = new AlarmCondition(cfg);
    cond.restore(s.cond);
    const chatter = new ChatterDetector(cfg.chatterCount, cfg.chatterWindowMs);
    chatter.restore(s.chatter);
    let episode: Episode | undefined;
    if (s.episode !== undefined) {
      const e = decRecord(s.episode, f('episode'));
      const epId = decString(e.id, f('episode.id'), id.length + 20);
      if (!epId.startsWith(`${id}#`)) badSnapshot(`${f('episode.id')} ${JSON.stringify(epId)} is not an episode of ${id}`);
      const priority = e.priority as AlarmPriority;
      if (!PRIORITIES.includes(priority)) badSnapshot(`${f('episode.priority')} must be one of ${PRIORITIES.join(', ')}`);
      episode = {
        id: epId,
        startTsMs: decFinite(e.startTsMs, f('episode.startTsMs')),
        ...(e.endTsMs !== undefined ? { endTsMs: decFinite(e.endTsMs, f('episode.endTsMs')) } : {}),
        priority,
        peakScore: decNum(e.peakScore, f('episode.peakScore')),
        reported: decBool(e.reported, f('episode.reported')),
        ...(e.ackedBy !== undefined ? { ackedBy: decAction(e.ackedBy, f('episode.ackedBy')) } : {}),
      };
    }
    let shelf: Alarm['shelf'];
    if (s.shelf !== undefined) {
      const sh = decRecord(s.shelf, f('shelf'));
      shelf = {
        action: decAction(sh.action, f('shelf.action')),
        untilTsMs: decNum(sh.untilTsMs, f('shelf.untilTsMs')),
        bySystem: decBool(sh.bySystem, f('shelf.bySystem')),
      };
    }
    const next = {
      acked: decBool(s.acked, f('acked')),
      episodes: decInt(s.episodes, f('episodes'), 0, Number.MAX_SAFE_INTEGER),
      peak: decNum(s.peak, f('peak')),
      lastTsMs: decNum(s.lastTsMs, f('lastTsMs')),
      oos: s.oos === undefined ? undefined : decAction(s.oos, f('oos')),
      suppressedBy: s.suppressedBy === undefined ? undefined : decString(s.suppressedBy, f('suppressedBy'), 1_000),
      consequential: decBool(s.consequential, f('consequential')),
      releaseUntilMs: decNum(s.releaseUntilMs, f('releaseUntilMs')),
    };
    const target = a ?? this.alarm(id);
    Object.assign(target, next, { cond, chatter, episode, shelf });
    // its timers (shelve expiry, release, chatter) are looked at on the next sample or tick
    this.nextDueMs = -Infinity;
  }

  /** The ISA-18.2 state of alarm `id` (undefined for an id never seen or configured). */
  stateOfId(id: string): AlarmState | undefined {
    const a = this.alarmsById.get(id);
    return a && this.stateOf(a);
  }

  // ---- transitions ----

  private start(a: Alarm, startTsMs: number, tsMs: number, out: AlarmEvent[]): void {
    const peak = a.peak;
    a.episodes++;
    a.episode = {
      id: `${a.id}#${a.episodes}`,
      startTsMs,
      priority: alarmPriority(a.cfg.consequence, peak, a.cfg.escalateScore),
      peakScore: peak,
      reported: false,
    };
    // an activation while the last episode awaited acknowledgement supersedes it (ISA: D → B)
    a.acked = true;
    const suppressor = this.suppressorOf(a, tsMs);
    // out of service or suppressed by design, chattering is counted but not reported
    if (a.chatter.activation(tsMs) && !a.oos && !suppressor) {
      const action: AlarmAction = {
        user: SYSTEM,
        reason: `chattering: ${a.cfg.chatterCount} activations within ${a.cfg.chatterWindowMs / 1000} s`,
        tsMs,
      };
      if (!a.shelf) a.shelf = { action, untilTsMs: Infinity, bySystem: true };
      a.suppressedBy = undefined;
      // reported once, and counted once in the rates: the operator sees one chattering alarm
      this.rateStore.record(a.line, tsMs);
      this.emit(a, 'chattering', tsMs, out, { action, annunciated: true });
      this.nextDueMs = Math.min(this.nextDueMs, a.chatter.releaseDueMs);
    } else if (!a.shelf && !a.oos) {
      const head = suppressor ? undefined : this.consequentialOf?.(a.id, startTsMs, tsMs);
      a.suppressedBy = suppressor ?? head;
      a.consequential = head !== undefined;
      this.raise(a, tsMs, out);
    }
    if (a.cfg.children.length) this.suppressChildren(a, tsMs, out);
  }

  private end(a: Alarm, endTsMs: number, tsMs: number, out: AlarmEvent[]): void {
    const ep = a.episode;
    if (a.cfg.children.length) {
      a.releaseUntilMs = tsMs + a.cfg.releaseMs;
      this.nextDueMs = Math.min(this.nextDueMs, a.releaseUntilMs);
    }
    if (ep) {
      ep.endTsMs = endTsMs;
      if (ep.reported) this.emit(a, 'cleared', tsMs, out);
      if (a.acked) a.episode = undefined;
    }
    // a consequence lasts for its own episode; the next one is judged afresh
    if (a.consequential) {
      a.consequential = false;
      a.suppressedBy = this.suppressorOf(a, tsMs);
    }
  }

  /** Annunciate the open episode, or record it as suppressed by design. */
  private raise(a: Alarm, tsMs: number, out: AlarmEvent[]): void {
    const ep = a.episode!;
    ep.reported = true;
    if (a.suppressedBy) {
      this.emit(a, 'raised', tsMs, out, { annunciated: false });
      return;
    }
    a.acked = false;
    this.rateStore.record(a.line, tsMs);
    this.emit(a, 'raised', tsMs, out);
  }

  /** Out of annunciation (shelved, out of service): nothing awaits acknowledgement any more. */
  private hide(a: Alarm): void {
    a.acked = true;
    if (!a.cond.active) a.episode = undefined;
  }

  /** Back from shelving, out of service or suppression: annunciate if the condition still stands. */
  private reveal(a: Alarm, tsMs: number, out: AlarmEvent[]): void {
    if (a.shelf || a.oos) return;
    a.suppressedBy = this.suppressorOf(a, tsMs) ?? (a.consequential ? a.suppressedBy : undefined);
    if (a.suppressedBy || !a.cond.active || !a.episode) return;
    this.raise(a, tsMs, out);
  }

  private unshelveNow(a: Alarm, action: AlarmAction, tsMs: number): AlarmEvent[] {
    a.shelf = undefined;
    return this.afterReveal(a, 'unshelved', action, tsMs);
  }

  /** The mode-change event (with the state it leads to: ISA F/H → A → B at once), then any raise. */
  private afterReveal(a: Alarm, kind: AlarmEventKind, action: AlarmAction, tsMs: number): AlarmEvent[] {
    const raised: AlarmEvent[] = [];
    this.reveal(a, tsMs, raised);
    const out: AlarmEvent[] = [];
    this.emit(a, kind, tsMs, out, { action });
    return out.concat(raised);
  }

  private suppressChildren(root: Alarm, tsMs: number, out: AlarmEvent[]): void {
    for (const c of this.alarmsById.values()) {
      if (c === root || c.suppressedBy || !root.cfg.children.some((p) => matches(p, c.id))) continue;
      c.suppressedBy = root.id;
      const wasShown = !c.shelf && !c.oos && c.episode?.reported && (c.cond.active || !c.acked);
      c.acked = true;
      if (wasShown) this.emit(c, 'suppressed', tsMs, out);
      if (!c.cond.active) c.episode = undefined;
    }
  }

  /** The first root that suppresses `a` now: active, or within its release time. */
  private suppressorOf(a: Alarm, tsMs: number): string | undefined {
    for (const r of this.roots) {
      if (r === a || !(r.cond.active || tsMs < r.releaseUntilMs)) continue;
      if (r.cfg.children.some((p) => matches(p, a.id))) return r.id;
    }
    return undefined;
  }

  private chatterRelease(a: Alarm, tsMs: number, out: AlarmEvent[]): void {
    if (!a.chatter.released(tsMs)) return;
    if (a.shelf?.bySystem) {
      const action: AlarmAction = { user: SYSTEM, reason: 'chattering stopped', tsMs };
      out.push(...this.unshelveNow(a, action, tsMs));
    }
  }

  /** Timers: shelve expiry, suppression release, chatter release. Scans only when one may be due. */
  private due(tsMs: number, out: AlarmEvent[]): void {
    if (tsMs < this.nextDueMs) return;
    let next = Infinity;
    for (const a of this.alarmsById.values()) {
      if (a.shelf && !a.shelf.bySystem) {
        if (tsMs >= a.shelf.untilTsMs) {
          out.push(...this.unshelveNow(a, { user: SYSTEM, reason: 'shelving expired', tsMs }, tsMs));
        } else next = Math.min(next, a.shelf.untilTsMs);
      }
      if (a.chatter.chattering) {
        this.chatterRelease(a, tsMs, out);
        if (a.chatter.chattering) next = Math.min(next, a.chatter.releaseDueMs);
      }
    }
    for (const r of this.roots) {
      if (r.cond.active) continue;
      if (tsMs >= r.releaseUntilMs) {
        if (r.releaseUntilMs > -Infinity) {
          r.releaseUntilMs = -Infinity;
          for (const c of this.alarmsById.values()) if (c.suppressedBy === r.id) this.reveal(c, tsMs, out);
        }
      } else next = Math.min(next, r.releaseUntilMs);
    }
    this.nextDueMs = next;
  }

  // ---- helpers ----

  private alarm(id: string): Alarm {
    let a = this.alarmsById.get(id);
    if (a) return a;
    const cfg: AlarmConfig = { ...this.defaults, ...this.perAlarm[id] };
    a = {
      id,
      cfg,
      line: cfg.line ?? lineOfPath(id),
      cond: new AlarmCondition(cfg),
      chatter: new ChatterDetector(cfg.chatterCount, cfg.chatterWindowMs),
      acked: true,
      episodes: 0,
      peak: NaN,
      lastTsMs: -Infinity,
      releaseUntilMs: -Infinity,
      consequential: false,
    };
    this.alarmsById.set(id, a);
    if (cfg.children.length) this.roots.push(a);
    return a;
  }

  private resolve(id: string): Alarm {
    const a = this.alarmsById.get(id) ?? this.alarmsById.get(id.replace(/#\d+$/, ''));
    if (!a) throw new TwinError('BAD_PAYLOAD', `no alarm ${JSON.stringify(id)}`);
    return a;
  }

  private action(user: string, reason: string, tsMs: number, what: string, needReason: boolean): AlarmAction {
    if (typeof user !== 'string' || user.trim() === '') throw new TwinError('BAD_PAYLOAD', `${what}: who is required`);
    if (typeof reason !== 'string' || (needReason && reason.trim() === '')) {
      throw new TwinError('BAD_PAYLOAD', `${what}: a reason is required (it is recorded)`);
    }
    if (!Number.isFinite(tsMs)) throw new TwinError('BAD_TIMESTAMP', `${what}: time ${tsMs} is not a finite epoch ms`);
    return { user: user.trim(), reason: reason.trim(), tsMs };
  }

  private stateOf(a: Alarm): AlarmState {
    if (a.oos) return 'out-of-service';
    if (a.shelf) return 'shelved';
    if (a.suppressedBy) return 'suppressed-by-design';
    if (a.cond.active) return a.acked ? 'ack-active' : 'unack-active';
    return a.acked ? 'normal' : 'unack-rtn';
  }

  private emit(
    a: Alarm,
    kind: AlarmEventKind,
    tsMs: number,
    out: AlarmEvent[],
    extra: Partial<Pick<AlarmEvent, 'action' | 'untilTsMs' | 'annunciated'>> = {},
  ): void {
    const ep = a.episode;
    const ev: AlarmEvent = {
      kind,
      alarmId: a.id,
      line: a.line,
      tsMs,
      state: this.stateOf(a),
      priority: ep?.priority ?? alarmPriority(a.cfg.consequence, NaN, a.cfg.escalateScore),
      annunciated: extra.annunciated ?? kind === 'raised',
    };
    if (ep) {
      ev.episodeId = ep.id;
      ev.startTsMs = ep.startTsMs;
      if (ep.endTsMs !== undefined) ev.endTsMs = ep.endTsMs;
      ev.peakScore = ep.peakScore;
    }
    if (a.suppressedBy) ev.suppressedBy = a.suppressedBy;
    if (extra.action) ev.action = extra.action;
    if (extra.untilTsMs !== undefined) ev.untilTsMs = extra.untilTsMs;
    out.push(ev);
  }
}

function validate(id: string, c: AlarmConfig): void {
  const bad = (what: string): never => {
    throw new TwinError('BAD_CONFIG', `alarm ${id}: ${what}`);
  };
  if (!Number.isFinite(c.setpoint)) bad('setpoint must be a finite number');
  if (!(c.deadband >= 0)) bad('deadband must be ≥ 0');
  if (!(c.onDelayMs >= 0) || !(c.offDelayMs >= 0)) bad('on/off delays must be ≥ 0 ms');
  if (!Number.isInteger(c.chatterCount) || c.chatterCount < 0) bad('chatterCount must be a whole number ≥ 0 (0: off)');
  if (!(c.chatterWindowMs > 0)) bad('chatterWindowMs must be > 0');
  if (!['minor', 'moderate', 'severe'].includes(c.consequence)) bad('consequence must be minor, moderate or severe');
  if (Number.isNaN(c.escalateScore)) bad('escalateScore must be a number');
  if (!Array.isArray(c.children) || c.children.some((x) => typeof x !== 'string' || x === '')) bad('children must be alarm ids');
  if (!(c.releaseMs >= 0)) bad('releaseMs must be ≥ 0');
}
