/**
 * Chattering detection for one alarm: an alarm that activates `count` or more times within
 * `windowMs` is chattering (the usual starting criterion is three activations in a minute; ISA-18.2's
 * monitoring metrics want no chattering alarms). The manager then shelves it by the system and
 * reports that once, instead of annunciating each activation; it is released once a whole window
 * passes without an activation. Activations are counted whether annunciated or not, so a
 * chattering alarm stays shelved while it keeps chattering.
 *
 * Keeps the last `count` activation times in a ring: O(1) per activation, no allocation.
 */
import { decBool, decF64, decInt, decNum, decRecord, encF64, encNum, type EncodedNumber } from '../model/state-codec.js';

export interface ChatterSnapshot {
  chattering: boolean;
  times: string;
  n: number;
  lastMs: EncodedNumber;
}

export class ChatterDetector {
  chattering = false;
  private readonly times: Float64Array;
  private n = 0;
  private lastMs = NaN;

  constructor(
    private readonly count: number,
    private readonly windowMs: number,
  ) {
    this.times = new Float64Array(Math.max(1, count));
  }

  /** Record an activation; true when it is the one that makes the alarm chattering. */
  activation(tsMs: number): boolean {
    const k = this.times.length;
    this.times[this.n % k] = tsMs;
    this.n++;
    this.lastMs = tsMs;
    if (this.chattering || this.count < 2 || this.n < this.count) return false;
    // the oldest of the last `count` activations
    const oldest = this.times[this.n % k];
    if (tsMs - oldest <= this.windowMs) {
      this.chattering = true;
      return true;
    }
    return false;
  }

  snapshot(): ChatterSnapshot {
    return { chattering: this.chattering, times: encF64(this.times), n: this.n, lastMs: encNum(this.lastMs) };
  }

  /** Untrusted (checked first, then applied). */
  restore(v: unknown): void {
    const s = decRecord(v, 'chatter');
    const times = decF64(s.times, 'chatter.times', this.times.length);
    const next = {
      chattering: decBool(s.chattering, 'chatter.chattering'),
      n: decInt(s.n, 'chatter.n', 0, Number.MAX_SAFE_INTEGER),
      lastMs: decNum(s.lastMs, 'chatter.lastMs'),
    };
    this.times.set(times);
    Object.assign(this, next);
  }

  /** When a chattering alarm with no further activation is released. */
  get releaseDueMs(): number {
    return this.lastMs + this.windowMs;
  }

  /** True once, when a chattering alarm has been quiet for a whole window (it is then released). */
  released(tsMs: number): boolean {
    if (!this.chattering || tsMs - this.lastMs < this.windowMs) return false;
    this.chattering = false;
    this.n = 0;
    return true;
  }
}
