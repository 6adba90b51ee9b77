// twin-mqtt-write in a real Node-RED runtime with the real twin-mqtt-broker, twin-envelope and
// twin-ledger nodes: Sparkplug B DCMD to the plant simulator read back from its DDATA (aedes), the
// JSON command path against a small plant responder (aedes, and Debian Mosquitto), the link down,
// a read-back that does not match, refusals and config validation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { signCommand, type UnsignedCommand } from '../../runtime/control/command.js';
import type { Command, LedgerRecord, WriteResult } from '../../runtime/model/control.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { ensureDebianBinary } from '../support/debian.js';
import { endClient, publish, rawClient, subscribe } from '../support/mqtt-helpers.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { approveInLedger } from '../support/control-approval.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';

const brokerNode = nodeModule('twin-mqtt-broker');
const envelopeNode = nodeModule('twin-envelope');
const ledgerNode = nodeModule('twin-ledger');
const writeNode = nodeModule('twin-mqtt-write');
const mqttInNode = nodeModule('twin-mqtt-in');

const KEY = 'test-signing-key-0123456789abcdef';
const ASSET = 'test/plant/line1/extruder';
const TAG = 'zone1_sp';
const CMD_TOPIC = `${ASSET}/${TAG}/set`;
const RB_TOPIC = `${ASSET}/${TAG}`;
type Msg<T> = { topic: string; payload: T };
type Alarm = { asset: string; tag: string; commandId: string; reason: string };
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

/**
 * A small plant on MQTT: reports its setpoint every 100 ms as a UNS JSON reading and applies
 * commands from the command topic (through `apply`, which may refuse or clamp).
 */
async function startResponder(url: string, initial: number) {
  const c: MqttClient = await rawClient(url, { protocolVersion: 4 });
  const state = {
    value: initial,
    subscribed: 0,
    apply: (v: number) => v,
    commands: [] as Array<{ value: number; commandId: string; tsMs: number }>,
  };
  c.on('message', (_t, payload) => {
    const cmd = JSON.parse(payload.toString()) as { value: number; commandId: string; tsMs: number };
    state.commands.push(cmd);
    state.value = state.apply(cmd.value);
    report();
  });
  await subscribe(c, CMD_TOPIC, 1);
  state.subscribed++;
  // after a broker restart: subscribed again (counted once the broker acknowledged it)
  c.on(
    'connect',
    () =>
      void subscribe(c, CMD_TOPIC, 1).then(
        () => state.subscribed++,
        () => undefined,
      ),
  );
  const report = () => {
    if (c.connected)
      c.publish(RB_TOPIC, JSON.stringify({ value: state.value, tsMs: Date.now(), quality: 'good', unit: 'degC' }), { qos: 0 });
  };
  const timer = setInterval(report, 100);
  return {
    state,
    async stop() {
      clearInterval(timer);
      await endClient(c);
    },
  };
}

function suite(brokerUrl: () => string) {
  let rec: Recorder;
  let ledgerPath: string;

  beforeEach(function (done) {
    const userDir = tempUserDir('nr-mqtt-write-');
    ledgerPath = join(userDir, 'loop.jsonl');
    helper.settings({ userDir });
    rec = recordNodeCalls();
    helper.startServer(done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const envelopeDef = (asset: string, over: Record<string, unknown>) => ({
    id: 'env',
    type: 'twin-envelope',
    asset,
    tag: TAG,
    unit: 'degC',
    lowLimit: 150,
    highLimit: 260,
    maxStep: 20,
    rateUpPerMin: 600,
    rateDownPerMin: 600,
    minDwellMs: 0,
    interlocks: [],
    inputTags: '',
    maxInputAgeMs: 10_000,
    minQuality: 'good',
    ramp: false,
    source: 'b',
    ...over,
  });

  async function load(
    writerCfg: Record<string, unknown>,
    asset = ASSET,
    envelopeOver: Record<string, unknown> = {},
    waitReady = true,
    extraNodes: object[] = [],
  ) {
    const flow = [
      { id: 'b', type: 'twin-mqtt-broker', url: brokerUrl(), protocolVersion: 4, reconnectPeriodMs: 50, maxReconnectPeriodMs: 200 },
      envelopeDef(asset, envelopeOver),
      { id: 'led', type: 'twin-ledger', path: ledgerPath },
      {
        id: 'w',
        type: 'twin-mqtt-write',
        broker: 'b',
        format: 'json',
        commandTopic: CMD_TOPIC,
        readBackTopic: RB_TOPIC,
        asset,
        tag: TAG,
        envelope: 'env',
        ledger: 'led',
        readBackTimeoutMs: 3000,
        wires: [['res'], ['alarm']],
        ...writerCfg,
      },
      { id: 'res', type: 'helper' },
      { id: 'alarm', type: 'helper' },
      ...extraNodes,
    ];
    await helper.load(
      [brokerNode, envelopeNode, ledgerNode, writeNode, mqttInNode] as never,
      flow as never,
      { led: { signingKey: KEY } } as never,
    );
    await approveInLedger(helper.getNode('led'), { proposalId: 'p-1', asset, tag: TAG }); // the writer writes approved changes only
    const results: Array<Msg<WriteResult>> = [];
    const alarms: Array<Msg<Alarm>> = [];
    node('res').on('input', (m: never) => results.push(m));
    node('alarm').on('input', (m: never) => alarms.push(m));
    if (waitReady) await waitUntil(() => rec.lastStatus('w')?.text === 'ready', 20_000, 10, 'writer connected');
    return { results, alarms };
  }

  function command(asset: string, over: Partial<UnsignedCommand> = {}, key = KEY): Command {
    const now = Date.now();
    const version = (helper.getNode('env') as unknown as { version(): string }).version();
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
      envelopeVersion: version,
      ...over,
    });
  }

  const ledgerRecords = (): LedgerRecord[] =>
    readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerRecord)
      .filter((r) => r.type !== 'proposal' && r.type !== 'decision'); // the approval load() records

  async function send(payload: unknown, out: { results: unknown[]; alarms: unknown[] }): Promise<void> {
    const seen = () => out.results.length + out.alarms.length + rec.errors('w').length;
    const before = seen();
    node('w').receive({ payload });
    await waitUntil(() => seen() > before, 20_000, 10, 'the writer to finish');
  }

  return { load, command, ledgerRecords, send, rec: () => rec };
}

describe('twin-mqtt-write (node, aedes)', function () {
  this.timeout(60_000);
  let aedes: AedesBroker;
  before(async function () {
    aedes = await startAedes();
  });
  after(async function () {
    await aedes.stop();
  });
  afterEach(async function () {
    await aedes.start(); // a link-down test may leave it stopped
  });
  const t = suite(() => aedes.url);

  describe('Sparkplug B: DCMD to the plant simulator, read back from DDATA', function () {
    let plant: TestPlantSim;
    before(async function () {
      plant = await startTestPlantSim({ opcua: false, mqttUrl: aedes.url, mqttJson: false });
    });
    after(async function () {
      await plant?.stop();
    });
    /** Set the setpoint as the operator would, and wait until a sample has reported it. */
    async function operatorSets(value: number): Promise<void> {
      plant.sim.write(TAG, value);
      await new Promise<void>((resolve) => {
        const off = plant.sim.onSample(() => {
          off();
          resolve();
        });
      });
    }

    it('writes the setpoint through a DCMD and reads it back from the DDATA that follows (alias learnt from a rebirth)', async function () {
      await operatorSets(190);
      const asset = plant.sim.asset;
      const out = await t.load(
        {
          format: 'sparkplug',
          groupId: 'plant1',
          edgeNodeId: 'line1',
          deviceId: 'extruder',
          metric: TAG,
          commandTopic: '',
          readBackTopic: '',
        },
        asset,
      );
      const cmd = t.command(asset, { value: 196.5 });
      await t.send(cmd, out);
      expect(t.rec().errors('w')).to.deep.equal([]);
      expect(out.alarms).to.have.length(0);
      expect(out.results[0].payload).to.include({ commandId: cmd.id, outcome: 'written', readBackValue: 196.5, readBackOk: true });
      expect(plant.sim.snapshot().truth[TAG]).to.equal(196.5);
      const recs = t.ledgerRecords();
      expect(recs.map((r) => r.type)).to.deep.equal(['write-intent', 'write', 'readback']);
      // the intent is durable before the publish: command, value and the value the plant reported before it
      expect(recs[0].data).to.include({ commandId: cmd.id, value: 196.5, presentValue: 190 });
      expect(recs[1].data).to.include({ presentValue: 190 });
    });

    it('a DCMD the PLC refuses (outside its 150..260) is not reported back: written, read-back failed, alarm', async function () {
      await operatorSets(250);
      const asset = plant.sim.asset;
      // the envelope reaches past the PLC's limit so that the PLC's own refusal is what stops it
      const out = await t.load(
        { format: 'sparkplug', groupId: 'plant1', edgeNodeId: 'line1', deviceId: 'extruder', metric: TAG, readBackTimeoutMs: 1500 },
        asset,
        { highLimit: 300 },
      );
      const cmd = t.command(asset, { value: 265, fromValue: 250 });
      await t.send(cmd, out);
      await waitUntil(() => out.alarms.length > 0, 5000, 10, 'alarm');
      expect(out.results[0].payload).to.include({ commandId: cmd.id, outcome: 'written', readBackOk: false });
      // report by exception: an unchanged setpoint is not in DDATA, so nothing comes back
      expect(out.alarms[0].payload.reason).to.match(/read-back failed: no value seen/);
      expect(plant.sim.snapshot().truth[TAG]).to.equal(250);
      expect(t.ledgerRecords().map((r) => r.type)).to.deep.equal(['write-intent', 'write', 'readback']);
    });
  });

  describe('JSON command topic against a plant responder', function () {
    let plant: Awaited<ReturnType<typeof startResponder>>;
    beforeEach(async function () {
      plant = await startResponder(aedes.url, 190);
    });
    afterEach(async function () {
      await plant.stop();
    });

    it('publishes {"value","commandId","tsMs"} and reads the value back from the plant\'s reading', async function () {
      const out = await t.load({});
      const cmd = t.command(ASSET, { value: 197 });
      await t.send(cmd, out);
      expect(plant.state.commands).to.have.length(1);
      expect(plant.state.commands[0]).to.include({ value: 197, commandId: cmd.id });
      expect(plant.state.commands[0].tsMs).to.be.a('number');
      expect(out.results[0].payload).to.include({ outcome: 'written', readBackValue: 197, readBackOk: true });
      expect(t.ledgerRecords().map((r) => r.type)).to.deep.equal(['write-intent', 'write', 'readback']);
    });

    it('a plant that does not take the value: written, read-back mismatch with the value it reports, alarm', async function () {
      plant.state.apply = (v) => Math.min(v, 192); // a local clamp the twin does not know about
      const out = await t.load({ readBackTimeoutMs: 800 });
      const cmd = t.command(ASSET, { value: 197 });
      await t.send(cmd, out);
      await waitUntil(() => out.results.length > 0, 5000, 10, 'result');
      expect(out.results[0].payload).to.include({ outcome: 'written', readBackValue: 192, readBackOk: false });
      expect(out.alarms[0].payload).to.include({ asset: ASSET, tag: TAG, commandId: cmd.id });
      expect(out.alarms[0].payload.reason).to.match(/read back 192, wrote 197/);
      const rb = t.ledgerRecords().find((r) => r.type === 'readback');
      expect(rb?.data).to.include({ readBackOk: false, readBackValue: 192 });
    });

    it('refuses forged, replayed and too-large commands without publishing anything for them', async function () {
      const out = await t.load({});
      const forged = { ...t.command(ASSET, { value: 195 }), value: 205 };
      await t.send(forged, out);
      const ok = t.command(ASSET, { value: 194 });
      await t.send(ok, out);
      await t.send(ok, out);
      await t.send(t.command(ASSET, { value: 230, fromValue: 194 }), out); // a 36 step
      expect(plant.state.commands.map((c) => c.value)).to.deep.equal([194]);
      expect(
        t
          .ledgerRecords()
          .map((r) => `${r.type}${(r.data as { refusal?: string }).refusal ? ':' + (r.data as { refusal: string }).refusal : ''}`),
      ).to.deep.equal(['refused:BAD_SIGNATURE', 'write-intent', 'write', 'readback', 'refused:REPLAYED', 'refused:OUTSIDE_ENVELOPE']);
      // refusals, each with code REFUSED (a Catch node tells them from malformed input, BAD_PAYLOAD)
      expect(
        t
          .rec()
          .errors('w')
          .map((e) => e.code),
      ).to.deep.equal(['REFUSED', 'REFUSED', 'REFUSED']);
      await t.send({ not: 'a command' }, out);
      expect(t.rec().errors('w').at(-1)).to.include({ code: 'BAD_PAYLOAD' });
    });

    it('checks the interlocks against the latest readings twin-mqtt-in received on the same broker: missing, failing, a good one dated ahead ignored, holding', async function () {
      const uns = {
        id: 'in',
        type: 'twin-mqtt-in',
        broker: 'b',
        mode: 'json',
        pattern: `${ASSET}/{tag}`,
        assetTemplate: ASSET,
        tagTemplate: '{tag}',
        valuePath: 'value',
        timestampPath: 'tsMs',
        qualityPath: 'quality',
        unitPath: 'unit',
        qos: 1,
        maxFutureMs: 5000,
        wires: [['seen']],
      };
      const out = await t.load({}, ASSET, { interlocks: [{ tag: 'mode', op: '==', value: 1 }] }, true, [
        uns,
        { id: 'seen', type: 'helper' },
      ]);
      const seen: number[] = [];
      node('seen').on('input', (m: never) => seen.push((m as { payload: { tsMs: number } }).payload.tsMs));
      const c = await rawClient(aedes.url, { protocolVersion: 4 });
      const latest = () =>
        (helper.getNode('b') as unknown as { latest: { get(k: string): { value: number; tsMs: number } | undefined } }).latest.get(
          `${ASSET}/mode`,
        );
      const mode = async (value: number, tsMs = Date.now()) => {
        await publish(c, `${ASSET}/mode`, JSON.stringify({ value, tsMs, quality: 'good' }));
        await waitUntil(() => seen.includes(tsMs), 5000, 10, 'twin-mqtt-in to take the reading');
      };
      try {
        await t.send(t.command(ASSET, { value: 191 }), out); // nothing received yet
        await mode(0);
        await t.send(t.command(ASSET, { value: 192 }), out);
        await mode(1, Date.now() + 4000); // dated ahead: twin-mqtt-in takes it (5 s), the re-read does not (2 s)
        expect(latest()).to.include({ value: 0 });
        await t.send(t.command(ASSET, { value: 193 }), out);
        await mode(1);
        await t.send(t.command(ASSET, { value: 194 }), out);
      } finally {
        await endClient(c);
      }
      const reasons = out.results.map((r) => r.payload.reason ?? r.payload.outcome);
      expect(reasons[0]).to.match(/^INPUT_MISMATCH: MISSING_INPUT: mode: no reading/);
      expect(reasons[1]).to.match(/^INPUT_MISMATCH: INTERLOCK: mode: interlock mode == 1 does not hold \(0\)/);
      expect(reasons[2]).to.match(/^INPUT_MISMATCH: INTERLOCK: mode: interlock mode == 1 does not hold \(0\)/);
      expect(reasons[3]).to.equal('written');
      expect(plant.state.commands.map((x) => x.value)).to.deep.equal([194]);
      const refused = t.ledgerRecords().filter((r) => r.type === 'refused');
      expect(refused.map((r) => (r.data as { refusal: string }).refusal)).to.deep.equal([
        'INPUT_MISMATCH',
        'INPUT_MISMATCH',
        'INPUT_MISMATCH',
      ]);
      expect((refused[1].data as { inputs: Record<string, unknown> }).inputs[`${ASSET}/mode`]).to.deep.include({
        value: 0,
        quality: 'good',
        origin: { connection: 'b', item: `${ASSET}/mode` },
      });
    });

    it('refuses to work when the envelope reads its inputs from another connection', async function () {
      await t.load({}, ASSET, { source: 'another-broker' }, false);
      expect(t.rec().errors('w').at(-1)?.message).to.match(
        /envelope reads its inputs from connection another-broker .* this writer writes through b/,
      );
    });

    it('with the link down a command fails (alarm) and is not delivered when the link returns', async function () {
      const out = await t.load({ readBackTimeoutMs: 1000 });
      await aedes.stop();
      await waitUntil(() => t.rec().lastStatus('w')?.text !== 'ready', 10_000, 10, 'writer to see the link down');
      const lost = t.command(ASSET, { value: 193 });
      await t.send(lost, out);
      expect(out.results[0].payload).to.include({ commandId: lost.id, outcome: 'failed' });
      expect(out.results[0].payload.reason).to.match(/not connected to the broker/);
      expect(out.alarms[0].payload.commandId).to.equal(lost.id);
      expect(t.ledgerRecords().map((r) => [r.type, (r.data as { outcome?: string }).outcome])).to.deep.equal([['write', 'failed']]);

      const subscribed = plant.state.subscribed;
      await aedes.start();
      await waitUntil(() => t.rec().lastStatus('w')?.text === 'ready', 10_000, 10, 'writer reconnected');
      await waitUntil(() => plant.state.subscribed > subscribed, 10_000, 10, 'responder subscribed again');
      // the next command goes through; the failed one never arrives
      const next = t.command(ASSET, { value: 196 });
      await t.send(next, out);
      expect(out.results.at(-1)?.payload).to.include({ commandId: next.id, outcome: 'written', readBackOk: true });
      expect(plant.state.commands.map((c) => c.commandId)).to.deep.equal([next.id]);
    });
  });

  describe('config validation', function () {
    it('refuses an unknown format, a missing or wildcard topic, and Sparkplug without a metric', async function () {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ format: 'xml' }, /format must be json or sparkplug/],
        [{ commandTopic: '' }, /commandTopic is required/],
        [{ readBackTopic: `${ASSET}/#` }, /readBackTopic/],
        [{ format: 'sparkplug', groupId: 'plant1', edgeNodeId: 'line1', deviceId: 'extruder', metric: '' }, /metric is required/],
        [{ broker: 'nope' }, /no twin-mqtt-broker/],
      ];
      for (const [cfg, re] of cases) {
        await t.load(cfg, ASSET, {}, false);
        expect(t.rec().errors('w').at(-1)?.message, JSON.stringify(cfg)).to.match(re);
        expect(t.rec().lastStatus('w')).to.include({ fill: 'red' });
        await helper.unload();
      }
    });
  });
});

describe('twin-mqtt-write (node, Debian Mosquitto)', function () {
  this.timeout(60_000);
  let mosq: Mosquitto | undefined;
  let plant: Awaited<ReturnType<typeof startResponder>> | undefined;
  before(async function () {
    const bin = ensureDebianBinary('mosquitto', 'mosquitto');
    if (!bin) this.skip();
    mosq = await startMosquitto(bin!);
    plant = await startResponder(mosq.url, 190);
  });
  after(async function () {
    await plant?.stop();
    await mosq?.stop();
  });
  const t = suite(() => mosq!.url);

  it('writes through Mosquitto and reads the value back', async function () {
    const out = await t.load({});
    const cmd = t.command(ASSET, { value: 188.5 });
    await t.send(cmd, out);
    expect(plant!.state.commands.map((c) => c.commandId)).to.deep.equal([cmd.id]);
    expect(out.results[0].payload).to.include({ outcome: 'written', readBackValue: 188.5, readBackOk: true });
  });
});
