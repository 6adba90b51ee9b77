/**
 * The prebuilt flows in flows/, deployed as plant IT would: `twinloop deploy FLOW --env SITE.env`
 * (child process) to a running `twinloop start --no-sim` with adminAuth (its demo flow keeps
 * running beside them), against real parts: the plant simulator (OPC UA, and MQTT to an aedes
 * broker that checks the user and password), a real InfluxDB 1.6 with authentication on.
 * The simulator runs its commissioning step test at 40x for its first 30 simulated minutes, so a
 * setpoint proposal and a few energy intervals arrive within about a minute.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import mqtt from 'mqtt';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startInfluxd, type Influxd } from '../support/influxdb.js';
import { waitFor } from '../support/ports.js';
import { runDeploy } from '../support/deploy-cli.js';

const ROOT = join(__dirname, '..', '..');
const FLOWS = ['line-monitoring', 'closed-loop-setpoint', 'maintenance-energy'];
const MIN = 60_000;
const ASSET = 'acme/plant7/extrusion/line2/extruder';
const INFLUX_PASSWORD = 'influx-Pa55-only-in-creds';
const MQTT_PASSWORD = 'mqtt-Pa55-only-in-creds';
const ADMIN_PASSWORD = 'admin-prebuilt-test-pw';
const STEP_TEST = [
  { atMs: 7 * MIN, command: 'set zone3_sp 219' },
  { atMs: 14 * MIN, command: 'set zone2_sp 209' },
  { atMs: 21 * MIN, command: 'set zone3_sp 215' },
  { atMs: 28 * MIN, command: 'set zone2_sp 205' },
];

const deploy = runDeploy;

describe('prebuilt flows (integration: deployed with twinloop deploy to a running Node-RED, simulator, InfluxDB)', function () {
  this.timeout(120_000);
  let influxd: Influxd | undefined;
  let broker: AedesBroker;
  let tl: TwinloopProcess;
  let plant: TestPlantSim | undefined;
  let db: InfluxDB;
  let dir: string;
  const writes: string[] = [];
  const uns = new Map<string, number>();
  let unsClient: mqtt.MqttClient | undefined;

  before(async function () {
    const bin = ensureDebianBinary('influxdb', 'influxd');
    if (!bin) return this.skip();
    [influxd, broker, tl] = await Promise.all([
      startInfluxd(bin, { auth: true }),
      startAedes(),
      startTwinloop(['--no-sim'], { TWINLOOP_ADMIN_PASSWORD: ADMIN_PASSWORD, TWINLOOP_CREDENTIAL_SECRET: 'prebuilt-test-secret' }),
    ]);
    // With no user yet, InfluxDB accepts exactly this statement without credentials.
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE USER twinloop WITH PASSWORD '${INFLUX_PASSWORD}' WITH ALL PRIVILEGES` }),
    });
    expect(res.status).to.equal(200);
    db = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'line2', username: 'twinloop', password: INFLUX_PASSWORD });
    broker.broker.authenticate = (_client, user, password, done) =>
      done(null, user === 'twinloop-line2' && password?.toString() === MQTT_PASSWORD);

    dir = mkdtempSync(join(tmpdir(), 'twinloop-prebuilt-'));
    // The site file as plant IT writes it; the MQTT password is added once the vault has it (below).
    writeFileSync(
      join(dir, 'site.env'),
      [
        '# plant 7, line 2',
        'SITE=plant7',
        'LINE=line2',
        `ASSET=${ASSET}`,
        'OPCUA_ENDPOINT=',
        'OPCUA_SECURITY_MODE=None',
        'OPCUA_SECURITY_POLICY=None',
        'OPCUA_SAMPLING_MS=250',
        `MQTT_URL=${broker.url}`,
        'MQTT_CLIENT_ID=twinloop-plant7-line2',
        'MQTT_USER=twinloop-line2',
        `INFLUX_URL=${influxd.url}`,
        'INFLUX_DB=line2',
        'INFLUX_USER=twinloop',
        `INFLUX_PASSWORD='${INFLUX_PASSWORD}'`,
        'ZONE3_SP_MIN=205',
        'ZONE3_SP_MAX=225',
        'ZONE2_SP_MIN=195',
        'ZONE2_SP_MAX=215',
        `RUL_MODEL=${join(ROOT, 'models', 'bearing-rul-model.json')}`,
      ].join('\n') + '\n',
    );

    unsClient = await mqtt.connectAsync(broker.url, { username: 'twinloop-line2', password: MQTT_PASSWORD, protocolVersion: 4 });
    unsClient.on('message', (topic) => uns.set(topic, (uns.get(topic) ?? 0) + 1));
    await unsClient.subscribeAsync(`${ASSET}/#`, { qos: 1 });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const series = await db.query('SHOW SERIES').catch((err: Error) => [err.message]);
    console.log(`InfluxDB series at failure:\n${JSON.stringify(series).slice(0, 3000)}\nNode-RED output:\n${tl.output().slice(-3000)}`);
  });

  after(async function () {
    await unsClient?.endAsync();
    await tl?.stop();
    await plant?.stop();
    await broker?.stop();
    await influxd?.stop();
    for (const d of [dir, tl?.home, influxd?.dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const flowFile = (name: string) => join(ROOT, 'flows', `${name}.json`);
  const flowsOnDisk = () => readFileSync(join(tl.home, 'flows.json'), 'utf8');

  it('a deploy with missing variables lists each of them and deploys nothing', async function () {
    const before = flowsOnDisk();
    const token = await adminToken(tl.url, 'admin', ADMIN_PASSWORD);
    // OPCUA_ENDPOINT is blank in the site file (the simulator is not up yet), MQTT_PASSWORD not in it yet.
    const r = await deploy([flowFile('maintenance-energy'), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', token]);
    expect(r.code, r.err).to.equal(2);
    expect(r.err).to.match(/needs 2 variable\(s\)/);
    expect(r.err).to.include('  MQTT_PASSWORD\n');
    expect(r.err).to.include('  OPCUA_ENDPOINT\n');
    expect(flowsOnDisk()).to.equal(before);
  });

  it('deploys the three flows beside the demo flow', async function () {
    plant = await startTestPlantSim({
      mqttUrl: broker.url,
      mqttUsername: 'twinloop-line2',
      mqttPassword: MQTT_PASSWORD,
      publishIntervalMs: 1000,
      warmup: { simMs: 30 * MIN, speed: 40 },
      schedule: STEP_TEST,
      initialWear: 0.6,
      daysToFailure: 30,
      onSetpointWrite: (tag, value) => writes.push(`${tag}=${value}`),
    });
    // every value a flow uses comes from the site file, secrets too (never from the deployer's shell)
    const site =
      readFileSync(join(dir, 'site.env'), 'utf8').replace(/^OPCUA_ENDPOINT=$/m, `OPCUA_ENDPOINT=${plant.endpoint}`) +
      `MQTT_PASSWORD='${MQTT_PASSWORD}'\n`;
    writeFileSync(join(dir, 'site.env'), site);
    const demoIds = (JSON.parse(flowsOnDisk()) as Array<{ id: string }>).map((n) => n.id);
    const token = await adminToken(tl.url, 'admin', ADMIN_PASSWORD);
    for (const name of FLOWS) {
      const r = await deploy([flowFile(name), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', token]);
      expect(r.err, name).to.equal('');
      expect(r.code, name).to.equal(0);
      expect(r.out).to.match(/^deployed \d+ nodes \(TwinLoop /);
    }
    const nodes = JSON.parse(flowsOnDisk()) as Array<{ id: string; type: string }>;
    for (const id of demoIds) expect(nodes.map((n) => n.id)).to.include(id);
    // the shared config nodes once, though every flow brings them
    for (const id of ['twinloop-opcua', 'twinloop-influx', 'twinloop-mqtt', 'twinloop-ledger']) {
      expect(
        nodes.filter((n) => n.id === id),
        id,
      ).to.have.length(1);
    }
  });

  /** Points of the line's asset in a measurement (of one tag, when given). */
  async function count(measurement: string, tag?: string): Promise<number> {
    const where = tag ? ` AND "tag" = '${tag}'` : '';
    try {
      const rows = await db.query<{ count: number }>(
        `SELECT count(*) FROM "${measurement}" WHERE "site" = 'plant7' AND "line" = 'line2' AND "asset" = '${ASSET}'${where}`,
      );
      const row = rows[0] as unknown as Record<string, number> | undefined;
      return row
        ? Math.max(
            0,
            ...Object.entries(row)
              .filter(([k]) => k.startsWith('count_'))
              .map(([, v]) => Number(v)),
          )
        : 0;
    } catch (err) {
      if (/database not found/.test((err as Error).message)) return 0; // not created yet
      throw err;
    }
  }

  type SetpointView = {
    gateId: string;
    state: string;
    proposal: { asset: string; tag: string; proposedValue: number; currentValue: number };
  };
  type MaintenanceView = { gateId: string; state: string; proposal: { asset: string; job: string; window: { startMs: number } } };
  /** The first proposal of a kind for the line's asset on the approvals page, as a supervisor sees it. */
  async function pendingOnPage<V extends { proposal: { asset: string } }>(kind: 'setpoint' | 'maintenance'): Promise<V> {
    const token = await adminToken(tl.url, 'supervisor', tl.logins.supervisor);
    const found = await waitFor(
      async () => {
        const res = await fetch(new URL('twinloop/approvals/api/proposals', tl.url), { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).to.equal(200);
        const body = (await res.json()) as { proposals: Array<V & { kind: string }> };
        return body.proposals.find((p) => p.kind === kind && p.proposal.asset === ASSET);
      },
      90_000,
      500,
      `a ${kind} proposal for the line on the approvals page`,
    );
    return found!;
  }

  it('line monitoring: screened readings and zone temperature estimates in InfluxDB and on the UNS', async function () {
    await waitFor(
      async () => (await count('reading', 'melt_pressure')) >= 20 && (await count('estimate', 'zone3_temp')) >= 20,
      60_000,
      500,
      'readings and estimates in InfluxDB',
    );
    const [estimate] = await db.query<{ value: number; variance: number; quality: string }>(
      `SELECT * FROM estimate WHERE asset = '${ASSET}' AND "tag" = 'zone3_temp' ORDER BY time DESC LIMIT 1`,
    );
    expect(estimate.value).to.be.within(150, 300);
    expect(estimate.variance).to.be.greaterThan(0);
    expect(['good', 'uncertain']).to.include(estimate.quality);
    await waitFor(() => uns.has(`${ASSET}/twin/estimate/zone3_temp`), 10_000, 100, 'estimates on the UNS');
    expect(uns.get(`${ASSET}/twin/reading/melt_pressure`) ?? 0).to.be.greaterThan(0);
  });

  it('closed loop: a proposal reaches the approvals page, and nothing is written to the simulator without approval', async function () {
    const view = await pendingOnPage<SetpointView>('setpoint');
    expect(view.state).to.equal('pending');
    expect(view.gateId).to.match(/^tl-loop-approval-zone[23]_sp$/);
    expect(view.proposal.proposedValue).to.not.equal(view.proposal.currentValue);
    // The gate event is in the historian as its ledger record.
    await waitFor(async () => (await count('approval')) >= 1, 10_000, 250, "the pending proposal's ledger record in InfluxDB");
    // Only the step test's own writes reached the simulator: none from the flow, none in the historian.
    const scheduled = STEP_TEST.map((s) => s.command.replace(/^set (\w+) /, '$1='));
    expect(writes.length).to.be.greaterThan(0);
    expect(writes).to.deep.equal(scheduled.slice(0, writes.length));
    expect(await count('write')).to.equal(0);
  });

  it('maintenance and energy: bearing RUL and energy cost in InfluxDB, a maintenance window on the approvals page', async function () {
    await waitFor(
      async () => (await count('rul')) >= 3 && (await count('energy')) >= 1,
      60_000,
      500,
      'RUL estimates and energy cost in InfluxDB',
    );
    const [rul] = await db.query<{ rulMs: number; rulP10Ms: number; rulP90Ms: number }>(
      `SELECT * FROM rul WHERE asset = '${ASSET}' ORDER BY time DESC LIMIT 1`,
    );
    expect(rul.rulMs).to.be.greaterThan(0);
    expect(rul.rulP10Ms).to.be.at.most(rul.rulMs);
    expect(rul.rulP90Ms).to.be.at.least(rul.rulMs);
    const [cost] = await db.query<{ energyKwh: number; costEur: number }>(
      `SELECT * FROM energy WHERE asset = '${ASSET}' ORDER BY time DESC LIMIT 1`,
    );
    expect(cost.energyKwh).to.be.greaterThan(0);
    expect(cost.costEur).to.be.greaterThan(0);
    expect([...uns.keys()].filter((t) => t.startsWith(`${ASSET}/twin/rul`))).to.have.length.greaterThan(0);
    const maintenance = await pendingOnPage<MaintenanceView>('maintenance');
    expect(maintenance.gateId).to.equal('tl-maint-approval');
    expect(maintenance.state).to.equal('pending');
    expect(maintenance.proposal.job).to.equal('gearbox bearing replacement');
  });

  it("a redeploy replaces the flow's nodes in place", async function () {
    const ids = (JSON.parse(flowsOnDisk()) as Array<{ id: string }>).map((n) => n.id).sort();
    const token = await adminToken(tl.url, 'admin', ADMIN_PASSWORD);
    const r = await deploy([flowFile('line-monitoring'), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', token]);
    expect(r.code, r.err).to.equal(0);
    expect((JSON.parse(flowsOnDisk()) as Array<{ id: string }>).map((n) => n.id).sort()).to.deep.equal(ids);
  });

  it('flows.json holds no secret value; the credentials file holds them only encrypted', function () {
    const flows = flowsOnDisk();
    const creds = readFileSync(join(tl.home, 'flows_cred.json'), 'utf8');
    for (const secret of [INFLUX_PASSWORD, MQTT_PASSWORD]) {
      expect(flows).to.not.include(secret);
      expect(creds).to.not.include(secret);
    }
    const nodes = JSON.parse(flows) as Array<{ id: string; credentials?: unknown; env?: Array<{ name: string; type: string }> }>;
    expect(nodes.filter((n) => n.credentials !== undefined)).to.deep.equal([]);
    const global = nodes.find((n) => (n as { type?: string }).type === 'global-config');
    expect(global?.env).to.deep.include({ name: 'SITE', value: 'plant7', type: 'str' });
  });
});
