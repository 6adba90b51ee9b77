/**
 * The main job end to end: `twinloop start` as a child process (embedded broker, simulator, demo
 * flow). Readings of the simulated extruder come in over OPC UA, are screened and published back to
 * the unified namespace; a sensor fault injected into the simulator shows up as a flagged reading.
 * The demo's twin-alarm scores the zone temperatures on twin-estimate's one-step prediction (the
 * setpoints are its known inputs) and the other tags on their learned baseline: with nothing
 * injected it raises nothing, through the commissioning step test (while it still learns) and
 * through a setpoint step once it has learned every tag; a stuck thermocouple injected then is one
 * alarm, a sensor fault of type stuck. Its alarms are read as an operator sees them, from the
 * overview page's API.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { OPCUAClient, OPCUACertificateManager, DataType, AttributeIds } from 'node-opcua';
import { adminToken, brokerLogin, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { waitFor } from '../support/ports.js';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import type { MaintenanceWindow, RulEstimate } from '../../runtime/model/maintenance.js';
import type { EnergyCost } from '../../runtime/model/energy.js';
import type { AlarmRow } from '../../runtime/alarm/alarm-actions.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';
/** The demo's twin-alarm as the demo flow configures it: the tags it watches, and the readings it learns from before it decides. */
const DEMO_ALARM = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'demo', 'demo-line.json'), 'utf8')) as Array<Record<string, unknown>>
).find((n) => n.id === 'demo-alarm')!;
const WATCHED = String(DEMO_ALARM.watch).split(/,\s*/);
const LEARN_SAMPLES = Number(DEMO_ALARM.learnSamples);

/** Write sim commands (e.g. `stuck zone3_temp`) to the simulator's OPC UA command variable, as a user would. */
async function simCommands(opcuaPort: number, commands: string[]): Promise<void> {
  const pki = mkdtempSync(join(tmpdir(), 'twinloop-e2e-pki-'));
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 3 } });
  await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}/UA/TwinLoopSim`);
  const session = await client.createSession();
  try {
    for (const text of commands) {
      const status = await session.write({
        nodeId: 'ns=1;s=sim.fault_command',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.String, value: text } },
      });
      expect(status.isGood(), text).to.equal(true);
    }
  } finally {
    await session.close();
    await client.disconnect();
  }
}

describe('integration: twinloop start with the demo flow', function () {
  this.timeout(120_000);
  let tl: TwinloopProcess;
  let sub: mqtt.MqttClient;
  const received: Reading[] = [];
  const estimates: Estimate[] = [];
  const ruls: RulEstimate[] = [];
  const windows: MaintenanceWindow[] = [];
  const costs: EnergyCost[] = [];

  before(async function () {
    tl = await startTwinloop();
    sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl.mqttPort}`, brokerLogin(tl.home));
    sub.on('message', (topic, buf) => {
      if (topic.includes('/twin/reading/')) received.push(JSON.parse(buf.toString()) as Reading);
    });
    sub.on('message', (topic, buf) => {
      if (topic.includes('/twin/estimate/')) estimates.push(JSON.parse(buf.toString()) as Estimate);
    });
    sub.on('message', (topic, buf) => {
      const rec = JSON.parse(buf.toString());
      if (topic === `${ASSET}/twin/rul`) ruls.push(rec as RulEstimate);
      if (topic === `${ASSET}/twin/window`) windows.push(rec as MaintenanceWindow);
      if (topic === `${ASSET}/twin/energy`) costs.push(rec as EnergyCost);
    });
    await sub.subscribeAsync([
      `${ASSET}/twin/reading/#`,
      `${ASSET}/twin/estimate/#`,
      `${ASSET}/twin/rul`,
      `${ASSET}/twin/window`,
      `${ASSET}/twin/energy`,
    ]);
  });

  after(async function () {
    await sub?.endAsync();
    if (tl) await tl.stop();
  });

  it('publishes screened OPC UA readings of every configured tag to <asset>/twin/reading/<tag>', async function () {
    const want = ['zone1_temp', 'zone2_temp', 'zone3_temp', 'melt_pressure', 'motor_power', 'vibration'];
    await waitFor(
      () => want.every((t) => received.some((r) => r.tag === t && r.quality === 'good')),
      60_000,
      100,
      'good readings of every tag',
    );
    const r = received.find((x) => x.tag === 'zone1_temp')!;
    expect(r).to.include({ asset: ASSET, source: 'opcua', unit: 'degC' });
    expect(r.value).to.be.within(100, 300);
    // Event time of the simulator: during the demo's 30-minute step-test warm-up it runs behind the
    // wall clock (it started early to meet it), never ahead.
    expect(r.tsMs).to.be.below(Date.now() + 5_000);
    expect(r.tsMs).to.be.above(Date.now() - 31 * 60_000);
  });

  it('publishes first-order Kalman estimates of the zone temperatures with their variance', async function () {
    const e = await waitFor(() => estimates.find((x) => x.tag === 'zone2_temp'), 60_000, 100, 'an estimate of zone2_temp');
    expect(e!.model).to.match(/first-order/);
    expect(e!.variance).to.be.above(0);
    expect(e!.value).to.be.within(100, 300);
    expect(
      estimates.every((x) => ['zone1_temp', 'zone2_temp', 'zone3_temp'].includes(x.tag)),
      'only the configured zones',
    ).to.equal(true);
  });

  /** The alarms an operator sees on the overview page (active, unacknowledged or shelved), as the viewer login. */
  async function alarmRows(): Promise<AlarmRow[]> {
    const token = await adminToken(tl.url, 'viewer', tl.logins.viewer);
    const res = await fetch(new URL('twinloop/overview/api/data', tl.url), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    return ((await res.json()) as { alarms: AlarmRow[] }).alarms;
  }
  const good = (tag: string) => received.filter((r) => r.tag === tag && r.quality === 'good');

  it('alarms nothing with nothing injected: through the commissioning step test, and once it has learned every tag', async function () {
    this.timeout(600_000);
    // the step test's last step (zone2_sp back to 205 °C at 28 simulated minutes), then every watched tag
    // learned: the alarm has seen as many good readings of it as it learns from, and a minute more
    await waitFor(
      () =>
        received.some((r) => r.tag === 'zone2_sp' && r.value === 205 && good('zone2_sp').some((x) => x.value === 209 && x.tsMs < r.tsMs)),
      120_000,
      200,
      'the end of the step test',
    );
    await waitFor(() => WATCHED.every((t) => good(t).length >= LEARN_SAMPLES + 60), 540_000, 1000, 'every watched tag learned');
    expect(await alarmRows()).to.deep.equal([]);
  });

  it('a zone 2 setpoint step once it has learned every tag (205 → 209 °C) raises nothing: the estimate predicts it', async function () {
    this.timeout(600_000);
    const since = received.length;
    await simCommands(tl.opcuaPort, ['set zone2_sp 209']);
    // the zone's response to within 0.5 °C (two time constants), then a minute of event time, more than the on-delay
    const near = await waitFor(
      () => received.slice(since).find((r) => r.tag === 'zone2_temp' && r.quality === 'good' && r.value >= 208.5),
      480_000,
      500,
      'zone 2 near its new setpoint',
    );
    await waitFor(() => received.some((r) => r.tag === 'zone2_temp' && r.tsMs >= near!.tsMs + 60_000), 180_000, 500, 'a minute more');
    expect(await alarmRows()).to.deep.equal([]);
  });

  it('a stuck zone 3 thermocouple is one alarm, a sensor fault of type stuck, and the only one', async function () {
    this.timeout(300_000);
    await simCommands(tl.opcuaPort, ['stuck zone3_temp']);
    const rows = await waitFor(
      async () => {
        const r = await alarmRows();
        return r.length > 0 ? r : undefined;
      },
      240_000,
      1000,
      'an alarm',
    );
    expect(rows!.map((r) => [r.tag, r.state, r.episodeId])).to.deep.equal([['zone3_temp', 'unack-active', `${ASSET}/zone3_temp#1`]]);
    expect(rows![0].classification).to.include({ kind: 'sensor-fault', faultType: 'stuck' });
    await simCommands(tl.opcuaPort, ['clear zone3_temp']);
  });

  it('flags a sensor dropout and an out-of-range spike injected into the simulator', async function () {
    const since = received.length;
    await simCommands(tl.opcuaPort, ['dropout zone2_temp', 'spike zone3_temp 500 0.5']);
    const dropout = await waitFor(
      () => received.slice(since).find((r) => r.tag === 'zone2_temp' && r.quality === 'bad'),
      30_000,
      100,
      'a bad zone2_temp',
    );
    expect(dropout!.qualityReason).to.match(/BadSensorFailure/);
    const spike = await waitFor(
      () => received.slice(since).find((r) => r.tag === 'zone3_temp' && r.quality === 'bad'),
      30_000,
      100,
      'a flagged zone3_temp',
    );
    // The simulator's spikes have a random sign: ±500 degC lands outside the 100..300 degC range.
    expect(spike!.qualityReason).to.match(/range[<>](low|high)/);
    expect(Math.abs(spike!.value - 200)).to.be.above(250); // the flagged reading keeps its value
  });

  it("estimates the part-worn bearing's remaining life and ranks maintenance windows against the calendar", async function () {
    const rul = await waitFor(() => ruls[0], 90_000, 100, 'a RUL estimate of the bearing');
    expect(rul!.asset).to.equal(ASSET);
    // wear 0.6 at start, 30 days new to failure: about 11 days left at the simulator's rate of wear
    expect(rul!.rulMs / 86_400_000).to.be.within(4, 14);
    expect(rul!.rulP10Ms).to.be.at.most(rul!.rulMs);
    expect(rul!.rulP90Ms).to.be.at.least(rul!.rulMs);
    expect(rul!.healthIndex).to.be.within(0, 1);
    const ranked = await waitFor(() => (windows.length >= 2 ? windows : undefined), 30_000, 100, 'ranked windows');
    const first = ranked!.find((w) => w.rank === 1)!;
    expect(first).to.include({ asset: ASSET, timeZone: 'Europe/Berlin' });
    expect(first.endMs - first.startMs).to.equal(360 * 60_000);
    expect(first.why).to.be.a('string').and.not.equal('');
    for (const w of ranked!.filter((x) => x.tsMs === first.tsMs)) expect(w.expectedCostEur).to.be.at.least(first.expectedCostEur);
  });

  it("costs the line's energy per 15 minutes under the tariff, with energy and cost per kg", async function () {
    const cost = await waitFor(
      () => costs.find((c) => c.scope === 'interval' && (c.units ?? 0) > 0),
      90_000,
      100,
      'an interval cost with kg',
    );
    expect(cost!).to.include({ asset: ASSET, unitName: 'kg' });
    expect(cost!.endMs - cost!.startMs).to.be.at.most(15 * 60_000);
    expect(cost!.energyKwh).to.be.above(0);
    // the simulated extruder runs at about a quarter to a third of a kWh per kg
    expect(cost!.energyKwhPerUnit).to.be.within(0.15, 0.5);
    expect(cost!.costEurPerUnit).to.be.above(0);
    expect(cost!.co2Kg).to.be.closeTo(cost!.energyKwh * 0.38, 1e-6);
  });

  it('asks for a login: the admin API refuses a request without a token and answers the printed admin login', async function () {
    expect((await fetch(new URL('flows', tl.url))).status).to.equal(401);
    const token = await adminToken(tl.url, 'admin', tl.logins.admin);
    const res = await fetch(new URL('flows', tl.url), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    expect(Object.keys(tl.logins).sort()).to.deep.equal(['admin', 'operator', 'supervisor', 'supervisor2', 'viewer']);
  });

  it('stops cleanly on SIGINT, also after someone logged in', async function () {
    const code = await tl.stop();
    expect(code).to.equal(0);
    expect(tl.output()).to.match(/Stopping TwinLoop/);
  });
});
