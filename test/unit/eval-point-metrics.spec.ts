import { expect } from 'chai';
import { confusion, eventMetrics, pointwise, risingEdges, sumEvents, windowLabels } from '../../runtime/eval/point-metrics.js';

const H = 3_600_000;

describe('point and event metrics (runtime/eval/point-metrics)', () => {
  // 49 hourly rows (two days), one window over rows 10..14
  const ts = Array.from({ length: 49 }, (_, i) => i * H);
  const windows: [number, number][] = [[10 * H, 14 * H]];
  const flags = new Uint8Array(49);
  flags[12] = flags[13] = 1; // caught two hours late
  flags[30] = 1; // a false alarm
  flags[40] = flags[41] = flags[42] = 1; // another, three rows long

  it('labels rows inside windows and counts the confusion', () => {
    const labels = windowLabels(ts, windows);
    expect(Array.from(labels).reduce((a, b) => a + b, 0)).to.equal(5);
    const c = confusion(labels, flags);
    expect(c).to.deep.equal({ tp: 2, fn: 3, fp: 4, tn: 40 });
    const p = pointwise([c]);
    expect(p.precision).to.be.closeTo(2 / 6, 1e-12);
    expect(p.recall).to.be.closeTo(2 / 5, 1e-12);
    expect(p.f1).to.be.closeTo(2 / (2 + (4 + 3) / 2), 1e-12);
    expect(p.farPct).to.be.closeTo((100 * 4) / 44, 1e-12);
  });

  it('counts alarms as rising edges, false alarms per day and the delay to the first alarm in a window', () => {
    expect(risingEdges(ts, flags)).to.deep.equal([12 * H, 30 * H, 40 * H]);
    const e = eventMetrics(ts, flags, windows);
    expect(e).to.include({ windows: 1, caught: 1, alarms: 3, falseAlarms: 2, days: 2 });
    expect(e.falseAlarmsPerDay).to.equal(1);
    expect(e.meanDelayMs).to.equal(2 * H);
    const none = eventMetrics(ts, new Uint8Array(49), windows);
    expect(none.caught).to.equal(0);
    expect(none.meanDelayMs).to.satisfy(Number.isNaN);
    const both = sumEvents([e, none]);
    expect(both).to.include({ windows: 2, caught: 1, alarms: 3, days: 4 });
    expect(both.alarmsPerDay).to.equal(0.75);
    expect(both.meanDelayMs).to.equal(2 * H);
  });
});
