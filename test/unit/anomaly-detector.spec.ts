import { expect } from 'chai';
import { AnomalyDetector, surpriseOf } from '../../runtime/anomaly/detector.js';
import { gaussian } from '../support/drift-data.js';

const FIVE_MIN = 300_000;
const T0 = Date.UTC(2024, 0, 1);

/** Alarm rows of a detector over values sampled every `dtMs`. */
function alarms(d: AnomalyDetector, values: number[], dtMs = FIVE_MIN): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (d.step(T0 + i * dtMs, v).anomalous) out.push(i);
  });
  return out;
}

describe('anomaly detector (runtime/anomaly/detector)', () => {
  it('surprise: −log10 of the two-sided normal tail, continuous where the large-z form takes over', () => {
    expect(surpriseOf(0)).to.be.closeTo(0, 1e-12);
    expect(surpriseOf(1.959964)).to.be.closeTo(-Math.log10(0.05), 1e-5);
    expect(surpriseOf(-1.959964)).to.be.closeTo(-Math.log10(0.05), 1e-5);
    expect(surpriseOf(8 - 1e-9)).to.be.closeTo(surpriseOf(8 + 1e-9), 0.01);
    expect(surpriseOf(40)).to.be.greaterThan(surpriseOf(30));
  });

  it('raises nothing on 20,000 samples of stationary noise', () => {
    const g = gaussian(7);
    const xs = Array.from({ length: 20_000 }, () => g(50, 2));
    expect(alarms(new AnomalyDetector(), xs)).to.deep.equal([]);
  });

  it('alarms within a few samples of a step of 10 σ, once', () => {
    const g = gaussian(11);
    const xs = Array.from({ length: 3000 }, (_, i) => g(i < 2000 ? 50 : 70, 2));
    const a = alarms(new AnomalyDetector(), xs);
    expect(a).to.have.length(1);
    expect(a[0]).to.be.within(2000, 2005);
  });

  it('a spike alarms once; the hold-off keeps its aftermath quiet', () => {
    const g = gaussian(3);
    const xs = Array.from({ length: 3000 }, () => g(10, 1));
    xs[1500] = 40;
    const a = alarms(new AnomalyDetector(), xs);
    expect(a).to.deep.equal([1500]);
  });

  it('range novelty: a reading far beyond every one seen alarms though routine spikes fill the history', () => {
    // a +25 spike every 40 samples makes spikes usual for the calibration; one of +60 leaves the range
    const g = gaussian(5);
    const xs = Array.from({ length: 3000 }, (_, i) => g(50, 2) + (i % 40 === 7 ? 25 : 0));
    xs[2500] = 110;
    expect(alarms(new AnomalyDetector({ maxSeasonBins: 0 }), xs)).to.deep.equal([2500]);
    expect(alarms(new AnomalyDetector({ maxSeasonBins: 0, rangeTolerance: 0 }), xs)).to.deep.equal([]);
  });

  it('range novelty forgets: the range is that of the last 30 days, so an old incident does not widen it for good', () => {
    const g = gaussian(5);
    const day = 288;
    const xs = Array.from({ length: 50 * day }, (_, i) => g(50, 2) + (i % 40 === 7 ? 25 : 0));
    xs[2 * day + 100] = 110;
    xs[45 * day + 100] = 100; // within the range of all readings, beyond that of the last 30 days
    const at = (cfg: object) => alarms(new AnomalyDetector({ maxSeasonBins: 0, ...cfg }), xs).map((i) => i - 100);
    expect(at({})).to.deep.equal([2 * day, 45 * day]);
    expect(at({ rangeDays: 0 })).to.deep.equal([2 * day]);
  });

  it('extreme-value recalibration: a daily burst stops alarming, a burst beyond the usual still alarms', () => {
    // 40 days at 5 minutes, each day a burst of 6 samples at +8 σ (a normal null calls it very rare),
    // on day 35 one of 12 samples at +20 σ
    const g = gaussian(11);
    const day = 288;
    const xs = Array.from({ length: 40 * day }, () => g(50, 2));
    for (let d = 0; d < 40; d++) for (let k = 0; k < 6; k++) xs[d * day + 40 + ((d * 97) % 200) + k] += 16;
    for (let k = 0; k < 12; k++) xs[35 * day + 260 + k] += 40;
    const on = alarms(new AnomalyDetector({ maxSeasonBins: 0 }), xs);
    const off = alarms(new AnomalyDetector({ maxSeasonBins: 0, evtDays: 0 }), xs);
    expect(off.length).to.be.at.least(15);
    expect(on.length).to.be.at.most(6);
    expect(on.filter((i) => i >= 35 * day + 260 && i < 35 * day + 272)).to.have.length(1);
  });

  it('a learned daily profile explains a daily cycle, so a break of the cycle stands out', () => {
    const g = gaussian(5);
    const day = 288; // five-minute samples
    const xs = Array.from({ length: 12 * day }, (_, i) => 100 + 30 * Math.sin((2 * Math.PI * i) / day) + g(0, 1));
    const meanAbsResidual = (d: AnomalyDetector) => {
      let sum = 0;
      xs.forEach((x, i) => {
        const o = d.step(T0 + i * FIVE_MIN, x);
        if (i >= 10 * day) sum += Math.abs(x - o.predicted);
      });
      return sum / (2 * day);
    };
    // with the profile the prediction follows the cycle far better than a level alone
    expect(meanAbsResidual(new AnomalyDetector())).to.be.lessThan(0.5 * meanAbsResidual(new AnomalyDetector({ maxSeasonBins: 0 })));
    expect(alarms(new AnomalyDetector(), xs)).to.deep.equal([]);
    // two hours at the trough's level where the peak belongs (day 10, around 06:00)
    const broken = xs.map((x, i) => (i >= 10 * day + 60 && i < 10 * day + 84 ? 70 + g(0, 1) : x));
    const a = alarms(new AnomalyDetector(), broken);
    expect(a).to.have.length(1);
    expect(a[0]).to.be.within(10 * day + 60, 10 * day + 70);
  });

  it('a quantised tag: one resolution step is never unusual by itself', () => {
    const u = gaussian(13);
    // a pressure read in steps of 0.33 bar, mostly steady, now and then one step up for a sample
    const xs = Array.from({ length: 20_000 }, () => (u(0, 1) > 2 ? 1.33 : 1.0));
    expect(alarms(new AnomalyDetector(), xs)).to.deep.equal([]);
    expect(alarms(new AnomalyDetector({ resolutionFloor: false }), xs).length).to.be.greaterThan(0);
  });

  it('no decision while learning', () => {
    const d = new AnomalyDetector({ learnSamples: 300 });
    for (let i = 0; i < 300; i++) {
      const o = d.step(T0 + i * FIVE_MIN, i === 150 ? 1e6 : i % 3);
      expect(o.anomalous).to.equal(false);
    }
  });

  it('scores an external prediction with its variance: an explained change raises nothing', () => {
    const g = gaussian(9);
    const d = new AnomalyDetector();
    let raised = 0;
    for (let i = 0; i < 3000; i++) {
      // the twin predicts the ramp; only the residual's size relative to √variance matters
      const predicted = 0.5 * i;
      const value = predicted + g(0, 3);
      if (d.stepPredicted(value, predicted, 9).anomalous) raised++;
    }
    expect(raised).to.equal(0);
    let first = -1;
    for (let i = 3000; i < 3100 && first < 0; i++) {
      const predicted = 0.5 * i;
      if (d.stepPredicted(predicted + 30 + g(0, 3), predicted, 9).anomalous) first = i;
    }
    expect(first).to.be.within(3000, 3005);
  });

  it('alarm budget per day: the same moderate event alarms at 1 h sampling, not at 1 s', () => {
    // identical samples, only the interval differs: 0.03 alarms/day puts the threshold on p at
    // 1.25e-3 per hourly sample and 3.5e-7 per 1 s sample (its p here is about 1e-4). The floor on the
    // short-term surprise is off so that p alone decides; the hold-off counts samples at both rates.
    const g = gaussian(17);
    const xs = Array.from({ length: 3000 }, (_, i) => g(i >= 2000 && i < 2005 ? 55 : 50, 2));
    const cfg = { maxSeasonBins: 0, minShortSurprise: 0, holdOffDays: 0 };
    const hourly = alarms(new AnomalyDetector(cfg), xs, 3_600_000);
    expect(hourly.filter((i) => i >= 2000 && i < 2010)).to.have.length(1);
    expect(alarms(new AnomalyDetector(cfg), xs, 1000).filter((i) => i >= 2000 && i < 2010)).to.deep.equal([]);
    // without a budget the per-sample alarmP applies whatever the interval
    const perSample = { ...cfg, alarmsPerDay: 0, alarmP: 1e-3 };
    expect(alarms(new AnomalyDetector(perSample), xs, 1000)).to.deep.equal(alarms(new AnomalyDetector(perSample), xs, 3_600_000));
  });

  it('hold-off in time (0.7 days) at any rate; a condition outlasting it is not a new alarm', () => {
    /** Alarm times in hours after the first of two spikes `gapH` hours apart. */
    const spikes = (dtMs: number, gapH: number, cfg = {}) => {
      const g = gaussian(3);
      const perHour = 3_600_000 / dtMs;
      const xs = Array.from({ length: 3000 }, () => g(10, 1));
      xs[1500] = 40;
      xs[1500 + gapH * perHour] = 40;
      return alarms(new AnomalyDetector({ maxSeasonBins: 0, ...cfg }), xs, dtMs).map((i) => (i - 1500) / perHour);
    };
    expect(spikes(3_600_000, 20)).to.deep.equal([0, 20]);
    expect(spikes(FIVE_MIN, 20)).to.deep.equal([0, 20]);
    // 200 samples of hold-off would be 200 h at hourly sampling
    expect(spikes(3_600_000, 20, { holdOffDays: 0 })).to.deep.equal([0]);
    // the second spike falls in the hold-off; its aftermath outlasts the hold-off but is no new alarm
    expect(spikes(3_600_000, 12)).to.deep.equal([0]);
  });

  describe('recurring spikes on the learned baseline (spikeWindowMs)', () => {
    const SEC = 1000;
    /** Readings at 1 s where the condition held, from `from` on, with each of `spikes` +30 σ; `freeze` as an on-delay would. */
    const held = (spikes: number[], cfg = {}, freeze = false): number[] => {
      const g = gaussian(13);
      const d = new AnomalyDetector({ maxSeasonBins: 0, ...cfg });
      const on: number[] = [];
      for (let i = 0; i < 4000; i++) {
        d.freeze(freeze && i >= 3000);
        if (d.step(T0 + i * SEC, g(50, 1) + (spikes.includes(i) ? 30 : 0)).unusual) on.push(i);
      }
      return on;
    };
    const every = (from: number, to: number, gap: number): number[] =>
      Array.from({ length: Math.ceil((to - from) / gap) }, (_, k) => from + k * gap);

    it('a spike every 15 s holds the condition from the second one on, every reading; off, it holds far less', () => {
      const spikes = every(3000, 3600, 15);
      const on = held(spikes);
      const span = Array.from({ length: 3600 - 3015 }, (_, k) => 3015 + k);
      expect(span.filter((i) => !on.includes(i))).to.deep.equal([]);
      expect(on.filter((i) => i < 3000)).to.deep.equal([]);
      expect(held(spikes, { spikeWindowMs: 0 }).filter((i) => span.includes(i)).length).to.be.below(span.length / 2);
    });

    it('two spikes make it, one per window keeps it only once it stands (not while an on-delay judges it)', () => {
      // two 10 s apart, then one every 100 s: within 120 s of the last, never two within 120 s
      const spikes = [3000, 3010, ...every(3100, 3900, 100)];
      const span = Array.from({ length: 3900 - 3010 }, (_, k) => 3010 + k);
      expect(span.filter((i) => !held(spikes).includes(i))).to.deep.equal([]);
      // frozen, a lone spike holds only the readings just after it (its short-term surprise)
      const frozen = held(spikes, {}, true);
      expect(frozen).to.include(3010);
      expect(frozen.filter((i) => i >= 3200 && i % 100 >= 50)).to.deep.equal([]);
    });

    it('at 5-minute samples no two readings fall within the window: the same spikes alarm only as before', () => {
      const g = gaussian(13);
      const xs = Array.from({ length: 3000 }, (_, i) => g(50, 1) + (i >= 2000 && i % 15 === 0 ? 30 : 0));
      const a = alarms(new AnomalyDetector({ maxSeasonBins: 0 }), xs);
      expect(a).to.deep.equal(alarms(new AnomalyDetector({ maxSeasonBins: 0, spikeWindowMs: 0 }), xs));
    });

    it("a gauge pinned at its scale's end (every dip extreme against a zero spread) never makes it", () => {
      const g = gaussian(17);
      const dips = Array.from({ length: 5000 }, () => Math.min(100, 100 + g(0, 0.3)));
      expect(dips.filter((v) => v < 100).length).to.be.above(1000);
      const unusual = (cfg: object): number[] => {
        const d = new AnomalyDetector({ maxSeasonBins: 0, ...cfg });
        return dips.flatMap((v, i) => (d.step(T0 + i * SEC, v).unusual ? [i] : []));
      };
      // what holds (range novelty of the deepest dips) holds as well without the condition
      expect(unusual({})).to.deep.equal(unusual({ spikeWindowMs: 0 }));
    });
  });

  describe('a trend that does not settle, on the learned baseline (trendBlockMs)', () => {
    const SEC = 1000;
    const HOURS = 5;
    /** Hours (from the start) at which the trend condition held, every 5 minutes of `f(tS)` + noise σ 1 at 1 s. */
    const trendAt = (f: (tS: number) => number, relearnEveryS = 0): number[] & { order?: number } => {
      const g = gaussian(19);
      const d = new AnomalyDetector();
      const at: number[] & { order?: number } = [];
      for (let i = 0; i < HOURS * 3600; i++) {
        d.relearn(relearnEveryS > 0 && i % relearnEveryS < 10);
        const o = d.step(T0 + i * SEC, f(i) + g(0, 1));
        if (i % 300 === 0 && o.trend !== 0) at.push(i / 300);
      }
      at.order = d.trendDirection();
      return at;
    };

    it('a steady rise of 2 σ an hour holds it from two hours on (8 blocks of 15 minutes in order), flat noise never', () => {
      // in 5-minute steps
      const at = trendAt((t) => 50 + (2 * t) / 3600);
      expect(at[0]).to.be.within(24, 30);
      // once it holds, for as long as the order lasts: every step to the end
      expect([...at]).to.deep.equal(Array.from({ length: HOURS * 12 - at[0] }, (_, k) => at[0] + k));
      expect([...trendAt(() => 50)]).to.deep.equal([]);
    });

    it('a warm-up that slows down (first order, τ 2 h, 10 σ) never holds it, though its blocks run in order', () => {
      const at = trendAt((t) => 50 + 10 * (1 - Math.exp(-t / 7200)));
      expect([...at]).to.deep.equal([]);
      expect(at.order).to.equal(1);
    });

    it('a totaliser (rising every reading) never holds it; a known input changing every 30 minutes starts the blocks over', () => {
      const d = new AnomalyDetector();
      let held = 0;
      for (let i = 0; i < HOURS * 3600; i++) if (d.step(T0 + i * SEC, 1000 + i * 0.01).trend !== 0) held++;
      expect(held).to.equal(0);
      expect([...trendAt((t) => 50 + (2 * t) / 3600, 1800)]).to.deep.equal([]);
    });
  });

  it('reuses one output object per detector (no allocation per sample)', () => {
    const d = new AnomalyDetector();
    expect(d.step(T0, 1)).to.equal(d.step(T0 + FIVE_MIN, 2));
  });
});
