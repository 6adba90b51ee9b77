/**
 * Range check: a value below `lowLimit` or above `highLimit` (engineering units of the tag,
 * limits themselves allowed) is flagged. Stateless; an unset limit is not checked.
 */
import type { Reading } from '../../model/reading.js';
import { flag, type StepResult } from './flag.js';

export interface RangeConfig {
  lowLimit?: number;
  highLimit?: number;
}

export const RANGE_LOW = flag('range', 'range<low');
export const RANGE_HIGH = flag('range', 'range>high');

const PASS: StepResult<null> = Object.freeze({ state: null });
const LOW: StepResult<null> = Object.freeze({ state: null, flag: RANGE_LOW });
const HIGH: StepResult<null> = Object.freeze({ state: null, flag: RANGE_HIGH });

export function rangeStep(_state: null, r: Reading, c: RangeConfig): StepResult<null> {
  // `undefined` compares false both ways, so an unset limit never fires.
  if (r.value < (c.lowLimit as number)) return LOW;
  if (r.value > (c.highLimit as number)) return HIGH;
  return PASS;
}
