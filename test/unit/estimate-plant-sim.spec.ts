/**
 * The estimator on the plant simulator's heater zone (notes/sim-contract.md): zone1_temp follows
 * zone1_sp as a first-order lag (τ = 150 s) measured by a thermocouple with 0.15 degC noise. The
 * first-order model, fed the setpoint tag, tracks a setpoint step better than the raw readings
 * and predicts through a sensor dropout (bad quality) without being pulled by it.
 */
import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit } from '../../runtime/estimate/step.js';
import { runHeadless } from '../../examples/plant-sim/engine.js';
import { PLANT } from '../../examples/plant-sim/model.js';

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
const MIN = 60_000;
const ASSET = 'demo/plant1/extrusion/line1/extruder';

describe('estimate: first-order model on the plant simulator (zone 1)', function () {
  const stepAtMs = 5 * MIN;
  const tauS = PLANT.zoneTauS[0];
  const truth = (tsMs: number) => (tsMs - T0 < stepAtMs ? 190 : 215 + (190 - 215) * Math.exp(-(tsMs - T0 - stepAtMs) / 1000 / tauS));
  const est: Array<{ e: Estimate; raw: Reading }> = [];

  before(function () {
    const rows = runHeadless({ seed: 3, startTsMs: T0, publishIntervalMs: 1000 }, 20 * MIN, [
      { atMs: stepAtMs, command: 'set zone1_sp 215' },
      { atMs: 12 * MIN, command: 'dropout zone1_temp' },
      { atMs: 13 * MIN, command: 'clear zone1_temp' },
    ]);
    const st = estimatorInit(
      validateEstimateConfig({
        model: 'first-order',
        tauS,
        gain: 1,
        measurementVar: 0.15 ** 2,
        levelVarPerS: 1e-5,
        pairs: [{ tag: 'zone1_temp', inputTag: 'zone1_sp' }],
      }),
    );
    for (const row of rows) {
      for (const tag of ['zone1_sp', 'zone1_temp'] as const) {
        const s = row.readings[tag];
        const r: Reading = { asset: ASSET, tag, value: s.value, tsMs: row.tsMs, quality: s.quality, source: 'sim', unit: 'degC' };
        if ('qualityReason' in s && typeof s.qualityReason === 'string') r.qualityReason = s.qualityReason;
        const o = estimateStep(st, r);
        expect(o.error).to.equal(undefined);
        if (o.estimate) est.push({ e: o.estimate, raw: r });
      }
    }
  });
  const window = (fromMs: number, toMs: number) => est.filter(({ e }) => e.tsMs - T0 >= fromMs && e.tsMs - T0 < toMs);

  it('tracks the setpoint step closer to the true zone temperature than the thermocouple', function () {
    const w = window(stepAtMs + 10_000, 12 * MIN);
    const rms = (f: (x: { e: Estimate; raw: Reading }) => number) =>
      Math.sqrt(w.reduce((s, x) => s + (f(x) - truth(x.e.tsMs)) ** 2, 0) / w.length);
    const rmsEst = rms((x) => x.e.value);
    const rmsRaw = rms((x) => x.raw.value);
    expect(rmsRaw).to.be.within(0.1, 0.2); // the simulator's thermocouple noise
    expect(rmsEst).to.be.lessThan(0.5 * rmsRaw);
    // Good, except for the NIS check's own false alarms (confidence 0.99, exact χ² bound): at most 1 % of the readings.
    const misfit = w.filter(({ e }) => e.quality !== 'good');
    expect(misfit.every(({ e }) => e.quality === 'uncertain' && /^model misfit \(NIS/.test(e.qualityReason ?? ''))).to.equal(true);
    expect(misfit.length / w.length).to.be.at.most(0.01);
    const inside = w.filter(({ e }) => Math.abs(e.value - truth(e.tsMs)) <= 1.96 * Math.sqrt(e.variance)).length;
    expect(inside / w.length).to.be.greaterThan(0.9);
  });

  it('predicts through a sensor dropout: uncertain, not pulled by the bad readings, and good again after', function () {
    const during = window(12 * MIN + 1000, 13 * MIN);
    expect(during.length).to.be.greaterThan(50);
    expect(
      during.every(
        ({ e, raw }) => raw.quality === 'bad' && e.quality === 'uncertain' && /^input bad.*prediction only$/.test(e.qualityReason ?? ''),
      ),
    ).to.equal(true);
    expect(during.every(({ e }) => Math.abs(e.value - truth(e.tsMs)) < 0.3)).to.equal(true);
    // The variance grows while nothing is measured, and shrinks again once readings return.
    expect(during[during.length - 1].e.variance).to.be.greaterThan(during[0].e.variance);
    const after = window(13 * MIN + 30_000, 20 * MIN);
    expect(after.every(({ e }) => e.quality === 'good')).to.equal(true);
    expect(after[after.length - 1].e.variance).to.be.lessThan(during[during.length - 1].e.variance);
  });
});
