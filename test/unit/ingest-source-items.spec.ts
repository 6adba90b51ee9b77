// What a plant connection knows for the writers' re-read (runtime/ingest/source-items.ts): which item
// each asset/tag is read from, the latest readings of the wanted tags, one frozen origin per item.
import { expect } from 'chai';
import { LatestReadings, OriginCache, SourceItems } from '../../runtime/ingest/source-items.js';
import { GATE_MAX_FUTURE_MS, type Reading } from '../../runtime/model/reading.js';

const A = 'acme/line1/extruder';
const rd = (tag: string, value: number, tsMs: number, quality: Reading['quality'] = 'good'): Reading => ({
  asset: A,
  tag,
  value,
  tsMs,
  quality,
  source: 'test',
});
const same = (a: { nodeId: string }, b: { nodeId: string }) => a.nodeId === b.nodeId;

describe('source items, latest readings, origins', function () {
  it('SourceItems: the one item a tag is read from, or why there is none', function () {
    const items = new SourceItems<{ nodeId: string; asset: string; tag: string }>();
    expect(items.resolve(`${A}/mode`, same)).to.deep.equal({ error: 'not read by any ingest node on this connection' });
    items.set('in1', [{ nodeId: 'ns=1;s=mode', asset: A, tag: 'mode' }]);
    items.set('in2', [{ nodeId: 'ns=1;s=mode', asset: A, tag: 'mode' }]); // the same item twice is one
    expect(items.resolve(`${A}/mode`, same)).to.deep.equal({ item: { nodeId: 'ns=1;s=mode', asset: A, tag: 'mode' } });
    items.set('in3', [{ nodeId: 'ns=1;s=other_mode', asset: A, tag: 'mode' }]);
    expect(items.resolve(`${A}/mode`, same)).to.deep.equal({ error: 'read from two different items on this connection' });
    items.delete('in3');
    expect(items.resolve(`${A}/mode`, same)).to.have.property('item');
  });

  it('LatestReadings: keeps only wanted tags, newer (or bad) wins, refuses readings dated ahead, forgets on release and clear', function () {
    const l = new LatestReadings();
    l.note(rd('mode', 1, 1000), 1000);
    expect(l.get(`${A}/mode`)).to.equal(undefined); // nobody wants it: not kept
    const release = l.want([`${A}/mode`]);
    l.note(rd('mode', 1, 1000), 1000);
    l.note(rd('mode', 0, 900), 1000); // late and good: not newer
    expect(l.get(`${A}/mode`)?.value).to.equal(1);
    l.note(rd('mode', 1, 1000 + GATE_MAX_FUTURE_MS + 1), 1000); // dated ahead: would hide what follows
    expect(l.get(`${A}/mode`)?.tsMs).to.equal(1000);
    l.note(rd('mode', 0, 950, 'bad'), 1000); // late but bad: counts
    expect(l.get(`${A}/mode`)?.quality).to.equal('bad');
    l.clear();
    expect(l.get(`${A}/mode`)).to.equal(undefined);
    l.note(rd('mode', 1, 2000), 2000);
    release();
    expect(l.get(`${A}/mode`)).to.equal(undefined);
    l.note(rd('mode', 1, 3000), 3000);
    expect(l.get(`${A}/mode`)).to.equal(undefined);
  });

  it('OriginCache: one frozen origin per item, reused; a flood of new items clears it rather than growing it', function () {
    const c = new OriginCache('broker-1', 3);
    const o = c.of('a/b');
    expect(o).to.deep.equal({ connection: 'broker-1', item: 'a/b' });
    expect(Object.isFrozen(o)).to.equal(true);
    expect(c.of('a/b')).to.equal(o);
    c.of('x');
    c.of('y'); // 3 items: full
    const again = c.of('z'); // cleared, then added
    expect(again).to.deep.equal({ connection: 'broker-1', item: 'z' });
    const fresh = c.of('a/b'); // made anew after the clear
    expect(fresh).to.not.equal(o);
    expect(fresh).to.deep.equal(o);
  });
});
