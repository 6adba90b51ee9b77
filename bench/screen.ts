/**
 * Screening benchmark: the composed screen step (target ≥ 1,000,000 readings/s on one core),
 * `Screener.step` (the step plus stale timers: the one call twin-screen makes per reading), each
 * check alone, and the twin-screen node in an embedded Node-RED (through
 * node-red-node-test-helper) against a bare custom pass-through node (bench/pass-node.ts), side by
 * side in alternating rounds (target ≥ 90 % of its rate, issue 14).
 * Baselines, measured in the same run: a trivial pass-through `(r) => ({ ...r })` over the same
 * readings, and the bare pass-through node. Bounded to roughly 45 s.
 *
 * Data: 100 tags (10 assets × 10), round-robin, sine + noise, with 1 % spikes, 0.2 % duplicate and
 * 0.1 % out-of-order timestamps and a few range violations, every check switched on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import { screenInit, screenStep } from '../runtime/ingest/screen/screen.js';
import { Screener } from '../runtime/ingest/screen/screener.js';
import { validateScreenConfig, type TagChecks } from '../runtime/ingest/screen/config.js';
import { rangeStep } from '../runtime/ingest/screen/range.js';
import { rateInit, rateStep } from '../runtime/ingest/screen/rate.js';
import { stuckInit, stuckStep } from '../runtime/ingest/screen/stuck.js';
import { spikeInit, spikeStep } from '../runtime/ingest/screen/spike.js';
import { orderInit, orderStep } from '../runtime/ingest/screen/order.js';
import { staleInit, staleStep } from '../runtime/ingest/screen/stale.js';
import { batchRow, measureBatches, progress, type BenchRow, type Measured } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';
import { prng } from './prng.js';

const SUITE = 'screen';
const N = 300_000;
const TAGS = 100;
const BATCH = 1000;
const TARGET_PER_S = 1_000_000;
/** Messages in flight per round trip in the Node-RED cases. */
const NR_BATCH = 100;
/** Outputs are stored here so the JIT cannot drop the allocation of an unused result. */
const keep: unknown[] = new Array(1024);

const CONFIG = {
  lowLimit: 0,
  highLimit: 200,
  maxRatePerS: 50,
  stuckSamples: 30,
  stuckTolerance: 0,
  spikeWindow: 11,
  spikeK: 3,
  spikeMinDelta: 0.05,
  staleAfterMs: 30_000,
  maxFutureMs: 5_000,
};

function makeReadings(): { readings: Reading[]; tagIx: Int32Array; lastTsMs: number } {
  const rand = prng(42);
  const readings: Reading[] = new Array(N);
  const tagIx = new Int32Array(N);
  const t0 = Date.UTC(2026, 0, 1);
  const lastTs = new Float64Array(TAGS);
  const assets = Array.from({ length: 10 }, (_, i) => `site/area/line${i}/extruder`);
  const tags = Array.from({ length: 10 }, (_, i) => `zone${i}_temp`);
  for (let i = 0; i < N; i++) {
    const k = i % TAGS;
    const step = Math.floor(i / TAGS);
    let tsMs = t0 + step * 1000 + k;
    const u = rand();
    if (u < 0.002 && step > 0)
      tsMs = lastTs[k]; // duplicate
    else if (u < 0.003 && step > 1)
      tsMs = lastTs[k] - 1500; // out of order
    else lastTs[k] = tsMs;
    let value = 100 + 20 * Math.sin(step / 50 + k) + (rand() - 0.5);
    if (rand() < 0.01) value += rand() < 0.5 ? -40 : 40; // spike
    if (rand() < 0.0005) value = 250; // range
    readings[i] = { asset: assets[k % 10], tag: tags[Math.floor(k / 10)], value, unit: 'degC', tsMs, quality: 'good', source: 'bench' };
    tagIx[i] = k;
  }
  return { readings, tagIx, lastTsMs: t0 + (N / TAGS) * 1000 };
}

const measure = (budgetMs: number, reset: () => void, pass: (lo: number, hi: number) => number): Measured =>
  measureBatches(budgetMs, N, BATCH, reset, pass);
const row = (name: string, m: Measured, extra: Partial<BenchRow> = {}, note = ''): BenchRow => batchRow(SUITE, BATCH, name, m, extra, note);

/**
 * twin-screen in an embedded Node-RED against a bare custom pass-through node, side by side in
 * alternating rounds (bench/node-red-helper.ts), each sending every message on to a helper node.
 * Target (issue 14): ≥ 90 % of the bare node's rate.
 */
async function nodeRedRows(readings: Reading[], roundMs: number, rounds: number): Promise<BenchRow[]> {
  const built = [
    join(__dirname, '..', 'nodes', 'twin-screen', 'twin-screen.js'),
    join(__dirname, '..', 'dist', 'nodes', 'twin-screen', 'twin-screen.js'),
  ];
  const screenPath = built.find((p) => existsSync(p));
  if (!screenPath) return [{ suite: SUITE, case: 'twin-screen node', note: 'not built: run npx tsup first' }];

  const modules = [require(join(__dirname, 'pass-node.js')), require(screenPath)];

  // Fresh event times on every pass over the data, so the screen does not see the replay as duplicates.
  const lapMs = (readings.length / TAGS) * 1000 + 10_000;
  return compareNodeChains({
    suite: SUITE,
    modules,
    chains: [
      {
        name: 'bare custom pass-through node, 1 node',
        baseline: true,
        head: 'pass',
        sink: 'sinkPass',
        nodes: [{ id: 'pass', type: 'bench-pass', wires: [['sinkPass']] }],
      },
      {
        name: 'twin-screen node (all checks on), 1 node',
        head: 'screen',
        sink: 'sinkScreen',
        nodes: [{ id: 'screen', type: 'twin-screen', ...CONFIG, wires: [['sinkScreen']] }],
      },
    ],
    message: (i) => {
      const r = readings[i % readings.length];
      return { topic: `${r.asset}/${r.tag}`, payload: { ...r, tsMs: r.tsMs + Math.floor(i / readings.length) * lapMs } };
    },
    roundMs,
    rounds,
    batch: NR_BATCH,
    targetRatio: 0.9,
  });
}

export async function run(): Promise<BenchRow[]> {
  progress('screen: generating readings');
  const { readings, tagIx, lastTsMs } = makeReadings();
  const nowMs = lastTsMs + 1;
  const rows: BenchRow[] = [];
  const budgetMs = 2000;

  // Baseline: the cheapest thing a screen could be, an object copy per reading.
  progress('screen: baseline');
  const base = measure(
    budgetMs,
    () => undefined,
    (lo, hi) => {
      let s = 0;
      for (let i = lo; i < hi; i++) {
        const out = { ...readings[i] };
        keep[i & 1023] = out;
        s += out.value > 0 ? 1 : 0;
      }
      return s;
    },
  );
  const basePerS = base.perS;
  rows.push(row('pass-through (r) => ({ ...r })', base, { baseline: true }));

  progress('screen: composed step');
  let state = screenInit(CONFIG);
  const composed = measure(
    budgetMs,
    () => (state = screenInit(CONFIG)),
    (lo, hi) => {
      let flagged = 0;
      for (let i = lo; i < hi; i++) {
        const out = screenStep(state, readings[i], nowMs);
        keep[i & 1023] = out;
        if (out !== readings[i]) flagged++;
      }
      return flagged;
    },
  );
  const flaggedShare = composed.sink / (composed.count + N || 1);
  rows.push(
    row(
      'screenStep, composed (all checks, 100 tags)',
      composed,
      {},
      `${(flaggedShare * 100).toFixed(2)} % flagged; ${(composed.perS / basePerS).toFixed(2)}× baseline; target ${TARGET_PER_S.toLocaleString('en-US')}/s ${composed.perS >= TARGET_PER_S ? 'met' : 'NOT met'}`,
    ),
  );

  // What twin-screen calls per reading: the composed step plus the stale-timer bookkeeping.
  progress('screen: Screener.step');
  // A virtual clock frozen at nowMs: stale timers are armed (once per tag) but never due during the run.
  const clock = { now: () => nowMs, schedule: () => ({ unsubscribe() {} }) } as never;
  let screener = new Screener(CONFIG, () => undefined, clock);
  const stepped = measure(
    budgetMs,
    () => (screener = new Screener(CONFIG, () => undefined, clock)),
    (lo, hi) => {
      let flagged = 0;
      for (let i = lo; i < hi; i++) {
        const out = screener.step(readings[i]);
        keep[i & 1023] = out;
        if (out !== readings[i]) flagged++;
      }
      return flagged;
    },
  );
  rows.push(
    row(
      'Screener.step (per reading in twin-screen: screenStep + stale timers), 100 tags',
      stepped,
      {},
      `${(stepped.perS / basePerS).toFixed(2)}× baseline`,
    ),
  );

  // Each check alone: state by tag index (no map lookup), so the figure is the check itself.
  const c: TagChecks = validateScreenConfig(CONFIG);
  type Check = { name: string; init: () => unknown; step: (s: never, r: Reading) => { flag?: unknown } };
  const checks: Check[] = [
    { name: 'range', init: () => null, step: (s, r) => rangeStep(s, r, c) },
    { name: 'rate', init: rateInit, step: (s, r) => rateStep(s, r, c) },
    { name: 'stuck', init: stuckInit, step: (s, r) => stuckStep(s, r, c) },
    { name: `spike (Hampel, window ${c.spikeWindow})`, init: () => spikeInit(c), step: (s, r) => spikeStep(s, r, c) },
    { name: 'order (duplicate, out-of-order, future)', init: orderInit, step: (s, r) => orderStep(s, r, c, nowMs) },
    { name: 'stale (bookkeeping per reading)', init: staleInit, step: (s, r) => staleStep(s, r, c, nowMs) },
  ];
  for (const check of checks) {
    progress(`screen: ${check.name}`);
    let states: unknown[] = [];
    const m = measure(
      1000,
      () => (states = Array.from({ length: TAGS }, check.init)),
      (lo, hi) => {
        let flagged = 0;
        for (let i = lo; i < hi; i++) if (check.step(states[tagIx[i]] as never, readings[i]).flag !== undefined) flagged++;
        return flagged;
      },
    );
    rows.push(row(`check alone: ${check.name}`, m, {}, `${(m.perS / basePerS).toFixed(2)}× baseline`));
  }

  rows.push(...(await nodeRedRows(readings, 2000, 6)));
  return rows;
}

if (require.main === module) {
  run().then(
    (rows) => {
      for (const r of rows) console.log(JSON.stringify(r));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
