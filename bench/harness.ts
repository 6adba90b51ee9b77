/**
 * Shared pieces of the benchmarks: the row every benchmark reports, percentiles, memory and a
 * progress line on stderr (only when stderr is a terminal). Benchmarks never run under `npm test`.
 */
export interface BenchRow {
  /** Benchmark suite, e.g. `ingest`, `screen`, `opcua`. */
  suite: string;
  /** What was measured, e.g. `twin-mqtt-in → twin-screen` or `bare mqtt.js client` (a baseline). */
  case: string;
  /** True for the baseline rows that a suite's other rows are compared against. */
  baseline?: boolean;
  count?: number;
  throughputPerS?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** Resident set size after the case, MiB. */
  rssMiB?: number;
  /** Heap used after the case, MiB. */
  heapMiB?: number;
  /** Anything a reader needs to interpret the row (ratio to baseline, items sustained, losses). */
  note?: string;
}

export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  if (sortedAsc.length === 0) return NaN;
  const i = Math.min(sortedAsc.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAsc.length) - 1));
  return sortedAsc[i];
}

/** p50/p95/p99 of latencies in ms. */
export function latencyStats(latenciesMs: number[]): Pick<BenchRow, 'p50Ms' | 'p95Ms' | 'p99Ms'> {
  const s = Float64Array.from(latenciesMs).sort();
  return { p50Ms: percentile(s, 50), p95Ms: percentile(s, 95), p99Ms: percentile(s, 99) };
}

export function memory(): Pick<BenchRow, 'rssMiB' | 'heapMiB'> {
  const m = process.memoryUsage();
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 };
}

/** A one-line progress indicator on stderr, redrawn in place; silent when stderr is not a TTY. */
export function progress(text: string): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r\x1b[2K${text}`);
}
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/** A benchmark module exports `run`, which returns its rows. */
export type Benchmark = () => Promise<BenchRow[]>;

export interface Measured {
  count: number;
  perS: number;
  /** Time per reading of each timed batch, ms. */
  perReadingMs: number[];
  /** Checksum of the passes' results, so no work is dead code to the JIT. */
  sink: number;
}

/**
 * Run `pass(lo, hi)` (items [lo, hi) of an n-item data set; returns a checksum) over the data in
 * timed batches for about `budgetMs`, after one untimed warm-up pass; `reset()` before every pass.
 */
export function measureBatches(
  budgetMs: number,
  n: number,
  batch: number,
  reset: () => void,
  pass: (lo: number, hi: number) => number,
): Measured {
  reset();
  let sink = pass(0, n); // warm-up (JIT)
  const perReadingMs: number[] = [];
  let count = 0;
  let busyNs = 0n;
  const until = Date.now() + budgetMs;
  while (Date.now() < until) {
    reset();
    for (let lo = 0; lo < n; lo += batch) {
      const t = process.hrtime.bigint();
      sink += pass(lo, lo + batch);
      const dt = process.hrtime.bigint() - t;
      busyNs += dt;
      perReadingMs.push(Number(dt) / 1e6 / batch);
    }
    count += n;
  }
  return { count, perS: count / (Number(busyNs) / 1e9), perReadingMs, sink };
}

/** A row for a measureBatches result, with per-reading percentiles in µs in the note. */
export function batchRow(suite: string, batch: number, name: string, m: Measured, extra: Partial<BenchRow> = {}, note = ''): BenchRow {
  const lat = latencyStats(m.perReadingMs);
  const us = (x: number | undefined) => ((x ?? NaN) * 1000).toFixed(3);
  return {
    suite,
    case: name,
    count: m.count,
    throughputPerS: m.perS,
    ...lat,
    ...memory(),
    note: `per reading p50/p95/p99 ${us(lat.p50Ms)}/${us(lat.p95Ms)}/${us(lat.p99Ms)} µs (batches of ${batch})${note ? '; ' + note : ''}`,
    ...extra,
  };
}
