import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit, type EstimateOutcome } from '../../runtime/estimate/step.js';
import { inverseVarianceMean } from '../../runtime/estimate/fusion.js';
import { gaussian } from '../support/estimate-sim.js';

const T0 = Date.UTC(2026, 0, 1);
const ASSET = 'demo/plant1/extrusion/line1/extruder';

function rd(tag: string, value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: ASSET, tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}
function run(cfg: Record<string, unknown>, readings: Reading[]): EstimateOutcome[] {
  const st = estimatorInit(validateEstimateConfig(cfg));
  return readings.map((r) => estimateStep(st, r));
}
function ests(outs: EstimateOutcome[]): Estimate[] {
  return outs.filter((o) => o.estimate).map((o) => o.estimate as Estimate);
}

describe('estimate: ready models', () => {
  it('local level: converges to the true level with a calibrated variance (~95 % of errors within ±1.96σ)', () => {
    const g = gaussian(1);
    const q = 0.01;
    const r = 1;
    let x = 50;
    const truth: number[] = [];
    const readings: Reading[] = [];
    for (let i = 0; i < 6000; i++) {
      x += Math.sqrt(q) * g();
      truth.push(x);
      readings.push(rd('melt_temp', x + Math.sqrt(r) * g(), T0 + i * 1000));
    }
    const out = ests(run({ model: 'local-level', levelVarPerS: q, measurementVar: r }, readings));
    expect(out).to.have.length(6000);
    let inside = 0;
    let sq = 0;
    let vSum = 0;
    const from = 100;
    for (let i = from; i < out.length; i++) {
      const err = out[i].value - truth[i];
      if (Math.abs(err) <= 1.96 * Math.sqrt(out[i].variance)) inside++;
      sq += err * err;
      vSum += out[i].variance;
    }
    const n = out.length - from;
    const coverage = inside / n;
    expect(coverage).to.be.within(0.93, 0.97);
    // The reported variance is the real mean squared error (within sampling error).
    expect(sq / vSum).to.be.within(0.85, 1.15);
    // Filtering helps: the estimate is closer to the truth than the raw readings (MSE ≈ R).
    expect(sq / n).to.be.lessThan(0.2 * r);
    expect(out.slice(from).filter((e) => e.quality !== 'good').length / n).to.be.lessThan(0.05);
  });

  it('local level on a constant: variance ≈ R/n (the sample mean) when there is no process noise', () => {
    const g = gaussian(2);
    const readings = Array.from({ length: 400 }, (_, i) => rd('t', 20 + 2 * g(), T0 + i * 1000));
    const out = ests(run({ model: 'local-level', levelVarPerS: 0, measurementVar: 4 }, readings));
    const last = out[out.length - 1];
    expect(last.variance).to.be.closeTo(4 / 400, 1e-9);
    const mean = readings.reduce((s, r) => s + r.value, 0) / readings.length;
    expect(last.value).to.be.closeTo(mean, 1e-9);
  });

  it('local trend tracks a ramp (level and slope) where a local level lags it', () => {
    const g = gaussian(3);
    const slope = 0.5; // unit/s
    const readings = Array.from({ length: 600 }, (_, i) => rd('screw_speed', 10 + slope * i + 0.5 * g(), T0 + i * 1000));
    const trend = ests(run({ model: 'local-trend', measurementVar: 0.25, levelVarPerS: 0, slopeVarPerS3: 1e-6 }, readings));
    const level = ests(run({ model: 'local-level', measurementVar: 0.25, levelVarPerS: 1e-3 }, readings));
    const tail = (xs: Estimate[]) => xs.slice(300);
    const meanErr = (xs: Estimate[]) => tail(xs).reduce((s, e, i) => s + (e.value - (10 + slope * (i + 300))), 0) / tail(xs).length;
    expect(Math.abs(meanErr(trend))).to.be.lessThan(0.1);
    expect(meanErr(level)).to.be.lessThan(-2); // behind the ramp
    const st = trend[trend.length - 1].state as { level: number; slopePerS: number };
    expect(st.slopePerS).to.be.closeTo(slope, 0.01);
    expect(trend[trend.length - 1].covariance).to.have.length(2);
    expect(trend[trend.length - 1].model).to.equal('kalman/local-trend');
    // The local level does not fit a ramp: the NIS check says so.
    expect(tail(level).every((e) => e.quality === 'uncertain' && /model misfit \(NIS/.test(e.qualityReason ?? ''))).to.equal(true);
    expect(tail(trend).filter((e) => e.quality === 'good').length).to.be.greaterThan(0.95 * tail(trend).length);
  });

  it('first-order tracks a setpoint step, with the setpoint from another tag', () => {
    const g = gaussian(4);
    const tauS = 30;
    let x = 150;
    let u = 150;
    const readings: Reading[] = [rd('zone1_sp', 150, T0 - 1)];
    const truth: number[] = [];
    for (let i = 0; i < 900; i++) {
      if (i === 300) {
        u = 200;
        readings.push(rd('zone1_sp', 200, T0 + i * 1000 - 1)); // the step, just before the next sample
      }
      const a = Math.exp(-1 / tauS);
      if (i > 0) x = a * x + (1 - a) * u + 0.05 * g();
      truth.push(x);
      readings.push(rd('zone1_temp', x + 0.5 * g(), T0 + i * 1000, { unit: 'degC' }));
    }
    const cfg = { measurementVar: 0.25, levelVarPerS: 0.0025, tauS, gain: 1, pairs: [{ tag: 'zone1_temp', inputTag: 'zone1_sp' }] };
    const outs = run({ model: 'first-order', ...cfg }, readings);
    expect(outs.filter((o) => o.note?.startsWith('input for zone1_temp'))).to.have.length(2);
    const fo = ests(outs);
    const ll = ests(
      run(
        { model: 'local-level', ...cfg },
        readings.filter((r) => r.tag === 'zone1_temp'),
      ),
    );
    expect(fo).to.have.length(900);
    const rms = (xs: Estimate[], lo: number, hi: number) =>
      Math.sqrt(xs.slice(lo, hi).reduce((s, e, i) => s + (e.value - truth[lo + i]) ** 2, 0) / (hi - lo));
    // During the transient the first-order model knows where the temperature is heading.
    expect(rms(fo, 300, 400)).to.be.lessThan(0.35);
    expect(rms(ll, 300, 400)).to.be.greaterThan(2 * rms(fo, 300, 400));
    expect(fo[899].value).to.be.closeTo(200, 1);
    expect(fo[899].unit).to.equal('degC');
    expect(fo.slice(320, 400).every((e) => e.quality === 'good')).to.equal(true);
    expect(fo[0].model).to.equal('kalman/first-order');
  });

  it('first-order without a setpoint reading yet: estimated, but uncertain ("no input yet")', () => {
    const out = ests(
      run({ model: 'first-order', pairs: [{ tag: 'zone1_temp', inputTag: 'zone1_sp' }] }, [
        rd('zone1_temp', 180, T0),
        rd('zone1_temp', 181, T0 + 1000),
      ]),
    );
    expect(out.map((e) => [e.quality, e.qualityReason])).to.deep.equal([
      ['uncertain', 'no input yet'],
      ['uncertain', 'no input yet'],
    ]);
  });

  it('fusion: simultaneous readings give the inverse-variance weighted mean; the precise sensor weighs more', () => {
    const cfg = {
      model: 'fusion',
      levelVarPerS: 0,
      fusedTag: 'zone1_temp_fused',
      sensors: [
        { tag: 'tc_a', measurementVar: 0.04 },
        { tag: 'tc_b', measurementVar: 4 },
      ],
    };
    const out = ests(run(cfg, [rd('tc_a', 200, T0), rd('tc_b', 210, T0)]));
    const exp = inverseVarianceMean([200, 210], [0.04, 4]);
    expect(out[1].value).to.be.closeTo(exp.value, 1e-9);
    expect(out[1].variance).to.be.closeTo(exp.variance, 1e-12);
    expect(out[1].value - 200).to.be.lessThan(210 - out[1].value); // nearer the precise sensor
    expect(out[1]).to.include({ tag: 'zone1_temp_fused', model: 'kalman/fusion', asset: ASSET });

    // Over a long run the fused error is about the precise sensor's, far below the noisy one's.
    const g = gaussian(5);
    const readings: Reading[] = [];
    for (let i = 0; i < 2000; i++) {
      readings.push(rd('tc_a', 200 + 0.2 * g(), T0 + i * 1000));
      readings.push(rd('tc_b', 200 + 2 * g(), T0 + i * 1000));
    }
    const fused = ests(run({ ...cfg, levelVarPerS: 0.01 }, readings));
    const mse = fused.slice(200).reduce((s, e) => s + (e.value - 200) ** 2, 0) / (fused.length - 200);
    expect(mse).to.be.lessThan(0.04);
  });

  it('fusion skips a bad sensor reading and ignores tags that are not sensors', () => {
    const cfg = {
      model: 'fusion',
      fusedTag: 'f',
      sensors: [
        { tag: 'a', measurementVar: 1 },
        { tag: 'b', measurementVar: 1 },
      ],
    };
    const outs = run(cfg, [
      rd('a', 10, T0),
      rd('b', 99, T0 + 1000, { quality: 'bad', qualityReason: 'BadSensorFailure' }),
      rd('c', 5, T0 + 1000),
      rd('b', 12, T0 + 2000),
    ]);
    expect(outs[1].estimate).to.equal(undefined);
    expect(outs[1].note).to.match(/bad reading of sensor b skipped/);
    expect(outs[2].note).to.match(/not a configured sensor/);
    const without = run(cfg, [rd('a', 10, T0), rd('b', 12, T0 + 2000)]);
    expect(outs[3].estimate).to.deep.equal(without[1].estimate);
  });
});
