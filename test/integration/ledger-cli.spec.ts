// `twinloop ledger verify` as a person runs it: the BUILT CLI as a child process, on a ledger
// written by the file ledger, then on copies tampered in different ways. Exit codes and the
// named record are what a supervisor or an auditor relies on.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ledger', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  let dir: string;
  let good: string;
  let records: LedgerRecord[];

  before(async function () {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npx tsup first`);
    dir = mkdtempSync(join(tmpdir(), 'twinloop-ledger-cli-'));
    good = join(dir, 'good.jsonl');
    const ledger = await openFileLedger(good);
    records = [];
    for (let i = 0; i < 10; i++) {
      records.push(await ledger.append({ type: i % 2 ? 'decision' : 'proposal', asset: 'demo/line1/extruder', tag: 'barrel_sp', proposalId: `p${i >> 1}`, data: { i, user: 'alice', reason: 'energy per kg' } }));
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

  it('a good ledger: exit 0 and "ok: N records, last hash …"', async function () {
    const r = await cli(['verify', good]);
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(`ok: 10 records, last hash ${records[9].hash}`);
  });

  it('--json on a good ledger', async function () {
    const r = await cli(['verify', good, '--json']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: true, records: 10, lastHash: records[9].hash });
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
    expect(JSON.parse(j.stdout)).to.deep.include({ ok: false, records: 5, firstBad: { seq: 5, line: 6, reason: 'hash mismatch: the record was altered after it was written' } });
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
    expect(r.stdout).to.match(/Exit codes: 0 the chain holds; 1 the chain is broken; 2 bad usage/);
  });
});
