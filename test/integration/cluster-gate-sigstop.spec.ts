// Proof run 4 of issue 16 with real processes: a zombie owner. Two Node-RED child processes (instances A
// and B: twin-cluster, twin-ledger on the line's JetStream stream, twin-opcua-in → twin-approval with
// auto-approval → twin-opcua-write) on one line, a real single-node Debian nats-server, and the plant
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
import { ledgerStreamName } from '../../runtime/cluster/line-id.js';
import { readStreamTexts } from '../../runtime/cluster/jetstream-ledger.js';
import { jetstream, jetstreamManager } from '../../runtime/cluster/nats-client.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { waitFor } from '../support/ports.js';
import { runTwinloop } from '../support/twinloop-cli.js';

const LINE = 'spec/zombie/line4';
const KEY = 'gate-sigstop-spec-key-0123456789';
const TAG = 'zone1_sp';
const TRIGGER_TAG = 'zone2_sp';
const TRIGGER = 211;
const dist = join(__dirname, '..', '..', 'dist', 'nodes');
const nodesDirs = [
  'twin-cluster',
  'twin-ledger',
  'twin-opcua-endpoint',
  'twin-opcua-in',
  'twin-envelope',
  'twin-approval',
  'twin-opcua-write',
].map((t) => join(dist, t));

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
    nats = await startNatsCluster(bin!, 1);
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

  /** One instance's flow: the proposal is made by a function node when the test sets the trigger tag. */
  function flow(instance: string): object[] {
    const asset = plant.sim.asset;
    const item = (t: string) => ({ nodeId: `ns=1;s=extruder.${t}`, asset, tag: t });
    const proposal = `
      if (msg.payload.value !== ${TRIGGER} || context.get('sent')) return null;
      context.set('sent', true);
      const now = Date.now();
      return { topic: '${asset}/${TAG}', payload: {
        id: 'ramp-190-180', asset: '${asset}', tag: '${TAG}', currentValue: 190, proposedValue: 180, unit: 'degC',
        rationale: 'A lower zone 1 temperature cuts energy per kg while quality holds.',
        predictedEffect: { kpiTag: 'energy_per_kg', kpiUnit: 'kWh/kg', currentKpi: 0.31, predictedKpi: 0.3, lowKpi: 0.295,
          highKpi: 0.305, intervalPct: 90 },
        fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
        fitRange: { fromTsMs: now - 3600000, toTsMs: now, setpointMin: 170, setpointMax: 210 },
        createdTsMs: now, expiresTsMs: now + 120000, quality: 'good' } };`;
    return [
      { id: 't1', type: 'tab', label: instance },
      { id: 'c', type: 'twin-cluster', servers: nats.servers.join(' '), instance, lines: LINE, ttlS: 2, replicas: 1, slack: 0 },
      { id: 'led', type: 'twin-ledger', storage: 'jetstream', cluster: 'c', line: LINE, waitS: 5, signingKeyEnv: 'TWINLOOP_SPEC_KEY' },
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
        z: 't1',
        endpoint: 'ep',
        items: [item(TAG), item('mode'), item('alarm')],
        samplingIntervalMs: 200,
        deadband: 0,
        queueSize: 1,
        maxFutureMs: 5000,
        wires: [['gate']],
      },
      {
        id: 'trig',
        type: 'twin-opcua-in',
        z: 't1',
        endpoint: 'ep',
        items: [item(TRIGGER_TAG)],
        samplingIntervalMs: 200,
        deadband: 0,
        queueSize: 1,
        maxFutureMs: 5000,
        wires: [['mk']],
      },
      { id: 'mk', type: 'function', z: 't1', func: proposal, outputs: 1, wires: [['gate']] },
      {
        id: 'env',
        type: 'twin-envelope',
        asset,
        tag: TAG,
        unit: 'degC',
        lowLimit: 160,
        highLimit: 240,
        maxStep: 2,
        rateUpPerMin: 600,
        rateDownPerMin: 600,
        minDwellMs: 2000,
        interlocks: [
          { tag: 'mode', op: '==', value: 1 },
          { tag: 'alarm', op: '==', value: 0 },
        ],
        inputTags: '',
        maxInputAgeMs: 30_000,
        minQuality: 'good',
        ramp: true,
        source: 'ep',
      },
      {
        id: 'gate',
        type: 'twin-approval',
        z: 't1',
        envelope: 'env',
        ledger: 'led',
        twoPersonAboveStep: '',
        autoApproval: true,
        autoApprovalMaxStep: 20,
        commandTtlMs: 60_000,
        wires: [['w'], []],
      },
      {
        id: 'w',
        type: 'twin-opcua-write',
        z: 't1',
        endpoint: 'ep',
        nodeId: `ns=1;s=extruder.${TAG}`,
        asset,
        tag: TAG,
        envelope: 'env',
        ledger: 'led',
        readBackTimeoutMs: 2000,
        wires: [['gate'], []],
      },
    ];
  }

  async function startInstance(name: string): Promise<void> {
    const home = join(tmp, name);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'flows.json'), JSON.stringify(flow(name)));
    children.set(name, await startNodeRedChild(home, nodesDirs, { TWINLOOP_SPEC_KEY: KEY, TWINLOOP_CHILD_LOG_LEVEL: 'info' }));
  }

  /** The line's ledger as the stream holds it now (unverified: the export below verifies). */
  async function stream(): Promise<LedgerRecord[]> {
    const nc = await nats.connect();
    try {
      const texts = await readStreamTexts(jetstream(nc), await jetstreamManager(nc), ledgerStreamName(LINE));
      return texts.map((t) => JSON.parse(t.text) as LedgerRecord);
    } catch (err) {
      if (/stream not found/i.test((err as Error).message)) return [];
      throw err;
    } finally {
      await nc.close();
    }
  }
  const ownerOf = (recs: LedgerRecord[]) =>
    (recs.filter((r) => r.type === 'owner').at(-1)?.data as { instance?: string } | undefined)?.instance;
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
