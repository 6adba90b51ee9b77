import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import type { MaintenanceWindow, RulEstimate } from '../../runtime/model/maintenance.js';
import { compileCalendar } from '../../runtime/maintenance/production-calendar.js';
import { type RankOptions, evaluateWindow, rankWindows } from '../../runtime/maintenance/window-ranking.js';
import { decideRecommendation } from '../../runtime/maintenance/window-stability.js';

const D = 86_400_000;
const H = 3_600_000;
const ALL = ['early', 'late', 'night'];
const cal = compileCalendar({
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', start: '06:00', end: '14:00' },
    { name: 'late', start: '14:00', end: '22:00' },
    { name: 'night', start: '22:00', end: '06:00' },
  ],
  week: { mon: ALL, tue: ALL, wed: ALL, thu: ALL, fri: ALL, sat: ALL, sun: ALL },
  plannedStops: [{ name: 'Saturday maintenance', days: ['sat'], from: '06:00', to: '14:00' }],
});
const T0 = Date.parse('2026-03-02T08:00:00Z'); // Mon 09:00 CET
const OPTS: RankOptions = {
  jobDurationMin: 360,
  downtimeCostEurPerHour: 2000,
  failureCostEur: 50_000,
  jobCostEur: 1000,
  horizonDays: 14,
  stepMin: 15,
  topN: 3,
};
const MARGINS = { relativeMargin: 0.1, absoluteMarginEur: 200 };
const rul = (p50Days: number, tsMs = T0, spread = 0.3): RulEstimate => ({
  asset: 'a',
  tsMs,
  rulMs: p50Days * D,
  rulP10Ms: p50Days * (1 - spread) * D,
  rulP90Ms: p50Days * (1 + spread) * D,
  healthIndex: 0.5,
  quality: 'good',
});

/** One estimate step as the node runs it: rank, re-cost the standing window, decide. */
function step(standing: MaintenanceWindow | null, r: RulEstimate, opts = OPTS) {
  const best = rankWindows(cal, r, opts).windows[0] ?? null;
  const now = standing ? evaluateWindow(cal, r, opts, standing.startMs) : null;
  return decideRecommendation(standing, now, best, MARGINS);
}

/** A synthetic window costing `eur`, for the margin arithmetic. */
const win = (startH: number, eur: number): MaintenanceWindow => ({
  asset: 'a',
  tsMs: T0,
  rank: 1,
  startMs: T0 + startH * H,
  endMs: T0 + (startH + 6) * H,
  startLocal: '',
  endLocal: '',
  timeZone: 'UTC',
  expectedCostEur: eur,
  costParts: { jobEur: eur, downtimeEur: 0, expectedFailureEur: 0, energyEur: 0 },
  failureProbability: 0,
  productionLossMinutes: 0,
  why: '',
  quality: 'good',
});

describe('maintenance: window stability (no flip-flopping)', () => {
  it('the first recommendation is emitted', () => {
    const d = step(null, rul(60));
    expect(d).to.include({ emit: true, reason: 'first recommendation' });
    expect(d.window?.startMs).to.equal(Date.parse('2026-03-07T05:00:00Z'));
  });

  it('small estimate changes over the week emit nothing: the Saturday stop stands', () => {
    const first = step(null, rul(60)).window!;
    for (const [p50, hours] of [
      [58, 6],
      [61, 12],
      [55, 30],
      [57, 50],
      [52, 70],
    ] as const) {
      const d = step(first, rul(p50, T0 + hours * H));
      expect(d.emit, `P50 ${p50} d after ${hours} h`).to.equal(false);
      expect(d.reason).to.equal('standing window is still the best');
      expect(d.window?.startMs).to.equal(first.startMs);
      expect(d.window?.rank).to.equal(0, 're-costed, not ranked');
    }
  });

  it('a big change (failure now likely before Saturday) emits a new, earlier window', () => {
    const first = step(null, rul(60)).window!;
    const d = step(first, rul(3, T0 + 6 * H));
    expect(d.emit).to.equal(true);
    expect(d.window!.startMs).to.be.below(first.startMs);
    expect(d.reason).to.match(
      /^a new window saves [\d,]+\.\d\d EUR \(\d+\.\d %\) of expected cost, more than the margin [\d,]+\.\d\d EUR$/,
    );
  });

  it('the standing window is replaced once it has started, or once its risk is above the limit', () => {
    const first = step(null, rul(60)).window!;
    const started = step(first, rul(55, first.startMs + 60_000));
    expect(started.emit).to.equal(true);
    expect(started.reason).to.equal('the window at Sat 06:00 has started or passed: replaced');
    expect(started.window!.startMs).to.be.above(first.startMs);

    const risky = step(first, rul(4, T0 + H), { ...OPTS, maxFailureProbability: 0.2 });
    expect(risky.emit).to.equal(true);
    expect(risky.reason).to.match(/^P\(fail first\) before Sat 06:00 is now \d+(\.\d)? %, above the limit 20 %: replaced$/);
  });

  it('needs a saving above BOTH the absolute and the relative margin', () => {
    const standing = win(100, 10_000);
    const keep = (eur: number) =>
      decideRecommendation(standing, { window: { ...standing, expectedCostEur: 10_000 } }, win(50, eur), MARGINS);
    // margin = max(€200, 10 % of €10,000) = €1,000
    expect(keep(9_100)).to.include({
      emit: false,
      reason: 'kept: the best alternative saves 900.00 EUR (9.0 %), within the margin 1,000.00 EUR',
    });
    expect(keep(9_000)).to.include({ emit: false }, 'exactly the margin is not more than it');
    expect(keep(8_900)).to.include({
      emit: true,
      reason: 'a new window saves 1,100.00 EUR (11.0 %) of expected cost, more than the margin 1,000.00 EUR',
    });
    const small = win(100, 1000);
    const abs = decideRecommendation(small, { window: small }, win(50, 850), MARGINS); // 15 % but only €150
    expect(abs).to.include({ emit: false });
    expect(decideRecommendation(small, { window: small }, win(50, 1200), MARGINS)).to.include({
      emit: false,
      reason: 'kept: no other window is cheaper',
    });
  });

  it('with nothing feasible: no proposal, and it says so', () => {
    expect(decideRecommendation(null, null, null, MARGINS)).to.deep.equal({ emit: false, window: null, reason: 'no feasible window' });
    const s = win(10, 1000);
    expect(decideRecommendation(s, { infeasible: 'the window at Mon 19:00 has started or passed' }, null, MARGINS)).to.deep.equal({
      emit: false,
      window: null,
      reason: 'the window at Mon 19:00 has started or passed, and no other window is feasible',
    });
    expect(decideRecommendation(s, { window: s }, null, MARGINS)).to.include({ emit: false, window: s });
  });

  it('refuses bad margins with BAD_CONFIG', () => {
    expect(() => decideRecommendation(null, null, null, { relativeMargin: -0.1, absoluteMarginEur: 0 })).to.throw(
      TwinError,
      'relativeMargin must be a number ≥ 0, got -0.1',
    );
    expect(() => decideRecommendation(null, null, null, { relativeMargin: 0.1, absoluteMarginEur: NaN })).to.throw(
      TwinError,
      'absoluteMarginEur',
    );
  });
});
