// The approval gate and the writers follow the line's ownership, on a real single-node Debian nats-server:
// (1) runtime: the new owner's 'owner' record fences the former owner's ledger handle (LedgerFencedError on
// its next append), no fork in the stream; (2) a real Node-RED runtime holding two instances (two
// twin-cluster config nodes, each with its twin-ledger, twin-approval and twin-opcua-write on the same line)
// and the plant simulator: only the owner's gate is on the page and acts, the standby gate refuses proposals;
// the owner's membership closes, the other instance takes the line, its gate restores the pending proposal
// from the stream and, approved there, writes exactly the approved value; the standby writer refuses a
// command signed with the gate's key without touching the plant; the export verifies. (3) A decision in
// flight when another instance's owner record is already in the stream: refused, the gate halts, no command.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { liveProposal } from '../support/control-gate-fixtures.js';
import { signCommand } from '../../runtime/control/command.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { openLineStores, openLineStoresAsOwner } from '../../runtime/cluster/line-stores.js';
import type { TwinClusterNode } from '../../nodes/twin-cluster/cluster-api.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { runTwinloop } from '../support/twinloop-cli.js';

const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};

const KEY = 'gate-takeover-spec-key-0123456789';
const TAG = 'zone1_sp';
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

describe('the gate and the writers follow the line ownership (real nats-server)', function () {
  this.timeout(90_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let tmp: string;

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 1);
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'gate-takeover-spec-'));
  });
  after(async () => {
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function exportAndVerify(line: string): Promise<LedgerRecord[]> {
    const file = join(tmp, `${randomUUID()}.jsonl`);
    const env = { TWINLOOP_SIGNING_KEY: KEY };
    const exp = await runTwinloop(['ledger', 'export', '--servers', nats.servers.join(','), '--line', line, '--out', file], env);
    expect(exp.code, exp.out).to.equal(0);
    const ver = await runTwinloop(['ledger', 'verify', file], env);
    expect(ver.code, ver.out).to.equal(0);
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
  }

  it("runtime: the new owner's 'owner' record fences the former owner's handle at once; the stream has no fork", async () => {
    const line = 'spec/takeover/line1';
    const opts = { servers: nats.servers, line, replicas: 1, signingKey: KEY };
    const h1 = await openLineStoresAsOwner({ ...opts, owner: 'A', instance: 'A' });
    const p = await h1.ledger.append({ type: 'proposal', asset: 'a', tag: 't', proposalId: 'p1', data: { id: 'p1' } });
    expect(p.seq).to.equal(1);
    // B takes the line over (A paused past its lease): B has decided nothing yet
    const h2 = await openLineStoresAsOwner({ ...opts, owner: 'B', instance: 'B' });
    const zombie = await h1.ledger
      .append({ type: 'decision', asset: 'a', tag: 't', proposalId: 'p1', data: { verdict: 'approve' } })
      .catch((e: Error) => e);
    expect((zombie as Error).name).to.equal('LedgerFencedError');
    expect((zombie as Error).message)
      .to.contain(line)
      .and.contain('no longer owns the line');
    expect(h1.ledger.fenced?.name).to.equal('LedgerFencedError');
    // B goes on: its first decision follows its own 'owner' record
    const d = await h2.ledger.append({ type: 'decision', asset: 'a', tag: 't', proposalId: 'p1', data: { verdict: 'reject' } });
    expect(d.seq).to.equal(3);
    await h1.close();
    await h2.close();

    const reader = await openLineStores({ ...opts, owner: 'reader' });
    const recs = await reader.ledger.readAll();
    await reader.close();
    expect(recs.map((r) => [r.seq, r.type])).to.deep.equal([
      [0, 'owner'],
      [1, 'proposal'],
      [2, 'owner'],
      [3, 'decision'],
    ]);
    expect(recs.map((r) => (r.type === 'owner' ? (r.data as { instance: string }).instance : undefined))).to.deep.equal([
      'A',
      undefined,
      'B',
      undefined,
    ]);
    expect((recs[3]!.data as { verdict: string }).verdict, "the zombie's decision is not in the stream").to.equal('reject');
    expect(recs[2]!.prevHash).to.equal(recs[1]!.hash);
    const exported = await exportAndVerify(line);
    expect(exported.map((r) => r.hash)).to.deep.equal(recs.map((r) => r.hash));
  });

  describe('two instances in one Node-RED runtime, the plant simulator over OPC UA', function () {
    let plant: TestPlantSim;
    let rec: Recorder;
    const writes: string[] = [];

    before(async function () {
      plant = await startTestPlantSim({ publishIntervalMs: 200, onSetpointWrite: (tag, value) => writes.push(`${tag}=${value}`) });
    });
    after(async function () {
      await plant?.stop();
    });
    beforeEach(function (done) {
      helper.settings({ userDir: tempUserDir('nr-gate-takeover-') });
      rec = recordNodeCalls();
      helper.startServer(done);
    });
    afterEach(async function () {
      rec.restore();
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
    });

    function twoInstanceFlow(line: string): object[] {
      const asset = plant.sim.asset;
      const item = (t: string) => ({ nodeId: `ns=1;s=extruder.${t}`, asset, tag: t });
      const instance = (x: 'A' | 'B') => [
        {
          id: `c${x}`,
          type: 'twin-cluster',
          servers: nats.servers.join(' '),
          instance: x,
          lines: line,
          ttlS: 2,
          replicas: 1,
          slack: 0,
        },
        { id: `led${x}`, type: 'twin-ledger', storage: 'jetstream', cluster: `c${x}`, line, waitS: 5 },
        {
          id: `gate${x}`,
          type: 'twin-approval',
          envelope: 'env',
          ledger: `led${x}`,
          twoPersonAboveStep: '',
          autoApproval: false,
          autoApprovalMaxStep: '',
          commandTtlMs: 60_000,
          wires: [[`w${x}`, `cmds${x}`], [`events${x}`]],
        },
        {
          id: `w${x}`,
          type: 'twin-opcua-write',
          endpoint: 'ep',
          nodeId: `ns=1;s=extruder.${TAG}`,
          asset,
          tag: TAG,
          envelope: 'env',
          ledger: `led${x}`,
          readBackTimeoutMs: 2000,
          wires: [[`gate${x}`, `results${x}`], []],
        },
        { id: `cmds${x}`, type: 'helper' },
        { id: `events${x}`, type: 'helper' },
        { id: `results${x}`, type: 'helper' },
      ];
      return [
        {
          id: 'ep',
          type: 'twin-opcua-endpoint',
          endpointUrl: plant.endpoint,
          securityMode: 'None',
          securityPolicy: 'None',
          authMode: 'anonymous',
        },
        {
          id: 'in',
          type: 'twin-opcua-in',
          endpoint: 'ep',
          items: [item(TAG), item('mode'), item('alarm')],
          samplingIntervalMs: 200,
          deadband: 0,
          queueSize: 1,
          maxFutureMs: 5000,
          // both instances' flows get the readings: the standby gate ignores them
          wires: [['gateA', 'gateB']],
        },
        {
          id: 'env',
          type: 'twin-envelope',
          asset,
          tag: TAG,
          unit: 'degC',
          lowLimit: 160,
          highLimit: 240,
          maxStep: 10,
          rateUpPerMin: 600,
          rateDownPerMin: 600,
          minDwellMs: 0,
          interlocks: [
            { tag: 'mode', op: '==', value: 1 },
            { tag: 'alarm', op: '==', value: 0 },
          ],
          inputTags: '',
          maxInputAgeMs: 30_000,
          minQuality: 'good',
          ramp: false,
          source: 'ep',
        },
        ...instance('A'),
        ...instance('B'),
      ];
    }

    const NODES = [
      'twin-cluster',
      'twin-opcua-endpoint',
      'twin-opcua-in',
      'twin-envelope',
      'twin-ledger',
      'twin-approval',
      'twin-opcua-write',
    ];

    it("only the owner's gate acts; the next owner restores the proposal and writes it; the standby writer refuses", async () => {
      const line = 'spec/gatefollow/line1';
      const asset = plant.sim.asset;
      plant.sim.write(TAG, 190);
      await helper.load(
        NODES.map(nodeModule) as never,
        twoInstanceFlow(line) as never,
        {
          ledA: { signingKey: KEY },
          ledB: { signingKey: KEY },
        } as never,
      );
      const got: Record<
        string,
        { cmds: unknown[]; results: Array<{ commandId: string; outcome: string }>; events: Array<{ proposalId: string; state: string }> }
      > = {
        A: { cmds: [], results: [], events: [] },
        B: { cmds: [], results: [], events: [] },
      };
      for (const x of ['A', 'B']) {
        node(`cmds${x}`).on('input', (m: never) => got[x]!.cmds.push((m as { payload: unknown }).payload));
        node(`results${x}`).on('input', (m: never) => got[x]!.results.push((m as { payload: never }).payload));
        node(`events${x}`).on('input', (m: never) => got[x]!.events.push((m as { payload: never }).payload));
      }
      const cluster = (x: string) => helper.getNode(`c${x}`) as unknown as TwinClusterNode;
      await waitUntil(() => cluster('A').owns(line) !== cluster('B').owns(line) || undefined, 20_000, 20, 'one owner of the line');
      const [X, Y] = cluster('A').owns(line) ? ['A', 'B'] : ['B', 'A'];
      const handleX = await waitUntil(() => registry.findGate(`gate${X}`, 'setpoint'), 20_000, 20, "the owner's gate on the page");
      expect(registry.findGate(`gate${Y}`, 'setpoint'), 'the standby gate is not on the page').to.equal(undefined);
      await waitUntil(() => rec.lastStatus(`gate${Y}`)?.text === 'standby' || undefined, 10_000, 20, 'standby status');
      expect(rec.lastStatus(`gate${Y}`)).to.include({ fill: 'grey', shape: 'ring' });

      // a proposal reaches both instances' flows: the owner's gate puts it up, the standby gate refuses it
      const p = liveProposal(asset, TAG, 190, 184, { rationale: 'A lower zone 1 temperature cuts energy per kg while quality holds.' });
      for (const x of [X, Y]) node(`gate${x}`).receive({ topic: `${asset}/${TAG}`, payload: p });
      await waitUntil(
        () => handleX.views().some((v) => v.proposal.id === p.id && v.state === 'pending') || undefined,
        10_000,
        20,
        'pending',
      );
      await waitUntil(() => rec.errors(`gate${Y}`).length > 0 || undefined, 5_000, 20, 'the refusal on the standby gate');
      const refusal = rec.errors(`gate${Y}`)[0] as Error & { code?: string };
      expect(refusal.code).to.equal('REFUSED');
      expect(refusal.message).to.contain(line).and.contain('another instance');
      expect(rec.errors(`gate${Y}`), 'readings on the standby gate are ignored silently').to.have.length(1);

      // the owner's membership stops (a redeploy, a shutdown): the other instance takes the line over
      const writesBefore = writes.length;
      await (helper.getNode(`c${X}`) as unknown as { close(removed: boolean): Promise<void> }).close(true);
      expect(registry.findGate(`gate${X}`, 'setpoint'), "the former owner's gate left the page").to.equal(undefined);
      expect(rec.lastStatus(`gate${X}`)?.text).to.equal('standby');
      const handleY = await waitUntil(() => registry.findGate(`gate${Y}`, 'setpoint'), 20_000, 20, "the new owner's gate on the page");
      // restored from the stream: the same proposal, still pending, nothing decided twice
      const restored = handleY.views().find((v) => v.proposal.id === p.id);
      expect(restored?.state).to.equal('pending');
      expect(restored?.proposal.proposedValue).to.equal(184);

      const decided = await handleY.decide({
        proposalId: p.id,
        verdict: 'approve',
        user: 'alice',
        printedName: 'Alice Supervisor',
        reason: 'energy',
      });
      expect(decided.ok, decided.error).to.equal(true);
      await waitUntil(() => got[Y]!.events.some((e) => e.proposalId === p.id && e.state === 'done') || undefined, 20_000, 20, 'done');
      expect(plant.sim.snapshot().truth[TAG]).to.equal(184);
      expect(writes.slice(writesBefore), 'exactly the approved value, once').to.deep.equal([`${TAG}=184`]);
      expect(got[X]!.cmds, 'the former owner sent no command').to.have.length(0);
      expect(got[Y]!.cmds).to.have.length(1);
      expect(got[Y]!.results[0]).to.include({ outcome: 'written' });

      // the former owner's writer gets a command signed with the gate's key: refused, nothing written
      const c = got[Y]!.cmds[0] as { proposalId: string; envelopeVersion: string };
      const fresh = signCommand(KEY, {
        proposalId: c.proposalId,
        asset,
        tag: TAG,
        value: 186,
        unit: 'degC',
        step: 1,
        steps: 1,
        fromValue: 184,
        issuedTsMs: Date.now(),
        expiresTsMs: Date.now() + 60_000,
        envelopeVersion: c.envelopeVersion,
      });
      const writesMark = writes.length;
      node(`w${X}`).receive({ payload: fresh });
      await waitUntil(() => rec.errors(`w${X}`).length > 0 || undefined, 10_000, 20, 'the standby writer refuses');
      const wErr = rec.errors(`w${X}`)[0] as Error & { code?: string };
      expect(wErr.code).to.equal('REFUSED');
      expect(wErr.message).to.contain(line);
      expect(rec.lastStatus(`w${X}`)?.fill).to.equal('red');
      expect(writes.length, 'no plant write by the standby writer').to.equal(writesMark);
      expect(plant.sim.snapshot().truth[TAG]).to.equal(184);
      console.log(
        `      plant writes after the handover: ${writes.length - writesBefore} (the approved ${TAG}=184); by the standby writer: 0`,
      );

      const recs = await exportAndVerify(line);
      const owners = recs.filter((r) => r.type === 'owner').map((r) => (r.data as { instance: string }).instance);
      expect(owners.slice(-2)).to.deep.equal([X, Y]);
      expect(recs.filter((r) => r.proposalId === p.id).map((r) => r.type)).to.deep.equal([
        'proposal',
        'decision',
        'command',
        'write-intent',
        'write',
        'readback',
      ]);
      // the proposal came before the handover, everything after it from the new owner
      const yOwner = recs.map((r) => r.type).lastIndexOf('owner');
      expect(recs.findIndex((r) => r.type === 'proposal' && r.proposalId === p.id)).to.be.below(yOwner);
      expect(recs.findIndex((r) => r.type === 'decision' && r.proposalId === p.id)).to.be.above(yOwner);
    });

    it('a decision in flight after another instance took the line over: refused, the gate halts, no command', async () => {
      const line = 'spec/gatefollow/line2';
      const asset = plant.sim.asset;
      plant.sim.write(TAG, 190);
      await helper.load(
        NODES.map(nodeModule) as never,
        twoInstanceFlow(line) as never,
        {
          ledA: { signingKey: KEY },
          ledB: { signingKey: KEY },
        } as never,
      );
      const cmds: unknown[] = [];
      for (const x of ['A', 'B']) node(`cmds${x}`).on('input', (m: never) => cmds.push((m as { payload: unknown }).payload));
      const cluster = (x: string) => helper.getNode(`c${x}`) as unknown as TwinClusterNode;
      await waitUntil(() => cluster('A').owns(line) !== cluster('B').owns(line) || undefined, 20_000, 20, 'one owner of the line');
      const X = cluster('A').owns(line) ? 'A' : 'B';
      const handleX = await waitUntil(() => registry.findGate(`gate${X}`, 'setpoint'), 20_000, 20, "the owner's gate on the page");
      const p = liveProposal(asset, TAG, 190, 184, { rationale: 'A lower zone 1 temperature cuts energy per kg while quality holds.' });
      node(`gate${X}`).receive({ topic: `${asset}/${TAG}`, payload: p });
      await waitUntil(
        () => handleX.views().some((v) => v.proposal.id === p.id && v.state === 'pending') || undefined,
        10_000,
        20,
        'pending',
      );

      // another instance became the owner while this one has not noticed yet (paused, partitioned): its first record
      const other = await openLineStoresAsOwner({ servers: nats.servers, line, replicas: 1, signingKey: KEY, owner: 'C', instance: 'C' });
      const writesMark = writes.length;
      try {
        const decided = await handleX.decide({
          proposalId: p.id,
          verdict: 'approve',
          user: 'alice',
          printedName: 'Alice',
          reason: 'energy',
        });
        expect(decided.ok, 'the decision is not taken: its record was refused').to.equal(false);
        expect(decided.error).to.contain('halted').and.contain('no longer owns the line');
        await waitUntil(() => rec.errors(`gate${X}`).some((e) => /halted/.test(e.message)) || undefined, 10_000, 20, 'the gate halted');
        expect(rec.lastStatus(`gate${X}`)).to.include({ fill: 'red', text: 'ledger failed' });
        expect(cmds, 'no command after a refused append').to.have.length(0);
        expect(writes.length, 'no plant write').to.equal(writesMark);
        const again = await handleX.decide({ proposalId: p.id, verdict: 'approve', user: 'bob', printedName: 'Bob', reason: 'x' });
        expect(again.ok).to.equal(false);
        const recs = await other.ledger.readAll();
        expect(recs.at(-1)).to.include({ type: 'owner' });
        expect(recs.some((r) => r.type === 'decision' && r.proposalId === p.id)).to.equal(false);
      } finally {
        await other.close();
      }
      await exportAndVerify(line);
    });
  });
});
