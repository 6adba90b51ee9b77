import { expect } from 'chai';
import { ChatterDetector } from '../../runtime/alarm/chatter.js';
import { AlarmCondition } from '../../runtime/alarm/condition.js';
import { alarmPriority } from '../../runtime/alarm/priority.js';
import { AlarmRates, rateVerdict, TEN_MIN_MS } from '../../runtime/alarm/rates.js';
import { anomalyAlarmScore } from '../../runtime/alarm/score.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

describe('alarm parts (runtime/alarm/condition, chatter, priority, rates, score)', () => {
  it('condition: on-delay cancelled by a sample below the limit; off-delay restarted by one above', () => {
    const c = new AlarmCondition({ setpoint: 1, deadband: 0, onDelayMs: 2 * MIN, offDelayMs: 2 * MIN });
    expect(c.update(5, T0)).to.equal(undefined);
    expect(c.update(0, T0 + MIN)).to.equal(undefined); // cancelled
    expect(c.update(5, T0 + 2 * MIN)).to.equal(undefined);
    expect(c.update(5, T0 + 4 * MIN)).to.deep.equal({ kind: 'start', startTsMs: T0 + 2 * MIN, tsMs: T0 + 4 * MIN });
    expect(c.update(0, T0 + 5 * MIN)).to.equal(undefined);
    expect(c.update(5, T0 + 6 * MIN)).to.equal(undefined); // back within the off-delay: same episode
    expect(c.update(0, T0 + 7 * MIN)).to.equal(undefined);
    expect(c.tick(T0 + 9 * MIN)).to.deep.equal({ kind: 'end', endTsMs: T0 + 7 * MIN, tsMs: T0 + 9 * MIN });
    expect(c.active).to.equal(false);
  });

  it('condition: booleans ignore setpoint and deadband', () => {
    const c = new AlarmCondition({ setpoint: 100, deadband: 50, onDelayMs: 0, offDelayMs: 0 });
    expect(c.update(true, T0)?.kind).to.equal('start');
    expect(c.update(false, T0 + 1)?.kind).to.equal('end');
  });

  it('chatter: N activations within the window, not N spread wider; released after a quiet window', () => {
    const d = new ChatterDetector(3, MIN);
    expect([d.activation(T0), d.activation(T0 + 40_000), d.activation(T0 + 70_000)]).to.deep.equal([false, false, false]);
    expect(d.activation(T0 + 90_000)).to.equal(true); // 40, 70, 90 s: within 60 s
    expect(d.activation(T0 + 100_000)).to.equal(false); // reported once
    expect(d.released(T0 + 159_999)).to.equal(false);
    expect(d.releaseDueMs).to.equal(T0 + 160_000);
    expect(d.released(T0 + 160_000)).to.equal(true);
    expect(d.chattering).to.equal(false);
    expect(new ChatterDetector(0, MIN).activation(T0)).to.equal(false);
  });

  it('priority matrix', () => {
    expect(alarmPriority('minor', 1, 2)).to.equal('low');
    expect(alarmPriority('minor', 2, 2)).to.equal('medium');
    expect(alarmPriority('moderate', 1, 2)).to.equal('medium');
    expect(alarmPriority('moderate', 5, 2)).to.equal('high');
    expect(alarmPriority('severe', 5, 2)).to.equal('high');
    expect(alarmPriority('severe', NaN, 2)).to.equal('high');
    expect(alarmPriority('moderate', 5, Infinity)).to.equal('medium');
  });

  it('rates: per hour and per 10 min over the time observed, peak per 10-minute interval, floods, verdict', () => {
    const r = new AlarmRates();
    r.observe(T0);
    // line 1: 6 alarms over an hour, one per 10 minutes; line 2: a flood of 12 in one interval
    for (let i = 0; i < 6; i++) r.record('s/a/l1', T0 + i * TEN_MIN_MS + 5 * MIN);
    for (let i = 0; i < 12; i++) r.record('s/a/l2', T0 + 30 * MIN + i * 10_000);
    const f = r.figures(T0 + 60 * MIN);
    const [l1, l2] = f.lines;
    expect(l1).to.include({ line: 's/a/l1', count: 6, spanMs: 60 * MIN, perHour: 6, per10MinAvg: 1, peak10Min: 1 });
    expect(l1).to.include({ floodIntervals: 0, verdict: 'acceptable' });
    expect(l2).to.include({ count: 12, perHour: 12, peak10Min: 12, floodIntervals: 1, verdict: 'manageable' });
    expect(l2.floodPct).to.be.closeTo(100 / 6, 1e-9);
    expect(f.total).to.include({ line: '*', count: 18, perHour: 18, peak10Min: 13, verdict: 'over-demanding' });
  });

  it('rates: alarms leave the window; an idle day is an idle rate', () => {
    const r = new AlarmRates(3_600_000);
    r.observe(T0);
    r.record('l', T0 + MIN);
    expect(r.figures(T0 + 30 * MIN).lines[0]).to.include({ count: 1, spanMs: 30 * MIN, perHour: 2 });
    expect(r.figures(T0 + 2 * 3_600_000).lines[0]).to.include({ count: 0, perHour: 0, verdict: 'acceptable' });
  });

  it('rate verdicts at the EEMUA 191 boundaries', () => {
    expect([1, 1.01, 2, 2.01, 5, 5.01].map(rateVerdict)).to.deep.equal([
      'acceptable',
      'manageable',
      'manageable',
      'over-demanding',
      'over-demanding',
      'unacceptable',
    ]);
  });
});

describe('anomaly alarm score (runtime/alarm/score)', () => {
  it('1 at the threshold, 2 at its square; ≥ 1 exactly while the detector says unusual', () => {
    expect(anomalyAlarmScore({ p: 1e-4, pThreshold: 1e-4, unusual: true })).to.be.closeTo(1, 1e-12);
    expect(anomalyAlarmScore({ p: 1e-8, pThreshold: 1e-4, unusual: true })).to.be.closeTo(2, 1e-12);
    expect(anomalyAlarmScore({ p: 1e-2, pThreshold: 1e-4, unusual: false })).to.be.closeTo(0.5, 1e-12);
    // p below the threshold but the short-term floor not met: kept under the setpoint
    expect(anomalyAlarmScore({ p: 1e-8, pThreshold: 1e-4, unusual: false })).to.be.below(1);
    expect(anomalyAlarmScore({ p: 1, pThreshold: 1e-4, unusual: false })).to.equal(0);
    expect(anomalyAlarmScore({ p: 0, pThreshold: 1e-4, unusual: true })).to.be.greaterThan(2);
    expect(Number.isFinite(anomalyAlarmScore({ p: 0, pThreshold: 1e-4, unusual: true }))).to.equal(true);
  });
});
