import { expect } from 'chai';
import { OutboxDedupe, outboxStamp } from '../../runtime/ingest/mqtt-dedupe.js';

describe('MQTT outbox dedupe', () => {
  const p = (src: string, seq: number) => ({ 'twinloop-src': src, 'twinloop-seq': String(seq) });
  it('drops a repeat of an already-seen (src, seq) and keeps sources apart', () => {
    const d = new OutboxDedupe();
    const seen = [p('a', 1), p('a', 2), p('a', 2), p('b', 1), p('a', 1), p('a', 3)].map((x) => d.accept(x));
    expect(seen).to.deep.equal([true, true, false, true, false, true]);
    expect(d.duplicates).to.equal(2);
  });
  it('passes unstamped messages', () => {
    const d = new OutboxDedupe();
    expect([d.accept(undefined), d.accept({}), d.accept({ 'twinloop-src': 'a', 'twinloop-seq': 'x' })]).to.deep.equal([true, true, true]);
    expect(outboxStamp({ 'twinloop-src': ['a'], 'twinloop-seq': ['7'] })).to.deep.equal({ src: 'a', seq: 7 });
  });
  it('remembers across a restart through its snapshot', () => {
    const a = new OutboxDedupe();
    a.accept(p('a', 5));
    const b = new OutboxDedupe(JSON.parse(JSON.stringify(a.snapshot())));
    expect([b.accept(p('a', 5)), b.accept(p('a', 6))]).to.deep.equal([false, true]);
  });
  it('accepts a message that was overtaken, once, and still drops repeats', () => {
    const d = new OutboxDedupe();
    const seen = [1, 3, 4, 2, 2, 3, 5].map((n) => d.accept(p('a', n)));
    expect(seen).to.deep.equal([true, true, true, true, false, false, true]);
    const restored = new OutboxDedupe(JSON.parse(JSON.stringify(new OutboxDedupe({ a: { h: 9, m: [7] } }).snapshot())));
    expect([7, 7, 8, 9, 10].map((n) => restored.accept(p('a', n)))).to.deep.equal([true, false, false, false, true]);
  });
});
