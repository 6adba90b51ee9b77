/**
 * Estimation benchmark (issue 3 targets): the 1-D Kalman update (target ≥ 1,000,000 readings/s on
 * one core), the local-trend (2-D) update (unrolled, and on the generic ml-matrix filter), the full
 * step `estimateStep` (the one call twin-estimate makes per reading), the twin-estimate node against
 * a bare custom pass-through node, and bytes of state per tag with 10,000 tags (bounded by maxTags).
 * Baselines, measured in the same run: an object copy per reading (for the in-process rows) and a
 * bare custom pass-through node (bench/pass-node.ts, for the node row). The two Node-RED chains are
 * loaded side by side and measured in alternating rounds, so machine noise hits both alike.
 * Bounded to about 45 s.
 *
 * Data: 100 tags (10 assets × 10), round-robin, 1 s apart per tag, a slow sine plus noise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Reading } from '../runtime/model/reading.js';
import { kf1, kf1Predict, kf1Update } from '../runtime/estimate/kalman1d.js';
import { LocalLevel } from '../runtime/estimate/local-level.js';
import { LocalTrend, LocalTrendMatrix } from '../runtime/estimate/local-trend.js';
import { validateEstimateConfig } from '../runtime/estimate/config.js';
import { estimateStep, estimatorInit } from '../runtime/estimate/step.js';
import { batchRow, measureBatches, memory, progress, progressDone, type BenchRow, type Measured } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';
import { prng } from './prng.js';

const SUITE = 'estimate';
const N = 200_000;
const TAGS = 100;
const BATCH = 1000;
const TARGET_1D_PER_S = 1_000_000;
/** Issue 14: every twin node alone at ≥ 90 % of a bare node's rate (issue 3 asked for 80 %, reported beside it). */
const NR_TARGET_RATIO = 0.9;
const NR_BATCH = 100;
const keep: unknown[] = new Array(1024);

const T0 = Date.UTC(2026, 0, 1);
function makeReadings(): { readings: Reading[]; values: Float64Array } {
  const rand = prng(7);
  const readings: Reading[] = new Array(N);
  const values = new Float64Array(N);
  const assets = Array.from({ length: 10 }, (_, i) => `site/area/line${i}/extruder`);
  const tags = Array.from({ length: 10 }, (_, i) => `zone${i}_temp`);
  for (let i = 0; i < N; i++) {
    const k = i % TAGS;
    const step = Math.floor(i / TAGS);
    const value = 200 + 5 * Math.sin(step / 100 + k) + (rand() - 0.5);
    values[i] = value;
    readings[i] = {
      asset: assets[k % 10],
      tag: tags[Math.floor(k / 10)],
      value,
      unit: 'degC',
      tsMs: T0 + step * 1000 + k,
      quality: 'good',
      source: 'bench',
    };
  }
  return { readings, values };
}

const measure = (budgetMs: number, n: number, reset: () => void, pass: (lo: number, hi: number) => number): Measured =>
  measureBatches(budgetMs, n, BATCH, reset, pass);
const row = (name: string, m: Measured, extra: Partial<BenchRow> = {}, note = ''): BenchRow => batchRow(SUITE, BATCH, name, m, extra, note);

// ------------------------------------------------------------------ memory per tag

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function stateBytesPerTag(cfg: Record<string, unknown>, tags: number, feedTags = tags): number {
  const gc = gcFn();
  const c = validateEstimateConfig({ maxTags: tags, ...cfg });
  const readings: Reading[] = [];
  for (let i = 0; i < feedTags; i++)
    readings.push({
      asset: 'site/area/line/asset',
      tag: `tag_${String(i).padStart(5, '0')}`,
      value: 1,
      tsMs: T0,
      quality: 'good',
      source: 'bench',
    });
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const st = estimatorInit(c);
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < readings.length; i++) estimateStep(st, { ...readings[i], value: pass, tsMs: T0 + pass * 1000 });
  }
  keep[0] = st;
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  keep[0] = undefined;
  return (after - before) / Math.min(tags, feedTags);
}

// ------------------------------------------------------------------ Node-RED

async function nodeRedRows(readings: Reading[], roundMs: number, rounds: number): Promise<BenchRow[]> {
  const built = [
    join(__dirname, '..', 'nodes', 'twin-estimate', 'twin-estimate.js'),
    join(__dirname, '..', 'dist', 'nodes', 'twin-estimate', 'twin-estimate.js'),
  ];
  const nodePath = built.find((p) => existsSync(p));
  if (!nodePath) return [{ suite: SUITE, case: 'twin-estimate node', note: 'not built: run npx tsup first' }];
  const modules = [require(join(__dirname, 'pass-node.js')), require(nodePath)];
  return compareNodeChains({
    suite: SUITE,
    modules,
    chains: [
      {
        name: 'bare custom pass-through node, 1 node',
        baseline: true,
        head: 'fn',
        sink: 'sinkFn',
        nodes: [{ id: 'fn', type: 'bench-pass', wires: [['sinkFn']] }],
      },
      {
        name: 'twin-estimate node (local level, NIS on), 1 node',
        head: 'est',
        sink: 'sinkEst',
        nodes: [
          {
            id: 'est',
            type: 'twin-estimate',
            model: 'local-level',
            measurementVar: 0.1,
            levelVarPerS: 0.01,
            nisWindow: 20,
            wires: [['sinkEst']],
          },
        ],
      },
    ],
    // Fresh event time on every pass over the data: the estimator refuses replays.
    message: (i) => {
      const r = readings[i % readings.length];
      const shiftMs = Math.floor(i / readings.length) * ((readings.length / TAGS) * 1000 + 1000);
      return { topic: `${r.asset}/${r.tag}`, payload: { ...r, tsMs: r.tsMs + shiftMs } };
    },
    roundMs,
    rounds,
    batch: NR_BATCH,
    targetRatio: NR_TARGET_RATIO,
    secondTarget: { label: 'issue 3', ratio: 0.8 },
  });
}

// ------------------------------------------------------------------ run

export async function run(): Promise<BenchRow[]> {
  progress('estimate: generating readings');
  const { readings, values } = makeReadings();
  const rows: BenchRow[] = [];
  const budgetMs = 1500;

  progress('estimate: baseline');
  const base = measure(
    budgetMs,
    N,
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
  rows.push(row('pass-through (r) => ({ ...r })', base, { baseline: true }));
  const vsBase = (m: Measured) => `${(m.perS / base.perS).toFixed(2)}× baseline`;

  progress('estimate: 1-D Kalman update');
  const f = kf1(200, 1);
  const kf = measure(
    budgetMs,
    N,
    () => ((f.x = 200), (f.p = 1)),
    (lo, hi) => {
      let s = 0;
      for (let i = lo; i < hi; i++) {
        kf1Predict(f, 1, 0, 0.01);
        s += kf1Update(f, values[i], 0.1);
      }
      return s;
    },
  );
  rows.push(
    row(
      '1-D Kalman predict + update (kalman1d, no allocation)',
      kf,
      {},
      `${vsBase(kf)}; target ${TARGET_1D_PER_S.toLocaleString('en-US')}/s ${kf.perS >= TARGET_1D_PER_S ? 'met' : 'NOT met'}`,
    ),
  );

  progress('estimate: local level model');
  const ll = new LocalLevel({ levelVarPerS: 0.01 });
  const llm = measure(
    budgetMs,
    N,
    () => ll.init(200, 1),
    (lo, hi) => {
      let s = 0;
      for (let i = lo; i < hi; i++) {
        ll.predict(1, NaN, 1);
        s += ll.update(values[i], 0.1);
      }
      return s;
    },
  );
  rows.push(
    row(
      'local level model (StateModel predict + update)',
      llm,
      {},
      `${vsBase(llm)}; target ${TARGET_1D_PER_S.toLocaleString('en-US')}/s ${llm.perS >= TARGET_1D_PER_S ? 'met' : 'NOT met'}`,
    ),
  );

  const trendParams = { levelVarPerS: 0, slopeVarPerS3: 1e-4, initialSlopeVarPerS2: 1 };
  for (const [name, lt, n] of [
    ['local trend model (2-D, unrolled 2×2, Joseph form)', new LocalTrend(trendParams), N],
    ['local trend model (2-D, generic n-D filter on ml-matrix, Joseph form)', new LocalTrendMatrix(trendParams), 50_000],
  ] as Array<[string, LocalTrend | LocalTrendMatrix, number]>) {
    progress(`estimate: ${name}`);
    const m = measure(
      budgetMs,
      n,
      () => lt.init(200, 1),
      (lo, hi) => {
        let s = 0;
        for (let i = lo; i < hi; i++) {
          lt.predict(1, NaN, 1);
          s += lt.update(values[i], 0.1);
        }
        return s;
      },
    );
    rows.push(row(name, m, {}, vsBase(m)));
  }

  for (const [name, cfg] of [
    ['estimateStep, local level, 100 tags (routing, NIS, Estimate record)', { model: 'local-level', measurementVar: 0.1 }],
    ['estimateStep, local level + adaptive R, 100 tags', { model: 'local-level', measurementVar: 0.1, adaptive: 'R' }],
    ['estimateStep, local trend, 100 tags', { model: 'local-trend', measurementVar: 0.1 }],
  ] as Array<[string, Record<string, unknown>]>) {
    progress(`estimate: ${name}`);
    const c = validateEstimateConfig(cfg);
    let st = estimatorInit(c);
    let shift = 0;
    const m = measure(
      budgetMs,
      N,
      () => ((st = estimatorInit(c)), (shift = 0)),
      (lo, hi) => {
        let s = 0;
        for (let i = lo; i < hi; i++) {
          const o = estimateStep(st, readings[i]);
          keep[i & 1023] = o;
          if (o.estimate?.quality === 'good') s++;
        }
        return s + shift;
      },
    );
    rows.push(row(name, m, {}, vsBase(m)));
  }

  progress('estimate: state per tag');
  for (const [name, cfg] of [
    ['local level', { model: 'local-level' }],
    ['local level + adaptive R', { model: 'local-level', adaptive: 'R' }],
    ['local trend', { model: 'local-trend' }],
    ['hybrid (window 200)', { model: 'hybrid', pairs: [{ tag: 'x', inputTag: 'y' }] }],
  ] as Array<[string, Record<string, unknown>]>) {
    if (cfg.model === 'hybrid') {
      // Hybrid estimates only its paired tags: measure its model object per tag instead.
      const gc = gcFn();
      gc();
      const before = process.memoryUsage().heapUsed;
      const st = estimatorInit(
        validateEstimateConfig({ ...cfg, pairs: Array.from({ length: 2000 }, (_, i) => ({ tag: `t${i}`, inputTag: `u${i}` })) }),
      );
      for (let i = 0; i < 2000; i++) {
        estimateStep(st, { asset: 'a', tag: `u${i}`, value: 1, tsMs: T0, quality: 'good', source: 'bench' });
        estimateStep(st, { asset: 'a', tag: `t${i}`, value: 1, tsMs: T0, quality: 'good', source: 'bench' });
      }
      keep[0] = st;
      gc();
      const bytes = (process.memoryUsage().heapUsed - before) / 2000;
      keep[0] = undefined;
      rows.push({
        suite: SUITE,
        case: `state per tag: ${name}`,
        count: 2000,
        ...memory(),
        note: `${Math.round(bytes)} bytes of state per tag (2,000 tags; fixed: the residual window is preallocated)`,
      });
      continue;
    }
    const bytes = stateBytesPerTag(cfg, 10_000);
    rows.push({
      suite: SUITE,
      case: `state per tag: ${name}`,
      count: 10_000,
      ...memory(),
      note: `${Math.round(bytes)} bytes of state per tag with 10,000 tags (heap after GC, including the map and keys)`,
    });
  }
  const unbounded = stateBytesPerTag({ model: 'local-level', maxTags: 100_000 }, 30_000);
  const bounded = stateBytesPerTag({ model: 'local-level' }, 10_000, 30_000);
  rows.push({
    suite: SUITE,
    case: 'state bound: 30,000 tags seen, maxTags = 10,000',
    count: 30_000,
    ...memory(),
    note: `${Math.round((bounded * 10_000) / 1024)} KiB held (10,000 tags kept, the oldest dropped), against ${Math.round((unbounded * 30_000) / 1024)} KiB when all 30,000 are kept`,
  });

  rows.push(...(await nodeRedRows(readings, 2000, 6)));
  progressDone();
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
