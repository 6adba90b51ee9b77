/**
 * `twinloop deploy` against a real, running Node-RED with adminAuth on (`twinloop start` as a child
 * process, the demo flow already deployed there): a missing variable, a wrong token and a read-only
 * user deploy nothing; a good deploy resolves the site's values in the running nodes, keeps the
 * secrets out of flows.json, leaves the demo flow running, and a redeploy replaces rather than adds.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { runDeploy } from '../support/deploy-cli.js';

const SECRET = 'db-Pa55-only-in-creds';
const BROKER_SECRET = 'broker-Pa55-only-in-creds';

const run = runDeploy;

/** A small site flow: an HTTP endpoint answering with two values Node-RED resolved from the environment. */
function siteFlow(path: string): unknown[] {
  return [
    { id: 'site-tab', type: 'tab', label: 'site check', disabled: false, info: '' },
    {
      id: 'site-http',
      type: 'http in',
      z: 'site-tab',
      name: '',
      url: path,
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 40,
      wires: [['site-change']],
    },
    {
      id: 'site-change',
      type: 'change',
      z: 'site-tab',
      name: '',
      x: 300,
      y: 40,
      wires: [['site-resp']],
      rules: [
        { t: 'set', p: 'payload.site', pt: 'msg', to: '${SITE}', tot: 'str' },
        { t: 'set', p: 'payload.db', pt: 'msg', to: '${DB_PASSWORD}', tot: 'str' },
      ],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
    },
    { id: 'site-resp', type: 'http response', z: 'site-tab', name: '', statusCode: '', headers: {}, x: 500, y: 40, wires: [] },
    {
      id: 'site-broker',
      type: 'twin-mqtt-broker',
      name: 'site broker',
      url: '${MQTT_URL}',
      clientId: 'site',
      protocolVersion: 5,
      cleanSession: true,
      sessionExpiryS: 0,
      keepaliveS: 60,
      reconnectPeriodMs: 1000,
      maxReconnectPeriodMs: 30000,
      tlsCaFile: '',
      tlsCertFile: '',
      tlsKeyFile: '',
      rejectUnauthorized: true,
      outboxMaxEntries: 1000,
      inflightWindow: 10,
      credentials: { user: 'twin', password: '${MQTT_PASSWORD}' },
    },
  ];
}

describe('twinloop deploy (integration: a running Node-RED with adminAuth)', function () {
  this.timeout(120_000);
  let tl: TwinloopProcess;
  let dir: string;
  const adminPassword = 'admin-deploy-test-pw';

  before(async function () {
    tl = await startTwinloop(['--no-sim'], { TWINLOOP_ADMIN_PASSWORD: adminPassword, TWINLOOP_CREDENTIAL_SECRET: 'deploy-test-secret' });
    dir = mkdtempSync(join(tmpdir(), 'twinloop-deploy-'));
    writeFileSync(join(dir, 'flow.json'), JSON.stringify(siteFlow('/site-check')));
    writeFileSync(
      join(dir, 'site.env'),
      `# plant 7\nSITE=plant7\nexport MQTT_URL="mqtt://127.0.0.1:${tl.mqttPort}"\nDB_PASSWORD='${SECRET}'\nMQTT_PASSWORD=${BROKER_SECRET}\n`,
    );
    writeFileSync(join(dir, 'partial.env'), 'SITE=plant7\n');
  });

  after(async function () {
    await tl?.stop();
  });

  async function flowsOnDisk(): Promise<string> {
    return readFileSync(join(tl.home, 'flows.json'), 'utf8');
  }

  it('lists every missing variable and deploys nothing', async function () {
    const before = await flowsOnDisk();
    const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'partial.env'), '--url', tl.url, '--user', 'admin'], {
      NODE_RED_PASSWORD: adminPassword,
    });
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/needs 3 variable/);
    for (const name of ['DB_PASSWORD', 'MQTT_PASSWORD', 'MQTT_URL']) expect(r.err).to.include(`  ${name}\n`);
    expect(await flowsOnDisk()).to.equal(before);
  });

  it('refuses a wrong token and a read-only user, deploying nothing', async function () {
    const before = await flowsOnDisk();
    const wrong = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', 'not-a-token']);
    expect(wrong.code).to.equal(1);
    expect(wrong.err).to.match(/refused the token \(401\)/);
    const none = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', tl.url]);
    expect(none.code).to.equal(1);
    expect(none.err).to.match(/needs a login \(adminAuth is on\)/);
    const viewerToken = await adminToken(tl.url, 'viewer', tl.logins.viewer);
    const viewer = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', viewerToken]);
    expect(viewer.code).to.equal(1);
    expect(viewer.err).to.match(/refused the token \(401\) for POST \/flows/);
    expect(await flowsOnDisk()).to.equal(before);
  });

  it('deploys: values resolved in the running nodes, secrets only in the encrypted credentials, the demo flow kept', async function () {
    const demoIdsBefore = (JSON.parse(await flowsOnDisk()) as Array<{ id: string }>).map((n) => n.id);
    const token = await adminToken(tl.url, 'admin', adminPassword);
    // MQTT_PASSWORD in the deploying shell too: only the site file's value may be used.
    const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', tl.url, '--token', token], {
      MQTT_PASSWORD: 'shell-value-never-used',
    });
    expect(r.err).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/deployed 5 nodes \(site check\), 3 environment and 1 credential variable/);

    const answer = (await (await fetch(new URL('api/site-check', tl.url))).json()) as { site: string; db: string };
    expect(answer).to.deep.equal({ site: 'plant7', db: SECRET });

    const flows = await flowsOnDisk();
    const nodes = JSON.parse(flows) as Array<{ id: string; type: string; env?: Array<{ name: string; value: string; type: string }> }>;
    expect(flows).to.not.include(SECRET);
    expect(flows).to.not.include(BROKER_SECRET);
    const creds = readFileSync(join(tl.home, 'flows_cred.json'), 'utf8');
    expect(creds).to.not.include(SECRET);
    expect(creds).to.not.include(BROKER_SECRET);
    const global = nodes.find((n) => n.type === 'global-config');
    expect(global?.env).to.deep.include({ name: 'SITE', value: 'plant7', type: 'str' });
    expect(global?.env).to.deep.include({ name: 'DB_PASSWORD', value: '', type: 'cred' });
    for (const id of demoIdsBefore) expect(nodes.map((n) => n.id)).to.include(id);
  });

  it('a redeploy with new values replaces the nodes (no duplicates) and keeps earlier secrets', async function () {
    writeFileSync(
      join(dir, 'site2.env'),
      `SITE=plant8\nMQTT_URL=mqtt://127.0.0.1:${tl.mqttPort}\nDB_PASSWORD=${SECRET}\nMQTT_PASSWORD=${BROKER_SECRET}\n`,
    );
    const token = await adminToken(tl.url, 'admin', adminPassword);
    const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'site2.env'), '--url', tl.url, '--token', token]);
    expect(r.code, r.err).to.equal(0);
    const answer = (await (await fetch(new URL('api/site-check', tl.url))).json()) as { site: string; db: string };
    expect(answer).to.deep.equal({ site: 'plant8', db: SECRET });
    const nodes = JSON.parse(await flowsOnDisk()) as Array<{ id: string; type: string }>;
    expect(nodes.filter((n) => n.id === 'site-change')).to.have.length(1);
    expect(nodes.filter((n) => n.type === 'global-config')).to.have.length(1);
  });

  it('--dry-run checks and deploys nothing; bad input gets a one-line reason', async function () {
    const before = await flowsOnDisk();
    const token = await adminToken(tl.url, 'admin', adminPassword);
    const dry = await run([join(dir, 'flow.json'), '--env', join(dir, 'site2.env'), '--url', tl.url, '--token', token, '--dry-run']);
    expect(dry.code).to.equal(0);
    expect(dry.out).to.match(/^dry run: would deploy 5 nodes/);
    expect(await flowsOnDisk()).to.equal(before);
    writeFileSync(join(dir, 'bad.env'), 'SITE plant7\n');
    const bad = await run([join(dir, 'flow.json'), '--env', join(dir, 'bad.env')]);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/bad\.env:1: expected NAME=value/);
    const noEnv = await run([join(dir, 'flow.json')]);
    expect(noEnv.code).to.equal(2);
    expect(noEnv.err).to.match(/--env SITE\.env is required/);
  });
});
