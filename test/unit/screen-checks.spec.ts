import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { rangeStep, RANGE_HIGH, RANGE_LOW } from '../../runtime/ingest/screen/range.js';
import { rateInit, rateStep, RATE } from '../../runtime/ingest/screen/rate.js';
import { stuckInit, stuckStep, STUCK, type StuckConfig } from '../../runtime/ingest/screen/stuck.js';
import { orderInit, orderStep, DUPLICATE, OUT_OF_ORDER, FUTURE } from '../../runtime/ingest/screen/order.js';
import { staleInit, staleStep, staleDueInMs, staleReading } from '../../runtime/ingest/screen/stale.js';

function rd(value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'line1/extruder', tag: 'temp', value, tsMs, quality: 'good', source: 'test', ...extra };
}

describe('screen checks (pure steps)', () => {
  describe('range', () => {
    it('flags below low and above high, limits included as valid', () => {
      const c = { lowLimit: 0, highLimit: 100 };
      expect(rangeStep(null, rd(-0.1, 1), c).flag).to.equal(RANGE_LOW);
      expect(rangeStep(null, rd(0, 1), c).flag).to.equal(undefined);
      expect(rangeStep(null, rd(100, 1), c).flag).to.equal(undefined);
      expect(rangeStep(null, rd(100.5, 1), c).flag).to.equal(RANGE_HIGH);
      expect(RANGE_HIGH.reason).to.equal('range>high');
    });
    it('checks only the limits that are set', () => {
      expect(rangeStep(null, rd(-1e9, 1), { highLimit: 10 }).flag).to.equal(undefined);
      expect(rangeStep(null, rd(11, 1), { highLimit: 10 }).flag).to.equal(RANGE_HIGH);
      expect(rangeStep(null, rd(1e300, 1), {}).flag).to.equal(undefined);
    });
  });

  describe('rate (per second, event time)', () => {
    it('compares |Δvalue|/Δt with maxRatePerS', () => {
      const s = rateInit();
      const c = { maxRatePerS: 2 };
      expect(rateStep(s, rd(10, 0), c).flag).to.equal(undefined); // first: nothing to compare
      expect(rateStep(s, rd(11.9, 1000), c).flag).to.equal(undefined); // 1.9 /s
      expect(rateStep(s, rd(13.0, 1500), c).flag).to.equal(RATE); // 1.1 in 0.5 s = 2.2 /s
      expect(rateStep(s, rd(12.0, 2500), c).flag).to.equal(undefined); // falling 1.0 /s
      expect(rateStep(s, rd(2.0, 3500), c).flag).to.equal(RATE); // falling 10 /s
    });
    it('uses event time, not arrival: the same values slower in event time pass', () => {
      const s = rateInit();
      rateStep(s, rd(0, 0), { maxRatePerS: 1 });
      expect(rateStep(s, rd(50, 60_000), { maxRatePerS: 1 }).flag).to.equal(undefined);
      expect(rateStep(s, rd(100, 60_010), { maxRatePerS: 1 }).flag).to.equal(RATE);
    });
    it('ignores a reading that is not newer and keeps its state', () => {
      const s = rateInit();
      rateStep(s, rd(0, 1000), { maxRatePerS: 1 });
      expect(rateStep(s, rd(500, 1000), { maxRatePerS: 1 }).flag).to.equal(undefined);
      expect(s.lastValue).to.equal(0);
      expect(s.lastTsMs).to.equal(1000);
    });
  });

  describe('stuck', () => {
    const bySamples: StuckConfig = { stuckTolerance: 0.01, stuckSamples: 4, stuckWindowMs: 0 };
    it('flags from the Nth reading of a run within the tolerance until the value moves', () => {
      const s = stuckInit();
      const flags = [5, 5.005, 4.995, 5.0, 5.01, 6, 6, 6, 6].map((v, i) => stuckStep(s, rd(v, i * 1000), bySamples).flag);
      expect(flags).to.deep.equal([undefined, undefined, undefined, STUCK, STUCK, undefined, undefined, undefined, STUCK]);
    });
    it('anchors the run at its first value, so a slow creep ends it', () => {
      const s = stuckInit();
      const flags = [1, 1.006, 1.012, 1.018, 1.024].map((v, i) => stuckStep(s, rd(v, i), bySamples).flag);
      // 1.012 is 0.012 from the anchor: a new run starts there.
      expect(flags).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
    });
    it('flags a run that lasts stuckWindowMs of event time', () => {
      const s = stuckInit();
      const c: StuckConfig = { stuckTolerance: 0, stuckSamples: 0, stuckWindowMs: 60_000 };
      expect(stuckStep(s, rd(3, 0), c).flag).to.equal(undefined);
      expect(stuckStep(s, rd(3, 59_999), c).flag).to.equal(undefined);
      expect(stuckStep(s, rd(3, 60_000), c).flag).to.equal(STUCK);
      expect(stuckStep(s, rd(3.5, 60_001), c).flag).to.equal(undefined);
    });
  });

  describe('order', () => {
    it('flags duplicates and out-of-order readings without moving the last accepted time', () => {
      const s = orderInit();
      const c = { maxFutureMs: 0 };
      expect(orderStep(s, rd(1, 1000), c).flag).to.equal(undefined);
      expect(orderStep(s, rd(2, 1000), c).flag).to.equal(DUPLICATE);
      expect(orderStep(s, rd(3, 900), c).flag).to.equal(OUT_OF_ORDER);
      expect(s.lastTsMs).to.equal(1000);
      expect(orderStep(s, rd(4, 950), c).flag).to.equal(OUT_OF_ORDER); // still behind 1000, not 900
      expect(orderStep(s, rd(5, 1001), c).flag).to.equal(undefined);
      expect(s.lastTsMs).to.equal(1001);
    });
    it('flags a timestamp too far ahead of the receiving clock, and does not let it block later readings', () => {
      const s = orderInit();
      const c = { maxFutureMs: 5000 };
      expect(orderStep(s, rd(1, 10_000), c, 10_000).flag).to.equal(undefined);
      expect(orderStep(s, rd(1, 10_000 + 3_600_000), c, 10_100).flag).to.equal(FUTURE);
      expect(orderStep(s, rd(1, 10_200), c, 10_200).flag).to.equal(undefined);
      // No clock (replay): no future check.
      expect(orderStep(s, rd(1, 10_000 + 3_600_000), c).flag).to.equal(undefined);
    });
  });

  describe('stale (pure part)', () => {
    it('records the last accepted reading and builds one stale reading per silence', () => {
      const s = staleInit();
      const c = { staleAfterMs: 5000 };
      expect(staleDueInMs(s, c, 0)).to.equal(Infinity);
      staleStep(s, rd(42, 1_000_000, { unit: 'degC', quality: 'uncertain' }), c, 100);
      expect(staleDueInMs(s, c, 2100)).to.equal(3000);
      const out = staleReading(s, c, 'bad');
      expect(out).to.deep.equal({
        asset: 'line1/extruder',
        tag: 'temp',
        value: 42,
        unit: 'degC',
        tsMs: 1_005_000,
        quality: 'bad',
        qualityReason: 'stale',
        source: 'test',
      });
      expect(staleDueInMs(s, c, 99_999)).to.equal(Infinity); // disarmed
      staleStep(s, rd(43, 1_010_000), c, 20_000);
      expect(staleDueInMs(s, c, 20_000)).to.equal(5000);
      // Severity 'uncertain' never hides a worse original quality.
      staleStep(s, rd(43, 1_020_000, { quality: 'bad' }), c, 30_000);
      expect(staleReading(s, c, 'uncertain').quality).to.equal('bad');
      // The stale reading comes from where the tag's readings came from (a gate bound to it counts it).
      const origin = Object.freeze({ connection: 'plc', item: 'ns=1;s=temp' });
      staleStep(s, rd(44, 1_030_000, { origin }), c, 40_000);
      expect(staleReading(s, c, 'bad').origin).to.equal(origin);
    });
    it('does nothing when staleAfterMs is 0', () => {
      const s = staleInit();
      staleStep(s, rd(1, 1), { staleAfterMs: 0 }, 0);
      expect(s.armed).to.equal(false);
    });
  });
});
