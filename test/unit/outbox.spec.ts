import { expect } from 'chai';
import { mkdtempSync, readdirSync, appendFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileOutbox } from '../../runtime/store/file-outbox.js';

const tmp = () => mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'outbox-'));

describe('file outbox', () => {
  it('enqueues in order, peeks without removing, acks from the head', async () => {
    const ob = FileOutbox.open<{ n: number }>(tmp());
    const seqs = await Promise.all([1, 2, 3, 4].map((n) => ob.enqueue({ n })));
    expect(seqs).to.deep.equal([1, 2, 3, 4]);
    expect(ob.size()).to.equal(4);
    expect((await ob.peek(2)).map((e) => e.record.n)).to.deep.equal([1, 2]);
    expect((await ob.peek(2)).map((e) => e.seq)).to.deep.equal([1, 2]);
    await ob.ack(3);
    expect(ob.size()).to.equal(1);
    expect((await ob.peek(10)).map((e) => e.seq)).to.deep.equal([4]);
    await ob.close();
  });

  it('writes its files owner-only (0600) even under a permissive umask', async () => {
    const dir = tmp();
    const before = process.umask(0o000);
    try {
      const ob = FileOutbox.open<number>(dir);
      await ob.enqueue(1);
      await ob.ack(1);
      await ob.close();
    } finally {
      process.umask(before);
    }
    const files = readdirSync(dir);
    expect(files).to.include.members(['meta.json', 'acked']);
    for (const f of files) expect(statSync(join(dir, f)).mode & 0o777, f).to.equal(0o600);
  });

  it('survives a restart: unacked records come back in order, seq continues, id stays', async () => {
    const dir = tmp();
    const a = FileOutbox.open<string>(dir);
    for (const s of ['a', 'b', 'c', 'd', 'e']) await a.enqueue(s);
    await a.ack(2);
    const id = a.id;
    await a.close();
    const b = FileOutbox.open<string>(dir);
    expect(b.id).to.equal(id);
    expect((await b.peek(10)).map((e) => [e.seq, e.record])).to.deep.equal([
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
    ]);
    expect(await b.enqueue('f')).to.equal(6);
    await b.close();
  });

  it('continues the sequence after everything was acknowledged and compacted', async () => {
    const dir = tmp();
    const a = FileOutbox.open<number>(dir);
    for (let i = 0; i < 3; i++) await a.enqueue(i);
    await a.ack(3);
    await a.close();
    const b = FileOutbox.open<number>(dir);
    expect(b.size()).to.equal(0);
    expect(await b.enqueue(9)).to.equal(4);
    await b.close();
  });

  it('skips a torn last line left by a crash', async () => {
    const dir = tmp();
    const a = FileOutbox.open<string>(dir);
    await a.enqueue('x');
    await a.close();
    const seg = readdirSync(dir).find((f) => f.startsWith('seg-'))!;
    appendFileSync(join(dir, seg), '{"s":2,"r":"tor');
    const b = FileOutbox.open<string>(dir);
    expect((await b.peek(10)).map((e) => e.record)).to.deep.equal(['x']);
    expect(await b.enqueue('y')).to.equal(2);
    await b.close();
    const c = FileOutbox.open<string>(dir);
    expect((await c.peek(10)).map((e) => e.record)).to.deep.equal(['x', 'y']);
    await c.close();
  });

  it('refuses new records when full, with a clear QUEUE error, and keeps the old ones', async () => {
    const ob = FileOutbox.open<number>(tmp(), { maxEntries: 3 });
    await ob.enqueue(1);
    await ob.enqueue(2);
    await ob.enqueue(3);
    let err: { code?: string; message?: string } | undefined;
    await ob.enqueue(4).catch((e) => {
      err = e;
    });
    expect(err?.code).to.equal('QUEUE');
    expect(err?.message).to.match(/full/);
    expect((await ob.peek(10)).map((e) => e.record)).to.deep.equal([1, 2, 3]);
    await ob.ack(1);
    expect(await ob.enqueue(5)).to.be.a('number');
    await ob.close();
  });

  it('rolls segments and deletes fully acknowledged ones (compaction)', async () => {
    const dir = tmp();
    const ob = FileOutbox.open<string>(dir, { segmentMaxBytes: 200 });
    for (let i = 0; i < 40; i++) await ob.enqueue('x'.repeat(30) + i);
    const before = readdirSync(dir).filter((f) => f.startsWith('seg-')).length;
    expect(before).to.be.greaterThan(3);
    await ob.ack(35);
    const after = readdirSync(dir).filter((f) => f.startsWith('seg-')).length;
    expect(after).to.be.lessThan(before);
    expect(readFileSync(join(dir, 'acked'), 'utf8').trim()).to.equal('35');
    await ob.close();
    const again = FileOutbox.open<string>(dir);
    expect((await again.peek(10)).map((e) => e.seq)).to.deep.equal([36, 37, 38, 39, 40]);
    await again.close();
  });

  it('group-commits concurrent enqueues and keeps their order', async () => {
    const dir = tmp();
    const ob = FileOutbox.open<number>(dir);
    const seqs = await Promise.all(Array.from({ length: 500 }, (_, i) => ob.enqueue(i)));
    expect(seqs).to.deep.equal(Array.from({ length: 500 }, (_, i) => i + 1));
    await ob.close();
    const b = FileOutbox.open<number>(dir);
    expect((await b.peek(1000)).map((e) => e.record)).to.deep.equal(Array.from({ length: 500 }, (_, i) => i));
    await b.close();
  });

  it('rejects enqueue after close and invalid options', async () => {
    const ob = FileOutbox.open<number>(tmp());
    await ob.close();
    let code: string | undefined;
    await ob.enqueue(1).catch((e) => {
      code = e.code;
    });
    expect(code).to.equal('QUEUE');
    expect(() => FileOutbox.open(tmp(), { maxEntries: 0 })).to.throw(/maxEntries/);
  });
});
