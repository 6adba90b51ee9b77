/**
 * Operator actions on alarms, the pure part: what the overview page lists (alarmRows), the check of
 * an acknowledge / shelve / unshelve request (parseAlarmAction), a per-user bound on how often one
 * may act (ActionRate), and the audit-ledger record of an action (alarmLedgerEntry). The HTTP routes
 * (web/server/overview-api.ts) and twin-alarm's adapter use them; no node-red import.
 */
import { MAX_REASON_CHARS } from '../control/gate-registry.js';
import type { LedgerEntry } from '../control/stores.js';
import type { AlarmActionKind, AlarmActionRequest, AlarmClassification, AlarmSourceHandle } from './alarm-registry.js';
import type { AlarmView } from './manager.js';
import type { AlarmAction, AlarmEvent, AlarmPriority, AlarmState } from './types.js';

export { MAX_REASON_CHARS };

/** Shortest shelving the page offers: shorter is an acknowledgement, not a shelve. */
export const MIN_SHELVE_MS = 60_000;
/** Longest alarm or episode id accepted (ISA-95 paths are well below). */
const MAX_ID_CHARS = 500;

/** One alarm as the overview page shows it. */
export interface AlarmRow {
  sourceId: string;
  sourceName: string;
  alarmId: string;
  asset: string;
  tag: string;
  line: string;
  state: AlarmState;
  priority: AlarmPriority;
  episodeId?: string;
  startTsMs?: number;
  endTsMs?: number;
  peakScore?: number;
  message: string;
  ackedBy?: AlarmAction;
  shelvedBy?: AlarmAction;
  shelvedUntilTsMs?: number;
  outOfServiceBy?: AlarmAction;
  chattering: boolean;
  classification?: AlarmClassification;
}

/** The states an operator must see: annunciated, awaiting acknowledgement, or taken out of annunciation by someone. */
const SHOWN: ReadonlySet<AlarmState> = new Set(['unack-active', 'ack-active', 'unack-rtn', 'shelved', 'out-of-service']);
const PRIORITY_RANK: Readonly<Record<AlarmPriority, number>> = { high: 0, medium: 1, low: 2 };
const STATE_RANK: Readonly<Record<AlarmState, number>> = {
  'unack-active': 0,
  'unack-rtn': 1,
  'ack-active': 2,
  shelved: 3,
  'out-of-service': 4,
  'suppressed-by-design': 5,
  normal: 6,
};

/** `asset/tag` split at the last '/' (the asset is an ISA-95 path itself). */
export function splitAlarmId(alarmId: string): { asset: string; tag: string } {
  const base = alarmId.replace(/#\d+$/, '');
  const i = base.lastIndexOf('/');
  return i > 0 ? { asset: base.slice(0, i), tag: base.slice(i + 1) } : { asset: '', tag: base };
}

/** What a score measured, in the operator's words (AlarmListEntry.method). */
const MEASURED: Readonly<Record<string, string>> = {
  'twin-residual': "off the twin's prediction",
  dropout: 'readings missing or bad',
};

/** One line for the operator: what is wrong with the tag, in words. */
export function alarmMessage(v: AlarmView & { method?: string }): string {
  const { tag } = splitAlarmId(v.alarmId);
  if (v.chattering) return `${tag}: chattering, shelved by the system until it settles`;
  const peak = v.peakScore;
  const score = peak !== undefined && peak >= 100 ? '≥ 100' : peak?.toFixed(1);
  const what =
    peak === undefined || Number.isNaN(peak)
      ? `${tag}: condition active`
      : `${tag}: ${(v.method !== undefined && MEASURED[v.method]) || 'unusual for its own history'} (score ${score}, 1 = threshold)`;
  return v.endTsMs !== undefined ? `${what}; returned to normal` : what;
}

/** Every alarm an operator must see, from every source: unacknowledged first, then by priority, newest first. */
export function alarmRows(sources: AlarmSourceHandle[]): AlarmRow[] {
  const rows: AlarmRow[] = [];
  for (const s of sources) {
    for (const v of s.list()) {
      if (!SHOWN.has(v.state)) continue;
      rows.push({
        sourceId: s.id,
        sourceName: s.name,
        ...splitAlarmId(v.alarmId),
        ...v,
        message: alarmMessage(v),
      });
    }
  }
  return rows.sort(
    (a, b) =>
      STATE_RANK[a.state] - STATE_RANK[b.state] ||
      PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
      (b.startTsMs ?? 0) - (a.startTsMs ?? 0) ||
      (a.alarmId < b.alarmId ? -1 : a.alarmId > b.alarmId ? 1 : 0),
  );
}

export type Parsed<T> = { ok: T } | { status: 400; error: string };

const ACTIONS: readonly AlarmActionKind[] = ['ack', 'shelve', 'unshelve'];

/** How a shelving limit reads: "12 h", "90 min". */
export function durationText(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 60_000)} min`;
}

/**
 * A page request `{ sourceId, alarmId, action, reason?, durationMs? }` checked and bounded; `user`
 * is the logged-in user (the body cannot name one). Shelving needs a reason and a duration from
 * MIN_SHELVE_MS to the node's longest shelving; unshelving a reason; acknowledging neither.
 */
export function parseAlarmAction(body: unknown, user: string, maxShelveMs: number): Parsed<AlarmActionRequest & { sourceId: string }> {
  const bad = (error: string): { status: 400; error: string } => ({ status: 400, error });
  if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('the request must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!ACTIONS.includes(b.action as AlarmActionKind)) return bad('action must be "ack", "shelve" or "unshelve"');
  const action = b.action as AlarmActionKind;
  const id = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= MAX_ID_CHARS;
  if (!id(b.sourceId)) return bad('sourceId must name a twin-alarm node');
  if (!id(b.alarmId)) return bad('alarmId must be an alarm or episode id');
  if (b.reason !== undefined && typeof b.reason !== 'string') return bad('reason must be text');
  const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
  if (reason.length > MAX_REASON_CHARS) return bad(`the reason is longer than ${MAX_REASON_CHARS} characters`);
  if (action !== 'ack' && reason === '') return bad(`a reason is required to ${action} (it is recorded)`);
  const req: AlarmActionRequest & { sourceId: string } = { sourceId: b.sourceId, alarmId: b.alarmId, action, user, reason, via: 'page' };
  if (action === 'shelve') {
    const d = b.durationMs;
    if (typeof d !== 'number' || !Number.isInteger(d)) return bad('durationMs must be a whole number of milliseconds');
    if (d < MIN_SHELVE_MS) return bad(`shelve for at least ${durationText(MIN_SHELVE_MS)}`);
    if (d > maxShelveMs) return bad(`shelve for at most ${durationText(maxShelveMs)} (shelving is time-limited)`);
    req.durationMs = d;
  } else if (b.durationMs !== undefined) return bad(`durationMs is only for shelve`);
  return { ok: req };
}

/**
 * At most `limit` actions per user in any `windowMs`: an operator acknowledges a flood one alarm at
 * a time, but a script looping on the API must not fill the ledger. Users remembered are bounded.
 */
export class ActionRate {
  private readonly byUser = new Map<string, number[]>();

  constructor(
    readonly limit = 60,
    readonly windowMs = 60_000,
    readonly maxUsers = 10_000,
  ) {}

  /** Count one action of `user` now: 0 = allowed, else ms until one is allowed again (not counted). */
  take(user: string, nowMs: number): number {
    const times = (this.byUser.get(user) ?? []).filter((t) => nowMs - t < this.windowMs);
    if (times.length >= this.limit) {
      this.byUser.set(user, times);
      return times[0] + this.windowMs - nowMs;
    }
    times.push(nowMs);
    this.byUser.delete(user);
    this.byUser.set(user, times);
    if (this.byUser.size > this.maxUsers) this.byUser.delete(this.byUser.keys().next().value as string);
    return 0;
  }
}

/** Events that record a person's or the system's action (acknowledge, shelve, return …): these go to the ledger. */
export function isActionEvent(ev: AlarmEvent): ev is AlarmEvent & { action: AlarmAction } {
  return ev.action !== undefined;
}

/** The ledger record of an action event: who, when (alarm clock), why, and what it led to. */
export function alarmLedgerEntry(ev: AlarmEvent & { action: AlarmAction }, via: 'page' | 'message' | 'system'): LedgerEntry {
  const { asset, tag } = splitAlarmId(ev.alarmId);
  return {
    type: 'alarm',
    asset,
    tag,
    data: {
      kind: ev.kind,
      alarmId: ev.alarmId,
      ...(ev.episodeId !== undefined ? { episodeId: ev.episodeId } : {}),
      line: ev.line,
      state: ev.state,
      priority: ev.priority,
      user: ev.action.user,
      reason: ev.action.reason,
      tsMs: ev.action.tsMs,
      ...(ev.untilTsMs !== undefined ? { untilTsMs: ev.untilTsMs } : {}),
      via,
    },
  };
}
