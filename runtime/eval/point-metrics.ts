/**
 * Point-wise and event-wise metrics of a 0/1 alarm series against labels: the confusion counts and
 * SKAB's aggregation (counts summed over files before the ratios: F1 = TP / (TP + (FP + FN)/2),
 * FAR = FP / (FP + TN) · 100 %, MAR = FN / (FN + TP) · 100 %), plus what an operator feels: alarms
 * (rising edges), false alarms per day, windows caught and the delay to the first alarm in each.
 */

export interface ConfusionCounts {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface PointwiseResult extends ConfusionCounts {
  f1: number;
  precision: number;
  recall: number;
  farPct: number;
  marPct: number;
}

/** Point-wise confusion of one file: labels and predictions as 0/1 (or booleans), same length. */
export function confusion(labels: ArrayLike<number | boolean>, predicted: ArrayLike<number | boolean>): ConfusionCounts {
  if (labels.length !== predicted.length) {
    throw new Error(`labels (${labels.length}) and predictions (${predicted.length}) differ in length`);
  }
  const c = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const t = Number(labels[i]) === 1;
    const p = Number(predicted[i]) === 1;
    if (t && p) c.tp++;
    else if (!t && !p) c.tn++;
    else if (p) c.fp++;
    else c.fn++;
  }
  return c;
}

/** F1, precision, recall, FAR and MAR of counts summed over files (SKAB's aggregation). */
export function pointwise(files: ConfusionCounts[]): PointwiseResult {
  const s = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (const f of files) {
    s.tp += f.tp;
    s.tn += f.tn;
    s.fp += f.fp;
    s.fn += f.fn;
  }
  return {
    ...s,
    f1: s.tp / (s.tp + (s.fp + s.fn) / 2) || 0,
    precision: s.tp / (s.tp + s.fp) || 0,
    recall: s.tp / (s.tp + s.fn) || 0,
    farPct: (100 * s.fp) / (s.fp + s.tn) || 0,
    marPct: (100 * s.fn) / (s.fn + s.tp) || 0,
  };
}

/** Rising edges of a 0/1 series as times (alarms raised). */
export function risingEdges(tsMs: ArrayLike<number>, flags: ArrayLike<number | boolean>): number[] {
  const out: number[] = [];
  let prev = false;
  for (let i = 0; i < flags.length; i++) {
    const f = Number(flags[i]) === 1;
    if (f && !prev) out.push(tsMs[i]);
    prev = f;
  }
  return out;
}

/** 0/1 label per row: 1 inside any window [startMs, endMs] (inclusive). */
export function windowLabels(tsMs: ArrayLike<number>, windows: readonly (readonly [number, number])[]): Uint8Array {
  const out = new Uint8Array(tsMs.length);
  for (let i = 0; i < tsMs.length; i++) {
    const t = tsMs[i];
    for (const [a, b] of windows) if (t >= a && t <= b) out[i] = 1;
  }
  return out;
}

export interface EventMetrics {
  windows: number;
  /** Windows with at least one alarm row inside. */
  caught: number;
  /** Alarms raised (rising edges). */
  alarms: number;
  /** Alarms raised outside every window. */
  falseAlarms: number;
  /** Span covered by the rows, days. */
  days: number;
  alarmsPerDay: number;
  falseAlarmsPerDay: number;
  /** Mean time from each caught window's start to its first alarm row, ms (NaN: none caught). */
  meanDelayMs: number;
}

/** Event-wise view of one series (or several: pass them one by one to `sumEvents`). */
export function eventMetrics(
  tsMs: ArrayLike<number>,
  flags: ArrayLike<number | boolean>,
  windows: readonly (readonly [number, number])[],
): EventMetrics {
  const edges = risingEdges(tsMs, flags);
  const inAny = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  let caught = 0;
  let delaySum = 0;
  for (const [a, b] of windows) {
    let first = -1;
    for (let i = 0; i < tsMs.length; i++) {
      if (tsMs[i] >= a && tsMs[i] <= b && Number(flags[i]) === 1) {
        first = i;
        break;
      }
    }
    if (first >= 0) {
      caught++;
      delaySum += tsMs[first] - a;
    }
  }
  const days = tsMs.length > 1 ? (tsMs[tsMs.length - 1] - tsMs[0]) / 86_400_000 : 0;
  const falseAlarms = edges.filter((t) => !inAny(t)).length;
  return {
    windows: windows.length,
    caught,
    alarms: edges.length,
    falseAlarms,
    days,
    alarmsPerDay: days > 0 ? edges.length / days : NaN,
    falseAlarmsPerDay: days > 0 ? falseAlarms / days : NaN,
    meanDelayMs: caught > 0 ? delaySum / caught : NaN,
  };
}

/** Sum of several series' event metrics (rates over the summed span, delay weighted by windows caught). */
export function sumEvents(parts: EventMetrics[]): EventMetrics {
  const s = { windows: 0, caught: 0, alarms: 0, falseAlarms: 0, days: 0, delay: 0 };
  for (const p of parts) {
    s.windows += p.windows;
    s.caught += p.caught;
    s.alarms += p.alarms;
    s.falseAlarms += p.falseAlarms;
    s.days += p.days;
    if (p.caught > 0) s.delay += p.meanDelayMs * p.caught;
  }
  return {
    windows: s.windows,
    caught: s.caught,
    alarms: s.alarms,
    falseAlarms: s.falseAlarms,
    days: s.days,
    alarmsPerDay: s.days > 0 ? s.alarms / s.days : NaN,
    falseAlarmsPerDay: s.days > 0 ? s.falseAlarms / s.days : NaN,
    meanDelayMs: s.caught > 0 ? s.delay / s.caught : NaN,
  };
}
