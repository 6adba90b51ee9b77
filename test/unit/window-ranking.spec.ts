import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import type { RulEstimate } from '../../runtime/model/maintenance.js';
import { compileTariff } from '../../runtime/energy/tariff.js';
import { type CalendarDef, compileCalendar } from '../../runtime/maintenance/production-calendar.js';
import {
  type RankOptions,
  evaluateWindow,
  gridOriginMs,
  pct,
  rankWindows,
  validateRankOptions,
} from '../../runtime/maintenance/window-ranking.js';

const D = 86_400_000;
const utc = (iso: string): number => Date.parse(iso);
const ALL = ['early', 'late', 'night'];
const SHIFTS = [
  { name: 'early', start: '06:00', end: '14:00' },
  { name: 'late', start: '14:00', end: '22:00' },
  { name: 'night', start: '22:00', end: '06:00' },
];
const WEEK = { mon: ALL, tue: ALL, wed: ALL, thu: ALL, fri: ALL, sat: ALL, sun: ALL };
/** 24/7 production except a weekly planned stop. */
function plant(timeZone: string, stop: { days: ('sat' | 'sun')[]; from: string; to: string; name: string }): CalendarDef {
  return { timeZone, shifts: SHIFTS, week: WEEK, plannedStops: [stop] };
}
const SAT_STOP = { name: 'Saturday maintenance', days: ['sat' as const], from: '06:00', to: '14:00' };
const berlin = compileCalendar(plant('Europe/Berlin', SAT_STOP));

/** Mon 2026-03-02 09:00 CET */
const T0 = utc('2026-03-02T08:00:00Z');
function rul(p10Days: number, p50Days: number, p90Days: number, tsMs = T0): RulEstimate {
  return {
    asset: 'plant1/line1/press',
    tsMs,
    rulMs: p50Days * D,
    rulP10Ms: p10Days * D,
    rulP90Ms: p90Days * D,
    healthIndex: 0.4,
    quality: 'good',
  };
}
const OPTS: RankOptions = {
  jobDurationMin: 360,
  downtimeCostEurPerHour: 2000,
  failureCostEur: 50_000,
  jobCostEur: 1000,
  horizonDays: 14,
  stepMin: 15,
  topN: 3,
};

describe('maintenance: window ranking', () => {
  it('chooses the planned stop when the risk allows: no production lost, low P(fail first), cost parts add up', () => {
    const r = rankWindows(berlin, rul(40, 60, 90), OPTS);
    const [w1, w2, w3] = r.windows;
    expect(w1).to.include({
      rank: 1,
      startLocal: '2026-03-07T06:00:00+01:00',
      endLocal: '2026-03-07T12:00:00+01:00',
      timeZone: 'Europe/Berlin',
      productionLossMinutes: 0,
      asset: 'plant1/line1/press',
      tsMs: T0,
      quality: 'good',
    });
    expect(w1.why).to.match(/^planned stop 'Saturday maintenance' Sat 06:00–14:00, no production lost; P\(fail first\) <0\.1 %$/);
    expect(w1.costParts.downtimeEur).to.equal(0);
    expect(w1.costParts.energyEur).to.equal(0);
    expect(w1.failureProbability).to.be.above(0).and.below(0.001);
    expect(w1.expectedCostEur).to.be.closeTo(1000 + w1.failureProbability * 50_000, 1e-9);
    expect(w2).to.include({ rank: 2, startLocal: '2026-03-14T06:00:00+01:00', productionLossMinutes: 0 });
    expect(w3.rank).to.equal(3);
    expect(w3.productionLossMinutes).to.be.above(0);
    expect(w3.costParts.downtimeEur).to.be.closeTo((w3.productionLossMinutes / 60) * 2000, 1e-9);
    expect(r.reason).to.equal(undefined);
    expect(r.freeCandidates).to.equal(18); // Sat 06:00..08:00 in 15-min steps, two Saturdays
  });

  it('ranks cheapest first, never two overlapping windows, topN of them', () => {
    const r = rankWindows(berlin, rul(40, 60, 90), { ...OPTS, topN: 8 });
    expect(r.windows).to.have.length(8);
    r.windows.forEach((w, i) => {
      expect(w.rank).to.equal(i + 1);
      expect(w.endMs - w.startMs).to.equal(360 * 60_000);
      if (i > 0) expect(w.expectedCostEur).to.be.at.least(r.windows[i - 1].expectedCostEur);
      for (const o of r.windows.slice(0, i))
        expect(w.startMs >= o.endMs || w.endMs <= o.startMs, `${w.startLocal} overlaps ${o.startLocal}`).to.equal(true);
    });
  });

  it('chooses an early window when failure is likely before the planned stop, and says why', () => {
    const r = rankWindows(berlin, rul(1.8, 3, 4.5), OPTS);
    const w1 = r.windows[0];
    expect(w1.startLocal).to.equal('2026-03-02T09:00:00+01:00');
    expect(w1.productionLossMinutes).to.equal(360);
    expect(w1.costParts.downtimeEur).to.equal(12_000);
    expect(w1.why).to.match(
      /^takes 360 min of production \(shift 'early', 'late'\); P\(fail first\) 0 %; waiting for the production-free window at Sat 06:00 would raise P\(fail first\) to 9\d %, \d{2},\d{3}\.\d\d EUR more expected cost$/,
    );
    const sat = evaluateWindow(berlin, rul(1.8, 3, 4.5), OPTS, utc('2026-03-07T05:00:00Z'));
    expect(sat.window?.productionLossMinutes).to.equal(0);
    expect(sat.window?.failureProbability).to.be.above(0.9);
    expect(sat.window!.expectedCostEur).to.be.above(w1.expectedCostEur + 20_000);
  });

  describe('daylight saving and time zones', () => {
    // A weekly stop Sun 00:00–06:00 on the wall clock is 7 h on the autumn-back night and 5 h on the
    // spring-forward one. A 6.5-hour job fits without loss only on the 25-hour night; a 5.5-hour
    // job fits on every Sunday but the 23-hour one.
    const SUN_STOP = { name: 'Sunday night', days: ['sun' as const], from: '00:00', to: '06:00' };
    const zones: Array<[string, string, string, string, string, string, string]> = [
      // zone, Monday before the autumn change, autumn Sunday start/end, Monday before the spring
      // change, the spring Sunday's 00:00 (UTC), the Sunday after it chosen instead
      [
        'Europe/Berlin',
        '2026-10-19T10:00:00Z',
        '2026-10-25T00:00:00+02:00',
        '2026-10-25T05:30:00+01:00',
        '2026-03-23T10:00:00Z',
        '2026-03-28T23:00:00Z',
        '2026-04-05T00:00:00+02:00',
      ],
      [
        'America/New_York',
        '2026-10-26T14:00:00Z',
        '2026-11-01T00:00:00-04:00',
        '2026-11-01T05:30:00-05:00',
        '2026-03-02T14:00:00Z',
        '2026-03-08T05:00:00Z',
        '2026-03-15T00:00:00-04:00',
      ],
    ];
    for (const [zone, autumnTs, autumnStart, autumnEnd, springTs, springSunday, springStart] of zones) {
      it(`${zone}: a job fits the 25-hour night's 7-hour stop, and skips the 23-hour night's 5-hour one`, () => {
        const cal = compileCalendar(plant(zone, SUN_STOP));
        const low = (ts: string) => rul(200, 300, 400, utc(ts));
        const autumn = rankWindows(cal, low(autumnTs), { ...OPTS, jobDurationMin: 390 });
        expect(autumn.windows[0]).to.include({ startLocal: autumnStart, endLocal: autumnEnd, productionLossMinutes: 0 });
        expect(autumn.windows[0].endMs - autumn.windows[0].startMs).to.equal(390 * 60_000);
        expect(autumn.windows[0].why).to.contain("planned stop 'Sunday night' Sun 00:00–06:00, no production lost");
        expect(autumn.freeCandidates).to.equal(3, '00:00, 00:15, 00:30 on the long night only');

        const spring = rankWindows(cal, low(springTs), { ...OPTS, jobDurationMin: 330 });
        expect(spring.windows[0]).to.include({ startLocal: springStart, productionLossMinutes: 0 });
        const skipped = evaluateWindow(cal, low(springTs), { ...OPTS, jobDurationMin: 330 }, utc(springSunday));
        expect(skipped.window?.productionLossMinutes).to.equal(30, 'the short night loses half an hour');
      });
    }

    it('Asia/Kolkata (+05:30, no DST): starts on the local quarter hour, local times with +05:30', () => {
      const ts = utc('2026-03-02T03:37:00Z'); // 09:07 IST
      expect(new Date(gridOriginMs(ts, 15, 'Asia/Kolkata')).toISOString()).to.equal('2026-03-02T03:45:00.000Z');
      const cal = compileCalendar(plant('Asia/Kolkata', SUN_STOP));
      const r = rankWindows(cal, rul(200, 300, 400, ts), { ...OPTS, jobDurationMin: 330 });
      expect(r.windows[0]).to.include({
        startLocal: '2026-03-08T00:00:00+05:30',
        endLocal: '2026-03-08T05:30:00+05:30',
        productionLossMinutes: 0,
      });
      expect(r.windows[0].startMs).to.equal(utc('2026-03-07T18:30:00Z'));
    });
  });

  describe('no free window: a clear answer, not a crash', () => {
    const noStops = compileCalendar({ timeZone: 'Europe/Berlin', shifts: SHIFTS, week: WEEK });

    it('every window costs production: still ranked by expected cost, with the reason', () => {
      const r = rankWindows(noStops, rul(40, 60, 90), OPTS);
      expect(r.windows).to.have.length(3);
      expect(r.freeCandidates).to.equal(0);
      expect(r.reason).to.equal(
        'no production-free window of 360 min in the next 14 days: every window costs production; ranked by expected cost',
      );
      for (const w of r.windows) expect(w.productionLossMinutes).to.equal(360);
      expect(r.windows[0].startLocal).to.equal('2026-03-02T09:00:00+01:00', 'the earliest: same loss, least risk');
    });

    it('production loss not allowed: an empty list and why', () => {
      const r = rankWindows(noStops, rul(40, 60, 90), { ...OPTS, allowProductionLoss: false });
      expect(r).to.deep.equal({
        windows: [],
        candidates: 0,
        freeCandidates: 0,
        reason: 'no production-free window of 360 min in the next 14 days',
      });
    });

    it('the job does not fit in the horizon: an empty list and why', () => {
      const r = rankWindows(berlin, rul(40, 60, 90), { ...OPTS, horizonDays: 0.2 });
      expect(r.windows).to.deep.equal([]);
      expect(r.reason).to.equal('no candidate: the job (360 min) does not fit in the 0.2-day horizon');
    });

    it('failure is due and every window is above the risk limit: an empty list saying to maintain now', () => {
      // 09:07 local: the first start on the grid is 09:15, and P50 = 0 says failure is due by then.
      const r = rankWindows(berlin, rul(-1, 0, 1, T0 + 7 * 60_000), { ...OPTS, maxFailureProbability: 0.05 });
      expect(r.windows).to.deep.equal([]);
      expect(r.reason).to.equal(
        'no window: P(failure before start) is above the limit 5 % for every candidate (100 % already at Mon 09:15); maintain now or raise the limit',
      );
    });

    it('a calendar with no shifts at all: every window is free', () => {
      const idle = compileCalendar({ timeZone: 'Europe/Berlin', shifts: [], week: {} });
      const r = rankWindows(idle, rul(40, 60, 90), OPTS);
      expect(r.windows[0]).to.include({ startLocal: '2026-03-02T09:00:00+01:00', productionLossMinutes: 0 });
      expect(r.windows[0].why).to.match(/^no production Mon 09:00–15:00; P\(fail first\) 0 %$/);
    });
  });

  it('prices the job’s energy with the tariff: power over the window, restart energy at its end', () => {
    const tariff = compileTariff({
      timeZone: 'Europe/Berlin',
      periods: [
        { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
        { name: 'offpeak', priceEurPerKwh: 0.1 },
      ],
      defaultPeriod: 'offpeak',
    });
    const idle = compileCalendar({ timeZone: 'Europe/Berlin', shifts: [], week: {} });
    const o = { ...OPTS, jobDurationMin: 240, failureCostEur: 0, tariff, jobPowerKw: 100, restartEnergyKwh: 50 };
    const r = rankWindows(idle, rul(40, 60, 90), o);
    // Off-peak from Mon 20:00: 100 kW × 4 h × 0.10 + 50 kWh × 0.10 = 45.
    expect(r.windows[0]).to.include({ startLocal: '2026-03-02T20:00:00+01:00' });
    expect(r.windows[0].costParts.energyEur).to.be.closeTo(45, 1e-9);
    // Mon 18:00–22:00: 2 h peak, 2 h off-peak, restart off-peak: 60 + 20 + 5.
    const straddle = evaluateWindow(idle, rul(40, 60, 90), o, utc('2026-03-02T17:00:00Z'));
    expect(straddle.window?.costParts.energyEur).to.be.closeTo(85, 1e-9);
    // Mon 12:00–16:00 all peak, restart at 16:00 peak: 120 + 15.
    const peak = evaluateWindow(idle, rul(40, 60, 90), o, utc('2026-03-02T11:00:00Z'));
    expect(peak.window?.costParts.energyEur).to.be.closeTo(135, 1e-9);
  });

  it('evaluateWindow says why a standing window is no longer feasible', () => {
    expect(evaluateWindow(berlin, rul(40, 60, 90), OPTS, T0 - 60_000).infeasible).to.equal('the window at Mon 08:59 has started or passed');
    expect(evaluateWindow(berlin, rul(1, 2, 3), { ...OPTS, maxFailureProbability: 0.5 }, utc('2026-03-07T05:00:00Z')).infeasible).to.equal(
      'P(fail first) before Sat 06:00 is now 99.8 %, above the limit 50 %',
    );
    expect(
      evaluateWindow(berlin, rul(40, 60, 90), { ...OPTS, allowProductionLoss: false }, utc('2026-03-07T08:00:00Z')).infeasible,
    ).to.equal('the window at Sat 09:00 now takes production time');
  });

  it('a year at 15-minute steps: 35,017 candidates for a 6-hour job, the planned stop first', () => {
    const r = rankWindows(berlin, rul(100, 200, 300), { ...OPTS, horizonDays: 365, topN: 5 });
    expect(r.candidates).to.equal(365 * 96 - 24 + 1);
    expect(r.windows[0].startLocal).to.equal('2026-03-07T06:00:00+01:00');
  });

  it('an option present but undefined (a blank field) takes its default', () => {
    const a = rankWindows(berlin, rul(1.8, 3, 4.5), OPTS);
    const b = rankWindows(berlin, rul(1.8, 3, 4.5), {
      ...OPTS,
      maxFailureProbability: undefined,
      allowProductionLoss: undefined,
      jobPowerKw: undefined,
      restartEnergyKwh: undefined,
      tariff: undefined,
    });
    expect(b).to.deep.equal(a);
    expect(b.candidates).to.equal(1321);
  });

  it('writes probabilities for people: never 0 % or 100 % when it is not', () => {
    expect([0, 0.0004, 0.0312, 0.5, 0.874, 0.9976, 0.99999, 1].map(pct)).to.deep.equal([
      '0 %',
      '<0.1 %',
      '3.1 %',
      '50 %',
      '87 %',
      '99.8 %',
      '>99.9 %',
      '100 %',
    ]);
  });

  it('carries the estimate’s quality; refuses a bad estimate and bad options', () => {
    const u = rankWindows(berlin, { ...rul(40, 60, 90), quality: 'uncertain', qualityReason: 'few data' }, OPTS);
    expect(u.windows[0]).to.include({ quality: 'uncertain', qualityReason: 'few data' });
    expect(() => rankWindows(berlin, rul(50, 40, 30), OPTS)).to.throw(TwinError, 'rulP10Ms');
    const bad: Array<[Partial<RankOptions>, string]> = [
      [{ stepMin: 0 }, 'stepMin must be a whole number of minutes 1..1440, got 0'],
      [{ stepMin: 7.5 }, 'stepMin'],
      [{ topN: 0 }, 'topN'],
      [{ jobDurationMin: -5 }, 'jobDurationMin must be a number of minutes > 0, got -5'],
      [{ horizonDays: NaN }, 'horizonDays'],
      [{ downtimeCostEurPerHour: -1 }, 'downtimeCostEurPerHour'],
      [{ maxFailureProbability: 1.5 }, 'maxFailureProbability must be a probability in (0, 1]'],
      [{ jobPowerKw: -1 }, 'jobPowerKw'],
    ];
    for (const [o, msg] of bad) {
      expect(() => validateRankOptions({ ...OPTS, ...o }), msg).to.throw(TwinError, msg);
      expect(() => rankWindows(berlin, rul(40, 60, 90), { ...OPTS, ...o }), msg).to.throw(TwinError, msg);
    }
  });
});
