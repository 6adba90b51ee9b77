/**
 * `npm run bench`: runs every benchmark in bench/ (or those named on the command line), prints a
 * table, and writes bench/results/latest.{json,md,svg}. Not part of `npm test`.
 */
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { cpus, totalmem } from 'node:os';
import type { Benchmark, BenchRow } from './harness.js';
import { barChartSvg } from './plot.js';
import { progressDone } from './harness.js';

// rul-accuracy is its own command (about 13 min: 5 folds × 3 methods through the CLI); rul-cv is its library
const NOT_BENCHMARKS = new Set(['harness', 'run', 'plot', 'node-red-helper', 'skab-score', 'prng', 'rul-cv', 'rul-accuracy']);
const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');

function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  // Sub-microsecond latencies in a millisecond column: keep three significant digits.
  if (n !== 0 && Math.abs(n) < 0.1) return n.toPrecision(3);
  return n.toFixed(digits);
}

export function markdownTable(rows: BenchRow[]): string {
  const head = '| suite | case | count | per second | p50 ms | p95 ms | p99 ms | RSS MiB | heap MiB | note |';
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---:|---|';
  const lines = rows.map(
    (r) =>
      `| ${r.suite} | ${r.baseline ? '*baseline:* ' : ''}${r.case} | ${fmt(r.count, 0)} | ${fmt(r.throughputPerS, 0)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p95Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.rssMiB)} | ${fmt(r.heapMiB)} | ${r.note ?? ''} |`,
  );
  return [head, sep, ...lines].join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = readdirSync(__dirname)
    .filter((f) => f.endsWith('.js'))
    .map((f) => basename(f, '.js'))
    .filter((n) => !NOT_BENCHMARKS.has(n) && (wanted.length === 0 || wanted.includes(n)))
    .sort();
  if (names.length === 0) {
    process.stderr.write(`no benchmark matches ${wanted.join(', ')}\n`);
    process.exit(2);
  }
  const rows: BenchRow[] = [];
  for (const name of names) {
    process.stderr.write(`bench ${name}…\n`);
    const mod = require(join(__dirname, `${name}.js`)) as { run?: Benchmark };
    if (typeof mod.run !== 'function') continue;
    try {
      rows.push(...(await mod.run()));
    } catch (err) {
      rows.push({ suite: name, case: 'FAILED', note: String((err as Error).message ?? err).slice(0, 200) });
    }
    progressDone();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const table = markdownTable(rows);
  process.stdout.write(`\nMachine: ${machine}\n\n${table}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString();
  // A partial run (benchmarks named on the command line) must not replace the full run's results.
  const base = wanted.length === 0 ? 'latest' : `partial-${names.join('+')}`;
  const command = wanted.length === 0 ? 'npm run bench' : `node dist/bench/run.js ${names.join(' ')}`;
  writeFileSync(join(RESULTS_DIR, `${base}.json`), JSON.stringify({ stamp, machine, rows }, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, `${base}.md`), `Measured ${stamp} on ${machine} with \`${command}\`.\n\n${table}\n`);
  writeFileSync(join(RESULTS_DIR, `${base}.svg`), barChartSvg(rows, `TwinLoop benchmarks — ${stamp.slice(0, 10)}`));
  process.stderr.write(`wrote ${join('bench', 'results', `${base}.{json,md,svg}`)}\n`);
  // Benchmarks leave servers' timers behind at worst; do not hang on them.
  process.exit(0);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
