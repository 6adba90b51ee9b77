/**
 * Fault tests against a real Debian Mosquitto with persistence:
 * - Mosquitto stopped (SIGTERM) and restarted while twin-mqtt-out publishes at QoS 1: every
 *   message arrives, in order, none twice (after the (src, seq) dedupe), at twin-mqtt-in and at a
 *   raw mqtt.js subscriber with a persistent session.
 * - The Node-RED runtime stopped while the outbox holds messages, then started again: none lost.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { rawClient, subscribe, endClient, tempDir } from '../support/mqtt-helpers.js';
import { outboxStamp } from '../../runtime/ingest/mqtt-dedupe.js';

const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const brokerNode = nodeModule('twin-mqtt-broker');
const inNode = nodeModule('twin-mqtt-in');
const outNode = nodeModule('twin-mqtt-out');

/** A raw persistent-session v5 subscriber that records values and counts raw repeats. */
class RawSubscriber {
  values: number[] = [];
  unique: number[] = [];
  rawDuplicates = 0;
  private seen = new Set<string>();
  constructor(readonly client: MqttClient) {
    client.on('message', (_topic, payload, packet) => {
      const v = JSON.parse(payload.toString()).value as number;
      this.values.push(v);
      const s = outboxStamp(packet.properties?.userProperties as Record<string, string> | undefined);
      const key = s ? `${s.src}/${s.seq}` : `nostamp/${v}`;
      if (this.seen.has(key)) this.rawDuplicates++;
      else {
        this.seen.add(key);
        this.unique.push(v);
      }
    });
  }
}

describe('MQTT fault tolerance (Mosquitto)', function () {
  this.timeout(120_000);
  let bin: string | null;
  let mosq: Mosquitto | undefined;
  let raw: RawSubscriber | undefined;

  before(function () {
    bin = ensureDebianBinary('mosquitto', 'mosquitto');
    if (!bin) this.skip();
  });
  beforeEach(async function () {
    mosq = await startMosquitto(bin!);
    helper.settings({ userDir: tempDir('nr-mqtt-fault-') });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  afterEach(async function () {
    await endClient(raw?.client);
    raw = undefined;
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await mosq?.stop();
  });

  async function rawSub(filter: string, clientId: string): Promise<RawSubscriber> {
    const c = await rawClient(mosq!.url, {
      protocolVersion: 5,
      clean: false,
      clientId,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 100,
    });
    const r = new RawSubscriber(c);
    await subscribe(c, filter, 1);
    return r;
  }

  const reading = (i: number) => ({ asset: 'line1/extruder', tag: 'count', value: i, tsMs: Date.now(), quality: 'good', source: 'sim' });

  it('Mosquitto stopped and restarted while twin-mqtt-out publishes 500 messages at QoS 1: all arrive, in order, none twice', async function () {
    const N = 500;
    raw = await rawSub('fault/#', 'raw-fault-sub');
    const flow = [
      { id: 'b1', type: 'twin-mqtt-broker', url: mosq!.url, protocolVersion: 5, reconnectPeriodMs: 100, maxReconnectPeriodMs: 400 },
      { id: 'out', type: 'twin-mqtt-out', broker: 'b1', prefix: 'fault', qos: 1 },
      {
        id: 'in',
        type: 'twin-mqtt-in',
        broker: 'b1',
        mode: 'json',
        pattern: 'fault/{asset+}/twin/reading/{tag}',
        qos: 1,
        wires: [['got']],
      },
      { id: 'got', type: 'helper' },
      { id: 'done', type: 'complete', scope: ['out'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
      { id: 'c', type: 'catch', scope: null, uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
    ];
    await helper.load([brokerNode, inNode, outNode, completeNode, catchNode] as never, flow as never);
    const got: number[] = [];
    const errs: unknown[] = [];
    let completed = 0;
    (helper.getNode('got') as any).on('input', (m: any) => got.push(m.payload.value));
    (helper.getNode('errs') as any).on('input', (m: any) => errs.push(m.error));
    (helper.getNode('completed') as any).on('input', () => completed++);
    const b = helper.getNode('b1') as any;
    const out = helper.getNode('out') as any;
    await waitFor(() => b.link?.connected, 10_000, 20, 'link connected');
    expect(b.link.protocolVersion).to.equal(5);

    let stopping: Promise<void> | undefined;
    let sawDisconnected = false;
    b.link.on('state', (s: string) => {
      if (s !== 'connected') sawDisconnected = true;
    });
    for (let i = 0; i < N; i++) {
      out.receive({ payload: reading(i) });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
      if (i === 150) stopping = mosq!.stop(); // SIGTERM while messages are in flight
      if (i === 350) {
        await stopping;
        await waitFor(() => !b.link.connected, 10_000, 10, 'link down while Mosquitto is stopped');
        await mosq!.start();
      }
    }
    await waitFor(() => completed === N, 30_000, 20, 'every message safely queued');
    await waitFor(() => b.queueSize() === 0, 60_000, 50, 'outbox drained');
    await waitFor(
      () => got.length >= N && raw!.unique.length >= N,
      60_000,
      50,
      `all ${N} at both subscribers (in: ${got.length}, raw: ${raw!.unique.length})`,
    );
    // Let any late redelivery arrive before judging "none twice".
    await new Promise((r) => setTimeout(r, 500));
    const expected = Array.from({ length: N }, (_, i) => i);
    expect(sawDisconnected).to.equal(true);
    expect(got, 'twin-mqtt-in: every message, in order, none twice').to.deep.equal(expected);
    expect(raw.unique, 'raw subscriber after (src, seq) dedupe').to.deep.equal(expected);
    expect(errs).to.deep.equal([]);
    console.log(
      `      raw subscriber: ${raw.values.length} deliveries for ${N} messages, ${raw.rawDuplicates} raw duplicates (dropped by dedupe)`,
    );
  });

  it('Node-RED stopped while the outbox holds messages and started again: none lost, in order', async function () {
    const N = 100;
    raw = await rawSub('nrr/#', 'raw-nrr-sub');
    await mosq!.stop();
    const flow = [
      { id: 'b1', type: 'twin-mqtt-broker', url: mosq!.url, protocolVersion: 5, reconnectPeriodMs: 100, maxReconnectPeriodMs: 400 },
      { id: 'out', type: 'twin-mqtt-out', broker: 'b1', prefix: 'nrr', qos: 1 },
      { id: 'in', type: 'twin-mqtt-in', broker: 'b1', mode: 'json', pattern: 'nrr/{asset+}/twin/reading/{tag}', qos: 1, wires: [['got']] },
      { id: 'got', type: 'helper' },
      { id: 'done', type: 'complete', scope: ['out'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ];
    await helper.load([brokerNode, inNode, outNode, completeNode] as never, flow as never);
    let completed = 0;
    (helper.getNode('completed') as any).on('input', () => completed++);
    const out = helper.getNode('out') as any;
    for (let i = 0; i < N; i++) out.receive({ payload: reading(i) });
    await waitFor(() => completed === N, 30_000, 20, 'all queued on disk');
    expect((helper.getNode('b1') as any).queueSize()).to.equal(N);
    await helper.unload(); // the Node-RED flows stop with N messages in the outbox

    await mosq!.start();
    await helper.load([brokerNode, inNode, outNode, completeNode] as never, flow as never);
    const got: number[] = [];
    (helper.getNode('got') as any).on('input', (m: any) => got.push(m.payload.value));
    const b = helper.getNode('b1') as any;
    await waitFor(() => b.queueSize() === 0, 30_000, 50, 'outbox drained after restart');
    await waitFor(() => raw!.unique.length >= N, 30_000, 50, 'raw subscriber got all');
    await new Promise((r) => setTimeout(r, 300));
    const expected = Array.from({ length: N }, (_, i) => i);
    expect(raw.unique).to.deep.equal(expected);
    expect(raw.rawDuplicates).to.equal(0);
    expect(got, 'twin-mqtt-in in the restarted flow').to.deep.equal(expected);
  });
});

describe('MQTT publish refused by the broker (Mosquitto ACL)', function () {
  this.timeout(60_000);
  let mosq: Mosquitto | undefined;
  let acl: string;

  before(async function () {
    const bin = ensureDebianBinary('mosquitto', 'mosquitto');
    if (!bin) return this.skip();
    const dir = tempDir('mosq-acl-');
    acl = `${dir}/acl`;
    writeFileSync(acl, 'topic read #\ntopic write acl/ok/#\n');
    mosq = await startMosquitto(bin, `acl_file ${acl}`);
    helper.settings({ userDir: tempDir('nr-mqtt-acl-') });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  after(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await mosq?.stop();
  });

  // With more than one message in flight a later message can overtake a refused one (it was sent
  // before the refusal came back); strict order under refusal needs inflightWindow = 1.
  it('keeps a refused message first in line (never dropped), retries with back-off, delivers once allowed', async function () {
    const sub = await rawClient(mosq!.url, { protocolVersion: 5 });
    const got: string[] = [];
    sub.on('message', (topic) => got.push(topic));
    await subscribe(sub, 'acl/#');
    try {
      await helper.load(
        [brokerNode, outNode, catchNode] as never,
        [
          {
            id: 'b1',
            type: 'twin-mqtt-broker',
            url: mosq!.url,
            protocolVersion: 5,
            reconnectPeriodMs: 50,
            maxReconnectPeriodMs: 200,
            inflightWindow: 1,
          },
          { id: 'denied', type: 'twin-mqtt-out', broker: 'b1', topicMode: 'fixed', topic: 'acl/denied/x', qos: 1 },
          { id: 'ok', type: 'twin-mqtt-out', broker: 'b1', topicMode: 'fixed', topic: 'acl/ok/x', qos: 1 },
        ] as never,
      );
      const b = helper.getNode('b1') as any;
      await waitFor(() => b.link?.connected);
      const errors: string[] = [];
      b.link.on('linkError', (e: Error) => errors.push(e.message));
      (helper.getNode('denied') as any).receive({ payload: { asset: 'a', kind: 'k', n: 1 } });
      (helper.getNode('ok') as any).receive({ payload: { asset: 'a', kind: 'k', n: 2 } });
      await waitFor(() => errors.length >= 2, 10_000, 20, 'refusal reported, then retried');
      expect(errors[0]).to.match(/not authori[sz]ed/i);
      expect(b.queueSize(), 'nothing dropped: both still queued, in order').to.equal(2);
      expect(got).to.deep.equal([]);
      writeFileSync(acl, 'topic readwrite #\n');
      mosq!.reload();
      await waitFor(() => b.queueSize() === 0, 15_000, 20, 'delivered after the ACL allows it');
      await waitFor(() => got.length >= 2);
      expect(got).to.deep.equal(['acl/denied/x', 'acl/ok/x']);
    } finally {
      await endClient(sub);
    }
  });
});
