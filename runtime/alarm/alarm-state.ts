/**
 * twin-alarm's state snapshot (AnomalyAlarms.snapshot / restore): its format, version and the
 * checks of what comes back from a store. One entry for the line (`meta`: the alarm clock, the
 * settling windows, the heads of process-change episodes) and one per tag (detector, history,
 * alarm), so a store can keep each under its own key and no value grows with the number of tags
 * (runtime/cluster/alarm-state-kv.ts). Numbers and typed arrays as runtime/model/state-codec.ts
 * encodes them. Measured with the defaults (test/unit/alarm-state.spec.ts): ≈ 30 KB of JSON per
 * learned-baseline tag (the 1,000-sample long-run history and the 600-reading classification
 * history, base64), more with a daily profile (≤ 1,440 bins, +15 KB).
 *
 * The version changes whenever a field's meaning does; a snapshot of another version is refused
 * (the new owner then learns afresh, as with no snapshot), never read half-way.
 */
import type { DetectorSnapshot } from '../anomaly/detector.js';
import { MAX_NAME_CHARS } from '../model/reading.js';
import { badSnapshot, decFinite, decInt, decNum, decBool, decRecord, decString, type EncodedNumber } from '../model/state-codec.js';
import type { TimedRingSnapshot } from '../stats/timed-ring.js';
import type { AlarmSnapshot } from './manager.js';
import type { AlarmCause } from './types.js';

export const ALARM_STATE_KIND = 'twinloop.twin-alarm.state';
export const ALARM_STATE_VERSION = 1;
/** Largest cause (classification evidence) a tag's entry may carry, as JSON characters. */
const MAX_CAUSE_CHARS = 32_000;
/** Most assets with a settling window or an episode head in one line's entry. */
const MAX_ASSETS = 10_000;

export interface AlarmsMeta {
  kind: typeof ALARM_STATE_KIND;
  v: typeof ALARM_STATE_VERSION;
  /** Event time of the newest reading (the alarm clock; 'NaN' before any). */
  eventMs: EncodedNumber;
  settleUntil: Record<string, EncodedNumber>;
  heads: Record<
    string,
    { id: string; clearedTsMs: EncodedNumber; active: string[]; lastClearedTsMs: EncodedNumber; consequential: string[] }
  >;
}

export interface TagSnapshot {
  kind: typeof ALARM_STATE_KIND;
  v: typeof ALARM_STATE_VERSION;
  asset: string;
  tag: string;
  lastTsMs: EncodedNumber;
  method?: string;
  trend: number;
  inputValue: EncodedNumber;
  baseline: boolean;
  ringTsMs: EncodedNumber;
  ring?: TimedRingSnapshot;
  detector?: DetectorSnapshot;
  alarm?: AlarmSnapshot;
  cause?: AlarmCause;
}

export interface AlarmsSnapshot {
  meta: AlarmsMeta;
  tags: TagSnapshot[];
}

/** A line's entry, checked (heads as AnomalyAlarms keeps them). */
export interface DecodedMeta {
  eventMs: number;
  settleUntil: Record<string, number>;
  heads: Record<string, { id: string; clearedTsMs: number; active: Set<string>; lastClearedTsMs: number; consequential: string[] }>;
}

/** A tag's entry, checked at this level; its parts (ring, detector, alarm) are checked as they are restored. */
export interface DecodedTag {
  asset: string;
  tag: string;
  lastTsMs: number;
  method: string | undefined;
  trend: number;
  inputValue: number;
  baseline: boolean;
  ringTsMs: number;
  ring: unknown;
  detector: unknown;
  alarm: unknown;
  cause: AlarmCause | undefined;
}

function checkHeader(s: Record<string, unknown>, what: string): void {
  if (s.kind !== ALARM_STATE_KIND) badSnapshot(`${what} is not a twin-alarm state (kind ${JSON.stringify(s.kind)})`);
  if (s.v !== ALARM_STATE_VERSION) badSnapshot(`${what} has version ${JSON.stringify(s.v)}, this node reads ${ALARM_STATE_VERSION}`);
}

function ids(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_ASSETS) badSnapshot(`${field} is not a list of at most ${MAX_ASSETS} ids`);
  return (v as unknown[]).map((x, i) => decString(x, `${field}[${i}]`, 2 * MAX_NAME_CHARS + 1));
}

export function decMeta(v: unknown): DecodedMeta {
  const s = decRecord(v, 'meta');
  checkHeader(s, 'meta');
  const settle = decRecord(s.settleUntil, 'meta.settleUntil');
  const heads = decRecord(s.heads, 'meta.heads');
  if (Object.keys(settle).length > MAX_ASSETS || Object.keys(heads).length > MAX_ASSETS) badSnapshot(`more than ${MAX_ASSETS} assets`);
  const out: DecodedMeta = { eventMs: decNum(s.eventMs, 'meta.eventMs'), settleUntil: {}, heads: {} };
  for (const [asset, ms] of Object.entries(settle)) out.settleUntil[asset] = decNum(ms, `meta.settleUntil.${asset}`);
  for (const [asset, hv] of Object.entries(heads)) {
    const h = decRecord(hv, `meta.heads.${asset}`);
    out.heads[asset] = {
      id: decString(h.id, `meta.heads.${asset}.id`, 2 * MAX_NAME_CHARS + 1),
      clearedTsMs: decNum(h.clearedTsMs, `meta.heads.${asset}.clearedTsMs`),
      active: new Set(ids(h.active, `meta.heads.${asset}.active`)),
      lastClearedTsMs: decNum(h.lastClearedTsMs, `meta.heads.${asset}.lastClearedTsMs`),
      consequential: ids(h.consequential, `meta.heads.${asset}.consequential`),
    };
  }
  return out;
}

export function decTag(v: unknown, i: number): DecodedTag {
  const s = decRecord(v, `tags[${i}]`);
  checkHeader(s, `tags[${i}]`);
  const asset = decString(s.asset, `tags[${i}].asset`, MAX_NAME_CHARS);
  const tag = decString(s.tag, `tags[${i}].tag`, MAX_NAME_CHARS);
  if (asset === '' || tag === '') badSnapshot(`tags[${i}] has no asset or tag`);
  const f = (k: string) => `${asset}/${tag}.${k}`;
  let cause: AlarmCause | undefined;
  if (s.cause !== undefined) {
    const c = decRecord(s.cause, f('cause'));
    decString(c.kind, f('cause.kind'), 100);
    decString(c.method, f('cause.method'), 100);
    decString(c.reason, f('cause.reason'), 2_000);
    decFinite(c.magnitude, f('cause.magnitude'));
    decRecord(c.evidence, f('cause.evidence'));
    if (JSON.stringify(c).length > MAX_CAUSE_CHARS) badSnapshot(`${f('cause')} is longer than ${MAX_CAUSE_CHARS} characters`);
    cause = c as unknown as AlarmCause;
  }
  return {
    asset,
    tag,
    lastTsMs: decNum(s.lastTsMs, f('lastTsMs')),
    method: s.method === undefined ? undefined : decString(s.method, f('method'), 100),
    trend: decInt(s.trend, f('trend'), -1, 1),
    inputValue: decNum(s.inputValue, f('inputValue')),
    baseline: decBool(s.baseline, f('baseline')),
    ringTsMs: decNum(s.ringTsMs, f('ringTsMs')),
    ring: s.ring,
    detector: s.detector,
    alarm: s.alarm,
    cause,
  };
}
