// Issue 13, attack 1, against the real runtime: the plant simulator (node-opcua server and its MQTT
// publisher on a real aedes broker), a real Node-RED with the demo's shape of flow — twin-opcua-in and
// twin-mqtt-in, each through twin-screen, both wired into twin-approval; twin-opcua-write to the plant.
// melt_temp really fails (BadSensorFailure on OPC UA) while an intruder on the anonymous broker
// publishes a good melt_temp dated 4 s ahead every 250 ms on its UNS topic. A supervisor approves
// zone3_sp 215 → 219. Nothing may reach the plant, and the ledger and the page must say why.
// Then the writer alone: a command signed with the gate's key, sent straight to it, is refused by its
// own re-read of melt_temp in its session (INPUT_MISMATCH).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { signCommand } from '../../runtime/control/command.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { Command, LedgerRecord, Proposal, WriteResult } from '../../runtime/model/control.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { approveInLedger } from '../support/control-approval.js';
import { endClient, rawClient } from '../support/mqtt-helpers.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';

// the registry the BUILT nodes register with (the source module would be another instance)
const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};
const nodes = [
  'twin-opcua-endpoint',
  'twin-opcua-in',
  'twin-mqtt-broker',
  'twin-mqtt-in',
  'twin-screen',
  'twin-envelope',
  'twin-ledger',
  'twin-approval',
  'twin-opcua-write',
].map(nodeModule);

const KEY = 'test-signing-key-0123456789abcdef';
const SP = 'zone3_sp';
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

describe('issue 13 attack 1: a spoofed input on the broker cannot mask a failed sensor (Node-RED, simulator, broker)', function () {
  this.timeout(120_000);
  let broker: AedesBroker;
  let plant: TestPlantSim;
  let rec: Recorder;
  let ledgerPath: string;
  let spoofer: MqttClient | undefined;
  let spoofTimer: NodeJS.Timeout | undefined;

  before(async function () {
    broker = await startAedes();
    // wall clock, a sample every 200 ms over OPC UA and as UNS JSON on the broker
    plant = await startTestPlantSim({ publishIntervalMs: 200, mqttUrl: broker.url, sparkplug: false });
    const userDir = tempUserDir('nr-attack1-');
    ledgerPath = join(userDir, 'loop.jsonl');
    helper.settings({ userDir });
    rec = recordNodeCalls();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  after(async function () {
    if (spoofTimer) clearInterval(spoofTimer);
    await endClient(spoofer);
    rec?.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await plant?.stop();
    await broker?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    try {
      console.log(
        'ledger at failure:\n' +
          readFileSync(ledgerPath, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.slice(0, 400))
            .join('\n'),
      );
    } catch (err) {
      console.log(`no ledger: ${(err as Error).message}`);
    }
  });

  /** What a node logged as warnings (Node-RED's log, as the test helper records it). */
  const warnings = (id: string): string[] =>
    (helper.log().args as Array<[{ level: number; id: string; msg: unknown }]>)
      .map((a) => a[0])
      .filter((e) => e.level === 30 && e.id === id)
      .map((e) => String(e.msg));
  const ledger = (): LedgerRecord[] =>
    readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerRecord);
  const screen = (id: string, wires: string[][]) => ({
    id,
    type: 'twin-screen',
    lowLimit: '',
    highLimit: '',
    maxRatePerS: '',
    stuckSamples: 0,
    spikeWindow: 0,
    staleAfterMs: 0,
    maxFutureMs: 5000,
    flaggedOutput: false,
    outputs: 1,
    wires,
  });

  async function load() {
    const asset = plant.sim.asset;
    const item = (tag: string) => ({ nodeId: `ns=1;s=extruder.${tag}`, asset, tag });
    const flow = [
      {
        id: 'ep',
        type: 'twin-opcua-endpoint',
        endpointUrl: plant.endpoint,
        securityMode: 'None',
        securityPolicy: 'None',
        authMode: 'anonymous',
      },
      { id: 'b', type: 'twin-mqtt-broker', url: broker.url, protocolVersion: 4, reconnectPeriodMs: 100, maxReconnectPeriodMs: 500 },
      // the plant connection: every sample, also of values that hold (mode, alarm)
      {
        id: 'in-opcua',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: [SP, 'mode', 'alarm', 'quality_index', 'melt_temp'].map(item),
        samplingIntervalMs: 200,
        deadband: 0,
        reportTimestamps: true,
        queueSize: 10,
        maxFutureMs: 5000,
        wires: [['screen-opcua']],
      },
      screen('screen-opcua', [['gate']]),
      // the unified namespace on the broker, as in the demo on main: wired into the gate too
      {
        id: 'in-mqtt',
        type: 'twin-mqtt-in',
        broker: 'b',
        mode: 'json',
        pattern: `${asset}/{tag}`,
        assetTemplate: asset,
        tagTemplate: '{tag}',
        valuePath: 'value',
        timestampPath: 'tsMs',
        qualityPath: 'quality',
        unitPath: 'unit',
        qos: 1,
        maxFutureMs: 5000,
        wires: [['screen-mqtt']],
      },
      screen('screen-mqtt', [['gate']]),
      {
        id: 'env',
        type: 'twin-envelope',
        asset,
        tag: SP,
        unit: 'degC',
        lowLimit: 205,
        highLimit: 225,
        maxStep: 2,
        rateUpPerMin: 600,
        rateDownPerMin: 600,
        minDwellMs: 0,
        interlocks: [
          { tag: 'mode', op: '==', value: 1 },
          { tag: 'alarm', op: '==', value: 0 },
        ],
        inputTags: 'quality_index, melt_temp',
        maxInputAgeMs: 15_000,
        minQuality: 'good',
        ramp: true,
        source: 'ep',
      },
      { id: 'led', type: 'twin-ledger', path: ledgerPath },
      {
        id: 'gate',
        type: 'twin-approval',
        envelope: 'env',
        ledger: 'led',
        twoPersonAboveStep: '',
        autoApproval: false,
        autoApprovalMaxStep: '',
        commandTtlMs: 60_000,
        wires: [['w', 'cmds'], []],
      },
      {
        id: 'w',
        type: 'twin-opcua-write',
        endpoint: 'ep',
        nodeId: `ns=1;s=extruder.${SP}`,
        asset,
        tag: SP,
        envelope: 'env',
        ledger: 'led',
        readBackTimeoutMs: 2000,
        wires: [['gate', 'results'], []],
      },
      { id: 'cmds', type: 'helper' },
      { id: 'results', type: 'helper' },
    ];
    await helper.load(nodes as never, flow as never, { led: { signingKey: KEY } } as never);
    const got = { cmds: [] as Command[], results: [] as WriteResult[] };
    node('cmds').on('input', (m: never) => got.cmds.push((m as { payload: Command }).payload));
    node('results').on('input', (m: never) => got.results.push((m as { payload: WriteResult }).payload));
    return { asset, got, handle: await waitUntil(() => registry.findGate('gate', 'setpoint'), 10_000, 20, 'the gate to register') };
  }

  function proposal(asset: string, from: number, to: number): Proposal {
    const now = Date.now();
    return {
      id: randomUUID(),
      asset,
      tag: SP,
      currentValue: from,
      proposedValue: to,
      unit: 'degC',
      rationale: 'A hotter zone 3 cuts energy per kg while quality holds.',
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
      fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: 210, setpointMax: 220 },
      createdTsMs: now,
      expiresTsMs: now + 120_000,
      quality: 'good',
    };
  }

  it('melt_temp failed on OPC UA + a good melt_temp 4 s ahead on the broker: the approved change is blocked, nothing is written, the ledger and page say why', async function () {
    plant.sim.write(SP, 215);
    const { asset, got, handle } = await load();
    // the line as the gate sees it before the fault: every input good (from the plant connection)
    const pre = proposal(asset, 215, 217);
    node('gate').receive({ topic: `${asset}/${SP}`, payload: pre });
    await waitUntil(
      () => handle.views().find((v) => v.proposal.id === pre.id)?.envelope.ok,
      20_000,
      50,
      'the envelope to hold on good readings',
    );
    await handle.decide({ proposalId: pre.id, verdict: 'reject', user: 'alice', printedName: 'Alice', reason: 'not now' });

    // the sensor really fails: OPC UA reports BadSensorFailure for melt_temp
    plant.sim.injectFault({ tag: 'melt_temp', kind: 'dropout' });
    // the intruder: anonymous on the broker, a good melt_temp dated 4 s ahead every 250 ms
    spoofer = await rawClient(broker.url, { protocolVersion: 4 });
    const spoof = () =>
      spoofer!.publish(`${asset}/melt_temp`, JSON.stringify({ value: 220, tsMs: Date.now() + 4000, quality: 'good' }), { qos: 0 });
    spoof();
    spoofTimer = setInterval(spoof, 250);
    // the broker's melt_temp reaches the gate through twin-mqtt-in and the screen, and is ignored there
    const ignored = await waitUntil(
      () => warnings('gate').find((w) => w.includes(`${asset}/melt_temp from b (${asset}/melt_temp)`)),
      10_000,
      50,
      "the gate to ignore the broker's melt_temp",
    );
    expect(ignored).to.contain('ignored: the envelope reads its inputs from ep');

    const p = proposal(asset, 215, 219);
    node('gate').receive({ topic: `${asset}/${SP}`, payload: p });
    const view = await waitUntil(
      () => handle.views().find((v) => v.proposal.id === p.id && v.state === 'pending' && !v.envelope.ok),
      10_000,
      20,
      'pending proposal, the failure seen',
    );
    // the page shows the failed sensor, not the spoof
    expect(view.envelope.violations.map((v) => v.message)).to.deep.equal(['melt_temp: reading quality bad, BadSensorFailure (needs good)']);
    const decided = await handle.decide({
      proposalId: p.id,
      verdict: 'approve',
      user: 'alice',
      printedName: 'Alice Supervisor',
      reason: 'energy',
    });
    expect(decided.ok, decided.error).to.equal(true);

    const blocked = await waitUntil(
      () => handle.views().find((v) => v.proposal.id === p.id && v.state !== 'approved'),
      10_000,
      20,
      'the change to leave approved',
    );
    expect(blocked.state).to.equal('blocked');
    expect(blocked.reason).to.match(/^step 1: melt_temp: reading quality bad, BadSensorFailure/);
    // a moment longer: still nothing goes out
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.cmds).to.deep.equal([]);
    expect(plant.sim.snapshot().truth[SP]).to.equal(215);
    const recs = ledger().filter((r) => r.proposalId === p.id);
    expect(recs.map((r) => r.type)).to.deep.equal(['proposal', 'decision', 'blocked']);
    expect((recs[2].data as { reason: string }).reason).to.match(/melt_temp: reading quality bad, BadSensorFailure/);
  });

  it("a command signed with the gate's key, sent straight to the writer, is refused by the writer's own re-read of melt_temp", async function () {
    // the sensor is still failed and the spoof still runs (previous test)
    const asset = plant.sim.asset;
    const version = (helper.getNode('env') as unknown as { version(): string }).version();
    // an approval in the ledger, so the writer gets past its decision check (issue 13: only approved changes are written)
    await approveInLedger(helper.getNode('led'), {
      proposalId: 'approved-elsewhere',
      asset,
      tag: SP,
      currentValue: 215,
      proposedValue: 219,
    });
    const before = ledger().length;
    const now = Date.now();
    const cmd = signCommand(KEY, {
      proposalId: 'approved-elsewhere',
      asset,
      tag: SP,
      value: 217,
      unit: 'degC',
      step: 1,
      steps: 1,
      fromValue: 215,
      issuedTsMs: now,
      expiresTsMs: now + 60_000,
      envelopeVersion: version,
    });
    node('w').receive({ payload: cmd });
    await waitUntil(() => ledger().length > before, 10_000, 20, "the writer's record");
    const r = ledger()[before]!;
    expect(r.type).to.equal('refused');
    expect(r.data).to.include({ refusal: 'INPUT_MISMATCH' });
    expect((r.data as { reason: string }).reason).to.match(
      /^INPUT_MISMATCH: BAD_INPUT: melt_temp: reading quality bad, BadSensorFailure .*inputs as the writer read them through its own connection now/,
    );
    const said = (r.data as { inputs: Record<string, { quality: string; origin: { connection: string; item: string } }> }).inputs[
      `${asset}/melt_temp`
    ];
    expect(said).to.deep.include({ quality: 'bad', origin: { connection: 'ep', item: 'ns=1;s=extruder.melt_temp' } });
    expect(plant.sim.snapshot().truth[SP]).to.equal(215);
  });
});
