import { expect } from 'chai';
import { VirtualTimeScheduler } from 'rxjs';
import type { Reading } from '../../runtime/model/reading.js';
import { Screener } from '../../runtime/ingest/screen/screener.js';

const at = (value: number, tsMs: number): Reading => ({ asset: 'a', tag: 't', value, tsMs, quality: 'good', source: 'test' });

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

  it('close() stops the timers: nothing is reported after it', () => {
    const clock = new VirtualTimeScheduler();
    const stale: Reading[] = [];
    const s = new Screener({ staleAfterMs: 10 }, (r) => stale.push(r), clock);
    s.step(at(1, 0));
    s.close();
    clock.flush();
    expect(stale).to.deep.equal([]);
  });
});
