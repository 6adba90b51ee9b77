// The approval gate's maintenance kind (runtime/control/gate-maintenance.ts on the one gate core):
// the machine (states, two-person rule, expiry at the deadline or the window's start, supersede,
// refusals with their reasons), the signed order, the payload check, and the executor over a real
// (in-memory) ledger with a manual clock: records durable before events and orders, restore from the
// ledger, a halted gate after a failed append. Ported unchanged from the former maintenance-gate.ts specs.
import { expect } from 'chai';
import {
  assertMaintenanceProposal,
  signOrder,
  validateMaintenanceGateConfig,
  verifyOrder,
  type MaintenanceGateConfig,
} from '../../runtime/control/gate-maintenance.js';
import { GateMachine } from '../../runtime/control/gate-machine.js';
import { restoreGateState } from '../../runtime/control/gate-restore.js';
import { validateGateConfig, type GateEffect, type GateInput } from '../../runtime/control/gate-state.js';
import { Gate, type GateStateEvent, type IssuedOrder } from '../../runtime/control/gate.js';
import type { DecisionOutcome, DecisionRequest } from '../../runtime/control/gate-registry.js';
import type { MaintenanceProposal } from '../../runtime/model/maintenance.js';
import { MemoryLedger } from '../support/control-memory-ledger.js';
import { ManualScheduler } from '../support/control-manual-scheduler.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from '../support/maintenance-proposal.js';

const KEY = 'unit-test-signing-key-0123456789';
const T0 = Date.UTC(2026, 11, 4, 12, 0);
const CFG: MaintenanceGateConfig = { kind: 'maintenance', asset: M_ASSET, twoPersonAboveEur: 5000, signingKey: KEY };
type Machine = GateMachine<MaintenanceProposal>;
const machine = (cfg: MaintenanceGateConfig = CFG): Machine => new GateMachine<MaintenanceProposal>(cfg);
/** One input through the machine, its reply split off: the effects it caused and the answer. */
function run(
  m: Machine,
  input: GateInput<MaintenanceProposal>,
  nowMs: number,
): { effects: GateEffect<MaintenanceProposal>[]; outcome: DecisionOutcome } {
  const all = m.handle({ ...input, token: 1 }, nowMs);
  const reply = all[all.length - 1]!;
  if (reply.kind !== 'reply') throw new Error('no reply');
  return { effects: all.slice(0, -1), outcome: reply.outcome };
}
const decide = (proposalId: string, user: string, verdict: DecisionRequest['verdict'] = 'approve', reason = 'ok'): DecisionRequest => ({
  proposalId,
  verdict,
  user,
  printedName: user.toUpperCase(),
  reason,
});

describe('maintenance gate: machine', function () {
  it('one approval approves a window under the two-person threshold and issues one signed order, recorded before it is emitted', function () {
    const m = machine();
    const p = maintenanceProposal('m1', {}, T0);
    const arrived = run(m, { kind: 'proposal', proposal: p }, T0);
    expect(arrived.outcome).to.deep.equal({ ok: true, state: 'pending' });
    expect(arrived.effects.map((e) => (e.kind === 'record' ? e.entry.type : e.kind))).to.deep.equal(['proposal']);
    const rec = arrived.effects[0]!;
    // no tag: a setpoint gate on the same ledger and asset never reads maintenance records
    expect(rec.kind === 'record' && rec.entry)
      .to.deep.include({ asset: M_ASSET, proposalId: 'm1' })
      .and.not.have.property('tag');

    const r = run(m, { kind: 'decide', request: decide('m1', 'alice') }, T0 + 1000);
    expect(r.outcome).to.deep.equal({ ok: true, state: 'approved' });
    expect(r.effects.map((e) => (e.kind === 'record' ? e.entry.type : e.kind))).to.deep.equal(['decision', 'order', 'order']);
    const order = r.effects[2]!.kind === 'order' ? r.effects[2]!.order : undefined;
    expect(order).to.include({
      proposalId: 'm1',
      asset: M_ASSET,
      job: p.job,
      startMs: p.window.startMs,
      endMs: p.window.endMs,
      timeZone: 'Europe/Berlin',
      issuedTsMs: T0 + 1000,
    });
    expect(order!.approvedBy).to.deep.equal(['alice']);
    expect(verifyOrder(KEY, order!)).to.equal(true);
    expect(verifyOrder('another-key-of-enough-length', order!)).to.equal(false);
    expect(verifyOrder(KEY, { ...order!, startMs: order!.startMs + 3_600_000 })).to.equal(false);
    const decision = r.effects[0]!.kind === 'record' ? (r.effects[0]!.entry.data as Record<string, unknown>) : {};
    expect(decision).to.include({
      verdict: 'approve',
      user: 'alice',
      printedName: 'ALICE',
      meaning: 'Approved: I authorise this maintenance window',
      state: 'approved',
      kind: 'maintenance',
    });
  });

  it('needs two different approvers above twoPersonAboveEur; the same user twice is refused', function () {
    const m = machine({ ...CFG, twoPersonAboveEur: 1000 });
    run(m, { kind: 'proposal', proposal: maintenanceProposal('m1', {}, T0) }, T0); // expected cost 1850 > 1000
    expect(m.state.changes.get('m1')!.requiredApprovals).to.equal(2);
    expect(run(m, { kind: 'decide', request: decide('m1', 'alice') }, T0).outcome).to.deep.equal({ ok: true, state: 'pending' });
    const twice = run(m, { kind: 'decide', request: decide('m1', 'alice') }, T0);
    expect(twice.outcome.ok).to.equal(false);
    expect(twice.outcome.error).to.match(/alice has already approved .* different user/);
    expect(twice.effects).to.deep.equal([]);
    const second = run(m, { kind: 'decide', request: decide('m1', 'bob') }, T0);
    expect(second.outcome.state).to.equal('approved');
    const order = second.effects.find((e) => e.kind === 'order');
    expect(order && order.kind === 'order' && order.order.approvedBy).to.deep.equal(['alice', 'bob']);
  });

  it('a rejection ends it with the user and reason; a decision on an ended proposal is refused with its state', function () {
    const m = machine();
    run(m, { kind: 'proposal', proposal: maintenanceProposal('m1', {}, T0) }, T0);
    const r = run(m, { kind: 'decide', request: decide('m1', 'bob', 'reject', 'parts not in stock') }, T0);
    expect(r.outcome).to.deep.equal({ ok: true, state: 'rejected' });
    expect(r.effects.some((e) => e.kind === 'order')).to.equal(false);
    expect(m.state.changes.get('m1')!.reason).to.equal('rejected by bob: parts not in stock');
    const late = run(m, { kind: 'decide', request: decide('m1', 'alice') }, T0);
    expect(late.outcome.error).to.equal('maintenance proposal m1 is rejected (rejected by bob: parts not in stock); it cannot be decided');
  });

  it('expires at expiresTsMs (wall clock), and a later approval is refused as expired', function () {
    const m = machine();
    const p = maintenanceProposal('m1', {}, T0);
    run(m, { kind: 'proposal', proposal: p }, T0);
    expect(m.nextWakeMs(T0)).to.equal(p.expiresTsMs);
    const tick = run(m, { kind: 'tick' }, p.expiresTsMs);
    expect(tick.effects.map((e) => e.kind === 'record' && e.entry.type)).to.deep.equal(['expired']);
    expect(m.state.changes.get('m1')).to.include({ state: 'expired', reason: 'not decided before it expired' });
    expect(m.nextWakeMs(p.expiresTsMs)).to.equal(Infinity);
    const r = run(m, { kind: 'decide', request: decide('m1', 'alice') }, p.expiresTsMs + 1);
    expect(r.outcome).to.deep.equal({
      ok: false,
      error: 'maintenance proposal m1 is expired (not decided before it expired); it cannot be decided',
    });
  });

  it('a window that starts before the proposal would expire: approving after its start is refused, naming the local start and zone', function () {
    const m = machine();
    const start = T0 + 10 * 60_000;
    const p = maintenanceProposal('m1', { window: maintenanceWindow(start), expiresTsMs: T0 + 3_600_000 }, T0);
    run(m, { kind: 'proposal', proposal: p }, T0);
    expect(m.nextWakeMs(T0)).to.equal(start);
    const r = run(m, { kind: 'decide', request: decide('m1', 'alice') }, start);
    expect(r.outcome.ok).to.equal(false);
    expect(r.outcome.error).to.equal(
      `maintenance proposal m1 is expired (the window started at ${p.window.startLocal} (Europe/Berlin) before it was decided); it cannot be decided`,
    );
    expect(r.effects.map((e) => e.kind === 'record' && e.entry.type)).to.deep.equal(['expired']);
  });

  it('supersedes the pending proposal for the same job, and the one named in `supersedes`; the newest to arrive wins', function () {
    const m = machine();
    run(m, { kind: 'proposal', proposal: maintenanceProposal('a', {}, T0) }, T0);
    run(m, { kind: 'proposal', proposal: maintenanceProposal('other-job', { job: 'Clean screen changer' }, T0) }, T0);
    const b = run(m, { kind: 'proposal', proposal: maintenanceProposal('b', {}, T0 + 1000) }, T0 + 1000);
    expect(b.effects.map((e) => e.kind === 'record' && [e.entry.type, e.entry.proposalId])).to.deep.equal([
      ['proposal', 'b'],
      ['superseded', 'a'],
    ]);
    expect(m.state.changes.get('a')).to.include({ state: 'superseded', reason: 'superseded by proposal b' });
    expect(m.state.changes.get('other-job')!.state).to.equal('pending');
    // names the other job's proposal explicitly
    run(
      m,
      {
        kind: 'proposal',
        proposal: maintenanceProposal('c', { job: 'Clean screen changer (extended)', supersedes: 'other-job' }, T0 + 2000),
      },
      T0 + 2000,
    );
    expect(m.state.changes.get('other-job')!.state).to.equal('superseded');
    // the newest to arrive wins, whatever event time its RUL carries (a simulator may run ahead of the wall clock)
    run(m, { kind: 'proposal', proposal: maintenanceProposal('late', { createdTsMs: T0 - 86_400_000 }, T0) }, T0 + 3000);
    expect(m.state.changes.get('b')!.state).to.equal('superseded');
    expect(m.state.changes.get('late')!.state).to.equal('pending');
  });

  const refusals: Array<[string, (p: ReturnType<typeof maintenanceProposal>) => ReturnType<typeof maintenanceProposal>, RegExp]> = [
    [
      'another asset',
      (p) => ({ ...p, asset: 'x/y', window: { ...p.window, asset: 'x/y' }, alternatives: [] }),
      /is for x\/y; this gate is for demo/,
    ],
    [
      'bad quality',
      (p) => ({ ...p, quality: 'bad', qualityReason: 'vibration sensor stuck' }),
      /bad-quality inputs \(vibration sensor stuck\)/,
    ],
    ['already expired on arrival', (p) => ({ ...p, expiresTsMs: T0 - 1, createdTsMs: T0 - 1000 }), /expired at .* before it arrived/],
    [
      'a window already begun',
      (p) => ({ ...p, window: maintenanceWindow(T0 - 60_000) }),
      /its window starts at 2026-12-04T12:59:00\+01:00 \(Europe\/Berlin\), which is already past/,
    ],
  ];
  for (const [what, edit, re] of refusals) {
    it(`refuses a proposal with ${what}, recording nothing`, function () {
      const m = machine();
      const r = run(m, { kind: 'proposal', proposal: edit(maintenanceProposal('m1', {}, T0)) }, T0);
      expect(r.outcome.ok).to.equal(false);
      expect(r.outcome.error).to.match(re);
      expect(r.effects).to.deep.equal([]);
      expect(m.state.changes.size).to.equal(0);
    });
  }

  it('refuses decisions without a user, a reason, a valid verdict, or with a reserved user name or an overlong meaning', function () {
    const m = machine();
    run(m, { kind: 'proposal', proposal: maintenanceProposal('m1', {}, T0) }, T0);
    const cases: Array<[Partial<DecisionRequest>, RegExp]> = [
      [{ user: ' ' }, /needs the user/],
      [{ reason: '' }, /needs a reason/],
      [{ verdict: 'maybe' as never }, /approve or reject/],
      [{ user: 'policy:auto-approval' }, /reserved/],
      [{ meaning: 'x'.repeat(201) }, /longer than 200/],
      [{ reason: 'r'.repeat(1001) }, /reason is longer than 1000/],
      [{ proposalId: 'nope' }, /no maintenance proposal nope/],
    ];
    for (const [over, re] of cases) {
      const r = run(m, { kind: 'decide', request: { ...decide('m1', 'alice'), ...over } }, T0);
      expect(r.outcome.error, JSON.stringify(over)).to.match(re);
      expect(r.effects).to.deep.equal([]);
    }
    expect(m.state.changes.get('m1')!.state).to.equal('pending');
  });
});

describe('maintenance gate: payload and config checks', function () {
  const p = () => maintenanceProposal('m1', {}, T0) as unknown as Record<string, any>;
  const cases: Array<[string, (x: Record<string, any>) => unknown, RegExp]> = [
    ['a string', () => 'hello', /payload is string, not a MaintenanceProposal/],
    ['a setpoint Proposal', (x) => ({ ...x, kind: undefined, proposedValue: 3 }), /kind must be 'maintenance'/],
    [
      'a window that ends before it starts',
      (x) => ({ ...x, window: { ...x.window, endMs: x.window.startMs } }),
      /must end after it starts/,
    ],
    [
      'an unknown time zone',
      (x) => ({ ...x, window: { ...x.window, timeZone: 'Mars/Olympus' } }),
      /Mars\/Olympus is not an IANA time zone/,
    ],
    [
      'a window for another asset',
      (x) => ({ ...x, window: { ...x.window, asset: 'a/b' } }),
      /window.asset a\/b is not the proposal's asset/,
    ],
    ['a failure probability above 1', (x) => ({ ...x, window: { ...x.window, failureProbability: 1.2 } }), /between 0 and 1/],
    [
      'a missing cost part',
      (x) => ({ ...x, window: { ...x.window, costParts: { jobEur: 1 } } }),
      /costParts.downtimeEur must be a finite number/,
    ],
    ['alternatives that are not an array', (x) => ({ ...x, alternatives: null }), /alternatives must be an array/],
    [
      'a bad alternative',
      (x) => ({ ...x, alternatives: [{ ...x.alternatives[0], startMs: 'soon' }] }),
      /alternatives\[0\].startMs must be a finite number/,
    ],
    ['no RUL', (x) => ({ ...x, rul: undefined }), /rul must be an object/],
    ['a non-finite RUL P90', (x) => ({ ...x, rul: { ...x.rul, rulP90Ms: null } }), /rul.rulP90Ms must be a finite number/],
    ['no expiry', (x) => ({ ...x, expiresTsMs: undefined }), /expiresTsMs must be a finite number, not missing/],
    ['no job', (x) => ({ ...x, job: '' }), /job must be a non-empty string/],
  ];
  for (const [what, edit, re] of cases) {
    it(`refuses ${what} (BAD_PAYLOAD)`, function () {
      expect(() => assertMaintenanceProposal(edit(p())))
        .to.throw(re)
        .with.property('code', 'BAD_PAYLOAD');
    });
  }
  it('accepts a well-formed proposal, also one whose RUL event time lies after its wall-clock expiry (a fast simulator)', function () {
    expect(() => assertMaintenanceProposal(p())).to.not.throw();
    expect(() => assertMaintenanceProposal({ ...p(), createdTsMs: T0 + 86_400_000, expiresTsMs: T0 + 60_000 })).to.not.throw();
  });
  it('refuses a config without an asset or with a short key', function () {
    expect(() => validateMaintenanceGateConfig({ ...CFG, asset: ' ' })).to.throw(/asset is required/);
    expect(() => validateMaintenanceGateConfig({ ...CFG, signingKey: 'short' })).to.throw(/signing key/);
    expect(() => validateMaintenanceGateConfig({ ...CFG, twoPersonAboveEur: -1 })).to.throw(/twoPersonAboveEur/);
  });
  it('signs an order like a command: any change to a field breaks the signature', function () {
    const o = signOrder(KEY, {
      id: 'o1',
      proposalId: 'm1',
      asset: M_ASSET,
      job: 'j',
      startMs: 1,
      endMs: 2,
      timeZone: 'UTC',
      approvedBy: ['a'],
      issuedTsMs: 3,
    });
    expect(verifyOrder(KEY, o)).to.equal(true);
    expect(verifyOrder(KEY, { ...o, approvedBy: ['a', 'b'] })).to.equal(false);
    expect(verifyOrder(KEY, { ...o, signature: 'f'.repeat(64) })).to.equal(false);
  });
});

describe('maintenance gate: executor with a ledger', function () {
  async function open(ledger = new MemoryLedger(), clock = new ManualScheduler(T0)) {
    const gate = await Gate.open({ config: CFG, ledger, scheduler: clock });
    const events: GateStateEvent[] = [];
    const orders: IssuedOrder[] = [];
    const durableAtOrder: number[] = [];
    gate.events$.subscribe((e) => events.push(e));
    gate.orders$.subscribe((o) => {
      orders.push(o);
      durableAtOrder.push(ledger.records.length);
    });
    await gate.start();
    return { gate, ledger, clock, events, orders, durableAtOrder };
  }

  it('reports each state after its record is in the ledger, and emits the order only after the order record', async function () {
    const { gate, ledger, events, orders, durableAtOrder } = await open();
    expect(await gate.proposal(maintenanceProposal('m1', {}, T0))).to.deep.equal({ ok: true, state: 'pending' });
    expect(events.map((e) => [e.state, e.record.type, e.record.seq])).to.deep.equal([['pending', 'proposal', 0]]);
    expect(gate.views()[0]).to.include({ state: 'pending', requiredApprovals: 1 });
    expect(await gate.decide(decide('m1', 'alice'))).to.deep.equal({ ok: true, state: 'approved' });
    expect(ledger.records.map((r) => r.type)).to.deep.equal(['proposal', 'decision', 'order']);
    expect(orders).to.have.length(1);
    expect(orders[0]!.replay).to.equal(false);
    expect(durableAtOrder).to.deep.equal([3]);
    expect(ledger.records[2]!.data).to.deep.equal(orders[0]!.order);
    expect(gate.views()[0]!.order).to.deep.equal(orders[0]!.order);
    expect(gate.summary()).to.deep.equal({ pending: 0, approved: 1 });
  });

  it('expires on its timer (manual clock), recorded and reported', async function () {
    const { gate, clock, events } = await open();
    const p = maintenanceProposal('m1', {}, T0);
    await gate.proposal(p);
    await clock.advanceTo(p.expiresTsMs - 1);
    expect(gate.views()[0]!.state).to.equal('pending');
    await clock.advanceTo(p.expiresTsMs);
    expect(events.map((e) => e.state)).to.deep.equal(['pending', 'expired']);
    expect(gate.views()[0]).to.include({ state: 'expired', reason: 'not decided before it expired' });
    // ended proposals leave the page after a while
    await clock.advanceBy(11 * 60_000);
    expect(gate.views()).to.deep.equal([]);
  });

  it('restores from the ledger: a half-approved proposal stays half-approved, an approved one re-sends its order unchanged', async function () {
    const cfg2 = { ...CFG, twoPersonAboveEur: 1000 };
    const ledger = new MemoryLedger();
    const clock = new ManualScheduler(T0);
    let gate = await Gate.open({ config: cfg2, ledger, scheduler: clock });
    await gate.start();
    await gate.proposal(maintenanceProposal('two', {}, T0));
    await gate.proposal(
      maintenanceProposal('one', { job: 'Lubricate', window: maintenanceWindow(T0 + 86_400_000, 3_600_000, { expectedCostEur: 300 }) }, T0),
    );
    await gate.decide(decide('two', 'alice'));
    await gate.decide(decide('one', 'bob'));
    const issued: IssuedOrder[] = [];
    gate.close();

    // a setpoint gate on the same ledger and asset ignores every maintenance record
    const sp = restoreGateState(
      validateGateConfig({
        envelope: { asset: M_ASSET, tag: 'zone3_sp' } as never,
        envelopeVersion: 'v',
        twoPersonAboveStep: Infinity,
        autoApproval: { enabled: false, maxStep: 0 },
        commandTtlMs: 60_000,
        signingKey: KEY,
      }),
      await ledger.readAll(),
    );
    expect(sp.changes.size).to.equal(0);

    const again = new MemoryLedger(ledger.records);
    gate = await Gate.open({ config: cfg2, ledger: again, scheduler: clock });
    gate.orders$.subscribe((o) => issued.push(o));
    await gate.start();
    const byId = new Map(gate.views().map((v) => [v.proposal.id, v]));
    expect(byId.get('two')).to.include({ state: 'pending', requiredApprovals: 2 });
    expect(byId.get('two')!.decisions.map((d) => d.user)).to.deep.equal(['alice']);
    expect(byId.get('one')!.state).to.equal('approved');
    expect(issued).to.have.length(1);
    expect(issued[0]).to.deep.include({ replay: true });
    expect(issued[0]!.order).to.deep.equal(ledger.records.find((r) => r.type === 'order')!.data);
    expect((await gate.decide(decide('two', 'alice'))).error).to.match(/already approved/);
    expect(await gate.decide(decide('two', 'carol'))).to.deep.equal({ ok: true, state: 'approved' });
    expect(issued.map((o) => o.order.approvedBy)).to.deep.equal([['bob'], ['alice', 'carol']]);
    // a restore of the restore agrees
    const state = restoreGateState<MaintenanceProposal>(cfg2, await again.readAll());
    expect([...state.changes.values()].map((c) => [c.proposal.id, c.state, !!c.order])).to.deep.equal([
      ['two', 'approved', true],
      ['one', 'approved', true],
    ]);
  });

  it('a decision stands: the same asset, job and window is never put up again, also after a restart; expired ones may come back', async function () {
    const ledger = new MemoryLedger();
    const first = await open(ledger);
    const p = maintenanceProposal('m1', {}, T0);
    const rejected = maintenanceProposal('m2', { job: 'Lubricate' }, T0);
    await first.gate.proposal(p);
    await first.gate.proposal(rejected);
    await first.gate.decide(decide('m1', 'alice'));
    await first.gate.decide(decide('m2', 'bob', 'reject', 'not needed'));
    // twin-maintenance past its proposal's expiry recommends the same window anew: no new record
    const n = ledger.records.length;
    expect(await first.gate.proposal(maintenanceProposal('m1-again', {}, T0))).to.deep.equal({
      ok: true,
      state: 'approved',
      duplicateOf: 'm1',
    });
    expect(ledger.records.length).to.equal(n);
    first.gate.close();

    // restarted (state from the ledger), the proposer restarted too: the same windows, new ids
    const later = await open(new MemoryLedger(ledger.records), new ManualScheduler(T0 + 60_000));
    expect(await later.gate.proposal(maintenanceProposal('m1-restart', { window: p.window }, T0 + 60_000))).to.deep.include({
      ok: true,
      duplicateOf: 'm1',
      state: 'approved',
    });
    expect(
      await later.gate.proposal(maintenanceProposal('m2-restart', { job: 'Lubricate', window: rejected.window }, T0 + 60_000)),
    ).to.deep.include({ duplicateOf: 'm2', state: 'rejected' });
    expect(later.gate.views().filter((v) => v.state === 'pending')).to.deep.equal([]);
    expect(later.events).to.deep.equal([]);
    // another window is a new proposal
    const moved = maintenanceProposal('m3', { window: maintenanceWindow(p.window.startMs + 3_600_000) }, T0 + 60_000);
    expect(await later.gate.proposal(moved)).to.deep.equal({ ok: true, state: 'pending' });
    // an expired proposal was not decided: its window may be proposed again
    await later.clock.advanceTo(moved.expiresTsMs);
    expect(await later.gate.proposal(maintenanceProposal('m3-again', { window: moved.window }, moved.expiresTsMs))).to.deep.equal({
      ok: true,
      state: 'pending',
    });
  });

  it('a proposal that expired while the gate was down is expired on start', async function () {
    const ledger = new MemoryLedger();
    const first = await open(ledger);
    const p = maintenanceProposal('m1', {}, T0);
    await first.gate.proposal(p);
    first.gate.close();
    const later = await open(new MemoryLedger(ledger.records), new ManualScheduler(p.expiresTsMs + 5000));
    expect(later.events.map((e) => [e.proposalId, e.state])).to.deep.equal([['m1', 'expired']]);
  });

  it('halts when an append fails: the decision is not reported, no order leaves, later inputs are refused', async function () {
    const { gate, ledger, orders, events } = await open();
    const errors: Error[] = [];
    gate.errors$.subscribe((e) => errors.push(e));
    await gate.proposal(maintenanceProposal('m1', {}, T0));
    ledger.failNext = new Error('disk full');
    const r = await gate.decide(decide('m1', 'alice'));
    expect(r).to.deep.equal({ ok: false, error: 'the gate has halted: disk full' });
    expect(orders).to.deep.equal([]);
    expect(events.map((e) => e.state)).to.deep.equal(['pending']);
    expect(gate.views()[0]!.state).to.equal('pending');
    expect(errors.map((e) => e.message)).to.deep.equal(['disk full']);
    expect((await gate.proposal(maintenanceProposal('m2', { job: 'x' }, T0))).error).to.match(/halted/);
  });
});
