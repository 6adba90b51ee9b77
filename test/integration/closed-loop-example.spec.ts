// The Import-menu example examples/closed-loop/sparkplug-write.json, loaded as shipped into a real
// Node-RED runtime: the plant simulator's Sparkplug B edge node on a real (aedes) broker, with the
// demo's commissioning step test at 60x; the example's own twin-propose proposes, a supervisor
// approves through the GateHandle the approvals page uses, and the signed DCMD changes the
// simulator's setpoint, read back from DDATA. The ledger holds it all and verifies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { helper, nodeModule } from '../support/nr.js';
import { tempUserDir, waitUntil } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';

const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};
const ROOT = join(__dirname, '..', '..');
const core = (p: string) => require(join(ROOT, 'node_modules', '@node-red', 'nodes', 'core', p));
const nodes = [
  ...['twin-mqtt-broker', 'twin-mqtt-in', 'twin-propose', 'twin-envelope', 'twin-ledger', 'twin-approval', 'twin-mqtt-write'].map(
    nodeModule,
  ),
  core('function/10-function.js'),
  core('common/21-debug.js'),
  core('common/25-catch.js'),
  core('common/90-comment.js'),
];
const MIN = 60_000;

describe('example: closed loop over MQTT (Sparkplug B)', function () {
  this.timeout(300_000); // a hang guard: a loaded machine runs the simulator and Node-RED slowly
  let broker: AedesBroker;
  let plant: TestPlantSim;
  let userDir: string;
  const savedEnv = { ...process.env };

  before(async function () {
    broker = await startAedes();
    process.env.TWINLOOP_MQTT_URL = broker.url;
    process.env.TWINLOOP_SIGNING_KEY = 'example-test-signing-key-0123456789';
    userDir = tempUserDir('nr-closed-loop-example-');
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(() => r()));
    const flow = JSON.parse(readFileSync(join(ROOT, 'examples', 'closed-loop', 'sparkplug-write.json'), 'utf8'));
    await helper.load(nodes as never, flow as never);
    // The simulator after Node-RED subscribed: a step test of zone3_sp (and zone2_sp, an input of the model).
    plant = await startTestPlantSim({
      opcua: false,
      mqttUrl: broker.url,
      publishIntervalMs: 1000,
      warmup: { simMs: 30 * MIN, speed: 60 },
      schedule: [
        { atMs: 7 * MIN, command: 'set zone3_sp 219' },
        { atMs: 14 * MIN, command: 'set zone2_sp 209' },
        { atMs: 21 * MIN, command: 'set zone3_sp 215' },
        { atMs: 28 * MIN, command: 'set zone2_sp 205' },
      ],
    });
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    try {
      const lines = readFileSync(join(userDir, 'twinloop', 'ledger', 'closed-loop-mqtt.jsonl'), 'utf8')
        .trim()
        .split('\n');
      console.log(
        'ledger at failure:\n' +
          lines
            .map((l) => {
              const r = JSON.parse(l);
              return `${r.seq} ${r.type} ${JSON.stringify(r.data).slice(0, 300)}`;
            })
            .join('\n'),
      );
    } catch (err) {
      console.log(`no ledger: ${(err as Error).message}`);
    }
  });

  after(async function () {
    await plant?.stop();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await broker?.stop();
    process.env = savedEnv;
  });

  it('proposes from the step test, and an approved change reaches the simulator as signed DCMDs, read back from DDATA', async function () {
    const gate = await waitUntil(() => registry.findGate('cl-approval', 'setpoint'), 10_000, 50, 'the gate to register');
    const view = await waitUntil(
      () => gate.views().find((v) => v.state === 'pending'),
      90_000,
      250,
      'a pending proposal from twin-propose',
    );
    const p = view.proposal;
    expect(p.tag).to.equal('zone3_sp');
    expect(p.currentValue).to.equal(215);
    expect(p.proposedValue).to.be.within(215.5, 219); // never beyond the setpoints the step test visited
    expect(p.predictedEffect.kpiTag).to.equal('energy_per_kg');
    expect(p.predictedEffect.lowKpi).to.be.below(p.predictedEffect.highKpi);

    // A supervisor decides on a live line: wait until the fast warm-up has met the wall clock (until
    // then every reading is minutes old and the gate would rightly block the write as stale).
    await waitUntil(() => plant.sim.simTimeMs >= Date.now() - 5_000, 60_000, 250, 'the simulator to meet the wall clock');
    // ...and has published at real speed since (the last warm-up sample may be up to a minute of sim time
    // old: deciding before the next one arrives is rightly blocked as stale, as it was once in a full run)
    const metMs = Date.now();
    await waitUntil(() => plant.sim.simTimeMs >= metMs + 3_000, 30_000, 100, 'three seconds of real-time publishing');
    // ...and the flow has caught up with the warm-up's backlog: the gate's own check against its latest
    // readings passes, as the page shows a supervisor before signing (on a loaded machine Node-RED can be
    // minutes of readings behind, and the gate then rightly blocks the write as stale)
    await waitUntil(
      () => gate.views().find((v) => v.proposal.id === p.id)?.envelope.ok === true,
      120_000,
      250,
      "the gate's envelope check on fresh readings",
    );
    // The plant is not touched before the decision.
    expect(plant.sim.snapshot().readings.zone3_sp.value).to.equal(215);
    const outcome = await gate.decide({
      proposalId: p.id,
      verdict: 'approve',
      user: 'tester',
      printedName: 'Test Supervisor',
      reason: 'example test',
    });
    expect(outcome.ok, outcome.error).to.equal(true);

    // Ramped in 2-degree steps, 20 s apart; each step read back from DDATA before the next.
    await waitUntil(
      () => Math.abs(plant.sim.snapshot().readings.zone3_sp.value - p.proposedValue) < 1e-9,
      90_000,
      250,
      'the simulator at the proposed setpoint',
    );
    const done = await waitUntil(
      () => gate.views().find((v) => v.proposal.id === p.id && v.state === 'done'),
      30_000,
      250,
      'the change done',
    );
    expect(done.state).to.equal('done');

    const ledgerPath = join(userDir, 'twinloop', 'ledger', 'closed-loop-mqtt.jsonl');
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);
    const recs = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord<Record<string, unknown>>)
      .filter((r) => r.proposalId === p.id);
    const types = recs.map((r) => r.type);
    expect(types[0]).to.equal('proposal');
    expect(types[1]).to.equal('decision');
    expect(recs[1].data.user).to.equal('tester');
    const commands = recs.filter((r) => r.type === 'command');
    expect(commands.length).to.equal(Math.ceil(Math.abs(p.proposedValue - 215) / 2 - 1e-9));
    const readbacks = recs.filter((r) => r.type === 'readback');
    expect(readbacks.length).to.equal(commands.length);
    expect(readbacks.every((r) => r.data.readBackOk === true)).to.equal(true);
  });
});
