import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { StatusCodes } from 'node-opcua';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import type { Reading } from '../../runtime/model/reading.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const readingNode = nodeModule('twin-reading');
const screenNode = nodeModule('twin-screen');

type Msg = NodeMessage & { payload: unknown; reading?: Reading; error?: { message: string } };
interface Rig {
  node: Node;
  out: Msg[];
  caught: Msg[];
  statuses: Array<{ fill?: string; text?: string }>;
}

const ASSET = 'plant1/line1/extruder';
const T0 = Date.now() - 60_000;

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

/** twin-reading (config `cfg`) → collector, a Catch node for its errors; `screen` puts a twin-screen between. */
function load(cfg: Record<string, unknown>, screen = false): Promise<Rig> {
  const flow = [
    { id: 'r', type: 'twin-reading', z: 'f', name: 'reading', ...cfg, wires: [[screen ? 's' : 'o']] },
    ...(screen ? [{ id: 's', type: 'twin-screen', z: 'f', lowLimit: '0', highLimit: '400', wires: [['o']] }] : []),
    { id: 'o', type: 'helper', z: 'f' },
    { id: 'c', type: 'catch', z: 'f', scope: ['r'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper', z: 'f' },
    { id: 'f', type: 'tab' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([readingNode, screenNode, catchNode] as never, flow, () => {
        const rig: Rig = { node: helper.getNode('r'), out: [], caught: [], statuses: [] };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (c) => rig.statuses.push(c.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

describe('twin-reading node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('with its defaults turns an `mqtt in` message (number text, tag in msg.topic) into a Reading at arrival time', async function () {
    // value and tag as a flow without them (or with them blank) has them: msg.payload and msg.topic
    const rig = await load({ asset: ASSET, unit: 'degC', source: 'mqtt', value: '', valueType: 'msg' });
    const before = Date.now();
    rig.node.receive({ topic: 'zone1_temp', payload: '212.5' } as never);
    await waitFor(() => rig.out.length === 1);
    const r = rig.out[0].payload as Reading;
    expect(r).to.include({ asset: ASSET, tag: 'zone1_temp', value: 212.5, unit: 'degC', quality: 'good', source: 'mqtt' });
    expect(r.tsMs).to.be.within(before, Date.now());
    expect(rig.out[0].topic).to.equal(`${ASSET}/zone1_temp`);
  });

  it('reads a node-red-contrib-opcua message: statusCode and sourceTimestamp; the reading passes twin-screen', async function () {
    const cfg = {
      tag: 'melt_pressure',
      tagType: 'str',
      time: 'sourceTimestamp',
      timeType: 'msg',
      quality: 'statusCode',
      qualityType: 'msg',
    };
    const rig = await load({ ...cfg, asset: ASSET, source: 'opcua' }, true);
    const times = { sourceTimestamp: new Date(T0), serverTimestamp: new Date(T0 + 5) };
    rig.node.receive({ payload: 180.2, statusCode: StatusCodes.Good, ...times } as never);
    rig.node.receive({ payload: null, statusCode: StatusCodes.BadNoCommunication, sourceTimestamp: new Date(T0 + 1000) } as never);
    await waitFor(() => rig.out.length === 2);
    const [good, bad] = rig.out.map((m) => m.payload as Reading);
    expect(good).to.deep.equal({ asset: ASSET, tag: 'melt_pressure', value: 180.2, tsMs: T0, quality: 'good', source: 'opcua' });
    expect([bad.quality, bad.qualityReason, bad.tsMs]).to.deep.equal(['bad', 'BadNoCommunication; no value', T0 + 1000]);
  });

  it('takes a Modbus register by element, the tag from a JSONata expression, into msg.reading', async function () {
    const rig = await load({ asset: ASSET, tag: '"reg" & $string(address)', tagType: 'jsonata', element: '1', output: 'reading' });
    rig.node.receive({ address: 40001, payload: [7, 1234, 9] } as never);
    await waitFor(() => rig.out.length === 1);
    expect(rig.out[0].reading).to.include({ tag: 'reg40001', value: 1234 });
    expect(rig.out[0].payload, 'payload untouched').to.deep.equal([7, 1234, 9]);
  });

  it('reads fields inside JSON text (core mqtt in) and from flow context', async function () {
    const rig = await load({
      asset: 'asset',
      assetType: 'flow',
      value: 'payload.v',
      time: 'payload.ts',
      timeType: 'msg',
      quality: 'payload.q',
      qualityType: 'msg',
    });
    helper.getNode('r').context().flow.set('asset', ASSET);
    const text = JSON.stringify({ v: '4.2', ts: new Date(T0).toISOString(), q: 'UncertainLastUsableValue' });
    rig.node.receive({ topic: 'vibration', payload: Buffer.from(text) } as never);
    await waitFor(() => rig.out.length === 1);
    expect(rig.out[0].payload).to.deep.equal({
      asset: ASSET,
      tag: 'vibration',
      value: 4.2,
      tsMs: T0,
      quality: 'uncertain',
      qualityReason: 'UncertainLastUsableValue',
      source: 'node-red',
    });
  });

  it('refuses bad input with one error and a red status, and keeps converting', async function () {
    const rig = await load({ asset: ASSET });
    rig.node.receive({ topic: 'zone1_temp', payload: 'hot' } as never);
    rig.node.receive({ payload: 1 } as never);
    rig.node.receive({ topic: 'zone1_temp', payload: [1, 2] } as never);
    rig.node.receive({ topic: 'zone1_temp', payload: 3 } as never);
    await waitFor(() => rig.caught.length === 3 && rig.out.length === 1);
    expect(rig.caught.map((m) => m.error?.message)).to.deep.equal([
      'TwinError: value (msg.payload) is not numeric: "hot"',
      'TwinError: tag (msg.topic) is missing or empty: undefined',
      'TwinError: value (msg.payload) is an array of 2: set Element to pick one',
    ]);
    expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'not numeric')).to.equal(true);
    expect((rig.out[0].payload as Reading).value).to.equal(3);
  });

  it('a bad config (an invalid message path) refuses every input with a config error', async function () {
    const rig = await load({ asset: ASSET, value: 'payload[', valueType: 'msg' });
    rig.node.receive({ topic: 't', payload: 1 } as never);
    await waitFor(() => rig.caught.length === 1);
    expect(rig.caught[0].error?.message).to.match(/configuration is invalid.*value: 'payload\[' is not a message property/);
    expect(rig.statuses.at(-1)).to.include({ fill: 'red', text: 'bad config' });
    expect(rig.out).to.deep.equal([]);
  });
});
