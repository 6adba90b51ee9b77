import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { EnergyIntegrator, prorate, type TimedValue } from '../../runtime/energy/energy-integrator.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 1, 2, 10);
const EPS = 1e-12;
const v = (value: number, tsMs: number, extra: Partial<TimedValue> = {}): TimedValue => ({ value, tsMs, quality: 'good', ...extra });

function expectError(fn: () => unknown, code: string, re: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').to.be.instanceOf(TwinError);
  expect((caught as TwinError).code).to.equal(code);
  expect((caught as TwinError).message).to.match(re);
}

describe('energy: integrator', () => {
  describe('power (left-hold)', () => {
    const power = (maxGapMs = 5 * MIN) => new EnergyIntegrator({ mode: 'rate', what: 'power', unit: 'kW', maxGapMs });

    it('holds each value until the next reading (10 kW for 30 min then 20 kW: 5 kWh, not the trapezoid 7.5)', () => {
      const p = power(60 * MIN);
      expect(p.push(v(10, T0))).to.equal(null);
      const s = p.push(v(20, T0 + 30 * MIN))!;
      expect(s).to.include({ startMs: T0, endMs: T0 + 30 * MIN, gap: false, quality: 'good' });
      expect(s.amount).to.be.closeTo(5, EPS);
      expect(p.rate).to.equal(20);
    });

    it('a span longer than the max gap is not integrated but returned as a gap', () => {
      const p = power();
      p.push(v(10, T0));
      const s = p.push(v(10, T0 + 6 * MIN))!;
      expect(s).to.deep.equal({
        startMs: T0,
        endMs: T0 + 6 * MIN,
        amount: 0,
        gap: true,
        quality: 'bad',
        reason: 'power gap 360 s > max gap',
      });
      expect(p.push(v(10, T0 + 7 * MIN))!.amount).to.be.closeTo(10 / 60, EPS);
    });

    it('a bad reading makes the span after it a gap; an uncertain one an uncertain span with its reason', () => {
      const p = power();
      p.push(v(10, T0));
      expect(p.push(v(999, T0 + MIN, { quality: 'bad' }))!.amount).to.be.closeTo(10 / 60, EPS);
      expect(p.rate).to.equal(null);
      expect(p.push(v(12, T0 + 2 * MIN))).to.equal(null);
      p.push(v(12, T0 + 3 * MIN, { quality: 'uncertain', qualityReason: 'stale' }));
      const s = p.push(v(12, T0 + 4 * MIN))!;
      expect(s).to.include({ quality: 'uncertain', reason: 'power stale' });
    });

    it('refuses negative power, a non-finite value and time not moving forward, applying nothing', () => {
      const p = power();
      p.push(v(10, T0));
      expectError(() => p.push(v(-0.5, T0 + MIN)), 'BAD_PAYLOAD', /^negative power -0\.5 kW at 2026-02-02T10:01:00\.000Z/);
      expectError(() => p.push(v(NaN, T0 + MIN)), 'NOT_FINITE', /power is not finite/);
      expectError(() => p.push(v(10, T0)), 'OUT_OF_ORDER', /is not after the last one/);
      expectError(() => p.push(v(10, T0 - MIN)), 'OUT_OF_ORDER', /is not after the last one/);
      expect(p.push(v(10, T0 + 2 * MIN))!.amount).to.be.closeTo(20 / 60, EPS);
    });

    it('rejects a bad config', () => {
      expect(() => new EnergyIntegrator({ mode: 'rate', what: 'power', unit: 'kW', maxGapMs: 0 })).to.throw(
        TwinError,
        /maxGapMs must be > 0/,
      );
      expect(() => new EnergyIntegrator({ mode: 'counter', what: 'c', unit: 'kWh', modulus: -1 })).to.throw(
        TwinError,
        /modulus must be a finite number > 0/,
      );
    });
  });

  describe('counter', () => {
    const counter = (modulus?: number) =>
      new EnergyIntegrator({ mode: 'counter', what: 'energy counter', unit: 'kWh', maxGapMs: 15 * MIN, modulus });

    it('the increase between readings; the rate is the last span average', () => {
      const c = counter();
      c.push(v(100, T0));
      expect(c.push(v(103, T0 + 15 * MIN))!.amount).to.be.closeTo(3, EPS);
      expect(c.rate).to.be.closeTo(12, EPS);
    });

    it('the present rate is the increase over the last 60 s, not over one (resolution-bound) reading', () => {
      const c = counter();
      let total = 0;
      c.push(v(total, T0));
      for (let k = 1; k <= 9; k++) {
        total += k % 2 ? 0.3 : 1 / 30; // 1 kWh a minute, unevenly reported every 10 s
        c.push(v(total, T0 + k * 10_000));
      }
      // Window 30 s..90 s: six increments = 0.3 × 3 + 3 / 30 = 1 kWh in 60 s = 60 kW (one span: 108 kW).
      expect(c.rate).to.be.closeTo(60, 1e-9);
    });

    it('a drop near the modulus is a rollover: modulus − previous + value', () => {
      const c = counter(100_000);
      c.push(v(99_990, T0));
      const s = c.push(v(5, T0 + 15 * MIN))!;
      expect(s).to.include({ gap: false, quality: 'good' });
      expect(s.amount).to.be.closeTo(15, EPS);
      expect(c.rollovers).to.equal(1);
    });

    it('a drop to near zero away from the modulus is a reset: the energy across it is lost and marked', () => {
      const c = counter(100_000);
      c.push(v(50_000, T0));
      const s = c.push(v(2, T0 + 15 * MIN))!;
      expect(s).to.include({ gap: true, amount: 0, quality: 'bad', reset: true });
      expect(s.reason).to.match(/energy counter reset from 50000 to 2 kWh: energy across it unknown/);
      expect(c.resets).to.equal(1);
      expect(c.push(v(5, T0 + 30 * MIN))!.amount).to.be.closeTo(3, EPS);
    });

    it('a small step backwards is an error and changes nothing (with or without a modulus)', () => {
      for (const modulus of [undefined, 100_000]) {
        const c = counter(modulus);
        c.push(v(50_000, T0));
        expectError(
          () => c.push(v(49_990, T0 + MIN)),
          'BAD_PAYLOAD',
          /energy counter went backwards from 50000 to 49990 kWh \(−10\).*not a rollover.*nor a reset to near zero; not applied/,
        );
        expect(c.push(v(50_004, T0 + 2 * MIN))!.amount).to.be.closeTo(4, EPS);
        expect(c.resets + c.rollovers).to.equal(0);
      }
    });

    it('a counter span longer than the max gap keeps its increase but is uncertain', () => {
      const c = counter();
      c.push(v(10, T0));
      const s = c.push(v(20, T0 + 60 * MIN))!;
      expect(s).to.include({ amount: 10, gap: false, quality: 'uncertain', reason: 'energy counter gap 3600 s: spread evenly' });
    });

    it('a bad counter reading is skipped: the next good one covers the whole span', () => {
      const c = counter();
      c.push(v(10, T0));
      expect(c.push(v(0, T0 + MIN, { quality: 'bad' }))).to.equal(null);
      expect(c.push(v(12, T0 + 2 * MIN))).to.include({ startMs: T0, amount: 2 });
    });
  });

  it('prorate: the part of a span in a window, by time', () => {
    const span = { startMs: 0, endMs: 40, amount: 4, gap: false, quality: 'good' as const };
    expect(prorate(span, 10, 20)).to.include({ startMs: 10, endMs: 20, amount: 1 });
    expect(prorate(span, -5, 100)).to.equal(span);
    expect(prorate(span, 40, 50)).to.equal(null);
  });
});
