// The fixed-capacity ring of timed rows behind the drift stage's histories (runtime/stats/timed-ring.ts).
import { expect } from 'chai';
import { TimedRing } from '../../runtime/stats/timed-ring.js';

describe('stats: timed ring', () => {
  it('keeps the newest `capacity` entries, oldest first, and overwrites the oldest', () => {
    const r = new TimedRing(3);
    expect(r.oldestTsMs()).to.equal(Infinity);
    expect(r.window()).to.deep.equal([]);
    for (let i = 1; i <= 5; i++) r.push(i * 1000, i * 10);
    expect(r.length).to.equal(3);
    expect(r.oldestTsMs()).to.equal(3000);
    expect(r.window()).to.deep.equal([
      { tsMs: 3000, value: 30 },
      { tsMs: 4000, value: 40 },
      { tsMs: 5000, value: 50 },
    ]);
    expect(r.window(4000)).to.deep.equal([
      { tsMs: 4000, value: 40 },
      { tsMs: 5000, value: 50 },
    ]);
  });

  it('while filling, entries sit in slots 0 … length − 1 in arrival order', () => {
    const r = new TimedRing(4);
    r.push(0, 7);
    r.push(1, 9);
    expect(Array.from(r.values.subarray(0, r.length))).to.deep.equal([7, 9]);
    expect([r.slot(0), r.slot(1)]).to.deep.equal([0, 1]);
  });

  it('rows of several values: one column at a time, the row copied in', () => {
    const r = new TimedRing(2, 3);
    const row = Float64Array.from([1, 2, 3]);
    r.push(10, row);
    row[0] = 99; // the ring holds a copy
    expect(r.window(-Infinity, 0)).to.deep.equal([{ tsMs: 10, value: 1 }]);
    r.push(20, [4, 5, 6]);
    r.push(30, [7, 8, 9]);
    expect(r.window(-Infinity, 0).map((e) => e.value)).to.deep.equal([4, 7]);
    expect(r.window(-Infinity, 2)).to.deep.equal([
      { tsMs: 20, value: 6 },
      { tsMs: 30, value: 9 },
    ]);
  });

  it('refuses a capacity or width below 1', () => {
    expect(() => new TimedRing(0)).to.throw(RangeError);
    expect(() => new TimedRing(3, 0)).to.throw(RangeError);
    expect(() => new TimedRing(2.5)).to.throw(RangeError);
  });
});
