// The ledger's authenticity on a real file system (runtime/control/ledger-auth.ts): a MAC per
// record and the signed head checkpoint. The attacks of issue 13: records appended with recomputed
// links, a rewritten history, a truncated tail, a deleted ledger, a deleted checkpoint; and a
// command record whose signature fails stopping the gate's restore.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { hashRecord, verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import { checkLedger, headPath, LedgerAlarmError, ledgerKeys, recordMac } from '../../runtime/control/ledger-auth.js';
import { restoreGateState } from '../../runtime/control/gate-restore.js';
import { signCommand } from '../../runtime/control/command.js';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';

const KEY = 'k'.repeat(32);
const OTHER_KEY = 'o'.repeat(32);
const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const write = (path: string, ls: string[]): void => writeFileSync(path, ls.join('\n') + '\n');

async function fill(path: string, n: number, key: string | null = KEY): Promise<LedgerRecord[]> {
  const ledger = await openFileLedger(path, key ? { signingKey: key } : {});
  const out: LedgerRecord[] = [];
  for (let i = 0; i < n; i++) out.push(await ledger.append({ type: 'decision', asset: 'a', tag: 't', proposalId: `p-${i}`, data: { i } }));
  await ledger.close();
  return out;
}

/** What the attacker of issue 13 appended: records linked to the last one with recomputed hashes (no key, so no valid MAC). */
function forgedRecords(last: LedgerRecord, mac?: string): string[] {
  let prev = last;
  const out: string[] = [];
  const cmd = {
    id: 'c-forged',
    proposalId: 'p-forged',
    asset: 'a',
    tag: 't',
    value: 207,
    step: 1,
    steps: 1,
    fromValue: 205,
    issuedTsMs: 1,
    expiresTsMs: 2,
    envelopeVersion: 'v1',
    signature: '0'.repeat(64),
  };
  const datas: Array<[string, unknown]> = [
    ['proposal', { id: 'p-forged' }],
    ['decision', { verdict: 'approve', user: 'supervisor', state: 'approved' }],
    ['command', cmd],
    ['readback', { commandId: 'c-forged', outcome: 'written', readBackOk: true }],
  ];
  for (const [type, data] of datas) {
    const body = { seq: prev.seq + 1, tsMs: prev.tsMs + 1, type, asset: 'a', tag: 't', proposalId: 'p-forged', data, prevHash: prev.hash };
    const rec = { ...body, hash: hashRecord(body as never), ...(mac ? { mac } : {}) } as LedgerRecord;
    out.push(JSON.stringify(rec));
    prev = rec;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('ledger authenticity (runtime/control/ledger-auth.ts)', function () {
  let dir: string;
  let path: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-ledger-auth-'));
    path = join(dir, 'ledger.jsonl');
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new ledger, its checkpoint and its used-commands file are owner-only (0600) even under a permissive umask', async function () {
    // as a Node-RED started without `twinloop start` (its umask 077) might run the nodes
    const before = process.umask(0o000);
    try {
      await fill(path, 2);
      const used = await openUsedCommands(`${path}.used`);
      expect(await used.claim('c-1')).to.equal(true);
      await used.close();
    } finally {
      process.umask(before);
    }
    for (const p of [path, headPath(path), `${path}.used`]) expect(statSync(p).mode & 0o777, p).to.equal(0o600);
  });

  it('every record carries a MAC under a key derived from the signing key (not the key itself); the checkpoint is 0600 and names the head', async function () {
    const recs = await fill(path, 3);
    const keys = ledgerKeys(KEY);
    for (const r of recs) expect(r.mac).to.equal(recordMac(keys, r.hash));
    expect(keys.record.equals(Buffer.from(KEY))).to.equal(false);
    expect(keys.record.equals(keys.head)).to.equal(false);
    const head = JSON.parse(readFileSync(headPath(path), 'utf8')) as { records: number; lastHash: string };
    expect(head).to.include({ records: 3, lastHash: recs[2]!.hash });
    expect(statSync(headPath(path)).mode & 0o777).to.equal(0o600);
    expect(await checkLedger(path, KEY)).to.include({ ok: true, records: 3, macs: 3, authenticated: true });
    // the chain alone still verifies without the key
    expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 3 });
  });

  it('four forged records appended with recomputed links: the chain holds, the key names the first forged record, the ledger refuses to open', async function () {
    const recs = await fill(path, 5);
    write(path, [...lines(path), ...forgedRecords(recs[4]!)]);
    expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 9 }); // what the attacker saw
    const c = await checkLedger(path, KEY);
    expect(c.ok).to.equal(false);
    expect(c.firstBad).to.deep.include({ seq: 5, line: 6 });
    expect(c.firstBad!.reason).to.match(/no MAC/);
    const err = await rejection(openFileLedger(path, { signingKey: KEY }));
    expect(err).to.be.instanceOf(LedgerAlarmError);
    expect((err as LedgerAlarmError).alarm.reason).to.match(/line 6 \(seq 5\).*no MAC/);
    expect((err as LedgerAlarmError).alarm.remedy).to.match(/twinloop ledger verify/);
  });

  it('forged records with a made-up MAC, or a ledger checked with another key, fail at the first record that does not verify', async function () {
    const recs = await fill(path, 2);
    write(path, [...lines(path), ...forgedRecords(recs[1]!, 'ab'.repeat(32))]);
    const c = await checkLedger(path, KEY);
    expect(c.firstBad).to.deep.include({ seq: 2 });
    expect(c.firstBad!.reason).to.match(/MAC does not verify/);
    expect((await checkLedger(path, OTHER_KEY)).firstBad).to.deep.include({ seq: 0 });
  });

  it('a rewritten history (records replaced from seq 2 on, hashes recomputed, MACs unknown) is detected', async function () {
    await fill(path, 5);
    const ls = lines(path).slice(0, 2);
    const last = JSON.parse(ls[1]!) as LedgerRecord;
    write(path, [...ls, ...forgedRecords(last)]); // 6 records, as many as before and more
    expect((await checkLedger(path, KEY)).firstBad).to.deep.include({ seq: 2 });
  });

  it('a history replaced by another authentic ledger (same key) disagrees with the checkpoint', async function () {
    const other = join(dir, 'other.jsonl');
    await fill(path, 3);
    await fill(other, 4);
    writeFileSync(path, readFileSync(other));
    const c = await checkLedger(path, KEY);
    expect(c.ok).to.equal(false);
    expect(c.alarm!.reason).to.match(/record 2 is not the one the checkpoint signed/);
    await rejection(openFileLedger(path, { signingKey: KEY }));
  });

  it('a truncated tail is detected: the file holds fewer records than the checkpoint', async function () {
    await fill(path, 6);
    write(path, lines(path).slice(0, 4));
    expect(await verifyLedgerFile(path)).to.include({ ok: true, records: 4 }); // the chain alone cannot tell
    const c = await checkLedger(path, KEY);
    expect(c.ok).to.equal(false);
    expect(c.alarm!.reason).to.match(/holds 4 records but its checkpoint says 6: the last 2 were removed/);
    const err = await rejection(openFileLedger(path, { signingKey: KEY }));
    expect(err.message).to.match(/truncated/);
  });

  it('a deleted ledger is detected (the checkpoint says it held records); a new chain is not started silently', async function () {
    await fill(path, 3);
    unlinkSync(path);
    const err = await rejection(openFileLedger(path, { signingKey: KEY }));
    expect(err.message).to.match(/is missing, but its checkpoint says it held 3 records/);
    expect(existsSync(path)).to.equal(false);
  });

  it('a deleted checkpoint is detected while the ledger holds records', async function () {
    await fill(path, 2);
    unlinkSync(headPath(path));
    expect((await checkLedger(path, KEY)).alarm!.reason).to.match(/checkpoint .* is missing/);
  });

  it('a forged or edited checkpoint is not trusted', async function () {
    await fill(path, 2);
    const head = JSON.parse(readFileSync(headPath(path), 'utf8')) as { records: number };
    writeFileSync(headPath(path), JSON.stringify({ ...head, records: 1 }));
    expect((await checkLedger(path, KEY)).alarm!.reason).to.match(/cannot be trusted: its MAC does not verify/);
  });

  it('a crash between the ledger sync and the checkpoint (checkpoint one group behind) is not an alarm', async function () {
    await fill(path, 2);
    const behind = readFileSync(headPath(path));
    await fill(path, 1);
    writeFileSync(headPath(path), behind);
    expect(await checkLedger(path, KEY)).to.include({ ok: true, records: 3 });
  });

  it('a ledger from before records were authenticated is refused with the key, with what to do', async function () {
    await fill(path, 2, null);
    const err = await rejection(openFileLedger(path, { signingKey: KEY }));
    expect(err.message).to.match(/line 1 \(seq 0\): no MAC.*from before records were authenticated/);
    expect(err.message).to.match(/move both files aside/);
  });

  it('opened without a key, an authenticated ledger can be read but not appended to', async function () {
    await fill(path, 2);
    const l = await openFileLedger(path);
    try {
      expect(await l.readAll()).to.have.length(2);
      expect((await rejection(l.append({ type: 'decision', data: {} }))).message).to.match(/authenticated.*signing key to append/);
    } finally {
      await l.close();
    }
  });

  it('restore refuses a command record whose signature does not verify under the gate key, naming its seq', function () {
    const good = signCommand(KEY, {
      proposalId: 'p1',
      asset: 'a',
      tag: 't',
      value: 207,
      step: 1,
      steps: 1,
      fromValue: 205,
      issuedTsMs: 1,
      expiresTsMs: 2,
      envelopeVersion: 'v1',
    });
    const rec = (seq: number, type: string, data: unknown): LedgerRecord =>
      ({ seq, tsMs: seq, type, asset: 'a', tag: 't', proposalId: 'p1', data, prevHash: '', hash: '' }) as LedgerRecord;
    const config = { envelope: { asset: 'a', tag: 't' }, signingKey: KEY } as never;
    const base = [rec(0, 'proposal', { id: 'p1' }), rec(1, 'decision', { verdict: 'approve', user: 'u', state: 'approved' })];
    const cfg = { ...(config as object), autoApproval: { enabled: false, maxStep: 0 } } as never;
    expect(() => restoreGateState(cfg, [...base, rec(2, 'command', good)])).not.to.throw();
    let err: unknown;
    try {
      restoreGateState(cfg, [...base, rec(2, 'command', { ...good, signature: '0'.repeat(64) })]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LedgerAlarmError);
    expect((err as LedgerAlarmError).alarm.reason).to.match(/command record seq 2 does not carry a valid signature/);
  });
});
