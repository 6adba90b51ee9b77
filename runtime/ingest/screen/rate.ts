/**
 * Rate-of-change check in event time: |Δvalue| / Δt (per second) above `maxRatePerS` is flagged.
 * Compared with the previous reading that reached this check (the screen feeds it only in-order
 * readings that did not arrive bad), so a single spike is flagged on the way up and on the way
 * back; the spike check says which one is the outlier.
 */
import type { Reading } from '../../model/reading.js';
import { flag, type StepResult } from './flag.js';

export interface RateConfig {
  /** Largest plausible change per second, engineering units of the tag; unset = not checked. */
  maxRatePerS?: number;
}

export interface RateState {
  lastValue: number;
  /** NaN before the first reading. */
  lastTsMs: number;
}

export const RATE = flag('rate', 'rate');

export function rateInit(): RateState {
  return { lastValue: NaN, lastTsMs: NaN };
}

export function rateStep(s: RateState, r: Reading, c: RateConfig): StepResult<RateState> {
  const dtMs = r.tsMs - s.lastTsMs;
  // Not newer (or the first reading): nothing to compare, and the state stays as it was.
  if (!(dtMs > 0)) {
    if (Number.isNaN(s.lastTsMs)) {
      s.lastTsMs = r.tsMs;
      s.lastValue = r.value;
    }
    return { state: s };
  }
  const ratePerS = (Math.abs(r.value - s.lastValue) * 1000) / dtMs;
  s.lastTsMs = r.tsMs;
  s.lastValue = r.value;
  return ratePerS > (c.maxRatePerS as number) ? { state: s, flag: RATE } : { state: s };
}
