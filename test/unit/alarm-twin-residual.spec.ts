/**
 * twin-alarm's runtime on what the twin did not expect: the estimate's one-step-ahead prediction
 * (runtime/estimate/step.ts → Estimate.predicted / innovationVar) scored by AnomalyAlarms, on the
 * plant simulator's engine in event time; and the on-delay that no longer lets a learned baseline
 * absorb a sustained step before the alarm is confirmed.
 */
import { expect } from 'chai';
import { alarmRows } from '../../runtime/alarm/alarm-actions.js';
import { PlantEngine } from '../../examples/plant-sim/engine.js';
import { parseSimCommand } from '../../examples/plant-sim/faults.js';
import { PLANT } from '../../examples/plant-sim/model.js';
import { SENSOR_TAGS } from '../../examples/plant-sim/tags.js';
import { AnomalyAlarms, type AnomalyAlarmsConfig } from '../../runtime/alarm/anomaly-alarms.js';
import { AlarmManager } from '../../runtime/alarm/manager.js';
import { anomalyAlarmScore } from '../../runtime/alarm/score.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { AnomalyDetector } from '../../runtime/anomaly/detector.js';
import { validateEstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit, type EstimatorState } from '../../runtime/estimate/step.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import type { Reading } from '../../runtime/model/reading.js';
import { gauss } from '../support/drift-mv-data.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const T0 = Date.UTC(2026, 2, 2, 6, 0, 0);
const MIN = 60_000;

const raisedOf = (evs: AlarmEvent[]): AlarmEvent[] => evs.filter((e) => e.kind === 'raised' && e.annunciated);

/**
 * The simulator at 1 Hz → first-order estimates of zone1_temp (on zone1_sp) and throughput (on
 * screw_speed_sp) → AnomalyAlarms; the other sensor tags go in as Readings (related tags, unwatched).
 */
function simChain(commands: Array<{ atMs: number; command: string }>, durationMs: number, cfg: Partial<AnomalyAlarmsConfig> = {}) {
  const models = [
    { tag: 'zone1_temp', inputTag: 'zone1_sp', tauS: PLANT.zoneTauS[0], gain: 1, sd: 0.15 },
    { tag: 'throughput', inputTag: 'screw_speed_sp', tauS: PLANT.screwTauS, gain: PLANT.throughputKgphPerRpm, sd: 0.6 },
  ];
  const feeds = new Map<string, EstimatorState[]>();
  for (const m of models) {
    const st = estimatorInit(
      validateEstimateConfig({
        model: 'first-order',
        tauS: m.tauS,
        gain: m.gain,
        measurementVar: m.sd ** 2,
        levelVarPerS: 1e-3 * m.sd ** 2,
        pairs: [{ tag: m.tag, inputTag: m.inputTag }],
      }),
    );
    for (const t of [m.tag, m.inputTag]) feeds.set(t, [...(feeds.get(t) ?? []), st]);
  }
  let clockMs = T0;
  const alarms = new AnomalyAlarms({ watch: models.map((m) => m.tag), ...cfg }, () => clockMs);
  const events: AlarmEvent[] = [];
  const estimates: Array<{ e: Estimate; raw: number }> = [];
  const tags = [...SENSOR_TAGS, 'zone1_sp', 'screw_speed_sp'];
  const engine = new PlantEngine({ seed: 11, startTsMs: T0, publishIntervalMs: 1000 }, (tsMs, readings) => {
    clockMs = tsMs;
    for (const tag of tags) {
      const s = readings[tag as keyof typeof readings] as { value: number; quality: Reading['quality'] };
      const r: Reading = { asset: ASSET, tag, value: s.value, tsMs, quality: s.quality, source: 'sim' };
      const fed = feeds.get(tag);
      for (const st of fed ?? []) {
        const o = estimateStep(st, r);
        if (o.estimate) {
          if (o.estimate.tag === tag) estimates.push({ e: o.estimate, raw: r.value });
          events.push(...alarms.push(o.estimate));
        }
      }
      if (!models.some((m) => m.tag === tag) && !tag.endsWith('_sp')) events.push(...alarms.push(r));
    }
  });
  for (const c of commands) {
    engine.advance(c.atMs - engine.elapsedMs);
    engine.apply(parseSimCommand(c.command));
  }
  engine.advance(durationMs - engine.elapsedMs);
  return { events, estimates, alarms };
}

describe('twin residual: alarms on what the twin did not expect', function () {
  it('the Estimate carries the prediction: predicted + innovation is the reading, innovation²/innovationVar its NIS', function () {
    const { estimates } = simChain([], 3 * MIN);
    const scored = estimates.filter(({ e }) => e.innovation !== undefined);
    expect(scored.length).to.be.greaterThan(100);
    for (const { e, raw } of scored) {
      expect((e.predicted as number) + (e.innovation as number)).to.be.closeTo(raw, 1e-9);
      expect(e.innovationVar).to.be.greaterThan(0);
      expect((e.innovation as number) ** 2 / (e.innovationVar as number)).to.be.closeTo(e.nis as number, 1e-9);
    }
  });

  it('a setpoint step the model predicts raises nothing', function () {
    const { events } = simChain(
      [
        { atMs: 15 * MIN, command: 'set zone1_sp 200' },
        { atMs: 30 * MIN, command: 'set screw_speed_sp 90' },
      ],
      45 * MIN,
    );
    expect(raisedOf(events)).to.deep.equal([]);
  });

  it('the same setpoint step on the learned baseline (readings, no model) does raise an alarm', function () {
    const { events } = simChain([{ atMs: 15 * MIN, command: 'set zone1_sp 200' }], 45 * MIN, { method: 'learned-baseline' });
    expect(raisedOf(events).map((e) => e.alarmId)).to.include(`${ASSET}/zone1_temp`);
  });

  it('a stuck sensor: one alarm, a sensor fault of type stuck, with its evidence', function () {
    const { events, alarms } = simChain([{ atMs: 15 * MIN, command: 'stuck zone1_temp' }], 30 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].alarmId).to.equal(`${ASSET}/zone1_temp`);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'stuck', method: 'twin-residual' });
    expect(raised[0].cause?.reason).to.match(/^stuck: /);
    expect(raised[0].tsMs).to.be.greaterThan(T0 + 15 * MIN);
    // the overview words it as what it is: off the twin's prediction, not "unusual for its own history"
    const row = alarmRows([
      { id: 'a1', name: 'alarms', maxShelveMs: 0, recordedIn: '', list: () => alarms.list(), act: () => Promise.reject(new Error('no')) },
    ]);
    expect(row.find((r) => r.alarmId === raised[0].alarmId)?.message).to.match(/^zone1_temp: off the twin's prediction \(score /);
  });

  it('a fast sensor drift: one alarm, a sensor fault (no related tag moved)', function () {
    const { events } = simChain([{ atMs: 15 * MIN, command: 'drift zone1_temp 60' }], 30 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'drift' });
    const ev = raised[0].cause?.evidence as { corroboration: { perTag: string[] } };
    expect(ev.corroboration.perTag).to.deep.equal([]);
  });

  it('a slow drift the filter follows (3 °C/h): the residuals lean one way — one alarm, a sensor drift', function () {
    const { events } = simChain([{ atMs: 60 * MIN, command: 'drift zone1_temp 3' }], 100 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].tsMs).to.be.greaterThan(T0 + 60 * MIN);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'drift', method: 'twin-residual' });
  });

  it('recurring spikes (5 % of readings): one alarm, a sensor fault of type spike', function () {
    const { events } = simChain([{ atMs: 15 * MIN, command: 'spike zone1_temp' }], 30 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'spike' });
  });

  it('a sensor dropout: one alarm, a sensor fault of type dropout', function () {
    const { events } = simChain([{ atMs: 15 * MIN, command: 'dropout zone1_temp' }], 25 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].cause).to.include({ kind: 'sensor-fault', faultType: 'dropout' });
  });

  it('feed starvation (several related tags move): a process change, with the tags that moved as evidence', function () {
    const { events } = simChain([{ atMs: 15 * MIN, command: 'disturb feed_starve 0.5' }], 25 * MIN);
    const raised = raisedOf(events);
    expect(raised).to.have.length(1);
    expect(raised[0].alarmId).to.equal(`${ASSET}/throughput`);
    expect(raised[0].cause?.kind).to.equal('process-change');
    const ev = raised[0].cause?.evidence as { corroboration: { perTag: string[] } };
    expect(ev.corroboration.perTag).to.include.members(['melt_pressure', 'motor_power']);
  });

  it('the overview page gets the cause of the latest raise with each alarm: kind, tags that moved and tags that did not', function () {
    const { alarms } = simChain([{ atMs: 15 * MIN, command: 'disturb feed_starve 0.5' }], 25 * MIN);
    const shown = alarms.list().find((v) => v.alarmId === `${ASSET}/throughput`);
    expect(shown?.classification?.kind).to.equal('process-change');
    expect(shown?.classification?.moved).to.include.members(['melt_pressure', 'motor_power']);
    expect(shown?.classification?.still).to.not.include('melt_pressure');
    // an alarm never raised has no classification
    expect(alarms.list().filter((v) => v.alarmId !== `${ASSET}/throughput` && v.classification)).to.deep.equal([]);
  });

  it('keeps state for at most maxTags tags: one more is refused with an error, the known ones go on and none is evicted', function () {
    const a = new AnomalyAlarms({ maxTags: 3 }, () => T0);
    const r = (tag: string, i: number) => ({ asset: ASSET, tag, value: 1, tsMs: T0 + i * 1000, quality: 'good', source: 't' });
    for (const tag of ['a', 'b', 'c_sp']) a.push(r(tag, 0)); // a known input counts as well
    expect(() => a.push(r('d', 1))).to.throw(/already keeps 3 tags .*refused/);
    expect(() => a.push(r('a', 1))).to.not.throw();
    expect(() => a.push(r('b', 2))).to.not.throw();
    expect(() => new AnomalyAlarms({ maxTags: 0 })).to.throw(/max tags/);
  });

  it("method 'twin-residual' refuses a Reading; an unknown method is a config error", function () {
    const a = new AnomalyAlarms({ method: 'twin-residual' }, () => T0);
    expect(() => a.push({ asset: ASSET, tag: 'x', value: 1, tsMs: T0, quality: 'good', source: 't' })).to.throw(/needs an Estimate/);
    expect(() => new AnomalyAlarms({ method: 'bogus' as never })).to.throw(/method must be one of/);
  });
});

describe('on-delay without re-learning (learned baseline)', function () {
  const N = 600;
  const STEP = 10;
  /** 600 s of noise (σ 1), then a sustained step of 10 σ for 300 s. */
  const series = (): number[] => {
    const g = gauss(5);
    return Array.from({ length: N + 300 }, (_, i) => 50 + g() + (i >= N ? STEP : 0));
  };

  it('a sustained step raises one alarm with the default (learned-baseline) on-delay', function () {
    const a = new AnomalyAlarms({}, () => T0);
    const evs = series().flatMap((v, i) =>
      a.push({ asset: ASSET, tag: 'melt_temp', value: v, tsMs: T0 + i * 1000, quality: 'good', source: 't' }),
    );
    const raised = raisedOf(evs);
    expect(raised).to.have.length(1);
    expect(raised[0].startTsMs).to.be.within(T0 + N * 1000, T0 + (N + 5) * 1000);
    expect(raised[0].cause?.kind).to.equal('unclassified'); // one tag alone, nothing to compare with
  });

  it('without the freeze the baseline absorbs the same step before the 30 s on-delay ends: no alarm (the old behaviour)', function () {
    const d = new AnomalyDetector();
    const m = new AlarmManager({ now: () => T0 });
    const evs = series().flatMap((v, i) => m.update('melt_temp', anomalyAlarmScore(d.step(T0 + i * 1000, v)), T0 + i * 1000));
    expect(raisedOf(evs)).to.deep.equal([]);
  });
});
