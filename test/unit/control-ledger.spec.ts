// The file ledger and its verification on a real file system: the hash chain, durable appends in
// call order under concurrency, reopening, sharing per path, and tampering of every kind being
// named at the right record (edit, delete, reorder, forge, torn last line).
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { GENESIS_HASH, hashRecord, verifyLedgerFile, verifyRecords } from '../../runtime/control/ledger-verify.js';
import type { Ledger } from '../../runtime/control/stores.js';

const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const parse = (path: string): LedgerRecord[] => lines(path).map((l) => JSON.parse(l) as LedgerRecord);

async function fill(path: string, n: number): Promise<LedgerRecord[]> {
  const ledger = await openFileLedger(path);
  const out: LedgerRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await ledger.append({
        type: 'decision',
        asset: 'site/line1/extruder',
        tag: 'barrel_sp',
        proposalId: `p-${i}`,
        data: { i, user: 'alice', reason: `reason ${i}` },
      }),
    );
  }
  await ledger.close();
  return out;
}

describe('file ledger (runtime/control/file-ledger.ts, ledger-verify.ts)', function () {
  let dir: string;
  let path: string;
  const open: Ledger[] = [];
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-ledger-'));
    path = join(dir, 'sub', 'ledger.jsonl');
  });
  afterEach(async function () {
    for (const l of open.splice(0)) await l.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const openLedger = async (p = path): Promise<Ledger> => {
    const l = await openFileLedger(p);
    open.push(l);
    return l;
  };

  describe('the chain', function () {
    it('creates the directory and chains every record to the one before, hash over the canonical record', async function () {
      const written = await fill(path, 10);
      const onDisk = parse(path);
      expect(onDisk).to.deep.equal(written);
      onDisk.forEach((r, i) => {
        expect(r.seq).to.equal(i);
        expect(r.prevHash).to.equal(i === 0 ? GENESIS_HASH : onDisk[i - 1].hash);
        const { hash, ...body } = r;
        expect(hash).to.equal(hashRecord(body));
        // key order must not matter: the hash is over canonical JSON
        const reversed = Object.fromEntries(Object.entries(body).reverse()) as typeof body;
        expect(hashRecord(reversed)).to.equal(hash);
      });
      const v = await verifyLedgerFile(path);
      expect(v).to.include({ ok: true, records: 10, lastHash: onDisk[9].hash });
      expect(v.firstBad).to.equal(undefined);
    });

    it('an empty or new ledger verifies with 0 records', async function () {
      const l = await openLedger();
      expect(l.location).to.equal(path);
      expect(await l.readAll()).to.deep.equal([]);
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 0, lastHash: GENESIS_HASH });
    });

    it('stores plain JSON data so the record read back hashes as written (Date → string, undefined dropped)', async function () {
      const l = await openLedger();
      const when = new Date('2026-01-01T00:00:00Z');
      const rec = await l.append({ type: 'proposal', data: { when, gone: undefined, n: 1 } });
      expect(rec.data).to.deep.equal({ when: '2026-01-01T00:00:00.000Z', n: 1 });
      expect(await l.readAll()).to.deep.equal([rec]);
      expect((await verifyLedgerFile(path)).ok).to.equal(true);
    });

    it('refuses entries without data, a type, or with data that is not JSON, without using up a seq', async function () {
      const l = await openLedger();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expectReject(l.append({ type: 'decision', data: undefined }), /no data/);
      await expectReject(l.append({ type: 'decision', data: circular }), /not JSON/);
      await expectReject(l.append({ type: '' as never, data: 1 }), /needs a type/);
      await expectReject(l.append({ type: 'decision', asset: 7 as never, data: 1 }), /asset must be a string/);
      const rec = await l.append({ type: 'decision', data: { ok: true } });
      expect(rec.seq).to.equal(0);
      expect((await verifyLedgerFile(path)).records).to.equal(1);
    });
  });

  describe('durability and order', function () {
    it('resolves each append only after a sync that covers its line, in call order, under 300 concurrent appends', async function () {
      const l = await openLedger();
      await l.append({ type: 'proposal', data: { warm: true } }); // the file exists from here on
      // Watch the real fdatasync: remember how many bytes the file had when each sync finished.
      const probe = await fsp.open(path, 'r');
      const proto = Object.getPrototypeOf(probe) as { datasync: (this: fsp.FileHandle) => Promise<void> };
      await probe.close();
      const original = proto.datasync;
      let syncedBytes = 0;
      let syncs = 0;
      proto.datasync = async function (this: fsp.FileHandle) {
        const { size } = await this.stat();
        await original.call(this);
        syncs++;
        syncedBytes = Math.max(syncedBytes, size);
      };
      const resolvedAt: Array<{ seq: number; syncedBytes: number }> = [];
      try {
        const calls = Array.from({ length: 300 }, (_, i) =>
          l.append({ type: 'decision', data: { i } }).then((r) => {
            resolvedAt.push({ seq: r.seq, syncedBytes });
            return r;
          }),
        );
        const recs = await Promise.all(calls);
        recs.forEach((r, i) => {
          expect(r.seq).to.equal(i + 1);
          expect(r.data).to.deep.equal({ i });
        });
      } finally {
        proto.datasync = original;
      }
      // Answered in call order, each after a sync that had its whole line in the file.
      expect(resolvedAt.map((x) => x.seq)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i + 1));
      const text = readFileSync(path, 'utf8');
      const endOf = new Map<number, number>();
      let offset = 0;
      for (const line of text.split('\n').slice(0, -1)) {
        offset += Buffer.byteLength(line) + 1;
        endOf.set((JSON.parse(line) as LedgerRecord).seq, offset);
      }
      for (const x of resolvedAt) expect(x.syncedBytes, `seq ${x.seq}`).to.be.gte(endOf.get(x.seq)!);
      expect(syncs).to.be.greaterThan(0);
      expect(parse(path).map((r) => (r.data as { i?: number }).i)).to.deep.equal([undefined, ...Array.from({ length: 300 }, (_, i) => i)]);
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 301 });
    });

    it('reopening continues the chain from the last record', async function () {
      const first = await fill(path, 3);
      const l = await openLedger();
      const next = await l.append({ type: 'write', data: { value: 1 } });
      expect(next.seq).to.equal(3);
      expect(next.prevHash).to.equal(first[2].hash);
      expect((await l.readAll()).map((r) => r.seq)).to.deep.equal([0, 1, 2, 3]);
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 4, lastHash: next.hash });
    });

    it('shares one instance per resolved path: two handles interleave into one chain; the file stays open until the last close', async function () {
      const a = await openLedger(path);
      await a.append({ type: 'proposal', data: 0 });
      const b = await openLedger(relative(process.cwd(), path));
      expect(b.location).to.equal(a.location);
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append({ type: 'decision', data: i })));
      await a.close();
      await expectReject(a.append({ type: 'decision', data: 'after close' }), /closed/);
      const last = await b.append({ type: 'write', data: 'still open' });
      expect(last.seq).to.equal(21);
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 22 });
    });

    it('a failed write refuses every later append (never appends after a possibly torn line) until reopened', async function () {
      const l = await openLedger();
      await l.append({ type: 'proposal', data: 1 });
      const probe = await fsp.open(path, 'r');
      const proto = Object.getPrototypeOf(probe) as { appendFile: (...a: unknown[]) => Promise<void> };
      await probe.close();
      const original = proto.appendFile;
      proto.appendFile = async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      };
      try {
        await expectReject(l.append({ type: 'decision', data: 2 }), /write failed \(ENOSPC/);
      } finally {
        proto.appendFile = original;
      }
      await expectReject(l.append({ type: 'decision', data: 3 }), /no further appends/);
      await l.close();
      open.length = 0;
      const again = await openLedger();
      expect((await again.append({ type: 'decision', data: 4 })).seq).to.equal(1);
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 2 });
    });

    it('readAll refuses a ledger changed behind its back', async function () {
      const l = await openLedger();
      for (let i = 0; i < 3; i++) await l.append({ type: 'decision', data: i });
      const ls = lines(path);
      const r1 = JSON.parse(ls[1]) as LedgerRecord;
      ls[1] = JSON.stringify({ ...r1, data: 99 });
      writeFileSync(path, ls.join('\n') + '\n');
      await expectReject(l.readAll(), /line 2 \(seq 1\): hash mismatch/);
    });
  });

  describe('tampering is named at the first broken record', function () {
    beforeEach(async function () {
      await fill(path, 10);
    });
    const rewrite = (edit: (ls: string[]) => string[]): void => writeFileSync(path, edit(lines(path)).join('\n') + '\n');

    it('an edited data field of record 5 of 10: verify names seq 5 (line 6), and the ledger refuses to open', async function () {
      rewrite((ls) => {
        const r = JSON.parse(ls[5]) as LedgerRecord;
        ls[5] = JSON.stringify({ ...r, data: { ...(r.data as object), reason: 'edited later' } });
        return ls;
      });
      const v = await verifyLedgerFile(path);
      expect(v.ok).to.equal(false);
      expect(v.records).to.equal(5);
      expect(v.firstBad).to.deep.include({ seq: 5, line: 6 });
      expect(v.firstBad!.reason).to.match(/hash mismatch/);
      await expectReject(openFileLedger(path), new RegExp(`refusing to append.*${escape(path)}.*line 6 \\(seq 5\\)`));
    });

    it('a deleted line: the record after the gap is named', async function () {
      rewrite((ls) => ls.filter((_, i) => i !== 4));
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 5, line: 5 });
      expect(v.firstBad!.reason).to.match(/seq 5 where 4 was expected/);
    });

    it('two records swapped: the first out of place is named', async function () {
      rewrite((ls) => {
        [ls[3], ls[4]] = [ls[4], ls[3]];
        return ls;
      });
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 4, line: 4 });
      expect(v.firstBad!.reason).to.match(/out of order/);
    });

    it('a forged record with its own hash recomputed but a wrong prevHash is named', async function () {
      rewrite((ls) => {
        const r = JSON.parse(ls[5]) as LedgerRecord;
        const body = { ...r, data: { forged: true }, prevHash: 'ab'.repeat(32) };
        ls[5] = JSON.stringify({ ...body, hash: hashRecord(body) });
        return ls;
      });
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 5, line: 6 });
      expect(v.firstBad!.reason).to.match(/prevHash does not match the hash of record 4/);
    });

    it('a forged record with a correct prevHash and its own hash recomputed breaks the link to the next record', async function () {
      rewrite((ls) => {
        const r = JSON.parse(ls[5]) as LedgerRecord;
        const { hash: _h, ...body } = { ...r, data: { forged: true } };
        ls[5] = JSON.stringify({ ...body, hash: hashRecord(body) });
        return ls;
      });
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 6, line: 7 });
      expect(v.firstBad!.reason).to.match(/prevHash does not match the hash of record 5 \(that record or this one was altered/);
    });

    it('a torn last line (half a record, no newline) is reported by verify and refused on open', async function () {
      const whole = JSON.stringify({ seq: 10, tsMs: 1, type: 'decision', data: { x: 1 }, prevHash: GENESIS_HASH, hash: GENESIS_HASH });
      appendFileSync(path, whole.slice(0, 40));
      const v = await verifyLedgerFile(path);
      expect(v).to.include({ ok: false, records: 10 });
      expect(v.firstBad).to.deep.include({ seq: 10, line: 11 });
      expect(v.firstBad!.reason).to.match(/torn last line/);
      await expectReject(openFileLedger(path), /line 11 \(seq 10\): torn last line/);
    });

    it('a complete record missing only its newline is still a torn last line (its write never finished)', async function () {
      const text = readFileSync(path, 'utf8');
      writeFileSync(path, text.slice(0, -1));
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 9, line: 10 });
      expect(v.firstBad!.reason).to.match(/torn/);
    });

    it('garbage in the middle (a torn line followed by later appends) is bad JSON at its line', async function () {
      rewrite((ls) => [...ls.slice(0, 3), ls[3].slice(0, 30), ...ls.slice(3)]);
      const v = await verifyLedgerFile(path);
      expect(v.firstBad).to.deep.include({ seq: 3, line: 4 });
      expect(v.firstBad!.reason).to.match(/bad JSON/);
    });

    it('verifyRecords checks lines in memory the same way (empty line, missing field, torn text)', function () {
      const ls = lines(path);
      expect(verifyRecords(ls)).to.include({ ok: true, records: 10 });
      expect(verifyRecords([...ls.slice(0, 2), '', ...ls.slice(2)]).firstBad).to.deep.equal({ seq: 2, line: 3, reason: 'empty line' });
      const noData = JSON.parse(ls[0]) as Record<string, unknown>;
      delete noData.data;
      expect(verifyRecords([JSON.stringify(noData)]).firstBad).to.deep.include({
        seq: 0,
        line: 1,
        reason: 'not a ledger record: data is missing',
      });
      const huge = ls[0].replace(/"data":\{/, '"data":{"big":1e400,');
      expect(verifyRecords([huge]).firstBad).to.deep.include({ seq: 0, line: 1 });
      expect(verifyRecords([huge]).firstBad!.reason).to.match(/cannot hash the record/);
      const text = ls.join('\n') + '\n';
      expect(verifyRecords(text.split('\n'), { splitText: true })).to.include({ ok: true, records: 10 });
      expect(verifyRecords(text.slice(0, -5).split('\n'), { splitText: true }).firstBad).to.deep.include({ seq: 9, line: 10 });
    });

    it('streams a file larger than one read chunk (lines split across chunks)', async function () {
      const l = await openLedger();
      const big = 'x'.repeat(300_000);
      for (let i = 0; i < 8; i++) await l.append({ type: 'proposal', data: { i, big } });
      expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 18 });
      let progressCalls = 0;
      await verifyLedgerFile(path, { onProgress: () => progressCalls++ });
      expect(progressCalls).to.be.greaterThan(1);
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a rejection matching ${re}`).to.be.instanceOf(Error);
  expect((err as Error).message).to.match(re);
}
