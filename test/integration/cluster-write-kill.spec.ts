// Proof run 3 of issue 16 with real processes: the line's owner SIGKILLed inside the write path. A real
// 3-node Debian nats-server cluster (ledger stream and command claims at R3), two Node-RED child
// processes (instances A and B, test/support/cluster-gate-rig.ts: twin-cluster, twin-ledger on the
// line's stream, twin-opcua-in → twin-approval with auto-approval → twin-opcua-write) and the plant
// simulator in this process, which counts every setpoint write the PLC accepts. Each instance reaches
// the PLC through its own TCP relay the test can freeze (test/support/crash-proxy.ts), so the owner can
// be held at an exact point of step 2 of a 5-step ramp (190 → 180) and killed there:
// - after the claim, before the write: its relay frozen before step 2, killed once step 2's command is
//   claimed in the KV bucket (the writer then waits on the present value);
// - after the write, before the read-back: its relay frozen the moment the PLC takes step 2's value, so
//   the owner never hears the answer, and killed.
// The other instance takes the line over after the lease, restores the ramp from the stream and settles
// the command left open from the plant. Asserted: every write the plant saw is an approved ramp step's
// value, none twice, none after the kill from the dead owner; the ledger says written exactly for
// the values the plant took; the export verifies. The counts are printed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { encodeName } from '../../runtime/cluster/line-id.js';
import { USED_COMMANDS_BUCKET } from '../../runtime/cluster/kv-used-commands.js';
import { jetstream, Kvm } from '../../runtime/cluster/nats-client.js';
import {
  CLUSTER_GATE_NODE_DIRS,
  clusterGateFlow,
  GATE_TAG,
  lineRecords,
  ownerOf,
  RAMP_VALUES,
  TRIGGER_TAG,
} from '../support/cluster-gate-rig.js';
import { startFreezableProxy, type FreezableProxy } from '../support/crash-proxy.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { waitFor } from '../support/ports.js';
import { runTwinloop } from '../support/twinloop-cli.js';

const KEY = 'write-kill-spec-key-0123456789abcd';
const INSTANCES = ['A', 'B'] as const;

interface CommandData {
  id: string;
  value: number;
}

describe('proof run 3: the line owner SIGKILLed inside the write path (3 nats-server, 2 Node-RED, real PLC)', function () {
  this.timeout(240_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let plant: TestPlantSim;
  let tmp: string;
  const proxies = new Map<string, FreezableProxy>();
  let children = new Map<string, NodeRedChild>();
  /** Every setpoint write the PLC accepted, in order. */
  const writes: Array<{ tag: string; value: number }> = [];
  /** Called once at the next write of the gate's tag (after it is counted). */
  let onNextGateWrite: ((value: number) => void) | undefined;

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 3);
    plant = await startTestPlantSim({
      publishIntervalMs: 200,
      onSetpointWrite: (tag, value) => {
        writes.push({ tag, value });
        if (tag !== GATE_TAG || !onNextGateWrite) return;
        const f = onNextGateWrite;
        onNextGateWrite = undefined;
        f(value);
      },
    });
    for (const name of INSTANCES) proxies.set(name, await startFreezableProxy('127.0.0.1', plant.port));
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'write-kill-'));
  });
  afterEach(async () => {
    for (const c of children.values()) await c.kill();
    children = new Map();
    for (const p of proxies.values()) {
      p.thaw();
      p.dropAll();
    }
  });
  after(async () => {
    for (const p of proxies.values()) await p.close();
    await plant?.stop();
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const gateWrites = () => writes.filter((w) => w.tag === GATE_TAG).map((w) => w.value);
  const commands = (recs: LedgerRecord[]) => recs.filter((r) => r.type === 'command').map((r) => r.data as CommandData);
  async function claimed(commandId: string): Promise<boolean> {
    const nc = await nats.connect();
    try {
      const kv = await new Kvm(jetstream(nc)).open(USED_COMMANDS_BUCKET);
      const e = await kv.get(encodeName(commandId)).catch(() => null);
      return e?.operation === 'PUT';
    } finally {
      await nc.close();
    }
  }

  /** Both instances on `line`, each through its own relay; resolves the owner once its gate is up. */
  async function startPair(line: string, trigger: number, proposalId: string): Promise<{ owner: string; other: string }> {
    for (const name of INSTANCES) {
      const home = join(tmp, `${encodeName(line)}-${name}`);
      mkdirSync(home, { recursive: true });
      const flow = clusterGateFlow({
        instance: name,
        servers: nats.servers,
        replicas: 3,
        line,
        endpoint: plant.endpoint.replace(`:${plant.port}/`, `:${proxies.get(name)!.port}/`),
        asset: plant.sim.asset,
        trigger,
        proposalId,
        keyEnv: 'TWINLOOP_SPEC_KEY',
      });
      writeFileSync(join(home, 'flows.json'), JSON.stringify(flow));
    }
    const started = await Promise.all(
      INSTANCES.map((name) =>
        startNodeRedChild(join(tmp, `${encodeName(line)}-${name}`), CLUSTER_GATE_NODE_DIRS, {
          TWINLOOP_SPEC_KEY: KEY,
          TWINLOOP_CHILD_LOG_LEVEL: 'info',
        }),
      ),
    );
    INSTANCES.forEach((name, i) => children.set(name, started[i]!));
    const owner = (await waitFor(async () => ownerOf(await lineRecords(nats, line)), 60_000, 100, "an owner record in the line's stream"))!;
    await waitFor(() => children.get(owner)!.output().includes(`line ${line} acquired`), 30_000, 50, "the owner's ledger open");
    return { owner, other: owner === 'A' ? 'B' : 'A' };
  }

  /**
   * Run the ramp on `line`, hold the owner at `point` of step 2 and SIGKILL it; the other instance
   * finishes or ends the change. Returns what the plant saw and the line's records.
   */
  async function killInWritePath(line: string, point: 'after claim' | 'after write', trigger: number) {
    plant.sim.write(GATE_TAG, 190);
    writes.length = 0;
    const { owner, other } = await startPair(line, trigger, `ramp-${trigger}`);
    const relay = proxies.get(owner)!;
    const wroteStep1 = (recs: LedgerRecord[]) =>
      recs.some((r) => r.type === 'readback' && (r.data as { value?: number }).value === RAMP_VALUES[0]);
    let tookStep2 = false;
    if (point === 'after write') {
      // the moment the PLC takes step 2, the owner's relay freezes: the answer never reaches its writer
      onNextGateWrite = (v) => {
        if (v !== RAMP_VALUES[0]) {
          tookStep2 = true;
          relay.freeze();
        } else onNextGateWrite = arm;
      };
    }
    const arm = onNextGateWrite;
    plant.sim.write(TRIGGER_TAG, trigger);
    await waitFor(async () => wroteStep1(await lineRecords(nats, line)), 60_000, 50, 'step 1 written and read back');
    let step2: CommandData | undefined;
    if (point === 'after claim') {
      // before step 2 (2 s dwell): the writer's read of the present value will wait on the frozen relay
      relay.freeze();
      step2 = await waitFor(async () => commands(await lineRecords(nats, line))[1], 30_000, 50, "step 2's command");
      await waitFor(() => claimed(step2!.id), 30_000, 50, "step 2's command claimed by the owner's writer");
    } else {
      await waitFor(() => tookStep2, 30_000, 20, 'the PLC took step 2');
      step2 = commands(await lineRecords(nats, line))[1];
    }
    const writesAtKill = gateWrites().length;
    const killedAt = performance.now();
    await children.get(owner)!.kill();
    relay.dropAll();
    relay.thaw();

    // the other instance takes over, restores the ramp and settles step 2; then the change ends
    const ended = (recs: LedgerRecord[]) =>
      recs.some(
        (r) =>
          r.proposalId === `ramp-${trigger}` &&
          ((r.type === 'readback' && (r.data as { value?: number }).value === RAMP_VALUES.at(-1)) ||
            (['write', 'readback'].includes(r.type) && (r.data as { outcome?: string }).outcome === 'failed') ||
            ['expired', 'blocked', 'superseded'].includes(r.type)),
      );
    const recs = (await waitFor(
      async () => {
        const r = await lineRecords(nats, line);
        return ownerOf(r) === other && ended(r) && r;
      },
      90_000,
      200,
      'the change ended by the new owner',
    ).catch(async (err: Error) => {
      const types = (await lineRecords(nats, line)).map((r) =>
        r.type === 'owner' ? `owner(${(r.data as { instance: string }).instance})` : r.type,
      );
      throw new Error(`${err.message}\nstream: ${types.join(' ')}\n${other}: ${children.get(other)!.output().slice(-3000)}`);
    })) as LedgerRecord[];
    const takeoverMs = performance.now() - killedAt;

    const file = join(tmp, `${encodeName(line)}.jsonl`);
    const env = { TWINLOOP_SIGNING_KEY: KEY };
    const exp = await runTwinloop(['ledger', 'export', '--servers', nats.servers.join(','), '--line', line, '--out', file], env);
    expect(exp.code, exp.out).to.equal(0);
    const ver = await runTwinloop(['ledger', 'verify', file], env);
    expect(ver.code, ver.out).to.equal(0);
    const exported = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
    expect(exported.length).to.be.at.least(recs.length);
    return { owner, other, step2: step2!, writesAtKill, takeoverMs, recs: exported };
  }

  /** What every run must show, whatever became of step 2. */
  function checkAccount(recs: LedgerRecord[], owner: string, other: string) {
    const plantSaw = gateWrites();
    const approved = commands(recs).map((c) => c.value);
    // each write the plant saw is an approved step's value, none twice
    for (const v of plantSaw) expect(approved, `plant write ${v} has an approved command`).to.include(v);
    expect(new Set(plantSaw).size, `no value written twice: ${plantSaw.join(', ')}`).to.equal(plantSaw.length);
    expect(plantSaw, 'the ramp in order').to.deep.equal(RAMP_VALUES.slice(0, plantSaw.length));
    // no command id executed twice: at most one write outcome per command
    const outcomes = new Map<string, string[]>();
    for (const r of recs.filter((x) => x.type === 'write')) {
      const d = r.data as { commandId?: string; outcome?: string };
      outcomes.set(d.commandId!, [...(outcomes.get(d.commandId!) ?? []), d.outcome ?? '']);
    }
    for (const [id, outs] of outcomes) expect(outs, `write records of ${id}`).to.have.length(1);
    // the ledger says written exactly for what the plant took
    const writtenValues = commands(recs)
      .filter((c) => outcomes.get(c.id)?.[0] === 'written')
      .map((c) => c.value);
    expect(writtenValues, 'ledger written = plant writes').to.deep.equal(plantSaw);
    expect(
      recs.filter((r) => r.type === 'owner').map((r) => (r.data as { instance: string }).instance),
      'owners in the stream',
    ).to.deep.equal([owner, other]);
    return { plantSaw, outcomes };
  }

  it('killed after the claim, before the write: the new owner settles step 2 as not written; the plant saw only step 1', async () => {
    const line = 'spec/writekill/claim';
    const r = await killInWritePath(line, 'after claim', 212);
    const { plantSaw, outcomes } = checkAccount(r.recs, r.owner, r.other);
    console.log(
      `      run 3, after claim: killed ${r.owner} holding step 2 (${r.step2.value}) claimed, unwritten; ${r.other} ended the change ` +
        `${(r.takeoverMs / 1000).toFixed(1)} s after the kill (lease 2 s); plant writes ${plantSaw.length} (${plantSaw.join(', ')}), ` +
        `step 2 recorded ${outcomes.get(r.step2.id)?.join('/') ?? 'nothing'}; records ${r.recs.length}; export verifies`,
    );
    expect(r.writesAtKill).to.equal(1);
    expect(plantSaw, 'step 2 never reached the plant').to.not.include(r.step2.value);
    expect(outcomes.get(r.step2.id), 'step 2 settled by the new owner').to.deep.equal(['failed']);
  });

  it('killed after the PLC took step 2, before its write record and read-back: settled as written from the plant, the ramp finished, no step twice', async () => {
    const line = 'spec/writekill/write';
    const r = await killInWritePath(line, 'after write', 213);
    const { plantSaw, outcomes } = checkAccount(r.recs, r.owner, r.other);
    console.log(
      `      run 3, after write: killed ${r.owner} after the PLC took step 2 (${r.step2.value}); ${r.other} ended the change ` +
        `${(r.takeoverMs / 1000).toFixed(1)} s after the kill (lease 2 s); plant writes ${plantSaw.length} (${plantSaw.join(', ')}), ` +
        `step 2 recorded ${outcomes.get(r.step2.id)?.join('/') ?? 'nothing'}; records ${r.recs.length}; export verifies`,
    );
    expect(r.writesAtKill).to.equal(2);
    expect(outcomes.get(r.step2.id), 'step 2 settled as written (plant confirmed)').to.deep.equal(['written']);
    expect(plantSaw, 'every step once').to.deep.equal(RAMP_VALUES);
  });
});
