import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { Subject } from 'rxjs';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { screenReadings } from '../../runtime/ingest/screen/operator.js';

function rd(tag: string, value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'cell7/press', tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}
function stale(r: Reading, staleAfterMs: number): Reading {
  return { ...r, tsMs: r.tsMs + staleAfterMs, quality: 'bad', qualityReason: 'stale' };
}

describe('screen: screenReadings operator (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('passes readings through screened and emits one stale reading after staleAfterMs of silence', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 1000);
      const b = rd('force', 2, 1002);
      const c = rd('force', 3, 1030);
      const src = hot('-a-b 20ms c|', { a, b, c });
      const out = src.pipe(screenReadings({ staleAfterMs: 10 }, ts));
      expectObservable(out).toBe('-a-b 9ms s 10ms c|', { a, b, c, s: stale(b, 10) });
    });
  });

  it('emits once per silence, not repeatedly', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 1000, { unit: 'kN' });
      const src = hot('a 50ms |', { a });
      expectObservable(src.pipe(screenReadings({ staleAfterMs: 10 }, ts))).toBe('a 9ms s 40ms |', { a, s: stale(a, 10) });
    });
  });

  it('is re-armed by each accepted reading: a steady stream is never stale', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 1000);
      const b = rd('force', 2, 1005);
      const c = rd('force', 3, 1010);
      const src = hot('a 4ms b 4ms c 30ms |', { a, b, c });
      expectObservable(src.pipe(screenReadings({ staleAfterMs: 10 }, ts))).toBe('a 4ms b 4ms c 9ms s 20ms |', { a, b, c, s: stale(c, 10) });
    });
  });

  it('is not re-armed by a duplicate (a gateway re-sending its last value), which still goes out marked bad', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 1000);
      const d = rd('force', 1, 1000);
      const src = hot('a 4ms d 30ms |', { a, d });
      const dOut = { ...d, quality: 'bad', qualityReason: 'duplicate' };
      expectObservable(src.pipe(screenReadings({ staleAfterMs: 10 }, ts))).toBe('a 4ms d 4ms s 25ms |', { a, d: dOut, s: stale(a, 10) });
    });
  });

  it('keeps tags apart and honours per-tag staleAfterMs overrides', () => {
    ts.run(({ hot, expectObservable }) => {
      const f = rd('force', 1, 1000);
      const p = rd('pos', 5, 1001);
      const src = hot('fp 40ms |', { f, p });
      const cfg = { staleAfterMs: 10, overrides: [{ match: 'pos', staleAfterMs: 20 }] };
      // f@0 → stale at 10; p@1 → stale at 21.
      expectObservable(src.pipe(screenReadings(cfg, ts))).toBe('fp 8ms x 10ms y 20ms |', {
        f,
        p,
        x: stale(f, 10),
        y: stale(p, 20),
      });
    });
  });

  it('stale severity follows the config and never hides a worse quality', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 1000, { quality: 'uncertain', qualityReason: 'UncertainSensorNotAccurate' });
      const src = hot('a 20ms |', { a });
      const cfg = { staleAfterMs: 5, severity: { stale: 'uncertain' } };
      expectObservable(src.pipe(screenReadings(cfg, ts))).toBe('a 4ms s 15ms |', {
        a,
        s: { ...a, tsMs: 1005, quality: 'uncertain', qualityReason: 'stale' },
      });
    });
  });

  it('cancels pending stale timers on unsubscribe', () => {
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = rd('force', 1, 1000);
      const src = hot('a-------------', { a });
      expectObservable(src.pipe(screenReadings({ staleAfterMs: 10 }, ts)), '^---!').toBe('a', { a });
      expectSubscriptions(src.subscriptions).toBe('^---!');
    });
  });

  it('flags a timestamp ahead of the scheduler clock as future', () => {
    ts.run(({ hot, expectObservable }) => {
      const a = rd('force', 1, 3);
      const z = rd('force', 2, 500);
      const src = hot('a-z|', { a, z });
      expectObservable(src.pipe(screenReadings({ maxFutureMs: 100 }, ts))).toBe('a-z|', {
        a,
        z: { ...z, quality: 'bad', qualityReason: 'future' },
      });
    });
  });

  it('refuses an invalid config when the operator is created', () => {
    expect(() => screenReadings({ spikeWindow: -1 }, ts)).to.throw(TwinError, /spikeWindow/).with.property('code', 'BAD_CONFIG');
  });

  it('each subscription screens with its own state', () => {
    const op = screenReadings({});
    const seen: string[] = [];
    for (let k = 0; k < 2; k++) {
      const s = new Subject<Reading>();
      const sub = s.pipe(op).subscribe((r) => seen.push(r.qualityReason ?? 'ok'));
      s.next(rd('force', 1, 1000));
      sub.unsubscribe();
    }
    expect(seen).to.deep.equal(['ok', 'ok']);
  });
});
