/**
 * Energy through the node (issue 5): power readings per second through twin-energy (under a
 * twin-tariff config node: Berlin time of use, demand charge) beside a bare custom pass-through
 * node (bench/pass-node.ts) of the same length, in the same embedded Node-RED, in alternating rounds.
 * twin-energy is set to give a DemandStatus after every energy reading (demandEveryMs 0), so each
 * reading after an asset's first has one output on the sink; interval and shift records go to
 * output 1 (not counted). Its outputs are new messages, so the latency column is empty for it.
 * Data: 100 assets, one power reading per asset per second (1.6 days of event time per pass, so
 * every pass crosses 15-minute intervals, price periods, shifts and a day boundary). The chains
 * share the message counter, so twin-energy's stream jumps ahead in event time while the baseline
 * runs; the max gap (1 h) keeps those jumps integrated rather than turning every status uncertain.
 */
import { join } from 'node:path';
import type { Reading } from '../runtime/model/reading.js';
import type { TariffDef } from '../runtime/energy/tariff.js';
import type { BenchRow } from './harness.js';
import { compareNodeChains } from './node-red-helper.js';
import { prng } from './prng.js';

const ASSETS = 100;
const N = 100_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

const tariff: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.29, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.19 },
  ],
  defaultPeriod: 'offpeak',
  demandChargeEurPerKw: 8,
  co2KgPerKwh: 0.4,
};

function readings(): Reading[] {
  const rand = prng(5);
  const out: Reading[] = [];
  for (let i = 0; i < N; i++) {
    const a = i % ASSETS;
    out.push({
      asset: `bench/line/asset${a}`,
      tag: 'power_kw',
      value: 50 + 20 * rand(),
      tsMs: T0 + Math.floor(i / ASSETS) * 1000,
      quality: 'good',
      source: 'bench',
    });
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const data = readings();
  const spanMs = (N / ASSETS) * 1000;
  const modules = [
    require(join(__dirname, 'pass-node.js')),
    require(join(__dirname, '..', 'nodes', 'twin-tariff', 'twin-tariff.js')),
    require(join(__dirname, '..', 'nodes', 'twin-energy', 'twin-energy.js')),
  ];
  return compareNodeChains({
    suite: 'energy',
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
        name: 'twin-energy (power, 15-min intervals, shifts, demand status per reading; new output messages, so no latency), 1 node',
        head: 'energy',
        sink: 'sinkT',
        nodes: [
          { id: 'tar', type: 'twin-tariff', name: 'tariff', tariff: JSON.stringify(tariff) },
          {
            id: 'energy',
            type: 'twin-energy',
            tariff: 'tar',
            mode: 'power',
            powerTag: 'power_kw',
            intervalMin: 15,
            maxGapMs: 3_600_000,
            demandEveryMs: 0,
            shifts: '06:00 early, 14:00 late, 22:00 night',
            wires: [[], ['sinkT'], []],
          },
        ],
      },
    ],
    // Each pass moves on in event time (the node refuses a reading not after the last of its tag).
    message: (i) => {
      const r = data[i % N];
      return { topic: `${r.asset}/${r.tag}`, payload: { ...r, tsMs: r.tsMs + Math.floor(i / N) * spanMs } };
    },
    roundMs: 2000,
    rounds: 6,
  });
}
