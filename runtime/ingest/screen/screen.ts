/**
 * The composed screen: every check for one reading of one (asset, tag), with that tag's settings.
 * The reading keeps its value; what the checks found becomes `quality = worst(original, flags)`
 * and `qualityReason` (the original reason first, then the flags: `BadSensor;range>high;spike`).
 * Nothing is dropped: a duplicate goes out too, marked.
 *
 * Which reading feeds which state, so that a bad input cannot corrupt later judgements:
 * - a duplicate, out-of-order or future reading changes no state at all (only the range check,
 *   which has none, still looks at it);
 * - a reading that arrived bad is in order, so it moves the order and stale state, but its value
 *   is not trusted and stays out of the rate, stuck and spike state.
 *
 * Hot path: no allocation per reading except the output object when something was flagged (a
 * clean reading is returned as is). Tags are found through asset → tag maps, not a joined key.
 */
import type { Reading } from '../../model/reading.js';
import type { Quality } from '../../model/quality.js';
import { flag, type Flag } from './flag.js';
import { compileOverrides, validateScreenConfig, type ConfigurableCheck, type ScreenConfig, type TagChecks } from './config.js';
import { orderInit, orderStep, type OrderState } from './order.js';
import { rangeStep } from './range.js';
import { rateInit, rateStep, type RateState } from './rate.js';
import { stuckInit, stuckStep, type StuckState } from './stuck.js';
import { spikeInit, spikeStep, type SpikeState } from './spike.js';
import { staleInit, staleStep, type StaleState } from './stale.js';

/** A value or timestamp that is not a finite number (only reachable when the caller skipped assertReading). */
export const NOT_FINITE = flag('invalid', 'not-finite');
export const BAD_TIMESTAMP = flag('invalid', 'bad-timestamp');

export interface TagState {
  readonly asset: string;
  readonly tag: string;
  readonly checks: TagChecks;
  order: OrderState;
  rate: RateState;
  stuck: StuckState;
  spike: SpikeState;
  stale: StaleState;
}

export interface ScreenState {
  readonly config: ScreenConfig;
  readonly resolve: (asset: string, tag: string) => TagChecks;
  readonly byAsset: Map<string, Map<string, TagState>>;
  /** Tags in the order they were first seen (eviction order once `maxTags` is reached). */
  readonly seen: Set<TagState>;
  /** The tag of the last reading stepped (for the Screener's stale timer). */
  lastTag: TagState | undefined;
  onEvict?: (t: TagState) => void;
  evicted: number;
}

/** `config` may be raw (it is validated here; BAD_CONFIG on error). */
export function screenInit(config: unknown, onEvict?: (t: TagState) => void): ScreenState {
  const c = validateScreenConfig(config);
  return { config: c, resolve: compileOverrides(c), byAsset: new Map(), seen: new Set(), lastTag: undefined, onEvict, evicted: 0 };
}

export function screenTagCount(s: ScreenState): number {
  return s.seen.size;
}

export function screenTag(s: ScreenState, asset: string, tag: string): TagState {
  let tags = s.byAsset.get(asset);
  if (tags === undefined) {
    tags = new Map();
    s.byAsset.set(asset, tags);
  }
  let t = tags.get(tag);
  if (t === undefined) {
    if (s.seen.size >= s.config.maxTags) evictOldest(s);
    const checks = s.resolve(asset, tag);
    t = { asset, tag, checks, order: orderInit(), rate: rateInit(), stuck: stuckInit(), spike: spikeInit(checks), stale: staleInit() };
    tags.set(tag, t);
    s.seen.add(t);
  }
  return t;
}

function evictOldest(s: ScreenState): void {
  const oldest = s.seen.values().next().value as TagState;
  s.seen.delete(oldest);
  const tags = s.byAsset.get(oldest.asset);
  tags?.delete(oldest.tag);
  if (tags && tags.size === 0) s.byAsset.delete(oldest.asset);
  s.evicted++;
  s.onEvict?.(oldest);
}

const RANK: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };

/**
 * Screen one reading. `nowMs` is the receiving clock, used by the future and stale checks; leave
 * it NaN in a replay (no future check, no stale bookkeeping needed).
 */
export function screenStep(s: ScreenState, r: Reading, nowMs = NaN): Reading {
  const t = screenTag(s, r.asset, r.tag);
  s.lastTag = t;
  const c = t.checks;
  let q: Quality = r.quality;
  let reasons = '';
  let f: Flag | undefined;

  if (!Number.isFinite(r.value) || !Number.isFinite(r.tsMs)) {
    f = Number.isFinite(r.value) ? BAD_TIMESTAMP : NOT_FINITE;
    return flagged(r, 'bad', f.reason);
  }

  f = orderStep(t.order, r, c, nowMs).flag;
  const inOrder = f === undefined;
  if (f !== undefined) {
    const sv = c.severity[f.check as ConfigurableCheck]; // duplicate, outOfOrder or future
    if (RANK[sv] > RANK[q]) q = sv;
    reasons = f.reason;
  }
  f = rangeStep(null, r, c).flag;
  if (f !== undefined) {
    if (RANK[c.severity.range] > RANK[q]) q = c.severity.range;
    reasons = reasons === '' ? f.reason : reasons + ';' + f.reason;
  }
  if (inOrder) {
    if (r.quality !== 'bad') {
      if (c.maxRatePerS !== undefined && rateStep(t.rate, r, c).flag !== undefined) {
        if (RANK[c.severity.rate] > RANK[q]) q = c.severity.rate;
        reasons = reasons === '' ? 'rate' : reasons + ';rate';
      }
      if ((c.stuckSamples > 0 || c.stuckWindowMs > 0) && stuckStep(t.stuck, r, c).flag !== undefined) {
        if (RANK[c.severity.stuck] > RANK[q]) q = c.severity.stuck;
        reasons = reasons === '' ? 'stuck' : reasons + ';stuck';
      }
      if (c.spikeWindow > 0 && spikeStep(t.spike, r, c).flag !== undefined) {
        if (RANK[c.severity.spike] > RANK[q]) q = c.severity.spike;
        reasons = reasons === '' ? 'spike' : reasons + ';spike';
      }
    }
    if (c.staleAfterMs > 0) staleStep(t.stale, r, c, nowMs);
  }
  return reasons === '' ? r : flagged(r, q, reasons);
}

function flagged(r: Reading, q: Quality, reasons: string): Reading {
  // Object.assign, not spread: adding qualityReason to a spread copy gives every copy a map of its
  // own in V8 (about 4 µs, and every later access to it megamorphic); an own `__proto__` key
  // (JSON.parse makes one) would set the copy's prototype through assign, so that one is spread.
  const out = Object.hasOwn(r, '__proto__') ? { ...r } : Object.assign({}, r);
  if (RANK[q] > RANK[out.quality]) out.quality = q;
  out.qualityReason = r.qualityReason ? r.qualityReason + ';' + reasons : reasons;
  return out;
}
