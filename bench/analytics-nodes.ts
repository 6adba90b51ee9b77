/**
 * Detect through the node (issue 3): twin-drift against a bare custom pass-through node of
 * the same length, in the same run, in alternating rounds (twin-estimate has the same comparison in
 * bench/estimate.ts). twin-drift detects on Readings (an Estimate is only evidence for it), so the
 * two analytics nodes sit side by side in a flow rather than in a chain. Targets: ≥ 90 % of the
 * baseline's rate (issue 14, every twin node alone), and issue 3's ≥ 80 %, reported beside it.
 * Data: 100 tags (10 assets × 10), 1 s apart per tag, a level with noise: twice, once with nothing
 * to detect (a healthy line: the ≥ 90 % target), once with one level step per tag half way through
 * the data (and back at its end), i.e. a classified drift event every ~500 readings. A classification
 * reads ~10 related windows of ~1,000 readings (runtime/drift/classify.ts), so the second row
 * shows what detections cost, against the same baseline, with the targets reported beside it.
 */
import { join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import type { BenchRow } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';

const TAGS = 100;
const N = 100_000;

function readings(stepSize: number): Reading[] {
  const out: Reading[] = [];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < N; i++) {
    const t = Math.floor(i / TAGS);
    const tag = i % TAGS;
    const value = 100 + (rand() - 0.5) * 2 + (t > N / TAGS / 2 ? stepSize : 0);
    out.push({
      asset: `bench/asset${tag % 10}`,
      tag: `t${tag}`,
      value,
      tsMs: 1_700_000_000_000 + t * 1000,
      quality: 'good',
      source: 'bench',
    });
  }
  return out;
}

async function compare(data: Reading[], label: string): Promise<BenchRow[]> {
  const spanMs = (N / TAGS) * 1000 + 1000;
  const modules = [require(join(__dirname, 'pass-node.js')), require(join(__dirname, '..', 'nodes', 'twin-drift', 'twin-drift.js'))];
  return compareNodeChains({
    suite: 'analytics-nodes',
    modules,
    chains: [
      {
        name: 'bare custom pass-through node, 1 node',
        baseline: true,
        head: 'f1',
        sink: 'sinkF',
        nodes: [{ id: 'f1', type: 'bench-pass', wires: [['sinkF']] }],
      },
      {
        name: `twin-drift (ADWIN, classification on, a score per reading), ${label}, 1 node`,
        head: 'drift',
        sink: 'sinkT',
        nodes: [
          {
            id: 'drift',
            type: 'twin-drift',
            method: 'adwin',
            params: {},
            watch: '',
            related: [],
            classify: true,
            uncertain: 'skip',
            scoreEvery: 1,
            wires: [[], ['sinkT']],
          },
        ],
      },
    ],
    message: (i) => {
      const r = data[i % N];
      return { topic: `${r.asset}/${r.tag}`, payload: { ...r, tsMs: r.tsMs + Math.floor(i / N) * spanMs } };
    },
    roundMs: 2000,
    rounds: 6,
    targetRatio: 0.9,
    secondTarget: { label: 'issue 3', ratio: 0.8 },
  });
}

export async function run(): Promise<BenchRow[]> {
  return [...(await compare(readings(0), 'a healthy line')), ...(await compare(readings(3), 'a level step per tag every ~17 min'))];
}
