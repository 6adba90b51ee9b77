import { expect } from 'chai';
import { helper, nodeModule } from '../support/nr.js';
import { envelopeVersion, validateEnvelope } from '../../runtime/control/envelope.js';
import type { TwinEnvelopeNode } from '../../nodes/twin-envelope/envelope-api.js';
import { envelopeOf } from '../../nodes/twin-envelope/envelope-api.js';

const envelopeNode = nodeModule('twin-envelope');

/** The node as the editor saves it: numbers as strings, interlocks from the list, inputTags as text. */
function def(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'e1',
    type: 'twin-envelope',
    name: 'zone 3 setpoint',
    asset: 'acme/line1/extruder',
    tag: 'zone3_sp',
    unit: 'degC',
    lowLimit: '200',
    highLimit: '260',
    maxStep: '5',
    rateUpPerMin: '2',
    rateDownPerMin: '4',
    minDwellMs: '60000',
    maxInputAgeMs: '30000',
    minQuality: 'good',
    ramp: true,
    interlocks: [
      { tag: 'mode', op: '==', value: 1 },
      { tag: 'acme/line1/alarm', op: '==', value: 0 },
    ],
    inputTags: 'melt_temp',
    source: 'plc-endpoint',
    ...over,
  };
}
const errorsLogged = (id: string): string[] =>
  (helper.log().args as any[][])
    .map((a) => a[0])
    .filter((e) => e.level === 20 && e.id === id)
    .map((e) => String(e.msg));

async function load(d: Record<string, unknown>): Promise<TwinEnvelopeNode> {
  await helper.load(envelopeNode as never, [d] as never);
  const n = helper.getNode(String(d.id)) as unknown as TwinEnvelopeNode;
  expect(n, 'config node created').to.be.an('object');
  return n;
}

describe('twin-envelope (config node)', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('validates the editor config into a frozen EnvelopeConfig and exposes its version', async function () {
    const n = await load(def());
    expect(n.configError).to.equal(undefined);
    const env = n.envelope()!;
    expect(env).to.deep.equal({
      asset: 'acme/line1/extruder',
      tag: 'zone3_sp',
      unit: 'degC',
      lowLimit: 200,
      highLimit: 260,
      maxStep: 5,
      rateUpPerMin: 2,
      rateDownPerMin: 4,
      minDwellMs: 60000,
      maxInputAgeMs: 30000,
      minQuality: 'good',
      ramp: true,
      interlocks: [
        { tag: 'mode', op: '==', value: 1 },
        { asset: 'acme/line1', tag: 'alarm', op: '==', value: 0 },
      ],
      inputTags: ['melt_temp'],
      source: 'plc-endpoint',
    });
    expect(n.version()).to.match(/^[0-9a-f]{16}$/);
    expect(n.version()).to.equal(envelopeVersion(validateEnvelope(def())));
    expect(Object.isFrozen(env) && Object.isFrozen(env.interlocks) && Object.isFrozen(env.interlocks[0])).to.equal(true);
    expect(errorsLogged('e1')).to.deep.equal([]);
    expect(envelopeOf(n)).to.deep.equal({ env, version: n.version() });
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['asset', { asset: '' }, 'asset'],
    ['tag', { tag: '' }, 'tag'],
    ['lowLimit', { lowLimit: 'x' }, 'lowLimit'],
    ['highLimit', { highLimit: '' }, 'highLimit'],
    ['low ≥ high', { lowLimit: '300' }, 'lowLimit'],
    ['maxStep', { maxStep: '0' }, 'maxStep'],
    ['rateUpPerMin', { rateUpPerMin: '-1' }, 'rateUpPerMin'],
    ['rateDownPerMin', { rateDownPerMin: '0' }, 'rateDownPerMin'],
    ['minDwellMs', { minDwellMs: '-5' }, 'minDwellMs'],
    ['maxInputAgeMs', { maxInputAgeMs: '0' }, 'maxInputAgeMs'],
    ['minQuality', { minQuality: 'bad' }, 'minQuality'],
    ['interlock op', { interlocks: [{ tag: 'mode', op: '=>', value: 1 }] }, 'interlocks[0].op'],
    ['interlock value', { interlocks: [{ tag: 'mode', op: '==', value: 'AUTO' }] }, 'interlocks[0].value'],
    ['interlock tag', { interlocks: [{ tag: '', op: '==', value: 1 }] }, 'interlocks[0].tag'],
    ['inputTags', { inputTags: 'a,,b' }, 'inputTags[1]'],
    ['source (the plant connection)', { source: '' }, 'source'],
    ['source missing', { source: undefined }, 'source'],
  ];
  for (const [what, over, field] of invalid) {
    it(`invalid ${what}: configError and node.error name the field; no envelope`, async function () {
      const n = await load(def(over));
      expect(n.configError).to.be.a('string').and.contain(`envelope ${field}:`);
      expect(n.envelope()).to.equal(undefined);
      expect(n.version()).to.equal('');
      const logged = errorsLogged('e1');
      expect(logged).to.have.length(1);
      expect(logged[0]).to.contain('twin-envelope configuration is invalid').and.contain(`envelope ${field}:`);
      expect(envelopeOf(n)).to.deep.equal({ error: n.configError });
    });
  }

  it('the version changes with a field and not with the name', async function () {
    const v0 = (await load(def())).version();
    await helper.unload();
    const vRenamed = (await load(def({ name: 'other name' }))).version();
    await helper.unload();
    const vHigh = (await load(def({ highLimit: '261' }))).version();
    await helper.unload();
    const vInterlock = (await load(def({ interlocks: [{ tag: 'mode', op: '==', value: 2 }] }))).version();
    await helper.unload();
    const vSource = (await load(def({ source: 'another-endpoint' }))).version();
    expect(vRenamed).to.equal(v0);
    expect(new Set([v0, vHigh, vInterlock, vSource]).size).to.equal(4);
  });

  it('serves the deployed version (or the config error) to the editor', async function () {
    const n = await load(def());
    const ok = await helper.request().get('/twinloop/envelope/e1').expect(200);
    expect(ok.body).to.deep.equal({ version: n.version() });
    await helper.request().get('/twinloop/envelope/nope').expect(404);
    await helper.unload();
    await load(def({ maxStep: '0' }));
    const bad = await helper.request().get('/twinloop/envelope/e1').expect(200);
    expect(bad.body.configError).to.contain('envelope maxStep:');
  });

  it('envelopeOf names a missing envelope node', function () {
    expect(envelopeOf(null)).to.deep.equal({ error: 'no envelope configured' });
  });
});
