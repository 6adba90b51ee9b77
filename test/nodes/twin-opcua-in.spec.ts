// twin-opcua-in in a real Node-RED runtime against a real node-opcua server: readings, status, one-shot
// read, config validation and bad inputs.
import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil as waitFor, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { OpcuaTestServer } from '../support/opcua-server.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const endpointNode = nodeModule('twin-opcua-endpoint');
const inNode = nodeModule('twin-opcua-in');

type Msg = { topic: string; payload: Reading; nodeId?: string; corr?: string; error?: { message: string; code?: string } };
const ASSET = 'plant/line1/dev';
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

describe('twin-opcua-in (node, real OPC UA server)', function () {
  this.timeout(60_000);
  let server: OpcuaTestServer;
  let rec: Recorder;

  before(async function () {
    server = await OpcuaTestServer.start();
  });
  after(async function () {
    await server?.stop();
  });
  beforeEach(function (done) {
    helper.settings({ userDir: tempUserDir('nr-opcua-in-') });
    rec = recordNodeCalls();
    helper.startServer(done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const item = (name: string, extra: Record<string, unknown> = {}) => ({
    nodeId: `ns=1;s=${name}`,
    asset: ASSET,
    tag: name.toLowerCase(),
    ...extra,
  });
  const endpoint = () => ({
    id: 'ep',
    type: 'twin-opcua-endpoint',
    endpointUrl: server.endpointUrl,
    securityMode: 'None',
    securityPolicy: 'None',
    authMode: 'anonymous',
  });

  async function load(inCfg: Record<string, unknown>, more: object[] = []): Promise<{ out: Msg[]; errs: Msg[] }> {
    const flow = [
      endpoint(),
      {
        id: 'in',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        samplingIntervalMs: 0,
        deadband: 0,
        queueSize: 10,
        maxFutureMs: 5000,
        wires: [['out']],
        ...inCfg,
      },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['in'], uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
      ...more,
    ];
    await helper.load([endpointNode, inNode, catchNode] as never, flow as never);
    const out: Msg[] = [];
    const errs: Msg[] = [];
    node('out').on('input', (m: Msg) => out.push(m));
    node('errs').on('input', (m: Msg) => errs.push(m));
    return { out, errs };
  }

  it('emits Readings with topic asset/tag, the source timestamp kept and the status mapped', async function () {
    const { out } = await load({ items: [item('Temperature', { unit: 'degC' }), item('Running')] });
    await waitFor(() => rec.lastStatus('in')?.fill === 'green', 20_000, 25, 'green status');
    expect(rec.lastStatus('in')).to.include({ fill: 'green', shape: 'dot' });
    expect(rec.lastStatus('in')?.text).to.match(/^2 /); // "2 items" (the test runtime does not translate)
    const ts = new Date(Date.now() - 5000);
    server.setValue('Temperature', 55.5, { sourceTimestamp: ts });
    const m = await waitFor(() => out.find((x) => x.payload.value === 55.5), 10_000, 25, 'reading 55.5');
    expect(m.topic).to.equal(`${ASSET}/temperature`);
    expect(m.nodeId).to.equal('ns=1;s=Temperature');
    // origin: the endpoint (config node id) and item it was read from, one frozen object per item
    expect(m.payload).to.deep.equal({
      asset: ASSET,
      tag: 'temperature',
      unit: 'degC',
      value: 55.5,
      tsMs: ts.getTime(),
      quality: 'good',
      source: 'opcua',
      origin: { connection: 'ep', item: 'ns=1;s=Temperature' },
    });
    expect(out.find((x) => x.topic === `${ASSET}/running`)?.payload.value).to.be.oneOf([0, 1]);

    server.setValue('Temperature', 56, { status: 'BadSensorFailure' });
    const bad = await waitFor(() => out.find((x) => x.payload.quality === 'bad'), 10_000, 25, 'bad reading');
    expect(bad.payload.qualityReason).to.equal('BadSensorFailure');
    server.setValue('Temperature', 57);
  });

  it('reports a constant value with each fresh source timestamp only when asked to (fresh times)', async function () {
    const counts: Record<string, number> = {};
    for (const reportTimestamps of [false, true]) {
      const { out } = await load({ items: [item('Temperature')], samplingIntervalMs: 50, reportTimestamps });
      await waitFor(() => out.length >= 1, 10_000, 25, 'the first reading');
      const t0 = Date.now();
      // The server rescans a constant value: same value, new source timestamp.
      for (let i = 1; i <= 5; i++) {
        server.setValue('Temperature', 42, { sourceTimestamp: new Date(t0 + i * 1000) });
        await new Promise((r) => setTimeout(r, 150));
      }
      await new Promise((r) => setTimeout(r, 300));
      counts[String(reportTimestamps)] = out.filter((m) => m.payload.value === 42).length;
      if (reportTimestamps) {
        const stamps = out.filter((m) => m.payload.value === 42).map((m) => m.payload.tsMs);
        expect(Math.max(...stamps)).to.equal(t0 + 5000);
      }
      await helper.unload();
    }
    // value changes only: the first 42 (one reading); with fresh times: each rescan
    expect(counts.false).to.equal(1);
    expect(counts.true).to.be.at.least(5);
  });

  it('marks a reading with a source timestamp too far ahead as bad, unless the check is disabled', async function () {
    const { out } = await load({ items: [item('Pressure')], maxFutureMs: 5000 });
    await waitFor(() => out.length > 0, 20_000, 25, 'first reading');
    server.setValue('Pressure', 9.75, { sourceTimestamp: new Date(Date.now() + 60_000) });
    const m = await waitFor(() => out.find((x) => x.payload.value === 9.75), 10_000, 25, 'future reading');
    expect(m.payload).to.include({ quality: 'bad', qualityReason: 'future timestamp' });
    await helper.unload();

    const again = await load({ items: [item('Pressure')], maxFutureMs: 0 });
    const m2 = await waitFor(() => again.out.find((x) => x.payload.value === 9.75), 20_000, 25, 'reading with check off');
    expect(m2.payload.quality).to.equal('good');
  });

  it('reports a non-numeric value through node.error (Catch) and keeps emitting the other items', async function () {
    const { out, errs } = await load({ items: [item('Label'), item('Counter')] });
    const e = await waitFor(() => errs[0], 20_000, 25, 'caught error');
    expect(e.topic).to.equal(`${ASSET}/label`);
    expect(e.error?.message).to.match(/not numeric/);
    expect(rec.statuses('in').some((s) => s.fill === 'red')).to.equal(true);
    server.setValue('Counter', 123);
    await waitFor(() => out.some((x) => x.payload.tag === 'counter' && x.payload.value === 123), 10_000, 25, 'counter 123');
  });

  it('reads every item once on an input message, keeping the message properties', async function () {
    const { out } = await load({ items: [item('Temperature'), item('Counter')], samplingIntervalMs: 60_000 });
    await waitFor(() => rec.lastStatus('in')?.fill === 'green', 20_000, 25, 'connected');
    server.setValue('Counter', 4242);
    const before = out.length;
    node('in').receive({ topic: 'read', corr: 'abc' } as never);
    const got = await waitFor(
      () => {
        const fresh = out.slice(before).filter((x) => x.corr === 'abc');
        return fresh.length === 2 ? fresh : undefined;
      },
      10_000,
      25,
      'two read results',
    );
    expect(got.map((m) => m.topic).sort()).to.deep.equal([`${ASSET}/counter`, `${ASSET}/temperature`]);
    expect(got.find((m) => m.payload.tag === 'counter')!.payload.value).to.equal(4242);
    // no topic reads too
    node('in').receive({ payload: 1, corr: 'def' } as never);
    await waitFor(() => out.filter((x) => x.corr === 'def').length === 2, 10_000, 25, 'read without topic');
  });

  it('answers an unknown command with done(err) and keeps working', async function () {
    const { out, errs } = await load({ items: [item('Temperature')] });
    await waitFor(() => rec.lastStatus('in')?.fill === 'green', 20_000, 25, 'connected');
    node('in').receive({ topic: 'write', payload: 3 } as never);
    const e = await waitFor(() => errs[0], 10_000, 25, 'caught error');
    expect(e.error?.message).to.match(/(unknown command|unknownCommand) "write"/);
    expect(rec.lastStatus('in')?.fill).to.equal('red');
    server.setValue('Temperature', 61.5);
    await waitFor(() => out.some((x) => x.payload.value === 61.5), 10_000, 25, 'still emitting');
  });

  it('answers a read while the server is unreachable with done(err)', async function () {
    const flow = [
      {
        id: 'ep',
        type: 'twin-opcua-endpoint',
        endpointUrl: 'opc.tcp://127.0.0.1:1/none',
        securityMode: 'None',
        securityPolicy: 'None',
        authMode: 'anonymous',
      },
      {
        id: 'in',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: [item('Temperature')],
        samplingIntervalMs: 0,
        queueSize: 1,
        deadband: 0,
        wires: [[]],
      },
      { id: 'c', type: 'catch', scope: ['in'], uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
    ];
    await helper.load([endpointNode, inNode, catchNode] as never, flow as never);
    const errs: Msg[] = [];
    node('errs').on('input', (m: Msg) => errs.push(m));
    const conn = (helper.getNode('ep') as unknown as { connection(): { state: { state: string } } }).connection();
    await waitFor(() => conn.state.state === 'reconnecting', 15_000, 25, 'reconnecting');
    await waitFor(() => rec.lastStatus('in')?.fill === 'yellow', 5_000, 25, 'yellow status');
    node('in').receive({ topic: 'read' } as never);
    const e = await waitFor(() => errs[0], 15_000, 25, 'caught error');
    expect(e.error?.message).to.match(/not connected/);
  });

  it('shares one session between two twin-opcua-in nodes on the same endpoint', async function () {
    const { out } = await load({ items: [item('Temperature')] }, [
      {
        id: 'in2',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: [item('Pressure')],
        samplingIntervalMs: 0,
        queueSize: 1,
        deadband: 0,
        wires: [['out']],
      },
    ]);
    await waitFor(
      () => out.some((m) => m.payload.tag === 'temperature') && out.some((m) => m.payload.tag === 'pressure'),
      20_000,
      25,
      'both nodes',
    );
    await waitFor(() => server.monitoredItemCount() === 2, 10_000, 25, 'two items');
    expect(server.sessionCount()).to.equal(1);
  });

  it('leaves no monitored item behind when a changed node is redeployed (same session)', async function () {
    const { out } = await load({ items: [item('Temperature'), item('Pressure')] });
    await waitFor(() => server.monitoredItemCount() === 2, 20_000, 25, 'two items');
    const sessionsOpened = server.server.engine.cumulatedSessionCount;
    const flow = [
      endpoint(),
      {
        id: 'in',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: [item('Counter')],
        samplingIntervalMs: 0,
        deadband: 0,
        queueSize: 10,
        maxFutureMs: 5000,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ];
    await (helper as unknown as { setFlows(f: object[], type: string): Promise<void> }).setFlows(flow, 'nodes');
    node('out').on('input', (m: never) => out.push(m));
    await waitFor(
      () => {
        const c = server.monitoredItemsByNodeId();
        return c.size === 1 && c.get('ns=1;s=Counter') === 1;
      },
      20_000,
      25,
      'only the new item',
    );
    expect(server.sessionCount()).to.equal(1);
    expect(server.server.engine.cumulatedSessionCount).to.equal(sessionsOpened);
    server.setValue('Counter', 777);
    await waitFor(() => out.some((m) => m.payload.tag === 'counter' && m.payload.value === 777), 10_000, 25, 'new item live');
  });

  describe('config validation', function () {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['no items', { items: [] }, /at least one item/],
      ['items that are not a list', { items: 'ns=1;s=Temperature' }, /at least one item/],
      ['an invalid node id', { items: [{ nodeId: 'ns=1;x=??', asset: ASSET, tag: 't' }] }, /not a valid OPC UA node id/],
      ['a missing node id', { items: [{ asset: ASSET, tag: 't' }] }, /nodeId is required/],
      ['a missing asset', { items: [{ nodeId: 'ns=1;s=Temperature', tag: 't' }] }, /asset is required/],
      ['a missing tag', { items: [{ nodeId: 'ns=1;s=Temperature', asset: ASSET }] }, /tag is required/],
      ['a node id listed twice', { items: [item('Temperature'), item('Temperature', { tag: 'other' })] }, /listed twice/],
      ['a negative sampling interval', { items: [item('Temperature')], samplingIntervalMs: -1 }, /sampling interval/],
      ['a non-numeric sampling interval', { items: [item('Temperature')], samplingIntervalMs: 'fast' }, /sampling interval/],
      ['a negative deadband', { items: [item('Temperature')], deadband: -0.5 }, /deadband/],
      ['a queue size of 0', { items: [item('Temperature')], queueSize: 0 }, /queue size/],
      ['a fractional queue size', { items: [item('Temperature')], queueSize: 2.5 }, /queue size/],
      ['a negative max future', { items: [item('Temperature')], maxFutureMs: -5 }, /max future/],
      ['no endpoint', { items: [item('Temperature')], endpoint: 'missing' }, /noEndpoint|no OPC UA endpoint/],
    ];
    for (const [what, cfg, re] of cases) {
      it(`reports ${what} with node.error and a red status, and answers inputs with done(err)`, async function () {
        const { out, errs } = await load(cfg);
        expect(
          rec
            .errors('in')
            .map((e) => e.message)
            .join('\n'),
        ).to.match(re);
        expect(rec.lastStatus('in')).to.include({ fill: 'red' });
        node('in').receive({ topic: 'read' } as never);
        const e = await waitFor(() => errs[0], 5000, 25, 'caught error');
        expect(e.error?.message).to.match(re);
        expect(out).to.have.length(0);
        expect(server.monitoredItemCount()).to.equal(0);
      });
    }

    it('reports an endpoint with an invalid config', async function () {
      const flow = [
        {
          id: 'ep',
          type: 'twin-opcua-endpoint',
          endpointUrl: 'opc.tcp://h:1/x',
          securityMode: 'Sign',
          securityPolicy: 'None',
          authMode: 'anonymous',
        },
        { id: 'in', type: 'twin-opcua-in', endpoint: 'ep', items: [item('Temperature')], wires: [[]] },
      ];
      await helper.load([endpointNode, inNode] as never, flow as never);
      expect(
        rec
          .errors('in')
          .map((e) => e.message)
          .join('\n'),
      ).to.match(/needs a security policy/);
      expect(rec.lastStatus('in')).to.include({ fill: 'red' });
    });
  });
});
