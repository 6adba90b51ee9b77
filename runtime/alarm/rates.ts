/**
 * Alarm-rate figures per line and in total, over a trailing window of event time, as alarm
 * management benchmarks count them: annunciated alarms only (shelved, out-of-service and
 * suppressed-by-design episodes are not presented to the operator, so they do not load them).
 *
 * Benchmarks the verdict uses, on the long-term average in steady operation per operator:
 *   EEMUA 191 ("Alarm systems: a guide to design, management and procurement"):
 *     ≤ 1 per 10 min   very likely to be acceptable        → 'acceptable'
 *     ≤ 1 per 5 min    manageable                          → 'manageable'
 *     ≤ 1 per 2 min    likely to be over-demanding         → 'over-demanding'
 *     more             (> 1 per minute: very likely to be unacceptable) → 'unacceptable'
 *   ANSI/ISA-18.2-2016 restates them per day (~150/day very likely acceptable, ~300/day maximum
 *   manageable) and defines an alarm flood as ≥ 10 alarms in 10 minutes, with a target of < ~1 % of
 *   10-minute intervals in flood.
 * Intervals are fixed 10-minute buckets aligned to the epoch (as KPI reports count them); a
 * sliding 10 minutes can hold up to twice a bucket's peak. The per-line figures treat each line as
 * one operator's span; TwinLoop's own target is stricter: under one alarm per hour per line.
 *
 * Memory: one counter per line per 10 minutes in the window (144 per line for a day).
 */

export type RateVerdict = 'acceptable' | 'manageable' | 'over-demanding' | 'unacceptable';

export interface LineRates {
  line: string;
  /** Annunciated alarms in the window. */
  count: number;
  /** Span the averages are over: the window, or less while the manager has run shorter. */
  spanMs: number;
  perHour: number;
  /** Average per 10 minutes (EEMUA 191's unit). */
  per10MinAvg: number;
  /** Most alarms in one 10-minute interval. */
  peak10Min: number;
  /** 10-minute intervals with ≥ 10 alarms (ISA-18.2 flood). */
  floodIntervals: number;
  /** Share of the span's 10-minute intervals in flood (ISA-18.2 target < ~1 %). */
  floodPct: number;
  verdict: RateVerdict;
}

export interface RateFigures {
  tsMs: number;
  windowMs: number;
  lines: LineRates[];
  /** All lines together (one operator position watching them all). */
  total: LineRates;
}

export const TEN_MIN_MS = 600_000;
export const FLOOD_PER_10_MIN = 10;

export function rateVerdict(per10MinAvg: number): RateVerdict {
  if (per10MinAvg <= 1) return 'acceptable';
  if (per10MinAvg <= 2) return 'manageable';
  if (per10MinAvg <= 5) return 'over-demanding';
  return 'unacceptable';
}

export class AlarmRates {
  private readonly buckets = new Map<string, Map<number, number>>();
  private firstTsMs = NaN;

  /** @param windowMs trailing window of the figures (default one day). */
  constructor(readonly windowMs = 86_400_000) {}

  /** Mark the start of observation (rates average over time observed, alarms or not). */
  observe(tsMs: number): void {
    if (Number.isNaN(this.firstTsMs) || tsMs < this.firstTsMs) this.firstTsMs = tsMs;
  }

  /** Count one annunciated alarm. */
  record(line: string, tsMs: number): void {
    this.observe(tsMs);
    let m = this.buckets.get(line);
    if (!m) this.buckets.set(line, (m = new Map<number, number>()));
    const b = Math.floor(tsMs / TEN_MIN_MS);
    m.set(b, (m.get(b) ?? 0) + 1);
    this.prune(tsMs);
  }

  figures(tsMs: number): RateFigures {
    this.prune(tsMs);
    const spanMs = Number.isNaN(this.firstTsMs) ? 0 : Math.min(this.windowMs, Math.max(0, tsMs - this.firstTsMs));
    const lo = Math.floor((tsMs - this.windowMs) / TEN_MIN_MS);
    const all = new Map<number, number>();
    const lines: LineRates[] = [];
    for (const [line, m] of [...this.buckets].sort((a, b) => a[0].localeCompare(b[0]))) {
      for (const [b, n] of m) if (b > lo) all.set(b, (all.get(b) ?? 0) + n);
      lines.push(summarise(line, m, lo, spanMs));
    }
    return { tsMs, windowMs: this.windowMs, lines, total: summarise('*', all, lo, spanMs) };
  }

  private prune(tsMs: number): void {
    const lo = Math.floor((tsMs - this.windowMs) / TEN_MIN_MS);
    for (const m of this.buckets.values()) for (const b of m.keys()) if (b <= lo) m.delete(b);
  }
}

function summarise(line: string, m: Map<number, number>, lo: number, spanMs: number): LineRates {
  let count = 0;
  let peak = 0;
  let floods = 0;
  for (const [b, n] of m) {
    if (b <= lo) continue;
    count += n;
    if (n > peak) peak = n;
    if (n >= FLOOD_PER_10_MIN) floods++;
  }
  // at least one interval: a burst in the first minutes is a rate over ten minutes, not per minute
  const intervals = Math.max(1, spanMs / TEN_MIN_MS);
  const per10MinAvg = count / intervals;
  return {
    line,
    count,
    spanMs,
    perHour: per10MinAvg * 6,
    per10MinAvg,
    peak10Min: peak,
    floodIntervals: floods,
    floodPct: (100 * floods) / Math.max(1, Math.ceil(intervals)),
    verdict: rateVerdict(per10MinAvg),
  };
}
