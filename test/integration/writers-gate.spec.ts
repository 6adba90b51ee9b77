// The closed loop from approval to plant in one Node-RED runtime, every part real: the plant
// simulator's OPC UA server → twin-opcua-in (readings) → twin-approval ← a Proposal; a supervisor
// decides through the GateHandle the supervisors' page uses; the signed Command → twin-opcua-write →
// the simulator; the WriteResult wired back to twin-approval closes the proposal. One ledger file
// holds it all, in order, and verifies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { LedgerRecord, Proposal } from '../../runtime/model/control.js';
import { helper } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { closedLoopFlow, collectClosedLoop, CLOSED_LOOP_NODES } from '../support/closed-loop-rig.js';

// the registry the BUILT nodes register with (the source module would be another instance)
const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};

const KEY = 'test-signing-key-0123456789abcdef';
const TAG = 'zone1_sp';
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

describe('approval → twin-opcua-write → plant simulator (Node-RED, real parts)', function () {
  this.timeout(90_000);
  let plant: TestPlantSim;
  let rec: Recorder;
  let ledgerPath: string;

  before(async function () {
    // wall clock: readings keep coming, fresh, as the gate's envelope check needs
    plant = await startTestPlantSim({ publishIntervalMs: 200 });
  });
  after(async function () {
    await plant?.stop();
  });
  beforeEach(function (done) {
    const userDir = tempUserDir('nr-writers-gate-');
    ledgerPath = join(userDir, 'loop.jsonl');
    helper.settings({ userDir });
    rec = recordNodeCalls();
    plant.sim.write(TAG, 190);
    helper.startServer(done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  async function load() {
    const asset = plant.sim.asset;
    const flow = closedLoopFlow(plant, TAG, { type: 'twin-ledger', path: ledgerPath });
    await helper.load(CLOSED_LOOP_NODES as never, flow as never, { led: { signingKey: KEY } } as never);
    const got = collectClosedLoop(node);
    return { asset, got, handle: await waitUntil(() => registry.findGate('gate', 'setpoint'), 10_000, 20, 'the gate to register') };
  }

  function proposal(asset: string, from: number, to: number): Proposal {
    const now = Date.now();
    return {
      id: randomUUID(),
      asset,
      tag: TAG,
      currentValue: from,
      proposedValue: to,
      unit: 'degC',
      rationale: 'A lower zone 1 temperature cuts energy per kg while quality holds.',
      predictedEffect: {
        kpiTag: 'energy_per_kg',
        kpiUnit: 'kWh/kg',
        currentKpi: 0.31,
        predictedKpi: 0.3,
        lowKpi: 0.295,
        highKpi: 0.305,
        intervalPct: 90,
      },
      fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
      fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: 170, setpointMax: 210 },
      createdTsMs: now,
      expiresTsMs: now + 120_000,
      quality: 'good',
    };
  }

  it('an approved proposal is written once to the simulator, read back, closed as done, and all of it is in the ledger', async function () {
    const { asset, got, handle } = await load();
    const p = proposal(asset, 190, 184);
    node('gate').receive({ topic: `${asset}/${TAG}`, payload: p });
    await waitUntil(() => handle.views().some((v) => v.proposal.id === p.id && v.state === 'pending'), 10_000, 20, 'pending proposal');
    const decided = await handle.decide({
      proposalId: p.id,
      verdict: 'approve',
      user: 'alice',
      printedName: 'Alice Supervisor',
      reason: 'energy',
    });
    expect(decided.ok, decided.error).to.equal(true);

    await waitUntil(() => got.events.some((e) => e.proposalId === p.id && e.state === 'done'), 20_000, 20, 'proposal done');
    expect(plant.sim.snapshot().truth[TAG]).to.equal(184);
    expect(got.cmds).to.have.length(1);
    expect(got.results).to.have.length(1);
    expect(got.results[0]).to.include({ commandId: got.cmds[0].id, outcome: 'written', readBackValue: 184, readBackOk: true });
    expect(got.alarms).to.deep.equal([]);

    const recs = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
    const types = recs.filter((r) => r.proposalId === p.id).map((r) => r.type);
    // the writer's records sit between the command and the gate's close, each result recorded once
    expect(types).to.deep.equal(['proposal', 'decision', 'command', 'write-intent', 'write', 'readback']);
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);

    // the same signed command again (a replay on the wire) is refused by the writer, not written twice
    plant.sim.write(TAG, 186);
    node('w').receive({ payload: got.cmds[0] });
    await waitUntil(() => rec.errors('w').length > 0, 10_000, 20, 'refusal');
    expect(rec.errors('w')[0].message).to.match(/REPLAYED/);
    expect(plant.sim.snapshot().truth[TAG]).to.equal(186);
  });

  it('a proposal wired around the gate straight into the writer is refused and recorded; the plant is untouched', async function () {
    const { asset } = await load();
    const p = proposal(asset, 190, 184);
    node('w').receive({ payload: p });
    await waitUntil(() => rec.errors('w').length > 0, 10_000, 20, 'refusal');
    expect(rec.errors('w')[0].message).to.match(/MALFORMED/);
    expect(plant.sim.snapshot().truth[TAG]).to.equal(190);
    const recs = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
    expect(recs.map((r) => r.type)).to.deep.equal(['refused']);
    expect((recs[0].data as { received: string }).received).to.contain(p.id);
  });
});
