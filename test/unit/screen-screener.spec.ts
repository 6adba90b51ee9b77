import { expect } from 'chai';
import { VirtualTimeScheduler } from 'rxjs';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { Screener } from '../../runtime/ingest/screen/screener.js';

const at = (value: number, tsMs: number): Reading => ({ asset: 'a', tag: 't', value, tsMs, quality: 'good', source: 'test' });

function rd(tag: string, value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'cell7/press', tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}
function stale(r: Reading, staleAfterMs: number): Reading {
  return { ...r, tsMs: r.tsMs + staleAfterMs, quality: 'bad', qualityReason: 'stale' };
}

/** What came out, when (virtual ms): a reading returned by step() ('out') or reported through onStale ('stale'). */
type Event = [atMs: number, kind: 'out' | 'stale', r: Reading];

/**
 * Hand `inputs` ([arrival on the virtual clock in ms, reading]) to a Screener one at a time, as the
 * node does, optionally close it at `closeAtMs`, and run the clock until no timer is left.
 */
function play(config: unknown, inputs: Array<[number, Reading]>, closeAtMs?: number): Event[] {
  const clock = new VirtualTimeScheduler();
  const log: Event[] = [];
  const s = new Screener(config, (r) => log.push([clock.now(), 'stale', r]), clock);
  for (const [atMs, r] of inputs) clock.schedule(() => log.push([clock.now(), 'out', s.step(r)]), atMs);
  if (closeAtMs !== undefined) clock.schedule(() => s.close(), closeAtMs);
  clock.flush();
  return log;
}

describe('Screener (the screen plus its stale timers, one reading at a time)', () => {
  it('returns each reading screened, synchronously, and reports one stale reading per silence', () => {
    const clock = new VirtualTimeScheduler();
    const stale: Reading[] = [];
    const s = new Screener({ staleAfterMs: 10, highLimit: 5 }, (r) => stale.push(r), clock);
    expect(s.step(at(1, 0))).to.deep.equal(at(1, 0)); // clean: returned as is
    expect(s.step(at(9, 1))).to.include({ quality: 'bad', qualityReason: 'range>high' });
    clock.flush();
    expect(stale).to.have.length(1);
    expect(stale[0]).to.include({ value: 9, tsMs: 11, quality: 'bad', qualityReason: 'stale' });
  });

  it('reports a stale reading staleAfterMs after the last arrival, between the readings that pass through', () => {
    const a = rd('force', 1, 1000);
    const b = rd('force', 2, 1002);
    const c = rd('force', 3, 1030);
    expect(
      play({ staleAfterMs: 10 }, [
        [1, a],
        [3, b],
        [24, c],
      ]),
    ).to.deep.equal([
      [1, 'out', a],
      [3, 'out', b],
      [13, 'stale', stale(b, 10)],
      [24, 'out', c],
      [34, 'stale', stale(c, 10)],
    ]);
  });

  it('reports once per silence, not repeatedly', () => {
    const a = rd('force', 1, 1000, { unit: 'kN' });
    expect(play({ staleAfterMs: 10 }, [[0, a]])).to.deep.equal([
      [0, 'out', a],
      [10, 'stale', stale(a, 10)],
    ]);
  });

  it('is re-armed by each accepted reading: a steady stream is never stale', () => {
    const a = rd('force', 1, 1000);
    const b = rd('force', 2, 1005);
    const c = rd('force', 3, 1010);
    expect(
      play({ staleAfterMs: 10 }, [
        [0, a],
        [5, b],
        [10, c],
      ]),
    ).to.deep.equal([
      [0, 'out', a],
      [5, 'out', b],
      [10, 'out', c],
      [20, 'stale', stale(c, 10)],
    ]);
  });

  it('is not re-armed by a duplicate (a gateway re-sending its last value), which still goes out marked bad', () => {
    const a = rd('force', 1, 1000);
    const d = rd('force', 1, 1000);
    expect(
      play({ staleAfterMs: 10 }, [
        [0, a],
        [5, d],
      ]),
    ).to.deep.equal([
      [0, 'out', a],
      [5, 'out', { ...d, quality: 'bad', qualityReason: 'duplicate' }],
      [10, 'stale', stale(a, 10)],
    ]);
  });

  it('keeps tags apart and honours per-tag staleAfterMs overrides', () => {
    const f = rd('force', 1, 1000);
    const p = rd('pos', 5, 1001);
    const cfg = { staleAfterMs: 10, overrides: [{ match: 'pos', staleAfterMs: 20 }] };
    expect(
      play(cfg, [
        [0, f],
        [1, p],
      ]),
    ).to.deep.equal([
      [0, 'out', f],
      [1, 'out', p],
      [10, 'stale', stale(f, 10)],
      [21, 'stale', stale(p, 20)],
    ]);
  });

  it('stale severity follows the config and never hides a worse quality', () => {
    const a = rd('force', 1, 1000, { quality: 'uncertain', qualityReason: 'UncertainSensorNotAccurate' });
    expect(play({ staleAfterMs: 5, severity: { stale: 'uncertain' } }, [[0, a]])).to.deep.equal([
      [0, 'out', a],
      [5, 'stale', { ...a, tsMs: 1005, quality: 'uncertain', qualityReason: 'stale' }],
    ]);
  });

  it('close() stops the pending timers: nothing is reported after it', () => {
    const a = rd('force', 1, 1000);
    expect(play({ staleAfterMs: 10 }, [[0, a]], 3)).to.deep.equal([[0, 'out', a]]);
  });

  it('flags a timestamp ahead of the scheduler clock as future', () => {
    const a = rd('force', 1, 3);
    const z = rd('force', 2, 500);
    expect(
      play({ maxFutureMs: 100 }, [
        [0, a],
        [2, z],
      ]),
    ).to.deep.equal([
      [0, 'out', a],
      [2, 'out', { ...z, quality: 'bad', qualityReason: 'future' }],
    ]);
  });

  it('refuses an invalid config when constructed, not per reading', () => {
    expect(() => new Screener({ spikeWindow: -1 }, () => undefined))
      .to.throw(TwinError, /spikeWindow/)
      .with.property('code', 'BAD_CONFIG');
  });

  it('each Screener screens with its own state', () => {
    const first = new Screener({}, () => undefined);
    const r = rd('force', 1, 1000);
    expect(first.step({ ...r }).qualityReason).to.equal(undefined);
    expect(first.step({ ...r }).qualityReason).to.equal('duplicate');
    expect(new Screener({}, () => undefined).step({ ...r }).qualityReason).to.equal(undefined);
  });
});
