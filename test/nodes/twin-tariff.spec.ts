import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { canonicalJson } from '../../runtime/control/canonical.js';
import { periodAt, type Tariff, type TariffDef } from '../../runtime/energy/tariff.js';
import type { TwinTariffNode } from '../../nodes/twin-tariff/tariff-api.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const injectNode = require('@node-red/nodes/core/common/20-inject.js');
const functionNode = require('@node-red/nodes/core/function/10-function.js');
const tariffNode = nodeModule('twin-tariff');
const updateNode = nodeModule('twin-tariff-update');

/** The example a new twin-tariff node starts with, as the editor ships it. */
function defaultTariff(): TariffDef {
  const html = readFileSync(join(__dirname, '..', '..', 'dist', 'nodes', 'twin-tariff', 'twin-tariff.html'), 'utf8');
  const m = /var DEFAULT_TARIFF = (\{[\s\S]*?\n {2}\});/.exec(html);
  expect(m, 'DEFAULT_TARIFF in twin-tariff.html').to.not.equal(null);
  return JSON.parse(m![1]) as TariffDef;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const utc = (iso: string): number => Date.parse(iso);

/** Peak Mon–Fri 08–20 at 0.30, off-peak elsewhere at 0.20. */
const simple: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.2 },
  ],
  defaultPeriod: 'offpeak',
};
/** `simple` with a shoulder period that overlaps peak on weekdays 18–20. */
const overlapping: TariffDef = {
  ...simple,
  periods: [
    ...simple.periods,
    { name: 'shoulder', priceEurPerKwh: 0.25, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 18, toHour: 22 }] },
  ],
};

type Msg = NodeMessage & { payload: { version: string; by: string }; error?: { message: string } };
type Status = { fill?: string; shape?: string; text?: string };
interface Rig {
  tariff: TwinTariffNode;
  update: Node;
  out: Msg[];
  caught: Msg[];
  statuses: Status[];
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

/** Log entries of a level (20 error, 30 warn, 40 info) from one node. */
function logged(level: number, id: string): string[] {
  return (helper.log().args as Array<[{ level: number; id?: string; msg?: unknown }]>)
    .map((a) => a[0])
    .filter((e) => e.level === level && e.id === id)
    .map((e) => String(e.msg));
}

function load(tariffText: string): Promise<Rig> {
  const flow = [
    { id: 'tf', type: 'twin-tariff', name: 'site tariff', tariff: tariffText },
    { id: 'up', type: 'twin-tariff-update', name: 'next prices', tariff: 'tf', wires: [['o']] },
    { id: 'o', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['up'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([tariffNode, updateNode, catchNode] as never, flow, () => {
        const rig: Rig = {
          tariff: helper.getNode('tf') as TwinTariffNode,
          update: helper.getNode('up'),
          out: [],
          caught: [],
          statuses: [],
        };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Status] }>(rig.update, 'call:status', (call) => rig.statuses.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

/** Send one message to the update node; resolve when it answered (an output or a caught error). */
async function send(rig: Rig, msg: Record<string, unknown>): Promise<void> {
  const outs = rig.out.length;
  const errs = rig.caught.length;
  rig.update.receive(msg as never);
  await waitFor(() => rig.out.length > outs || rig.caught.length > errs, 10_000, 10, 'an answer from twin-tariff-update');
}

describe('twin-tariff config node and twin-tariff-update', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('compiles the default example tariff (Berlin TOU: seasons, weekend, holidays) and versions it', async function () {
    const def = defaultTariff();
    const rig = await load(JSON.stringify(def, null, 2));
    expect(rig.tariff.configError).to.equal(undefined);
    const t = rig.tariff.tariff()!;
    expect(t.timeZone).to.equal('Europe/Berlin');
    expect(periodAt(t, utc('2026-01-07T09:00:00Z')).name).to.equal('peak-winter'); // Wed 10:00 CET
    expect(periodAt(t, utc('2026-01-07T06:30:00Z')).name).to.equal('peak-winter'); // Wed 07:30 CET (winter peak from 07)
    expect(periodAt(t, utc('2026-07-01T05:30:00Z')).name).to.equal('offpeak'); // Wed 07:30 CEST (summer peak from 08)
    expect(periodAt(t, utc('2026-07-01T06:30:00Z')).name).to.equal('peak-summer'); // Wed 08:30 CEST
    expect(periodAt(t, utc('2026-07-01T18:30:00Z')).name).to.equal('offpeak'); // Wed 20:30 CEST
    expect(periodAt(t, utc('2026-01-10T10:00:00Z')).name).to.equal('weekend'); // Sat
    expect(periodAt(t, utc('2026-12-25T10:00:00Z')).name).to.equal('weekend'); // Fri, Christmas
    expect(periodAt(t, utc('2026-05-14T10:00:00Z')).name).to.equal('weekend'); // Thu, Ascension
    expect(t.demandBlockMinutes).to.equal(15);
    expect(t.demandChargeEurPerKw).to.be.greaterThan(0);
    expect(t.powerFactorPenalty).to.not.equal(null);
    expect(t.fixedFeeEurPerPeriod).to.be.greaterThan(0);
    expect(t.co2KgPerKwh).to.be.greaterThan(0);
    // the version is the hash of the canonical JSON: layout and key order do not change it
    expect(rig.tariff.version()).to.equal(sha256(canonicalJson(def)));
    await waitFor(() => rig.statuses.length > 0 || undefined, 5000, 10, 'a status');
    expect(rig.statuses.at(-1)).to.deep.equal({ fill: 'green', shape: 'dot', text: `tariff ${rig.tariff.version().slice(0, 8)}` });
  });

  it('a saved tariff with an unknown time zone: configError and a logged error naming the zone; users show red', async function () {
    const rig = await load(JSON.stringify({ ...simple, timeZone: 'Europe/Berlni' }));
    expect(rig.tariff.configError).to.contain("unknown time zone 'Europe/Berlni'");
    expect(rig.tariff.tariff()).to.equal(null);
    expect(rig.tariff.version()).to.equal('');
    await waitFor(() => logged(20, 'tf').length > 0 || undefined, 5000, 10, 'the logged config error');
    expect(logged(20, 'tf')[0]).to.contain('invalid twin-tariff').and.contain('Europe/Berlni');
    await waitFor(() => rig.statuses.length > 0 || undefined, 5000, 10, 'a status');
    expect(rig.statuses.at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'bad saved tariff' });
  });

  it('a saved tariff with overlapping periods: configError naming both windows, the day and the hours', async function () {
    const rig = await load(JSON.stringify(overlapping));
    expect(rig.tariff.configError).to.contain("'peak' window 1").and.contain("'shoulder' window 1").and.contain('18:00–20:00');
    expect(rig.tariff.tariff()).to.equal(null);
  });

  it('a saved text that is not JSON, or empty, is a clear configError', async function () {
    let rig = await load('{ "timeZone": "Europe/Berlin", ');
    expect(rig.tariff.configError).to.match(/^tariff: not valid JSON \(/);
    await helper.unload();
    rig = await load('');
    expect(rig.tariff.configError).to.contain('no definition');
  });

  it('updates by message: new tariff in force, onChange told, version changed, output { version, by }, change logged', async function () {
    const rig = await load(JSON.stringify(simple));
    const before = rig.tariff.version();
    const seen: Tariff[] = [];
    rig.tariff.onChange((t) => seen.push(t));
    const next: TariffDef = { ...simple, periods: [{ ...simple.periods[0], priceEurPerKwh: 0.33 }, simple.periods[1]] };

    await send(rig, { payload: next, by: 'energy manager (j.doe)' });
    expect(rig.caught).to.have.length(0);
    const after = rig.tariff.version();
    expect(after).to.not.equal(before);
    expect(after).to.equal(sha256(canonicalJson(next)));
    expect(rig.out[0].payload).to.deep.equal({ version: after, by: 'energy manager (j.doe)' });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.equal(rig.tariff.tariff());
    expect(periodAt(seen[0], utc('2026-01-07T09:00:00Z')).priceEurPerKwh).to.equal(0.33);
    const info = logged(40, 'tf');
    expect(info.at(-1))
      .to.contain('energy manager (j.doe)')
      .and.contain(before.slice(0, 12))
      .and.contain(after.slice(0, 12))
      .and.contain('not saved');
    await waitFor(
      () => rig.statuses.at(-1)?.text === `tariff ${after.slice(0, 8)}` || undefined,
      5000,
      10,
      'the new version in the status',
    );
  });

  it('the tariff in force is a copy: changing the sent object afterwards changes neither tariff nor version', async function () {
    const rig = await load(JSON.stringify(simple));
    const next = JSON.parse(JSON.stringify(simple)) as TariffDef;
    next.periods[0].priceEurPerKwh = 0.4;
    rig.tariff.update(next, 'test');
    const version = rig.tariff.version();
    next.periods[0].priceEurPerKwh = 9;
    expect(periodAt(rig.tariff.tariff()!, utc('2026-01-07T09:00:00Z')).priceEurPerKwh).to.equal(0.4);
    expect(rig.tariff.version()).to.equal(version);
  });

  it('a JSON string payload is taken; the default `by` is the update node', async function () {
    const rig = await load(JSON.stringify(simple));
    const next = { ...simple, co2KgPerKwh: 0.35 };
    await send(rig, { payload: JSON.stringify(next) });
    expect(rig.out[0].payload).to.deep.equal({ version: sha256(canonicalJson(next)), by: "twin-tariff-update 'next prices'" });
    expect(rig.tariff.tariff()!.co2KgPerKwh).to.equal(0.35);
  });

  it('a bad update is refused with a clear error; the old tariff, its version and the listeners are untouched; the node keeps working', async function () {
    const rig = await load(JSON.stringify(simple));
    const old = rig.tariff.tariff();
    const oldVersion = rig.tariff.version();
    let told = 0;
    rig.tariff.onChange(() => told++);

    await send(rig, { payload: overlapping });
    expect(rig.out).to.have.length(0);
    expect(rig.caught[0].error!.message)
      .to.contain('tariff update refused, the tariff in force stays')
      .and.contain("'peak' window 1")
      .and.contain("'shoulder' window 1");
    await send(rig, { payload: { ...simple, timeZone: 'Mars/Olympus_Mons' } });
    expect(rig.caught[1].error!.message).to.contain("unknown time zone 'Mars/Olympus_Mons'");
    await send(rig, { payload: '{ not json' });
    expect(rig.caught[2].error!.message).to.contain('payload is not valid JSON');
    expect((rig.caught[2].error as { code?: string }).code).to.equal('BAD_JSON');
    expect((rig.caught[0].error as { code?: string }).code).to.equal('BAD_CONFIG');
    await send(rig, { payload: { ...simple, periods: [{ name: 'flat', priceEurPerKwh: 0.2, windows: 5 }], defaultPeriod: 'flat' } });
    expect(rig.caught[3].error!.message).to.contain('tariff update refused');

    expect(rig.tariff.tariff()).to.equal(old);
    expect(rig.tariff.version()).to.equal(oldVersion);
    expect(told).to.equal(0);
    expect(rig.statuses.at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'update refused' });
    expect(rig.statuses.every((s) => (s.text ?? '').length < 20)).to.equal(true);

    const next = { ...simple, fixedFeeEurPerPeriod: 150 };
    await send(rig, { payload: next });
    expect(rig.out).to.have.length(1);
    expect(rig.tariff.version()).to.equal(sha256(canonicalJson(next)));
    expect(told).to.equal(1);
  });

  it('a good update replaces a bad saved tariff and clears configError; unsubscribed listeners hear nothing', async function () {
    const rig = await load(JSON.stringify(overlapping));
    expect(rig.tariff.configError).to.be.a('string');
    let told = 0;
    const unsubscribe = rig.tariff.onChange(() => told++);
    await send(rig, { payload: simple });
    expect(rig.tariff.configError).to.equal(undefined);
    expect(rig.tariff.tariff()!.periods.map((p) => p.name)).to.deep.equal(['peak', 'offpeak']);
    expect(told).to.equal(1);
    await waitFor(() => rig.statuses.at(-1)?.fill === 'green' || undefined, 5000, 10, 'a green status');
    unsubscribe();
    await send(rig, { payload: { ...simple, co2KgPerKwh: 0.1 } });
    expect(told).to.equal(1);
  });

  it('the same definition in another layout or key order has the same version', async function () {
    const rig = await load(JSON.stringify(simple, null, 4));
    const version = rig.tariff.version();
    const reordered = JSON.parse(
      JSON.stringify(simple, Object.keys(simple).reverse().concat('name', 'priceEurPerKwh', 'windows', 'days', 'fromHour', 'toHour')),
    );
    expect(Object.keys(reordered)[0]).to.not.equal(Object.keys(simple)[0]);
    rig.tariff.update(reordered as TariffDef, 'test');
    expect(rig.tariff.version()).to.equal(version);
  });

  it('an update node with no tariff selected refuses every message', async function () {
    const flow = [
      { id: 'up', type: 'twin-tariff-update', tariff: '', wires: [['o']] },
      { id: 'o', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['up'], uncaught: false, wires: [['k']] },
      { id: 'k', type: 'helper' },
    ];
    await helper.load([tariffNode, updateNode, catchNode] as never, flow);
    const caught: Msg[] = [];
    listen<Msg>(helper.getNode('k'), 'input', (m) => caught.push(m));
    helper.getNode('up').receive({ payload: simple } as never);
    await waitFor(() => caught.length > 0 || undefined, 5000, 10, 'the refusal');
    expect(caught[0].error!.message).to.contain('no twin-tariff selected');
  });

  it("the editor's Check compiles with the runtime's checks", async function () {
    await load(JSON.stringify(simple));
    const ok = await helper
      .request()
      .post('/twinloop/tariff/check')
      .send({ tariff: JSON.stringify(simple) })
      .expect(200);
    expect(ok.body).to.include({ ok: true, version: sha256(canonicalJson(simple)), timeZone: 'Europe/Berlin' });
    expect(ok.body.periods).to.deep.equal(['peak', 'offpeak']);
    expect(ok.body.prices.map((p: { name: string }) => p.name)).to.deep.equal(['peak', 'offpeak']);
    // the week the dialog draws: one plan (no seasons), Monday first, holidays last
    expect(ok.body.week).to.have.length(1);
    expect(ok.body.week[0].days.map((d: { day: string }) => d.day)).to.deep.equal([
      'mon',
      'tue',
      'wed',
      'thu',
      'fri',
      'sat',
      'sun',
      'holiday',
    ]);
    const bad = await helper
      .request()
      .post('/twinloop/tariff/check')
      .send({ tariff: JSON.stringify(overlapping) })
      .expect(400);
    expect(bad.body.ok).to.equal(false);
    expect(bad.body.error).to.contain("'shoulder' window 1");
  });

  it("the Import-menu example: its tariff is the default; next year's prices are taken, the overlapping one is refused", async function () {
    type FlowNode = { id: string; type: string; tariff?: string; [k: string]: unknown };
    const flow = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'energy', 'tariff-update.json'), 'utf8')) as FlowNode[];
    const saved = flow.find((n) => n.type === 'twin-tariff')!;
    expect(JSON.parse(saved.tariff!)).to.deep.equal(defaultTariff());
    // debug nodes become helper nodes so the test sees what the sidebar would show
    // (comment nodes explain the example in the editor; the test runtime does not load their module)
    const rigged = flow.filter((n) => n.type !== 'comment').map((n) => (n.type === 'debug' ? { id: n.id, z: n.z, type: 'helper' } : n));
    await helper.load([tariffNode, updateNode, catchNode, injectNode, functionNode] as never, rigged);
    const shown: Msg[] = [];
    const refused: Msg[] = [];
    listen<Msg>(helper.getNode('tu-debug'), 'input', (m) => shown.push(m));
    listen<Msg>(helper.getNode('tu-debug-err'), 'input', (m) => refused.push(m));
    const tariff = helper.getNode(saved.id) as TwinTariffNode;
    const first = tariff.version();

    helper.getNode('tu-inject-next').receive({} as never);
    await waitFor(() => shown.length > 0 || undefined, 10_000, 10, "next year's prices taken");
    expect(shown[0].payload.by).to.equal('energy manager (example flow)');
    expect(shown[0].payload.version).to.equal(tariff.version()).and.not.equal(first);
    expect(periodAt(tariff.tariff()!, utc('2027-01-13T09:00:00Z')).priceEurPerKwh).to.equal(0.3); // Wed 10:00 CET

    const second = tariff.version();
    helper.getNode('tu-inject-bad').receive({} as never);
    await waitFor(() => refused.length > 0 || undefined, 10_000, 10, 'the refusal');
    expect(refused[0].error!.message).to.contain("'peak-winter' window 1").and.contain("'shoulder' window 1");
    expect(tariff.version()).to.equal(second);
    expect(shown).to.have.length(1);
  });
});
