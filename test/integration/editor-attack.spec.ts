/**
 * Issue 13, attack 4, against the real `twinloop start` (Node-RED, the plant simulator's OPC UA
 * server, the demo flow): an editor deploys a function node that reads the signing key with
 * `env.get`, signs a command and sends it to a twin-opcua-write of the demo's plant. On main the key
 * was in Node-RED's environment, and a correctly signed command with proposalId `never-approved`
 * wrote zone2_sp 205 → 207. Now:
 *   (a) env.get gets no key (only the key file's path, which is no secret), and a command signed
 *       with a wrong key is refused BAD_SIGNATURE;
 *   (b) even with the right key (the test reads <home>/signing.key, as a thief of the key would) a
 *       command whose proposal no supervisor approved is refused NO_DECISION, recorded in the
 *       ledger, and the plant's setpoint does not move.
 *   (c) the embedded broker refuses an anonymous client, and refuses Node-RED's user when it
 *       publishes a plant topic (attack 1's spoofed melt_temp); the simulator's readings still flow.
 */
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AttributeIds, OPCUACertificateManager, OPCUAClient, type ClientSession } from 'node-opcua';
import { canonicalJson } from '../../runtime/control/canonical.js';
import { signCommand } from '../../runtime/control/command.js';
import type { Command, LedgerRecord } from '../../runtime/model/control.js';
import { waitFor } from '../support/ports.js';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const TAG = 'zone2_sp';
const NODE_ID = `ns=1;s=extruder.${TAG}`;

/** What the editor deploys: POST /api/attack → a function node that reads the key and forwards the command to its own writer. */
const ATTACK_FN = `
const key = env.get('TWINLOOP_SIGNING_KEY');
node.send([{ payload: msg.payload }, null]);
msg.payload = { key: key === undefined ? null : key, keyFile: env.get('TWINLOOP_SIGNING_KEY_FILE') || null, process: typeof process };
return [null, msg];`;

function attackNodes() {
  const z = 'attack-tab';
  return [
    { id: z, type: 'tab', label: 'innocent-looking tab' },
    { id: 'attack-in', type: 'http in', z, url: '/attack', method: 'post', upload: false, wires: [['attack-fn']] },
    {
      id: 'attack-fn',
      type: 'function',
      z,
      name: 'sign and write',
      func: ATTACK_FN,
      outputs: 2,
      libs: [],
      wires: [['attack-write'], ['attack-out']],
    },
    { id: 'attack-out', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
    // a writer of the editor's own, on the demo's plant connection, envelope and ledger
    {
      id: 'attack-write',
      type: 'twin-opcua-write',
      z,
      endpoint: 'demo-opcua-endpoint',
      nodeId: NODE_ID,
      asset: ASSET,
      tag: TAG,
      envelope: 'demo-envelope-zone2_sp',
      ledger: 'demo-ledger',
      readBackTimeoutMs: 3000,
      readBackTolerance: '',
      wires: [[], []],
    },
  ];
}

describe("integration: an editor's function node cannot write to the plant (issue 13, attack 4)", function () {
  this.timeout(240_000);
  let tl: TwinloopProcess;
  let token = '';
  let envVersion = '';
  let client: OPCUAClient;
  let session: ClientSession;
  let cm: OPCUACertificateManager;
  const ledgerFile = () => join(tl.home, 'twinloop', 'ledger', 'demo-ledger.jsonl');
  const ledger = (): LedgerRecord[] =>
    readFileSync(ledgerFile(), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerRecord);
  const plantValue = async () => (await session.read({ nodeId: NODE_ID, attributeId: AttributeIds.Value })).value.value as number;
  const attack = async (body: unknown) => {
    const res = await fetch(new URL('api/attack', tl.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { key: unknown; keyFile: unknown; process: string } };
  };
  const refusalOf = (commandId: string) => {
    const r = ledger().find((x) => x.type === 'refused' && (x.data as { command?: { id?: string } }).command?.id === commandId);
    return r && (r.data as { refusal: string; reason: string });
  };

  before(async function () {
    tl = await startTwinloop(['--no-step-test']);
    token = await adminToken(tl.url, 'admin', tl.logins.admin);
    const auth = { authorization: `Bearer ${token}` };
    const flows = (await (await fetch(new URL('flows', tl.url), { headers: auth })).json()) as unknown[];
    const dep = await fetch(new URL('flows', tl.url), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify([...flows, ...attackNodes()]),
    });
    expect(dep.status, await dep.text()).to.equal(204);
    await waitFor(
      async () =>
        (await fetch(new URL('api/attack', tl.url), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }))
          .status === 200,
      60_000,
      200,
      'the attack endpoint',
    );
    envVersion = (
      (await (await fetch(new URL('twinloop/envelope/demo-envelope-zone2_sp', tl.url), { headers: auth })).json()) as { version: string }
    ).version;
    expect(envVersion).to.match(/\S/);
    const endpoint = /OPC UA:\s+(\S+)/.exec(tl.output())![1]!;
    cm = new OPCUACertificateManager({
      rootFolder: mkdtempSync(join(tmpdir(), 'attack-client-pki-')),
      automaticallyAcceptUnknownCertificate: true,
    });
    await cm.initialize();
    client = OPCUAClient.create({
      endpointMustExist: false,
      clientCertificateManager: cm,
      connectionStrategy: { maxRetry: 5, initialDelay: 200 },
    });
    await client.connect(endpoint);
    session = await client.createSession();
  });
  after(async function () {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await cm?.dispose();
    if (tl) await tl.stop();
  });

  const unsigned = (from: number, over: Partial<Command> = {}) => {
    const now = Date.now();
    return {
      proposalId: 'never-approved',
      asset: ASSET,
      tag: TAG,
      value: from + 2,
      step: 1,
      steps: 1,
      fromValue: from,
      issuedTsMs: now,
      expiresTsMs: now + 60_000,
      envelopeVersion: envVersion,
      ...over,
    };
  };

  it('(a) env.get in a function node gets no signing key; a command signed with a guessed key is refused BAD_SIGNATURE', async function () {
    const res = await attack({});
    expect(res.status).to.equal(200);
    expect(res.body.key, 'env.get(TWINLOOP_SIGNING_KEY)').to.equal(null);
    // only the path of the owner-only key file, which is no secret
    expect(res.body.keyFile).to.equal(join(tl.home, 'signing.key'));
    expect(res.body.process).to.equal('undefined');
    // nor is the key anywhere in what the editor can read through the admin API
    const key = readFileSync(join(tl.home, 'signing.key'), 'utf8').trim();
    const flows = await (await fetch(new URL('flows', tl.url), { headers: { authorization: `Bearer ${token}` } })).text();
    expect(flows).to.not.include(key);

    const before = await plantValue();
    // what the editor can do without the key: sign with an empty one
    const body = { ...unsigned(before), id: 'attack-empty-key' };
    const forged = { ...body, signature: createHmac('sha256', '').update(canonicalJson(body)).digest('hex') };
    await attack(forged);
    const refusal = (await waitFor(() => refusalOf('attack-empty-key'), 30_000, 100, "the writer's refusal in the ledger"))!;
    expect(refusal.refusal).to.equal('BAD_SIGNATURE');
    expect(await plantValue()).to.equal(before);
  });

  it('(b) with the right key, a command of a proposal nobody approved is refused NO_DECISION and the plant does not move', async function () {
    const key = readFileSync(join(tl.home, 'signing.key'), 'utf8').trim();
    const before = await plantValue();
    const cmd = signCommand(key, { ...unsigned(before), id: 'attack-never-approved' });
    await attack(cmd);
    const refusal = (await waitFor(() => refusalOf('attack-never-approved'), 30_000, 100, "the writer's refusal in the ledger"))!;
    expect(refusal.refusal).to.equal('NO_DECISION');
    expect(refusal.reason).to.equal(
      `NO_DECISION: no approval of proposal never-approved for ${ASSET}/${TAG} in the ledger (it holds no such proposal)`,
    );
    // no write was attempted: no intent, no write record for it, and the setpoint holds
    expect(
      ledger().filter((r) => (r.data as { commandId?: string }).commandId === 'attack-never-approved' && r.type !== 'refused'),
    ).to.deep.equal([]);
    expect(await plantValue()).to.equal(before);
    console.log(`      attack 4 after: zone2_sp ${before} → ${await plantValue()} (command for ${cmd.value} refused ${refusal.refusal})`);
  });

  it("(c) the embedded broker refuses an anonymous client, and Node-RED's user publishing a plant topic", async function () {
    const url = `mqtt://127.0.0.1:${tl.mqttPort}`;
    const anon = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000 }).then(
      (c) => (c.end(true), 'connected'),
      (err: Error) => err.message,
    );
    expect(anon).to.match(/Bad username or password|Not authorized/);
    const wrong = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: 'node-red', password: 'guess' }).then(
      (c) => (c.end(true), 'connected'),
      (err: Error) => err.message,
    );
    expect(wrong).to.match(/Bad username or password|Not authorized/);

    const login = { username: 'node-red', password: readFileSync(join(tl.home, 'mqtt-node-red.password'), 'utf8').trim() };
    const sub = await mqtt.connectAsync(url, { ...login, clientId: 'attack-sub', reconnectPeriod: 0 });
    const seen: Array<{ value: number; spoof?: boolean }> = [];
    sub.on('message', (_t, p) => seen.push(JSON.parse(p.toString())));
    await sub.subscribeAsync(`${ASSET}/melt_temp`);
    const spoofer = await mqtt.connectAsync(url, { ...login, clientId: 'attack-spoof', reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => spoofer.once('close', () => r()));
    spoofer.publish(`${ASSET}/melt_temp`, JSON.stringify({ value: 220, tsMs: Date.now() + 4000, quality: 'good', spoof: true }));
    await closed; // the broker drops the publish and closes the publisher
    // the simulator's own readings keep arriving after it; the spoof never does
    const n = seen.length;
    await waitFor(() => seen.length >= n + 2, 30_000, 50, 'two more genuine melt_temp readings');
    expect(seen.filter((m) => m.spoof)).to.deep.equal([]);
    await sub.endAsync();
    spoofer.end(true);
  });
});
