// twin-opcua-write in a real Node-RED runtime with the real twin-opcua-endpoint, twin-envelope and
// twin-ledger nodes, against the plant simulator's real node-opcua server: signed commands written
// and read back, every kind of refusal recorded in the ledger file, PLC refusals and envelope steps.
import { verifyResult } from '../../runtime/control/gate-result-signature.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AttributeIds, OPCUACertificateManager, OPCUAClient, type ClientSession } from 'node-opcua';
import { signCommand, type UnsignedCommand } from '../../runtime/control/command.js';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import type { Command, LedgerRecord, WriteResult } from '../../runtime/model/control.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { freePort } from '../support/ports.js';
import { approveInLedger } from '../support/control-approval.js';

const endpointNode = nodeModule('twin-opcua-endpoint');
const envelopeNode = nodeModule('twin-envelope');
const ledgerNode = nodeModule('twin-ledger');
const writeNode = nodeModule('twin-opcua-write');
const inNode = nodeModule('twin-opcua-in');

const KEY = 'test-signing-key-0123456789abcdef';
const TAG = 'zone1_sp';
const NODE_ID = `ns=1;s=extruder.${TAG}`;
type Msg<T> = { topic: string; payload: T };
type Alarm = { asset: string; tag: string; commandId: string; reason: string };
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

describe('twin-opcua-write (node, plant simulator over OPC UA)', function () {
  this.timeout(60_000);
  let plant: TestPlantSim;
  let asset: string;
  let rec: Recorder;
  let ledgerPath: string;
  let client: OPCUAClient;
  let session: ClientSession;
  let clientCm: OPCUACertificateManager;

  before(async function () {
    plant = await startTestPlantSim({ clock: 'manual', mqttUrl: undefined });
    asset = plant.sim.asset;
    // an independent OPC UA client: what the server holds, not what the writer says it wrote
    clientCm = new OPCUACertificateManager({
      rootFolder: mkdtempSync(join(tmpdir(), 'opcua-write-client-pki-')),
      automaticallyAcceptUnknownCertificate: true,
    });
    await clientCm.initialize();
    client = OPCUAClient.create({
      endpointMustExist: false,
      clientCertificateManager: clientCm,
      connectionStrategy: { maxRetry: 3, initialDelay: 100 },
    });
    await client.connect(plant.endpoint);
    session = await client.createSession();
  });
  after(async function () {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await clientCm?.dispose();
    await plant?.stop();
  });
  beforeEach(function (done) {
    const userDir = tempUserDir('nr-opcua-write-');
    ledgerPath = join(userDir, 'ledger', 'loop.jsonl');
    helper.settings({ userDir });
    rec = recordNodeCalls();
    plant.sim.write(TAG, 190);
    helper.startServer(done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  async function serverValue(): Promise<number> {
    const dv = await session.read({ nodeId: NODE_ID, attributeId: AttributeIds.Value });
    return dv.value.value as number;
  }

  const envelopeDef = (extra: Record<string, unknown> = {}) => ({
    id: 'env',
    type: 'twin-envelope',
    asset,
    tag: TAG,
    unit: 'degC',
    // the envelope reaches past the PLC's 150..260 so that the PLC's own refusal can be tested
    lowLimit: 100,
    highLimit: 300,
    maxStep: 20,
    rateUpPerMin: 600,
    rateDownPerMin: 600,
    minDwellMs: 0,
    interlocks: [{ tag: 'mode', op: '==', value: 1 }],
    inputTags: '',
    maxInputAgeMs: 10_000,
    minQuality: 'good',
    ramp: false,
    source: 'ep',
    ...extra,
  });
  /** What the twin-opcua-in on the endpoint reads: where the writer re-reads the envelope's inputs from. */
  const IN_TAGS = ['mode', 'alarm', 'melt_temp'];

  async function load(
    writerCfg: Record<string, unknown> = {},
    opts: { key?: string; envelope?: Record<string, unknown>; endpointUrl?: string } = {},
  ) {
    const flow = [
      {
        id: 'ep',
        type: 'twin-opcua-endpoint',
        endpointUrl: opts.endpointUrl ?? plant.endpoint,
        securityMode: 'None',
        securityPolicy: 'None',
        authMode: 'anonymous',
      },
      envelopeDef(opts.envelope),
      { id: 'led', type: 'twin-ledger', path: ledgerPath },
      {
        id: 'w',
        type: 'twin-opcua-write',
        endpoint: 'ep',
        nodeId: NODE_ID,
        asset,
        tag: TAG,
        envelope: 'env',
        ledger: 'led',
        readBackTimeoutMs: 1000,
        wires: [['res'], ['alarm']],
        ...writerCfg,
      },
      {
        id: 'in',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: IN_TAGS.map((t) => ({ nodeId: `ns=1;s=extruder.${t}`, asset, tag: t })),
        samplingIntervalMs: 1000,
        wires: [[]],
      },
      { id: 'res', type: 'helper' },
      { id: 'alarm', type: 'helper' },
    ];
    await helper.load(
      [endpointNode, envelopeNode, ledgerNode, writeNode, inNode] as never,
      flow as never,
      { led: { signingKey: opts.key ?? KEY } } as never,
    );
    await approveInLedger(helper.getNode('led'), { proposalId: 'p-1', asset, tag: TAG }); // the writer writes approved changes only
    const results: Array<Msg<WriteResult>> = [];
    const alarms: Array<Msg<Alarm>> = [];
    node('res').on('input', (m: never) => results.push(m));
    node('alarm').on('input', (m: never) => alarms.push(m));
    return { results, alarms };
  }

  function version(): string {
    return (helper.getNode('env') as unknown as { version(): string }).version();
  }

  function command(over: Partial<UnsignedCommand> = {}, key = KEY): Command {
    const now = Date.now();
    return signCommand(key, {
      proposalId: 'p-1',
      asset,
      tag: TAG,
      value: 195,
      unit: 'degC',
      step: 1,
      steps: 1,
      fromValue: 190,
      issuedTsMs: now,
      expiresTsMs: now + 60_000,
      envelopeVersion: version(),
      ...over,
    });
  }

  function ledgerRecords(): LedgerRecord[] {
    return readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerRecord)
      .filter((r) => r.type !== 'proposal' && r.type !== 'decision'); // the approval load() records
  }

  /** Send one input and wait until the writer has finished with it (a result, an alarm or an error). */
  async function send(payload: unknown, seen: () => number): Promise<void> {
    const before = seen();
    node('w').receive({ payload });
    await waitUntil(() => seen() > before, 20_000, 10, 'the writer to finish');
  }
  const activity = (r: { results: unknown[]; alarms: unknown[] }) => () => r.results.length + r.alarms.length + rec.errors('w').length;

  it('writes a valid signed command, reads it back, and records write and read-back in the ledger', async function () {
    const out = await load();
    const cmd = command({ value: 197.5 });
    await send(cmd, activity(out));
    expect(rec.errors('w')).to.deep.equal([]);
    expect(out.alarms).to.have.length(0);
    const r = out.results[0];
    expect(r.topic).to.equal(`${asset}/${TAG}`);
    expect(r.payload).to.include({
      commandId: cmd.id,
      proposalId: 'p-1',
      asset,
      tag: TAG,
      value: 197.5,
      outcome: 'written',
      readBackValue: 197.5,
      readBackOk: true,
      writer: 'w',
    });
    // signed with the gate's key (twin-approval acts only on results that verify), and not with another
    expect(verifyResult(KEY, r.payload)).to.equal(true);
    expect(verifyResult('another-key-that-is-long-enough', r.payload)).to.equal(false);
    expect(verifyResult(KEY, { ...r.payload, readBackOk: false })).to.equal(false);
    // the simulator took it: independently over OPC UA and in the plant model
    expect(await serverValue()).to.equal(197.5);
    expect(plant.sim.snapshot().truth[TAG]).to.equal(197.5);
    const recs = ledgerRecords().filter((x) => (x.data as { commandId?: string }).commandId === cmd.id);
    expect(recs.map((x) => x.type)).to.deep.equal(['write-intent', 'write', 'readback']);
    // write-ahead: the intent (command, value, present value) is in the ledger before the write
    expect(recs[0].data).to.include({ commandId: cmd.id, value: 197.5, presentValue: 190 });
    expect(recs[1].data).to.include({ outcome: 'written', presentValue: 190 });
    expect(recs[2].data).to.include({ readBackValue: 197.5, readBackOk: true });
    expect((await verifyLedgerFile(ledgerPath)).ok).to.equal(true);
    expect(rec.lastStatus('w')).to.include({ fill: 'green' });
  });

  it('refuses a forged signature and a command signed with another key: recorded, nothing written, no result', async function () {
    const out = await load();
    const tampered = { ...command({ value: 195 }), value: 199 }; // signed for 195, value changed afterwards
    const otherKey = command({ value: 196 }, 'another-key-that-is-long-enough');
    await send(tampered, activity(out));
    await send(otherKey, activity(out));
    expect(rec.errors('w').map((e) => e.message)).to.satisfy((m: string[]) => m.length === 2 && m.every((x) => /BAD_SIGNATURE/.test(x)));
    // a refusal, not malformed input: a Catch node can tell them apart by code
    expect(rec.errors('w').map((e) => e.code)).to.deep.equal(['REFUSED', 'REFUSED']);
    expect(out.results).to.have.length(0); // a forged command names no command the gate issued
    expect(await serverValue()).to.equal(190);
    const refused = ledgerRecords().filter((x) => x.type === 'refused');
    expect(refused.map((x) => (x.data as { refusal: string }).refusal)).to.deep.equal(['BAD_SIGNATURE', 'BAD_SIGNATURE']);
    expect((refused[0].data as { command: Command }).command).to.deep.equal(tampered);
    expect(refused[0]).to.include({ asset, tag: TAG });
    expect(rec.lastStatus('w')).to.include({ fill: 'red' });
  });

  it('refuses an expired command and tells the gate (WriteResult refused)', async function () {
    const out = await load();
    const cmd = command({ value: 195, issuedTsMs: Date.now() - 120_000, expiresTsMs: Date.now() - 60_000 });
    await send(cmd, activity(out));
    expect(out.results[0].payload).to.include({ commandId: cmd.id, outcome: 'refused' });
    expect(out.results[0].payload.reason).to.match(/^EXPIRED/);
    expect(rec.errors('w')[0]).to.include({ code: 'REFUSED' });
    expect(rec.errors('w')[0].message).to.match(/EXPIRED/);
    expect(await serverValue()).to.equal(190);
    expect(ledgerRecords().map((x) => [x.type, (x.data as { refusal?: string }).refusal])).to.deep.equal([['refused', 'EXPIRED']]);
  });

  it('writes a command once: the same command again is refused as replayed, also after a redeploy', async function () {
    let out = await load();
    const cmd = command({ value: 193 });
    await send(cmd, activity(out));
    expect(out.results[0].payload.outcome).to.equal('written');
    // the plant moves on (an operator, say): a replay would put 193 back
    plant.sim.write(TAG, 191);
    await send(cmd, activity(out));
    expect(out.results[1].payload).to.include({ commandId: cmd.id, outcome: 'refused' });
    expect(out.results[1].payload.reason).to.match(/^REPLAYED/);
    expect(await serverValue()).to.equal(191);

    // a new runtime (flows restarted) opens the same used-commands store beside the ledger
    await helper.unload();
    out = await load();
    await send(cmd, activity(out));
    expect(out.results[0].payload.reason).to.match(/^REPLAYED/);
    expect(await serverValue()).to.equal(191);
    const types = ledgerRecords().map(
      (x) => `${x.type}${(x.data as { refusal?: string }).refusal ? ':' + (x.data as { refusal: string }).refusal : ''}`,
    );
    expect(types).to.deep.equal(['write-intent', 'write', 'readback', 'refused:REPLAYED', 'refused:REPLAYED']);
    expect(rec.errors('w').map((e) => e.code)).to.deep.equal(['REFUSED', 'REFUSED']);
  });

  it('refuses a retargeted command (signature) and a genuinely signed command for another tag (WRONG_TARGET)', async function () {
    const out = await load();
    const forZone2 = command({ tag: 'zone2_sp', value: 206, fromValue: 205 });
    const retargeted = { ...forZone2, tag: TAG }; // someone points zone2's approval at zone1
    await send(retargeted, activity(out));
    await send(forZone2, activity(out));
    const errs = rec.errors('w').map((e) => e.message);
    expect(errs[0]).to.match(/BAD_SIGNATURE/);
    expect(errs[1]).to.match(/WRONG_TARGET/);
    expect(rec.errors('w').map((e) => e.code)).to.deep.equal(['REFUSED', 'REFUSED']);
    expect(out.results).to.have.length(1);
    expect(out.results[0].payload).to.include({ commandId: forZone2.id, outcome: 'refused' });
    expect(await serverValue()).to.equal(190);
    expect(plant.sim.snapshot().truth.zone2_sp).to.equal(205);
    expect(ledgerRecords().map((x) => (x.data as { refusal?: string }).refusal)).to.deep.equal(['BAD_SIGNATURE', 'WRONG_TARGET']);
  });

  it('refuses a Proposal wired straight into the writer (around the gate) and other non-commands, recording what arrived', async function () {
    const out = await load();
    const proposal = {
      id: 'prop-1',
      asset,
      tag: TAG,
      currentValue: 190,
      proposedValue: 185,
      rationale: 'lower barrel temperature',
      createdTsMs: Date.now(),
      expiresTsMs: Date.now() + 60_000,
      quality: 'good',
    };
    await send(proposal, activity(out));
    await send('set 185', activity(out));
    await send({ ...command(), signature: undefined }, activity(out));
    expect(rec.errors('w').map((e) => e.message)).to.satisfy((m: string[]) => m.length === 3 && m.every((x) => /MALFORMED/.test(x)));
    // not a command at all: malformed input (BAD_PAYLOAD), not a refused command
    expect(rec.errors('w').map((e) => e.code)).to.deep.equal(['BAD_PAYLOAD', 'BAD_PAYLOAD', 'BAD_PAYLOAD']);
    expect(out.results).to.have.length(0);
    expect(await serverValue()).to.equal(190);
    const refused = ledgerRecords();
    expect(refused.map((x) => [x.type, (x.data as { refusal: string }).refusal])).to.deep.equal([
      ['refused', 'MALFORMED'],
      ['refused', 'MALFORMED'],
      ['refused', 'MALFORMED'],
    ]);
    expect((refused[0].data as { received: string }).received).to.contain('"proposedValue":185');
    expect((refused[1].data as { received: string }).received).to.contain('set 185');
  });

  it("refuses a step larger than maxStep from the value in the plant now (not the command's fromValue)", async function () {
    const out = await load();
    // approved as 200 → 215 (a 15 step), but the plant is at 190: the write would be a 25 step
    const cmd = command({ value: 215, fromValue: 200 });
    await send(cmd, activity(out));
    expect(out.results[0].payload).to.include({ outcome: 'refused' });
    expect(out.results[0].payload.reason).to.match(/^OUTSIDE_ENVELOPE: STEP_TOO_LARGE/);
    expect(await serverValue()).to.equal(190);
    const r = ledgerRecords()[0];
    expect(r.type).to.equal('refused');
    expect(r.data).to.include({ refusal: 'OUTSIDE_ENVELOPE', presentValue: 190 });
    expect(rec.errors('w').map((e) => e.code)).to.deep.equal(['REFUSED']);
    // the same command from the right place is within the step (a new command: the first one is used)
    plant.sim.write(TAG, 200);
    await send(command({ value: 215, fromValue: 200 }), activity(out));
    expect(out.results[1].payload).to.include({ outcome: 'written', readBackOk: true });
    expect(await serverValue()).to.equal(215);
  });

  it('refuses a value outside the envelope limits and a command approved under another envelope version', async function () {
    const out = await load({}, { envelope: { lowLimit: 185, highLimit: 200 } });
    await send(command({ value: 201 }), activity(out));
    await send(command({ value: 195, envelopeVersion: 'feedfacefeedface' }), activity(out));
    expect(out.results.map((r) => r.payload.reason)).to.satisfy((m: string[]) => /ABOVE_HIGH/.test(m[0]) && /envelope version/.test(m[1]));
    expect(await serverValue()).to.equal(190);
  });

  it('a write the PLC refuses (outside its hard limits) fails with the status name and raises an alarm', async function () {
    plant.sim.write(TAG, 250);
    const out = await load();
    const cmd = command({ value: 265, fromValue: 250 }); // inside the envelope (≤ 300, step 15), outside the PLC's 260
    await send(cmd, activity(out));
    await waitUntil(() => out.alarms.length > 0, 5000, 10, 'alarm');
    expect(out.results[0].payload).to.include({ commandId: cmd.id, outcome: 'failed' });
    expect(out.results[0].payload.reason).to.contain('BadOutOfRange');
    expect(out.alarms[0].payload).to.deep.equal({ asset, tag: TAG, commandId: cmd.id, reason: out.results[0].payload.reason });
    expect(await serverValue()).to.equal(250);
    const r = ledgerRecords();
    expect(r.map((x) => x.type)).to.deep.equal(['write-intent', 'write']);
    expect(r[1].data).to.include({ outcome: 'failed', commandId: cmd.id });
    expect(rec.lastStatus('w')).to.include({ fill: 'red' });
  });

  it('a command to a server that cannot be reached fails with an alarm, recorded first, and is not written later', async function () {
    const port = await freePort(); // nothing listens here
    const out = await load({}, { endpointUrl: `opc.tcp://127.0.0.1:${port}/UA/Nothing` });
    const cmd = command({ value: 194 });
    await send(cmd, activity(out));
    await waitUntil(() => out.alarms.length > 0, 5000, 10, 'alarm');
    expect(out.results[0].payload).to.include({ commandId: cmd.id, outcome: 'failed' });
    expect(out.results[0].payload.reason).to.match(/cannot read the present value: .*not connected/);
    expect(out.alarms[0].payload.commandId).to.equal(cmd.id);
    expect(ledgerRecords().map((x) => [x.type, (x.data as { outcome: string }).outcome])).to.deep.equal([['write', 'failed']]);
    // the command was claimed: sent again (to a writer that can reach the plant) it is refused
    await helper.unload();
    const out2 = await load();
    await send(cmd, activity(out2));
    expect(out2.results[0].payload.reason).to.match(/^REPLAYED/);
    expect(await serverValue()).to.equal(190);
  });

  it('re-reads the interlocks and inputs in its own session: refuses a failed sensor, an interlock that does not hold, a tag it cannot read', async function () {
    const out = await load({}, { envelope: { inputTags: 'melt_temp' } });
    // melt_temp's sensor drops out: the plant reports BadSensorFailure for it
    plant.sim.injectFault({ tag: 'melt_temp', kind: 'dropout' });
    plant.sim.advance(1000);
    try {
      await send(command({ value: 195 }), activity(out));
    } finally {
      plant.sim.clearFaults();
      plant.sim.advance(1000);
    }
    expect(out.results[0].payload).to.include({ outcome: 'refused' });
    expect(out.results[0].payload.reason).to.match(/^INPUT_MISMATCH: BAD_INPUT: melt_temp: reading quality bad, BadSensorFailure/);
    const r = ledgerRecords()[0];
    expect(r.type).to.equal('refused');
    expect(r.data).to.include({ refusal: 'INPUT_MISMATCH' });
    const inputs = (r.data as { inputs: Record<string, { quality: string; qualityReason?: string; origin: unknown }> }).inputs;
    expect(inputs[`${asset}/melt_temp`]).to.include({ quality: 'bad', qualityReason: 'BadSensorFailure' });
    expect(inputs[`${asset}/melt_temp`].origin).to.deep.equal({ connection: 'ep', item: 'ns=1;s=extruder.melt_temp' });
    expect(inputs[`${asset}/mode`]).to.include({ value: 1, quality: 'good' });
    await helper.unload();

    // mode is 1 (AUTO): an interlock asking for MANUAL does not hold
    const out2 = await load({}, { envelope: { interlocks: [{ tag: 'mode', op: '==', value: 0 }] } });
    await send(command({ value: 195 }), activity(out2));
    expect(out2.results[0].payload.reason).to.match(/^INPUT_MISMATCH: INTERLOCK: mode: interlock mode == 0 does not hold \(1\)/);
    await helper.unload();

    // throughput is not read by any twin-opcua-in on this endpoint: the writer cannot check it
    const out3 = await load({}, { envelope: { inputTags: 'throughput' } });
    await send(command({ value: 195 }), activity(out3));
    expect(out3.results[0].payload.reason).to.match(/^INPUT_MISMATCH: MISSING_INPUT: throughput: no reading/);
    expect(await serverValue()).to.equal(190);
    await helper.unload();

    // all hold (the sensor is back): written
    const out4 = await load(
      {},
      {
        envelope: {
          inputTags: 'melt_temp',
          interlocks: [
            { tag: 'mode', op: '==', value: 1 },
            { tag: 'alarm', op: '==', value: 0 },
          ],
        },
      },
    );
    await send(command({ value: 195 }), activity(out4));
    expect(out4.results[0].payload).to.include({ outcome: 'written', readBackOk: true });
    expect(await serverValue()).to.equal(195);
  });

  it('refuses to work without a signing key, with an envelope of another setpoint, or a bad node id', async function () {
    await load({}, { key: '' });
    expect(rec.errors('w')[0]?.message).to.match(/signing key/);
    expect(rec.lastStatus('w')).to.include({ fill: 'red' });
    await helper.unload();
    await load({}, { envelope: { tag: 'zone2_sp' } });
    expect(rec.errors('w').at(-1)?.message).to.match(/envelope is for .*zone2_sp/);
    await helper.unload();
    // the envelope reads its inputs from another connection than this writer writes through
    await load({}, { envelope: { source: 'another-endpoint' } });
    expect(rec.errors('w').at(-1)?.message).to.match(
      /envelope reads its inputs from connection another-endpoint .* this writer writes through ep/,
    );
    await helper.unload();
    const out = await load({ nodeId: 'not a node id' });
    expect(rec.errors('w').at(-1)?.message).to.match(/node id/);
    // a command to a misconfigured writer is refused too, and nothing is written
    await send(command(), () => rec.errors('w').length + out.results.length);
    expect(rec.errors('w').at(-1)?.message).to.match(/not configured/);
    expect(await serverValue()).to.equal(190);
  });
});
