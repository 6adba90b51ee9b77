import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit, type Track } from '../../runtime/estimate/step.js';
import { Hybrid } from '../../runtime/estimate/hybrid.js';
import { gaussian, prng } from '../support/estimate-sim.js';

const T0 = Date.UTC(2026, 0, 1);
function rd(tag: string, value: number, tsMs: number): Reading {
  return { asset: 'extruder', tag, value, tsMs, quality: 'good', source: 'test' };
}

/**
 * A heater zone whose real gain is 0.9 (heat losses the physics ignores: it assumes 1), τ = 20 s,
 * setpoint stepping at random in [160, 240] every 60 s, then (from `outsideFrom`) to 100 degC.
 */
function plant(n: number, outsideFrom = Infinity): { readings: Reading[]; truth: number[] } {
  const g = gaussian(41);
  const u01 = prng(42);
  const a = Math.exp(-1 / 20);
  let x = 180;
  let u = 200;
  const readings: Reading[] = [rd('zone1_sp', u, T0 - 1)];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % 60 === 0) {
      u = i >= outsideFrom ? 100 : 160 + 80 * u01();
      readings.push(rd('zone1_sp', u, T0 + i * 1000 - 1));
    }
    if (i > 0) x = a * x + (1 - a) * 0.9 * u + 0.05 * g();
    truth.push(x);
    readings.push(rd('zone1_temp', x + 0.5 * g(), T0 + i * 1000));
  }
  return { readings, truth };
}

const CFG = {
  measurementVar: 0.25,
  levelVarPerS: 0.0025,
  gain: 1,
  tauS: 20,
  pairs: [{ tag: 'zone1_temp', inputTag: 'zone1_sp' }],
  hybridWindow: 300,
  hybridRefitEvery: 20,
  hybridMinSamples: 60,
};

function run(model: string, readings: Reading[]): Estimate[] {
  const st = estimatorInit(validateEstimateConfig({ ...CFG, model }));
  return readings.map((r) => estimateStep(st, r).estimate).filter((e): e is Estimate => e !== undefined);
}

describe('estimate: hybrid (physics + regression of its residual)', () => {
  it('corrects a biased physics model: innovations lose their bias, the estimate gets closer to the truth', () => {
    const { readings, truth } = plant(2400);
    const hy = run('hybrid', readings);
    const fo = run('first-order', readings);
    expect(hy).to.have.length(2400);
    const tail = (xs: Estimate[]) => xs.slice(600);
    const meanInnov = (xs: Estimate[]) => tail(xs).reduce((s, e) => s + (e.innovation ?? 0), 0) / tail(xs).length;
    const rms = (xs: Estimate[]) => Math.sqrt(tail(xs).reduce((s, e, i) => s + (e.value - truth[i + 600]) ** 2, 0) / tail(xs).length);
    expect(Math.abs(meanInnov(fo))).to.be.greaterThan(0.3); // the physics alone is biased
    expect(Math.abs(meanInnov(hy))).to.be.lessThan(0.3 * Math.abs(meanInnov(fo)));
    expect(rms(hy)).to.be.lessThan(0.8 * rms(fo));
    expect(hy[hy.length - 1].model).to.equal('hybrid/first-order+ols');
    expect(hy[hy.length - 1].state).to.have.keys('physics', 'correction');
    // Uncertain until the first fit, then mostly good.
    expect(hy.slice(0, 59).every((e) => e.qualityReason?.includes('residual model not fitted yet'))).to.equal(true);
    expect(tail(hy).filter((e) => e.quality === 'good').length).to.be.greaterThan(0.8 * tail(hy).length);
  });

  it('marks as uncertain every estimate whose inputs lie outside the fitted range, and does not extrapolate', () => {
    const { readings } = plant(1500, 1200);
    const st = estimatorInit(validateEstimateConfig({ ...CFG, model: 'hybrid', hybridRefitEvery: 400 })); // fits at 60, 460, 860 and 1260 samples
    const hy: Estimate[] = [];
    let uRange: [number, number] | undefined;
    for (const r of readings) {
      const e = estimateStep(st, r).estimate;
      if (!e) continue;
      hy.push(e);
      if (hy.length === 1200) uRange = ((st.tracks.get('extruder/zone1_temp') as Track).hybrid as Hybrid).fittedRange()?.[1];
    }
    expect(uRange?.[0]).to.be.greaterThan(150); // 100 is outside what was fitted
    const before = hy.slice(1100, 1200);
    const after = hy.slice(1200, 1260); // setpoint 100 degC, not in the fit of samples 560..860
    expect(after.every((e) => e.quality === 'uncertain' && (e.qualityReason ?? '').includes('input outside fitted range'))).to.equal(true);
    // Evaluated at the edge of the fitted range, not extrapolated: corrections stay within what was seen.
    const corr = (e: Estimate) => (e.state as { correction: number }).correction;
    const seen = hy.slice(60, 1200).map(corr);
    const lo = Math.min(...seen);
    const hi = Math.max(...seen);
    const span = hi - lo;
    expect(after.every((e) => corr(e) >= lo - 0.5 * span && corr(e) <= hi + 0.5 * span)).to.equal(true);
    expect(before.filter((e) => !(e.qualityReason ?? '').includes('outside')).length).to.be.greaterThan(30); // not always on
  });

  it('refits on a rolling window every refitEvery samples and reports its fitted range', () => {
    const h = new Hybrid({
      levelVarPerS: 0.01,
      gain: 1,
      tauS: 10,
      window: 10,
      refitEvery: 5,
      minSamples: 6,
      rangeMarginFrac: 0,
      rangeMarginAbs: 1,
    });
    h.init(0, 1);
    for (let i = 0; i < 6; i++) {
      h.predict(1, 10 + i, 1);
      h.update(1, 1);
      h.learn(1);
    }
    expect(h.fits).to.equal(1);
    expect(h.fittedRange()?.[1]).to.deep.equal([10, 15]);
    for (let i = 6; i < 11; i++) {
      h.predict(1, 10 + i, 1);
      h.update(1, 1);
      h.learn(1);
    }
    expect(h.fits).to.equal(2);
    expect(h.fittedRange()?.[1]).to.deep.equal([11, 20]); // the oldest sample (u = 10) left the window
    h.predict(1, 15, 1);
    expect(h.outOfRange).to.equal(false);
    h.predict(1, 25, 1);
    expect(h.outOfRange).to.equal(true);
  });

  it('refuses a minSamples too small to fit or larger than the window', () => {
    expect(
      () =>
        new Hybrid({ levelVarPerS: 0, gain: 1, tauS: 1, window: 10, refitEvery: 1, minSamples: 3, rangeMarginFrac: 0, rangeMarginAbs: 0 }),
    ).to.throw(/minSamples/);
    expect(() =>
      validateEstimateConfig({ model: 'hybrid', pairs: [{ tag: 'a', inputTag: 'b' }], hybridWindow: 10, hybridMinSamples: 20 }),
    ).to.throw(/must not exceed/);
  });
});
