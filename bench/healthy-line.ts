/**
 * Per-node cost on a healthy line (issue 14): 100 tags of Readings through `twin-screen →
 * [twin-estimate, twin-drift]` configured exactly as the demo flow configures them (their node
 * definitions are read from examples/demo/demo-line.json), beside a chain of the same shape made
 * of bare custom pass-through nodes (bench/pass-node.ts) in the same Node-RED process, in
 * alternating rounds. An input is through when both leaves have called done() for it.
 * Target: the TwinLoop chain at ≥ 90 % of the bare chain's rate (judged per CPU second, see
 * node-red-helper.ts). Measured 2026-12-07 at load ≈ 1: 71–72 % (the same minutes, the code of the
 * session's start: 71 %); at load 9–11 the same code swung between 64 and 80 %. The nodes' own
 * steps (screen, Kalman, ADWIN) cost about as much as Node-RED's whole hop here.
 *
 * Data: 10 extruders × 10 tags (zone temperatures with their setpoints, melt temperature and
 * pressure, vibration, motor power), 1 s apart per tag, levels with noise: nothing to detect.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import type { BenchRow } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';
import { prng } from './prng.js';

const ASSETS = 10;
const N = 100_000;
const T0 = Date.UTC(2026, 0, 5);
const TAGS: ReadonlyArray<[tag: string, level: number, noise: number]> = [
  ['zone1_temp', 200, 0.3],
  ['zone2_temp', 210, 0.3],
  ['zone3_temp', 215, 0.3],
  ['zone1_sp', 200, 0],
  ['zone2_sp', 210, 0],
  ['zone3_sp', 215, 0],
  ['melt_temp', 228, 0.4],
  ['melt_pressure', 150, 1.5],
  ['vibration', 2.2, 0.1],
  ['motor_power', 48, 0.8],
];
const PER_STEP = ASSETS * TAGS.length;

function readings(): Reading[] {
  const rand = prng(14);
  const out: Reading[] = new Array(N);
  for (let i = 0; i < N; i++) {
    const step = Math.floor(i / PER_STEP);
    const k = i % PER_STEP;
    const [tag, level, noise] = TAGS[k % TAGS.length]!;
    const value = level + noise * (rand() + rand() + rand() - 1.5);
    out[i] = {
      asset: `site/area/line${Math.floor(k / TAGS.length)}/extruder`,
      tag,
      value,
      tsMs: T0 + step * 1000,
      quality: 'good',
      source: 'bench',
    };
  }
  return out;
}

/** The demo's definition of the node named `name`, without its wires and editor position. */
function demoNode(name: string): Record<string, unknown> {
  const flow = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'demo', 'demo-line.json'), 'utf8')) as Array<
    Record<string, unknown>
  >;
  const def = flow.find((n) => n.name === name);
  if (!def) throw new Error(`examples/demo/demo-line.json has no node named ${name}`);
  const { id: _id, z: _z, x: _x, y: _y, wires: _w, ...rest } = def;
  return rest;
}

export async function run(): Promise<BenchRow[]> {
  const data = readings();
  const lapMs = (N / PER_STEP) * 1000;
  const dist = join(__dirname, '..', 'nodes');
  const modules = [
    require(join(__dirname, 'pass-node.js')),
    require(join(dist, 'twin-screen', 'twin-screen.js')),
    require(join(dist, 'twin-estimate', 'twin-estimate.js')),
    require(join(dist, 'twin-drift', 'twin-drift.js')),
  ];
  const screen = demoNode('screen (OPC UA)');
  return compareNodeChains({
    suite: 'healthy-line',
    modules,
    chains: [
      {
        name: 'bare custom pass-through nodes, pass → [pass, pass]',
        baseline: true,
        head: 'p1',
        leaves: ['p2', 'p3'],
        nodes: [
          { id: 'p1', type: 'bench-pass', wires: [['p2', 'p3']] },
          { id: 'p2', type: 'bench-pass', wires: [[]] },
          { id: 'p3', type: 'bench-pass', wires: [[]] },
        ],
      },
      {
        name: 'twin-screen → [twin-estimate, twin-drift], as the demo configures them',
        head: 'screen',
        leaves: ['estimate', 'drift'],
        nodes: [
          { ...screen, id: 'screen', wires: [['estimate', 'drift'], []] },
          { ...demoNode('zone temperatures'), id: 'estimate', wires: [[]] },
          { ...demoNode('drift (extruder)'), id: 'drift', wires: [[], []] },
        ],
      },
    ],
    message: (i) => {
      const r = data[i % N]!;
      const lap = Math.floor(i / N);
      return { topic: `${r.asset}/${r.tag}`, payload: lap === 0 ? { ...r } : { ...r, tsMs: r.tsMs + lap * lapMs } };
    },
    roundMs: 2000,
    rounds: 6,
    targetRatio: 0.9,
  });
}
