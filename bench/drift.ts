/**
 * Drift detector benchmark (runtime only): steps per second and per-step latency of each
 * univariate detector's step function over 2,000,000 samples of a realistic stream, against a
 * baseline measured in the same run (a trivial running-mean step over the same samples); the
 * per-Reading cost through driftStep (100 tags); and bytes of detector state per tag with
 * 10,000 tags fed 1,000 samples each (plus ADWIN after 100,000 samples, to show its state grows
 * with log2 of its window only). Targets: Page-Hinkley ≥ 1,000,000 readings/s per core, ADWIN
 * ≥ 300,000. Bounded to well under a minute.
 *
 * Stream: a process value around 80 (noise sd 0.5, slow sine) with level shifts of ±1.5 every
 * 250,000 samples, so detectors flag and reset as they would in a plant. The binary detectors
 * (DDM, EDDM, HDDM_A, HDDM_W) get the same samples as 0/1 "above 80.8" flags, whose rate
 * changes with the level.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Reading } from '../runtime/model/reading.js';
import type { AnyDetector } from '../runtime/drift/detector.js';
import { pageHinkleyDetector } from '../runtime/drift/page-hinkley.js';
import { cusumDetector } from '../runtime/drift/cusum.js';
import { adwinDetector } from '../runtime/drift/adwin.js';
import { ewmaDetector } from '../runtime/drift/ewma.js';
import { shewhartDetector } from '../runtime/drift/shewhart.js';
import { ddmDetector } from '../runtime/drift/binary/ddm.js';
import { eddmDetector } from '../runtime/drift/binary/eddm.js';
import { hddmADetector } from '../runtime/drift/binary/hddm-a.js';
import { hddmWDetector } from '../runtime/drift/binary/hddm-w.js';
import { driftStep, validateDriftOptions, type DriftTagEntry } from '../runtime/drift/step.js';
import { latencyStats, memory, progress, type BenchRow } from './harness.js';
import { prng } from './prng.js';

const SUITE = 'drift';
const N = 2_000_000;
const BATCH = 1000;
const TAGS_MEM = 10_000;
const SAMPLES_MEM = 1_000;
const TARGETS: Record<string, number> = { 'page-hinkley': 1_000_000, adwin: 300_000 };

function makeStream(n: number, seed = 7): Float64Array {
  const u = prng(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
    const level = Math.floor(i / 250_000) % 2 === 1 ? 1.5 : 0;
    xs[i] = 80 + level + 0.3 * Math.sin(i / 5000) + 0.5 * z;
  }
  return xs;
}

/** global.gc when node runs with --expose-gc, else the same function obtained through V8 flags. */
function getGc(): { gc: () => void; how: string } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return { gc: g, how: '--expose-gc' };
  try {
    setFlagsFromString('--expose_gc');
    const fn = runInNewContext('gc') as () => void;
    if (typeof fn === 'function') return { gc: fn, how: 'gc via v8.setFlagsFromString' };
  } catch {
    /* fall through */
  }
  return { gc: () => undefined, how: 'no gc available: heap figures are noisy' };
}

interface Timed {
  perS: number;
  lat: number[];
  drifts: number;
}

type Step = (s: unknown, x: number, t: number) => boolean;
type Loop = (step: Step, s: unknown, xs: Float64Array, lo: number, hi: number) => number;

/**
 * A fresh copy of the inner loop per detector (its own compiled code and call-site feedback), so
 * the `step` call stays monomorphic and can be inlined, as it is in a process that runs one
 * detector; one shared loop calling ten different step functions would measure V8's megamorphic
 * call path instead.
 */
function freshLoop(): Loop {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fresh function per detector keeps each call site monomorphic
  return new Function(
    'step',
    's',
    'xs',
    'lo',
    'hi',
    'let d = 0; for (let i = lo; i < hi; i++) if (step(s, xs[i], i)) d++; return d;',
  ) as Loop;
}

/** One warm-up pass over the first 10 %, then one timed pass over all samples in batches. */
function timeSteps(init: () => unknown, step: Step, xs: Float64Array): Timed {
  const loop = freshLoop();
  let s = init();
  loop(step, s, xs, 0, xs.length / 10);
  s = init();
  const lat: number[] = [];
  let drifts = 0;
  let busyNs = 0n;
  for (let lo = 0; lo < xs.length; lo += BATCH) {
    const hi = Math.min(xs.length, lo + BATCH);
    const t0 = process.hrtime.bigint();
    drifts += loop(step, s, xs, lo, hi);
    const dt = process.hrtime.bigint() - t0;
    busyNs += dt;
    lat.push(Number(dt) / 1e6 / (hi - lo));
  }
  return { perS: xs.length / (Number(busyNs) / 1e9), lat, drifts };
}

interface MeanState {
  n: number;
  mean: number;
}
function baselineStep(s: unknown, x: number): boolean {
  const m = s as MeanState;
  m.n += 1;
  m.mean += (x - m.mean) / m.n;
  return m.mean > 1e300;
}

function stateBytes(d: AnyDetector, samples: number, tags: number, gc: () => void): number {
  const xs = makeStream(samples, 99);
  const p = d.params({});
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const states = new Array<unknown>(tags);
  for (let k = 0; k < tags; k++) {
    const s = d.init(p);
    for (let i = 0; i < samples; i++) d.step(s, xs[i] + (k % 7) * 0.01, i);
    states[k] = s;
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (states.length !== tags) throw new Error('unreachable');
  return (after - before) / tags;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { gc, how } = getGc();
  progress('drift: generating samples');
  const xs = makeStream(N);

  progress('drift: baseline');
  const base = timeSteps(() => ({ n: 0, mean: 0 }), baselineStep, xs);
  rows.push({
    suite: SUITE,
    case: 'running-mean step (same samples)',
    baseline: true,
    count: N,
    throughputPerS: base.perS,
    ...latencyStats(base.lat),
    ...memory(),
    note: 'per-step latency from batches of 1,000',
  });

  const detectors: AnyDetector[] = [pageHinkleyDetector, cusumDetector, adwinDetector, ewmaDetector, shewhartDetector];
  for (const d of detectors) {
    progress(`drift: ${d.name}`);
    const p = d.params({});
    // eslint-disable-next-line @typescript-eslint/unbound-method -- detectors are plain objects; `step` uses no `this`
    const m = timeSteps(() => d.init(p), d.step as Step, xs);
    const target = TARGETS[d.name];
    const verdict = target ? `; target ${target.toLocaleString('en-US')}/s ${m.perS >= target ? 'met' : 'NOT met'}` : '';
    rows.push({
      suite: SUITE,
      case: `${d.name} step (River defaults)`,
      count: N,
      throughputPerS: m.perS,
      ...latencyStats(m.lat),
      ...memory(),
      note: `${(m.perS / base.perS).toFixed(2)}× baseline; ${m.drifts} drifts flagged${verdict}`,
    });
  }

  const bitsXs = xs.map((x) => (x > 80.8 ? 1 : 0)); // Float64Array.map keeps the type
  for (const d of [ddmDetector, eddmDetector, hddmADetector, hddmWDetector] as AnyDetector[]) {
    progress(`drift: ${d.name}`);
    const p = d.params({});
    // eslint-disable-next-line @typescript-eslint/unbound-method -- detectors are plain objects; `step` uses no `this`
    const m = timeSteps(() => d.init(p), d.step as Step, bitsXs);
    rows.push({
      suite: SUITE,
      case: `${d.name} step (River defaults, 0/1 input)`,
      count: N,
      throughputPerS: m.perS,
      ...latencyStats(m.lat),
      ...memory(),
      note: `${(m.perS / base.perS).toFixed(2)}× baseline; ${m.drifts} drifts flagged`,
    });
  }

  // Through driftStep's per-reading work (validation, per-tag map, AnomalyScore) — 100 tags.
  progress('drift: operator');
  const R = 300_000;
  const readings: Reading[] = new Array(R);
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < R; i++) {
    readings[i] = {
      asset: `site/line${i % 10}/extruder`,
      tag: `zone${Math.floor(i / 10) % 10}_temp`,
      value: xs[i],
      tsMs: t0 + i * 10,
      quality: 'good',
      source: 'bench',
    };
  }
  for (const d of [pageHinkleyDetector, adwinDetector]) {
    const opts = validateDriftOptions({});
    const p = d.params({});
    let tags = new Map<string, DriftTagEntry>();
    for (let i = 0; i < R / 10; i++) driftStep(d, p, opts, tags, readings[i]);
    tags = new Map();
    const lat: number[] = [];
    let busyNs = 0n;
    let events = 0;
    for (let lo = 0; lo < R; lo += BATCH) {
      const ts = process.hrtime.bigint();
      for (let i = lo; i < lo + BATCH; i++) {
        const o = driftStep(d, p, opts, tags, readings[i]);
        if (o.type === 'score' && o.event) events++;
      }
      const dt = process.hrtime.bigint() - ts;
      busyNs += dt;
      lat.push(Number(dt) / 1e6 / BATCH);
    }
    const perS = R / (Number(busyNs) / 1e9);
    rows.push({
      suite: SUITE,
      case: `${d.name} via operator (Readings, 100 tags)`,
      count: R,
      throughputPerS: perS,
      ...latencyStats(lat),
      ...memory(),
      note: `${events} events; includes validation, tag lookup, AnomalyScore per reading`,
    });
  }

  // State per tag.
  for (const d of [...detectors, ddmDetector, hddmWDetector] as AnyDetector[]) {
    progress(`drift: memory ${d.name}`);
    const bytes = stateBytes(d, SAMPLES_MEM, TAGS_MEM, gc);
    rows.push({
      suite: SUITE,
      case: `${d.name} state per tag (${TAGS_MEM.toLocaleString('en-US')} tags × ${SAMPLES_MEM.toLocaleString('en-US')} samples)`,
      count: TAGS_MEM,
      ...memory(),
      note: `${Math.round(bytes)} bytes/tag (${how})`,
    });
  }
  progress('drift: memory adwin, long stream');
  const longBytes = stateBytes(adwinDetector, 100_000, 200, gc);
  rows.push({
    suite: SUITE,
    case: 'adwin state per tag (200 tags × 100,000 samples)',
    count: 200,
    ...memory(),
    note: `${Math.round(longBytes)} bytes/tag: grows with log2(window) only (${how})`,
  });
  return rows;
}
