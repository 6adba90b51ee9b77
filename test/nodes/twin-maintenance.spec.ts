import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import type { MaintenanceProposal, MaintenanceWindow } from '../../runtime/model/maintenance.js';
import type { TariffDef } from '../../runtime/energy/tariff.js';
import type { TwinTariffNode } from '../../nodes/twin-tariff/tariff-api.js';
import { assertMaintenanceProposal } from '../../runtime/control/gate-maintenance.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const maintenanceNode = nodeModule('twin-maintenance');
const tariffNode = nodeModule('twin-tariff');

type WinMsg = NodeMessage & {
  payload: MaintenanceWindow[];
  reason?: string;
  decision?: string;
  recommendation?: MaintenanceWindow | null;
  extra?: string;
};
type PropMsg = NodeMessage & { payload: MaintenanceProposal };
type ErrMsg = NodeMessage & { error?: { message: string; source?: { id: string } } };
interface Rig {
  node: Node;
  windows: WinMsg[];
  proposals: PropMsg[];
  caught: ErrMsg[];
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  errors: unknown[];
}

const D = 86_400_000;
const H = 3_600_000;
const ASSET = 'demo/plant1/press/line1/press';
const OTHER = 'demo/plant1/press/line2/press';
const T0 = Date.parse('2026-03-02T08:00:00Z'); // Mon 09:00 CET
const ALL = ['early', 'late', 'night'];
const SHIFTS = [
  { name: 'early', start: '06:00', end: '14:00' },
  { name: 'late', start: '14:00', end: '22:00' },
  { name: 'night', start: '22:00', end: '06:00' },
];
const WEEK = { mon: ALL, tue: ALL, wed: ALL, thu: ALL, fri: ALL, sat: ALL, sun: ALL };
const CALENDAR = {
  shifts: SHIFTS,
  week: WEEK,
  plannedStops: [{ name: 'Saturday maintenance', days: ['sat'], from: '06:00', to: '14:00' }],
};
const CONFIG = {
  job: 'Replace gearbox bearing',
  timeZone: 'Europe/Berlin',
  calendar: JSON.stringify(CALENDAR),
  jobDurationMin: '360',
  jobCostEur: '1000',
  downtimeCostEurPerHour: '2000',
  failureCostEur: '50000',
  horizonDays: '14',
  stepMin: '15',
  topN: '3',
  relativeMargin: '0.1',
  absoluteMarginEur: '200',
  proposalExpiryMin: '60',
  maxFailureProbability: '', // blank in the editor: no limit
};
const TARIFF: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.1 },
  ],
  defaultPeriod: 'offpeak',
};

function rul(p50Days: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    asset: ASSET,
    tsMs: T0,
    rulMs: p50Days * D,
    rulP10Ms: p50Days * 0.7 * D,
    rulP90Ms: p50Days * 1.3 * D,
    healthIndex: 0.5,
    quality: 'good',
    model: 'rul-similarity',
    ...extra,
  };
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

function load(cfg: Record<string, unknown>, tariff?: TariffDef | string): Promise<Rig> {
  const flow: Record<string, unknown>[] = [
    { id: 'm', type: 'twin-maintenance', name: 'maint', ...cfg, wires: [['w'], ['p']] },
    { id: 'w', type: 'helper' },
    { id: 'p', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['m'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  if (tariff !== undefined)
    flow.push({ id: 'tar', type: 'twin-tariff', name: 'tariff', tariff: typeof tariff === 'string' ? tariff : JSON.stringify(tariff) });
  return new Promise((resolve, reject) => {
    helper
      .load([tariffNode, maintenanceNode, catchNode] as never, flow as never, () => {
        const rig: Rig = { node: helper.getNode('m'), windows: [], proposals: [], caught: [], statuses: [], errors: [] };
        listen<WinMsg>(helper.getNode('w'), 'input', (m) => rig.windows.push(m));
        listen<PropMsg>(helper.getNode('p'), 'input', (m) => rig.proposals.push(m));
        listen<ErrMsg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

/** Send messages; resolve when the counts are reached, then check nothing more arrives. */
async function feed(
  rig: Rig,
  msgs: Array<Record<string, unknown>>,
  want: { windows: number; proposals: number; errors?: number },
): Promise<void> {
  for (const m of msgs) rig.node.receive({ extra: 'kept', ...m } as never);
  const errs = want.errors ?? 0;
  await waitFor(
    () => rig.windows.length >= want.windows && rig.proposals.length >= want.proposals && rig.caught.length >= errs,
    10_000,
    10,
    JSON.stringify(want),
  );
  await new Promise((r) => setTimeout(r, 50));
  expect(rig.windows.length, 'window messages').to.equal(want.windows);
  expect(rig.proposals.length, 'proposals').to.equal(want.proposals);
  expect(rig.caught.length, 'errors').to.equal(errs);
}
const lastStatus = (rig: Rig) => rig.statuses[rig.statuses.length - 1];

describe('twin-maintenance node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('ranks windows per asset (output 1) and proposes the best one (output 2)', async function () {
    const rig = await load(CONFIG);
    const before = Date.now();
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
    const w = rig.windows[0];
    expect(w.topic).to.equal(ASSET);
    expect(w.extra).to.equal('kept');
    expect(w.payload).to.have.length(3);
    expect(w.payload[0]).to.include({ rank: 1, startLocal: '2026-03-07T06:00:00+01:00', productionLossMinutes: 0, asset: ASSET, tsMs: T0 });
    expect(w.decision).to.equal('first recommendation');
    const p = rig.proposals[0];
    expect(p.topic).to.equal(ASSET);
    expect(p.payload).to.include({ kind: 'maintenance', asset: ASSET, job: 'Replace gearbox bearing', createdTsMs: T0, quality: 'good' });
    expect(p.payload.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.payload.supersedes).to.equal(undefined);
    expect(p.payload.window).to.deep.equal(w.payload[0]);
    expect(p.payload.alternatives).to.deep.equal(w.payload.slice(1));
    expect(p.payload.rul).to.deep.include({ asset: ASSET, rulMs: 60 * D });
    expect(p.payload.expiresTsMs).to.be.within(before + 60 * 60_000, Date.now() + 60 * 60_000);
    expect(p.payload.rationale).to.match(
      /^Replace gearbox bearing on demo\/plant1\/press\/line1\/press 2026-03-07T06:00:00\+01:00 – 2026-03-07T12:00:00\+01:00: planned stop 'Saturday maintenance' Sat 06:00–14:00, no production lost; P\(fail first\) <0\.1 %\. Expected cost 1,000\.00 EUR \(job 1,000\.00 EUR, downtime 0\.00 EUR, failure risk 0\.00 EUR, energy 0\.00 EUR\)\. RUL 60 d \(P10 42 d, P90 78 d\) as of 2026-03-02T09:00:00\+01:00; first recommendation\.$/,
    );
    expect(lastStatus(rig)).to.deep.equal({ fill: 'green', shape: 'dot', text: 'proposed' });
    expect(() => assertMaintenanceProposal(p.payload), 'the approval gate’s payload check').to.not.throw();
  });

  it('small estimate changes give windows but no new proposal; a big change supersedes the open one', async function () {
    const rig = await load(CONFIG);
    await feed(rig, [{ payload: rul(60) }, { payload: rul(57, { tsMs: T0 + 6 * H }) }, { payload: rul(62, { tsMs: T0 + 12 * H }) }], {
      windows: 3,
      proposals: 1,
    });
    expect(rig.windows[2].decision).to.equal('standing window is still the best');
    expect(rig.windows[2].recommendation).to.include({ rank: 0, startLocal: '2026-03-07T06:00:00+01:00' });
    expect(lastStatus(rig)).to.deep.equal({ fill: 'green', shape: 'dot', text: '3 windows' });
    await feed(rig, [{ payload: rul(3, { tsMs: T0 + 13 * H }) }], { windows: 4, proposals: 2 });
    const p2 = rig.proposals[1].payload;
    expect(p2.supersedes).to.equal(rig.proposals[0].payload.id);
    expect(p2.id).to.not.equal(rig.proposals[0].payload.id);
    expect(p2.window.startMs).to.equal(T0 + 13 * H);
    expect(p2.window.productionLossMinutes).to.equal(360);
    expect(p2.rationale).to.match(/a new window saves [\d,]+\.\d\d EUR \(\d+\.\d %\) of expected cost/);
  });

  it('keeps one standing proposal per asset', async function () {
    const rig = await load(CONFIG);
    await feed(rig, [{ payload: rul(60) }, { payload: rul(60, { asset: OTHER }) }, { payload: rul(59, { tsMs: T0 + H }) }], {
      windows: 3,
      proposals: 2,
    });
    expect(rig.proposals.map((p) => p.payload.asset)).to.deep.equal([ASSET, OTHER]);
    expect(rig.proposals[1].payload.supersedes).to.equal(undefined);
  });

  it('proposes afresh once the open proposal has expired (wall clock)', async function () {
    const rig = await load({ ...CONFIG, proposalExpiryMin: '0.001' }); // 60 ms
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await feed(rig, [{ payload: rul(60, { tsMs: T0 + H }) }], { windows: 2, proposals: 2 });
    expect(rig.proposals[1].payload.supersedes).to.equal(undefined);
  });

  it('ranks a bad-quality estimate but never proposes from it', async function () {
    const rig = await load(CONFIG);
    await feed(rig, [{ payload: rul(60, { quality: 'bad', qualityReason: 'sensor failed' }) }], { windows: 1, proposals: 0 });
    expect(rig.windows[0].payload[0]).to.include({ quality: 'bad', qualityReason: 'sensor failed' });
  });

  const badInputs: Array<[string, Record<string, unknown>, RegExp, string]> = [
    ['a string payload', { payload: 'hello' }, /payload is not a RulEstimate object \(got string\)/, 'bad payload'],
    ['a null payload', { payload: null }, /payload is not a RulEstimate object \(got null\)/, 'bad payload'],
    ['an array payload', { payload: [rul(60)] }, /got an array/, 'bad payload'],
    ['no asset', { payload: rul(60, { asset: '' }) }, /RulEstimate\.asset must be a non-empty string/, 'bad payload'],
    ['a missing tsMs', { payload: rul(60, { tsMs: undefined }) }, /RulEstimate\.tsMs must be epoch milliseconds/, 'bad timestamp'],
    ['a NaN rulMs', { payload: rul(60, { rulMs: NaN }) }, /RulEstimate\.rulMs is not finite: NaN/, 'not finite'],
    ['an infinite P90', { payload: rul(60, { rulP90Ms: Infinity }) }, /RulEstimate\.rulP90Ms is not finite: Infinity/, 'not finite'],
    ['a string P10', { payload: rul(60, { rulP10Ms: '5' }) }, /RulEstimate\.rulP10Ms must be a number, got "5"/, 'bad payload'],
    [
      'P10 above P90',
      { payload: rul(60, { rulP10Ms: 90 * D, rulP90Ms: 30 * D }) },
      /rulP10Ms 7776000000 is above rulP90Ms 2592000000/,
      'bad payload',
    ],
    ['P50 outside P10..P90', { payload: rul(60, { rulMs: 100 * D }) }, /rulMs 8640000000 is outside rulP10Ms\.\.rulP90Ms/, 'bad payload'],
    ['an unknown quality', { payload: rul(60, { quality: 'fine' }) }, /RulEstimate\.quality must be good, uncertain or bad/, 'bad payload'],
    [
      'a calendar with an unknown zone',
      { topic: 'calendar', payload: { ...CALENDAR, timeZone: 'Europe/Atlantis' } },
      /unknown time zone 'Europe\/Atlantis'/,
      'bad config',
    ],
    [
      'a calendar with overlapping shifts',
      { topic: 'calendar', payload: { ...CALENDAR, shifts: [...SHIFTS.slice(0, 2), { name: 'night', start: '21:00', end: '06:00' }] } },
      /shifts overlap: 'late' on sun and 'night' on sun both run on sun from 21:00/,
      'bad config',
    ],
    ['a calendar that is not JSON', { topic: 'calendar', payload: '{ shifts: ' }, /calendar message is not valid JSON/, 'bad config'],
    ['a calendar that is a number', { topic: 'calendar', payload: 42 }, /calendar message must be an object/, 'bad config'],
  ];
  for (const [what, msg, re, status] of badInputs) {
    it(`refuses ${what} with a clear error (Catch) and a red status, and keeps working unchanged`, async function () {
      const rig = await load(CONFIG);
      await feed(rig, [{ payload: rul(60) }, msg], { windows: 1, proposals: 1, errors: 1 });
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.caught[0].error?.source?.id).to.equal('m');
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === status)).to.equal(true);
      // state kept: the same calendar, the open proposal stands
      await feed(rig, [{ payload: rul(59, { tsMs: T0 + H }) }], { windows: 2, proposals: 1, errors: 1 });
      expect(rig.windows[1].payload[0].startLocal).to.equal('2026-03-07T06:00:00+01:00');
      expect(rig.windows[1].decision).to.equal('standing window is still the best');
      expect(lastStatus(rig).fill).to.equal('green');
    });
  }

  it('takes a new calendar by message: re-ranks the assets it knows and supersedes a window that now costs production', async function () {
    const rig = await load(CONFIG);
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
    const sunday = { ...CALENDAR, plannedStops: [{ name: 'Sunday maintenance', days: ['sun'], from: '06:00', to: '14:00' }] };
    await feed(rig, [{ topic: 'calendar', payload: JSON.stringify(sunday) }], { windows: 2, proposals: 2 });
    expect(rig.windows[1].topic).to.equal(ASSET);
    expect(rig.windows[1].payload[0]).to.include({ startLocal: '2026-03-08T06:00:00+01:00', productionLossMinutes: 0 });
    expect(rig.windows[1].payload[0].why).to.contain("planned stop 'Sunday maintenance'");
    expect(rig.proposals[1].payload.supersedes).to.equal(rig.proposals[0].payload.id);
    expect(rig.proposals[1].payload.window.startLocal).to.equal('2026-03-08T06:00:00+01:00');
    // and keeps it for later estimates
    await feed(rig, [{ payload: rul(60, { asset: OTHER }) }], { windows: 3, proposals: 3 });
    expect(rig.windows[2].payload[0].startLocal).to.equal('2026-03-08T06:00:00+01:00');
  });

  it('a calendar message before any estimate just replaces the calendar', async function () {
    const rig = await load(CONFIG);
    await feed(rig, [{ topic: 'calendar', payload: { ...CALENDAR, timeZone: 'America/New_York' } }], { windows: 0, proposals: 0 });
    expect(lastStatus(rig)).to.deep.equal({ fill: 'green', shape: 'dot', text: 'calendar updated' });
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
    expect(rig.windows[0].payload[0]).to.include({ startLocal: '2026-03-07T06:00:00-05:00', timeZone: 'America/New_York' });
  });

  it('says clearly when no window is feasible', async function () {
    const rig = await load({ ...CONFIG, calendar: JSON.stringify({ shifts: SHIFTS, week: WEEK }), allowProductionLoss: false });
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 0 });
    expect(rig.windows[0].payload).to.deep.equal([]);
    expect(rig.windows[0].reason).to.equal('no production-free window of 360 min in the next 14 days');
    expect(rig.windows[0].decision).to.equal('no feasible window');
    expect(lastStatus(rig)).to.deep.equal({ fill: 'yellow', shape: 'ring', text: 'no window' });
  });

  it('applies the risk limit from its config: failure due, no window, maintain now', async function () {
    const rig = await load({ ...CONFIG, maxFailureProbability: '0.05' });
    await feed(rig, [{ payload: rul(60, { tsMs: T0 + 7 * 60_000, rulMs: 0, rulP10Ms: -D, rulP90Ms: D }) }], { windows: 1, proposals: 0 });
    expect(rig.windows[0].payload).to.deep.equal([]);
    expect(rig.windows[0].reason).to.equal(
      'no window: P(failure before start) is above the limit 5 % for every candidate (100 % already at Mon 09:15); maintain now or raise the limit',
    );
  });

  it('accepts the editor defaults (the example calendar of twin-maintenance.html)', async function () {
    const html = readFileSync(join(__dirname, '..', '..', 'nodes', 'twin-maintenance', 'twin-maintenance.html'), 'utf8');
    const literal = /var EXAMPLE = JSON\.stringify\((\{[\s\S]*?\}), null, 2\);/.exec(html)?.[1];
    expect(literal, 'EXAMPLE in the editor').to.be.a('string');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluates the object literal of our own editor HTML
    const example = new Function(`return (${literal});`)() as object;
    const defaults = {
      job: 'maintenance',
      timeZone: 'Europe/Berlin',
      calendar: JSON.stringify(example, null, 2),
      jobDurationMin: 240,
      jobCostEur: 0,
      downtimeCostEurPerHour: 0,
      failureCostEur: 0,
      horizonDays: 14,
      stepMin: 15,
      topN: 5,
      maxFailureProbability: '',
      allowProductionLoss: true,
      tariff: '',
      jobPowerKw: 0,
      restartEnergyKwh: 0,
      relativeMargin: 0.1,
      absoluteMarginEur: 100,
      proposalExpiryMin: 1440,
    };
    const rig = await load(defaults);
    await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
    expect(rig.windows[0].payload).to.have.length(5);
    // All costs 0 by default: every window costs €0 and the earliest wins.
    expect(rig.windows[0].payload[0]).to.include({
      startLocal: '2026-03-02T09:00:00+01:00',
      expectedCostEur: 0,
      productionLossMinutes: 240,
    });
    expect(rig.errors).to.deep.equal([]);
  });

  it("the edit dialog's week preview: the calendar compiled with the runtime's checks, or the error it names", async function () {
    await load(CONFIG);
    const ok = await helper
      .request()
      .post('/twinloop/maintenance/calendar/check')
      .send({ calendar: JSON.stringify(CALENDAR), timeZone: 'Europe/Berlin' })
      .expect(200);
    expect(ok.body).to.include({ ok: true, timeZone: 'Europe/Berlin' });
    expect(ok.body.days.map((d: { day: string }) => d.day)).to.deep.equal(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(ok.body.days[0].shifts.length).to.be.greaterThan(0);
    const overlap = JSON.stringify({ ...CALENDAR, week: { mon: ['early', 'early'] } });
    const bad = await helper
      .request()
      .post('/twinloop/maintenance/calendar/check')
      .send({ calendar: overlap, timeZone: 'Europe/Berlin' })
      .expect(400);
    expect(bad.body).to.deep.equal({ ok: false, error: "production calendar: week.mon lists shift 'early' twice" });
    const zone = await helper
      .request()
      .post('/twinloop/maintenance/calendar/check')
      .send({ calendar: JSON.stringify({ ...CALENDAR, timeZone: 'UTC' }), timeZone: 'Europe/Berlin' })
      .expect(400);
    expect(zone.body.error).to.match(/calendar time zone 'UTC' differs from the node's 'Europe\/Berlin'/);
  });

  const badConfigs: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, /unknown time zone 'Mars\/Olympus'/],
    ['a calendar that is not JSON', { calendar: '{' }, /calendar is not valid JSON/],
    [
      'overlapping shifts',
      { calendar: JSON.stringify({ ...CALENDAR, week: { mon: ['early', 'early'] } }) },
      /week\.mon lists shift 'early' twice/,
    ],
    [
      'a calendar zone that differs from the node’s',
      { calendar: JSON.stringify({ ...CALENDAR, timeZone: 'UTC' }) },
      /calendar time zone 'UTC' differs from the node's 'Europe\/Berlin'/,
    ],
    ['a step of 0', { stepMin: '0' }, /stepMin must be a whole number of minutes 1\.\.1440, got 0/],
    ['a non-numeric cost', { failureCostEur: 'lots' }, /failureCostEur must be a number, got "lots"/],
    ['a negative margin', { absoluteMarginEur: '-5' }, /absoluteMarginEur must be a number ≥ 0/],
    ['a zero expiry', { proposalExpiryMin: '0' }, /proposalExpiryMin must be > 0/],
    ['a tariff node that is not deployed', { tariff: 'nope' }, /tariff node 'nope' is not deployed/],
  ];
  for (const [what, cfg, re] of badConfigs) {
    it(`with ${what}: red status, logged, and every input refused with BAD_CONFIG`, async function () {
      const rig = await load({ ...CONFIG, ...cfg });
      await waitFor(() => rig.errors.length > 0 && rig.statuses.length > 0, 5000, 10, 'config error');
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
      expect(String(rig.errors[0])).to.match(re);
      await feed(rig, [{ payload: rul(60) }], { windows: 0, proposals: 0, errors: 1 });
      expect(rig.caught[0].error?.message).to.match(/not ranking: the node's configuration is invalid/);
      expect(rig.caught[0].error?.message).to.match(re);
    });
  }

  describe('with a twin-tariff config node', function () {
    const energyCfg = { ...CONFIG, tariff: 'tar', jobPowerKw: '100', restartEnergyKwh: '50' };

    it('prices the job’s energy and re-ranks when the tariff changes', async function () {
      const rig = await load(energyCfg, TARIFF);
      await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
      // Sat 06:00–12:00 is off-peak: 100 kW × 6 h × 0.10 + 50 kWh × 0.10 = 65.
      const w1 = rig.windows[0].payload[0];
      expect(w1.startLocal).to.equal('2026-03-07T06:00:00+01:00');
      expect(w1.costParts.energyEur).to.be.closeTo(65, 1e-9);
      expect(w1.expectedCostEur).to.be.closeTo(1065 + w1.costParts.expectedFailureEur, 1e-9);
      expect(rig.proposals[0].payload.rationale).to.contain('energy 65.00 EUR');

      const t = helper.getNode('tar') as unknown as TwinTariffNode;
      t.update({ ...TARIFF, periods: [TARIFF.periods[0], { name: 'offpeak', priceEurPerKwh: 0.2 }] }, 'test');
      await waitFor(() => rig.windows.length >= 2, 10_000, 10, 're-rank after the tariff change');
      const again = rig.windows[1];
      expect(again.topic).to.equal(ASSET);
      expect(again.payload[0].costParts.energyEur).to.be.closeTo(130, 1e-9);
      expect(again.decision).to.equal('standing window is still the best');
      await new Promise((r) => setTimeout(r, 50));
      expect(rig.proposals).to.have.length(1);
    });

    it('a tariff node without a valid tariff: energy unpriced, windows uncertain and saying why', async function () {
      const rig = await load(energyCfg, '{ not json');
      await feed(rig, [{ payload: rul(60) }], { windows: 1, proposals: 1 });
      const w1 = rig.windows[0].payload[0];
      expect(w1.costParts.energyEur).to.equal(0);
      expect(w1.quality).to.equal('uncertain');
      expect(w1.qualityReason).to.match(/^tariff node has no valid tariff, energy not priced tariff: not valid JSON/);
      expect(rig.proposals[0].payload.quality).to.equal('uncertain');
    });
  });
});
