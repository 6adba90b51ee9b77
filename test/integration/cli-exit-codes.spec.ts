/**
 * The command line's one exit-code convention (documented in `twinloop --help`): 0 done, 1 a check
 * failed or the work could not be done, 2 bad usage or bad input. Every command, through the built
 * dispatcher (dist/bin/twinloop.js) as a child process; and `twinloop --version`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'bin', 'twinloop.js');
const COMMANDS = ['start', 'sim', 'ledger', 'deploy', 'replay', 'fit'];

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('integration: twinloop exit codes and --version', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'twinloop-exit-'));
  const nope = join(dir, 'nope');

  it('--version prints the package version, exit 0', async function () {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await run([flag]);
      expect([r.code, r.stdout, r.stderr]).to.deep.equal([0, `${version}\n`, '']);
    }
  });

  it('--help lists every command, --version and the exit codes; no command at all is bad usage (2)', async function () {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    for (const c of COMMANDS) expect(r.stdout).to.match(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).to.include('--version');
    expect(r.stdout).to.match(/^Exit codes/m);
    for (const code of ['0', '1', '2']) expect(r.stdout).to.match(new RegExp(`^  ${code}  `, 'm'));
    expect((await run([])).code).to.equal(2);
    const unknown = await run(['frobnicate']);
    expect([unknown.code, unknown.stderr.trim().split('\n').length]).to.deep.equal([2, 1]);
  });

  for (const c of COMMANDS) {
    it(`${c}: --help exits 0, an unknown option 2 with one line`, async function () {
      const help = await run([c, '--help']);
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.match(/^Usage: twinloop /);
      const bad = await run([c, '--no-such-option']);
      expect(bad.code).to.equal(2);
      expect(bad.stderr.trim().split('\n'), bad.stderr).to.have.length(1);
      expect(bad.stderr).to.match(new RegExp(`^twinloop ${c}: `));
    });
  }

  it('a missing input file is bad input (2) in every command that reads one', async function () {
    const flow = join(dir, 'flow.json');
    writeFileSync(flow, '[]');
    const env = join(dir, 'site.env');
    writeFileSync(env, 'SITE=x\n');
    for (const args of [
      ['ledger', 'verify', nope],
      ['fit', '--kind', 'rul', '--input', nope, '--asset-column', 'a', '--time-column', 't', '--out', join(dir, 'm.json')],
      ['replay', '--flow', nope, '--input', nope],
      ['replay', '--flow', join(ROOT, 'examples', 'ingest', 'opcua-and-mqtt.json'), '--input', nope],
      ['deploy', nope, '--env', env, '--dry-run'],
      ['deploy', flow, '--env', nope, '--dry-run'],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
      expect(r.stderr).to.include(nope);
    }
  });

  it('a check that fails is 1: ledger verify on a broken chain', async function () {
    const ledger = join(dir, 'ledger.jsonl');
    writeFileSync(ledger, '{"seq":1,"not":"a record"}\n');
    const r = await run(['ledger', 'verify', ledger]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^broken: line 1/);
  });

  it('work that cannot be done is 1: fit cannot write its model', async function () {
    // 12 engines of C-MAPSS FD001 (test/fixtures), as the plant CSV cmapss-to-csv makes
    const txt = join(dir, 'fd001-12.txt');
    writeFileSync(
      txt,
      readFileSync(CMAPSS_FD001, 'utf8')
        .split('\n')
        .filter((l) => Number(l.split(/\s+/)[0]) <= 12)
        .join('\n') + '\n',
    );
    const csv = join(dir, 'fd001-12.csv');
    await new Promise<void>((res, rej) =>
      execFile(process.execPath, [join(ROOT, 'dist', 'bin', 'cmapss-to-csv.js'), txt, csv], (err) => (err ? rej(err as Error) : res())),
    );
    mkdirSync(join(dir, 'a-folder'));
    const r = await run([
      'fit',
      '--kind',
      'rul',
      '--input',
      csv,
      '--asset-column',
      'engine',
      '--time-column',
      'time',
      '--out',
      join(dir, 'a-folder'),
    ]);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/cannot write .*a-folder/);
  });
});
