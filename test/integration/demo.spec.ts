/**
 * The main job end to end: `twinloop start` as a child process (embedded broker, simulator, demo
 * flow). Readings of the simulated extruder come in over OPC UA, are screened and published back to
 * the unified namespace; a sensor fault injected into the simulator shows up as a flagged reading.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { OPCUAClient, OPCUACertificateManager, DataType, AttributeIds } from 'node-opcua';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { waitFor } from '../support/ports.js';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';

describe('integration: twinloop start with the demo flow', function () {
  this.timeout(120_000);
  let tl: TwinloopProcess;
  let sub: mqtt.MqttClient;
  const received: Reading[] = [];
  const estimates: Estimate[] = [];

  before(async function () {
    tl = await startTwinloop();
    sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl.mqttPort}`);
    sub.on('message', (topic, buf) => {
      if (topic.includes('/twin/reading/')) received.push(JSON.parse(buf.toString()) as Reading);
    });
    sub.on('message', (topic, buf) => {
      if (topic.includes('/twin/estimate/')) estimates.push(JSON.parse(buf.toString()) as Estimate);
    });
    await sub.subscribeAsync([`${ASSET}/twin/reading/#`, `${ASSET}/twin/estimate/#`]);
  });

  after(async function () {
    await sub?.endAsync();
    if (tl) await tl.stop();
  });

  it('publishes screened OPC UA readings of every configured tag to <asset>/twin/reading/<tag>', async function () {
    const want = ['zone1_temp', 'zone2_temp', 'zone3_temp', 'melt_pressure', 'motor_power', 'vibration'];
    await waitFor(() => want.every((t) => received.some((r) => r.tag === t && r.quality === 'good')), 60_000, 100, 'good readings of every tag');
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
    expect(estimates.every((x) => ['zone1_temp', 'zone2_temp', 'zone3_temp'].includes(x.tag)), 'only the configured zones').to.equal(true);
  });

  it('flags a sensor dropout and an out-of-range spike injected into the simulator', async function () {
    const pki = mkdtempSync(join(tmpdir(), 'twinloop-e2e-pki-'));
    const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
    const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 3 } });
    await client.connect(`opc.tcp://127.0.0.1:${tl.opcuaPort}/UA/TwinLoopSim`);
    const session = await client.createSession();
    try {
      const write = (text: string) =>
        session.write({ nodeId: 'ns=1;s=sim.fault_command', attributeId: AttributeIds.Value, value: { value: { dataType: DataType.String, value: text } } });
      const since = received.length;
      expect((await write('dropout zone2_temp')).isGood()).to.equal(true);
      expect((await write('spike zone3_temp 500 0.5')).isGood()).to.equal(true);
      const dropout = await waitFor(() => received.slice(since).find((r) => r.tag === 'zone2_temp' && r.quality === 'bad'), 30_000, 100, 'a bad zone2_temp');
      expect(dropout!.qualityReason).to.match(/BadSensorFailure/);
      const spike = await waitFor(() => received.slice(since).find((r) => r.tag === 'zone3_temp' && r.quality === 'bad'), 30_000, 100, 'a flagged zone3_temp');
      // The simulator's spikes have a random sign: ±500 degC lands outside the 100..300 degC range.
      expect(spike!.qualityReason).to.match(/range[<>](low|high)/);
      expect(Math.abs(spike!.value - 200)).to.be.above(250); // the flagged reading keeps its value
    } finally {
      await session.close();
      await client.disconnect();
    }
  });

  it('asks for a login: the admin API refuses a request without a token and answers the printed admin login', async function () {
    expect((await fetch(new URL('flows', tl.url))).status).to.equal(401);
    const token = await adminToken(tl.url, 'admin', tl.logins.admin);
    const res = await fetch(new URL('flows', tl.url), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    expect(Object.keys(tl.logins).sort()).to.deep.equal(['admin', 'supervisor', 'supervisor2', 'viewer']);
  });

  it('stops cleanly on SIGINT, also after someone logged in', async function () {
    const code = await tl.stop();
    expect(code).to.equal(0);
    expect(tl.output()).to.match(/Stopping TwinLoop/);
  });
});
