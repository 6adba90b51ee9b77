import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import { TwinError } from '../../runtime/model/errors.js';
import { estimateStep, estimatorInit, type EstimateOutcome } from '../../runtime/estimate/step.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';

const T0 = Date.UTC(2026, 0, 1);
function rd(value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'line1/extruder', tag: 'melt_temp', value, tsMs, quality: 'good', source: 'test', ...extra };
}
const CFG = { model: 'local-level', levelVarPerS: 0.01, measurementVar: 1, maxGapMs: 10_000 };

/** One word per outcome: E:<code>, N (note), or <quality>. */
function word(o: EstimateOutcome): string {
  if (o.error) return `E:${o.error.code}`;
  if (!o.estimate) return 'N';
  return o.estimate.quality;
}
/** The readings through one estimator, one estimateStep each, as twin-estimate hands them over. */
function all(cfg: unknown, readings: Reading[]): EstimateOutcome[] {
  const st = estimatorInit(validateEstimateConfig(cfg));
  return readings.map((r) => estimateStep(st, r));
}

describe('estimate: estimateStep over a sequence of readings', () => {
  it('gives one outcome per reading, in order; an out-of-order reading is an error outcome and the next one is applied', () => {
    const a = rd(10, T0);
    const b = rd(11, T0 + 1000);
    const o = rd(99, T0 + 500); // older than b
    const d = rd(11, T0 + 1000); // same time as b
    const c = rd(12, T0 + 2000);
    const out = all(CFG, [a, b, o, d, c]);
    expect(out.map(word)).to.deep.equal(['good', 'good', 'E:OUT_OF_ORDER', 'E:OUT_OF_ORDER', 'good']);
    expect(out.map((x) => x.reading)).to.deep.equal([a, b, o, d, c]);
  });

  it('an out-of-order reading changes nothing: later estimates equal those of the sequence without it', () => {
    const base = [rd(10, T0), rd(11, T0 + 1000), rd(12, T0 + 2000), rd(13, T0 + 3000)];
    const withBad = [base[0], base[1], rd(500, T0 + 1500 - 1000), rd(500, T0 + 1000), base[2], base[3]];
    const a = all(CFG, base);
    const b = all(CFG, withBad);
    expect(b[2].error).to.be.instanceOf(TwinError);
    expect(b[2].error?.message).to.match(/line1\/extruder\/melt_temp: tsMs .* is before the last applied reading .*not applied/);
    expect(b[3].error?.message).to.match(/repeats the last applied reading/);
    expect(b[4].estimate).to.deep.equal(a[2].estimate);
    expect(b[5].estimate).to.deep.equal(a[3].estimate);
  });

  it('a bad reading does not move the estimate: predicted only, uncertain, and the next good one finds the same state', () => {
    const base = [rd(10, T0), rd(11, T0 + 1000), rd(12, T0 + 3000), rd(12.5, T0 + 4000)];
    const withBad = [base[0], base[1], rd(1000, T0 + 2000, { quality: 'bad', qualityReason: 'BadSensorFailure' }), base[2], base[3]];
    const a = all(CFG, base);
    const b = all(CFG, withBad);
    const bad = b[2].estimate as Estimate;
    expect(bad.value).to.equal((a[1].estimate as Estimate).value); // a local level predicts no change
    expect(bad.variance).to.be.closeTo((a[1].estimate as Estimate).variance + 0.01 * 1, 1e-12); // P + q·dt
    expect(bad).to.include({ quality: 'uncertain', qualityReason: 'input bad (BadSensorFailure): prediction only' });
    expect(bad.innovation).to.equal(undefined);
    expect(b[3].estimate?.value).to.be.closeTo((a[2].estimate as Estimate).value, 1e-12);
    expect(b[3].estimate?.variance).to.be.closeTo((a[2].estimate as Estimate).variance, 1e-12);
    expect(b[4].estimate?.value).to.be.closeTo((a[3].estimate as Estimate).value, 1e-12);
    // And a good reading of the same value would have moved it a lot.
    const good = all(CFG, [base[0], base[1], rd(1000, T0 + 2000)]);
    expect((good[2].estimate as Estimate).value).to.be.greaterThan(100);
  });

  it('an uncertain reading is applied with inflated R (moves the estimate less) and the estimate is uncertain', () => {
    const pre = [rd(10, T0), rd(10, T0 + 1000)];
    const good = all(CFG, [...pre, rd(20, T0 + 2000)]);
    const unc = all(CFG, [...pre, rd(20, T0 + 2000, { quality: 'uncertain', qualityReason: 'range>high' })]);
    const p = (good[1].estimate as Estimate).variance + 0.01; // prior variance at T0+2000
    const e = unc[2].estimate as Estimate;
    expect(e.value).to.be.closeTo(10 + (p / (p + 10)) * 10, 1e-9); // R × uncertainVarFactor (10)
    expect(e.value - 10).to.be.lessThan((good[2].estimate as Estimate).value - 10);
    expect(e).to.include({ quality: 'uncertain', qualityReason: 'input uncertain (range>high)' });
  });

  it('a gap longer than maxGapMs re-initialises (uncertain); a shorter one inflates the variance', () => {
    const out = all(CFG, [rd(10, T0), rd(10, T0 + 1000), rd(10, T0 + 9000), rd(50, T0 + 30_000)]).map((o) => {
      const e = o.estimate as Estimate;
      return [e.quality, e.qualityReason ?? '', Math.round(e.variance * 1000) / 1000, e.value];
    });
    // b: 1·1/(1+1) after P0 = R → 0.5 + q; c: predicted over 8 s (P + 0.08) then updated; d: re-initialised: x = z, P = R
    const pb = (1 + 0.01) / (1 + 0.01 + 1);
    const pc = ((pb + 0.08) * 1) / (pb + 0.08 + 1);
    expect(out).to.deep.equal([
      ['good', '', 1, 10],
      ['good', '', Math.round(pb * 1000) / 1000, 10],
      ['good', '', Math.round(pc * 1000) / 1000, 10],
      ['uncertain', 'gap of 21.0 s > maxGapMs: re-initialised', 1, 50],
    ]);
  });

  it('a bad first reading gives no estimate (note only); the next good one starts the estimate', () => {
    const out = all(CFG, [rd(0, T0, { quality: 'bad' }), rd(7, T0 + 1000)]);
    expect(out[0].estimate).to.equal(undefined);
    expect(out[0].note).to.match(/no estimate/);
    expect(out[1].estimate).to.include({ value: 7, variance: 1, quality: 'good' });
  });

  it('keeps assets and tags apart, in event time, and carries unit, model and topic parts', () => {
    const a = rd(10, T0, { unit: 'degC' });
    const b = rd(100, T0, { tag: 'melt_pressure', unit: 'bar' });
    const c = rd(20, T0, { asset: 'line2/extruder', unit: 'degC' });
    const out = all(CFG, [a, b, c]).map((o) => {
      const e = o.estimate as Estimate;
      return `${e.asset}/${e.tag}=${e.value}${e.unit}@${e.tsMs - T0}:${e.model}`;
    });
    expect(out).to.deep.equal([
      'line1/extruder/melt_temp=10degC@0:kalman/local-level',
      'line1/extruder/melt_pressure=100bar@0:kalman/local-level',
      'line2/extruder/melt_temp=20degC@0:kalman/local-level',
    ]);
  });

  it('is bounded: beyond maxTags the oldest estimate is dropped and starts afresh', () => {
    const cfg = { ...CFG, maxTags: 2 };
    const out = all(cfg, [rd(1, T0, { tag: 'a' }), rd(1, T0, { tag: 'b' }), rd(1, T0, { tag: 'c' }), rd(5, T0 + 1000, { tag: 'a' })]);
    expect(out[3].estimate).to.include({ value: 5, variance: 1 }); // re-initialised, not updated
  });

  it('refuses invalid config before the estimator exists (BAD_CONFIG), naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ model: 'kalman' }, /model must be one of/],
      [{ measurementVar: 0 }, /measurementVar must be > 0/],
      [{ measurementVar: 'abc' }, /measurementVar must be a number/],
      [{ levelVarPerS: -1 }, /levelVarPerS must be ≥ 0/],
      [{ nisWindow: 2 }, /nisWindow must be 0 \(off\) or an integer ≥ 3/],
      [{ adaptive: 'yes' }, /adaptive must be one of/],
      [{ model: 'first-order' }, /needs at least one pair/],
      [{ model: 'first-order', pairs: [{ tag: 'a', inputTag: 'a' }] }, /cannot be its own input/],
      [{ model: 'fusion', sensors: [{ tag: 'a' }], fusedTag: 'f' }, /at least two sensors/],
      [{ model: 'fusion', sensors: [{ tag: 'a' }, { tag: 'b', measurementVar: -1 }], fusedTag: 'f' }, /sensors\[1\]\.measurementVar/],
      [{ model: 'fusion', sensors: [{ tag: 'a' }, { tag: 'b' }], fusedTag: 'a' }, /must differ/],
      [{ model: 'fusion', sensors: [{ tag: 'a/b' }, { tag: 'b' }], fusedTag: 'f' }, /must be a tag name/],
      [null, /config must be an object/],
    ];
    for (const [cfg, re] of bad) {
      expect(() => validateEstimateConfig(cfg), JSON.stringify(cfg))
        .to.throw(TwinError, re)
        .with.property('code', 'BAD_CONFIG');
    }
    expect(validateEstimateConfig({ measurementVar: '2.5', nisWindow: '' })).to.include({ measurementVar: 2.5, nisWindow: 20 });
  });
});
