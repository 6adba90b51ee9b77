// twin-ledger with storage "NATS JetStream" on a real single-node Debian nats-server: openLineStores
// (runtime/cluster/line-stores.ts) on its own, then the closed loop in a real Node-RED runtime — plant
// simulator (OPC UA) → twin-approval → twin-opcua-write → simulator, every record in the line's stream,
// exported by `twinloop ledger export` and checked by `twinloop ledger verify`; a second twin-ledger on
// the same line fenced (LedgerFencedError) while the first holds it; the server killed: the gate halts
// in red and nothing is written to the plant; a server that wants a user and password (twin-ledger credentials).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { signCommand } from '../../runtime/control/command.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { Ledger } from '../../runtime/control/stores.js';
import type { LedgerRecord, Proposal } from '../../runtime/model/control.js';
import { openLineStores } from '../../runtime/cluster/line-stores.js';
import { parseNatsServers, parseReplicas } from '../../runtime/cluster/cluster-config.js';
import { ledgerStreamName } from '../../runtime/cluster/line-id.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { freePort, waitFor } from '../support/ports.js';
import { helper } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { closedLoopFlow, collectClosedLoop, CLOSED_LOOP_NODES } from '../support/closed-loop-rig.js';
import { runTwinloop } from '../support/twinloop-cli.js';

const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};

const KEY = 'jetstream-ledger-spec-key-0123456789';
const TAG = 'zone1_sp';
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

const cli = runTwinloop;

describe('twin-ledger on NATS JetStream (real single-node nats-server)', function () {
  this.timeout(90_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let tmp: string;

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 1);
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nats-ledger-spec-'));
  });
  after(async () => {
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('openLineStores', function () {
    it('checks servers and replicas as a config node gives them', () => {
      expect(parseNatsServers(' nats://a:4222, nats://b:4222\nnats://c:4222 ')).to.deep.equal([
        'nats://a:4222',
        'nats://b:4222',
        'nats://c:4222',
      ]);
      expect(() => parseNatsServers('')).to.throw(/no NATS servers/);
      expect(() => parseNatsServers('http://a:4222')).to.throw(/not nats:\/\//);
      const withPassword = (() => {
        try {
          parseNatsServers('nats://bob:secret@a:4222');
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect(withPassword)
        .to.match(/credentials/)
        .and.not.contain('secret');
      expect(parseReplicas(undefined)).to.equal(3);
      expect(parseReplicas('1')).to.equal(1);
      expect(() => parseReplicas(2)).to.throw(/1, 3 or 5/);
    });

    it('gives the line ledger and the KV claims on one connection, and closes it', async () => {
      const line = 'spec/stores/line1';
      const s = await openLineStores({ servers: nats.servers, line, owner: 'spec', replicas: 1, signingKey: KEY });
      expect(s.ledger.location).to.equal(`nats:${ledgerStreamName(line)}`);
      const r = await s.ledger.append({ type: 'proposal', asset: 'a', tag: 't', data: { n: 1 } });
      expect(r.seq).to.equal(0);
      const id = randomUUID();
      expect(await s.usedCommands.claim(id)).to.equal(true);
      expect(await s.usedCommands.claim(id)).to.equal(false);
      await s.close();
      expect(s.nc.isClosed()).to.equal(true);
      // a second open reads the stream back and the claim stays taken
      const again = await openLineStores({ servers: nats.servers, line, owner: 'spec2', replicas: 1, signingKey: KEY });
      expect((await again.ledger.readAll()).map((x) => x.hash)).to.deep.equal([r.hash]);
      expect(again.usedCommands.has(id)).to.equal(true);
      await again.close();
    });

    it('a cluster that cannot be reached is a CONNECTION error at once, naming the servers', async () => {
      const url = `nats://127.0.0.1:${await freePort()}`;
      const err = await openLineStores({
        servers: [url],
        line: 'spec/stores/line2',
        owner: 'spec',
        replicas: 1,
        connectTimeoutMs: 1000,
      }).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).to.equal('CONNECTION');
      expect(err?.message).to.contain(url);
    });
  });

  describe('a cluster that wants a user and password', function () {
    const USER = 'twinloop';
    const PASSWORD = 'nats-pass-never-logged-42';
    let child: ChildProcess | undefined;
    let url: string;

    before(async function () {
      const port = await freePort();
      url = `nats://127.0.0.1:${port}`;
      const store = join(tmp, 'auth-store');
      child = spawn(bin!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, '--user', USER, '--pass', PASSWORD], {
        stdio: 'ignore',
      });
      await waitFor(
        () =>
          openLineStores({ servers: [url], line: 'spec/auth/probe', owner: 'spec', replicas: 1, user: USER, password: PASSWORD }).then(
            async (s) => (await s.close(), true),
            () => false,
          ),
        15_000,
        100,
        'nats-server with a password',
      );
    });
    after(async () => {
      child?.kill('SIGKILL');
    });

    it('opens with the right password; a wrong one is a CONNECTION error that does not repeat it', async () => {
      const s = await openLineStores({
        servers: [url],
        line: 'spec/auth/line1',
        owner: 'spec',
        replicas: 1,
        user: USER,
        password: PASSWORD,
      });
      expect((await s.ledger.append({ type: 'proposal', asset: 'a', tag: 't', data: {} })).seq).to.equal(0);
      await s.close();
      const wrong = 'wrong-pass-0123456789';
      const err = await openLineStores({
        servers: [url],
        line: 'spec/auth/line1',
        owner: 'spec',
        replicas: 1,
        user: USER,
        password: wrong,
        connectTimeoutMs: 2000,
      }).catch((e: Error & { code?: string }) => e);
      expect((err as { code?: string }).code).to.equal('CONNECTION');
      expect((err as Error).message).to.not.contain(wrong);
      const none = await openLineStores({
        servers: [url],
        line: 'spec/auth/line1',
        owner: 'spec',
        replicas: 1,
        connectTimeoutMs: 2000,
      }).catch((e: Error) => e);
      expect((none as { code?: string }).code).to.equal('CONNECTION');
    });

    it('twin-ledger takes the NATS user and password from its credentials', async () => {
      helper.settings({ userDir: tempUserDir('nr-nats-auth-') });
      await new Promise<void>((r) => helper.startServer(() => r()));
      const recAuth = recordNodeCalls();
      try {
        const def = (id: string) => ({
          id,
          type: 'twin-ledger',
          storage: 'jetstream',
          servers: url,
          line: 'spec/auth/line2',
          replicas: 1,
          waitS: 2,
        });
        await helper.load(
          CLOSED_LOOP_NODES as never,
          [def('ok'), def('nopass')] as never,
          {
            ok: { signingKey: KEY, natsUser: USER, natsPassword: PASSWORD },
            nopass: { signingKey: KEY, natsUser: USER, natsPassword: 'wrong-pass-0123456789' },
          } as never,
        );
        const ledgerOf = (id: string) => (helper.getNode(id) as unknown as { ledger(): Promise<Ledger> }).ledger();
        expect((await ledgerOf('ok')).location).to.equal(`nats:${ledgerStreamName('spec/auth/line2')}`);
        const err = await ledgerOf('nopass').catch((e: Error) => e);
        expect((err as { code?: string }).code).to.equal('CONNECTION');
        expect(recAuth.errors('nopass')[0].message).to.contain('spec/auth/line2').and.not.contain('wrong-pass');
      } finally {
        recAuth.restore();
        await helper.unload();
        await new Promise<void>((r) => helper.stopServer(() => r()));
      }
    });
  });

  describe('in a Node-RED flow: twin-ledger (JetStream) + twin-approval + twin-opcua-write + plant simulator', function () {
    let plant: TestPlantSim;
    let rec: Recorder;

    before(async function () {
      plant = await startTestPlantSim({ publishIntervalMs: 200 });
    });
    after(async function () {
      await plant?.stop();
    });
    beforeEach(function (done) {
      helper.settings({ userDir: tempUserDir('nr-nats-ledger-') });
      rec = recordNodeCalls();
      plant.sim.write(TAG, 190);
      helper.startServer(done);
    });
    afterEach(async function () {
      rec.restore();
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
    });

    const ledgerDef = (id: string, line: string) => ({
      id,
      type: 'twin-ledger',
      storage: 'jetstream',
      servers: nats.servers.join(', '),
      line,
      replicas: 1,
      waitS: 2,
    });

    async function load(line: string, extra: object[] = [], ledgerOver: Record<string, unknown> = {}) {
      const asset = plant.sim.asset;
      const flow = closedLoopFlow(plant, TAG, { ...ledgerDef('led', line), ...ledgerOver }, extra);
      const creds: Record<string, unknown> = { led: { signingKey: KEY } };
      for (const e of extra as Array<{ id: string; type: string }>) if (e.type === 'twin-ledger') creds[e.id] = { signingKey: KEY };
      await helper.load(CLOSED_LOOP_NODES as never, flow as never, creds as never);
      const got = collectClosedLoop(node);
      return { asset, got, handle: await waitUntil(() => registry.findGate('gate', 'setpoint'), 20_000, 20, 'the gate to register') };
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

    async function approveAndWrite(
      handle: GateHandle<'setpoint'>,
      got: { events: Array<{ proposalId: string; state: string }> },
      asset: string,
      from: number,
      to: number,
    ) {
      const p = proposal(asset, from, to);
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
      return p;
    }

    async function exportAndVerify(line: string): Promise<LedgerRecord[]> {
      const file = join(tmp, `${randomUUID()}.jsonl`);
      const env = { TWINLOOP_SIGNING_KEY: KEY };
      const exp = await cli(['ledger', 'export', '--servers', nats.servers.join(','), '--line', line, '--out', file], env);
      expect(exp.code, exp.out).to.equal(0);
      const ver = await cli(['ledger', 'verify', file], env);
      expect(ver.code, ver.out).to.equal(0);
      return readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LedgerRecord);
    }

    it('the closed loop writes its records to the line stream; the export verifies', async function () {
      const line = 'spec/loop/line1';
      const { asset, got, handle } = await load(line);
      expect(handle.ledgerLocation).to.equal(`nats:${ledgerStreamName(line)}`);
      const p = await approveAndWrite(handle, got, asset, 190, 184);
      expect(plant.sim.snapshot().truth[TAG]).to.equal(184);
      expect(got.cmds).to.have.length(1);
      expect(got.results[0]).to.include({ commandId: got.cmds[0].id, outcome: 'written', readBackOk: true });

      const recs = await exportAndVerify(line);
      expect(recs.map((r) => r.seq)).to.deep.equal([...recs.keys()]);
      expect(recs.filter((r) => r.proposalId === p.id).map((r) => r.type)).to.deep.equal([
        'proposal',
        'decision',
        'command',
        'write-intent',
        'write',
        'readback',
      ]);
      expect(recs.every((r) => typeof r.mac === 'string')).to.equal(true);

      // the used command id is a KV claim: the same signed command again is refused, the plant untouched
      plant.sim.write(TAG, 186);
      node('w').receive({ payload: got.cmds[0] });
      await waitUntil(() => rec.errors('w').length > 0, 10_000, 20, 'refusal');
      expect(rec.errors('w')[0].message).to.match(/REPLAYED/);
      expect(plant.sim.snapshot().truth[TAG]).to.equal(186);

      // the flow stopped: the stores and the connection are closed with the node
      const held = await (helper.getNode('led') as unknown as { ledger(): Promise<Ledger> }).ledger();
      await helper.unload();
      const closed = await held.append({ type: 'decision', asset, tag: TAG, proposalId: 'after', data: {} }).catch((e: Error) => e);
      expect((closed as Error).message).to.match(/handle is closed/);
    });

    it('a second twin-ledger on the same line is refused (LedgerFencedError) while the first holds it; nothing twice', async function () {
      const line = 'spec/zombie/line1';
      const { asset, got, handle } = await load(line, [ledgerDef('led2', line)]);
      await approveAndWrite(handle, got, asset, 190, 186);
      // the intruder opens the stream (it has seen every record so far) ...
      const intruder = await (helper.getNode('led2') as unknown as { ledger(): Promise<Ledger> }).ledger();
      // ... then the owner goes on writing ...
      plant.sim.write(TAG, 186);
      await approveAndWrite(handle, got, asset, 186, 180);
      expect(plant.sim.snapshot().truth[TAG]).to.equal(180);
      // ... and the intruder's append is refused at the stream: it is the zombie
      const err = await intruder.append({ type: 'decision', asset, tag: TAG, proposalId: 'zombie', data: { verdict: 'approve' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name).to.equal('LedgerFencedError');
      const again = await intruder.append({ type: 'decision', asset, tag: TAG, proposalId: 'zombie2', data: {} }).catch((e: Error) => e);
      expect((again as Error).name).to.equal('LedgerFencedError');

      const recs = await exportAndVerify(line);
      expect(recs.some((r) => r.proposalId === 'zombie' || r.proposalId === 'zombie2')).to.equal(false);
      expect(new Set(recs.map((r) => r.hash)).size).to.equal(recs.length);
      expect(recs.filter((r) => r.type === 'write').length).to.equal(2);
      expect(got.cmds).to.have.length(2);
    });

    it('nats-server killed: the gate halts in red, the writer refuses, nothing is written to the plant', async function () {
      const line = 'spec/down/line1';
      const { asset, got, handle } = await load(line);
      // a signed command whose approval is in the ledger, kept for after the kill
      await approveAndWrite(handle, got, asset, 190, 185);
      const writtenBefore = got.results.length;
      plant.sim.write(TAG, 190);

      await nats.nodes[0].kill();
      try {
        const p = proposal(asset, 190, 184);
        node('gate').receive({ topic: `${asset}/${TAG}`, payload: p });
        await waitUntil(() => rec.lastStatus('gate')?.fill === 'red', 30_000, 20, 'gate status red');
        await waitUntil(() => rec.errors('gate').some((e) => /halted/.test(e.message)), 10_000, 20, 'gate halted');
        expect(rec.errors('gate')[0].message).to.contain(ledgerStreamName(line)).and.contain('no acknowledgement');
        expect(rec.lastStatus('gate')?.text).to.equal('ledger failed');
        expect(handle.views().some((v) => v.proposal.id === p.id)).to.equal(false);

        // a decision on the halted gate is refused (the gate does not act on a ledger it cannot write)
        const d = await handle.decide({ proposalId: p.id, verdict: 'approve', user: 'alice', printedName: 'Alice', reason: 'x' });
        expect(d.ok).to.equal(false);

        // a replayed or fresh command to the writer: no write without its ledger records
        const c = got.cmds[0];
        const fresh = signCommand(KEY, {
          proposalId: c.proposalId,
          asset,
          tag: TAG,
          value: 185,
          unit: 'degC',
          step: 1,
          steps: 1,
          fromValue: 190,
          issuedTsMs: Date.now(),
          expiresTsMs: Date.now() + 60_000,
          envelopeVersion: c.envelopeVersion,
        });
        node('w').receive({ payload: fresh });
        await waitUntil(() => rec.errors('w').length > 0, 30_000, 20, 'writer refusal');
        expect(rec.errors('w')[0].message).to.match(/no answer from twinloop_used_commands/);
        expect(rec.lastStatus('w')?.fill).to.equal('red');
        expect(got.results.length).to.equal(writtenBefore);
        expect(plant.sim.snapshot().truth[TAG]).to.equal(190);

        // the ledger handle that failed refuses every later append (its last record's fate was unknown)
        const ledger = await (helper.getNode('led') as unknown as { ledger(): Promise<Ledger> }).ledger();
        const late = await ledger.append({ type: 'decision', asset, tag: TAG, proposalId: 'late', data: {} }).catch((e: Error) => e);
        expect((late as Error).name).to.equal('LedgerFencedError');
      } finally {
        await nats.nodes[0].start();
      }
    });

    it('a bad JetStream setting is a config error (named, red in the users) and ledger() rejects without connecting', async function () {
      await helper.load(
        CLOSED_LOOP_NODES as never,
        [
          { id: 'bad', type: 'twin-ledger', storage: 'jetstream', servers: nats.servers.join(','), line: 'plant1/line1', replicas: 1 },
          { id: 'bad2', type: 'twin-ledger', storage: 'jetstream', servers: 'http://x:4222', line: 'a/b/c' },
        ] as never,
        { bad: { signingKey: KEY }, bad2: { signingKey: KEY } } as never,
      );
      const bad = helper.getNode('bad') as unknown as { configError?: string; ledger(): Promise<Ledger> };
      expect(bad.configError).to.match(/site\/area\/line/);
      const err = await bad.ledger().catch((e: Error & { code?: string }) => e);
      expect((err as { code?: string }).code).to.equal('BAD_CONFIG');
      expect((helper.getNode('bad2') as unknown as { configError?: string }).configError).to.match(/not nats:\/\//);
      expect(rec.errors('bad')[0].message).to.contain('invalid twin-ledger configuration');
    });

    it('a cluster that cannot be reached at deploy: twin-ledger logs why, the gate shows red and registers its alarm', async function () {
      const url = `nats://127.0.0.1:${await freePort()}`;
      const line = 'spec/unreachable/line1';
      const { handle } = await load(line, [], { servers: url });
      await waitUntil(() => rec.lastStatus('gate')?.fill === 'red', 20_000, 20, 'gate status red');
      expect(rec.lastStatus('gate')?.text).to.equal('ledger failed');
      expect(
        rec
          .errors('led')
          .map((e) => e.message)
          .join('\n'),
      )
        .to.contain(`cannot connect to NATS at ${url}`)
        .and.contain(line);
      const d = await handle.decide({ proposalId: 'any', verdict: 'approve', user: 'alice', printedName: 'Alice', reason: 'x' });
      expect(d.ok).to.equal(false);
    });
  });
});
