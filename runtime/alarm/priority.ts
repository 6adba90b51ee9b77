/**
 * Alarm priority from the configured consequence and the score at annunciation.
 *
 * ISA-18.2 rationalisation sets a priority from the severity of the consequence and the time
 * available to respond; here the consequence is configured per alarm and the score's margin over
 * the setpoint stands in for urgency (a large deviation leaves less time):
 *
 *   consequence   score < escalateScore   score ≥ escalateScore
 *   minor         low                     medium
 *   moderate      medium                  high
 *   severe        high                    high
 *
 * Boolean inputs carry no margin and take the consequence's base priority. The priority is fixed
 * when the episode is annunciated (re-prioritising a standing alarm re-alerts the operator).
 */
import type { AlarmConsequence, AlarmPriority } from './types.js';

const LEVELS: readonly AlarmPriority[] = ['low', 'medium', 'high'];
const BASE: Readonly<Record<AlarmConsequence, number>> = { minor: 0, moderate: 1, severe: 2 };

export function alarmPriority(consequence: AlarmConsequence, score: number, escalateScore: number): AlarmPriority {
  const up = Number.isFinite(score) && score >= escalateScore ? 1 : 0;
  return LEVELS[Math.min(LEVELS.length - 1, BASE[consequence] + up)];
}
