/**
 * The process condition of one alarm: a score (or a boolean) through a deadband and on/off delays,
 * in event time. This is the "alarm detection" stage of ISA-18.2's model; what the operator sees
 * (acknowledgement, shelving, suppression) is the state machine's business (manager.ts).
 *
 * - Deadband: active at score ≥ setpoint; returns to normal only below setpoint − deadband.
 * - On-delay: the raw condition must hold for `onDelayMs` (checked at each sample's time) before the
 *   episode starts; a sample below the limit within the delay cancels it (a fleeting excursion).
 * - Off-delay: the raw condition must stay clear for `offDelayMs` before the episode ends; a return
 *   above the limit within the delay continues the same episode.
 * The episode's `startTsMs`/`endTsMs` are when the raw condition began/ended, not when the delays
 * confirmed them, so detection delay and episode length stay measurable.
 *
 * With no new sample, `tick(tsMs)` lets a pending off-delay (or on-delay) complete.
 */
import { decBool, decNum, decRecord, encNum, type EncodedNumber } from '../model/state-codec.js';

export interface ConditionConfig {
  setpoint: number;
  deadband: number;
  onDelayMs: number;
  offDelayMs: number;
}

export interface ConditionSnapshot {
  active: boolean;
  raw: boolean;
  rawSinceMs: EncodedNumber;
  startMs: EncodedNumber;
}

export type ConditionChange =
  { kind: 'start'; startTsMs: number; tsMs: number } | { kind: 'end'; endTsMs: number; tsMs: number } | undefined;

export class AlarmCondition {
  /** The debounced condition: an episode is open. */
  active = false;
  /** Raw limit check with deadband (hysteresis), before delays. */
  private raw = false;
  /** When the raw condition last changed to its present value. */
  private rawSinceMs = NaN;
  private startMs = NaN;

  constructor(private readonly cfg: ConditionConfig) {}

  /** One sample; returns the start or end of an episode when the delays confirm one. */
  update(input: number | boolean, tsMs: number): ConditionChange {
    const c = this.cfg;
    let raw: boolean;
    if (typeof input === 'boolean') raw = input;
    else raw = this.raw ? input >= c.setpoint - c.deadband : input >= c.setpoint;
    if (raw !== this.raw || Number.isNaN(this.rawSinceMs)) {
      this.raw = raw;
      this.rawSinceMs = tsMs;
    }
    return this.tick(tsMs);
  }

  /** Advance the clock with no new sample. */
  tick(tsMs: number): ConditionChange {
    const c = this.cfg;
    if (Number.isNaN(this.rawSinceMs)) return undefined;
    const held = tsMs - this.rawSinceMs;
    if (!this.active && this.raw && held >= c.onDelayMs) {
      this.active = true;
      this.startMs = this.rawSinceMs;
      return { kind: 'start', startTsMs: this.startMs, tsMs };
    }
    if (this.active && !this.raw && held >= c.offDelayMs) {
      this.active = false;
      return { kind: 'end', endTsMs: this.rawSinceMs, tsMs };
    }
    return undefined;
  }

  snapshot(): ConditionSnapshot {
    return { active: this.active, raw: this.raw, rawSinceMs: encNum(this.rawSinceMs), startMs: encNum(this.startMs) };
  }

  /** Untrusted (checked first, then applied). */
  restore(v: unknown): void {
    const s = decRecord(v, 'condition');
    const next = {
      active: decBool(s.active, 'condition.active'),
      raw: decBool(s.raw, 'condition.raw'),
      rawSinceMs: decNum(s.rawSinceMs, 'condition.rawSinceMs'),
      startMs: decNum(s.startMs, 'condition.startMs'),
    };
    Object.assign(this, next);
  }

  /** Whether the raw limit is exceeded now (before the delays). */
  get rawActive(): boolean {
    return this.raw;
  }
}
