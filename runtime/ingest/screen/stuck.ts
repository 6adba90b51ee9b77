/**
 * Stuck (flat-lined) check: the value stays within `stuckTolerance` of where the current run
 * started for `stuckSamples` readings or `stuckWindowMs` of event time (whichever comes first;
 * 0 turns that limit off). Every reading of the run from then on is flagged, until the value moves.
 * The run is anchored at its first value, so a slow drift of less than the tolerance per sample
 * still ends the run once it has moved the tolerance in total.
 */
import type { Reading } from '../../model/reading.js';
import { flag, type StepResult } from './flag.js';

export interface StuckConfig {
  /** Largest change that still counts as "unchanged", engineering units (0 = exactly equal). */
  stuckTolerance: number;
  /** Readings in a run (counting its first) at which the run is stuck; 0 = off. */
  stuckSamples: number;
  /** Event time a run may last before it is stuck; 0 = off. */
  stuckWindowMs: number;
}

export interface StuckState {
  anchorValue: number;
  anchorTsMs: number;
  /** Readings in the current run, the anchor included; 0 before the first reading. */
  count: number;
}

export const STUCK = flag('stuck', 'stuck');

export function stuckInit(): StuckState {
  return { anchorValue: NaN, anchorTsMs: NaN, count: 0 };
}

export function stuckStep(s: StuckState, r: Reading, c: StuckConfig): StepResult<StuckState> {
  if (s.count === 0 || !(Math.abs(r.value - s.anchorValue) <= c.stuckTolerance)) {
    s.anchorValue = r.value;
    s.anchorTsMs = r.tsMs;
    s.count = 1;
  } else {
    s.count++;
  }
  const stuck =
    (c.stuckSamples > 0 && s.count >= c.stuckSamples) || (c.stuckWindowMs > 0 && s.count > 1 && r.tsMs - s.anchorTsMs >= c.stuckWindowMs);
  return stuck ? { state: s, flag: STUCK } : { state: s };
}
