/**
 * Timestamp order: a reading whose event time equals the last accepted one is a `duplicate`
 * (QoS 1 redelivery, a gateway re-sending its last value); one older than the last accepted is
 * `out-of-order`; one further ahead of the receiving clock than `maxFutureMs` is `future` (a wrong
 * source clock, which would otherwise make every later reading look out of order). Only an
 * accepted reading moves `lastTsMs`, so a rejected one cannot corrupt the state of any check.
 */
import type { Reading } from '../../model/reading.js';
import { flag, type StepResult } from './flag.js';

export interface OrderConfig {
  /** Largest accepted lead of event time over the receiving clock; 0 or unset = not checked. */
  maxFutureMs?: number;
}

export interface OrderState {
  /** Event time of the last accepted reading; NaN before the first. */
  lastTsMs: number;
}

export const DUPLICATE = flag('duplicate', 'duplicate');
export const OUT_OF_ORDER = flag('outOfOrder', 'out-of-order');
export const FUTURE = flag('future', 'future');

export function orderInit(): OrderState {
  return { lastTsMs: NaN };
}

/**
 * `nowMs` is the receiving clock (wall clock live, the scheduler's clock in tests); leave it NaN
 * in a replay, where every timestamp lies in the past by design.
 */
export function orderStep(s: OrderState, r: Reading, c: OrderConfig, nowMs = NaN): StepResult<OrderState> {
  const ts = r.tsMs;
  if (c.maxFutureMs !== undefined && c.maxFutureMs > 0 && ts - nowMs > c.maxFutureMs) return { state: s, flag: FUTURE };
  if (ts === s.lastTsMs) return { state: s, flag: DUPLICATE };
  if (ts < s.lastTsMs) return { state: s, flag: OUT_OF_ORDER };
  s.lastTsMs = ts;
  return { state: s };
}
