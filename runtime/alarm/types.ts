/**
 * Alarm records and configuration shared by runtime/alarm/ (the AlarmManager and its parts).
 *
 * States follow the alarm state transition diagram of ANSI/ISA-18.2-2016 (IEC 62682 is its
 * international twin; OPC UA Part 9 §4.8 maps it to conditions): an alarm is the pair (process
 * condition active or not, acknowledged or not) unless an operator or the design has taken it out
 * of annunciation:
 *   normal               inactive and acknowledged                            (ISA state A)
 *   unack-active         active, not yet acknowledged: the annunciated alarm  (B)
 *   ack-active           active, acknowledged                                 (C)
 *   unack-rtn            returned to normal before anyone acknowledged it     (D)
 *   shelved              an operator (or chattering, by the system) hid it, time-limited (F)
 *   suppressed-by-design a configured root alarm is active: consequential, not annunciated (G)
 *   out-of-service       taken out for maintenance, no time limit              (H)
 * ISA's optional latched state (E) is not modelled. In the three hidden states the condition is
 * still tracked, so when one ends with the condition still active the alarm annunciates afresh
 * (ISA: F/G/H → A, then A → B).
 */

import type { DriftKind, SensorFaultType } from '../model/drift.js';

export type AlarmState = 'normal' | 'unack-active' | 'ack-active' | 'unack-rtn' | 'shelved' | 'suppressed-by-design' | 'out-of-service';

/** Three priorities, as EEMUA 191 and ISA-18.2 recommend (distribution target ≈ 80 / 15 / 5 %). */
export type AlarmPriority = 'low' | 'medium' | 'high';

/** Severity of the consequence of not responding, set when the alarm is rationalised (configured). */
export type AlarmConsequence = 'minor' | 'moderate' | 'severe';

export type AlarmEventKind =
  /** an episode starts (annunciated unless `annunciated` is false: suppressed by design) */
  | 'raised'
  /** the condition returned to normal (the episode's end; `endTsMs` set) */
  | 'cleared'
  | 'acked'
  | 'shelved'
  | 'unshelved'
  /** reported once when an alarm starts chattering; it is then shelved by the system */
  | 'chattering'
  /** an already raised episode became consequential to a root alarm raised just after it */
  | 'suppressed'
  | 'out-of-service'
  | 'in-service';

/** Who did what, when and why (operator actions; the system uses user 'system'). */
export interface AlarmAction {
  user: string;
  reason: string;
  tsMs: number;
}

export interface AlarmEvent {
  kind: AlarmEventKind;
  /** The alarm's id (the tag unless configured otherwise). */
  alarmId: string;
  /** `${alarmId}#${n}`: one per episode (activation to return to normal); absent for mode changes with no episode. */
  episodeId?: string;
  /** Line the alarm belongs to (rates are per line). */
  line: string;
  /** Event time of this transition. */
  tsMs: number;
  /** When the episode's condition began (before any on-delay). */
  startTsMs?: number;
  /** When the episode's condition ended (before any off-delay); set on 'cleared' and later. */
  endTsMs?: number;
  /** State after the transition. */
  state: AlarmState;
  priority: AlarmPriority;
  /** Whether this event is shown to the operator as an alarm (false: recorded only). */
  annunciated: boolean;
  /** Highest score seen in the episode so far (NaN for boolean inputs). */
  peakScore?: number;
  /** Root alarm id that makes this one consequential. */
  suppressedBy?: string;
  /** Operator or system action behind an acked/shelved/unshelved/out-of-service/in-service/chattering event. */
  action?: AlarmAction;
  /** Shelve expiry. */
  untilTsMs?: number;
  /**
   * On 'raised' events of anomaly alarms (runtime/alarm/anomaly-alarms.ts): sensor fault or process
   * change, with the evidence (which related tags moved), judged over the episode's start.
   */
  cause?: AlarmCause;
  /**
   * On a head alarm's events after its raise (anomaly alarms): the alarm ids whose episodes were
   * recorded as its consequences so far (same asset, same process change: one alarm for the episode).
   */
  consequential?: string[];
}

/** What an anomaly alarm is: runtime/drift/classify.ts's verdict, or a dropout (bad readings). */
export interface AlarmCause {
  kind: DriftKind;
  faultType?: SensorFaultType;
  /** Level change of the tag (or its residual) in its unit. */
  magnitude: number;
  /** The detector's method: 'twin-residual' | 'learned-baseline'. */
  method: string;
  reason: string;
  evidence: Record<string, unknown>;
}

/** Per-alarm configuration (rationalisation record). Durations in milliseconds of event time. */
export interface AlarmConfig {
  /**
   * Score at or above which the condition is active (numeric inputs; booleans ignore it). Default 1:
   * feed a score normalised so 1 is the detector's own threshold, e.g. log(p)/log(pThreshold).
   */
  setpoint: number;
  /**
   * The condition returns to normal only below setpoint − deadband (score units). Trades: larger
   * stops a score hovering at the limit from raising episode after episode, but ends episodes later.
   */
  deadband: number;
  /**
   * The condition must hold this long before it is annunciated. Trades: filters fleeting alarms
   * (a motor's start-up current), delays every true alarm by as much.
   */
  onDelayMs: number;
  /**
   * The condition must stay clear this long before the episode ends; a return within it continues
   * the episode. Trades: merges a flickering episode into one, reports the end later.
   */
  offDelayMs: number;
  /** Activations (episode starts) within `chatterWindowMs` that make an alarm chattering (< 2: off). */
  chatterCount: number;
  /**
   * Window for chattering; a chattering alarm is shelved by the system and released once a whole
   * window passes without an activation. Trades: longer catches slower chatter but hides a
   * genuinely recurring problem longer (its shelving is reported once, with the count).
   */
  chatterWindowMs: number;
  consequence: AlarmConsequence;
  /**
   * A score at or above this raises the priority one step (the deviation is large, so the time to
   * respond is short). Default 2 (twice the setpoint); Infinity to fix the priority by consequence.
   */
  escalateScore: number;
  /**
   * Alarm ids this alarm is the root of: while its condition is active (and `releaseMs` after),
   * their episodes are suppressed by design, and those already raised are withdrawn (event
   * 'suppressed'): a line stop is one alarm, not forty. An entry ending in '*' matches ids by prefix
   * ('site/area/line1/*'). Trades: a real fault on a child during a stop goes unannunciated
   * (recorded with `suppressedBy`, annunciated if still active when the suppression ends).
   */
  children: string[];
  /**
   * Children stay suppressed this long after the root returns to normal, while a restart settles.
   * Trades: longer hides start-up transients, and a child fault that starts right after a restart.
   */
  releaseMs: number;
  /** Line for rate figures; default: 'site/area/line' of an ISA-95 path site/area/line/asset/tag. */
  line?: string;
}

export const ALARM_DEFAULTS: Readonly<AlarmConfig> = Object.freeze({
  setpoint: 1,
  deadband: 0,
  // the middle of ISA-TR18.2.3's starting on-delays (15 s flow and pressure … 60 s level and
  // temperature). Measured with the anomaly detector (bench/anomaly-alarms.ts): SKAB's anomaly-free
  // file 154 → 0 alarms/day (its unusual runs last 9–13 s at 1 Hz; 15 s still leaves 18/day), NAB
  // 55.4 → 55.3 (at 5-minute samples it asks for two unusual samples in a row)
  onDelayMs: 30_000,
  // ISA-TR18.2.3's starting point for slow loops (temperature, level) is 60 s
  offDelayMs: 60_000,
  // "three or more activations in a minute", the usual starting criterion for chattering (PAS/Hexagon
  // "Fixing chattering and fleeting alarms"; ISA-18.2's metrics want no chattering alarms at all)
  chatterCount: 3,
  chatterWindowMs: 60_000,
  consequence: 'moderate' as AlarmConsequence,
  escalateScore: 2,
  children: [] as string[],
  releaseMs: 600_000,
});

/** Default maximum shelving time: one shift (ISA-18.2 wants shelving time-limited). */
export const MAX_SHELVE_MS = 12 * 3_600_000;
