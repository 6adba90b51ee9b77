/**
 * Multivariate drift benchmark: T² + Q scoring of 8-tag rows (PCA fitted on 400 reference rows),
 * the full step function fed with readings (row alignment + scoring + output record), and fault
 * classification calls (120-row windows, 7 related tags, estimate given).
 * Baseline, measured in the same run: plain standardisation of the same rows ((x − mean) / std),
 * the least any multivariate score must do per row.
 *
 * Latency percentiles are per row (or per call), from batches of BATCH timed together (a single
 * row is below the timer's resolution). Bounded to a few seconds.
 */
import type { Reading } from '../runtime/model/reading.js';
import { fitPca, project, standardise } from '../runtime/drift/pca.js';
import { t2Contributions, t2FromScores } from '../runtime/drift/hotelling.js';
import { spe } from '../runtime/drift/spe.js';
import { mvInit, mvStep } from '../runtime/drift/multivariate.js';
import { classifyChange, type TimedValue } from '../runtime/drift/classify.js';
import { latencyStats, memory, progress, progressDone, type BenchRow } from './harness.js';

const SUITE = 'multivariate';
const TAGS = ['flow', 'pressure', 'power', 'speed', 'temp_in', 'temp_out', 'vibration', 'current'];
const N_ROWS = 200_000;
const BATCH = 100;
const keep: unknown[] = new Array(64);
let sink = 0;

function gauss(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(Math.max(u(), 1e-12))) * Math.cos(2 * Math.PI * u());
}

/** Eight tags driven by two latent process variables plus noise. */
function rows(n: number, seed: number): number[][] {
  const g = gauss(seed);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = g();
    const b = g();
    out.push([
      10 + a + 0.1 * g(),
      5 + 0.5 * a + 0.05 * g(),
      20 + 2 * a + b + 0.2 * g(),
      1500 + 30 * b + 3 * g(),
      60 + 2 * b + 0.2 * g(),
      65 + 2 * b + a + 0.2 * g(),
      1 + 0.1 * g(),
      12 + a + 0.5 * b + 0.1 * g(),
    ]);
  }
  return out;
}

function timed(name: string, n: number, fn: (i: number) => void): { perS: number; lat: number[] } {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const b0 = performance.now();
    const end = Math.min(n, i + BATCH);
    for (let j = i; j < end; j++) fn(j);
    lat.push((performance.now() - b0) / (end - i));
    if ((i / BATCH) % 200 === 0) progress(`${SUITE}: ${name} ${i}/${n}`);
  }
  const s = (performance.now() - t0) / 1000;
  return { perS: n / s, lat };
}

export async function run(): Promise<BenchRow[]> {
  const ref = rows(400, 1);
  const data = rows(N_ROWS, 2);
  const m = fitPca(ref, TAGS);
  const p = m.tags.length;
  const z = new Float64Array(p);
  const t = new Float64Array(m.k);
  const c1 = new Float64Array(p);
  const c2 = new Float64Array(p);
  const out: BenchRow[] = [];

  // Warm-up (JIT) on a slice, not timed.
  for (let i = 0; i < 20_000; i++) {
    standardise(m, data[i], z);
    project(m, z, t);
    sink += t2FromScores(m, t) + spe(m, z, t, c2);
  }

  const base = timed('standardise', N_ROWS, (i) => {
    standardise(m, data[i], z);
    sink += z[0];
  });
  out.push({
    suite: SUITE,
    case: 'plain standardisation (8 tags)',
    baseline: true,
    count: N_ROWS,
    throughputPerS: base.perS,
    ...latencyStats(base.lat),
    ...memory(),
  });

  const score = timed('t2+q', N_ROWS, (i) => {
    standardise(m, data[i], z);
    project(m, z, t);
    const t2 = t2FromScores(m, t);
    t2Contributions(m, z, t, c1);
    sink += t2 + spe(m, z, t, c2);
  });
  out.push({
    suite: SUITE,
    case: `T² + Q + contributions (8 tags, k = ${m.k})`,
    count: N_ROWS,
    throughputPerS: score.perS,
    ...latencyStats(score.lat),
    ...memory(),
    note: `${(base.perS / score.perS).toFixed(1)}× the baseline's time per row`,
  });

  // Full step: readings in (8 per row), aligned rows, scores and records out.
  const s = mvInit({ asset: 'bench', tags: TAGS, referenceRows: 400 });
  const r: Reading = { asset: 'bench', tag: '', value: 0, tsMs: 0, quality: 'good', source: 'sim' };
  for (let i = 0; i < 400; i++) {
    for (let j = 0; j < p; j++) {
      r.tag = TAGS[j];
      r.value = ref[i][j];
      r.tsMs = i * 1000;
      mvStep(s, r);
    }
  }
  let alarms = 0;
  const step = timed('step', N_ROWS, (i) => {
    for (let j = 0; j < p; j++) {
      r.tag = TAGS[j];
      r.value = data[i][j];
      r.tsMs = (400 + i) * 1000;
      const o = mvStep(s, r);
      if (o) {
        keep[i & 63] = o;
        if (o.type === 'score' && o.event) alarms++;
      }
    }
  });
  out.push({
    suite: SUITE,
    case: 'mvStep: 8 readings → aligned row → score record',
    count: N_ROWS,
    throughputPerS: step.perS,
    ...latencyStats(step.lat),
    ...memory(),
    note: `rows/s (×8 readings/s); ${alarms} alarm events on in-control data (α 0.01, 3 consecutive)`,
  });

  // Classification: 120-row windows around a change in one tag, 7 related tags, an estimate.
  const N_CLS = 5_000;
  const windows: TimedValue[][] = TAGS.map((_, j) =>
    data.slice(0, 120).map((row, i) => ({ tsMs: i * 1000, value: row[j] + (j === 1 && i >= 60 ? 0.3 : 0) })),
  );
  // Estimate of pressure from flow (both follow the same latent variable: pressure ≈ 5 + 0.5 (flow − 10)).
  const expected = data.slice(0, 120).map((row, i) => ({ tsMs: i * 1000, value: 5 + 0.5 * (row[0] - 10) }));
  const related = TAGS.slice(2)
    .map((tag, n) => ({ tag, window: windows[n + 2] }))
    .concat([{ tag: 'flow', window: windows[0] }]);
  let kinds = '';
  const cls = timed('classify', N_CLS, (i) => {
    const c = classifyChange({ tag: 'pressure', window: windows[1], changeTsMs: 60_000, related, expected });
    keep[i & 63] = c;
    kinds = `${c.kind}/${c.faultType ?? '-'}`;
  });
  out.push({
    suite: SUITE,
    case: 'classifyChange (120-row windows, 7 related, estimate)',
    count: N_CLS,
    throughputPerS: cls.perS,
    ...latencyStats(cls.lat),
    ...memory(),
    note: `calls/s; verdict ${kinds}`,
  });
  progressDone();
  if (sink === 42) keep[0] = sink; // keep the results observable
  return out;
}

if (require.main === module) {
  run().then(
    (rs) => {
      for (const r of rs) {
        process.stdout.write(
          `${r.baseline ? '[baseline] ' : ''}${r.case}: ${Math.round(r.throughputPerS ?? 0).toLocaleString('en-US')}/s p50 ${r.p50Ms?.toFixed(5)} ms p99 ${r.p99Ms?.toFixed(5)} ms RSS ${r.rssMiB?.toFixed(0)} MiB ${r.note ?? ''}\n`,
        );
      }
    },
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
