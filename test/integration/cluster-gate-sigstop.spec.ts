// Proof run 4 of issue 16 with real processes: a zombie owner. Two Node-RED child processes (instances A
// and B: twin-cluster, twin-ledger on the line's JetStream stream, twin-opcua-in → twin-approval with
// auto-approval → twin-opcua-write) on one line, a real 3-node Debian nats-server cluster (R3), and the plant
// simulator in this process, which counts every setpoint write the PLC accepts. The owner ramps zone 1
// from 190 to 180 in five steps; after its first step it is frozen (SIGSTOP) past its 2 s lease. The other
// instance takes the line: its 'owner' record, then its gate restores the ramp from the stream and finishes
// it. The frozen one is resumed (SIGCONT): it stands down (its gate is refused by the stream,
// LedgerFencedError, or its membership reports the lease lost first) and the plant sees 0 writes from
// it, the stream not one record. The counts are printed. The export verifies.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { waitFor } from '../support/ports.js';
import { runTwinloop } from '../support/twinloop-cli.js';
import { CLUSTER_GATE_NODE_DIRS, clusterGateFlow, GATE_TAG, lineRecords, ownerOf, TRIGGER_TAG } from '../support/cluster-gate-rig.js';

const LINE = 'spec/zombie/line4';
const KEY = 'gate-sigstop-spec-key-0123456789';
const TAG = GATE_TAG;
const TRIGGER = 211;

describe('proof run 4: the line owner frozen (SIGSTOP) past its lease, then resumed (real processes)', function () {
  this.timeout(180_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let plant: TestPlantSim;
  let tmp: string;
  const children = new Map<string, NodeRedChild>();
  const writes: Array<{ tag: string; value: number }> = [];

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 3);
    plant = await startTestPlantSim({ publishIntervalMs: 200, onSetpointWrite: (tag, value) => writes.push({ tag, value }) });
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'gate-sigstop-'));
  });
  after(async () => {
    for (const c of children.values()) {
      c.child.kill('SIGCONT');
      await c.kill();
    }
    await plant?.stop();
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function startInstance(name: string): Promise<void> {
    const home = join(tmp, name);
    mkdirSync(home, { recursive: true });
    const flow = clusterGateFlow({
      instance: name,
      servers: nats.servers,
      replicas: 3,
      line: LINE,
      endpoint: plant.endpoint,
      asset: plant.sim.asset,
      trigger: TRIGGER,
      proposalId: 'ramp-190-180',
      keyEnv: 'TWINLOOP_SPEC_KEY',
    });
    writeFileSync(join(home, 'flows.json'), JSON.stringify(flow));
    children.set(name, await startNodeRedChild(home, CLUSTER_GATE_NODE_DIRS, { TWINLOOP_SPEC_KEY: KEY, TWINLOOP_CHILD_LOG_LEVEL: 'info' }));
  }

  const stream = () => lineRecords(nats, LINE);
  const zone1 = () => writes.filter((w) => w.tag === TAG);

  it('the resumed former owner writes nothing to the plant and nothing to the stream; the new owner finished the ramp', async () => {
    plant.sim.write(TAG, 190);
    writes.length = 0; // from here on: the writers' writes only
    await Promise.all([startInstance('A'), startInstance('B')]);
    const X = (await waitFor(async () => ownerOf(await stream()), 30_000, 100, "an owner record in the line's stream"))!;
    const Y = X === 'A' ? 'B' : 'A';
    const x = children.get(X)!;
    const y = children.get(Y)!;
    // the owner's gate is up (it appended its record after opening): make the proposal in both instances' flows
    await waitFor(() => x.output().includes(`line ${LINE} acquired`), 20_000, 50, "the owner's ledger open");
    plant.sim.write(TRIGGER_TAG, TRIGGER);
    await waitFor(() => zone1().length >= 1, 30_000, 20, 'the first ramp step written');
    expect(zone1()[0]!.value).to.equal(188);

    // frozen right after its first step, past its lease
    x.child.kill('SIGSTOP');
    const stoppedAt = performance.now();
    const writesAtStop = zone1().length;
    await waitFor(async () => ownerOf(await stream()) === Y, 30_000, 100, "the other instance's owner record");
    const takeoverMs = performance.now() - stoppedAt;
    // the new owner's gate restored the ramp and finishes it (its own writer settles the step in flight, if any)
    const done = (recs: LedgerRecord[]) =>
      recs.some(
        (r) =>
          r.type === 'readback' &&
          (r.data as { value?: number; readBackOk?: boolean }).value === 180 &&
          (r.data as { readBackOk?: boolean }).readBackOk === true,
      );
    await waitFor(async () => done(await stream()), 60_000, 200, 'the ramp finished by the new owner').catch(async (err: Error) => {
      const types = (await stream()).map((r) => (r.type === 'owner' ? `owner(${(r.data as { instance: string }).instance})` : r.type));
      throw new Error(`${err.message}\nstream: ${types.join(' ')}\n${Y}: ${y.output().slice(-3000)}`);
    });
    const writesBeforeResume = zone1().length;
    const recordsBeforeResume = (await stream()).length;

    // resumed: its timers (the ramp's next step, the lease watchdog) run at once
    const outMark = x.output().length;
    x.child.kill('SIGCONT');
    const stoodDown = await waitFor(
      () => {
        const out = x.output().slice(outMark);
        if (/LedgerFencedError|no longer owns the line/.test(out)) return 'fenced';
        if (out.includes(`line ${LINE} released`) && out.includes('the gate stands by')) return 'lease lost';
        return undefined;
      },
      30_000,
      20,
      'the resumed instance stands down',
    );
    // it has stood down: its ledger is closed and refuses, so nothing after this can reach the plant or the stream
    await waitFor(() => x.output().slice(outMark).includes('the gate stands by'), 30_000, 20, 'standby after the resume');
    const writesAfterResume = zone1().length - writesBeforeResume;
    const recordsAfterResume = (await stream()).length - recordsBeforeResume;
    console.log(
      `      SIGSTOP → takeover record: ${Math.round(takeoverMs)} ms (lease 2 s); ` +
        `plant writes: ${writesAtStop} by ${X} before the stop, ` +
        `${writesBeforeResume - writesAtStop} by ${Y} after the takeover, ${writesAfterResume} after the resume; ` +
        `stream records after the resume: ${recordsAfterResume}; the resumed instance stood down by: ${stoodDown}`,
    );
    expect(writesAfterResume, 'plant writes after the resume').to.equal(0);
    expect(recordsAfterResume, 'records after the resume').to.equal(0);
    // each step written once: the step in flight at the stop is settled from the plant, not written again
    expect(zone1().map((w) => w.value)).to.deep.equal([188, 186, 184, 182, 180]);

    const file = join(tmp, 'export.jsonl');
    const env = { TWINLOOP_SIGNING_KEY: KEY };
    const exp = await runTwinloop(['ledger', 'export', '--servers', nats.servers.join(','), '--line', LINE, '--out', file], env);
    expect(exp.code, exp.out).to.equal(0);
    const ver = await runTwinloop(['ledger', 'verify', file], env);
    expect(ver.code, ver.out).to.equal(0);
    const recs = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
    expect(recs.filter((r) => r.type === 'owner').map((r) => (r.data as { instance: string }).instance)).to.deep.equal([X, Y]);
    expect(recs.filter((r) => r.type === 'proposal')).to.have.length(1);
  });
});
