import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import type { Estimate } from '../../runtime/model/estimate.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const estimateNode = nodeModule('twin-estimate');

type Msg = NodeMessage & { payload: Estimate; error?: { message: string; source?: { id: string } }; extra?: string };
interface Rig {
  node: Node;
  out: Msg[];
  caught: Msg[];
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  errors: unknown[];
}

const T0 = Date.UTC(2026, 0, 1);
const ASSET = 'demo/plant1/extrusion/line1/extruder';
/** A second asset in the same node: the same readings without the bad one, for comparison. */
const CLEAN = 'demo/plant1/extrusion/line2/extruder';

function sameEstimate(a: Estimate, b: Estimate): void {
  expect({ ...a, asset: '' }).to.deep.equal({ ...b, asset: '' });
}
const c = (p: Record<string, unknown>): Record<string, unknown> => ({ ...p, asset: CLEAN });

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}
function rd(value: unknown, tsMs: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: ASSET, tag: 'melt_temp', value, tsMs, quality: 'good', source: 'test', unit: 'degC', ...extra };
}

function load(cfg: Record<string, unknown>): Promise<Rig> {
  const flow = [
    { id: 'e', type: 'twin-estimate', name: 'est', ...cfg, wires: [['o']] },
    { id: 'o', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['e'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([estimateNode, catchNode] as never, flow, () => {
        const rig: Rig = { node: helper.getNode('e'), out: [], caught: [], statuses: [], errors: [] };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

/** Send payloads one by one; resolve when `outs` outputs and `errs` caught errors have arrived. */
async function feed(rig: Rig, payloads: unknown[], outs: number, errs = 0): Promise<void> {
  for (const p of payloads) rig.node.receive({ payload: p, extra: 'kept' } as never);
  await waitFor(() => rig.out.length >= outs && rig.caught.length >= errs, 10_000, 10, `${outs} outputs and ${errs} errors`);
  await new Promise((r) => setTimeout(r, 50)); // nothing more arrives
  expect(rig.out.length, 'outputs').to.equal(outs);
  expect(rig.caught.length, 'errors').to.equal(errs);
}

describe('twin-estimate node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('emits one Estimate per reading on the same message, topic asset/tag, in event time', async function () {
    const rig = await load({ model: 'local-level', measurementVar: '4', levelVarPerS: '0' });
    await feed(rig, [rd(200, T0), rd(202, T0 + 1000)], 2);
    const e = rig.out[1].payload;
    expect(rig.out[1].topic).to.equal(`${ASSET}/melt_temp`);
    expect(rig.out[1].extra).to.equal('kept');
    expect(e).to.include({
      asset: ASSET,
      tag: 'melt_temp',
      tsMs: T0 + 1000,
      value: 201,
      variance: 2,
      unit: 'degC',
      model: 'kalman/local-level',
      quality: 'good',
      innovation: 2,
    });
    expect(e.nis).to.be.closeTo(4 / 8, 1e-12);
  });

  it('reads the Reading from the property set in Reading in and writes the Estimate to Estimate to', async function () {
    const rig = await load({ model: 'local-level', measurementVar: '4', levelVarPerS: '0', property: 'data.reading', output: 'estimate' });
    rig.node.receive({ payload: 'untouched', data: { reading: rd(200, T0) } } as never);
    rig.node.receive({ payload: 'untouched', data: { reading: rd(202, T0 + 1000) } } as never);
    await waitFor(() => rig.out.length === 2);
    const m = rig.out[1] as Msg & { estimate?: Estimate };
    expect(m.payload as unknown).to.equal('untouched');
    expect(m.estimate).to.include({ asset: ASSET, tag: 'melt_temp', tsMs: T0 + 1000, value: 201 });
    rig.node.receive({ payload: rd(1, T0 + 2000) } as never);
    await waitFor(() => rig.caught.length === 1);
    expect(rig.caught[0].error?.message, 'msg.data.reading is missing').to.match(/payload is not a Reading object/);
  });

  it('an invalid Reading in property refuses its inputs with a config error', async function () {
    const rig = await load({ model: 'local-level', property: 'data[' });
    rig.node.receive({ payload: rd(1, T0) } as never);
    await waitFor(() => rig.caught.length === 1);
    expect(rig.caught[0].error?.message).to.match(/'data\[' is not a message property/);
    expect(rig.out).to.deep.equal([]);
  });

  const badInputs: Array<[string, unknown, RegExp]> = [
    ['a non-numeric value', rd('abc', T0 + 5000), /Reading\.value is not a number: string/],
    ['NaN', rd(NaN, T0 + 5000), /Reading\.value is not finite: NaN/],
    ['Infinity', rd(Infinity, T0 + 5000), /Reading\.value is not finite: Infinity/],
    ['a missing tsMs', rd(1, undefined), /Reading\.tsMs must be epoch milliseconds/],
    ['a string payload', 'hello', /payload is not a Reading object/],
    ['a null payload', null, /payload is not a Reading object/],
    ['an array payload', [rd(1, T0 + 5000)], /payload is an array of 1/],
    ['an unknown quality', rd(1, T0 + 5000, { quality: 'fine' }), /Reading\.quality must be good, uncertain or bad/],
    ['an empty tag', rd(1, T0 + 5000, { tag: '' }), /Reading\.tag must be a non-empty string/],
  ];
  for (const [what, payload, re] of badInputs) {
    it(`refuses ${what} with a clear error (Catch) and a red status, and keeps estimating unchanged`, async function () {
      const rig = await load({ model: 'local-level' });
      await feed(rig, [rd(10, T0), payload, rd(12, T0 + 1000), c(rd(10, T0)), c(rd(12, T0 + 1000))], 4, 1);
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.caught[0].error?.source?.id).to.equal('e');
      expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
      sameEstimate(rig.out[1].payload, rig.out[3].payload);
    });
  }

  it('refuses an out-of-order or repeated timestamp (OUT_OF_ORDER, not applied)', async function () {
    const rig = await load({ model: 'local-level' });
    await feed(rig, [rd(10, T0), rd(11, T0 + 2000), rd(99, T0 + 1000), rd(99, T0 + 2000), rd(12, T0 + 3000)], 3, 2);
    expect(rig.caught[0].error?.message).to.match(/is before the last applied reading.*not applied/);
    expect(rig.caught[1].error?.message).to.match(/repeats the last applied reading/);
    expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'out of order')).to.equal(true);
    await feed(rig, [c(rd(10, T0)), c(rd(11, T0 + 2000)), c(rd(12, T0 + 3000))], 6, 2);
    sameEstimate(rig.out[2].payload, rig.out[5].payload);
  });

  it('a bad-quality reading does not move the estimate as a good one would: prediction, uncertain', async function () {
    const rig = await load({ model: 'local-level', levelVarPerS: '0.01' });
    await feed(
      rig,
      [rd(10, T0), rd(10, T0 + 1000), rd(500, T0 + 2000, { quality: 'bad', qualityReason: 'BadSensorFailure' }), rd(10.5, T0 + 3000)],
      4,
    );
    const bad = rig.out[2].payload;
    expect(bad).to.include({ value: 10, quality: 'uncertain', qualityReason: 'input bad (BadSensorFailure): prediction only' });
    expect(bad.innovation).to.equal(undefined);
    await feed(rig, [c(rd(10, T0)), c(rd(10, T0 + 1000)), c(rd(10.5, T0 + 3000))], 7);
    expect(rig.out[3].payload.value).to.be.closeTo(rig.out[6].payload.value, 1e-12);
    expect(rig.out[3].payload.variance).to.be.closeTo(rig.out[6].payload.variance, 1e-12);
    // The same value with good quality would have pulled the estimate far away.
    const g = (p: Record<string, unknown>) => ({ ...p, asset: 'good/asset' });
    await feed(rig, [g(rd(10, T0)), g(rd(10, T0 + 1000)), g(rd(500, T0 + 2000))], 10);
    expect(rig.out[9].payload.value).to.be.greaterThan(100);
    await waitFor(() => rig.statuses.some((s) => s.fill === 'yellow'), 3000, 20, 'yellow status');
  });

  it('first-order: the setpoint tag feeds the model and gives no output; pairs from the editor text', async function () {
    const rig = await load({
      model: 'first-order',
      pairs: 'zone1_temp=zone1_sp, zone2_temp = zone2_sp',
      tauS: '30',
      measurementVar: '0.25',
    });
    await feed(
      rig,
      [
        rd(150, T0, { tag: 'zone1_temp' }),
        rd(200, T0 + 500, { tag: 'zone1_sp' }),
        rd(151.6, T0 + 1000, { tag: 'zone1_temp' }),
        rd(1, T0, { tag: 'motor_power' }),
      ],
      2,
    );
    expect(rig.out[0].payload).to.include({ quality: 'uncertain', qualityReason: 'no input yet' });
    expect(rig.out[1].payload).to.include({ quality: 'good', model: 'kalman/first-order', tag: 'zone1_temp' });
    expect(rig.out[1].payload.value).to.be.greaterThan(150.5); // pulled toward the setpoint by the model
  });

  it('fusion: sensors from the editor text, one fused estimate per sensor reading', async function () {
    const rig = await load({ model: 'fusion', sensors: 'tc_a=0.04, tc_b=4', fusedTag: 'zone1_fused' });
    await feed(rig, [rd(200, T0, { tag: 'tc_a' }), rd(210, T0, { tag: 'tc_b' })], 2);
    expect(rig.out[1].topic).to.equal(`${ASSET}/zone1_fused`);
    expect(rig.out[1].payload.value).to.be.closeTo((200 / 0.04 + 210 / 4) / (1 / 0.04 + 1 / 4), 1e-9);
  });

  it('hybrid: builds from the editor (physics first-order) and says when it is not fitted yet', async function () {
    const rig = await load({
      model: 'hybrid',
      physics: 'first-order',
      pairs: 'zone1_temp=zone1_sp',
      hybridWindow: '50',
      hybridMinSamples: '10',
    });
    await feed(rig, [rd(200, T0, { tag: 'zone1_sp' }), rd(180, T0 + 1000, { tag: 'zone1_temp' })], 1);
    expect(rig.out[0].payload).to.include({
      model: 'hybrid/first-order+ols',
      quality: 'uncertain',
      qualityReason: 'residual model not fitted yet',
    });
  });

  const badConfigs: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown model', { model: 'neural' }, /model must be one of/],
    ['a zero measurement variance', { measurementVar: '0' }, /measurementVar must be > 0/],
    ['a non-numeric process noise', { levelVarPerS: 'lots' }, /levelVarPerS must be a number/],
    ['first-order without pairs', { model: 'first-order', pairs: '' }, /needs at least one pair/],
    ['a malformed pair', { model: 'first-order', pairs: 'zone1_temp' }, /is not tag=inputTag/],
    ['fusion with one sensor', { model: 'fusion', sensors: 'a', fusedTag: 'f' }, /at least two sensors/],
    ['fusion without a fused tag', { model: 'fusion', sensors: 'a, b', fusedTag: '' }, /fusedTag must be a tag name/],
    ['an unknown physics', { model: 'hybrid', pairs: 'a=b', physics: 'navier-stokes' }, /physics must be first-order/],
    ['a NIS window of 1', { nisWindow: '1' }, /nisWindow must be 0 \(off\) or an integer ≥ 3/],
  ];
  for (const [what, cfg, re] of badConfigs) {
    it(`config validation: ${what} → node error, red status, inputs refused (BAD_CONFIG)`, async function () {
      const rig = await load(cfg);
      await waitFor(() => rig.errors.length > 0 && rig.statuses.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
      await feed(rig, [rd(1, T0)], 0, 1);
      expect(rig.caught[0].error?.message).to.match(/not estimating: the node's configuration is invalid/);
    });
  }

  it('accepts the editor defaults (every model)', async function () {
    const defaults = {
      measurementVar: 1,
      levelVarPerS: 0.01,
      slopeVarPerS3: 0.0001,
      initialSlopeVarPerS2: 1,
      pairs: 'zone1_temp=zone1_sp',
      gain: 1,
      tauS: 60,
      physics: 'first-order',
      hybridWindow: 200,
      hybridRefitEvery: 20,
      hybridMinSamples: 30,
      rangeMarginFrac: 0.1,
      sensors: 'a, b',
      fusedTag: 'f',
      adaptive: 'off',
      adaptWindow: 50,
      nisWindow: 20,
      maxGapMs: 300000,
      uncertainVarFactor: 10,
    };
    for (const model of ['local-level', 'local-trend', 'first-order', 'fusion', 'hybrid']) {
      const rig = await load({ ...defaults, model });
      await feed(rig, [rd(1, T0, { tag: model === 'fusion' ? 'a' : 'zone1_temp' })], 1);
      expect(rig.errors, model).to.have.length(0);
      await helper.unload();
    }
  });

  it('shows uncertain/total in a green status once estimates flow', async function () {
    const rig = await load({ model: 'local-level' });
    await feed(rig, [rd(1, T0), rd(1, T0 + 1000)], 2);
    await waitFor(() => rig.statuses.some((s) => s.fill === 'green' && /^0\/\d uncertain$/.test(s.text ?? '')), 3000, 20, 'green status');
  });
});
