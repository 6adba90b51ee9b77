// twin-approval in maintenance mode in a real Node-RED runtime with the real twin-ledger config node
// and a ledger file: MaintenanceProposals in, decisions through the registered GateHandle<'maintenance'>
// (as the page makes them), a signed MaintenanceOrder out on approval, rejection, wall-clock expiry,
// supersede, bad payloads and config (to a Catch node, red status, the node goes on), the page's API
// refusing a decision without logins, and a restarted flow rebuilding the gate from the ledger file.
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { tempUserDir } from '../support/opcua-nr.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from '../support/maintenance-proposal.js';
import type { DecisionRequest, GateHandle } from '../../runtime/control/gate-registry.js';
import type { GateStateEvent } from '../../runtime/control/gate.js';
import { verifyOrder } from '../../runtime/control/gate-maintenance.js';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import type { MaintenanceOrder } from '../../runtime/model/maintenance.js';

// The registry the BUILT node registers in (dist/), not a second copy of the module loaded from source.
const registry = require(
  join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js'),
) as typeof import('../../runtime/control/gate-registry.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const envelopeNode = nodeModule('twin-envelope');
const ledgerNode = nodeModule('twin-ledger');
const approvalNode = nodeModule('twin-approval');
const maintenanceNode = nodeModule('twin-maintenance');

const KEY = 'test-signing-key-0123456789abcdef';
const HOUR_MS = 3_600_000;

type Msg = NodeMessage & { payload: unknown; replay?: boolean; error?: { message: string } };
interface Rig {
  node: Node;
  orders: Msg[];
  events: GateStateEvent[];
  caught: Msg[];
  statuses: Array<{ fill?: string; text?: string }>;
  errors: unknown[];
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

const decision = (
  proposalId: string,
  user: string,
  verdict: DecisionRequest['verdict'] = 'approve',
  reason = 'planned stop fits',
): DecisionRequest => ({ proposalId, verdict, user, printedName: `${user} (printed)`, reason });
let loads = 0;

describe('twin-approval (node, maintenance mode)', function () {
  let dir: string;
  let ledgerPath: string;

  beforeEach(function (done) {
    dir = tempUserDir('nr-approval-m-');
    ledgerPath = join(dir, 'ledger', 'maintenance.jsonl');
    helper.settings({ userDir: dir });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(gateCfg: Record<string, unknown> = {}, key: string | null = KEY): Promise<Rig> {
    // A fresh ledger node id per load: the test helper keeps credentials by node id across loads.
    const led = `led${++loads}`;
    const flow = [
      { id: led, type: 'twin-ledger', path: ledgerPath },
      {
        id: 'g',
        type: 'twin-approval',
        name: 'extruder maintenance',
        mode: 'maintenance',
        asset: M_ASSET,
        twoPersonAboveEur: '5000',
        ledger: led,
        ...gateCfg,
        wires: [['ord'], ['ev']],
      },
      { id: 'ord', type: 'helper' },
      { id: 'ev', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['g'], uncaught: false, wires: [['k']] },
      { id: 'k', type: 'helper' },
    ];
    await helper.load(
      [envelopeNode, ledgerNode, approvalNode, catchNode] as never,
      flow as never,
      (key ? { [led]: { signingKey: key } } : {}) as never,
    );
    const rig: Rig = { node: helper.getNode('g'), orders: [], events: [], caught: [], statuses: [], errors: [] };
    listen<Msg>(helper.getNode('ord'), 'input', (m) => rig.orders.push(m));
    listen<Msg>(helper.getNode('ev'), 'input', (m) => rig.events.push(m.payload as GateStateEvent));
    listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
    listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
    listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
    return rig;
  }

  const handle = async (): Promise<GateHandle<'maintenance'>> =>
    (await waitFor(() => registry.findGate('g', 'maintenance'), 10_000, 10, 'maintenance gate registered'))!;
  const send = (rig: Rig, payload: unknown) => rig.node.receive({ topic: `${M_ASSET}/maintenance/proposal`, payload } as never);
  const ledgerTypes = async (): Promise<string[]> => {
    const ledger = await openFileLedger(ledgerPath);
    const types = (await ledger.readAll()).map((r) => r.type);
    await ledger.close();
    return types;
  };

  it('registers a maintenance gate; an approval through it sends a signed MaintenanceOrder after the ledger has it', async function () {
    const rig = await load();
    const h = await handle();
    expect(h).to.include({
      kind: 'maintenance',
      asset: M_ASSET,
      name: 'extruder maintenance',
      twoPersonAboveEur: 5000,
      ledgerLocation: ledgerPath,
    });
    expect(registry.listGates().map((g) => g.id)).to.include('g');
    expect(registry.findGate('g', 'setpoint'), 'not a setpoint gate').to.equal(undefined);
    const p = maintenanceProposal('m1');
    send(rig, p);
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending event');
    expect(rig.events[0]).to.include({ proposalId: 'm1', state: 'pending' });
    expect(rig.events[0]!.record).to.include({ type: 'proposal', asset: M_ASSET, proposalId: 'm1' });
    await waitFor(() => rig.statuses.some((s) => s.text === '1 pending'), 5000, 10, 'status 1 pending');
    expect(h.views()[0]).to.deep.include({ state: 'pending', requiredApprovals: 1, decisions: [] });

    expect(await h.decide(decision('m1', 'alice'))).to.deep.equal({ ok: true, state: 'approved' });
    // the decision resolved only after the order record was durable
    expect(await ledgerTypes()).to.deep.equal(['proposal', 'decision', 'order']);
    const msg = await waitFor(() => rig.orders[0], 5000, 10, 'the order');
    expect(rig.orders).to.have.length(1);
    expect(msg.topic).to.equal(`${M_ASSET}/maintenance/order`);
    expect(msg.replay).to.equal(undefined);
    const order = msg.payload as MaintenanceOrder;
    expect(order).to.deep.include({
      proposalId: 'm1',
      asset: M_ASSET,
      job: p.job,
      startMs: p.window.startMs,
      endMs: p.window.endMs,
      timeZone: 'Europe/Berlin',
      approvedBy: ['alice'],
    });
    expect(verifyOrder(KEY, order)).to.equal(true);
    await waitFor(() => rig.events.length === 3, 5000, 10, 'decision and order events');
    expect(rig.events.map((e) => [e.state, e.record.type])).to.deep.equal([
      ['pending', 'proposal'],
      ['approved', 'decision'],
      ['approved', 'order'],
    ]);
    await waitFor(() => rig.statuses.some((s) => s.text === '1 ordered'), 5000, 10, 'status 1 ordered');
    expect(await ledgerTypes()).to.deep.equal(['proposal', 'decision', 'order']);
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);
    const ledger = await openFileLedger(ledgerPath);
    const recs = await ledger.readAll();
    await ledger.close();
    expect(recs[1]!.data).to.include({
      user: 'alice',
      printedName: 'alice (printed)',
      meaning: 'Approved: I authorise this maintenance window',
    });
    expect(recs[2]!.data).to.deep.equal(order);
    expect(h.views()[0]!.order).to.deep.equal(order);
    expect(rig.caught).to.deep.equal([]);
  });

  it('a rejection ends it with no order; two approvers above the EUR threshold, never the same one twice', async function () {
    const rig = await load({ twoPersonAboveEur: '1000' });
    const h = await handle();
    send(rig, maintenanceProposal('m1'));
    send(rig, maintenanceProposal('m2', { job: 'Clean screen changer' }));
    await waitFor(() => rig.events.length === 2, 5000, 10, 'both pending');
    expect(h.views().map((v) => v.requiredApprovals)).to.deep.equal([2, 2]);
    expect(await h.decide(decision('m1', 'bob', 'reject', 'bearing arrives next week'))).to.deep.equal({ ok: true, state: 'rejected' });
    expect(await h.decide(decision('m2', 'alice'))).to.deep.equal({ ok: true, state: 'pending' });
    const twice = await h.decide(decision('m2', 'alice'));
    expect(twice.ok).to.equal(false);
    expect(twice.error).to.match(/different user/);
    expect(rig.orders).to.deep.equal([]);
    expect(await h.decide(decision('m2', 'bob'))).to.deep.equal({ ok: true, state: 'approved' });
    expect(((await waitFor(() => rig.orders[0], 5000, 10, 'order'))!.payload as MaintenanceOrder).approvedBy).to.deep.equal([
      'alice',
      'bob',
    ]);
    const m1 = h.views().find((v) => v.proposal.id === 'm1')!;
    expect(m1).to.include({ state: 'rejected', reason: 'rejected by bob: bearing arrives next week' });
    expect(m1.order).to.equal(undefined);
  });

  it('expires a proposal nobody decided (wall clock), recorded, and refuses a decision after that', async function () {
    const rig = await load();
    const h = await handle();
    const now = Date.now();
    send(rig, maintenanceProposal('m1', { createdTsMs: now, expiresTsMs: now + 1500 }, now));
    const ev = await waitFor(() => rig.events.find((e) => e.state === 'expired'), 10_000, 20, 'expired event');
    expect(ev).to.include({ proposalId: 'm1', reason: 'not decided before it expired' });
    expect(ev!.record.type).to.equal('expired');
    const late = await h.decide(decision('m1', 'alice'));
    expect(late).to.deep.equal({
      ok: false,
      error: 'maintenance proposal m1 is expired (not decided before it expired); it cannot be decided',
    });
    expect(rig.orders).to.deep.equal([]);
    expect(await ledgerTypes()).to.deep.equal(['proposal', 'expired']);
  });

  it('a newer proposal for the same job supersedes the pending one (event, ledger); the old one can no longer be approved', async function () {
    const rig = await load();
    const h = await handle();
    const now = Date.now();
    send(rig, maintenanceProposal('old', {}, now));
    send(rig, maintenanceProposal('new', { window: maintenanceWindow(now + 30 * HOUR_MS) }, now + 1));
    const ev = await waitFor(() => rig.events.find((e) => e.state === 'superseded'), 5000, 10, 'superseded event');
    expect(ev).to.include({ proposalId: 'old', reason: 'superseded by proposal new' });
    expect((await h.decide(decision('old', 'alice'))).error).to.match(/old is superseded/);
    expect(await h.decide(decision('new', 'alice'))).to.deep.equal({ ok: true, state: 'approved' });
    expect(((await waitFor(() => rig.orders[0], 5000, 10, 'order'))!.payload as MaintenanceOrder).proposalId).to.equal('new');
    expect(await ledgerTypes()).to.deep.equal(['proposal', 'proposal', 'superseded', 'decision', 'order']);
  });

  const badInputs: Array<[string, () => unknown, RegExp]> = [
    ['a string', () => 'replace bearing', /takes MaintenanceProposals: payload is string/],
    [
      'a setpoint Proposal',
      () => ({ id: 'p', asset: M_ASSET, tag: 'zone3_sp', currentValue: 200, proposedValue: 201 }),
      /kind must be 'maintenance'/,
    ],
    [
      'a window that ends before it starts',
      () => {
        const p = maintenanceProposal('bad');
        return { ...p, window: { ...p.window, endMs: p.window.startMs - 1 } };
      },
      /must end after it starts/,
    ],
    [
      'a proposal for another asset',
      () => {
        const p = maintenanceProposal('bad');
        return { ...p, asset: 'x/y', window: { ...p.window, asset: 'x/y' }, alternatives: [] };
      },
      /is for x\/y; this gate is for/,
    ],
    [
      'a window already begun',
      () => maintenanceProposal('bad', { window: maintenanceWindow(Date.now() - 60_000) }),
      /which is already past/,
    ],
  ];
  for (const [what, payload, re] of badInputs) {
    it(`refuses ${what} (done(err) to Catch, red status) and goes on working`, async function () {
      const rig = await load();
      await handle();
      send(rig, payload());
      const caught = await waitFor(() => rig.caught[0], 5000, 10, 'caught error');
      expect(caught.error!.message).to.match(re);
      await waitFor(() => rig.statuses.some((s) => s.fill === 'red'), 5000, 10, 'red status');
      expect(rig.events).to.deep.equal([]);
      send(rig, maintenanceProposal('ok'));
      await waitFor(() => rig.events.some((e) => e.proposalId === 'ok' && e.state === 'pending'), 5000, 10, 'works after');
    });
  }

  const badConfigs: Array<[string, Record<string, unknown>, string | null, RegExp]> = [
    ['no asset', { asset: ' ' }, KEY, /asset is required in maintenance mode/],
    ['an unknown mode', { mode: 'energy' }, KEY, /mode must be setpoint or maintenance, not "energy"/],
    ['a ledger without a signing key', {}, null, /ledger: no signing key/],
    ['a non-numeric two-person threshold', { twoPersonAboveEur: 'lots' }, KEY, /twoPersonAboveEur must be a number/],
  ];
  for (const [what, cfg, key, re] of badConfigs) {
    it(`refuses to work with ${what}: error, red status, inputs refused, no gate registered`, async function () {
      const rig = await load(cfg, key);
      await waitFor(() => rig.errors.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
      send(rig, maintenanceProposal('m1'));
      const caught = await waitFor(() => rig.caught[0], 5000, 10, 'refused input');
      expect(caught.error!.message).to.match(/not configured/);
      expect(registry.findGate('g')).to.equal(undefined);
    });
  }

  it('the page API refuses a decision without logins (no adminAuth): 403, nothing recorded, still pending', async function () {
    const rig = await load();
    const h = await handle();
    send(rig, maintenanceProposal('m1'));
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending');
    const res = await helper
      .request()
      .post('/twinloop/approvals/api/decide')
      .send({ gateId: 'g', proposalId: 'm1', verdict: 'approve', reason: 'x', password: 'x' });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.match(/adminAuth/);
    // the gate itself refuses a decision that names no user
    expect((await h.decide({ ...decision('m1', ''), user: '' })).error).to.equal('a decision needs the user who makes it');
    expect(h.views()[0]!.state).to.equal('pending');
    expect(await ledgerTypes()).to.deep.equal(['proposal']);
    const list = await helper.request().get('/twinloop/approvals/api/proposals');
    expect(list.status).to.equal(200);
    const v = list.body.proposals.find((x: { gateId: string }) => x.gateId === 'g');
    expect(v).to.deep.include({ kind: 'maintenance', state: 'pending', gateName: 'extruder maintenance' });
  });

  it('a restarted flow rebuilds the gate from the ledger file: a half-approved proposal stays, an approved order is re-sent unchanged as a replay', async function () {
    let rig = await load({ twoPersonAboveEur: '1000' });
    let h = await handle();
    send(rig, maintenanceProposal('two'));
    send(
      rig,
      maintenanceProposal('one', {
        job: 'Lubricate',
        window: maintenanceWindow(Date.now() + 20 * HOUR_MS, HOUR_MS, { expectedCostEur: 400 }),
      }),
    );
    await waitFor(() => rig.events.length === 2, 5000, 10, 'pending');
    await h.decide(decision('two', 'alice'));
    await h.decide(decision('one', 'bob'));
    const issued = (await waitFor(() => rig.orders[0], 5000, 10, 'order'))!.payload as MaintenanceOrder;
    await helper.unload();
    expect(registry.findGate('g')).to.equal(undefined);

    rig = await load({ twoPersonAboveEur: '1000' });
    h = await handle();
    const replay = await waitFor(() => rig.orders[0], 5000, 10, 're-sent order');
    expect(replay.replay).to.equal(true);
    expect(replay.payload).to.deep.equal(issued);
    const two = h.views().find((v) => v.proposal.id === 'two')!;
    expect(two).to.include({ state: 'pending', requiredApprovals: 2 });
    expect(two.decisions.map((d) => d.user)).to.deep.equal(['alice']);
    expect((await h.decide(decision('two', 'alice', 'approve', 'again'))).ok).to.equal(false);
    expect(await h.decide(decision('two', 'carol'))).to.deep.equal({ ok: true, state: 'approved' });
    expect(((await waitFor(() => rig.orders[1], 5000, 10, 'second order'))!.payload as MaintenanceOrder).approvedBy).to.deep.equal([
      'alice',
      'carol',
    ]);
    expect((await ledgerTypes()).filter((t) => t === 'order')).to.have.length(2);
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);
  });

  it('takes the proposal twin-maintenance sends for its chosen window (the two nodes wired), and orders it once approved', async function () {
    const led = `led${++loads}`;
    const calendar = {
      shifts: [{ name: 'day', start: '06:00', end: '22:00' }],
      week: { mon: ['day'], tue: ['day'], wed: ['day'], thu: ['day'], fri: ['day'] },
      plannedStops: [],
    };
    await helper.load(
      [ledgerNode, approvalNode, maintenanceNode, catchNode] as never,
      [
        {
          id: 'tm',
          type: 'twin-maintenance',
          job: 'Replace gearbox bearing',
          timeZone: 'Europe/Berlin',
          calendar: JSON.stringify(calendar),
          jobDurationMin: '240',
          jobCostEur: '1200',
          downtimeCostEurPerHour: '900',
          failureCostEur: '40000',
          horizonDays: '14',
          stepMin: '15',
          topN: '3',
          relativeMargin: '0.1',
          absoluteMarginEur: '100',
          proposalExpiryMin: '60',
          maxFailureProbability: '',
          wires: [[], ['g']],
        },
        { id: led, type: 'twin-ledger', path: ledgerPath },
        { id: 'g', type: 'twin-approval', mode: 'maintenance', asset: M_ASSET, ledger: led, wires: [['ord'], ['ev']] },
        { id: 'ord', type: 'helper' },
        { id: 'ev', type: 'helper' },
        { id: 'c', type: 'catch', scope: ['g', 'tm'], uncaught: false, wires: [['k']] },
        { id: 'k', type: 'helper' },
      ] as never,
      { [led]: { signingKey: KEY } } as never,
    );
    const events: GateStateEvent[] = [];
    const got: Msg[] = [];
    const caught: Msg[] = [];
    listen<Msg>(helper.getNode('ev'), 'input', (m) => events.push(m.payload as GateStateEvent));
    listen<Msg>(helper.getNode('ord'), 'input', (m) => got.push(m));
    listen<Msg>(helper.getNode('k'), 'input', (m) => caught.push(m));
    const h = await handle();
    const now = Date.now();
    helper.getNode('tm').receive({
      payload: {
        asset: M_ASSET,
        tsMs: now,
        rulMs: 10 * 24 * HOUR_MS,
        rulP10Ms: 6 * 24 * HOUR_MS,
        rulP90Ms: 14 * 24 * HOUR_MS,
        healthIndex: 0.4,
        quality: 'good',
        model: 'rul-similarity',
      },
    } as never);
    await waitFor(() => events.length === 1 || caught.length > 0, 5000, 10, 'the proposal at the gate');
    expect(caught.map((m) => m.error!.message)).to.deep.equal([]);
    const [v] = h.views();
    expect(v!.state).to.equal('pending');
    expect(v!.proposal).to.deep.include({ kind: 'maintenance', asset: M_ASSET, job: 'Replace gearbox bearing' });
    expect(v!.proposal.window.startMs).to.be.above(now);
    expect(await h.decide(decision(v!.proposal.id, 'alice'))).to.deep.equal({ ok: true, state: 'approved' });
    const order = (await waitFor(() => got[0], 5000, 10, 'order'))!.payload as MaintenanceOrder;
    expect(order).to.include({ proposalId: v!.proposal.id, startMs: v!.proposal.window.startMs, timeZone: 'Europe/Berlin' });
    expect(verifyOrder(KEY, order)).to.equal(true);
  });

  it('in setpoint mode (the default) a MaintenanceProposal gets a clear error naming the mode', async function () {
    const led = `led${++loads}`;
    const env = {
      id: 'env',
      type: 'twin-envelope',
      asset: M_ASSET,
      tag: 'zone3_sp',
      unit: 'degC',
      lowLimit: '180',
      highLimit: '240',
      maxStep: '5',
      rateUpPerMin: '60',
      rateDownPerMin: '60',
      minDwellMs: '0',
      interlocks: '[]',
      inputTags: '',
      maxInputAgeMs: '60000',
      minQuality: 'good',
      ramp: 'true',
      source: 'plc',
    };
    await helper.load(
      [envelopeNode, ledgerNode, approvalNode, catchNode] as never,
      [
        env,
        { id: led, type: 'twin-ledger', path: ledgerPath },
        { id: 'g', type: 'twin-approval', envelope: 'env', ledger: led, wires: [[], []] },
        { id: 'c', type: 'catch', scope: ['g'], uncaught: false, wires: [['k']] },
        { id: 'k', type: 'helper' },
      ] as never,
      { [led]: { signingKey: KEY } } as never,
    );
    const caught: Msg[] = [];
    listen<Msg>(helper.getNode('k'), 'input', (m) => caught.push(m));
    await waitFor(() => registry.findGate('g', 'setpoint'), 10_000, 10, 'setpoint gate');
    helper.getNode('g').receive({ payload: maintenanceProposal('m1') } as never);
    const c = await waitFor(() => caught[0], 5000, 10, 'caught');
    expect(c.error!.message).to.match(/MaintenanceProposal: this twin-approval decides setpoint changes; use one in maintenance mode/);
  });
});
