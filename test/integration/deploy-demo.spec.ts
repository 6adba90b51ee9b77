/**
 * `twinloop deploy` of a prebuilt flow into the running demo (`twinloop start` as a child process,
 * simulator and embedded broker): the demo's nodes are not restarted — its broker client stays
 * connected through a deploy, a redeploy and the deploy of a second prebuilt flow (aedes announces
 * every client connect and disconnect on $SYS) — and a maintenance window a supervisor approved is
 * not put up again, neither while the demo runs on nor after a restart of the whole process.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { adminToken, brokerLogin, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { freePort, waitFor } from '../support/ports.js';
import type { LedgerRecord } from '../../runtime/model/control.js';
import type { MaintenanceProposal } from '../../runtime/model/maintenance.js';
import { runDeploy } from '../support/deploy-cli.js';

const ROOT = join(__dirname, '..', '..');
const PASSWORD = 'deploy-demo-admin-pw';
const GATE = 'demo-maint-approval';

const deploy = runDeploy;

describe('integration: deploying prebuilt flows into the running demo', function () {
  this.timeout(600_000);
  let tl: TwinloopProcess | undefined;
  let sys: mqtt.MqttClient | undefined;
  let site: string;
  /** Client ids aedes announced, in order: "+id" connected, "-id" disconnected. */
  let clients: string[] = [];
  const ledgerFile = (): string => join(tl!.home, 'twinloop', 'ledger', 'demo-ledger.jsonl');
  const demoMaintenanceProposals = (): MaintenanceProposal[] =>
    readFileSync(ledgerFile(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord)
      .filter((r) => r.type === 'proposal' && (r.data as { kind?: string }).kind === 'maintenance')
      .map((r) => r.data as MaintenanceProposal);

  async function watchClients(): Promise<void> {
    clients = [];
    sys = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl!.mqttPort}`, brokerLogin(tl!.home));
    sys.on('message', (topic, buf) => clients.push(`${topic.endsWith('/new/clients') ? '+' : '-'}${buf.toString()}`));
    await sys.subscribeAsync(['$SYS/+/new/clients', '$SYS/+/disconnect/clients']);
  }

  async function proposals(): Promise<Array<{ gateId: string; kind: string; state: string; proposal: MaintenanceProposal }>> {
    const token = await adminToken(tl!.url, 'supervisor', tl!.logins.supervisor);
    const res = await fetch(new URL('twinloop/approvals/api/proposals', tl!.url), { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { proposals: Array<{ gateId: string; kind: string; state: string; proposal: MaintenanceProposal }> })
      .proposals;
  }

  before(async function () {
    tl = await startTwinloop([], { TWINLOOP_ADMIN_PASSWORD: PASSWORD, TWINLOOP_LOG_LEVEL: 'info' });
    await watchClients();
    const dir = mkdtempSync(join(tmpdir(), 'twinloop-deploy-demo-'));
    site = join(dir, 'site.env');
    // The demo's simulator and broker stand in for the site's; no historian runs (its buffer holds the points).
    writeFileSync(
      site,
      [
        'SITE=plant7',
        'LINE=line1',
        'ASSET=acme/plant7/extrusion/line1/extruder',
        `OPCUA_ENDPOINT=opc.tcp://127.0.0.1:${tl.opcuaPort}/UA/TwinLoopSim`,
        'OPCUA_SECURITY_MODE=None',
        'OPCUA_SECURITY_POLICY=None',
        'OPCUA_SAMPLING_MS=1000',
        `MQTT_URL=mqtt://127.0.0.1:${tl.mqttPort}`,
        'MQTT_CLIENT_ID=twinloop-plant7-line1',
        'MQTT_USER=node-red',
        `MQTT_PASSWORD=${brokerLogin(tl.home).password}`,
        `INFLUX_URL=http://127.0.0.1:${await freePort()}`,
        'INFLUX_DB=twinloop',
        'INFLUX_USER=twinloop',
        'INFLUX_PASSWORD=influx-pw',
        'ZONE3_SP_MIN=205',
        'ZONE3_SP_MAX=225',
        'ZONE2_SP_MIN=195',
        'ZONE2_SP_MAX=215',
        `RUL_MODEL=${join(ROOT, 'models', 'bearing-rul-model.json')}`,
      ].join('\n') + '\n',
    );
  });

  after(async function () {
    await sys?.endAsync();
    await tl?.stop();
  });

  it("a supervisor approves the demo's maintenance window", async function () {
    const pending = await waitFor(
      async () => (await proposals()).find((v) => v.gateId === GATE && v.state === 'pending'),
      180_000,
      1000,
      "the demo's maintenance proposal",
    );
    const token = await adminToken(tl!.url, 'supervisor', tl!.logins.supervisor);
    const res = await fetch(new URL('twinloop/approvals/api/decide', tl!.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        gateId: GATE,
        proposalId: pending!.proposal.id,
        verdict: 'approve',
        reason: 'parts in stock',
        password: tl!.logins.supervisor,
      }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(((await res.json()) as { state: string }).state).to.equal('approved');
  });

  it('deploying, redeploying and deploying a second prebuilt flow leave the demo running: its broker client never reconnects', async function () {
    // The demo's broker client may first connect after the banner: wait until it publishes (screened
    // readings on the UNS), then count connects and disconnects from here on.
    const uns = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl!.mqttPort}`, { ...brokerLogin(tl!.home), clientId: 'deploy-demo-uns' });
    let demoPublished = false;
    uns.on('message', (topic) => (demoPublished ||= topic.includes('/twin/reading/')));
    await uns.subscribeAsync('#');
    await waitFor(() => demoPublished, 60_000, 50, 'the demo publishing screened readings');
    await uns.endAsync();
    clients = [];
    const token = await adminToken(tl!.url, 'admin', PASSWORD);
    const first = await deploy([join(ROOT, 'flows', 'maintenance-energy.json'), '--env', site, '--url', tl!.url, '--token', token]);
    expect(first.code, first.err).to.equal(0);
    // the prebuilt flow's own broker client is up: the deploy has started it
    await waitFor(() => clients.includes('+twinloop-plant7-line1'), 30_000, 50, "the prebuilt flow's broker client");

    const again = await deploy([join(ROOT, 'flows', 'maintenance-energy.json'), '--env', site, '--url', tl!.url, '--token', token]);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.match(/kept the secret\(s\) Node-RED holds for INFLUX_PASSWORD, MQTT_PASSWORD/);
    const second = await deploy([join(ROOT, 'flows', 'line-monitoring.json'), '--env', site, '--url', tl!.url, '--token', token]);
    expect(second.code, second.err).to.equal(0);
    expect(second.out).to.not.match(/restarts every flow/);
    // A restart would show as a disconnect and connect of the client; the marker client below
    // connects after both deploys returned, so everything before it in the broker's order is in.
    const marker = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl!.mqttPort}`, {
      ...brokerLogin(tl!.home),
      clientId: 'deploy-demo-marker',
    });
    await marker.endAsync();
    await waitFor(() => clients.includes('-deploy-demo-marker'), 10_000, 50, 'the marker client');
    expect(clients.filter((c) => c.endsWith('twinloop-demo'))).to.deep.equal([]);
    expect(clients.filter((c) => c.endsWith('twinloop-plant7-line1'))).to.deep.equal(['+twinloop-plant7-line1']);
    const nodes = JSON.parse(readFileSync(join(tl!.home, 'flows.json'), 'utf8')) as Array<{ id: string; type: string }>;
    // shared config nodes once, the demo's nodes still there
    for (const id of ['twinloop-opcua', 'twinloop-mqtt', 'twinloop-influx', 'twinloop-ledger', GATE])
      expect(
        nodes.filter((n) => n.id === id),
        id,
      ).to.have.length(1);
  });

  it('after a restart the approved window is not proposed again: the gate says so once and the ledger has no new proposal for it', async function () {
    const approved = demoMaintenanceProposals();
    expect(approved).to.have.length(1);
    const home = tl!.home;
    await sys!.endAsync();
    expect(await tl!.stop()).to.equal(0);
    tl = await startTwinloop([], { TWINLOOP_ADMIN_PASSWORD: PASSWORD, TWINLOOP_LOG_LEVEL: 'info' }, home);
    await watchClients();
    // twin-maintenance, restarted, recommends the same window anew; the gate answers from the ledger
    const line = await waitFor(
      () =>
        tl!
          .output()
          .split('\n')
          .find((l) => l.includes(`repeats ${approved[0]!.id}, already approved in the ledger: not put up again`)),
      240_000,
      500,
      'the gate recognising the approved window',
    );
    expect(line).to.include('approve maintenance');
    expect(demoMaintenanceProposals().map((p) => p.id)).to.deep.equal([approved[0]!.id]);
    expect((await proposals()).filter((v) => v.gateId === GATE && v.state === 'pending')).to.deep.equal([]);
  });
});
