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
