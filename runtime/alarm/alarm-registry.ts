/**
 * The twin-alarm nodes running in this process, as the overview page sees them (the alarms' twin of
 * runtime/control/gate-registry.ts). Each node registers a handle: its alarms as AlarmViews, and
 * act() for an operator's acknowledge / shelve / unshelve, which the node records (output message,
 * log, and its twin-ledger when it has one) before it resolves. The page's HTTP API
 * (web/server/overview-api.ts) lists and acts through the handles. No node-red import.
 */
import type { AlarmView } from './manager.js';
import type { AlarmEvent } from './types.js';
import type { DriftKind, SensorFaultType } from '../model/drift.js';

export type AlarmActionKind = 'ack' | 'shelve' | 'unshelve';

/** An operator's action on one alarm, as checked by parseAlarmAction (alarm-actions.ts). */
export interface AlarmActionRequest {
  action: AlarmActionKind;
  /** The alarm id (`asset/tag`) or an episode id (`asset/tag#n`). */
  alarmId: string;
  /** Who: the logged-in user on the page (from the token, never the body); `user` of a control message. */
  user: string;
  /** Required to shelve and unshelve; optional to acknowledge. */
  reason: string;
  /** Shelve only: how long, at most the node's longest shelving. */
  durationMs?: number;
  /** Where the action came from: the overview page or a control message. */
  via: 'page' | 'message';
}

export interface AlarmActionOutcome {
  ok: boolean;
  /** The events the action caused (none: nothing to do, e.g. already acknowledged). */
  events: AlarmEvent[];
  /** Why it was refused (unknown alarm, bad reason, the ledger failed …). */
  error?: string;
  /** The action took effect but its ledger record could not be written. */
  notRecorded?: boolean;
}

/** What a detector knows about why the tag moved, when it knows (sensor fault vs process change). */
export interface AlarmClassification {
  kind: DriftKind;
  faultType?: SensorFaultType;
  /** Related tags that moved with it (a process change), and those that did not. */
  moved?: string[];
  still?: string[];
}

/** One alarm as a source lists it. */
export type AlarmListEntry = AlarmView & {
  classification?: AlarmClassification;
  /** What the score measured: 'twin-residual' (off the twin's prediction), 'learned-baseline', 'dropout'. */
  method?: string;
};

export interface AlarmSourceHandle {
  /** The twin-alarm node's id. */
  id: string;
  name: string;
  /** Longest shelving the node allows, ms. */
  maxShelveMs: number;
  /** Where its actions are recorded for people: a ledger location, or '' (output and log only). */
  recordedIn: string;
  /** Each alarm with the cause of its latest raise, when classified, and the method that scored it. */
  list(): Array<AlarmListEntry>;
  act(req: AlarmActionRequest): Promise<AlarmActionOutcome>;
}

const sources = new Map<string, AlarmSourceHandle>();

export function registerAlarmSource(h: AlarmSourceHandle): void {
  sources.set(h.id, h);
}

export function unregisterAlarmSource(id: string): void {
  sources.delete(id);
}

export function listAlarmSources(): AlarmSourceHandle[] {
  return [...sources.values()];
}

export function findAlarmSource(id: string): AlarmSourceHandle | undefined {
  return sources.get(id);
}
