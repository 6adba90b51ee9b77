import { expect } from 'chai';
import { PlantEngine, runHeadless, rowsToCsv, type HeadlessRow } from '../../examples/plant-sim/engine.js';
import { PLANT, applyCommand, initialState, sample, step, trueValues, type PlantState } from '../../examples/plant-sim/model.js';
import { SimError, parseSimCommand } from '../../examples/plant-sim/faults.js';
import { TAG_NAMES, sparkplugAlias, type TagName } from '../../examples/plant-sim/tags.js';

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function run(state: PlantState, ms: number, stepMs = 100): PlantState {
  for (let t = 0; t < ms; t += stepMs) state = step(state, stepMs);
  return state;
}
function fresh(over: Partial<Parameters<typeof initialState>[0]> = {}): PlantState {
  return initialState({ seed: 7, startTsMs: T0, daysToFailure: 30, ...over });
}
const values = (rows: HeadlessRow[], tag: TagName) => rows.map((r) => r.readings[tag].value);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('plant-sim model', function () {
  describe('determinism', function () {
    const opts = { seed: 42, startTsMs: T0, publishIntervalMs: 1000 };
    const cmds = [
      { atMs: 60_000, command: 'set zone2_sp 215' },
      { atMs: 90_000, command: 'spike melt_pressure 30 0.1' },
    ];

    it('repeats exactly for the same seed, start and options', function () {
      const a = runHeadless(opts, 10 * MIN, cmds);
      const b = runHeadless(opts, 10 * MIN, cmds);
      expect(a).to.have.length(601);
      expect(a).to.deep.equal(b);
    });

    it('differs for another seed', function () {
      const a = runHeadless(opts, 2 * MIN);
      const b = runHeadless({ ...opts, seed: 43 }, 2 * MIN);
      expect(values(a, 'zone1_temp')).to.not.deep.equal(values(b, 'zone1_temp'));
    });

    it('gives the same samples whatever the chunks time is advanced in (speed factor)', function () {
      const whole: HeadlessRow[] = [];
      new PlantEngine(opts, (tsMs, readings) => whole.push({ tsMs, readings })).advance(5 * MIN);
      const chunked: HeadlessRow[] = [];
      const e = new PlantEngine(opts, (tsMs, readings) => chunked.push({ tsMs, readings }));
      // Uneven chunks, as a wall-clock driver at any speed produces them (whole steps each).
      const chunks = [100, 300, 1700, 12_300, 900, 45_000];
      let done = 0;
      for (let i = 0; done < 5 * MIN; i++) {
        const c = Math.min(chunks[i % chunks.length], 5 * MIN - done);
        e.advance(c);
        done += c;
      }
      expect(chunked).to.deep.equal(whole);
    });

    it('timestamps samples every publishIntervalMs of simulated time from startTsMs', function () {
      const rows = runHeadless({ ...opts, publishIntervalMs: 5000 }, MIN);
      expect(rows.map((r) => r.tsMs - T0)).to.deep.equal(Array.from({ length: 13 }, (_, i) => i * 5000));
    });

    it('refuses a publish interval that is not a multiple of the step', function () {
      expect(() => runHeadless({ ...opts, publishIntervalMs: 150 }, MIN)).to.throw(SimError, /multiple of stepMs/);
    });
  });

  describe('dynamics', function () {
    it('a zone follows its setpoint as a first-order lag: ~63 % of the step after one time constant', function () {
      let s = run(fresh(), 5 * MIN);
      const before = trueValues(s).zone1_temp;
      s = applyCommand(s, { type: 'write', tag: 'zone1_sp', value: before + 20 });
      const tauMs = PLANT.zoneTauS[0] * 1000;
      const half = run(s, tauMs / 2);
      const one = run(s, tauMs);
      const five = run(s, 5 * tauMs);
      const frac = (x: PlantState) => (trueValues(x).zone1_temp - before) / 20;
      expect(frac(half)).to.be.within(0.35, 0.45); // 1 − e^−0.5 = 0.39
      expect(frac(one)).to.be.within(0.6, 0.66); // 1 − e^−1 = 0.632
      expect(frac(five)).to.be.above(0.98);
      // The heater works harder while heating up than in the new steady state.
      expect(trueValues(half).zone1_heater_kw).to.be.above(trueValues(five).zone1_heater_kw);
      expect(trueValues(five).zone1_heater_kw).to.be.above(trueValues(s).zone1_heater_kw);
    });

    it('a lower setpoint cools only through losses when the heater is off (slower than the lag)', function () {
      let s = run(fresh(), MIN);
      s = applyCommand(s, { type: 'write', tag: 'zone3_sp', value: 150 });
      const after = run(s, PLANT.zoneTauS[2] * 1000);
      expect(trueValues(after).zone3_heater_kw).to.equal(0);
      const frac = (215 - trueValues(after).zone3_temp) / (215 - 150);
      expect(frac).to.be.above(0.05).and.below(0.6);
    });

    it('screw speed raises throughput, motor power, current and melt pressure', function () {
      const at = (rpm: number) => trueValues(run(applyCommand(fresh(), { type: 'write', tag: 'screw_speed_sp', value: rpm }), 10 * MIN));
      const slow = at(50);
      const fast = at(110);
      expect(fast.throughput).to.be.above(slow.throughput * 2);
      expect(fast.motor_power).to.be.above(slow.motor_power * 1.5);
      expect(fast.motor_current).to.be.above(slow.motor_current);
      expect(fast.melt_pressure).to.be.above(slow.melt_pressure * 1.3);
      expect(fast.melt_temp).to.be.above(slow.melt_temp); // viscous heating
      expect(fast.screw_speed).to.be.closeTo(110, 0.5);
    });

    it('wear raises vibration and motor power over simulated days, then trips the line', function () {
      const rows = runHeadless({ seed: 3, startTsMs: T0, stepMs: 1000, publishIntervalMs: 10 * MIN, daysToFailure: 10 }, 12 * DAY);
      const day = (d: number, tag: TagName) =>
        mean(rows.filter((r) => r.tsMs >= T0 + d * DAY && r.tsMs < T0 + (d + 1) * DAY).map((r) => r.readings[tag].value));
      expect(day(5, 'vibration')).to.be.above(day(0, 'vibration') + 0.5);
      expect(day(8, 'vibration')).to.be.above(day(5, 'vibration') + 2);
      expect(day(8, 'motor_power')).to.be.above(day(0, 'motor_power') * 1.1);
      const trip = rows.findIndex((r) => r.readings.alarm.value === 1);
      expect(trip, 'a trip happens').to.be.greaterThan(0);
      const tripDay = (rows[trip].tsMs - T0) / DAY;
      expect(tripDay).to.be.within(8, 10.5);
      const after = rows[trip + 6];
      expect(after.readings.mode.value).to.equal(0);
      expect(after.readings.screw_speed.value).to.be.below(1); // interlock stopped the drive
      expect(after.readings.throughput.value).to.be.below(1);
    });

    it('maintenance resets wear and a reset returns the line to AUTO', function () {
      let s = run(fresh({ initialWear: 0.999 }), 30_000);
      expect(s.alarm).to.equal(1);
      expect(s.tripReason).to.equal('vibration high');
      s = applyCommand(s, { type: 'maintain' });
      s = run(s, MIN);
      expect(s.alarm).to.equal(0);
      expect(s.mode).to.equal(1);
      expect(s.screwSpeedRpm).to.be.closeTo(80, 0.5);
      expect(trueValues(s).vibration).to.be.below(2);
    });

    it('counters only go up; energy follows power', function () {
      const rows = runHeadless({ seed: 1, startTsMs: T0, publishIntervalMs: 10_000 }, HOUR);
      const parts = values(rows, 'part_count');
      const energy = values(rows, 'energy_kwh');
      for (let i = 1; i < rows.length; i++) {
        expect(parts[i]).to.be.at.least(parts[i - 1]);
        expect(energy[i]).to.be.at.least(energy[i - 1]);
      }
      // 1 h at ≈160 kg/h with 0.8 kg parts.
      expect(parts.at(-1)).to.be.within(180, 220);
      const meanKw = mean(
        rows.map(
          (r) =>
            r.readings.motor_power.value +
            r.readings.zone1_heater_kw.value +
            r.readings.zone2_heater_kw.value +
            r.readings.zone3_heater_kw.value,
        ),
      );
      expect(energy.at(-1)).to.be.closeTo(meanKw, meanKw * 0.02);
    });

    it('disturbances: a starved feed cuts throughput and quality, a clogging screen raises pressure', function () {
      const base = trueValues(run(fresh(), 5 * MIN));
      const starved = trueValues(run(applyCommand(fresh(), { type: 'disturb', kind: 'feed_starve', level: 0.5 }), 5 * MIN));
      expect(starved.throughput).to.be.below(base.throughput * 0.8);
      expect(starved.quality_index).to.be.below(base.quality_index - 10);
      let clog = run(applyCommand(fresh(), { type: 'disturb', kind: 'screen_clog', level: 1 }), HOUR, 1000);
      expect(trueValues(clog).melt_pressure).to.be.above(base.melt_pressure * 1.5);
      clog = run(applyCommand(clog, { type: 'disturb', kind: 'screen_clog', level: 0 }), MIN);
      expect(trueValues(clog).melt_pressure).to.be.closeTo(base.melt_pressure, base.melt_pressure * 0.05);
      const cold = trueValues(run(applyCommand(fresh(), { type: 'disturb', kind: 'ambient_cold', level: 1 }), 5 * MIN));
      expect(cold.zone1_heater_kw).to.be.above(base.zone1_heater_kw);
      expect(cold.zone1_temp).to.be.closeTo(base.zone1_temp, 0.5); // the controller holds the temperature
    });
  });

  describe('PLC limits', function () {
    it('accepts writes inside the hard limits, refuses outside and leaves the state untouched', function () {
      const s = fresh();
      expect(applyCommand(s, { type: 'write', tag: 'zone1_sp', value: 260 }).zoneSpDegC[0]).to.equal(260);
      expect(applyCommand(s, { type: 'write', tag: 'screw_speed_sp', value: 0 }).screwSpeedSpRpm).to.equal(0);
      for (const [tag, value] of [
        ['zone1_sp', 260.5],
        ['zone3_sp', 149],
        ['screw_speed_sp', 121],
        ['screw_speed_sp', -1],
      ] as const) {
        expect(() => applyCommand(s, { type: 'write', tag, value }), `${tag}=${value}`)
          .to.throw(SimError)
          .with.property('code', 'OUT_OF_RANGE');
      }
      expect(() => applyCommand(s, { type: 'write', tag: 'zone1_temp', value: 200 }))
        .to.throw(SimError)
        .with.property('code', 'NOT_WRITABLE');
      expect(() => applyCommand(s, { type: 'write', tag: 'zone1_sp', value: Number.NaN }))
        .to.throw(SimError)
        .with.property('code', 'NOT_FINITE');
      expect(s.zoneSpDegC).to.deep.equal([190, 205, 215]);
      expect(s.screwSpeedSpRpm).to.equal(80);
    });
  });

  describe('sensor faults', function () {
    const opts = { seed: 11, startTsMs: T0, publishIntervalMs: 1000 };

    it('stuck: the reading freezes while the process moves on', function () {
      const rows = runHeadless(opts, 10 * MIN, [
        { atMs: MIN, command: 'stuck zone2_temp' },
        { atMs: MIN, command: 'set zone2_sp 225' },
      ]);
      const after = rows.filter((r) => r.tsMs > T0 + MIN);
      const stuck = new Set(after.map((r) => r.readings.zone2_temp.value));
      expect(stuck.size).to.equal(1);
      expect([...stuck][0]).to.be.closeTo(205, 1);
      expect(after.every((r) => r.readings.zone2_temp.quality === 'good')).to.equal(true);
      // Meanwhile the melt, which the zone heats, did change.
      expect(after.at(-1)!.readings.melt_temp.value).to.be.above(rows[0].readings.melt_temp.value + 3);
    });

    it('drift: the offset grows on the sensor only; the true process is unaffected', function () {
      const clean = new PlantEngine(opts);
      const drifting = new PlantEngine(opts);
      drifting.apply(parseSimCommand('drift zone1_temp 6'));
      clean.advance(2 * HOUR);
      drifting.advance(2 * HOUR);
      expect(trueValues(drifting.state)).to.deep.equal(trueValues(clean.state));
      const offset = drifting.last.readings.zone1_temp.value - clean.last.readings.zone1_temp.value;
      expect(offset).to.be.closeTo(12, 0.01); // 6 degC/h × 2 h
      expect(drifting.last.readings.zone1_temp.quality).to.equal('good');
      expect(drifting.last.readings.zone2_temp.value).to.equal(clean.last.readings.zone2_temp.value);
    });

    it('spike: isolated outliers on a small share of samples', function () {
      const p = 0.05;
      const rows = runHeadless({ ...opts, stepMs: 1000 }, 2000_000, [{ atMs: 0, command: `spike melt_pressure 40 ${p}` }]);
      const x = values(rows, 'melt_pressure');
      const outlier = x.map((v, i) => {
        const nb = [x[i - 2], x[i - 1], x[i + 1], x[i + 2]].filter((y) => y !== undefined).sort((a, b) => a - b);
        return Math.abs(v - (nb[1] + nb[2]) / 2) > 20;
      });
      const n = outlier.filter(Boolean).length;
      expect(n).to.be.within(p * x.length * 0.5, p * x.length * 2);
      const isolated = outlier.filter((o, i) => o && !outlier[i - 1] && !outlier[i + 1]).length;
      expect(isolated / n).to.be.above(0.8);
    });

    it('dropout: quality bad (BadSensorFailure) with the last value held, until cleared', function () {
      const rows = runHeadless(opts, 3 * MIN, [
        { atMs: MIN, command: 'dropout vibration' },
        { atMs: 2 * MIN, command: 'clear vibration' },
      ]);
      const at = (ms: number) => rows.find((r) => r.tsMs === T0 + ms)!.readings;
      expect(at(MIN - 1000).vibration.quality).to.equal('good');
      const during = rows.filter((r) => r.tsMs > T0 + MIN && r.tsMs <= T0 + 2 * MIN);
      expect(
        during.every((r) => r.readings.vibration.quality === 'bad' && r.readings.vibration.qualityReason === 'BadSensorFailure'),
      ).to.equal(true);
      expect(new Set(during.map((r) => r.readings.vibration.value)).size).to.equal(1);
      expect(during.every((r) => r.readings.motor_power.quality === 'good')).to.equal(true);
      expect(at(3 * MIN).vibration.quality).to.equal('good');
      expect(rowsToCsv(rows).split('\n')[61 + 1].split(',')[1 + TAG_NAMES.indexOf('vibration')]).to.equal('');
    });

    it('faults apply to sensor tags only', function () {
      expect(() => parseSimCommand('stuck zone1_sp')).to.throw(SimError, /not a sensor tag/);
      expect(() => parseSimCommand('stuck part_count')).to.throw(SimError, /not a sensor tag/);
    });
  });

  describe('commands and tag table', function () {
    it('parses every command', function () {
      expect(parseSimCommand('drift zone1_temp 2.5')).to.deep.equal({
        type: 'fault',
        fault: { tag: 'zone1_temp', kind: 'drift', ratePerHour: 2.5 },
      });
      expect(parseSimCommand('  disturb feed_starve 0.3 ')).to.deep.equal({ type: 'disturb', kind: 'feed_starve', level: 0.3 });
      expect(parseSimCommand('set screw_speed_sp 90')).to.deep.equal({ type: 'write', tag: 'screw_speed_sp', value: 90 });
      expect(parseSimCommand('clear')).to.deep.equal({ type: 'clear' });
      expect(parseSimCommand('spike vibration')).to.deep.include({ type: 'fault' });
      expect(parseSimCommand('maintain')).to.deep.equal({ type: 'maintain' });
    });

    it('rejects bad commands with a specific reason', function () {
      expect(() => parseSimCommand('')).to.throw(SimError, /unknown command/);
      expect(() => parseSimCommand('explode zone1_temp')).to.throw(SimError, /unknown command: explode/);
      expect(() => parseSimCommand('drift nosuch 2')).to.throw(SimError, /unknown tag: nosuch/);
      expect(() => parseSimCommand('drift zone1_temp fast')).to.throw(SimError, /must be a number/);
      expect(() => parseSimCommand('disturb feed_starve 2')).to.throw(SimError, /0\.\.1/);
      expect(() => parseSimCommand('disturb earthquake 1')).to.throw(SimError, /unknown disturbance/);
      expect(() => parseSimCommand('spike vibration 3 1.5')).to.throw(SimError, /probability/);
    });

    it('Sparkplug aliases are the 1-based tag index and the contract tags are all present', function () {
      expect(sparkplugAlias('zone1_temp')).to.equal(1);
      expect(sparkplugAlias('mass_kg')).to.equal(TAG_NAMES.length);
      for (const t of [
        'zone1_temp',
        'zone3_sp',
        'zone2_heater_kw',
        'screw_speed',
        'screw_speed_sp',
        'melt_pressure',
        'melt_temp',
        'motor_power',
        'motor_current',
        'vibration',
        'throughput',
        'part_count',
        'energy_kwh',
        'quality_index',
        'mode',
        'alarm',
        'mass_kg',
      ]) {
        expect(TAG_NAMES).to.include(t);
      }
    });

    it('sample() is pure: the same state gives the same readings', function () {
      const s = run(fresh(), MIN);
      expect(sample(s)).to.deep.equal(sample(s));
    });
  });
});
