/**
 * SKAB accuracy through `twinloop replay` (issue 3): every SKAB file is replayed, as a person would
 * run it, by the built CLI in a child process over the flow examples/skab/skab-flow.json
 * (twin-mqtt-in → twin-drift, Hotelling T² + SPE over the 8 sensors, reference = first 400 rows),
 * and scored with SKAB's protocol (bench/skab-score.ts): point-wise F1 / FAR / MAR with counts
 * summed over the 30 labelled files, the NAB-style change-point score (60 s windows right of each
 * label; standard, low FP, low FN), and false alarms per day on the anomaly-free file. The same
 * parameters go through the runtime directly (bench/skab.ts) in the same run; the two must agree row
 * for row, because the replay runs in event time.
 *
 * From the JSON lines to a per-row alarm (see alarmSeries):
 *  - twin-drift's output 2 carries one AnomalyScore per scored row (tag `multivariate`, tsMs = the
 *    row's time; the flow sends every score: scoreEvery 1, scoreMinChange 0). Its `score` is
 *    T²/limit, SPE/limit or the larger of the two (per `statistics`), so the row is out of control
 *    exactly when score > 1 (the runtime's test is statistic > limit).
 *  - Each score is placed on the CSV row with the same time (SKAB times are unique and ascending;
 *    any other case is an error). The rows before the first score (the 400 reference rows) are not
 *    scored, as the protocol says; every later row must have exactly one score.
 *  - The alarm is the runtime's rule replayed on that series with the flow's `consecutive` (c): on
 *    after c out-of-control rows in a row, off after c in-control rows in a row. The node itself does
 *    not send the alarm flag per row; it sends a DriftEvent (output 1) per alarm, whose startTsMs is
 *    the first out-of-control row of the run, so every event must sit c − 1 rows before an alarm's
 *    rising edge: this is checked (an alarm raised in the file's last rows may have no event yet).
 *  - Predicted change points for the NAB score: the rising edges of that alarm (as bench/skab.ts).
 *
 * Run alone: `npx tsup && node dist/bench/skab-replay.js` (or `npx tsx bench/skab-replay.ts`; the
 * CLI is always the built one). TWINLOOP_SKAB_REPLAY_T2=1 also replays a T²-only copy of the flow.
 * Writes bench/results/skab.md. Data: ../shared/data/skab (TWINLOOP_SKAB_DIR), never copied.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { memory, progress, progressDone, type BenchRow } from './harness.js';
import { DETECTORS, evaluate, loadSkab, runFile, skabDir, TAGS, type SkabFile, type SkabResult } from './skab.js';
import { confusion, nabScore, pointwise, risingEdges, type ConfusionCounts, type NabFile } from './skab-score.js';

const SUITE = 'skab-replay';
const FIT_ROWS = 400;
const LEADERBOARD = {
  t2: { f1: 0.66, farPct: 19.21, marPct: 42.6, nab: 19.54, nabLowFp: 10.2, nabLowFn: 24.31, missed: 70, fps: 106 },
  t2q: { f1: 0.76, farPct: 26.62, marPct: 24.92, nab: 25.35, nabLowFp: 14.51, nabLowFn: 31.33, missed: 72, fps: 232 },
};

export function projectRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

export const FLOW_PATH = join(projectRoot(), 'examples', 'skab', 'skab-flow.json');
export const BIN = join(projectRoot(), 'dist', 'bin', 'twinloop.js');

/** One JSON line of `twinloop replay`. */
export interface ReplayLine {
  nodeId: string;
  nodeType: string;
  port: number;
  topic: string;
  payload: Record<string, unknown>;
}

/** The twin-drift node of a flow and its multivariate parameters as numbers / strings. */
export interface FlowDetector {
  nodeId: string;
  statistics: 't2' | 'spe' | 'both';
  consecutive: number;
  /** The parameters as the runtime's mvInit takes them (for the runtime-direct comparison). */
  mvConfig: Record<string, unknown>;
}

export function readFlowDetector(flowPath = FLOW_PATH): FlowDetector {
  const flow = JSON.parse(readFileSync(flowPath, 'utf8')) as Record<string, unknown>[];
  const drift = flow.filter((n) => n.type === 'twin-drift' && n.method === 'hotelling-t2+spe');
  if (drift.length !== 1) throw new Error(`${flowPath}: expected one twin-drift node with method hotelling-t2+spe, found ${drift.length}`);
  const node = drift[0];
  if (String(node.scoreEvery ?? '1') !== '1' || Number(node.scoreMinChange ?? 0) !== 0) {
    throw new Error(`${flowPath}: twin-drift must send every score (scoreEvery 1, scoreMinChange 0) for a per-row alarm`);
  }
  const p = node.params as Record<string, string>;
  const num = (k: string, dflt: number) => (p[k] === undefined || p[k] === '' ? dflt : Number(p[k]));
  const statistics = (p.statistics || 'both') as FlowDetector['statistics'];
  const mvConfig = {
    statistics,
    varianceFraction: num('varianceFraction', 0.9),
    alpha: num('alpha', 0.01),
    consecutive: num('consecutive', 3),
    referenceRows: num('referenceRows', 400),
    maxAgeMs: num('maxAgeMs', 5000),
  };
  const tags = String(p.tags)
    .split(',')
    .map((s) => s.trim());
  if (tags.join('|') !== TAGS.join('|'))
    throw new Error(`${flowPath}: the flow's tags (${tags.join(', ')}) are not SKAB's 8 sensors in order`);
  if (mvConfig.referenceRows !== FIT_ROWS)
    throw new Error(`${flowPath}: referenceRows ${mvConfig.referenceRows}, the protocol fits on ${FIT_ROWS}`);
  return { nodeId: String(node.id), statistics, consecutive: mvConfig.consecutive, mvConfig };
}

export interface ReplayRun {
  lines: ReplayLine[];
  stderr: string;
  wallMs: number;
}

/** `twinloop replay` over one SKAB file, as a child process; the JSON lines from --out. */
export async function replayFile(csvPath: string, flowPath = FLOW_PATH, tmpDir?: string): Promise<ReplayRun> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsup)`);
  const dir = tmpDir ?? mkdtempSync(join(tmpdir(), 'twinloop-skab-replay-'));
  const out = join(dir, `${basename(dirname(csvPath))}-${basename(csvPath, '.csv')}.jsonl`);
  const header = readFileSync(csvPath, 'utf8').split(/\r?\n/, 1)[0].split(';');
  // The label columns are not tags; the anomaly-free file has none.
  const skip = ['anomaly', 'changepoint'].filter((c) => header.includes(c)).flatMap((c) => ['--skip-column', c]);
  const args = [
    BIN,
    'replay',
    '--flow',
    flowPath,
    '--input',
    csvPath,
    '--delimiter',
    ';',
    '--time-column',
    'datetime',
    '--asset',
    'skab',
    ...skip,
    '--out',
    out,
  ];
  const t0 = Date.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  const wallMs = Date.now() - t0;
  try {
    if (code !== 0) throw new Error(`twinloop replay ${csvPath} exited with ${code}: ${stderr.slice(-2000)}`);
    const text = readFileSync(out, 'utf8');
    const lines = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as ReplayLine);
    return { lines, stderr, wallMs };
  } finally {
    if (tmpDir) rmSync(out, { force: true });
    else rmSync(dir, { recursive: true, force: true });
  }
}

export interface AlarmSeries {
  /** 0/1 alarm of each scored row (CSV rows FIT_ROWS…end). */
  flags: number[];
  /** Times of the scored rows. */
  tsMs: number[];
  /** The scores, one per scored row. */
  scores: number[];
  /** DriftEvents from output 1. */
  events: number;
  /** Events whose startTsMs lies c − 1 rows before a rising edge of the alarm. */
  eventsAtOnsets: number;
  risingEdges: number;
}

/**
 * The node's outputs → one alarm flag per scored CSV row (see the file comment). Throws when the
 * scores do not cover the scored rows one to one.
 */
export function alarmSeries(lines: ReplayLine[], rowTsMs: number[], det: FlowDetector): AlarmSeries {
  const rowOf = new Map<number, number>();
  rowTsMs.forEach((t, i) => {
    if (rowOf.has(t)) throw new Error(`two rows at ${new Date(t).toISOString()}: scores cannot be placed on rows by time`);
    rowOf.set(t, i);
  });
  const fromDrift = lines.filter((l) => l.nodeId === det.nodeId);
  const scoreLines = fromDrift.filter((l) => l.port === 1);
  const eventLines = fromDrift.filter((l) => l.port === 0);
  const scoreByRow: (number | undefined)[] = new Array(rowTsMs.length);
  for (const l of scoreLines) {
    const i = rowOf.get(l.payload.tsMs as number);
    if (i === undefined) throw new Error(`a score at ${String(l.payload.tsMs)} matches no row`);
    if (scoreByRow[i] !== undefined) throw new Error(`two scores for row ${i}`);
    scoreByRow[i] = l.payload.score as number;
  }
  const first = scoreByRow.findIndex((s) => s !== undefined);
  if (first !== FIT_ROWS)
    throw new Error(`the first score is on row ${first}, expected ${FIT_ROWS} (rows 0…${FIT_ROWS - 1} fit the model)`);
  const flags: number[] = [];
  const scores: number[] = [];
  const c = det.consecutive;
  let alarm = false;
  let above = 0;
  let below = 0;
  for (let i = FIT_ROWS; i < rowTsMs.length; i++) {
    const s = scoreByRow[i];
    if (s === undefined) throw new Error(`row ${i} (${new Date(rowTsMs[i]).toISOString()}) has no score`);
    scores.push(s);
    if (s > 1) {
      below = 0;
      above++;
      if (!alarm && above >= c) alarm = true;
    } else {
      below++;
      if (!alarm) above = 0;
      else if (below >= c) {
        alarm = false;
        above = 0;
      }
    }
    flags.push(alarm ? 1 : 0);
  }
  const ts = rowTsMs.slice(FIT_ROWS);
  const edges = new Set<number>();
  for (let k = 0; k < flags.length; k++) if (flags[k] === 1 && (k === 0 || flags[k - 1] === 0)) edges.add(k);
  let atOnsets = 0;
  for (const e of eventLines) {
    const i = rowOf.get(e.payload.startTsMs as number);
    if (i !== undefined && edges.has(i - FIT_ROWS + c - 1)) atOnsets++;
  }
  return { flags, tsMs: ts, scores, events: eventLines.length, eventsAtOnsets: atOnsets, risingEdges: edges.size };
}

/**
 * The same metrics as the runtime-direct bench (rowsPerS: per second of replay wall time, Node-RED start
 * included), plus how the replay compares with it.
 */
export interface ReplayEval extends Omit<SkabResult, 'detector' | 'events'> {
  /** Files whose replay alarm differs from the runtime-direct one, and the rows that differ. */
  filesDiffering: string[];
  rowsDiffering: number;
  rowsCompared: number;
  events: number;
  eventsAtOnsets: number;
  risingEdges: number;
  wallS: number;
}

/** F1 etc. of one file's alarm against its labels (the scored part). */
export function fileScore(f: SkabFile, flags: number[]): ConfusionCounts & { f1: number } {
  const c = confusion(f.anomaly.slice(FIT_ROWS), flags);
  return { ...c, f1: pointwise([c]).f1 };
}

async function pool<T, R>(items: T[], width: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

export async function evaluateReplay(
  flowPath: string,
  data: { scored: SkabFile[]; anomalyFree?: SkabFile },
  dir: string,
  label: string,
): Promise<ReplayEval> {
  const det = readFlowDetector(flowPath);
  const base = skabDir();
  const files = [...data.scored, ...(data.anomalyFree ? [data.anomalyFree] : [])];
  const pathOf = (f: SkabFile) => (f === data.anomalyFree ? join(base, 'anomaly-free', 'anomaly-free.csv') : join(base, f.name));
  let done = 0;
  const t0 = Date.now();
  const width = Math.max(1, Math.min(4, cpus().length));
  const series = await pool(files, width, async (f) => {
    const r = await replayFile(pathOf(f), flowPath, dir);
    const s = alarmSeries(r.lines, f.tsMs, det);
    progress(`skab-replay ${label}: ${++done}/${files.length} files (${f.name})`);
    return s;
  });
  const wallS = (Date.now() - t0) / 1000;
  const counts: ConfusionCounts[] = [];
  const nabFiles: NabFile[] = [];
  const ev: Pick<ReplayEval, 'filesDiffering' | 'rowsDiffering' | 'rowsCompared' | 'events' | 'eventsAtOnsets' | 'risingEdges'> = {
    filesDiffering: [],
    rowsDiffering: 0,
    rowsCompared: 0,
    events: 0,
    eventsAtOnsets: 0,
    risingEdges: 0,
  };
  files.forEach((f, k) => {
    const s = series[k];
    // The same file through the runtime step function (bench/skab.ts), compared row for row.
    const direct = runFile(f, det.mvConfig);
    let diff = direct.flags.length === s.flags.length ? 0 : Math.max(direct.flags.length, s.flags.length);
    if (diff === 0) for (let i = 0; i < s.flags.length; i++) if (direct.flags[i] !== s.flags[i]) diff++;
    if (diff > 0) ev.filesDiffering.push(f.name);
    ev.rowsDiffering += diff;
    ev.rowsCompared += s.flags.length;
    ev.events += s.events;
    ev.eventsAtOnsets += s.eventsAtOnsets;
    ev.risingEdges += s.risingEdges;
    if (f === data.anomalyFree) return;
    counts.push(confusion(f.anomaly.slice(FIT_ROWS), s.flags));
    const cps = f.tsMs.filter((_, i) => i >= FIT_ROWS && f.changepoint[i] === 1);
    nabFiles.push({ tsMs: s.tsMs, changePointsMs: cps, predictedMs: risingEdges(s.tsMs, s.flags) });
  });
  const pw = pointwise(counts);
  const nab = nabScore(nabFiles, 60_000);
  let perDay = NaN;
  let alarmPct = NaN;
  if (data.anomalyFree) {
    const s = series[files.length - 1];
    perDay = risingEdges(s.tsMs, s.flags).length / ((s.tsMs[s.tsMs.length - 1] - s.tsMs[0]) / 86_400_000);
    alarmPct = (100 * s.flags.reduce((a, b) => a + b, 0)) / s.flags.length;
  }
  const rows = files.reduce((n, f) => n + f.tsMs.length, 0);
  return {
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
    ...ev,
    rowsPerS: rows / wallS,
    wallS,
  };
}

function f2(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : 'n/a';
}

function tableRow(
  name: string,
  r: Pick<
    SkabResult,
    | 'f1'
    | 'farPct'
    | 'marPct'
    | 'nabStandard'
    | 'nabLowFp'
    | 'nabLowFn'
    | 'missedCps'
    | 'falseCps'
    | 'changePoints'
    | 'alarmsPerDayAnomalyFree'
    | 'alarmTimePctAnomalyFree'
  >,
): string {
  return `| ${name} | ${f2(r.f1)} | ${f2(r.farPct)} | ${f2(r.marPct)} | ${f2(r.nabStandard)} | ${f2(r.nabLowFp)} | ${f2(r.nabLowFn)} | ${r.missedCps}/${r.changePoints} | ${r.falseCps} | ${f2(r.alarmsPerDayAnomalyFree)} (${f2(r.alarmTimePctAnomalyFree)} % of time) |`;
}

function leaderboardRow(name: string, lb: (typeof LEADERBOARD)['t2q']): string {
  return `| ${name} | ${f2(lb.f1)} | ${f2(lb.farPct)} | ${f2(lb.marPct)} | ${f2(lb.nab)} | ${f2(lb.nabLowFp)} | ${f2(lb.nabLowFn)} | ${lb.missed}/127 | ${lb.fps} | |`;
}

const agree = (a: number, b: number) => Math.abs(a - b) <= 1e-9 || (Number.isNaN(a) && Number.isNaN(b));

export async function run(): Promise<BenchRow[]> {
  const dirData = skabDir();
  if (!existsSync(dirData))
    return [{ suite: SUITE, case: 'SKAB data missing', note: `no SKAB data at ${dirData} (set TWINLOOP_SKAB_DIR)` }];
  const data = loadSkab(dirData);
  const tmp = mkdtempSync(join(tmpdir(), 'twinloop-skab-replay-'));
  const rows: BenchRow[] = [];
  try {
    const flows: { label: string; path: string; lb: (typeof LEADERBOARD)['t2q']; lbName: string }[] = [
      { label: 'T²+Q', path: FLOW_PATH, lb: LEADERBOARD.t2q, lbName: 'T-squared+Q (PCA)' },
    ];
    if (process.env.TWINLOOP_SKAB_REPLAY_T2 === '1') {
      // The same flow with T² alone (statistics t2): a copy in the temp dir, nothing else changed.
      const flow = JSON.parse(readFileSync(FLOW_PATH, 'utf8')) as Record<string, unknown>[];
      for (const n of flow) if (n.type === 'twin-drift') (n.params as Record<string, string>).statistics = 't2';
      const p = join(tmp, 'skab-flow-t2.json');
      writeFileSync(p, JSON.stringify(flow));
      flows.push({ label: 'T²', path: p, lb: LEADERBOARD.t2, lbName: 'T-squared' });
    }
    const table: string[] = [
      `SKAB through \`twinloop replay\` (examples/skab/skab-flow.json: twin-mqtt-in → twin-drift hotelling-t2+spe, 0.9 variance, α 0.01, alarm after 3 rows): ${data.scored.length} labelled files (valve1 ${data.scored.filter((f) => f.name.startsWith('valve1')).length}, other ${data.scored.filter((f) => f.name.startsWith('other')).length}) + anomaly-free; first ${FIT_ROWS} rows of each file fit, the rest scored; counts summed over files (SKAB's aggregation); NAB window 60 s right of each change point. The leaderboard is over 34 files (also valve2, not in the shared copy), 127 change points.`,
      '',
      '| detector | F1 | FAR % | MAR % | NAB standard | NAB LowFP | NAB LowFN | missed CPs | FP CPs | anomaly-free: false alarms/day |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    const checks: string[] = [];
    for (const fl of flows) {
      const det = readFlowDetector(fl.path);
      const r = await evaluateReplay(fl.path, data, tmp, fl.label);
      progressDone();
      const direct = evaluate({ name: fl.label, config: det.mvConfig }, data);
      table.push(tableRow(`**${fl.label} via twinloop replay**`, r));
      table.push(tableRow(`${fl.label}, runtime direct (bench/skab.ts), same run`, direct));
      table.push(leaderboardRow(`leaderboard ${fl.lbName} (34 files)`, fl.lb));
      const same =
        r.filesDiffering.length === 0 &&
        (['f1', 'farPct', 'marPct', 'nabStandard', 'nabLowFp', 'nabLowFn', 'alarmsPerDayAnomalyFree'] as const).every((k) =>
          agree(r[k], direct[k]),
        ) &&
        r.missedCps === direct.missedCps &&
        r.falseCps === direct.falseCps;
      checks.push(
        `- ${fl.label}: replay vs runtime direct: ${same ? 'identical' : 'DIFFERENT'} — ${r.rowsDiffering} of ${r.rowsCompared} scored rows differ in alarm` +
          `${r.filesDiffering.length ? ` (files ${r.filesDiffering.join(', ')})` : ''}; ${r.events} DriftEvents, ${r.eventsAtOnsets} at an alarm onset (of ${r.risingEdges} onsets); ` +
          `${data.scored.length + (data.anomalyFree ? 1 : 0)} replays in ${r.wallS.toFixed(1)} s wall (${Math.round(r.rowsPerS)} rows/s incl. Node-RED start per file).`,
      );
      const pinned = DETECTORS.find(
        (d) =>
          JSON.stringify({ ...d.config, referenceRows: FIT_ROWS, maxAgeMs: 5000 }) ===
          JSON.stringify({ ...det.mvConfig, referenceRows: FIT_ROWS, maxAgeMs: 5000 }),
      );
      rows.push({
        suite: SUITE,
        case: `${fl.label} via twinloop replay`,
        count: data.scored.reduce((n, f) => n + f.tsMs.length, 0) + (data.anomalyFree?.tsMs.length ?? 0),
        throughputPerS: r.rowsPerS,
        ...memory(),
        note:
          `F1 ${f2(r.f1)} FAR ${f2(r.farPct)} % MAR ${f2(r.marPct)} % (leaderboard ${fl.lb.f1}/${fl.lb.farPct}/${fl.lb.marPct}); NAB std ${f2(r.nabStandard)} lowFP ${f2(r.nabLowFp)} lowFN ${f2(r.nabLowFn)} (lb ${fl.lb.nab}/${fl.lb.nabLowFp}/${fl.lb.nabLowFn}); ` +
          `missed ${r.missedCps}/${r.changePoints} CPs, ${r.falseCps} FP CPs; anomaly-free ${f2(r.alarmsPerDayAnomalyFree)} false alarms/day; ` +
          `runtime direct F1 ${f2(direct.f1)} NAB ${f2(direct.nabStandard)}: ${same ? 'identical' : `DIFFERENT (${r.rowsDiffering} rows)`}; parameters ${pinned ? `= bench/skab.ts '${pinned.name}'` : 'NOT one of bench/skab.ts DETECTORS'}; rows/s = replay wall time incl. Node-RED start`,
      });
      rows.push({
        suite: SUITE,
        case: `${fl.label} runtime direct (bench/skab.ts)`,
        baseline: true,
        count: data.scored.reduce((n, f) => n + f.tsMs.length, 0),
        throughputPerS: direct.rowsPerS,
        note: `F1 ${f2(direct.f1)} FAR ${f2(direct.farPct)} % MAR ${f2(direct.marPct)} %; NAB std ${f2(direct.nabStandard)} lowFP ${f2(direct.nabLowFp)} lowFN ${f2(direct.nabLowFn)}; ${f2(direct.alarmsPerDayAnomalyFree)} alarms/day anomaly-free`,
      });
    }
    table.push(
      '',
      ...checks,
      '',
      ...(flows.length > 1
        ? ['T² rows: the same flow with `statistics` t2 (a temporary copy; TWINLOOP_SKAB_REPLAY_T2=1), nothing else changed.', '']
        : []),
      'Alarm per row: output 2 of twin-drift gives one AnomalyScore per scored row (max of T²/limit and SPE/limit; T²/limit for T² alone), placed on the CSV row with the same time; a row is out of control when score > 1; the alarm rises after 3 out-of-control rows in a row and clears after 3 in-control rows (the runtime rule, `consecutive` read from the flow). Each DriftEvent (output 1) is checked to start 2 rows before an alarm onset. Predicted change points = rising edges of the alarm. Parameters fixed by rule (bench/skab.ts), not chosen on the labels.',
      '',
      `Data: SKAB (waico/SKAB, GPL-3.0; Kaggle DOI 10.34740/KAGGLE/DSV/1693952), read from ../shared/data/skab. Command: \`npx tsup && node dist/bench/skab-replay.js\`. Run ${new Date().toISOString().slice(0, 10)}.`,
    );
    const md = table.join('\n') + '\n';
    process.stdout.write(md);
    const results = join(projectRoot(), 'bench', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'skab.md'), `# SKAB accuracy through twinloop replay\n\n${md}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  run().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
