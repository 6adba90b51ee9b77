// twin-rul in a real Node-RED runtime: a similarity model fitted here on 20 C-MAPSS FD001 engines
// (test/fixtures/cmapss), written as `twinloop fit` writes it, and engines it never saw fed
// in as Readings, one per channel.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { readCmapss } from '../../runtime/maintenance/cmapss.js';
import type { UnitHistory } from '../../runtime/maintenance/health-index.js';
import { estimateRulAny, fitRulAny, rulModelToJson, rulModelFromText, type AnyRulModel } from '../../runtime/maintenance/rul-json.js';
import type { RulEstimate } from '../../runtime/model/maintenance.js';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const rulNode = nodeModule('twin-rul');

const CMAPSS_FILE = CMAPSS_FD001;
const HOUR = 3_600_000;
const CAP_MS = 125 * HOUR;

type Msg = NodeMessage & { payload: RulEstimate; error?: { message: string } };
interface Rig {
  node: Node;
  out: Msg[];
  caught: Msg[];
  statuses: Array<{ fill?: string; text?: string }>;
  errors: unknown[];
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

function load(cfg: Record<string, unknown>): Promise<Rig> {
  const flow = [
    { id: 'r', type: 'twin-rul', name: 'rul', ...cfg, wires: [['o']] },
    { id: 'o', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['r'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([rulNode, catchNode] as never, flow, () => {
        const node = helper.getNode('r');
        // what the node did while starting (before these listeners) is on the helper's spies
        const spied = node as unknown as { status: { args: unknown[][] }; error: { args: unknown[][] } };
        const rig: Rig = {
          node,
          out: [],
          caught: [],
          statuses: spied.status.args.map((a) => a[0] as Rig['statuses'][number]),
          errors: spied.error.args.map((a) => a[0]),
        };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

/** Readings of rows [from, to) of a unit, one per channel, as an ingestion node sends them. */
function readings(
  u: UnitHistory,
  from: number,
  to: number,
  asset = u.asset,
  extra: Record<string, unknown> = {},
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let r = from; r < to; r++)
    u.channels.forEach((tag, c) =>
      out.push({ asset, tag, value: u.values[r][c], tsMs: u.tsMs[r], quality: 'good', source: 'test', ...extra }),
    );
  return out;
}

async function feed(rig: Rig, msgs: Record<string, unknown>[], outs: number, errs = 0): Promise<void> {
  for (const m of msgs) rig.node.receive(m as never);
  await waitFor(() => rig.out.length >= outs && rig.caught.length >= errs, 10_000, 10, `${outs} outputs and ${errs} errors`);
  await new Promise((r) => setTimeout(r, 50)); // nothing more arrives
  expect(rig.out.length, 'outputs').to.equal(outs);
  expect(rig.caught.length, 'errors').to.equal(errs);
}
const asPayloads = (rs: Record<string, unknown>[]) => rs.map((payload) => ({ payload }));

function truncate(u: UnitHistory, from: number, to: number, asset = u.asset): UnitHistory {
  return { asset, channels: u.channels, tsMs: u.tsMs.slice(from, to), values: u.values.slice(from, to) };
}

/** What the node must give: the runtime estimate on the same history (the node keeps only the channels the model reads). */
function expected(model: AnyRulModel, h: UnitHistory, quality: 'good' | 'uncertain' | 'bad' = 'good'): RulEstimate {
  return JSON.parse(JSON.stringify(estimateRulAny(model, h, quality))) as RulEstimate;
}

describe('twin-rul node', function () {
  this.timeout(30_000);
  let dir: string;
  let modelPath: string;
  let model: AnyRulModel;
  let units: UnitHistory[];
  let engine: UnitHistory;

  before(function () {
    units = readCmapss(CMAPSS_FILE, HOUR);
    dir = mkdtempSync(join(tmpdir(), 'twin-rul-'));
    modelPath = join(dir, 'model.json');
    writeFileSync(modelPath, rulModelToJson(fitRulAny(units.slice(0, 20), { method: 'similarity', rulCapMs: CAP_MS, seed: 3 })));
    model = rulModelFromText(readFileSync(modelPath, 'utf8'));
    engine = units[30];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('gives one RulEstimate per completed row, equal to the model on the history so far', async function () {
    const rig = await load({ modelPath });
    await feed(rig, asPayloads(readings(engine, 0, 60)), 60);
    rig.out.forEach((m, r) => {
      expect(m.topic).to.equal(`${engine.asset}/rul`);
      expect(m.payload).to.deep.equal(expected(model, truncate(engine, 0, r + 1)));
      expect(m.payload.model).to.equal('rul-similarity');
      expect(m.payload.tsMs).to.equal(engine.tsMs[r]);
    });
    // the 60-row match window: short histories are uncertain, then good
    expect(rig.out[10].payload.quality).to.equal('uncertain');
    expect(rig.out[10].payload.qualityReason).to.match(/shorter than the 60-row match window/);
    expect(rig.out[59].payload.quality).to.equal('good');
    expect(rig.out[59].payload.rulP10Ms).to.be.at.most(rig.out[59].payload.rulMs);
    expect(rig.out[59].payload.rulP90Ms).to.be.at.least(rig.out[59].payload.rulMs);
    expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(false);
  });

  it('estimates less life near failure than early, and every N rows with emitEveryRows', async function () {
    const rig = await load({ modelPath, emitEveryRows: '25' });
    const n = engine.values.length;
    await feed(rig, asPayloads(readings(engine, 0, n)), Math.floor(n / 25));
    expect(rig.out.map((m) => m.payload.tsMs)).to.deep.equal(rig.out.map((_, i) => engine.tsMs[25 * (i + 1) - 1]));
    const last = rig.out[rig.out.length - 1].payload;
    expect(last.rulMs).to.be.lessThan(rig.out[1].payload.rulMs);
    expect((engine.tsMs[n - 1] - last.tsMs - last.rulMs) / HOUR, 'error near failure (cycles)').to.be.within(-30, 30);
  });

  it('a maintenance message (topic or msg.reset) makes the asset as new; other assets keep their history', async function () {
    const rig = await load({ modelPath });
    const other = units[31];
    await feed(rig, asPayloads([...readings(engine, 0, 50), ...readings(other, 0, 50)]), 100);
    rig.node.receive({ topic: 'maintenance', payload: { asset: engine.asset, job: 'overhaul' } } as never);
    await feed(rig, asPayloads(readings(engine, 50, 52)), 102);
    expect(rig.out[100].payload).to.deep.equal(expected(model, truncate(engine, 50, 51)));
    expect(rig.out[101].payload).to.deep.equal(expected(model, truncate(engine, 50, 52)));
    await feed(rig, asPayloads(readings(other, 50, 51)), 103);
    expect(rig.out[102].payload).to.deep.equal(expected(model, truncate(other, 0, 51)));
    rig.node.receive({ reset: true, payload: { asset: other.asset } } as never);
    await feed(rig, asPayloads(readings(other, 51, 52)), 104);
    expect(rig.out[103].payload).to.deep.equal(expected(model, truncate(other, 51, 52)));
    // a reset that names no asset is an error
    await feed(rig, [{ topic: 'maintenance', payload: {} }], 104, 1);
    expect(rig.caught[0].error!.message).to.match(/needs the asset in msg\.payload\.asset/);
  });

  it('rejects every bad input with a clear error and a red status, and loses nothing already accepted', async function () {
    const rig = await load({ modelPath });
    const clean = 'clean-twin';
    await feed(rig, asPayloads([...readings(engine, 0, 45), ...readings(engine, 0, 45, clean)]), 90);
    const next = readings(engine, 45, 46);
    const bad: Array<[unknown, RegExp]> = [
      ['not a reading', /payload is not a Reading object/],
      [[next[0]], /array of 1/],
      [{ ...next[5], tag: 'zz' }, /unknown channel 'zz'.*the model knows setting1, setting2/],
      [{ ...next[5], value: Infinity }, /not finite/],
      [{ ...next[5], value: 'high' }, /not a number/],
      [{ ...next[5], tsMs: engine.tsMs[43] }, /before the asset's last reading/],
      [{ ...next[5], tsMs: engine.tsMs[44] }, /row at .* is already complete/],
      [{ ...next[5], quality: 'great' }, /quality must be good, uncertain or bad/],
    ];
    await feed(
      rig,
      bad.map(([payload]) => ({ payload })),
      90,
      bad.length,
    );
    bad.forEach(([, re], i) => expect(rig.caught[i].error!.message).to.match(re));
    expect(rig.statuses.filter((s) => s.fill === 'red')).to.have.length(bad.length);
    await feed(rig, asPayloads([...next, ...readings(engine, 45, 46, clean)]), 92, bad.length);
    expect({ ...rig.out[90].payload, asset: '' }).to.deep.equal({ ...rig.out[91].payload, asset: '' });
    expect(rig.out[90].payload).to.deep.equal(expected(model, truncate(engine, 0, 46)));
  });

  it('degrades quality: uncertain readings, a channel beyond its training range, a row completed with held values', async function () {
    const rig = await load({ modelPath });
    await feed(rig, asPayloads(readings(engine, 0, 44)), 44);
    const row = readings(engine, 44, 45);
    const s2 = row.findIndex((r) => r.tag === 's2');
    row[s2] = { ...row[s2], quality: 'uncertain', qualityReason: 'stale' };
    await feed(rig, asPayloads(row), 45);
    const u = rig.out[44].payload;
    expect(u.quality).to.equal('uncertain');
    expect(u.qualityReason).to.match(/s2 uncertain \(stale\)/);
    expect(u.rulMs).to.equal(expected(model, truncate(engine, 0, 45)).rulMs);
    // out of range: s4 far above anything seen in training
    const hot = readings(engine, 45, 46).map((r) => (r.tag === 's4' ? { ...r, value: 2000 } : r));
    await feed(rig, asPayloads(hot), 46);
    expect(rig.out[45].payload.quality).to.equal('uncertain');
    expect(rig.out[45].payload.qualityReason).to.match(/s4 = 2000 outside the training range/);
    // bad readings make the estimate bad while they are in the 60-row window
    await feed(rig, asPayloads(readings(engine, 46, 47, engine.asset, { quality: 'bad' })), 47);
    expect(rig.out[46].payload.quality).to.equal('bad');
    // a row whose s3 never comes: completed by the next row's first reading, s3 held
    const gap = readings(engine, 47, 48).filter((r) => r.tag !== 's3');
    await feed(rig, asPayloads([...gap, ...readings(engine, 48, 49)]), 49);
    expect(rig.out[47].payload.tsMs).to.equal(engine.tsMs[47]);
    expect(rig.out[47].payload.qualityReason).to.match(/held s3 from an earlier row/);
  });

  it('live data: one row per interval with the latest value of each channel held', async function () {
    const rig = await load({ modelPath, rowIntervalMs: String(HOUR) });
    // each cycle's readings spread over the first half of its hour, rows taken at the hour's end
    const msgs = readings(engine, 0, 50).map((r, i) => ({ payload: { ...r, tsMs: (r.tsMs as number) + (i % 24) * 60_000 } }));
    await feed(rig, msgs, 49); // the 50th interval ends with no later reading yet
    expect(rig.out[48].payload.tsMs).to.equal(engine.tsMs[48] + HOUR);
    expect(rig.out[48].payload.rulMs).to.equal(expected(model, truncate(engine, 0, 49)).rulMs);
    expect(rig.out[48].payload.qualityReason).to.match(/shorter than the 60-row match window$/);
    // 5 silent hours: their held rows are taken, one estimate at the end, uncertain (no reading for over 3 intervals)
    await feed(rig, asPayloads(readings(engine, 54, 55)), 50);
    expect(rig.out[49].payload.tsMs).to.equal(engine.tsMs[53] + HOUR);
    expect(rig.out[49].payload.qualityReason).to.match(/no reading of s2, .* for over 3 intervals/);
  });

  it('a missing or invalid model file: red status, every input refused with the reason', async function () {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ kind: 'rul-similarity', version: 1, rulCapMs: 1, signals: { channels: [] } }));
    for (const [path, re] of [
      [join(dir, 'nope.json'), /cannot read the model file .*nope\.json: ENOENT/],
      [broken, /signals\.channels must be a non-empty list/],
      ['', /no model file/],
    ] as const) {
      const rig = await load({ modelPath: path });
      expect(rig.statuses[rig.statuses.length - 1].fill).to.equal('red');
      expect(String(rig.errors[0])).to.match(re);
      await feed(rig, asPayloads(readings(engine, 0, 1)), 0, 24);
      expect(rig.caught[0].error!.message).to.match(/not estimating: the node's configuration is invalid/);
      await helper.unload();
    }
  });

  it('resolves a relative model path against the user directory', async function () {
    helper.settings({ userDir: dir });
    try {
      const rig = await load({ modelPath: 'model.json' });
      await feed(rig, asPayloads(readings(engine, 0, 1)), 1);
    } finally {
      helper.settings({});
    }
  });

  it('estimates with a model written as plain JSON (Infinity as null, as older files have it)', async function () {
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify(model));
    const rig = await load({ modelPath: plain });
    await feed(rig, asPayloads(readings(engine, 0, 60)), 60);
    expect(rig.out[59].payload).to.deep.equal(expected(model, truncate(engine, 0, 60)));
  });
});
