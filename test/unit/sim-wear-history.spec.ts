/**
 * Run-to-failure histories of the simulator's gearbox bearing (examples/plant-sim/wear-history.ts) and the demo's
 * bearing RUL model fitted on them (scripts/make-bearing-model.ts → models/bearing-rul-model.json).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simWearHistories } from '../../examples/plant-sim/wear-history.js';
import { estimateRulTrend, trendModelFromJson } from '../../runtime/maintenance/rul-trend.js';
import { PLANT } from '../../examples/plant-sim/model.js';
import { assetPath } from '../../examples/plant-sim/tags.js';
import { TwinError } from '../../runtime/model/errors.js';
import { makeBearingModel } from '../../scripts/make-bearing-model.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** wear at which the true vibration at nominal speed reaches the trip: 0.3 + 1.2 + 10.5 w³ */
const TRIP_WEAR = Math.cbrt((PLANT.tripVibrationMmS - 0.3 - 1.2) / 10.5);
const MODEL_FILE = join(__dirname, '..', '..', 'models', 'bearing-rul-model.json');

describe('maintenance: simulated bearing run-to-failure histories', function () {
  it('ends each unit at the vibration trip, at the time the wear rate gives', function () {
    const [u] = simWearHistories({ units: 1, daysToFailure: [10, 10], initialWear: [0.5, 0.5] });
    const lifeMs = u.tsMs[u.tsMs.length - 1] - u.tsMs[0];
    const expectedMs = (TRIP_WEAR - 0.5) * 10 * DAY;
    expect(Math.abs(lifeMs - expectedMs)).to.be.at.most(2 * 60_000);
    const vib = u.values.map((r) => r[0]);
    // 0.08 mm/s instrument noise: the trip sample is high, every earlier one below the trip level
    expect(vib[vib.length - 1]).to.be.above(PLANT.tripVibrationMmS - 0.4);
    expect(Math.max(...vib.slice(0, -1))).to.be.below(PLANT.tripVibrationMmS + 0.4);
    expect(vib[0]).to.be.within(0.3 + 1.2 + 10.5 * 0.125 - 0.4, 0.3 + 1.2 + 10.5 * 0.125 + 0.4);
    for (let r = 1; r < u.tsMs.length - 1; r++) expect(u.tsMs[r] - u.tsMs[r - 1]).to.equal(HOUR);
    expect(u.channels).to.deep.equal(['vibration']);
  });

  it('varies the wear rate and initial wear over the units, deterministically', function () {
    const opts = { units: 6, seed: 3, daysToFailure: [4, 8] as [number, number], initialWear: [0.2, 0.6] as [number, number] };
    const units = simWearHistories(opts);
    expect(simWearHistories(opts)).to.deep.equal(units);
    expect(simWearHistories({ ...opts, seed: 4 })).to.not.deep.equal(units);
    const lives = units.map((u) => (u.tsMs[u.tsMs.length - 1] - u.tsMs[0]) / DAY);
    expect(new Set(lives.map((d) => d.toFixed(3))).size).to.equal(6);
    for (const d of lives) expect(d).to.be.within((TRIP_WEAR - 0.6) * 4 - 0.01, (TRIP_WEAR - 0.2) * 8 + 0.01);
    for (const u of units) expect(u.values[u.values.length - 1][0]).to.be.above(u.values[0][0] + 3);
  });

  it('records other simulator tags as channels, and refuses unknown tags and bad ranges', function () {
    const [u] = simWearHistories({ units: 1, daysToFailure: [3, 3], initialWear: [0.5, 0.5], tags: ['vibration', 'motor_power'] });
    expect(u.channels).to.deep.equal(['vibration', 'motor_power']);
    // the worn bearing's losses raise the drive power (1 + 0.35 wear²)
    expect(u.values[u.values.length - 1][1]).to.be.above(u.values[0][1] + 3);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).to.be.instanceOf(TwinError);
        return (e as TwinError).code;
      }
      return 'none';
    };
    expect(code(() => simWearHistories({ units: 1, tags: ['bearing_temp'] }))).to.equal('BAD_CONFIG');
    expect(code(() => simWearHistories({ units: 0 }))).to.equal('BAD_CONFIG');
    expect(code(() => simWearHistories({ units: 1, daysToFailure: [5, 2] }))).to.equal('BAD_CONFIG');
    expect(code(() => simWearHistories({ units: 1, initialWear: [0, 0.95] }))).to.equal('BAD_CONFIG');
    expect(code(() => simWearHistories({ units: 1, sampleIntervalMs: 90_000 }))).to.equal('BAD_CONFIG');
  });

  describe('the demo bearing model (models/bearing-rul-model.json)', function () {
    const model = trendModelFromJson(JSON.parse(readFileSync(MODEL_FILE, 'utf8')));

    it("is for the demo flow's extruder vibration readings", function () {
      expect(model.signals.channels).to.deep.equal(['vibration']);
      expect(model.asset).to.equal(assetPath());
      const flow = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'demo', 'demo-line.json'), 'utf8')) as Array<{
        items?: Array<{ asset: string; tag: string }>;
      }>;
      const items = flow.flatMap((n) => n.items ?? []).filter((i) => i.tag === 'vibration');
      expect(items.length).to.be.above(0);
      for (const i of items) expect(i.asset).to.equal(model.asset);
    });

    it('is what scripts/make-bearing-model.ts writes (deterministic)', function () {
      this.timeout(120_000);
      expect(JSON.parse(JSON.stringify(makeBearingModel()))).to.deep.equal(JSON.parse(readFileSync(MODEL_FILE, 'utf8')));
    });

    it('forecasts held-out simulated bearings within a day late in life', function () {
      const units = simWearHistories({ units: 5, seed: 500 });
      const errs: number[] = [];
      for (const u of units) {
        const n = u.tsMs.length;
        for (const f of [0.6, 0.8, 0.9]) {
          const rows = Math.round(f * n);
          const est = estimateRulTrend(model, { ...u, tsMs: u.tsMs.slice(0, rows), values: u.values.slice(0, rows) });
          const truth = u.tsMs[n - 1] - u.tsMs[rows - 1];
          errs.push(Math.min(est.rulMs, model.rulCapMs) - Math.min(truth, model.rulCapMs));
        }
      }
      const rmseDays = Math.sqrt(errs.reduce((s, e) => s + e * e, 0) / errs.length) / DAY;
      expect(rmseDays).to.be.below(1);
    });
  });
});
