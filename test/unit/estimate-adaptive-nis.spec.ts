import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit, type EstimatorState, type Track } from '../../runtime/estimate/step.js';
import { nisInit, nisMean, nisMisfit, nisPush } from '../../runtime/estimate/nis.js';
import { chi2Quantile, normalQuantile } from '../../runtime/stats/index.js';
import { adaptR, noiseWindow } from '../../runtime/estimate/adaptive-noise.js';
import { gaussian } from '../support/estimate-sim.js';

const T0 = Date.UTC(2026, 0, 1);
function rd(value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'line1/extruder', tag: 'melt_pressure', value, tsMs, quality: 'good', source: 'test', ...extra };
}
function feed(st: EstimatorState, values: number[], t0 = T0): Estimate[] {
  return values.map((v, i) => estimateStep(st, rd(v, t0 + i * 1000)).estimate as Estimate);
}
function track(st: EstimatorState): Track {
  return st.tracks.get('line1/extruder/melt_pressure') as Track;
}

describe('estimate: NIS consistency check', () => {
  it('normal and χ² quantiles agree with tables', () => {
    expect(normalQuantile(0.975)).to.be.closeTo(1.959964, 1e-5);
    expect(normalQuantile(0.01)).to.be.closeTo(-2.326348, 1e-5);
    expect(chi2Quantile(0.975, 20)).to.be.closeTo(34.17, 0.005); // exact now (was Wilson–Hilferty, ±1 %)
    expect(chi2Quantile(0.99, 50)).to.be.closeTo(76.154, 0.0005);
  });

  it('tracks the windowed mean and judges only a full window', () => {
    const t = nisInit(4, 0.99);
    for (const v of [1, 1, 1]) nisPush(t, v);
    expect(Number.isNaN(nisMean(t))).to.equal(true);
    expect(nisMisfit(t)).to.equal(false);
    nisPush(t, 100);
    expect(nisMean(t)).to.equal(103 / 4);
    expect(nisMisfit(t)).to.equal(true);
    for (const v of [1, 1, 1, 1]) nisPush(t, v);
    expect(nisMean(t)).to.equal(1);
    expect(nisMisfit(t)).to.equal(false);
  });

  it('marks estimates uncertain after an unmodelled jump, then trusts them again', () => {
    const g = gaussian(21);
    const values = Array.from({ length: 300 }, (_, i) => (i < 150 ? 100 : 120) + g());
    const st = estimatorInit(validateEstimateConfig({ model: 'local-level', levelVarPerS: 0.01, measurementVar: 1, nisWindow: 20 }));
    const out = feed(st, values);
    expect(out.slice(20, 150).every((e) => e.quality === 'good')).to.equal(true);
    expect(out[150].quality).to.equal('uncertain');
    expect(out[150].qualityReason).to.match(/^model misfit \(NIS \d+\.\d\d > \d\.\d\d over 20\)$/);
    expect(out.slice(150, 165).every((e) => e.quality === 'uncertain')).to.equal(true);
    // Once the jump has left every window the filter fits again (its level has caught up).
    expect(out.slice(280).filter((e) => e.quality === 'good').length).to.be.greaterThan(15);
  });

  it('marks estimates uncertain when the noise is larger than configured (and not with the right noise)', () => {
    const g = gaussian(22);
    const values = Array.from({ length: 500 }, () => 50 + 3 * g()); // R = 9
    const wrong = feed(estimatorInit(validateEstimateConfig({ model: 'local-level', levelVarPerS: 1e-4, measurementVar: 1 })), values);
    const right = feed(estimatorInit(validateEstimateConfig({ model: 'local-level', levelVarPerS: 1e-4, measurementVar: 9 })), values);
    const share = (xs: Estimate[]) => xs.slice(20).filter((e) => e.quality === 'uncertain').length / (xs.length - 20);
    expect(share(wrong)).to.be.greaterThan(0.9);
    expect(share(right)).to.be.lessThan(0.05);
    expect(right.every((e) => typeof e.nis === 'number' || e === right[0])).to.equal(true);
  });

  it('nisWindow 0 switches the check off', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i % 2 ? 60 : 40)); // R ≈ 100, configured 1
    const out = feed(estimatorInit(validateEstimateConfig({ model: 'local-level', measurementVar: 1, nisWindow: 0 })), values);
    expect(out.every((e) => e.quality === 'good')).to.equal(true);
  });
});

describe('estimate: innovation-based adaptive noise', () => {
  it('covariance matching of R on a steady filter recovers the true R (pure function)', () => {
    const g = gaussian(30);
    const w = noiseWindow(400);
    let r = 1;
    // Innovations of a filter with prior variance 0.5 and true R 3: ν ~ N(0, 3.5).
    for (let i = 0; i < 400; i++) r = adaptR(w, Math.sqrt(3.5) * g(), 0.5, r, 0.01, 100);
    expect(r).to.be.closeTo(3, 0.5);
  });

  it('adaptive R converges toward the true R from a wrong start, within bounds, and NIS then fits', () => {
    const g = gaussian(31);
    const values = Array.from({ length: 4000 }, () => 20 + 2 * g()); // true R = 4
    const st = estimatorInit(
      validateEstimateConfig({ model: 'local-level', levelVarPerS: 1e-4, measurementVar: 0.25, adaptive: 'R', adaptWindow: 100 }),
    );
    const rs: number[] = [];
    const out = values.map((v, i) => {
      const e = estimateStep(st, rd(v, T0 + i * 1000)).estimate as Estimate;
      rs.push((track(st).ch as { r: number }).r);
      return e;
    });
    expect(rs[50]).to.equal(0.25); // nothing changes before the window is full
    const tail = rs.slice(3000);
    const meanR = tail.reduce((s, x) => s + x, 0) / tail.length;
    expect(meanR).to.be.within(3.2, 4.8);
    expect(out.slice(3500).filter((e) => e.quality === 'good').length).to.be.greaterThan(0.9 * 500);
    // Without adaptation the same data stays a misfit.
    const fixed = feed(estimatorInit(validateEstimateConfig({ model: 'local-level', levelVarPerS: 1e-4, measurementVar: 0.25 })), values);
    expect(fixed.slice(3500).filter((e) => e.quality === 'good').length).to.be.lessThan(50);
  });

  it('keeps adapted R within [R0/f, R0·f]', () => {
    const g = gaussian(32);
    const values = Array.from({ length: 600 }, () => 100 * g()); // true R = 10 000
    const st = estimatorInit(
      validateEstimateConfig({
        model: 'local-level',
        levelVarPerS: 0,
        measurementVar: 1,
        adaptive: 'R',
        adaptWindow: 50,
        adaptBoundFactor: 10,
      }),
    );
    feed(st, values);
    expect((track(st).ch as { r: number }).r).to.equal(10);
  });

  it('adaptive Q scales the process noise up when the level wanders faster than configured', () => {
    const g = gaussian(33);
    let x = 0;
    const values = Array.from({ length: 6000 }, () => {
      x += Math.sqrt(0.2) * g(); // true level variance 0.2 per s, configured 0.005
      return x + g();
    });
    const st = estimatorInit(
      validateEstimateConfig({ model: 'local-level', levelVarPerS: 0.005, measurementVar: 1, adaptive: 'Q', adaptWindow: 200 }),
    );
    const scales: number[] = [];
    for (let i = 0; i < values.length; i++) {
      estimateStep(st, rd(values[i], T0 + i * 1000));
      scales.push(track(st).qScale);
    }
    const tail = scales.slice(4000);
    const mean = tail.reduce((s, v) => s + v, 0) / tail.length;
    expect(mean).to.be.within(20, 80); // true ratio 40
    expect((track(st).ch as { r: number }).r).to.equal(1); // R is not touched in mode Q
  });
});
