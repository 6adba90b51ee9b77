import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { rawClient, subscribe, endClient, tempDir } from '../support/mqtt-helpers.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const brokerNode = nodeModule('twin-mqtt-broker');
const outNode = nodeModule('twin-mqtt-out');

type Got = { topic: string; text: string; retain: boolean; qos: number };

describe('twin-mqtt-out (node, aedes)', function () {
  let aedes: AedesBroker;
  let sub: MqttClient;
  let got: Got[];
  let userDir: string;

  before(async function () {
    aedes = await startAedes();
  });
  after(async function () {
    await aedes.stop();
  });
  beforeEach(async function () {
    got = [];
    userDir = tempDir('nr-mqtt-out-');
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(() => r()));
    sub = await rawClient(aedes.url, { protocolVersion: 4 });
    sub.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString(), retain: packet.retain, qos: packet.qos }));
    await subscribe(sub, '#');
  });
  afterEach(async function () {
    await aedes.start(); // a failed fault test may leave it stopped
    await endClient(sub);
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const brokerCfg = (over: Record<string, unknown> = {}) => ({
    id: 'b1',
    type: 'twin-mqtt-broker',
    url: aedes.url,
    protocolVersion: 4,
    reconnectPeriodMs: 50,
    maxReconnectPeriodMs: 200,
    ...over,
  });

  async function load(outCfg: Record<string, unknown>, brokerOver: Record<string, unknown> = {}) {
    const flow = [
      brokerCfg(brokerOver),
      { id: 'out', type: 'twin-mqtt-out', broker: 'b1', ...outCfg },
      { id: 'c', type: 'catch', scope: ['out'], uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
      { id: 'done', type: 'complete', scope: ['out'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ];
    await helper.load([brokerNode, outNode, catchNode, completeNode] as never, flow);
    const errs: any[] = [];
    const completed: any[] = [];
    (helper.getNode('errs') as any).on('input', (m: any) => errs.push(m));
    (helper.getNode('completed') as any).on('input', (m: any) => completed.push(m));
    return { errs, completed, node: helper.getNode('out') as any, broker: helper.getNode('b1') as any };
  }

  const reading = (i: number) => ({
    asset: 'plant1/line1/extruder',
    tag: 'zone1_temp',
    value: 200 + i,
    unit: 'degC',
    tsMs: 1_700_000_000_000 + i,
    quality: 'good',
    source: 'mqtt',
  });

  it('publishes a Reading to <prefix>/<asset>/twin/reading/<tag> as JSON, in order', async function () {
    const { completed, errs, node } = await load({ prefix: 'uns', qos: 1 });
    for (let i = 0; i < 20; i++) node.receive({ payload: reading(i) });
    await waitFor(() => got.length >= 20);
    expect(got.map((g) => g.topic)).to.deep.equal(Array(20).fill('uns/plant1/line1/extruder/twin/reading/zone1_temp'));
    expect(got.map((g) => JSON.parse(g.text))).to.deep.equal(Array.from({ length: 20 }, (_, i) => reading(i)));
    await waitFor(() => completed.length >= 20);
    expect(errs).to.deep.equal([]);
  });

  it('takes the kind from config, then msg.kind, then the record; or uses a fixed topic; retain is honoured', async function () {
    const a = await load({ prefix: '', kind: 'estimate' });
    a.node.receive({ payload: { asset: 'x/y', kind: 'ignored', mean: 1 } });
    await waitFor(() => got.length >= 1);
    expect(got[0].topic).to.equal('x/y/twin/estimate');
    await helper.unload();

    got.length = 0;
    const b = await load({ prefix: 'p' });
    b.node.receive({ payload: { asset: 'x', mean: 1 }, kind: 'drift/cusum' });
    b.node.receive({ payload: { asset: 'x', kind: 'rul' } });
    await waitFor(() => got.length >= 2);
    expect(got.map((g) => g.topic)).to.deep.equal(['p/x/twin/drift/cusum', 'p/x/twin/rul']);
    await helper.unload();

    got.length = 0;
    const c = await load({ topicMode: 'fixed', topic: 'fixed/here', retain: true, qos: 0 });
    c.node.receive({ payload: { asset: 'x', a: 1 } });
    await waitFor(() => got.length >= 1);
    expect(got[0]).to.include({ topic: 'fixed/here', qos: 0 });
    // retained: a subscriber that comes later still gets it
    const late = await rawClient(aedes.url, { protocolVersion: 4 });
    const lateGot: Got[] = [];
    late.on('message', (topic, payload, packet) =>
      lateGot.push({ topic, text: payload.toString(), retain: packet.retain, qos: packet.qos }),
    );
    await subscribe(late, 'fixed/here');
    await waitFor(() => lateGot.length >= 1);
    expect(lateGot[0]).to.include({ topic: 'fixed/here', retain: true });
    expect(JSON.parse(lateGot[0].text)).to.deep.equal({ asset: 'x', a: 1 });
    await new Promise<void>((r) => late.publish('fixed/here', '', { retain: true, qos: 1 }, () => r())); // clear it
    await endClient(late);
  });

  it('refuses bad input through done(err) with BAD_PAYLOAD and keeps working', async function () {
    const { errs, node } = await load({ prefix: 'uns' });
    const circular: any = { asset: 'a', kind: 'k' };
    circular.self = circular;
    const bad: Array<[string, unknown, unknown?]> = [
      ['no payload', undefined],
      ['a string payload', 'hello'],
      ['an array payload', [1, 2]],
      ['no asset', { tag: 't', value: 1 }],
      ['an empty asset', { asset: '', tag: 't', value: 1 }],
      ['a wildcard in the asset', { asset: 'a/+/b', tag: 't', value: 1 }],
      ['no kind to infer', { asset: 'a', mean: 3 }],
      ['a kind with a wildcard', { asset: 'a', mean: 3 }, 'x/#'],
      ['a circular record', circular],
    ];
    for (let i = 0; i < bad.length; i++) {
      const [what, payload, kind] = bad[i];
      const e0 = errs.length;
      const g0 = got.length;
      node.receive({ payload, ...(kind ? { kind } : {}) });
      node.receive({ payload: reading(i) });
      await waitFor(() => errs.length > e0 && got.length > g0, 10_000, 10, what);
      expect(errs[e0].error.code, what).to.equal('BAD_PAYLOAD');
      expect(JSON.parse(got[g0].text).value, `${what}: next good message`).to.equal(200 + i);
    }
  });

  it('queues on disk while the broker is away, done() after fsync, delivers in order when it returns', async function () {
    const { completed, node, broker } = await load({ prefix: 'q' });
    await waitFor(() => broker.link?.connected);
    const statuses: any[] = [];
    const orig = node.status.bind(node);
    node.status = (s: any) => {
      statuses.push(s);
      return orig(s);
    };
    await endClient(sub);
    await aedes.stop();
    await waitFor(() => !broker.link.connected);
    for (let i = 0; i < 30; i++) node.receive({ payload: reading(i) });
    await waitFor(() => completed.length >= 30);
    // durable before done(): the records are in the outbox segment on disk
    const dir = join(userDir, 'twinloop', 'outbox', 'b1');
    const seg = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    const lines = seg.flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    expect(lines.map((l) => JSON.parse(l.r.payload).value)).to.deep.equal(Array.from({ length: 30 }, (_, i) => 200 + i));
    expect(
      statuses.some((s) => s.fill === 'yellow' && /queued/.test(s.text)),
      JSON.stringify(statuses.slice(-3)),
    ).to.equal(true);

    await aedes.start();
    // Watch at the broker itself (aedes keeps no sessions across its restart, so a subscriber
    // could miss the first deliveries); attached before any client can have reconnected.
    const seen: number[] = [];
    aedes.broker.on('publish', (packet: any, client: any) => {
      if (client && packet.topic.startsWith('q/')) seen.push(JSON.parse(packet.payload.toString()).value);
    });
    await waitFor(() => broker.queueSize() === 0, 15_000, 20, 'outbox drained');
    expect(seen).to.deep.equal(Array.from({ length: 30 }, (_, i) => 200 + i));
    expect(broker.link.delivered).to.equal(30);
    expect(existsSync(join(dir, 'acked'))).to.equal(true);
    expect(readFileSync(join(dir, 'acked'), 'utf8').trim()).to.equal('30');
  });

  it('refuses with a QUEUE error when the outbox is full, keeping what it holds', async function () {
    const { errs, completed, node, broker } = await load({ prefix: 'f' }, { outboxMaxEntries: 3 });
    await waitFor(() => broker.link?.connected);
    await endClient(sub);
    await aedes.stop();
    await waitFor(() => !broker.link.connected);
    for (let i = 0; i < 5; i++) node.receive({ payload: reading(i) });
    await waitFor(() => completed.length + errs.length >= 5);
    expect(completed).to.have.length(3);
    expect(errs.map((e) => e.error.code)).to.deep.equal(['QUEUE', 'QUEUE']);
    expect(errs[0].error.message).to.match(/full/);
    expect(broker.queueSize()).to.equal(3);
    await aedes.start();
    sub = await rawClient(aedes.url, { protocolVersion: 4 });
    await waitFor(() => broker.queueSize() === 0, 15_000);
  });

  describe('config validation', function () {
    for (const [what, cfg, reason] of [
      ['a fixed mode without topic', { topicMode: 'fixed', topic: '' }, /fixed topic is required/],
      ['a prefix with a wildcard', { prefix: 'a/#' }, /wildcard/],
      ['an unknown topic mode', { topicMode: 'nope' }, /topic mode/],
      ['qos 5', { qos: 5 }, /qos must be/],
      ['a kind with an empty level', { kind: 'a//b' }, /empty topic level/],
    ] as Array<[string, Record<string, unknown>, RegExp]>) {
      it(`refuses ${what}: error logged, input answered with BAD_CONFIG, nothing published`, async function () {
        const { errs, node } = await load(cfg);
        const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e) => e.level === 20 && e.id === 'out');
        expect(logged.map((e) => e.msg).join('\n')).to.match(reason);
        node.receive({ payload: reading(1) });
        await waitFor(() => errs.length >= 1);
        expect(errs[0].error.code).to.equal('BAD_CONFIG');
        await new Promise((r) => setTimeout(r, 100));
        expect(got).to.deep.equal([]);
      });
    }

    it('refuses a missing broker', async function () {
      await helper.load([brokerNode, outNode] as never, [{ id: 'out', type: 'twin-mqtt-out', broker: 'none' }] as never);
      const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e) => e.level === 20 && e.id === 'out');
      expect(logged.map((e) => e.msg).join('\n')).to.match(/no twin-mqtt-broker selected/);
    });
  });
});
