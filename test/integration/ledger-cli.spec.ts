// `twinloop ledger verify` as a person runs it: the BUILT CLI as a child process, on a ledger
// written by the file ledger, then on copies tampered in different ways. Exit codes and the
// named record are what a supervisor or an auditor relies on.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { hashRecord } from '../../runtime/control/ledger-verify.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` (default: the temp dir, which has no .twinloop/signing.key) with no key in the env unless `env` gives one. */
let dir: string;

function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  const { TWINLOOP_SIGNING_KEY: _k, TWINLOOP_HOME: _h, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ledger', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...base, ...env },
      cwd: cwd ?? dir,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('twinloop ledger verify (built CLI)', function () {
  this.timeout(30_000);
  let good: string;
  let records: LedgerRecord[];

  before(async function () {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npx tsup first`);
    dir = mkdtempSync(join(tmpdir(), 'twinloop-ledger-cli-'));
    good = join(dir, 'good.jsonl');
    const ledger = await openFileLedger(good);
    records = [];
    for (let i = 0; i < 10; i++) {
      records.push(
        await ledger.append({
          type: i % 2 ? 'decision' : 'proposal',
          asset: 'demo/line1/extruder',
          tag: 'barrel_sp',
          proposalId: `p${i >> 1}`,
          data: { i, user: 'alice', reason: 'energy per kg' },
        }),
      );
    }
    await ledger.close();
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the good ledger with its lines changed by `edit`. */
  const tampered = (name: string, edit: (lines: string[]) => string[], trailingNewline = true): string => {
    const lines = readFileSync(good, 'utf8').split('\n').slice(0, -1);
    const path = join(dir, name);
    writeFileSync(path, edit(lines).join('\n') + (trailingNewline ? '\n' : ''));
    return path;
  };

  it('a good ledger without a key: exit 0 and "ok (chain only: no key): N records, last hash …"', async function () {
    const r = await cli(['verify', good]);
    expect(r.code).to.equal(0);
    expect(r.stdout.split('\n')[0]).to.equal(`ok (chain only: no key): 10 records, last hash ${records[9].hash}`);
    expect(r.stdout).to.match(/no signing key found/);
  });

  it('--json on a good ledger', async function () {
    const r = await cli(['verify', good, '--json']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: true, records: 10, lastHash: records[9].hash, authenticated: false });
  });

  it('record 5 of 10 edited: exit 1 and seq 5 (line 6) named with a hash mismatch', async function () {
    const path = tampered('edited.jsonl', (ls) => {
      const r = JSON.parse(ls[5]) as LedgerRecord<{ user: string }>;
      ls[5] = JSON.stringify({ ...r, data: { ...r.data, user: 'mallory' } });
      return ls;
    });
    const r = await cli(['verify', path]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^broken: line 6 \(seq 5\): hash mismatch/);
    expect(r.stdout).to.include(`5 records before it verify; last good hash ${records[4].hash}`);
    const j = await cli(['verify', path, '--json']);
    expect(j.code).to.equal(1);
    expect(JSON.parse(j.stdout)).to.deep.include({
      ok: false,
      records: 5,
      firstBad: { seq: 5, line: 6, reason: 'hash mismatch: the record was altered after it was written' },
    });
  });

  it('a deleted record: exit 1 and the record after the gap named', async function () {
    const r = await cli(['verify', tampered('deleted.jsonl', (ls) => ls.filter((_, i) => i !== 7))]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^broken: line 8 \(seq 8\): seq 8 where 7 was expected/);
  });

  it('a forged record with a recomputed hash and a made-up prevHash: exit 1, named', async function () {
    const r = await cli([
      'verify',
      tampered('forged.jsonl', (ls) => {
        const rec = JSON.parse(ls[3]) as LedgerRecord;
        const body = { ...rec, data: { approvedBy: 'nobody' }, prevHash: 'f'.repeat(64) };
        ls[3] = JSON.stringify({ ...body, hash: hashRecord(body) });
        return ls;
      }),
    ]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^broken: line 4 \(seq 3\): prevHash does not match the hash of record 2/);
  });

  it('a torn last line: exit 1, named as torn', async function () {
    const path = tampered('torn.jsonl', (ls) => ls);
    appendFileSync(path, '{"seq":10,"tsMs":17');
    const r = await cli(['verify', path]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^broken: line 11 \(seq 10\): torn last line/);
  });

  it('usage errors exit 2 with one line on stderr: missing file, unknown subcommand, no FILE', async function () {
    const missing = await cli(['verify', join(dir, 'nope.jsonl')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.match(/no such file: .*nope\.jsonl/);
    const sub = await cli(['check', good]);
    expect(sub.code).to.equal(2);
    expect(sub.stderr).to.match(/unknown subcommand 'check'/);
    const noFile = await cli(['verify']);
    expect(noFile.code).to.equal(2);
    expect(noFile.stderr).to.match(/needs the ledger FILE/);
    const dirArg = await cli(['verify', dir]);
    expect(dirArg.code).to.equal(2);
    expect(dirArg.stderr).to.match(/not a file/);
  });

  it('--help prints the usage and exits 0', async function () {
    const r = await cli(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: twinloop ledger verify FILE \[--json\]/);
    expect(r.stdout).to.match(/Exit codes: 0 the ledger holds; 1 it does not, or \(export\) the cluster cannot be reached; 2 bad\nusage/);
  });

  describe('with the signing key (authenticity and the head checkpoint)', function () {
    const KEY = 'cli-test-signing-key-0123456789';
    let auth: string;
    let authRecords: LedgerRecord[];
    const copy = (name: string): string => {
      const p = join(dir, name);
      writeFileSync(p, readFileSync(auth));
      writeFileSync(`${p}.head`, readFileSync(`${auth}.head`));
      return p;
    };
    before(async function () {
      auth = join(dir, 'auth.jsonl');
      const ledger = await openFileLedger(auth, { signingKey: KEY });
      authRecords = [];
      for (let i = 0; i < 5; i++)
        authRecords.push(await ledger.append({ type: 'decision', asset: 'a', tag: 't', proposalId: `p${i}`, data: { i } }));
      await ledger.close();
    });

    it('finds the key as `twinloop start` does: TWINLOOP_SIGNING_KEY, or <home>/signing.key (--home, TWINLOOP_HOME, ./.twinloop)', async function () {
      const ok = `ok (chain + authenticity): 5 records, last hash ${authRecords[4].hash}`;
      expect((await cli(['verify', auth], { TWINLOOP_SIGNING_KEY: KEY })).stdout.trim()).to.equal(ok);
      const home = join(dir, 'home');
      mkdirSync(join(home, '.twinloop'), { recursive: true });
      writeFileSync(join(home, 'signing.key'), KEY + '\n', { mode: 0o600 });
      writeFileSync(join(home, '.twinloop', 'signing.key'), KEY + '\n', { mode: 0o600 });
      expect((await cli(['verify', auth, '--home', home])).stdout.trim()).to.equal(ok);
      expect((await cli(['verify', auth], { TWINLOOP_HOME: home })).stdout.trim()).to.equal(ok);
      expect((await cli(['verify', auth], {}, home)).stdout.trim()).to.equal(ok); // ./.twinloop
      expect((await cli(['verify', auth, '--key-env', 'MY_KEY'], { MY_KEY: KEY })).stdout.trim()).to.equal(ok);
      const j = JSON.parse((await cli(['verify', auth, '--json'], { TWINLOOP_SIGNING_KEY: KEY })).stdout);
      expect(j).to.deep.include({ ok: true, authenticated: true, keySource: 'env TWINLOOP_SIGNING_KEY' });
      expect(JSON.stringify(j)).not.to.include(KEY);
    });

    it('four forged records appended with recomputed links: ok without the key, exit 1 naming the first forged record with it', async function () {
      const path = copy('forged-tail.jsonl');
      let prev = authRecords[4];
      const forged: string[] = [];
      for (const [type, data] of [
        ['proposal', { id: 'px' }],
        ['decision', { verdict: 'approve', user: 'supervisor' }],
        ['command', { signature: '0'.repeat(64) }],
        ['readback', { outcome: 'written' }],
      ] as const) {
        const body = { seq: prev.seq + 1, tsMs: prev.tsMs + 1, type, asset: 'a', tag: 't', proposalId: 'px', data, prevHash: prev.hash };
        prev = { ...body, hash: hashRecord(body as never) } as LedgerRecord;
        forged.push(JSON.stringify(prev));
      }
      appendFileSync(path, forged.join('\n') + '\n');
      const noKey = await cli(['verify', path]);
      expect(noKey.code).to.equal(0);
      expect(noKey.stdout).to.match(/^ok \(chain only: no key\): 9 records/);
      const r = await cli(['verify', path], { TWINLOOP_SIGNING_KEY: KEY });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/^broken: line 6 \(seq 5\): no MAC/);
      expect(r.stdout).to.match(/what to do: .*backup/);
    });

    it('a truncated tail, a deleted ledger and a replaced history: exit 1 with the alarm', async function () {
      const cut = copy('cut.jsonl');
      writeFileSync(cut, readFileSync(cut, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
      const t = await cli(['verify', cut], { TWINLOOP_SIGNING_KEY: KEY });
      expect(t.code).to.equal(1);
      expect(t.stdout).to.match(/^alarm: the ledger holds 3 records but its checkpoint says 5/);
      // without the key the checkpoint is still compared (unauthenticated)
      expect((await cli(['verify', cut])).code).to.equal(1);

      const gone = copy('gone.jsonl');
      rmSync(gone);
      const d = await cli(['verify', gone], { TWINLOOP_SIGNING_KEY: KEY });
      expect(d.code).to.equal(1);
      expect(d.stdout).to.match(/^alarm: the ledger .*gone\.jsonl is missing, but its checkpoint says it held 5 records/);

      const other = join(dir, 'other-auth.jsonl');
      const l = await openFileLedger(other, { signingKey: KEY });
      for (let i = 0; i < 6; i++) await l.append({ type: 'decision', asset: 'a', tag: 't', data: { other: i } });
      await l.close();
      const replaced = copy('replaced.jsonl');
      writeFileSync(replaced, readFileSync(other));
      const x = await cli(['verify', replaced], { TWINLOOP_SIGNING_KEY: KEY });
      expect(x.code).to.equal(1);
      expect(x.stdout).to.match(/^alarm: record 4 is not the one the checkpoint signed/);
    });

    it('the wrong key fails at the first record; a key too short is a usage error (exit 2)', async function () {
      const r = await cli(['verify', auth], { TWINLOOP_SIGNING_KEY: 'another-key-of-enough-length' });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/^broken: line 1 \(seq 0\): MAC does not verify/);
      const short = await cli(['verify', auth], { TWINLOOP_SIGNING_KEY: 'short' });
      expect(short.code).to.equal(2);
      expect(short.stderr).to.match(/shorter than 16 characters/);
      expect(short.stderr).not.to.include('short\n');
    });
  });
});
