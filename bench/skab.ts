/**
 * SKAB validation of the streaming multivariate detectors (runtime/drift/multivariate.ts)
 * with the benchmark's published protocol: per file, the first 400 rows fit the model, the rest are
 * scored; the point-wise prediction is the operator's `alarm` flag; F1/FAR/MAR are summed over all
 * scored points of all files (bench/skab-score.ts); the NAB-style change-point score uses the
 * rising edges of the alarm and 60 s windows to the right of each `changepoint` label.
 *
 * The readings go through the real step function one by one (8 tags per timestamp, event time from
 * the `datetime` column read as UTC), exactly as the operator sees them.
 *
 * Parameters are chosen once for every file, not per file and not on the labels: see DETECTORS.
 * TWINLOOP_SKAB_SWEEP=1 adds an α × consecutive sensitivity table (for reading, not for choosing).
 * Run alone: `npx tsx bench/skab.ts` (or `node dist/bench/skab.js` after `npx tsup`).
 * Data: `../shared/data/skab` beside the project (TWINLOOP_SKAB_DIR overrides), never copied.
 * Files present: valve1 (16) and other (14) — 30 files; the leaderboard's 34 also include valve2 (4),
 * which is not in the shared copy, so the figures are over a subset of its test part.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import { mvInit, mvStep } from '../runtime/drift/multivariate.js';
import { memory, type BenchRow } from './harness.js';
import { confusion, nabScore, pointwise, risingEdges, type ConfusionCounts, type NabFile } from './skab-score.js';

const SUITE = 'skab';
export const TAGS = [
  'Accelerometer1RMS',
  'Accelerometer2RMS',
  'Current',
  'Pressure',
  'Temperature',
  'Thermocouple',
  'Voltage',
  'Volume Flow RateRMS',
];
const FIT_ROWS = 400;

export interface SkabFile {
  name: string;
  tsMs: number[];
  values: number[][];
  anomaly: number[];
  changepoint: number[];
}

function projectRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

export function skabDir(): string {
  return process.env.TWINLOOP_SKAB_DIR ?? join(projectRoot(), '..', 'shared', 'data', 'skab');
}

export function readSkabFile(path: string, name = path): SkabFile {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const head = lines[0].split(';');
  const col = (n: string) => {
    const i = head.indexOf(n);
    if (i < 0 && n !== 'anomaly' && n !== 'changepoint') throw new Error(`${name}: no column ${n}`);
    return i;
  };
  const ti = col('datetime');
  const vi = TAGS.map(col);
  const ai = col('anomaly');
  const ci = col('changepoint');
  const f: SkabFile = { name, tsMs: [], values: [], anomaly: [], changepoint: [] };
  for (const line of lines.slice(1)) {
    const c = line.split(';');
    f.tsMs.push(Date.parse(c[ti].replace(' ', 'T') + 'Z'));
    f.values.push(vi.map((i) => Number(c[i])));
    f.anomaly.push(ai >= 0 ? Number(c[ai]) : 0);
    f.changepoint.push(ci >= 0 ? Number(c[ci]) : 0);
  }
  return f;
}

export function loadSkab(dir = skabDir()): { scored: SkabFile[]; anomalyFree?: SkabFile } {
  const scored: SkabFile[] = [];
  for (const folder of ['valve1', 'other']) {
    const d = join(dir, folder);
    if (!existsSync(d)) continue;
    const names = readdirSync(d)
      .filter((n) => n.endsWith('.csv'))
      .sort((a, b) => parseInt(a) - parseInt(b));
    for (const n of names) scored.push(readSkabFile(join(d, n), `${folder}/${n}`));
  }
  const af = join(dir, 'anomaly-free', 'anomaly-free.csv');
  return { scored, anomalyFree: existsSync(af) ? readSkabFile(af, 'anomaly-free') : undefined };
}

export interface DetectorSpec {
  name: string;
  config: Record<string, unknown>;
  leaderboard?: { f1: number; farPct: number; marPct: number; nab: number };
}

/**
 * The detectors, with parameters fixed by rule, not fitted to the labels:
 * - varianceFraction 0.9 (the textbook default; SKAB's reference uses 0.85),
 * - alpha 0.01 per limit, consecutive 3 (the operator's defaults),
 * - referenceRows 400 (the protocol), maxAgeMs 5000 (rows are complete at each timestamp anyway).
 */
export const DETECTORS: DetectorSpec[] = [
  {
    name: 'T² (PCA, 0.9 variance)',
    config: { statistics: 't2', varianceFraction: 0.9, alpha: 0.01, consecutive: 3 },
    leaderboard: { f1: 0.66, farPct: 19.21, marPct: 42.6, nab: 19.54 },
  },
  {
    name: 'T²+Q (PCA, 0.9 variance)',
    config: { statistics: 'both', varianceFraction: 0.9, alpha: 0.01, consecutive: 3 },
    leaderboard: { f1: 0.76, farPct: 26.62, marPct: 24.92, nab: 25.35 },
  },
  {
    // SKAB's reference T2 class defaults (explained_variance 0.85, p_value 0.999, no post-filter):
    // a check of this implementation against the leaderboard's method, not a tuned variant.
    name: 'T²+Q at SKAB reference settings (0.85, α 0.001, 1 row)',
    config: { statistics: 'both', varianceFraction: 0.85, alpha: 0.001, consecutive: 1 },
    leaderboard: { f1: 0.76, farPct: 26.62, marPct: 24.92, nab: 25.35 },
  },
];

export interface FileRun {
  flags: number[];
  /** Row times of the scored part. */
  tsMs: number[];
  /** Classified events, counted by `kind/faultType`. */
  events: Record<string, number>;
}

/** Run one detector over one file through the step function; returns the scored part's alarm flags. */
export function runFile(f: SkabFile, config: Record<string, unknown>): FileRun {
  const s = mvInit({ asset: 'skab', tags: TAGS, maxAgeMs: 5000, referenceRows: FIT_ROWS, ...config });
  const flags: number[] = [];
  const ts: number[] = [];
  const events: Record<string, number> = {};
  const r: Reading = { asset: 'skab', tag: '', value: 0, tsMs: 0, quality: 'good', source: 'replay' };
  for (let i = 0; i < f.tsMs.length; i++) {
    let scoredRow = false;
    for (let j = 0; j < TAGS.length; j++) {
      r.tag = TAGS[j];
      r.value = f.values[i][j];
      r.tsMs = f.tsMs[i];
      const out = mvStep(s, r);
      if (out?.type === 'score') {
        flags.push(out.alarm ? 1 : 0);
        ts.push(out.tsMs);
        scoredRow = true;
        if (out.event) {
          const key = `${out.event.kind}${out.event.faultType ? '/' + out.event.faultType : ''}`;
          events[key] = (events[key] ?? 0) + 1;
        }
      } else if (out?.type === 'fit-failed') throw new Error(`${f.name}: fit failed: ${out.reason}`);
    }
    if (i >= FIT_ROWS && !scoredRow) throw new Error(`${f.name}: row ${i} produced no score`);
  }
  return { flags, tsMs: ts, events };
}

export interface SkabResult {
  detector: string;
  f1: number;
  farPct: number;
  marPct: number;
  nabStandard: number;
  nabLowFp: number;
  nabLowFn: number;
  missedCps: number;
  falseCps: number;
  changePoints: number;
  alarmsPerDayAnomalyFree: number;
  /** Share of the anomaly-free file's scored rows spent in alarm, %. */
  alarmTimePctAnomalyFree: number;
  rowsPerS: number;
  /** What the classifier called the alarms, over all scored files. */
  events: Record<string, number>;
}

export function evaluate(spec: DetectorSpec, data: { scored: SkabFile[]; anomalyFree?: SkabFile }): SkabResult {
  const counts: ConfusionCounts[] = [];
  const nabFiles: NabFile[] = [];
  let rows = 0;
  const events: Record<string, number> = {};
  const t0 = performance.now();
  for (const f of data.scored) {
    const run = runFile(f, spec.config);
    for (const [k, v] of Object.entries(run.events)) events[k] = (events[k] ?? 0) + v;
    const labels = f.anomaly.slice(FIT_ROWS);
    counts.push(confusion(labels, run.flags));
    const cps = f.tsMs.filter((_, i) => i >= FIT_ROWS && f.changepoint[i] === 1);
    nabFiles.push({ tsMs: run.tsMs, changePointsMs: cps, predictedMs: risingEdges(run.tsMs, run.flags) });
    rows += f.tsMs.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const pw = pointwise(counts);
  const nab = nabScore(nabFiles, 60_000);
  let perDay = NaN;
  let alarmPct = NaN;
  if (data.anomalyFree) {
    const run = runFile(data.anomalyFree, spec.config);
    const alarms = risingEdges(run.tsMs, run.flags).length;
    const days = (run.tsMs[run.tsMs.length - 1] - run.tsMs[0]) / 86_400_000;
    perDay = alarms / days;
    alarmPct = (100 * run.flags.reduce((a, b) => a + b, 0)) / run.flags.length;
  }
  return {
    detector: spec.name,
    f1: pw.f1,
    farPct: pw.farPct,
    marPct: pw.marPct,
    nabStandard: nab.standard,
    nabLowFp: nab.lowFp,
    nabLowFn: nab.lowFn,
    missedCps: nab.missed,
    falseCps: nab.falsePositives,
    changePoints: nab.windows,
    alarmsPerDayAnomalyFree: perDay,
    alarmTimePctAnomalyFree: alarmPct,
    rowsPerS: rows / seconds,
    events,
  };
}

/**
 * Sensitivity of T²+Q to α and `consecutive` (TWINLOOP_SKAB_SWEEP=1). For reading only: it uses the
 * labels, so picking the best cell would be tuning on the test set; the headline rows above keep
 * the parameters fixed by rule.
 */
function sensitivity(data: { scored: SkabFile[]; anomalyFree?: SkabFile }): string[] {
  const lines = [
    'Sensitivity of T²+Q (0.9 variance) — uses the labels, NOT used to choose parameters: F1 / FAR % / MAR % / NAB std',
    '| α \\ consecutive | 1 | 3 | 5 | 10 |',
    '|---|---|---|---|---|',
  ];
  for (const alpha of [0.05, 0.01, 0.001, 0.0001]) {
    const cells = [1, 3, 5, 10].map((consecutive) => {
      const r = evaluate({ name: '', config: { statistics: 'both', varianceFraction: 0.9, alpha, consecutive } }, { scored: data.scored });
      return `${f2(r.f1)} / ${r.farPct.toFixed(1)} / ${r.marPct.toFixed(1)} / ${r.nabStandard.toFixed(1)}`;
    });
    lines.push(`| ${alpha} | ${cells.join(' | ')} |`);
  }
  return lines;
}

function f2(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : 'n/a';
}

export async function run(): Promise<BenchRow[]> {
  const dir = skabDir();
  if (!existsSync(dir)) {
    return [{ suite: SUITE, case: 'SKAB data missing', note: `no SKAB data at ${dir} (set TWINLOOP_SKAB_DIR)` }];
  }
  const data = loadSkab(dir);
  const rows: BenchRow[] = [];
  const table: string[] = [
    `SKAB: ${data.scored.length} files (valve1 + other), first ${FIT_ROWS} rows fit, rest scored; counts summed over files`,
    '| detector | F1 | FAR % | MAR % | NAB std | NAB lowFP | NAB lowFN | missed CPs | FP CPs | anomaly-free: alarms/day, % time in alarm |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // Reference point: a detector that always alarms. The test part is ~53 % anomalous, so its F1 is
  // high; F1 alone does not rank detectors on SKAB, FAR/MAR and the NAB score must be read with it.
  const always = pointwise(
    data.scored.map((f) =>
      confusion(
        f.anomaly.slice(FIT_ROWS),
        f.anomaly.slice(FIT_ROWS).map(() => 1),
      ),
    ),
  );
  table.push(`| always alarm (reference) | ${f2(always.f1)} | ${f2(always.farPct)} | ${f2(always.marPct)} | | | | | | |`);
  rows.push({
    suite: SUITE,
    case: 'always alarm (reference)',
    baseline: true,
    note: `F1 ${f2(always.f1)} FAR ${f2(always.farPct)} % MAR ${f2(always.marPct)} %: what anomaly prevalence alone gives`,
  });
  for (const spec of DETECTORS) {
    const r = evaluate(spec, data);
    const lb = spec.leaderboard;
    table.push(
      `| ${r.detector} | ${f2(r.f1)} | ${f2(r.farPct)} | ${f2(r.marPct)} | ${f2(r.nabStandard)} | ${f2(r.nabLowFp)} | ${f2(r.nabLowFn)} | ${r.missedCps}/${r.changePoints} | ${r.falseCps} | ${f2(r.alarmsPerDayAnomalyFree)}, ${f2(r.alarmTimePctAnomalyFree)} % |`,
    );
    if (lb)
      table.push(
        `| leaderboard ${spec.name.split(' ')[0]} (34 files) | ${f2(lb.f1)} | ${f2(lb.farPct)} | ${f2(lb.marPct)} | ${f2(lb.nab)} | | | | | |`,
      );
    rows.push({
      suite: SUITE,
      case: spec.name,
      count: data.scored.reduce((s, f) => s + f.tsMs.length, 0),
      throughputPerS: r.rowsPerS,
      ...memory(),
      note:
        `F1 ${f2(r.f1)} FAR ${f2(r.farPct)} % MAR ${f2(r.marPct)} % (leaderboard ${lb ? `${lb.f1}/${lb.farPct}/${lb.marPct}` : 'n/a'}); ` +
        `NAB std ${f2(r.nabStandard)} lowFP ${f2(r.nabLowFp)} lowFN ${f2(r.nabLowFn)}${lb ? ` (lb ${lb.nab})` : ''}; ` +
        `missed ${r.missedCps}/${r.changePoints} CPs, ${r.falseCps} FP CPs; ${f2(r.alarmsPerDayAnomalyFree)} alarms/day and ${f2(r.alarmTimePctAnomalyFree)} % time in alarm anomaly-free; ${data.scored.length} files, rows/s incl. fit; classified events: ${Object.entries(
          r.events,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
    });
  }
  if (process.env.TWINLOOP_SKAB_SWEEP === '1') table.push('', ...sensitivity(data));
  table.push('', 'Classified alarm events (all scored files):');
  for (const row of rows)
    if (row.note?.includes('classified events')) table.push(`- ${row.case}: ${row.note.split('classified events: ')[1]}`);
  process.stdout.write(table.join('\n') + '\n');
  return rows;
}

if (require.main === module) {
  run().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
