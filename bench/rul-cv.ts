/**
 * RUL cross-validation on C-MAPSS through the command line, as a plant would use it: the training
 * engines go to a CSV and `twinloop fit`, the held-out engines, each cut at a random cycle like
 * NASA's test set, go to another CSV and `twinloop replay` through a twin-mqtt-in → twin-rul
 * flow; the last estimate of each engine is its forecast at the cut. Used by bench/rul-accuracy.ts
 * and test/integration/rul-fd001.spec.ts. Not a benchmark itself (no `run`).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CMAPSS_ORIGIN_MS, cmapssCsv } from '../bin/cmapss-to-csv.js';
import type { UnitHistory } from '../runtime/maintenance/health-index.js';
import type { RulEstimate } from '../runtime/model/maintenance.js';

/** The CLI under test: the built one, or another build (an installed package) named by TWINLOOP_CLI. */
export const TWINLOOP_CLI =
  process.env.TWINLOOP_CLI ?? join(__dirname, '..', ...(basename(dirname(__dirname)) === 'dist' ? [] : ['dist']), 'bin', 'twinloop.js');

/** NASA's FD001 test engines: at least 31 cycles observed, true RUL 7..145 cycles. */
export const MIN_OBSERVED = 31;

/** Rows observed at the cut: a true RUL drawn uniformly in 7..145 (as far as the engine's life allows). */
export function nasaCutRows(len: number, u: number): number {
  const maxRul = Math.min(145, len - MIN_OBSERVED);
  return len - (7 + Math.floor(u * (maxRul - 7 + 1)));
}

export interface CvCase {
  asset: string;
  fold: number;
  /** cycles */
  trueRul: number;
  pred: number;
  p10: number;
  p90: number;
  quality: string;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TWINLOOP_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function mustRun(args: string[]): Promise<Run> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`twinloop ${args[0]} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

/** The replay flow: every reading of the file into twin-rul (the broker is never contacted in a replay). */
export function rulFlow(modelPath: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'rul' },
    { id: 'brk', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:1' },
    { id: 'in', type: 'twin-mqtt-in', z: 'tab', broker: 'brk', mode: 'json', pattern: '{asset+}/{tag}', wires: [['rul']] },
    { id: 'rul', type: 'twin-rul', z: 'tab', modelPath, wires: [[]] },
  ];
}

export interface FoldResult {
  cases: CvCase[];
  fit: Run;
  replay: Run;
  estimates: number;
}

/**
 * One fold: fit on `train`, replay `held` cut at `cutRows[i]` rows, forecast = the engine's last
 * estimate. `cycleMs` is the nominal cycle (the CSV's time step), `capCycles` the RUL cap.
 */
export async function runFold(o: {
  dir: string;
  fold: number;
  train: UnitHistory[];
  held: UnitHistory[];
  cutRows: number[];
  method: string;
  capCycles: number;
  seed: number;
  cycleMs: number;
}): Promise<FoldResult> {
  const trainCsv = join(o.dir, `train-${o.fold}.csv`);
  const testCsv = join(o.dir, `test-${o.fold}.csv`);
  const model = join(o.dir, `model-${o.method}-${o.fold}.json`);
  const flow = join(o.dir, `flow-${o.method}-${o.fold}.json`);
  const out = join(o.dir, `out-${o.method}-${o.fold}.jsonl`);
  writeFileSync(trainCsv, cmapssCsv(o.train));
  writeFileSync(
    testCsv,
    cmapssCsv(o.held.map((u, i) => ({ ...u, tsMs: u.tsMs.slice(0, o.cutRows[i]), values: u.values.slice(0, o.cutRows[i]) }))),
  );
  writeFileSync(flow, JSON.stringify(rulFlow(model)));
  const fit = await mustRun([
    'fit',
    '--kind',
    'rul',
    '--input',
    trainCsv,
    '--asset-column',
    'engine',
    '--time-column',
    'time',
    '--method',
    o.method,
    '--rul-cap',
    String(o.capCycles),
    '--seed',
    String(o.seed),
    '--out',
    model,
  ]);
  const replay = await mustRun([
    'replay',
    '--flow',
    flow,
    '--input',
    testCsv,
    '--asset-column',
    'engine',
    '--time-column',
    'time',
    '--out',
    out,
  ]);
  const last = new Map<string, RulEstimate>();
  let estimates = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (line === '') continue;
    const m = JSON.parse(line) as { nodeType: string; payload: RulEstimate };
    if (m.nodeType !== 'twin-rul') continue;
    estimates++;
    last.set(m.payload.asset, m.payload);
  }
  const cases = o.held.map((u, i) => {
    const e = last.get(u.asset);
    if (!e) throw new Error(`fold ${o.fold}: no estimate for ${u.asset} (replay stderr: ${replay.stderr.trim().slice(-300)})`);
    const rows = o.cutRows[i];
    if (e.tsMs !== CMAPSS_ORIGIN_MS + u.tsMs[rows - 1]) throw new Error(`fold ${o.fold}: ${u.asset}'s last estimate is not at its cut`);
    return {
      asset: u.asset,
      fold: o.fold,
      trueRul: (u.tsMs[u.tsMs.length - 1] - u.tsMs[rows - 1]) / o.cycleMs,
      pred: e.rulMs / o.cycleMs,
      p10: e.rulP10Ms / o.cycleMs,
      p90: e.rulP90Ms / o.cycleMs,
      quality: e.quality,
    };
  });
  return { cases, fit, replay, estimates };
}

export const rmse = (cs: CvCase[], cap = Infinity) =>
  Math.sqrt(cs.reduce((s, c) => s + (c.pred - Math.min(c.trueRul, cap)) ** 2, 0) / cs.length);
/** PHM08 score: d = predicted − true; late (d > 0) costs exp(d/10) − 1, early exp(−d/13) − 1. */
export const phm08 = (cs: CvCase[], cap = Infinity) =>
  cs.reduce((s, c) => {
    const d = c.pred - Math.min(c.trueRul, cap);
    return s + (d < 0 ? Math.exp(-d / 13) - 1 : Math.exp(d / 10) - 1);
  }, 0);
export const coverage = (cs: CvCase[]) => cs.filter((c) => c.trueRul >= c.p10 && c.trueRul <= c.p90).length / cs.length;
