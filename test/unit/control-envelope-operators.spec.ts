import { expect } from 'chai';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { EnvelopeConfig } from '../../runtime/model/control.js';
import type { Reading } from '../../runtime/model/reading.js';
import { latestReadings, rampOf, rampSteps, withinEnvelope, type Checked, type SetpointChange, type TimedStep } from '../../runtime/control/envelope-operators.js';

const A = 'plant/line1/extruder';

/** Envelope for these tests: limits 0..1000, maxStep 2, up 2/min (2 units → 60 s), down 4/min (→ 30 s), dwell 10 s. */
function envelope(over: Partial<EnvelopeConfig> = {}): EnvelopeConfig {
  return {
    asset: A, tag: 'sp', unit: 'degC', lowLimit: 0, highLimit: 1000, maxStep: 2, rateUpPerMin: 2, rateDownPerMin: 4,
    minDwellMs: 10_000, interlocks: [], inputTags: [], maxInputAgeMs: 1e9, minQuality: 'good', ramp: true, ...over,
  };
}
function rd(tag: string, value: number, tsMs: number, quality: Reading['quality'] = 'good'): Reading {
  return { asset: A, tag, value, tsMs, quality, source: 'test' };
}
const ch = (fromValue: number, toValue: number): SetpointChange => ({ fromValue, toValue });
/** One word per checked item: 'ok' or its violation codes. */
const verdict = (c: Checked<unknown>): string => (c.check.ok ? 'ok' : c.check.violations.map((v) => v.code).join('+'));

describe('control envelope operators (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  describe('rampOf / rampSteps', () => {
    it('ramps up in equal steps of ≤ maxStep, 60 s apart at 2/min up, the last exactly the target', () => {
      ts.run(({ cold, expectObservable }) => {
        const out = cold('a|', { a: ch(100, 106) }).pipe(rampSteps(envelope(), ts));
        const s = (fromValue: number, toValue: number, step: number, atMs: number): TimedStep => ({ fromValue, toValue, step, steps: 3, atMs });
        expectObservable(out).toBe('a 59999ms b 59999ms (c|)', { a: s(100, 102, 1, 0), b: s(102, 104, 2, 60_000), c: s(104, 106, 3, 120_000) });
      });
    });

    it('ramps down faster: 30 s apart at 4/min down', () => {
      ts.run(({ cold, expectObservable }) => {
        const out = cold('a|', { a: ch(106, 100) }).pipe(rampSteps(envelope(), ts), map((s) => s.toValue));
        expectObservable(out).toBe('a 29999ms b 29999ms (c|)', { a: 104, b: 102, c: 100 });
      });
    });

    it('the dwell governs when it is longer than the rate needs', () => {
      ts.run(({ cold, expectObservable }) => {
        const out = cold('a|', { a: ch(10, 7) }).pipe(rampSteps(envelope({ minDwellMs: 45_000 }), ts), map((s) => s.toValue));
        expectObservable(out).toBe('a 44999ms (b|)', { a: 8.5, b: 7 });
      });
    });

    it('a change of 0 emits nothing', () => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a: ch(5, 5) }).pipe(rampSteps(envelope(), ts))).toBe('-|');
      });
    });

    it('a second change waits for the first ramp, then for the dwell/rate of its own first step', () => {
      ts.run(({ hot, expectObservable }) => {
        // a: 100 → 104 (steps at 0 and 60 s); b arrives at 1 s: 104 → 103 (down 1: max(10 s, 15 s) = 15 s after 60 s)
        const out = hot('a 999ms b', { a: ch(100, 104), b: ch(104, 103) }).pipe(rampSteps(envelope(), ts), map((s) => s.toValue));
        expectObservable(out).toBe('a 59999ms b 14999ms c', { a: 102, b: 104, c: 103 });
      });
    });

    it('a change long after the last one goes out at once; a known earlier change delays the first', () => {
      ts.run(({ hot, expectObservable }) => {
        const out1 = hot('a 99999ms b', { a: ch(0, 1), b: ch(1, 0) }).pipe(rampSteps(envelope(), ts), map((s) => s.atMs));
        expectObservable(out1).toBe('a 99999ms b', { a: 0, b: 100_000 });
        // last change at −5 s: 0 → 1 up needs 30 s at 2/min, so the step is due at 25 s
        const out2 = hot('a', { a: ch(0, 1) }).pipe(rampSteps(envelope(), ts, -5_000), map((s) => s.atMs));
        expectObservable(out2).toBe('25s a', { a: 25_000 });
      });
    });

    it('rampOf from a start time in the future waits until then', () => {
      ts.run(({ expectObservable }) => {
        const out = rampOf(envelope(), ch(0, 2), ts, 5_000).pipe(map((s) => s.step));
        expectObservable(out).toBe('5s (a|)', { a: 1 });
      });
    });
  });

  describe('latestReadings', () => {
    it('keeps the newest reading per tag by event time; a late older one does not replace it; keys filter', () => {
      ts.run(({ cold, expectObservable }) => {
        const r1 = rd('sp', 1, 1_000);
        const r0 = rd('sp', 0, 500); // late, older
        const other = rd('noise', 9, 2_000);
        const r2 = rd('sp', 2, 3_000);
        const out = cold('abcd', { a: r1, b: r0, c: other, d: r2 }).pipe(
          latestReadings(new Set([`${A}/sp`])),
          map((m) => [...m.values()].map((r) => r.value).join(',')),
        );
        expectObservable(out).toBe('a--d', { a: '1', d: '2' });
      });
    });

    it('each emission is its own snapshot', () => {
      const seen: Array<ReadonlyMap<string, Reading>> = [];
      ts.run(({ cold }) => {
        cold('ab', { a: rd('x', 1, 1), b: rd('y', 2, 2) }).pipe(latestReadings()).subscribe((m) => seen.push(m));
      });
      expect(seen.map((m) => m.size)).to.deep.equal([1, 2]);
    });
  });

  describe('withinEnvelope', () => {
    it('dwell over time: a change within 10 s of the last passed one is refused', () => {
      ts.run(({ cold, hot, expectObservable }) => {
        const env = envelope({ rateUpPerMin: 1e6, rateDownPerMin: 1e6 });
        const readings$ = cold('a', { a: rd('sp', 100, 0) });
        const changes = hot('1s a 4999ms b 7999ms c', { a: ch(100, 101), b: ch(101, 102), c: ch(101, 102) });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts), map(verdict))).toBe('1s a 4999ms b 7999ms c', { a: 'ok', b: 'DWELL', c: 'ok' });
      });
    });

    it('rate limits over time differ up (1/min) and down (2/min)', () => {
      ts.run(({ cold, hot, expectObservable }) => {
        const env = envelope({ minDwellMs: 0, rateUpPerMin: 1, rateDownPerMin: 2 });
        const readings$ = cold('a', { a: rd('sp', 100, 0) });
        // (from 1 s, after the reading) 0 s up 1 ok · 30 s up 1: needs 60 s · 60 s down 1: needs 30 s, ok · 75 s down 1: only 15 s · 90 s down 1 ok
        const changes = hot('1s a 29999ms b 29999ms c 14999ms d 14999ms e', {
          a: ch(100, 101), b: ch(101, 102), c: ch(101, 100), d: ch(100, 99), e: ch(100, 99),
        });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts), map(verdict))).toBe('1s a 29999ms b 29999ms c 14999ms d 14999ms e', {
          a: 'ok', b: 'RATE_UP', c: 'ok', d: 'RATE_DOWN', e: 'ok',
        });
      });
    });

    it('a reading that becomes stale as virtual time passes blocks the change until a fresh one arrives', () => {
      ts.run(({ hot, expectObservable }) => {
        const env = envelope({ maxInputAgeMs: 30_000, minDwellMs: 0, rateUpPerMin: 1e6 });
        // setpoint read at 0 and again at 45 s
        const readings$ = hot('a 44999ms b', { a: rd('sp', 100, 0), b: rd('sp', 100, 45_000) });
        const changes = hot('10s a 29999ms b 9999ms c', { a: ch(100, 101), b: ch(100, 101), c: ch(100, 101) });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts), map(verdict))).toBe('10s a 29999ms b 9999ms c', {
          a: 'ok', b: 'STALE_INPUT', c: 'ok',
        });
      });
    });

    it('bad quality blocks until a good reading; no reading at all is MISSING_INPUT', () => {
      ts.run(({ hot, expectObservable }) => {
        const env = envelope({ minDwellMs: 0, rateUpPerMin: 1e6 });
        const readings$ = hot('1s a 1999ms b', { a: rd('sp', 100, 1_000, 'bad'), b: rd('sp', 100, 3_000) });
        const changes = hot('a 1999ms b 1999ms c', { a: ch(100, 101), b: ch(100, 101), c: ch(100, 101) });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts), map(verdict))).toBe('a 1999ms b 1999ms c', {
          a: 'MISSING_INPUT', b: 'BAD_INPUT', c: 'ok',
        });
      });
    });

    it('an interlock that stops holding blocks the change', () => {
      ts.run(({ hot, expectObservable }) => {
        const env = envelope({ minDwellMs: 0, rateUpPerMin: 1e6, interlocks: [{ tag: 'mode', op: '==', value: 1 }] });
        const readings$ = hot('(ab) 4999ms c', { a: rd('sp', 100, 0), b: rd('mode', 1, 0), c: rd('mode', 0, 5_000) });
        const changes = hot('1s a 4999ms b', { a: ch(100, 101), b: ch(100, 101) });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts), map(verdict))).toBe('1s a 4999ms b', { a: 'ok', b: 'INTERLOCK' });
      });
    });

    it('ramp steps checked at write time: the steps after the setpoint reading goes stale are blocked', () => {
      ts.run(({ cold, hot, expectObservable }) => {
        // up 2/min, maxStep 2: 100 → 106 is due at 0, 60 s, 120 s; the reading (t=0) is fresh for 90 s.
        const env = envelope({ maxInputAgeMs: 90_000 });
        const readings$ = hot('a', { a: rd('sp', 100, 0) });
        const out = cold('a|', { a: ch(100, 106) }).pipe(
          rampSteps(env, ts),
          withinEnvelope(env, readings$, ts, { scope: 'step' }),
          map((c) => `${c.item.toValue}:${verdict(c)}`),
        );
        expectObservable(out).toBe('a 59999ms b 59999ms (c|)', { a: '102:ok', b: '104:ok', c: '106:STALE_INPUT' });
      });
    });

    it('with lastChangeTsMs from the caller, pacing follows what was really written', () => {
      ts.run(({ cold, hot, expectObservable }) => {
        const env = envelope({ rateUpPerMin: 1e6 });
        const readings$ = cold('a', { a: rd('sp', 100, 0) });
        const writtenAt = 3_000; // the writer reports the last write at 3 s; the operator's own passes do not count
        const changes = hot('5s a 6999ms b 999ms c', { a: ch(100, 101), b: ch(100, 101), c: ch(100, 101) });
        const out = changes.pipe(withinEnvelope(env, readings$, ts, { lastChangeTsMs: () => writtenAt }), map(verdict));
        expectObservable(out).toBe('5s a 6999ms b 999ms c', { a: 'DWELL', b: 'DWELL', c: 'ok' });
      });
    });

    it('a step larger than maxStep is refused in scope step, allowed (ramped) in scope change', () => {
      ts.run(({ cold, hot, expectObservable }) => {
        const env = envelope({ minDwellMs: 0, rateUpPerMin: 1e6 });
        const readings$ = cold('a', { a: rd('sp', 100, 0) });
        const changes = hot('1s a', { a: ch(100, 105) });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts, { scope: 'step' }), map(verdict))).toBe('1s a', { a: 'STEP_TOO_LARGE' });
        expectObservable(changes.pipe(withinEnvelope(env, readings$, ts, { scope: 'change' }), map(verdict))).toBe('1s a', { a: 'ok' });
      });
    });
  });
});
