import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { DemandTracker, clockMinutes, localBlock, localMonth } from '../../runtime/energy/demand-tracker.js';
import type { Span } from '../../runtime/energy/energy-integrator.js';

const MIN = 60_000;
const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const EPS = 1e-9;
const span = (startMs: number, endMs: number, kw: number): Span => ({
  startMs,
  endMs,
  amount: (kw * (endMs - startMs)) / H,
  gap: false,
  quality: 'good',
});

/** Constant power from `fromMs` in minute steps, returning the status after each. */
function feed(d: DemandTracker, fromMs: number, minutes: number, kw: (m: number) => number) {
  const out = [];
  for (let m = 0; m < minutes; m++) {
    d.add(span(fromMs + m * MIN, fromMs + (m + 1) * MIN, kw(m)));
    out.push(d.status('a', fromMs + (m + 1) * MIN, kw(m + 1)));
  }
  return out;
}

describe('energy: demand tracker', () => {
  describe('local clock', () => {
    it('blocks sit on the local clock: Kathmandu (UTC+5:45) hours start at :15 UTC', () => {
      const b = localBlock(utc('2026-02-02T10:20:00Z'), 'Asia/Kathmandu', 60, clockMinutes(60));
      expect(new Date(b.startMs).toISOString()).to.equal('2026-02-02T10:15:00.000Z');
      expect(new Date(b.endMs).toISOString()).to.equal('2026-02-02T11:15:00.000Z');
    });

    it('a block is cut at a DST transition (Berlin spring forward: local 01:00–02:00 CET, then 03:00 CEST)', () => {
      const before = localBlock(utc('2026-03-29T00:30:00Z'), 'Europe/Berlin', 60, clockMinutes(60));
      expect([before.startMs, before.endMs]).to.deep.equal([utc('2026-03-29T00:00:00Z'), utc('2026-03-29T01:00:00Z')]);
      const after = localBlock(utc('2026-03-29T01:10:00Z'), 'Europe/Berlin', 1440, clockMinutes(1440));
      expect([after.startMs, after.endMs]).to.deep.equal([utc('2026-03-29T01:00:00Z'), utc('2026-03-29T22:00:00Z')]);
    });

    it('the billing month is the local calendar month', () => {
      const m = localMonth(utc('2026-03-31T22:30:00Z'), 'Europe/Berlin'); // 1 April 00:30 CEST
      expect([m.startMs, m.endMs]).to.deep.equal([utc('2026-03-31T22:00:00Z'), utc('2026-04-30T22:00:00Z')]);
    });

    it('a block length must divide the day', () => {
      expect(() => clockMinutes(7)).to.throw(TwinError, /dividing 1440/);
      expect(() => new DemandTracker({ timeZone: 'UTC', blockMinutes: 0 })).to.throw(TwinError);
    });
  });

  it('forecast = (energy so far + present power × time left) / block; alert and shedKw before the block closes', () => {
    const d = new DemandTracker({ timeZone: 'UTC', blockMinutes: 15, demandChargeEurPerKw: 10 });
    const t0 = utc('2026-02-02T10:00:00Z');
    // 40 kW for a block (peak 40), then 30 kW for 5 min and 70 kW from 10:20.
    const st = feed(d, t0, 30, (m) => (m < 15 ? 40 : m < 20 ? 30 : 70));
    expect(st.slice(0, 14).some((s) => s.alert)).to.equal(false);
    const at = st.find((s) => s.tsMs === t0 + 20 * MIN)!;
    expect(at).to.include({ alert: true, blockStartMs: t0 + 15 * MIN, blockEndMs: t0 + 30 * MIN, quality: 'good' });
    expect(at.forecastKw).to.be.closeTo(170 / 3, EPS);
    expect(at.shedKw).to.be.closeTo(25, EPS);
    expect(at.demandChargeEur).to.be.closeTo(400, EPS);
    // Nobody shed: the block closed at 10:30 as the new peak.
    expect(d.billingPeak.blockStartMs).to.equal(t0 + 15 * MIN);
    expect(d.billingPeak.kw).to.be.closeTo(170 / 3, EPS);
  });

  it('an alert floor protects the first block of a billing period (no peak yet)', () => {
    const d = new DemandTracker({ timeZone: 'UTC', blockMinutes: 15, alertFloorKw: 50 });
    const st = feed(d, utc('2026-02-02T10:00:00Z'), 14, (m) => (m < 5 ? 40 : 60));
    expect(st[3].alert).to.equal(false); // forecast 40
    const s = st[4]; // 10:05: 40 kW × 5 min, then 60 kW: (3.333 + 10) / 0.25 = 53.33
    expect(s.alert).to.equal(true);
    expect(s.thresholdKw).to.equal(50);
    expect(s.forecastKw).to.be.closeTo(160 / 3, EPS);
  });

  it('a new billing month starts without a peak', () => {
    const d = new DemandTracker({ timeZone: 'UTC', blockMinutes: 15 });
    feed(d, utc('2026-01-31T23:30:00Z'), 30, () => 100);
    const s = d.status('a', utc('2026-02-01T00:00:00Z') + MIN, 100);
    expect(s.billingPeriodStartMs).to.equal(utc('2026-02-01T00:00:00Z'));
    expect(s.billingPeakKw).to.equal(0);
    expect(s.alert).to.equal(false);
  });

  it('only blocks fully covered by data set the peak (no alert against a gap or a partial first block)', () => {
    const d = new DemandTracker({ timeZone: 'UTC', blockMinutes: 15 });
    const t0 = utc('2026-02-01T00:00:00Z');
    d.add({ startMs: t0, endMs: t0 + H, amount: 0, gap: true, quality: 'bad', reason: 'power gap' });
    const st = feed(d, t0 + H + 5 * MIN, 25, () => 20); // data from 01:05: block 01:00–01:15 is partial
    expect(st.some((s) => s.alert)).to.equal(false);
    expect(d.billingPeak.blockStartMs).to.equal(t0 + H + 15 * MIN);
    expect(d.billingPeak.kw).to.be.closeTo(20, EPS);
  });

  it('without a present power the average so far continues, and the status is uncertain; gaps are marked', () => {
    const d = new DemandTracker({ timeZone: 'UTC', blockMinutes: 15 });
    const t0 = utc('2026-02-02T10:00:00Z');
    d.add(span(t0 + 3 * MIN, t0 + 6 * MIN, 20));
    d.add({ startMs: t0 + 6 * MIN, endMs: t0 + 9 * MIN, amount: 0, gap: true, quality: 'bad', reason: 'power gap' });
    const s = d.status('a', t0 + 9 * MIN, null);
    expect(s.averageKwSoFar).to.be.closeTo(1 / (9 / 60), EPS);
    expect(s.forecastKw).to.be.closeTo(s.averageKwSoFar, EPS);
    expect(s.quality).to.equal('uncertain');
    expect(s.qualityReason).to.equal(
      'power gap; no present power: the average so far is assumed to continue; no data for 360 s of the block',
    );
  });
});
