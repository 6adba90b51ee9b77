import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { screenInit, screenStep, screenTag, screenTagCount } from '../../runtime/ingest/screen/screen.js';
import { validateScreenConfig, DEFAULT_SEVERITY } from '../../runtime/ingest/screen/config.js';
import { compileTagPattern } from '../../runtime/model/tag-pattern.js';

function rd(value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'site/line1/extruder', tag: 'zone1_temp', value, tsMs, quality: 'good', source: 'test', ...extra };
}

describe('screen: composition per tag', () => {
  it('passes a clean reading through unchanged (same object, nothing added)', () => {
    const s = screenInit({ lowLimit: 0, highLimit: 300, maxRatePerS: 10, spikeWindow: 5 });
    const r = rd(200, 1000);
    expect(screenStep(s, r)).to.equal(r);
    expect(r).to.not.have.property('qualityReason');
  });

  it('joins reasons and takes the worst quality, keeping the value and the original reason', () => {
    const s = screenInit({ highLimit: 100, maxRatePerS: 1 });
    screenStep(s, rd(50, 0));
    const out = screenStep(s, rd(150, 1000, { quality: 'uncertain', qualityReason: 'UncertainLastUsable' }));
    expect(out.value).to.equal(150);
    expect(out.quality).to.equal('bad'); // range is bad
    expect(out.qualityReason).to.equal('UncertainLastUsable;range>high;rate');
    const rateOnly = screenStep(s, rd(90, 2000));
    expect(rateOnly.quality).to.equal('uncertain');
    expect(rateOnly.qualityReason).to.equal('rate');
  });

  it('never improves quality: a bad reading with a mild flag stays bad', () => {
    const s = screenInit({ maxRatePerS: 1, severity: { range: 'uncertain' }, highLimit: 10 });
    const out = screenStep(s, rd(20, 0, { quality: 'bad', qualityReason: 'BadSensorFailure' }));
    expect(out.quality).to.equal('bad');
    expect(out.qualityReason).to.equal('BadSensorFailure;range>high');
  });

  it('marks duplicates and out-of-order readings bad but still returns them, without touching the windows', () => {
    const s = screenInit({ spikeWindow: 3, spikeMinDelta: 0.5, maxRatePerS: 100, stuckSamples: 3 });
    for (let i = 1; i <= 3; i++) screenStep(s, rd(10 + i * 0.1, i * 1000));
    const t = screenTag(s, 'site/line1/extruder', 'zone1_temp');
    const before = { sorted: Array.from(t.spike.sorted), rate: { ...t.rate }, stuck: { ...t.stuck }, order: { ...t.order } };
    const dup = screenStep(s, rd(10.3, 3000));
    expect(dup).to.include({ value: 10.3, quality: 'bad', qualityReason: 'duplicate' });
    const late = screenStep(s, rd(999, 1500));
    expect(late).to.include({ value: 999, quality: 'bad', qualityReason: 'out-of-order' });
    expect(Array.from(t.spike.sorted)).to.deep.equal(before.sorted);
    expect({ ...t.rate }).to.deep.equal(before.rate);
    expect({ ...t.stuck }).to.deep.equal(before.stuck);
    expect({ ...t.order }).to.deep.equal(before.order);
    // The next in-order reading is judged against the good history (no rate flag from 999).
    expect(screenStep(s, rd(10.4, 4000)).qualityReason).to.equal(undefined);
  });

  it('keeps a reading that arrived bad out of the value windows (its value is not trusted)', () => {
    const s = screenInit({ maxRatePerS: 1 });
    screenStep(s, rd(10, 0));
    const bad = screenStep(s, rd(0, 1000, { quality: 'bad', qualityReason: 'BadNoCommunication' }));
    expect(bad.qualityReason).to.equal('BadNoCommunication');
    // 10 → 10.5 over 2 s is fine; had the 0 entered the rate state this would be a rate flag.
    expect(screenStep(s, rd(10.5, 2000)).qualityReason).to.equal(undefined);
  });

  it('flags non-finite values and timestamps instead of throwing (callers that skip assertReading)', () => {
    const s = screenInit({ spikeWindow: 3 });
    expect(screenStep(s, rd(NaN, 1))).to.include({ quality: 'bad', qualityReason: 'not-finite' });
    expect(screenStep(s, rd(Infinity, 2))).to.include({ quality: 'bad', qualityReason: 'not-finite' });
    expect(screenStep(s, rd(1, NaN))).to.include({ quality: 'bad', qualityReason: 'bad-timestamp' });
    expect(screenTag(s, 'site/line1/extruder', 'zone1_temp').spike.n).to.equal(0);
  });

  it('flags future timestamps against the clock it is given', () => {
    const s = screenInit({ maxFutureMs: 5000 });
    expect(screenStep(s, rd(1, 1_000_000), 1_000_000)).to.not.have.property('qualityReason');
    expect(screenStep(s, rd(1, 9_000_000), 1_000_100)).to.include({ quality: 'bad', qualityReason: 'future' });
    expect(screenStep(s, rd(1, 1_000_200), 1_000_200)).to.not.have.property('qualityReason');
  });

  it('keeps tags apart: same tag name on two assets has two states', () => {
    const s = screenInit({ maxRatePerS: 1 });
    screenStep(s, rd(10, 0, { asset: 'a1' }));
    screenStep(s, rd(500, 0, { asset: 'a2' }));
    expect(screenStep(s, rd(10.5, 1000, { asset: 'a1' })).qualityReason).to.equal(undefined);
    expect(screenStep(s, rd(500.5, 1000, { asset: 'a2' })).qualityReason).to.equal(undefined);
    expect(screenTagCount(s)).to.equal(2);
  });

  it('applies the first matching override (tag name, or glob on asset/tag) on top of the defaults', () => {
    const s = screenInit({
      lowLimit: 0,
      highLimit: 100,
      overrides: [
        { match: 'site/line1/*/pressure_*', highLimit: 400, severity: { range: 'uncertain' } },
        { match: 'pressure_*', highLimit: 250 },
        { match: 'site/**/speed', lowLimit: -50 },
      ],
    });
    let ts = 0;
    const p = (asset: string, tag: string, v: number) => screenStep(s, rd(v, ++ts, { asset, tag }));
    expect(p('site/line1/extruder', 'pressure_in', 300).qualityReason).to.equal(undefined);
    expect(p('site/line1/extruder', 'pressure_out', 401)).to.include({ quality: 'uncertain', qualityReason: 'range>high' });
    expect(p('site/line2/extruder', 'pressure_in', 300)).to.include({ quality: 'bad', qualityReason: 'range>high' });
    expect(p('site/line2/extruder', 'pressure_out', 200).qualityReason).to.equal(undefined);
    expect(p('site/line2/a/b/c', 'speed', -40).qualityReason).to.equal(undefined);
    expect(p('site/line2/a/b/c', 'speed', 101).qualityReason).to.equal('range>high'); // highLimit inherited
    expect(p('site/line2/extruder', 'temp', 101).qualityReason).to.equal('range>high');
  });

  it('bounds the number of tags: the longest-tracked tag is dropped and restarts', () => {
    const evicted: string[] = [];
    const s = screenInit({ maxTags: 3, maxRatePerS: 1 }, (t) => evicted.push(t.tag));
    for (const tag of ['a', 'b', 'c', 'd']) screenStep(s, rd(0, 0, { tag }));
    expect(screenTagCount(s)).to.equal(3);
    expect(evicted).to.deep.equal(['a']);
    // 'a' starts afresh: no rate comparison with its old value, no out-of-order from its old time.
    expect(screenStep(s, rd(100, 0, { tag: 'a' })).qualityReason).to.equal(undefined);
    expect(evicted).to.deep.equal(['a', 'b']);
  });
});

describe('screen: config validation', () => {
  it('fills defaults: only the timestamp checks are on', () => {
    const c = validateScreenConfig({});
    expect(c).to.include({ stuckSamples: 0, stuckWindowMs: 0, spikeWindow: 0, staleAfterMs: 0, spikeK: 3, maxFutureMs: 5000 });
    expect(c.lowLimit).to.equal(undefined);
    expect(c.severity).to.deep.equal(DEFAULT_SEVERITY);
    expect(c.severity).to.include({
      range: 'bad',
      rate: 'uncertain',
      stuck: 'uncertain',
      spike: 'uncertain',
      duplicate: 'bad',
      outOfOrder: 'bad',
      stale: 'bad',
    });
  });

  it('accepts numeric strings and blanks from editor fields', () => {
    const c = validateScreenConfig({ lowLimit: ' -5 ', highLimit: '', spikeWindow: '11', staleAfterMs: '30000' });
    expect(c).to.include({ lowLimit: -5, highLimit: undefined, spikeWindow: 11, staleAfterMs: 30000 });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /must be an object/],
    ['non-numeric limit', { highLimit: 'hot' }, /highLimit must be a finite number, not "hot"/],
    ['NaN', { lowLimit: NaN }, /lowLimit must be a finite number/],
    ['Infinity', { highLimit: Infinity }, /highLimit must be a finite number/],
    ['low ≥ high', { lowLimit: 10, highLimit: 10 }, /lowLimit \(10\) must be below highLimit \(10\)/],
    ['rate ≤ 0', { maxRatePerS: 0 }, /maxRatePerS must be greater than 0/],
    ['negative tolerance', { stuckTolerance: -1 }, /stuckTolerance must be 0 or more/],
    ['stuckSamples 1', { stuckSamples: 1 }, /stuckSamples must be an integer from 2/],
    ['fractional window', { spikeWindow: 4.5 }, /spikeWindow must be an integer from 3 to 1001/],
    ['huge window', { spikeWindow: 100000 }, /spikeWindow must be an integer/],
    ['k ≤ 0', { spikeK: -3 }, /spikeK must be greater than 0/],
    ['stale too long', { staleAfterMs: 2 ** 40 }, /staleAfterMs must be an integer/],
    ['typo', { highlimit: 5 }, /unknown setting "highlimit"/],
    ['bad severity', { severity: { range: 'awful' } }, /severity.range must be "bad" or "uncertain"/],
    ['unknown check', { severity: { speed: 'bad' } }, /unknown check in severity: speed/],
    ['overrides not a list', { overrides: {} }, /overrides must be a list/],
    ['override without match', { overrides: [{ highLimit: 3 }] }, /override 1: match must be/],
    ['override bad value', { overrides: [{ match: 'a' }, { match: 'b', spikeK: 'x' }] }, /override 2: spikeK must be a finite number/],
    [
      'override limits cross defaults',
      { lowLimit: 0, overrides: [{ match: 'p', highLimit: -1 }] },
      /override 1: \(p\) lowLimit \(0\) must be below highLimit \(-1\)/,
    ],
    ['maxTags 0', { maxTags: 0 }, /maxTags must be a positive integer/],
  ];
  for (const [name, raw, re] of cases) {
    it(`refuses ${name} with BAD_CONFIG naming the field`, () => {
      expect(() => validateScreenConfig(raw))
        .to.throw(TwinError, re)
        .with.property('code', 'BAD_CONFIG');
    });
  }
});

describe('screen: tag patterns', () => {
  it('matches tag names, one-level * and multi-level **, and treats regex characters literally', () => {
    expect(compileTagPattern('temp*')('any/asset', 'temp_1')).to.equal(true);
    expect(compileTagPattern('temp*')('any/asset', 'xtemp')).to.equal(false);
    expect(compileTagPattern('a/*/t')('a/b', 't')).to.equal(true);
    expect(compileTagPattern('a/*/t')('a/b/c', 't')).to.equal(false);
    expect(compileTagPattern('a/**/t')('a/b/c', 't')).to.equal(true);
    expect(compileTagPattern('flow.rate')('x', 'flowXrate')).to.equal(false);
    expect(compileTagPattern('flow.rate')('x', 'flow.rate')).to.equal(true);
    expect(compileTagPattern('t?')('x', 't1')).to.equal(true);
  });
});
