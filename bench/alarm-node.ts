/**
 * twin-alarm through Node-RED: the default node (anomaly detector per tag → alarm manager) against a
 * bare custom pass-through node, both as leaves (an input is through when the node has called done():
 * twin-alarm sends only on alarm events), in the same run, in alternating rounds. Targets: ≥ 90 % of
 * the baseline's rate (issue 14, every twin node alone), and issue 15's ≥ 80 %, reported beside it.
 * Data: 100 tags (10 assets × 10), 1 s apart per tag, a level with noise and one level step per tag
 * half way (a healthy line: alarms are rare).
 * Run: `npm run build && node dist/bench/run.js alarm-node`.
 * Measured 2026-12-07 at load ≈ 1, per CPU second: 59 % (one record per tag; the code of the session's
 * start, with fewer detector conditions, 49 % in the same minutes). Earlier figures (88 %) were against
 * a baseline slowed by spread-copied messages.
 */
import { join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import type { BenchRow } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';

const TAGS = 100;
const N = 100_000;

function readings(): Reading[] {
  const out: Reading[] = [];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < N; i++) {
    const t = Math.floor(i / TAGS);
    const tag = i % TAGS;
    const value = 100 + (rand() - 0.5) * 2 + (t > N / TAGS / 2 ? 3 : 0);
    const tsMs = 1_700_000_000_000 + t * 1000;
    out.push({ asset: `bench/line1/asset${tag % 10}`, tag: `t${tag}`, value, tsMs, quality: 'good', source: 'bench' });
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const data = readings();
  const spanMs = (N / TAGS) * 1000 + 1000;
  const modules = [require(join(__dirname, 'pass-node.js')), require(join(__dirname, '..', 'nodes', 'twin-alarm', 'twin-alarm.js'))];
  return compareNodeChains({
    suite: 'alarm-node',
    modules,
    chains: [
      {
        name: 'bare custom pass-through node, 1 node (leaf)',
        baseline: true,
        head: 'f1',
        leaves: ['f1'],
        nodes: [{ id: 'f1', type: 'bench-pass', wires: [[]] }],
      },
      {
        name: 'twin-alarm with its defaults, 1 node (leaf)',
        head: 'alarm',
        leaves: ['alarm'],
        nodes: [{ id: 'alarm', type: 'twin-alarm', wires: [[], []] }],
      },
    ],
    message: (i) => {
      const r = data[i % N];
      return { topic: `${r.asset}/${r.tag}`, payload: { ...r, tsMs: r.tsMs + Math.floor(i / N) * spanMs } };
    },
    roundMs: 2000,
    rounds: 6,
    targetRatio: 0.9,
    secondTarget: { label: 'issue 15', ratio: 0.8 },
  });
}
