/**
 * Hostile or broken files against the built CLI (`twinloop replay`, `twinloop fit`) as a child
 * process: an impossible date, a time outside 1970..2199, 200,000 columns, a 50 MB line, a cell
 * of 1e308. Each ends the run with one line naming file, line and column, in bounded memory
 * (the child's peak RSS is read from process.resourceUsage() by a preload script, no timing).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
// Bad input: exit 2 by the CLI's convention (0 ok, 1 a check failed, 2 bad usage or bad input).
const BAD_INPUT = 2;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssMb: number;
}

describe('twinloop replay / fit: bounded input (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let flow: string;
  let preload: string;

  function run(args: string[]): Promise<Run> {
    const rssFile = join(dir, `rss-${Math.random().toString(36).slice(2)}.txt`);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--require', preload, BIN, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BOUNDS_RSS_FILE: rssFile },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, maxRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 }));
    });
  }

  /** One line on stderr, naming the file and the place; a bad-input exit code. */
  function refused(r: Run, re: RegExp): void {
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !/NODE-OPCUA|security-revert/.test(l));
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(re);
    expect(lines[0]).to.not.match(/\n\s+at |Maximum call stack|Cannot read properties/);
    expect(r.code, r.stderr).to.equal(BAD_INPUT);
  }

  const replay = (csv: string) => run(['replay', '--flow', flow, '--input', join(dir, csv), '--asset', 'a']);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-bounds-'));
    preload = join(dir, 'rss.cjs');
    // maxRSS in kB at exit, whatever way the CLI exits
    writeFileSync(
      preload,
      "const fs = require('fs');\n" +
        "process.on('exit', () => fs.writeFileSync(process.env.BOUNDS_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
    );
    flow = join(dir, 'flow.json');
    writeFileSync(
      flow,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'replay' },
        { id: 'brk', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:9', reconnectPeriodMs: '50' },
        {
          id: 'in',
          type: 'twin-mqtt-in',
          z: 'tab',
          name: 'x',
          broker: 'brk',
          mode: 'json',
          pattern: 'a/{tag}',
          assetTemplate: 'a',
          wires: [[]],
        },
      ]),
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses 2026-02-30 (not read as 2 March) and a time of day 24:30', async function () {
    writeFileSync(join(dir, 'feb30.csv'), 'timestamp,t1\n2026-02-28T00:00:00Z,1\n2026-02-30T00:00:00Z,2\n');
    refused(await replay('feb30.csv'), /feb30\.csv: line 3, column "timestamp": not a calendar date: "2026-02-30T00:00:00Z"$/);
    writeFileSync(join(dir, 'hour.csv'), 'timestamp,t1\n2026-02-28T24:30:00Z,1\n');
    refused(await replay('hour.csv'), /hour\.csv: line 2, column "timestamp": not a time of day/);
  });

  it('refuses tsMs 1e20 and a year after 2199', async function () {
    writeFileSync(join(dir, 'ts.csv'), 'timestamp,t1\n1767600000000,1\n100000000000000000000,2\n');
    refused(await replay('ts.csv'), /ts\.csv: line 3, column "timestamp": "100000000000000000000" is outside 1970-01-01\.\.2199-12-31$/);
    writeFileSync(join(dir, 'y.csv'), 'timestamp,t1\n2200-01-01T00:00:00Z,1\n');
    refused(await replay('y.csv'), /y\.csv: line 2, column "timestamp": .* is outside 1970-01-01\.\.2199-12-31$/);
  });

  it('refuses 200,000 columns at the header (no stack overflow)', async function () {
    const names = Array.from({ length: 200_000 }, (_, i) => `c${i}`);
    writeFileSync(join(dir, 'cols.csv'), `timestamp,${names.join(',')}\n1767600000000,${names.map(() => '1').join(',')}\n`);
    const r = await replay('cols.csv');
    refused(r, /cols\.csv: line 1: more than 10,000 columns$/);
  });

  it('refuses a 50 MB line in bounded memory', async function () {
    const path = join(dir, 'long.csv');
    const out = createWriteStream(path);
    out.write('timestamp,t1\n1767600000000,');
    const mb = '1'.repeat(1 << 20);
    for (let i = 0; i < 50; i++) out.write(mb);
    out.write('\n');
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    const r = await replay('long.csv');
    refused(r, /long\.csv: line 2: the line is longer than 1,048,576 characters$/);
    // main read the whole line first: 1.8 GB peak
    expect(r.maxRssMb, `peak RSS ${r.maxRssMb.toFixed(0)} MB`).to.be.lessThan(200);
  });

  it('fit refuses a 1e308 cell (and Infinity, NaN) naming line and column', async function () {
    const rows = ['engine,time,a,b'];
    for (let e = 0; e < 12; e++) {
      for (let t = 1; t <= 30 + e; t++) rows.push(`e${e},${t},${e === 3 && t === 5 ? 'CELL' : 100 + t * 0.5 + e * 0.1},${200 - t * 0.3}`);
    }
    const args = (csv: string) => [
      'fit',
      '--kind',
      'rul',
      '--input',
      join(dir, csv),
      '--asset-column',
      'engine',
      '--time-column',
      'time',
      '--out',
      join(dir, 'm.json'),
    ];
    writeFileSync(join(dir, 'fit.csv'), rows.join('\n').replace('CELL', '1e308') + '\n');
    // line: header + 30 + 31 + 32 rows of e0..e2 + 5th row of e3
    refused(await run(args('fit.csv')), /fit\.csv: line 99, column "a": "1e308" is outside ±1e\+15$/);
    writeFileSync(join(dir, 'fit-neg.csv'), rows.join('\n').replace('CELL', '-2e300') + '\n');
    refused(await run(args('fit-neg.csv')), /fit-neg\.csv: line 99, column "a": "-2e300" is outside ±1e\+15$/);
    // Infinity / NaN are text, not numbers: the column is left out with a note, as any text column
    writeFileSync(join(dir, 'fit-inf.csv'), rows.join('\n').replace('CELL', 'Infinity') + '\n');
    const inf = await run(args('fit-inf.csv'));
    expect(inf.code, inf.stderr).to.equal(0);
    expect(inf.stderr).to.include('column "a" left out: not numeric (line 99: "Infinity")');
    // and replay refuses them as cells
    writeFileSync(join(dir, 'nan.csv'), 'timestamp,t1\n1767600000000,NaN\n');
    refused(await replay('nan.csv'), /nan\.csv: line 2, column "t1": not a number: "NaN"/);
    writeFileSync(join(dir, 'big.csv'), 'timestamp,t1\n1767600000000,1e308\n');
    refused(await replay('big.csv'), /big\.csv: line 2, column "t1": "1e308" is outside ±1e\+15$/);
  });
});
