import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { prng } from '../../bench/prng.js';
import type { Proposal } from '../../runtime/model/control.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const proposeNode = nodeModule('twin-propose');

type Msg = NodeMessage & { payload: Proposal; error?: { message: string }; extra?: string };
interface Rig {
  node: Node;
  out: Msg[];
  caught: Msg[];
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  errors: unknown[];
}

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const T0 = Date.UTC(2026, 0, 1);
const BASE = {
  asset: ASSET,
  setpointTag: 'zone3_sp',
  kpiTag: 'energy_per_kg',
  mode: 'minimise',
  model: 'quadratic',
  constraintTag: 'quality_index',
  constraintMin: '98',
  constraintMax: '',
  windowMs: '3600000',
  refitIntervalMs: '0',
  minSamples: '60',
  deadband: '0',
  minChange: '1',
  proposalTtlMs: '600000',
  spLowLimit: '',
  spHighLimit: '',
  inputTags: '',
};

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

function load(cfg: Record<string, unknown>): Promise<Rig> {
  const flow = [
    { id: 'p', type: 'twin-propose', name: 'prop', ...cfg, wires: [['o']] },
    { id: 'o', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['p'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([proposeNode, catchNode] as never, flow, () => {
        const rig: Rig = { node: helper.getNode('p'), out: [], caught: [], statuses: [], errors: [] };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(rig.node, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

function rd(tag: string, value: unknown, tsMs: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: ASSET, tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}

/**
 * A step test on zone3_sp: energy per kg falls as the zone gets hotter, quality drops above 219:
 * the constrained minimum lies inside the seen range.
 */
function stepTest(blocks: number[], perBlock: number, seed = 1, t0 = T0): { payloads: unknown[]; endTsMs: number } {
  const r = prng(seed);
  const noise = () => (r() + r() + r() - 1.5) * 2; // about N(0, 1)
  const payloads: unknown[] = [];
  let ts = t0;
  for (const sp of blocks) {
    for (let k = 0; k < perBlock; k++) {
      ts += 1000;
      payloads.push(rd('zone3_sp', sp, ts, { unit: 'degC' }));
      payloads.push(rd('quality_index', 100 - 0.08 * Math.max(0, sp - 215) ** 2 + 0.1 * noise(), ts, { unit: '%' }));
      payloads.push(rd('energy_per_kg', 0.3 - 0.001 * (sp - 215) + 0.0005 * noise(), ts, { unit: 'kWh/kg' }));
    }
  }
  return { payloads, endTsMs: ts };
}

async function send(rig: Rig, payloads: unknown[]): Promise<void> {
  for (const p of payloads) rig.node.receive({ payload: p, extra: 'kept' } as never);
  await new Promise((r) => setTimeout(r, 50));
}

describe('twin-propose node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('proposes from a synthetic step test: topic asset/tag, a Proposal within the seen range and the constraint, status', async function () {
    const rig = await load(BASE);
    const { payloads } = stepTest([211, 219, 223, 213], 40);
    const before = Date.now();
    await send(rig, payloads);
    await waitFor(() => rig.out.length > 0, 5000, 10, 'a proposal');
    const msg = rig.out[rig.out.length - 1];
    expect(msg.topic).to.equal(`${ASSET}/zone3_sp`);
    expect(msg.extra).to.equal('kept');
    const p = msg.payload;
    expect(p.asset).to.equal(ASSET);
    expect(p.tag).to.equal('zone3_sp');
    expect(p.unit).to.equal('degC');
    expect(p.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.currentValue).to.equal(213);
    // Energy falls with temperature; quality ≥ 98 holds up to 215 + √25 = 220 (less its interval).
    expect(p.proposedValue).to.be.within(217, 220);
    expect(p.proposedValue).to.be.at.most(p.fitRange.setpointMax);
    expect(p.predictedEffect.kpiTag).to.equal('energy_per_kg');
    expect(p.predictedEffect.kpiUnit).to.equal('kWh/kg');
    expect(p.predictedEffect.others?.[0].kpiTag).to.equal('quality_index');
    expect(p.predictedEffect.others?.[0].lowKpi).to.be.at.least(98);
    expect(p.fit.method).to.equal('ols-quadratic');
    expect(p.expiresTsMs).to.be.at.least(before + 600_000);
    expect(p.expiresTsMs).to.be.at.most(Date.now() + 600_000);
    expect(p.quality).to.equal('good');
    expect(p.rationale).to.match(/^Raise zone3_sp from 213\.0 to 21\d\.\d degC: predicted energy_per_kg −/);
    expect(rig.caught).to.have.length(0);
    expect(rig.statuses.some((s) => s.fill === 'grey' && /^learning \d+\/60$/.test(s.text ?? ''))).to.equal(true);
    expect(rig.statuses[rig.statuses.length - 1]).to.deep.include({ fill: 'green', text: `proposed ${p.proposedValue}` });
  });

  it('stays quiet (and says learning) with too few samples or no setpoint variation', async function () {
    const rig = await load(BASE);
    await send(rig, stepTest([215], 100).payloads);
    expect(rig.out).to.have.length(0);
    expect(rig.statuses.some((s) => s.fill === 'grey' && /^learning \d+\/60$/.test(s.text ?? ''))).to.equal(true);
    expect(rig.statuses[rig.statuses.length - 1]).to.deep.include({ fill: 'grey', text: 'needs sp steps' });
  });

  for (const [what, payload, code] of [
    ['a NaN value', rd('energy_per_kg', NaN, T0 + 500_000), /not finite/],
    ['a string value', rd('energy_per_kg', 'abc', T0 + 500_000), /not a number/],
    ['a missing timestamp', rd('energy_per_kg', 0.3, undefined), /tsMs/],
    ['a non-Reading', 'hello', /not a Reading/],
    ['an array', [rd('energy_per_kg', 0.3, T0 + 500_000)], /array/],
  ] as const) {
    it(`refuses ${what} with a clear error (Catch) and a red status, and keeps working`, async function () {
      const rig = await load(BASE);
      const { payloads, endTsMs } = stepTest([211, 219, 223], 40);
      await send(rig, payloads);
      rig.node.receive({ payload } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'the error');
      expect(rig.caught[0].error?.message).to.match(code);
      expect(rig.statuses[rig.statuses.length - 1].fill).to.equal('red');
      // Nothing learned is lost: a few more samples at a new setpoint give a proposal.
      const outBefore = rig.out.length;
      await send(rig, stepTest([213], 5, 2, endTsMs).payloads);
      await waitFor(() => rig.out.length > outBefore, 5000, 10, 'a proposal after the error');
      expect(rig.out[rig.out.length - 1].payload.currentValue).to.equal(213);
      expect(rig.caught).to.have.length(1);
    });
  }

  it('marks the proposal uncertain and the status yellow when an input was uncertain', async function () {
    const rig = await load(BASE);
    const { payloads } = stepTest([211, 219, 223, 213], 40);
    (payloads[10] as Record<string, unknown>).quality = 'uncertain';
    await send(rig, payloads);
    await waitFor(() => rig.out.length > 0, 5000, 10, 'a proposal');
    const p = rig.out[rig.out.length - 1].payload;
    expect(p.quality).to.equal('uncertain');
    expect(p.qualityReason).to.match(/samples uncertain/);
    expect(rig.statuses[rig.statuses.length - 1]).to.deep.include({ fill: 'yellow' });
  });

  for (const [what, over, re] of [
    ['no asset', { asset: '' }, /asset is required/],
    ['target mode without a target', { mode: 'target', kpiTarget: '' }, /kpiTarget is required/],
    ['a non-numeric window', { windowMs: 'soon' }, /windowMs must be a number/],
    ['a constraint without limits', { constraintMin: '' }, /constraintMin or constraintMax is required/],
    ['low limit above high limit', { spLowLimit: '230', spHighLimit: '200' }, /spLowLimit must be below/],
  ] as const) {
    it(`config validation: ${what} → node error, red status, inputs refused (BAD_CONFIG)`, async function () {
      const rig = await load({ ...BASE, ...over });
      await waitFor(() => rig.errors.length > 0 && rig.statuses.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
      rig.node.receive({ payload: rd('energy_per_kg', 0.3, T0) } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'refusal');
      expect(rig.caught[0].error?.message).to.match(/not proposing: the node's configuration is invalid/);
      expect(rig.out).to.have.length(0);
    });
  }
});
