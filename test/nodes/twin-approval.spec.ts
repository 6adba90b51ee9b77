// twin-approval in a real Node-RED runtime with the real twin-envelope and twin-ledger config
// nodes and a ledger file: decisions through the registry's GateHandle (as the page makes them),
// commands out and write results back, bad inputs (to a Catch node, red status, the node goes on),
// config validation, and a restart of the flow rebuilding the gate from the ledger file.
import { expect } from 'chai';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { tempUserDir } from '../support/opcua-nr.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import { verifyCommand } from '../../runtime/control/command.js';
import { hashRecord, verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import type { Command, LedgerRecord, Proposal, WriteResult } from '../../runtime/model/control.js';
import type { GateStateEvent } from '../../runtime/control/gate.js';
import { signResult } from '../../runtime/control/gate-result-signature.js';

// The registry the BUILT node registers in (dist/), not a second copy of the module loaded from source.
const { findGate, listGates } = require(
  join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js'),
) as typeof import('../../runtime/control/gate-registry.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const envelopeNode = nodeModule('twin-envelope');
const ledgerNode = nodeModule('twin-ledger');
const approvalNode = nodeModule('twin-approval');

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const TAG = 'zone3_sp';
const KEY = 'test-signing-key-0123456789abcdef';

type Msg = NodeMessage & { payload: unknown; error?: { message: string } };
interface Rig {
  node: Node;
  commands: Command[];
  events: GateStateEvent[];
  caught: Msg[];
  statuses: Array<{ fill?: string; text?: string }>;
  errors: unknown[];
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

const ENVELOPE = {
  asset: ASSET,
  tag: TAG,
  unit: 'degC',
  lowLimit: '180',
  highLimit: '240',
  maxStep: '5',
  rateUpPerMin: '60',
  rateDownPerMin: '60',
  minDwellMs: '0',
  interlocks: JSON.stringify([{ tag: 'mode', op: '==', value: 1 }]),
  inputTags: '',
  maxInputAgeMs: '60000',
  minQuality: 'good',
  ramp: 'true',
  source: 'plc',
};

function proposal(id: string, from: number, to: number, over: Partial<Proposal> = {}): Proposal {
  const now = Date.now();
  return {
    id,
    asset: ASSET,
    tag: TAG,
    currentValue: from,
    proposedValue: to,
    unit: 'degC',
    rationale: 'lower energy per kg, quality holds',
    predictedEffect: { kpiTag: 'energy_per_kg', currentKpi: 1, predictedKpi: 0.95, lowKpi: 0.9, highKpi: 1, intervalPct: 90 },
    fit: { method: 'ols-quadratic', n: 200, r2: 0.9, rmse: 0.01 },
    fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: 180, setpointMax: 240 },
    createdTsMs: now,
    expiresTsMs: now + 600_000,
    quality: 'good',
    ...over,
  };
}
/** A reading as twin-opcua-in stamps it: received on the envelope's source connection ('plc'). */
const reading = (tag: string, value: number, tsMs = Date.now(), connection = 'plc') => ({
  asset: ASSET,
  tag,
  value,
  tsMs,
  quality: 'good',
  source: 'test',
  origin: { connection, item: `ns=1;s=${tag}` },
});
/** A write result as a writer sends it: signed with the ledger's key (the gate ignores unsigned ones). */
function result(c: Command, over: Partial<WriteResult> = {}, key = KEY): WriteResult {
  return signResult(key, {
    commandId: c.id,
    proposalId: c.proposalId,
    asset: c.asset,
    tag: c.tag,
    value: c.value,
    outcome: 'written',
    readBackOk: true,
    readBackValue: c.value,
    writer: 'w1',
    tsMs: Date.now(),
    ...over,
  });
}

let loads = 0;

describe('twin-approval (node)', function () {
  let dir: string;
  let ledgerPath: string;

  beforeEach(function (done) {
    dir = tempUserDir('nr-approval-');
    ledgerPath = join(dir, 'ledger', 'gate.jsonl');
    helper.settings({ userDir: dir });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(
    gateCfg: Record<string, unknown> = {},
    envCfg: Record<string, unknown> = ENVELOPE,
    key: string | null = KEY,
  ): Promise<Rig> {
    // A fresh ledger node id per load: the test helper keeps credentials by node id across loads.
    const led = `led${++loads}`;
    const flow = [
      { id: 'env', type: 'twin-envelope', ...envCfg },
      { id: led, type: 'twin-ledger', path: ledgerPath },
      {
        id: 'g',
        type: 'twin-approval',
        name: 'zone 3',
        envelope: 'env',
        ledger: led,
        twoPersonAboveStep: '3',
        commandTtlMs: '60000',
        ...gateCfg,
        wires: [['cmd'], ['ev']],
      },
      { id: 'cmd', type: 'helper' },
      { id: 'ev', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['g'], uncaught: false, wires: [['k']] },
      { id: 'k', type: 'helper' },
    ];
    await helper.load(
      [envelopeNode, ledgerNode, approvalNode, catchNode] as never,
      flow as never,
      (key ? { [led]: { signingKey: key } } : {}) as never,
    );
    const rig: Rig = { node: helper.getNode('g'), commands: [], events: [], caught: [], statuses: [], errors: [] };
    listen<Msg>(helper.getNode('cmd'), 'input', (m) => rig.commands.push(m.payload as Command));
    listen<Msg>(helper.getNode('ev'), 'input', (m) => rig.events.push(m.payload as GateStateEvent));
    listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
    listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
    listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
    return rig;
  }

  const handle = async (): Promise<GateHandle<'setpoint'>> =>
    (await waitFor(() => findGate('g', 'setpoint'), 10_000, 10, 'gate registered'))!;
  const send = (rig: Rig, payload: unknown, topic = `${ASSET}/x`) => rig.node.receive({ topic, payload } as never);
  async function freshReadings(rig: Rig, sp = 200): Promise<void> {
    send(rig, reading(TAG, sp));
    send(rig, reading('mode', 1));
    send(rig, reading('energy_per_kg', 1.02));
  }

  it('registers a GateHandle; a decision through it sends a signed command; the write result wired back completes the change', async function () {
    const rig = await load();
    const h = await handle();
    expect(listGates('setpoint').map((x) => x.id)).to.include('g');
    expect(h).to.include({ asset: ASSET, tag: TAG, name: 'zone 3', twoPersonAboveStep: 3, ledgerLocation: ledgerPath });
    expect(h.autoApproval()).to.deep.equal({ enabled: false, configured: false, maxStep: 0 });
    await freshReadings(rig);
    send(rig, proposal('p1', 200, 202));
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending event');
    expect(rig.events[0]).to.include({ proposalId: 'p1', state: 'pending' });
    expect(rig.events[0]!.record.type).to.equal('proposal');
    await waitFor(() => rig.statuses.some((s) => s.text === '1 pending'), 5000, 10, 'status 1 pending');

    const [view] = h.views();
    expect(view).to.include({ state: 'pending', requiredApprovals: 1 });
    expect(view!.envelope.ok).to.equal(true);
    expect(view!.trend.setpoint.map((p) => p.value)).to.deep.equal([200]);
    expect(view!.trend.kpi.map((p) => p.value)).to.deep.equal([1.02]);

    expect(
      await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'Alice Example', reason: 'saves energy' }),
    ).to.deep.equal({ ok: true, state: 'approved' });
    await waitFor(() => rig.commands.length === 1, 5000, 10, 'command');
    const cmd = rig.commands[0]!;
    expect(verifyCommand(KEY, cmd, { asset: ASSET, tag: TAG }, Date.now())).to.deep.equal({ ok: true });
    expect(cmd).to.include({ value: 202, fromValue: 200, step: 1, steps: 1, proposalId: 'p1' });

    send(rig, result(cmd));
    await waitFor(() => rig.events.some((e) => e.state === 'done'), 5000, 10, 'done');
    const v = await verifyLedgerFile(ledgerPath);
    expect(v.ok).to.equal(true);
    const ledger = await openFileLedger(ledgerPath);
    const types = (await ledger.readAll()).map((r) => r.type);
    expect(types).to.deep.equal(['proposal', 'decision', 'command', 'readback']);
    const decision = (await ledger.readAll())[1]!.data as { user: string; printedName: string; envelopeVersion: string };
    expect(decision).to.include({ user: 'alice', printedName: 'Alice Example', envelopeVersion: h.envelopeVersion });
    await ledger.close();
    expect(rig.caught).to.deep.equal([]);
  });

  it("counts readings only from the envelope's plant connection: the same tags from another are ignored, with one warning per tag", async function () {
    const rig = await load();
    const h = await handle();
    const warnings: unknown[] = [];
    listen<{ args: unknown[] }>(rig.node, 'call:warn', (call) => warnings.push(call.args[0]));
    for (let i = 0; i < 3; i++) {
      send(rig, reading(TAG, 200, Date.now(), 'broker'));
      send(rig, reading('mode', 1, Date.now(), 'broker'));
    }
    send(rig, proposal('p1', 200, 202));
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending event');
    const [view] = h.views();
    expect(view!.envelope.violations.map((v) => v.code)).to.deep.equal(['MISSING_INPUT', 'MISSING_INPUT']);
    expect(warnings.map(String)).to.deep.equal([
      `reading of ${ASSET}/${TAG} from broker (ns=1;s=${TAG}) ignored: the envelope reads its inputs from plc`,
      `reading of ${ASSET}/mode from broker (ns=1;s=mode) ignored: the envelope reads its inputs from plc`,
    ]);
    expect(rig.caught).to.deep.equal([]); // well-formed input: not an error
    await freshReadings(rig);
    await waitFor(() => h.views()[0]!.envelope.ok, 5000, 10, 'the envelope holds on readings from plc');
  });

  it('ramps a large change: "ramp 1/2" while it writes; the two-person rule refuses the same user twice', async function () {
    const rig = await load();
    const h = await handle();
    await freshReadings(rig);
    send(rig, proposal('p1', 200, 208)); // 8 > 3: two people; 8 > 5: two steps
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending');
    expect((await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' })).state).to.equal(
      'pending',
    );
    const again = await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' });
    expect(again.ok).to.equal(false);
    expect(again.error).to.match(/different user/);
    expect(rig.commands).to.deep.equal([]);
    expect((await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'bob', printedName: 'B', reason: 'ok' })).state).to.equal(
      'approved',
    );
    await waitFor(() => rig.commands.length === 1, 5000, 10, 'step 1');
    expect(rig.commands[0]).to.include({ step: 1, steps: 2, value: 204 });
    await waitFor(() => rig.statuses.some((s) => s.text === 'ramp 1/2'), 5000, 10, 'ramp status');
    send(rig, result(rig.commands[0]!));
    // dwell 0 and 60 units/min: step 2 (4 units) 4 s after step 1's result
    await waitFor(() => rig.events.length >= 5, 5000, 10, 'step 1 result');
    await waitFor(() => rig.commands.length === 2, 10_000, 20, 'step 2');
    expect(rig.commands[1]).to.include({ step: 2, steps: 2, value: 208, fromValue: 204 });
  });

  it('a forged "written" result does not advance a ramp: refused (REFUSED to Catch, red status, recorded); the writer\'s signed one does', async function () {
    // 6000 degC/min and no dwell: had the forged result counted, step 2 would follow at once
    const rig = await load({ twoPersonAboveStep: '' }, { ...ENVELOPE, rateUpPerMin: '6000' });
    const h = await handle();
    await freshReadings(rig);
    send(rig, proposal('p1', 200, 208)); // ramp 204, 208
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending');
    await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' });
    const c1 = await waitFor(() => rig.commands[0], 5000, 10, 'step 1');
    const eventsBefore = rig.events.length;
    const statusesBefore = rig.statuses.length;

    send(rig, result(c1, {}, 'a-forger-key-that-is-long-enough'));
    const caught = await waitFor(() => rig.caught[0], 5000, 10, 'caught error');
    expect(caught.error!.message).to.match(/signature that does not verify/);
    expect(rig.errors.map((e) => (e as { code?: string }).code)).to.deep.equal(['REFUSED']);
    await waitFor(() => rig.statuses.slice(statusesBefore).some((s) => s.fill === 'red'), 5000, 10, 'red status');
    // the gate has answered (done(err) came after its records): nothing moved
    expect(rig.events.length).to.equal(eventsBefore);
    expect(rig.commands).to.have.length(1);
    const ledger = await openFileLedger(ledgerPath);
    const recs = await ledger.readAll();
    await ledger.close();
    expect(recs.map((r) => r.type)).to.deep.equal(['proposal', 'decision', 'command', 'refused']);
    expect(recs[3]!.data).to.include({ refusal: 'BAD_SIGNATURE' });
    expect(h.views()[0]).to.include({ state: 'approved' });

    // the result the writer signed closes step 1 and step 2 follows
    send(rig, result(c1));
    await waitFor(() => rig.commands.length === 2, 10_000, 20, 'step 2');
    expect(rig.commands[1]).to.include({ step: 2, value: 208 });
  });

  const badInputs: Array<[string, unknown, RegExp, string?]> = [
    ['a string', 'hello', /takes a Proposal, a Reading or a WriteResult/],
    ['an array', [1, 2], /an array/],
    ['a malformed proposal', { ...proposal('bad', 200, 201), predictedEffect: undefined }, /predictedEffect must be an object/],
    ['a Command wired back in', null, /payload is a Command/],
    ['a proposal for another setpoint', proposal('other', 200, 201, { tag: 'zone2_sp' }), /this gate is for/],
    ['a reading from the future', reading(TAG, 200, Date.now() + 3_600_000), /in the future/],
    [
      'a write result for a command it never issued',
      signResult(KEY, { commandId: 'nope', proposalId: 'p', asset: ASSET, tag: TAG, value: 1, outcome: 'written', writer: 'w', tsMs: 1 }),
      /did not issue/,
    ],
    ['a non-boolean auto-approval switch', 'yes', /true or false/, 'auto-approval'],
  ];
  for (const [what, payload, re, topic] of badInputs) {
    it(`refuses ${what} (done(err) to Catch, red status) and goes on working`, async function () {
      const rig = await load();
      const h = await handle();
      let p = payload;
      if (what.startsWith('a Command')) {
        await freshReadings(rig);
        send(rig, proposal('p0', 200, 201));
        await waitFor(() => rig.events.length === 1, 20_000, 10, 'pending');
        await h.decide({ proposalId: 'p0', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' });
        p = await waitFor(() => rig.commands[0], 20_000, 10, 'a command');
      }
      send(rig, p, topic);
      const caught = await waitFor(() => rig.caught[0], 20_000, 10, 'caught error');
      expect(caught.error!.message).to.match(re);
      await waitFor(() => rig.statuses.some((s) => s.fill === 'red'), 20_000, 10, 'red status');
      // still working (200 → 202: a repeat of p0's 200 → 201 would not be put up again)
      await freshReadings(rig);
      send(rig, proposal('p9', 200, 202));
      await waitFor(() => rig.events.some((e) => e.proposalId === 'p9' && e.state === 'pending'), 20_000, 10, 'works after');
    });
  }

  const badConfigs: Array<[string, Record<string, unknown>, Record<string, unknown>, string | null, RegExp]> = [
    ['no envelope', { envelope: '' }, ENVELOPE, KEY, /envelope: no envelope configured/],
    ['an invalid envelope', {}, { ...ENVELOPE, maxStep: '-1' }, KEY, /envelope maxStep/],
    ['a ledger without a signing key', {}, ENVELOPE, null, /ledger: no signing key/],
    [
      'an auto-approval band above the two-person threshold',
      { autoApproval: true, autoApprovalMaxStep: '4' },
      ENVELOPE,
      KEY,
      /must not exceed twoPersonAboveStep/,
    ],
    ['auto-approval without its band', { autoApproval: true, autoApprovalMaxStep: '' }, ENVELOPE, KEY, /autoApprovalMaxStep is required/],
    ['a non-numeric command TTL', { commandTtlMs: 'soon' }, ENVELOPE, KEY, /commandTtlMs must be a number/],
    ['an envelope without its plant connection', {}, { ...ENVELOPE, source: '' }, KEY, /envelope source: is required/],
  ];
  for (const [what, gateCfg, envCfg, key, re] of badConfigs) {
    it(`refuses to work with ${what}: error, red status, inputs refused, no gate registered`, async function () {
      const rig = await load(gateCfg, envCfg, key);
      await waitFor(() => rig.errors.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
      send(rig, proposal('p1', 200, 201));
      const caught = await waitFor(() => rig.caught[0], 5000, 10, 'refused input');
      expect(caught.error!.message).to.match(/not configured/);
      expect(findGate('g', 'setpoint')).to.equal(undefined);
      expect(rig.events).to.deep.equal([]);
    });
  }

  it('accepts the auto-approval switch from a flow (recorded as flow:<user>) and approves small changes when on', async function () {
    const rig = await load({ autoApproval: true, autoApprovalMaxStep: '2' });
    const h = await handle();
    expect(h.autoApproval()).to.deep.equal({ enabled: true, configured: true, maxStep: 2 });
    await freshReadings(rig);
    send(rig, proposal('p1', 200, 201));
    await waitFor(() => rig.commands.length === 1, 5000, 10, 'auto-approved command');
    rig.node.receive({ topic: 'auto-approval', payload: false, user: 'shift-lead', reason: 'trial over' } as never);
    await waitFor(() => !h.autoApproval().enabled, 5000, 10, 'switched off');
    const ledger = await openFileLedger(ledgerPath);
    const recs = await ledger.readAll();
    await ledger.close();
    expect(recs.find((r) => r.type === 'decision')!.data).to.include({ user: 'policy:auto-approval' });
    expect(recs.find((r) => r.type === 'policy')!.data).to.include({ enabled: false, user: 'flow:shift-lead', reason: 'trial over' });
    // switched off, still configured: the page keeps showing the switch
    expect(h.autoApproval()).to.deep.equal({ enabled: false, configured: true, maxStep: 2 });
  });

  it('a restarted flow rebuilds the gate from the ledger file: a half-approved proposal stays, an unanswered command is re-sent unchanged', async function () {
    let rig = await load();
    let h = await handle();
    await freshReadings(rig);
    send(rig, proposal('p1', 200, 204)); // two people
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending');
    await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' });
    await helper.unload();
    expect(findGate('g', 'setpoint')).to.equal(undefined);

    rig = await load();
    h = await handle();
    const [v] = h.views();
    expect(v).to.include({ state: 'pending', requiredApprovals: 2 });
    expect(v!.decisions.map((d) => d.user)).to.deep.equal(['alice']);
    expect((await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'again' })).ok).to.equal(false);
    await freshReadings(rig);
    expect((await h.decide({ proposalId: 'p1', verdict: 'approve', user: 'bob', printedName: 'B', reason: 'ok' })).state).to.equal(
      'approved',
    );
    const issued = await waitFor(() => rig.commands[0], 5000, 10, 'command');
    await helper.unload(); // stopped before the writer answered

    rig = await load();
    await handle();
    const again = await waitFor(() => rig.commands[0], 5000, 10, 're-sent command');
    expect(again).to.deep.equal(issued);
    const ledger = await openFileLedger(ledgerPath);
    const commands = (await ledger.readAll()).filter((r) => r.type === 'command');
    await ledger.close();
    expect(commands).to.have.length(1);
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);
  });

  it('issue 13: four forged records appended with recomputed links: after a restart the gate refuses to act and the page lists it with the alarm', async function () {
    const rig = await load();
    await handle();
    await freshReadings(rig);
    send(rig, proposal('p1', 205, 207));
    await waitFor(() => rig.events.length === 1, 5000, 10, 'pending');
    await helper.unload();

    // The attacker, runtime stopped: a proposal, an approval nobody signed, a command with an all-zero
    // signature, a read-back, each linked to the one before with its sha256 recomputed.
    const ls = readFileSync(ledgerPath, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    let prev = JSON.parse(ls[ls.length - 1]!) as LedgerRecord;
    const forgedCmd = {
      id: 'c-x',
      proposalId: 'p-x',
      asset: ASSET,
      tag: TAG,
      value: 207,
      step: 1,
      steps: 1,
      fromValue: 205,
      issuedTsMs: Date.now(),
      expiresTsMs: Date.now() + 600_000,
      envelopeVersion: 'v',
      signature: '0'.repeat(64),
    };
    const forged: Array<[string, unknown]> = [
      ['proposal', proposal('p-x', 205, 207)],
      ['decision', { verdict: 'approve', user: 'supervisor', printedName: 'S', reason: 'ok', state: 'approved', requiredApprovals: 1 }],
      ['command', forgedCmd],
      [
        'readback',
        {
          commandId: 'c-x',
          proposalId: 'p-x',
          asset: ASSET,
          tag: TAG,
          value: 207,
          outcome: 'written',
          readBackOk: true,
          writer: 'w',
          tsMs: Date.now(),
        },
      ],
    ];
    for (const [type, data] of forged) {
      const body = { seq: prev.seq + 1, tsMs: prev.tsMs + 1, type, asset: ASSET, tag: TAG, proposalId: 'p-x', data, prevHash: prev.hash };
      prev = { ...body, hash: hashRecord(body as never) } as LedgerRecord;
      appendFileSync(ledgerPath, JSON.stringify(prev) + '\n');
    }
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true); // the chain alone is fooled

    const again = await load();
    const h = await handle();
    expect(h.alarm, 'alarm on the handle').to.not.equal(undefined);
    expect(h.alarm!.reason).to.match(/line 2 \(seq 1\): no MAC/);
    expect(h.alarm!.remedy).to.match(/twinloop ledger verify/);
    await waitFor(() => again.statuses.some((st) => st.fill === 'red'), 5000, 10, 'red status');
    expect(h.views()).to.deep.equal([]);
    const d = await h.decide({ proposalId: 'p-x', verdict: 'approve', user: 'alice', printedName: 'A', reason: 'ok' });
    expect(d.ok).to.equal(false);
    expect(d.error).to.match(/refuses to act/);
    await freshReadings(again);
    send(again, proposal('p2', 205, 206));
    await waitFor(() => again.caught.length >= 1, 5000, 10, 'input refused');
    expect(again.commands).to.deep.equal([]);

    // the approvals API (what the page shows): the gate is listed, with why and what to do
    const res = await helper.request().get('/twinloop/approvals/api/gates').expect(200);
    const g = (res.body as { gates: Array<{ id: string; alarm?: { reason: string; remedy: string } }> }).gates.find((x) => x.id === 'g');
    expect(g?.alarm?.reason).to.match(/no MAC/);
    expect(g?.alarm?.remedy).to.match(/backup/);
  });
});
