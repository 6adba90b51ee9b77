/**
 * The anomaly detector's output as an alarm score for AlarmManager.update: 1 at the detector's own
 * threshold, higher the further beyond it, so the manager's default setpoint (1) alarms exactly when
 * the detector's condition holds and its escalateScore (2) raises the priority when p is the square
 * of the threshold (e.g. 1e-8 against 1e-4: far beyond what the tag's history explains).
 *
 * score = log(p) / log(pThreshold), kept below 1 while the detector's condition does not hold (its
 * short-term surprise floor may not be met though p is small) and at least 1 while it does.
 */
export interface AnomalyScoreInput {
  p: number;
  pThreshold: number;
  unusual: boolean;
}

const BELOW_ONE = 1 - 1e-9;

export function anomalyAlarmScore(o: AnomalyScoreInput): number {
  const ratio = o.p > 0 && o.pThreshold > 0 && o.pThreshold < 1 ? Math.log(o.p) / Math.log(o.pThreshold) : o.p > 0 ? 0 : Infinity;
  const r = Number.isFinite(ratio) ? Math.max(0, ratio) : o.unusual ? 1e6 : BELOW_ONE;
  return o.unusual ? Math.max(1, r) : Math.min(BELOW_ONE, r);
}
