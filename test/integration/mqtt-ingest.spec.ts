/**
 * Ingestion through twin-mqtt-in (and back out through twin-mqtt-out) against both brokers:
 * aedes in-process (MQTT 3.1.1 only: the link falls back from v5) and Debian Mosquitto (v5).
 */
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { rawClient, publish, subscribe, endClient, tempDir } from '../support/mqtt-helpers.js';
import { encodeSparkplugPayload, decodeSparkplugPayload, type SparkplugPayload } from '../../runtime/ingest/sparkplug-codec.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const brokerNode = nodeModule('twin-mqtt-broker');
const inNode = nodeModule('twin-mqtt-in');
const outNode = nodeModule('twin-mqtt-out');

const PREFIX = 'demo/plant1/extrusion/line1';
const ASSET = `${PREFIX}/extruder`;

interface BrokerUnderTest {
  url: string;
  /** Protocol the link should end up speaking. */
  protocol: 4 | 5;
  stop(): Promise<void>;
}

function suite(name: string, start: (ctx: Mocha.Context) => Promise<BrokerUnderTest | undefined>): void {
  describe(`MQTT ingestion against ${name}`, function () {
    this.timeout(60_000);
    let b: BrokerUnderTest | undefined;
    let pub: MqttClient;
    let out: any[];
    let errs: any[];
    let link: any;

    async function loadFlow(): Promise<void> {
      const flow = [
        { id: 'b1', type: 'twin-mqtt-broker', url: b!.url, reconnectPeriodMs: 100, maxReconnectPeriodMs: 400 },
        {
          id: 'uns',
          type: 'twin-mqtt-in',
          broker: 'b1',
          mode: 'json',
          pattern: `${PREFIX}/{machine}/{tag}`,
          assetTemplate: `${PREFIX}/{machine}`,
          wires: [['got']],
        },
        {
          id: 'sp',
          type: 'twin-mqtt-in',
          broker: 'b1',
          mode: 'sparkplug',
          sparkplugGroup: 'plant1',
          assetTemplate: 'demo/{group}/extrusion/{edge}/{device}',
          rebirthHoldOffMs: 0,
          wires: [['got']],
        },
        { id: 'back', type: 'twin-mqtt-in', broker: 'b1', mode: 'json', pattern: 'twin/{asset+}/twin/reading/{tag}', wires: [['got']] },
        { id: 'out', type: 'twin-mqtt-out', broker: 'b1', prefix: 'twin', qos: 1 },
        { id: 'got', type: 'helper' },
        { id: 'c', type: 'catch', scope: ['uns', 'sp', 'back', 'out'], uncaught: false, wires: [['errs']] },
        { id: 'errs', type: 'helper' },
      ];
      await helper.load([brokerNode, inNode, outNode, catchNode] as never, flow as never);
      out = [];
      errs = [];
      (helper.getNode('got') as any).on('input', (m: any) => out.push(m));
      (helper.getNode('errs') as any).on('input', (m: any) => errs.push(m));
      link = (helper.getNode('b1') as any).link;
      await waitFor(() => link.connected, 10_000, 20, 'link connected');
      // The first SUBSCRIBEs may still be in flight: probe until a reading comes through.
      await waitFor(
        async () => {
          await publish(pub, `${PREFIX}/probe/x`, JSON.stringify({ value: 0, tsMs: Date.now() }));
          await new Promise((r) => setTimeout(r, 30));
          return out.length > 0;
        },
        10_000,
        1,
        'subscribed',
      );
    }

    before(async function () {
      b = await start(this);
      if (!b) this.skip();
    });
    after(async function () {
      await b?.stop();
    });
    beforeEach(async function () {
      helper.settings({ userDir: tempDir('nr-mqtt-int-') });
      await new Promise<void>((r) => helper.startServer(() => r()));
      pub = await rawClient(b!.url, { protocolVersion: b!.protocol });
      await loadFlow();
      await new Promise((r) => setTimeout(r, 50));
      out.length = 0;
    });
    afterEach(async function () {
      await endClient(pub);
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
    });

    it(`speaks MQTT ${name === 'aedes' ? '3.1.1 (fallback from v5)' : 'v5'}`, function () {
      expect(link.protocolVersion).to.equal(b!.protocol);
      const warnings = (helper.log().args as any[][])
        .map((a) => a[0])
        .filter((e) => e.level === 30 && e.id === 'b1')
        .map((e) => String(e.msg));
      expect(warnings.some((w) => /falling back to 3\.1\.1/.test(w))).to.equal(b!.protocol === 4);
    });

    it('ingests the simulator contract JSON, including a dropout, and survives a bad message', async function () {
      const t0 = Date.now() - 1000;
      await publish(pub, `${PREFIX}/extruder/zone1_temp`, JSON.stringify({ value: 201.3, tsMs: t0, quality: 'good', unit: 'degC' }));
      await publish(pub, `${PREFIX}/extruder/melt_pressure`, JSON.stringify({ value: null, tsMs: t0 + 1, quality: 'bad', unit: 'bar' }));
      await publish(pub, `${PREFIX}/extruder/screw_speed`, '{"value": 80,');
      await publish(pub, `${PREFIX}/extruder/screw_speed`, JSON.stringify({ value: 80, tsMs: t0 + 2, quality: 'good', unit: 'rpm' }));
      await waitFor(() => out.length >= 3 && errs.length >= 1);
      expect(out.map((m) => [m.topic, m.payload.value, m.payload.quality, m.payload.unit])).to.deep.equal([
        [`${ASSET}/zone1_temp`, 201.3, 'good', 'degC'],
        [`${ASSET}/melt_pressure`, 0, 'bad', 'bar'],
        [`${ASSET}/screw_speed`, 80, 'good', 'rpm'],
      ]);
      expect(errs.map((e) => e.error.code)).to.deep.equal(['BAD_JSON']);
    });

    it('hosts a Sparkplug edge node: births, aliased DDATA, a seq gap answered by a rebirth, data again', async function () {
      // A tiny edge node that answers NCMD Node Control/Rebirth with fresh births, as the simulator does.
      const edge = await rawClient(b!.url, { protocolVersion: b!.protocol });
      let seq = 0;
      const send = (type: string, p: Omit<SparkplugPayload, 'seq'>, device?: string) => {
        const payload = encodeSparkplugPayload({ ...p, seq });
        seq = (seq + 1) % 256;
        return publish(edge, `spBv1.0/plant1/${type}/line1${device ? '/' + device : ''}`, payload);
      };
      const births = async () => {
        seq = 0;
        await send('NBIRTH', {
          timestampMs: Date.now(),
          metrics: [
            { name: 'bdSeq', type: 'Int64', value: 1 },
            { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          ],
        });
        await send(
          'DBIRTH',
          {
            timestampMs: Date.now(),
            metrics: [
              { name: 'zone1_temp', alias: 1, type: 'Double', value: 200, unit: 'degC' },
              { name: 'vibration', alias: 17, type: 'Double', value: 1.2, unit: 'mm/s' },
            ],
          },
          'extruder',
        );
      };
      const rebirths: string[] = [];
      edge.on('message', (topic, payload) => {
        const p = decodeSparkplugPayload(payload);
        if (p.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) {
          rebirths.push(topic);
          void births();
        }
      });
      await subscribe(edge, 'spBv1.0/plant1/NCMD/line1');
      try {
        await births();
        await waitFor(() => out.length >= 2);
        await send('DDATA', { timestampMs: Date.now(), metrics: [{ alias: 17, type: 'Double', value: 1.5 }] }, 'extruder');
        await waitFor(() => out.length >= 3);
        expect(out[2].topic).to.equal(`${ASSET}/vibration`);
        expect(out[2].payload).to.include({ value: 1.5, unit: 'mm/s', source: 'sparkplug', quality: 'good' });
        seq = (seq + 5) % 256; // lose five messages
        await send('DDATA', { timestampMs: Date.now(), metrics: [{ alias: 1, type: 'Double', value: 202 }] }, 'extruder');
        await waitFor(() => rebirths.length >= 1 && out.length >= 6, 10_000, 20, 'rebirth and fresh births');
        expect(rebirths[0]).to.equal('spBv1.0/plant1/NCMD/line1');
        expect(errs.map((e) => e.error.message).join('\n')).to.match(/sequence gap/);
        const n = out.length;
        await send('DDATA', { timestampMs: Date.now(), metrics: [{ alias: 1, type: 'Double', value: 203 }] }, 'extruder');
        await waitFor(() => out.length > n);
        expect(out[n].payload).to.include({ tag: 'zone1_temp', value: 203, quality: 'good' });
      } finally {
        await endClient(edge);
      }
    });

    it('round-trips readings out through twin-mqtt-out and back in through twin-mqtt-in', async function () {
      const outNodeInst = helper.getNode('out') as any;
      for (let i = 0; i < 50; i++) {
        outNodeInst.receive({ payload: { asset: ASSET, tag: 'part_count', value: i, tsMs: Date.now(), quality: 'good', source: 'sim' } });
      }
      await waitFor(() => out.length >= 50);
      expect(out.map((m) => m.payload.value)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
      expect(out[0].topic).to.equal(`${ASSET}/part_count`);
      expect(errs).to.deep.equal([]);
    });

    if (name !== 'aedes') {
      it('drops a repeat of an outbox-stamped message (MQTT v5 user properties)', async function () {
        const props = { userProperties: { 'twinloop-src': 'test-src', 'twinloop-seq': '7' } };
        const body = JSON.stringify({ value: 7, tsMs: Date.now() });
        await publish(pub, `${PREFIX}/extruder/zone2_temp`, body, { qos: 1, properties: props });
        await publish(pub, `${PREFIX}/extruder/zone2_temp`, body, { qos: 1, properties: props });
        await publish(pub, `${PREFIX}/extruder/zone2_temp`, JSON.stringify({ value: 8, tsMs: Date.now() }), {
          qos: 1,
          properties: { userProperties: { 'twinloop-src': 'test-src', 'twinloop-seq': '8' } },
        });
        await waitFor(() => out.length >= 2);
        await new Promise((r) => setTimeout(r, 200));
        expect(out.map((m) => m.payload.value)).to.deep.equal([7, 8]);
      });

      it('still drops such repeats after the flow is stopped and started again', async function () {
        const stamp = (seq: number) => ({
          qos: 1 as const,
          properties: { userProperties: { 'twinloop-src': 'restart-src', 'twinloop-seq': String(seq) } },
        });
        await publish(pub, `${PREFIX}/extruder/zone3_temp`, JSON.stringify({ value: 1, tsMs: Date.now() }), stamp(1));
        await waitFor(() => out.length >= 1);
        await helper.unload();
        await loadFlow();
        await publish(pub, `${PREFIX}/extruder/zone3_temp`, JSON.stringify({ value: 1, tsMs: Date.now() }), stamp(1));
        await publish(pub, `${PREFIX}/extruder/zone3_temp`, JSON.stringify({ value: 2, tsMs: Date.now() }), stamp(2));
        await waitFor(() => out.some((m) => m.payload.value === 2));
        await new Promise((r) => setTimeout(r, 200));
        expect(out.filter((m) => m.payload.tag === 'zone3_temp').map((m) => m.payload.value)).to.deep.equal([2]);
      });
    }
  });
}

suite('aedes', async () => {
  const a: AedesBroker = await startAedes();
  return { url: a.url, protocol: 4, stop: () => a.stop() };
});

suite('Mosquitto', async () => {
  const bin = ensureDebianBinary('mosquitto', 'mosquitto');
  if (!bin) return undefined;
  const m: Mosquitto = await startMosquitto(bin);
  return { url: m.url, protocol: 5, stop: () => m.stop() };
});
