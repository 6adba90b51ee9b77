/**
 * What a screening check reports. A check never changes a reading: it returns a flag, and the
 * composed screen turns flags into `quality` and `qualityReason` (the value is always kept).
 */
import type { Reading } from '../../model/reading.js';

/** The checks, also the keys of the per-check severity table. */
export type CheckName = 'range' | 'rate' | 'stuck' | 'spike' | 'duplicate' | 'outOfOrder' | 'future' | 'stale' | 'invalid';

/** How bad a flag makes a reading. A flag never makes a reading better than it arrived. */
export type FlagSeverity = 'bad' | 'uncertain';

/**
 * One finding. Flags are module-level constants (no allocation per reading); the severity is
 * looked up from the config by `check`, so one flag object serves every configuration.
 */
export interface Flag {
  readonly check: CheckName;
  /** Short reason word that ends up in `qualityReason`, e.g. `range>high`. */
  readonly reason: string;
}

/** What every step function returns: the tag's next state and, when it found something, a flag. */
export interface StepResult<S> {
  state: S;
  flag?: Flag;
}

/** Helper for a step function's signature. */
export type Step<S, C> = (state: S, reading: Reading, config: C) => StepResult<S>;

export function flag(check: CheckName, reason: string): Flag {
  return Object.freeze({ check, reason });
}
