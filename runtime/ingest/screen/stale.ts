/**
 * Stale check: a tag that has not been updated for `staleAfterMs` of receiving-clock time gets
 * one synthetic `stale` reading: the last value, at event time last tsMs + staleAfterMs, quality
 * from the `stale` severity (bad by default), reason `stale`. Once per silence: the tag is re-armed
 * by its next accepted reading (a duplicate or out-of-order reading does not count as an update,
 * since a gateway that lost its source often keeps re-sending the last value).
 *
 * This file is the pure part (what to remember, when the silence is due, what to emit); the clock
 * and timers live in screener.ts behind a SchedulerLike.
 */
import type { Reading, ReadingOrigin } from '../../model/reading.js';
import type { Quality } from '../../model/quality.js';
import { worstQuality } from '../../model/quality.js';
import type { FlagSeverity, StepResult } from './flag.js';

export interface StaleConfig {
  /** Silence after which a tag is stale; 0 = off. */
  staleAfterMs: number;
}

export interface StaleState {
  /** True while a stale reading is still owed for the current silence. */
  armed: boolean;
  /** Receiving-clock time of the last accepted reading. */
  lastArrivalMs: number;
  asset: string;
  tag: string;
  lastValue: number;
  lastTsMs: number;
  lastQuality: Quality;
  unit: string | undefined;
  source: string;
  /** The last reading's origin: the stale reading comes from the same connection and item. */
  origin: ReadingOrigin | undefined;
}

export const STALE_REASON = 'stale';

export function staleInit(): StaleState {
  return {
    armed: false,
    lastArrivalMs: NaN,
    asset: '',
    tag: '',
    lastValue: NaN,
    lastTsMs: NaN,
    lastQuality: 'good',
    unit: undefined,
    source: '',
    origin: undefined,
  };
}

/** Record an accepted reading (fields only, so a large payload object is not kept alive). */
export function staleStep(s: StaleState, r: Reading, c: StaleConfig, nowMs: number): StepResult<StaleState> {
  if (c.staleAfterMs > 0) {
    s.armed = true;
    s.lastArrivalMs = nowMs;
    s.asset = r.asset;
    s.tag = r.tag;
    s.lastValue = r.value;
    s.lastTsMs = r.tsMs;
    s.lastQuality = r.quality;
    s.unit = r.unit;
    s.source = r.source;
    s.origin = r.origin;
  }
  return { state: s };
}

/** Milliseconds until the stale reading is due (≤ 0: due now); Infinity when none is owed. */
export function staleDueInMs(s: StaleState, c: StaleConfig, nowMs: number): number {
  if (!s.armed || !(c.staleAfterMs > 0)) return Infinity;
  return s.lastArrivalMs + c.staleAfterMs - nowMs;
}

/** The stale reading for the current silence; disarms until the next accepted reading. */
export function staleReading(s: StaleState, c: StaleConfig, severity: FlagSeverity): Reading {
  s.armed = false;
  const out: Reading = {
    asset: s.asset,
    tag: s.tag,
    value: s.lastValue,
    tsMs: s.lastTsMs + c.staleAfterMs,
    quality: worstQuality(s.lastQuality, severity),
    qualityReason: STALE_REASON,
    source: s.source,
  };
  if (s.unit !== undefined) out.unit = s.unit;
  if (s.origin !== undefined) out.origin = s.origin;
  return out;
}
