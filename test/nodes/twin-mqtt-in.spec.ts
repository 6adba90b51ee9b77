import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { rawClient, publish, subscribe, endClient, tempDir } from '../support/mqtt-helpers.js';
import { encodeSparkplugPayload, decodeSparkplugPayload } from '../../runtime/ingest/sparkplug-codec.js';
import type { Reading } from '../../runtime/model/reading.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const brokerNode = nodeModule('twin-mqtt-broker');
const inNode = nodeModule('twin-mqtt-in');

type Msg = {
  topic: string;
  payload: Reading;
  mqtt?: { topic: string };
  error?: { message: string; code?: string; source: { id: string } };
};

describe('twin-mqtt-in (node, aedes)', function () {
  let aedes: AedesBroker;
  let pub: MqttClient;
  const NOW = () => Date.now();

  before(async function () {
    aedes = await startAedes();
    pub = await rawClient(aedes.url, { protocolVersion: 4 });
  });
  after(async function () {
    await endClient(pub);
    await aedes.stop();
  });
  beforeEach(function (done) {
    helper.settings({ userDir: tempDir('nr-mqtt-in-') });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const broker = () => ({
    id: 'b1',
    type: 'twin-mqtt-broker',
    url: aedes.url,
    protocolVersion: 4,
    reconnectPeriodMs: 100,
    maxReconnectPeriodMs: 400,
  });

  /** Load broker + twin-mqtt-in (+ catch) and wait until the node is subscribed. */
  async function load(inCfg: Record<string, unknown>): Promise<{ out: Msg[]; errs: Msg[]; node: any }> {
    const flow = [
      broker(),
      { id: 'in', type: 'twin-mqtt-in', broker: 'b1', wires: [['out']], ...inCfg },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['in'], uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
    ];
    await helper.load([brokerNode, inNode, catchNode] as never, flow);
    const out: Msg[] = [];
    const errs: Msg[] = [];
    (helper.getNode('out') as any).on('input', (m: Msg) => out.push(m));
    (helper.getNode('errs') as any).on('input', (m: Msg) => errs.push(m));
    const b = helper.getNode('b1') as any;
    await waitFor(() => b.link?.connected, 10_000, 20, 'broker connected');
    // aedes acknowledges SUBSCRIBE asynchronously: probe until a message comes through.
    return { out, errs, node: helper.getNode('in') };
  }

  /** Publish probes until the node is subscribed and outputs (subscription may lag the CONNACK). */
  async function primed(out: Msg[], topic: string, payload: string): Promise<void> {
    await waitFor(
      async () => {
        await publish(pub, topic, payload);
        await new Promise((r) => setTimeout(r, 30));
        return out.length > 0;
      },
      10_000,
      1,
      'first message through twin-mqtt-in',
    );
    out.length = 0;
  }

  it('decodes the simulator JSON readings and maps levels to asset and tag', async function () {
    const { out, errs } = await load({ mode: 'json', pattern: '{asset+}/{tag}' });
    await primed(out, 'prime/x', JSON.stringify({ value: 0, tsMs: NOW() }));
    const ts = NOW() - 100;
    // an origin in the payload is the publisher's word: the node stamps its own (broker, topic)
    const claimed = { connection: 'plc-endpoint', item: 'ns=1;s=extruder.zone1_temp' };
    await publish(
      pub,
      'demo/plant1/extrusion/line1/extruder/zone1_temp',
      JSON.stringify({ value: 201.3, tsMs: ts, quality: 'good', unit: 'degC', origin: claimed }),
    );
    await waitFor(() => out.length >= 1);
    expect(out[0].topic).to.equal('demo/plant1/extrusion/line1/extruder/zone1_temp');
    expect(out[0].payload).to.deep.equal({
      asset: 'demo/plant1/extrusion/line1/extruder',
      tag: 'zone1_temp',
      value: 201.3,
      unit: 'degC',
      tsMs: ts,
      quality: 'good',
      source: 'mqtt',
      origin: { connection: 'b1', item: 'demo/plant1/extrusion/line1/extruder/zone1_temp' },
    });
    expect(out[0].mqtt?.topic).to.equal('demo/plant1/extrusion/line1/extruder/zone1_temp');
    expect(errs).to.deep.equal([]);
  });

  it('reports every bad input through Catch with a code, and keeps working after each', async function () {
    const { out, errs, node } = await load({ mode: 'json', pattern: 'p/{asset+}/{tag}', maxPayloadBytes: 1024 * 1024 });
    const statuses: any[] = [];
    const origStatus = node.status.bind(node);
    node.status = (s: any) => {
      statuses.push(s);
      return origStatus(s);
    };
    await primed(out, 'p/a/t', JSON.stringify({ value: 0, tsMs: NOW() }));
    const good = (i: number) => JSON.stringify({ value: i, tsMs: NOW() });
    const cases: Array<[string, string | Buffer, string]> = [
      ['malformed JSON', '{"value": 1', 'BAD_JSON'],
      ['non-numeric value', JSON.stringify({ value: 'hot', tsMs: NOW() }), 'NOT_NUMERIC'],
      ['Infinity (1e999)', '{"value": 1e999, "tsMs": 1}', 'NOT_FINITE'],
      ['NaN as a string', JSON.stringify({ value: 'NaN', tsMs: NOW() }), 'NOT_NUMERIC'],
      ['future timestamp', JSON.stringify({ value: 1, tsMs: NOW() + 3_600_000 }), 'BAD_TIMESTAMP'],
      ['unparseable timestamp', JSON.stringify({ value: 1, tsMs: 'soon' }), 'BAD_TIMESTAMP'],
      ['10 MB payload', Buffer.alloc(10 * 1024 * 1024, 0x20), 'PAYLOAD_TOO_LARGE'],
    ];
    for (let i = 0; i < cases.length; i++) {
      const [what, payload, code] = cases[i];
      const e0 = errs.length;
      const o0 = out.length;
      await publish(pub, 'p/line/ex/t1', payload);
      await publish(pub, 'p/line/ex/t1', good(i + 1));
      await waitFor(() => errs.length > e0 && out.length > o0, 10_000, 10, what);
      expect(errs[e0].error?.code, what).to.equal(code);
      expect(errs[e0].error?.source.id, what).to.equal('in');
      expect(errs[e0].topic, what).to.equal('p/line/ex/t1');
      expect(out[o0].payload.value, `${what}: the next good message still comes out`).to.equal(i + 1);
    }
    expect(statuses.some((s) => s.fill === 'red' && /bad json/.test(s.text))).to.equal(true);
    expect(statuses.some((s) => s.fill === 'red' && /payload too large/.test(s.text))).to.equal(true);
    expect(statuses[statuses.length - 1].fill, 'status back to green after a good message').to.equal('green');
  });

  it('missing timestamp → receive time, uncertain "no timestamp"; out-of-order readings pass', async function () {
    const { out, errs } = await load({ mode: 'json', pattern: '{asset+}/{tag}' });
    await primed(out, 'a/t', JSON.stringify({ value: 0, tsMs: NOW() }));
    const before = NOW();
    await publish(pub, 'a/t', '{"value": 5}');
    await publish(pub, 'a/t', JSON.stringify({ value: 6, tsMs: before - 1000 }));
    await publish(pub, 'a/t', JSON.stringify({ value: 7, tsMs: before - 60_000 }));
    await waitFor(() => out.length >= 3);
    expect(out[0].payload).to.include({ value: 5, quality: 'uncertain', qualityReason: 'no timestamp' });
    expect(out[0].payload.tsMs).to.be.at.least(before);
    expect(out.slice(1).map((m) => [m.payload.value, m.payload.tsMs, m.payload.quality])).to.deep.equal([
      [6, before - 1000, 'good'],
      [7, before - 60_000, 'good'],
    ]);
    expect(errs).to.deep.equal([]);
  });

  it('number mode: plain numbers with the configured unit; NaN / Infinity / text refused', async function () {
    const { out, errs } = await load({ mode: 'number', pattern: 'n/{machine}/{tag}', assetTemplate: 'site/{machine}', unit: 'bar' });
    await primed(out, 'n/m0/p', '0');
    for (const p of ['NaN', 'Infinity', 'abc']) {
      await publish(pub, 'n/m1/melt_pressure', p);
    }
    await publish(pub, 'n/m1/melt_pressure', '12.5');
    await waitFor(() => out.length >= 1 && errs.length >= 3);
    expect(errs.map((e) => e.error?.code)).to.deep.equal(['NOT_FINITE', 'NOT_FINITE', 'NOT_NUMERIC']);
    expect(out[0].payload).to.include({ asset: 'site/m1', tag: 'melt_pressure', value: 12.5, unit: 'bar', quality: 'good' });
  });

  it('json-object mode: one reading per key, a bad key reported beside the good ones', async function () {
    const { out, errs } = await load({ mode: 'json-object', pattern: 'obj/{asset+}' });
    await primed(out, 'obj/x', JSON.stringify({ v: 0 }));
    const ts = NOW() - 5;
    await publish(
      pub,
      'obj/line1/extruder',
      JSON.stringify({ tsMs: ts, zone1_temp: 200.5, screw_speed: { value: 80, quality: 'uncertain' }, mode: 'AUTO' }),
    );
    await waitFor(() => out.length >= 2 && errs.length >= 1);
    expect(out.map((m) => [m.topic, m.payload.value, m.payload.quality, m.payload.tsMs])).to.deep.equal([
      ['line1/extruder/zone1_temp', 200.5, 'good', ts],
      ['line1/extruder/screw_speed', 80, 'uncertain', ts],
    ]);
    expect(errs[0].error?.code).to.equal('NOT_NUMERIC');
  });

  it('does not drop unstamped messages with equal payloads (aedes speaks 3.1.1: no stamps)', async function () {
    // aedes speaks 3.1.1 (no user properties); the v5 path is covered against Mosquitto in the
    // integration specs. Here: unstamped messages with equal payloads are NOT dropped.
    const { out } = await load({ mode: 'json', pattern: '{asset+}/{tag}' });
    await primed(out, 'd/t', JSON.stringify({ value: 0, tsMs: NOW() }));
    const p = JSON.stringify({ value: 1, tsMs: NOW() });
    await publish(pub, 'd/t', p);
    await publish(pub, 'd/t', p);
    await waitFor(() => out.length >= 2);
    expect(out).to.have.length(2);
  });

  it('unmatched topics under the filter are UNMAPPED_TOPIC errors', async function () {
    const { out, errs } = await load({ mode: 'json', pattern: 'u/{asset+}/twin/reading/{tag}' });
    await primed(out, 'u/a/twin/reading/t', JSON.stringify({ value: 0, tsMs: NOW() }));
    await publish(pub, 'u/a/twin/estimate/t', JSON.stringify({ value: 0, tsMs: NOW() }));
    await waitFor(() => errs.length >= 1);
    expect(errs[0].error?.code).to.equal('UNMAPPED_TOPIC');
  });

  describe('Sparkplug B', function () {
    let ncmd: MqttClient;
    const cmds: Array<{ topic: string; metrics: unknown[] }> = [];
    beforeEach(async function () {
      cmds.length = 0;
      ncmd = await rawClient(aedes.url, { protocolVersion: 4 });
      ncmd.on('message', (topic, payload) => cmds.push({ topic, metrics: decodeSparkplugPayload(payload).metrics }));
      await subscribe(ncmd, 'spBv1.0/+/NCMD/#');
    });
    afterEach(async function () {
      await endClient(ncmd);
    });

    const births = async (group: string) => {
      await publish(
        pub,
        `spBv1.0/${group}/NBIRTH/line1`,
        encodeSparkplugPayload({
          timestampMs: NOW(),
          seq: 0,
          metrics: [
            { name: 'bdSeq', type: 'Int64', value: 0 },
            { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          ],
        }),
      );
      await publish(
        pub,
        `spBv1.0/${group}/DBIRTH/line1/extruder`,
        encodeSparkplugPayload({
          timestampMs: NOW(),
          seq: 1,
          metrics: [
            { name: 'zone1_temp', alias: 1, type: 'Double', value: 200, unit: 'degC' },
            { name: 'screw_speed', alias: 2, type: 'Double', value: 80, unit: 'rpm' },
          ],
        }),
      );
    };

    it('resolves aliases, turns NDEATH into bad readings, and asks for a rebirth on an unknown alias', async function () {
      const { out, errs } = await load({ mode: 'sparkplug', sparkplugGroup: 'plant1', assetTemplate: 'demo/{group}/{edge}/{device}' });
      // Probe until subscribed: births are retried until their readings come out.
      await waitFor(
        async () => {
          await births('plant1');
          await new Promise((r) => setTimeout(r, 30));
          return out.length >= 2;
        },
        10_000,
        1,
        'births through',
      );
      out.length = 0;
      await publish(
        pub,
        'spBv1.0/plant1/DDATA/line1/extruder',
        encodeSparkplugPayload({ timestampMs: NOW(), seq: 2, metrics: [{ alias: 1, type: 'Double', value: 201.5 }] }),
      );
      await waitFor(() => out.length >= 1);
      expect(out[0].topic).to.equal('demo/plant1/line1/extruder/zone1_temp');
      expect(out[0].payload).to.include({ value: 201.5, unit: 'degC', quality: 'good', source: 'sparkplug' });

      await publish(
        pub,
        'spBv1.0/plant1/DDATA/line1/extruder',
        encodeSparkplugPayload({ timestampMs: NOW(), seq: 3, metrics: [{ alias: 42, type: 'Double', value: 1 }] }),
      );
      await waitFor(() => errs.length >= 1 && cmds.length >= 1);
      expect(errs[0].error?.code).to.equal('UNKNOWN_ALIAS');
      expect(cmds[0].topic).to.equal('spBv1.0/plant1/NCMD/line1');
      expect(cmds[0].metrics).to.deep.include({ name: 'Node Control/Rebirth', type: 'Boolean', value: true });

      // still working: a good DDATA after the bad one
      await publish(
        pub,
        'spBv1.0/plant1/DDATA/line1/extruder',
        encodeSparkplugPayload({ timestampMs: NOW(), seq: 4, metrics: [{ alias: 2, type: 'Double', value: 81 }] }),
      );
      await waitFor(() => out.length >= 2);
      expect(out[1].payload).to.include({ tag: 'screw_speed', value: 81 });

      // garbage bytes are BAD_PAYLOAD, and the node goes on
      await publish(pub, 'spBv1.0/plant1/DDATA/line1/extruder', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
      await waitFor(() => errs.length >= 2);
      expect(errs[1].error?.code).to.equal('BAD_PAYLOAD');

      out.length = 0;
      await publish(pub, 'spBv1.0/plant1/NDEATH/line1', encodeSparkplugPayload({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] }));
      await waitFor(() => out.length >= 2);
      expect(out.map((m) => [m.payload.tag, m.payload.quality, m.payload.qualityReason, m.payload.value])).to.deep.equal([
        ['zone1_temp', 'bad', 'NDEATH', 201.5],
        ['screw_speed', 'bad', 'NDEATH', 81],
      ]);
    });
  });

  describe('config validation', function () {
    for (const [what, cfg, reason] of [
      ['a pattern with two multi-level parts', { mode: 'json', pattern: '{a+}/{b+}' }, /only one multi-level/],
      ['a tag template naming an unknown capture', { mode: 'json', pattern: '{asset+}/{tag}', tagTemplate: '{nope}' }, /\{nope\}/],
      ['an unknown payload mode', { mode: 'xml' }, /payload mode must be/],
      ['a negative maxFutureMs', { mode: 'json', maxFutureMs: -5 }, /maxFutureMs/],
      ['a bad value path', { mode: 'json', valuePath: 'a..b' }, /value field path/],
      ['qos 3', { mode: 'json', qos: 3 }, /qos must be/],
      ['a Sparkplug group with a wildcard', { mode: 'sparkplug', sparkplugGroup: 'a/#' }, /Sparkplug group/],
      ['a Sparkplug asset template with an unknown name', { mode: 'sparkplug', assetTemplate: '{site}/{edge}' }, /\{site\}/],
    ] as Array<[string, Record<string, unknown>, RegExp]>) {
      it(`refuses ${what}: error logged, no output`, async function () {
        const flow = [broker(), { id: 'in', type: 'twin-mqtt-in', broker: 'b1', wires: [['out']], ...cfg }, { id: 'out', type: 'helper' }];
        await helper.load([brokerNode, inNode] as never, flow);
        const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e) => e.level === 20 && e.id === 'in');
        const text = logged.map((e) => e.msg).join('\n');
        expect(text).to.match(/configuration is invalid/);
        expect(text).to.match(reason);
        const out: Msg[] = [];
        (helper.getNode('out') as any).on('input', (m: Msg) => out.push(m));
        await publish(pub, 'x/y', JSON.stringify({ value: 1, tsMs: NOW() }));
        await new Promise((r) => setTimeout(r, 100));
        expect(out).to.deep.equal([]);
      });
    }

    it('refuses a missing broker', async function () {
      await helper.load(
        [brokerNode, inNode] as never,
        [{ id: 'in', type: 'twin-mqtt-in', broker: 'nope', mode: 'json', wires: [[]] }] as never,
      );
      const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e) => e.level === 20 && e.id === 'in');
      expect(logged.map((e) => e.msg).join('\n')).to.match(/no twin-mqtt-broker selected/);
    });
  });
});
