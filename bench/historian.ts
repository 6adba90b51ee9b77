/**
 * Historian benchmark: points per second into a real InfluxDB 1.6 (Debian's influxd, started here on
 * free ports with its data in a temp dir; skipped with a loud line when influxd is missing), in the
 * same run and against the same server:
 *   (a) baseline: the `influx` client's writePoints with the same points, batches of BATCH, one write
 *       in flight (what the historian's writer does), no buffer;
 *   (b) twin-historian in a real Node-RED 4 runtime (test helper, spies removed), one record per
 *       message: record → point, fsynced disk buffer (group commit), batches of BATCH, written in order;
 *   (c) the same with arrays of 100 records per message.
 * Rate = points / (first point handed over → InfluxDB acknowledged the last one). Each case writes into
 * its own database; ROUNDS rounds alternate the cases so machine noise hits them alike; the row shows the
 * median round with the spread. Readings on 100 tags, event times 1 ms apart per point.
 * Knobs: TWINLOOP_BENCH_HISTORIAN_N (points per round).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InfluxDB } from 'influx';
import type { Reading } from '../runtime/model/reading.js';
import { recordToPoint, type InfluxPoint } from '../runtime/store/influx-points.js';
import { median } from '../runtime/stats/index.js';
import { memory, progress, type BenchRow } from './harness.js';
import { dropTestHelperSpies } from './node-red-helper.js';

const SUITE = 'historian';
const N = Number(process.env.TWINLOOP_BENCH_HISTORIAN_N ?? 50_000);
const BATCH = 1000;
const ROUNDS = 3;
const T0 = Date.UTC(2026, 0, 1);

interface Influxd {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The project's influxd test fixture (TypeScript under test/support, loaded through tsx). */
async function startServer(): Promise<Influxd | undefined> {
  const root = resolve(__dirname, '..', '..');
  const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
  const { ensureDebianBinary } = tsx.require(
    join(root, 'test', 'support', 'debian.ts'),
    __filename,
  ) as typeof import('../test/support/debian.js');
  const { startInfluxd } = tsx.require(
    join(root, 'test', 'support', 'influxdb.ts'),
    __filename,
  ) as typeof import('../test/support/influxdb.js');
  const bin = ensureDebianBinary('influxdb', 'influxd');
  if (!bin) return undefined; // ensureDebianBinary printed a loud line
  const d = await startInfluxd(bin);
  return { url: d.url, port: d.port, stop: () => d.stop() };
}

function readings(): Reading[] {
  return Array.from({ length: N }, (_, i) => ({
    asset: 'bench/site/area/line/asset',
    tag: `tag${i % 100}`,
    value: 50 + (i % 1000) / 1000,
    unit: 'degC',
    tsMs: T0 + i,
    quality: 'good',
    source: 'bench',
  }));
}

async function countIn(db: InfluxDB): Promise<number> {
  const raw = (await db.queryRaw('SELECT count("value") FROM "reading"')) as { results: { series?: { values: [string, number][] }[] }[] };
  return raw.results[0].series?.[0].values[0][1] ?? 0;
}

/** (a) The `influx` client alone. */
async function direct(server: Influxd, database: string, points: InfluxPoint[]): Promise<number> {
  const db = new InfluxDB({ host: '127.0.0.1', port: server.port, database });
  await db.createDatabase(database);
  const t = performance.now();
  for (let i = 0; i < points.length; i += BATCH) await db.writePoints(points.slice(i, i + BATCH), { precision: 'ms' });
  const s = (performance.now() - t) / 1000;
  if ((await countIn(db)) !== N) throw new Error(`direct: ${await countIn(db)} of ${N} points stored`);
  return N / s;
}

interface Helper {
  init(path: string): void;
  settings(s: object): void;
  startServer(cb: () => void): void;
  stopServer(cb: () => void): void;
  load(modules: unknown[], flow: object[]): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): { receive(msg: object): void; written(): number; buffered(): number };
  _sandbox: { restore(): void };
  _NodePrototype: { send: unknown };
}

/** (b, c) twin-historian; `perMsg` records per message. */
async function historian(helper: Helper, server: Influxd, database: string, records: Reading[], perMsg: number): Promise<number> {
  const dist = resolve(__dirname, '..');
  const modules = ['twin-influx-config', 'twin-historian'].map((t) => require(join(dist, 'nodes', t, `${t}.js`)));
  const flow = [
    {
      id: 'db',
      type: 'twin-influx-config',
      url: server.url,
      database,
      precision: 'ms',
      batchSize: BATCH,
      flushMs: 20,
      retryMinMs: 50,
      retryMaxMs: 1000,
    },
    { id: 'h', type: 'twin-historian', influx: 'db' },
  ];
  await helper.load(modules, flow);
  dropTestHelperSpies(
    helper as never,
    flow.map((n) => n.id),
  );
  try {
    const h = helper.getNode('h');
    const cfg = helper.getNode('db');
    const messages = Math.ceil(records.length / perMsg);
    const t = performance.now();
    // At most 5000 points handed over and not yet in the buffer (the caller's memory is not measured).
    for (let m = 0; m < messages; m++) {
      const payload = perMsg === 1 ? records[m] : records.slice(m * perMsg, (m + 1) * perMsg);
      h.receive({ payload });
      while ((m + 1) * perMsg - cfg.written() - cfg.buffered() > 5000) await new Promise((r) => setImmediate(r));
    }
    let last = -1;
    let stalledSince = performance.now();
    while (cfg.written() < records.length) {
      if (cfg.written() !== last) [last, stalledSince] = [cfg.written(), performance.now()];
      if (performance.now() - stalledSince > 30_000) throw new Error(`historian: stalled at ${last} of ${records.length} points written`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const s = (performance.now() - t) / 1000;
    const db = new InfluxDB({ host: '127.0.0.1', port: server.port, database });
    if ((await countIn(db)) !== N) throw new Error(`historian: ${await countIn(db)} of ${N} points stored`);
    return N / s;
  } finally {
    await helper.unload();
  }
}

const spread = (xs: number[]): string => `rounds ${xs.map((x) => Math.round(x).toLocaleString('en-US')).join(' / ')}`;

export async function run(): Promise<BenchRow[]> {
  const server = await startServer();
  if (!server) return [{ suite: SUITE, case: 'SKIPPED', note: 'influxd not installed (apt-get install influxdb)' }];
  const helper = require('node-red-node-test-helper') as Helper;
  helper.init(require.resolve('node-red'));
  helper.settings({ userDir: mkdtempSync(join(tmpdir(), 'bench-historian-')), logging: { console: { level: 'off' } } });
  await new Promise<void>((r) => helper.startServer(r));
  try {
    const records = readings();
    const points = records.map((r) => recordToPoint(r, { precision: 'ms' }));
    const rates = { direct: [] as number[], single: [] as number[], arrays: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`historian round ${round}/${ROUNDS}: influx client`);
      rates.direct.push(await direct(server, `bench_direct_${round}`, points));
      progress(`historian round ${round}/${ROUNDS}: twin-historian, one record per message`);
      rates.single.push(await historian(helper, server, `bench_single_${round}`, records, 1));
      progress(`historian round ${round}/${ROUNDS}: twin-historian, 100 records per message`);
      rates.arrays.push(await historian(helper, server, `bench_arrays_${round}`, records, 100));
    }
    const base = median(rates.direct);
    const pct = (x: number): string => `${((100 * x) / base).toFixed(0)} % of the influx client's rate`;
    return [
      {
        suite: SUITE,
        case: `influx client writePoints, batches of ${BATCH}`,
        baseline: true,
        count: N * ROUNDS,
        throughputPerS: base,
        ...memory(),
        note: `${spread(rates.direct)}; no buffer, one write in flight`,
      },
      {
        suite: SUITE,
        case: 'twin-historian, 1 record per message',
        count: N * ROUNDS,
        throughputPerS: median(rates.single),
        ...memory(),
        note: `${spread(rates.single)}; ${pct(median(rates.single))}; fsynced disk buffer, batches of ${BATCH}`,
      },
      {
        suite: SUITE,
        case: 'twin-historian, 100 records per message',
        count: N * ROUNDS,
        throughputPerS: median(rates.arrays),
        ...memory(),
        note: `${spread(rates.arrays)}; ${pct(median(rates.arrays))}; fsynced disk buffer, batches of ${BATCH}`,
      },
    ];
  } finally {
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await server.stop();
  }
}
