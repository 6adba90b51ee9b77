// `twinloop replay` and `twinloop fit` reading from a real InfluxDB 1.6 (Debian's influxd on free
// ports, data in a temp dir), as child processes of the built CLI: the same data as a CSV and as
// historian points (written in twin-historian's schema through runtime/store/influx-points.ts) give
// byte-identical replay output and the same fitted model; bad input ends with one line and a
// non-zero exit.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHeadless, rowsToCsv } from '../../examples/plant-sim/engine.js';
import { TAG_NAMES } from '../../examples/plant-sim/tags.js';
import type { Reading } from '../../runtime/model/reading.js';
import { recordToPoint, type InfluxPoint } from '../../runtime/store/influx-points.js';
import { prng } from '../../bench/prng.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startInfluxd, type Influxd } from '../support/influxdb.js';
import { freePort } from '../support/ports.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
const ASSET = 'demo/plant1/extrusion/line1/extruder';
const OTHER = 'demo/plant1/extrusion/line2/extruder';
const START_MS = Date.parse('2026-01-05T08:00:00Z');
const SECONDS = 120;
/** The range's exclusive end: just after the simulator's last row (at START_MS + SECONDS s). */
const END_MS = START_MS + (SECONDS + 1) * 1000;
const FIT_START_MS = Date.parse('2025-03-01T00:00:00Z');
const HOUR_MS = 3_600_000;
const FIT_CHANNELS = ['s1', 's2', 's3']; // by name: the historian's default channel order
const ADMIN = { INFLUX_USERNAME: 'admin', INFLUX_PASSWORD: 'pa55-word' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env };
    if (!('INFLUX_USERNAME' in env)) delete childEnv.INFLUX_USERNAME;
    if (!('INFLUX_PASSWORD' in env)) delete childEnv.INFLUX_PASSWORD;
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** InfluxQL over HTTP (the CLI under test is not used to set up or check). */
async function influxql(url: string, q: string, auth?: typeof ADMIN): Promise<unknown> {
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.INFLUX_USERNAME}:${auth.INFLUX_PASSWORD}`).toString('base64')}` }
    : {};
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q }),
  });
  const body = (await res.json()) as { results?: { error?: string }[]; error?: string };
  const err = body.error ?? body.results?.find((r) => r.error)?.error;
  if (err) throw new Error(`${q}: ${err}`);
  return body;
}

/** Points as line protocol (tags and fields here are plain: no escaping needed beyond strings). */
function lineProtocol(p: InfluxPoint): string {
  const esc = (s: string) => s.replace(/[ ,=]/g, (c) => `\\${c}`);
  const tags = Object.entries(p.tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `,${esc(k)}=${esc(v)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${esc(k)}=${typeof v === 'string' ? JSON.stringify(v) : v}`)
    .join(',');
  return `${p.measurement}${tags} ${fields} ${p.timestamp}`;
}

async function writeReadings(url: string, db: string, readings: Reading[], auth?: typeof ADMIN): Promise<void> {
  const points = readings.map((r) => recordToPoint(r, { precision: 'ms', extraTags: { site: 'hamburg', line: 'l2' } }));
  for (let i = 0; i < points.length; i += 5000) {
    const headers: Record<string, string> = auth
      ? { authorization: `Basic ${Buffer.from(`${auth.INFLUX_USERNAME}:${auth.INFLUX_PASSWORD}`).toString('base64')}` }
      : {};
    const res = await fetch(`${url}/write?db=${db}&precision=ms`, {
      method: 'POST',
      headers,
      body: points
        .slice(i, i + 5000)
        .map(lineProtocol)
        .join('\n'),
    });
    if (res.status !== 204) throw new Error(`write: HTTP ${res.status} ${await res.text()}`);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('twinloop replay and twinloop fit from a real InfluxDB 1.6', function () {
  this.timeout(60_000);
  let influxd: Influxd | undefined;
  let dir: string;
  let csv: string;
  let flow: string;
  let readingCount = 0;

  before(async function () {
    const bin = ensureDebianBinary('influxdb', 'influxd');
    if (!bin) return this.skip();
    influxd = await startInfluxd(bin);
    dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'replay-fit-influx-'));
    await influxql(influxd.url, 'CREATE DATABASE plant');
    await influxql(influxd.url, 'CREATE DATABASE fleet');

    // Replay data: the plant simulator with a spike fault, as a CSV and as historian points.
    const rows = runHeadless({ seed: 5, startTsMs: START_MS }, SECONDS * 1000, [{ atMs: 60_000, command: 'spike zone1_temp 40 0.3' }]);
    csv = join(dir, 'extruder.csv');
    writeFileSync(csv, rowsToCsv(rows));
    const readings: Reading[] = [];
    for (const r of rows) {
      for (const tag of TAG_NAMES) {
        const x = r.readings[tag];
        if (x.quality === 'good') readings.push({ asset: ASSET, tag, value: x.value, tsMs: r.tsMs, quality: 'good', source: 'opcua' });
      }
    }
    readingCount = readings.length;
    // Points the replay must leave out: another asset at the same times, and this asset just outside the range.
    const others = readings.filter((_, i) => i % 3 === 0).map((r) => ({ ...r, asset: OTHER, value: r.value + 1000 }));
    const outside = [
      { ...readings[0], tsMs: START_MS - 1 },
      { ...readings[0], tsMs: END_MS },
    ];
    await writeReadings(influxd.url, 'plant', [...readings, ...others, ...outside]);

    flow = join(dir, 'flow.json');
    writeFileSync(
      flow,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'replay' },
        { id: 'brk', type: 'twin-mqtt-broker', url: `mqtt://127.0.0.1:${await freePort()}` },
        {
          id: 'in',
          type: 'twin-mqtt-in',
          z: 'tab',
          broker: 'brk',
          mode: 'json',
          pattern: `${ASSET}/{tag}`,
          assetTemplate: ASSET,
          wires: [['scr']],
        },
        { id: 'scr', type: 'twin-screen', z: 'tab', spikeWindow: '10', spikeK: '4', wires: [[]] },
      ]),
    );
  });

  after(async function () {
    await influxd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const range = ['--from', iso(START_MS), '--to', iso(END_MS)];

  it('--help of both commands names the InfluxDB options, the credentials and what the historian data must look like', async function () {
    const replayHelp = await cli(['replay', '--help']);
    const fitHelp = await cli(['fit', '--help']);
    for (const r of [replayHelp, fitHelp]) {
      expect(r.code).to.equal(0);
      for (const o of [
        '--influx URL',
        '--database DB',
        '--from TIME',
        '--to TIME',
        '--measurement',
        '--asset A',
        '--tag T',
        '--site',
        '--page-size',
        'INFLUX_USERNAME and INFLUX_PASSWORD',
      ])
        expect(r.stdout).to.include(o);
    }
    expect(replayHelp.stdout).to.include('measurement reading, tags asset, tag, quality');
    expect(fitHelp.stdout).to.include('--asset-tag NAME');
    expect(fitHelp.stdout).to.match(/pivoted into rows: one row per distinct time, one channel per\s+tag/);
    expect(fitHelp.stdout).to.match(/each asset's LAST ROW\s+IS ITS FAILURE/);
  });

  it('replay from InfluxDB gives byte-identical output lines to replay from a CSV of the same data (paged by time)', async function () {
    const fromCsv = await cli(['replay', '--flow', flow, '--input', csv, '--time-column', 'tsMs', '--asset', ASSET]);
    expect(fromCsv.code, fromCsv.stderr).to.equal(0);
    const out = join(dir, 'influx.jsonl');
    // --tag in the CSV's column order orders each time step as the CSV does; a page of 7 points
    // cuts most time steps, so the paging must join them again.
    const tagArgs = TAG_NAMES.flatMap((t) => ['--tag', t]);
    const fromInflux = await cli([
      'replay',
      '--flow',
      flow,
      '--influx',
      influxd!.url,
      '--database',
      'plant',
      '--asset',
      ASSET,
      ...tagArgs,
      ...range,
      '--page-size',
      '7',
      '--out',
      out,
    ]);
    expect(fromInflux.code, fromInflux.stderr).to.equal(0);
    expect(fromInflux.stdout).to.equal('');
    const csvLines = fromCsv.stdout.split('\n').filter((l) => l !== '');
    // a line per reading from twin-mqtt-in, and one from twin-screen, which passes every reading on, flagged or not
    expect(csvLines).to.have.length(2 * readingCount);
    expect(
      csvLines.some((l) => /"quality":"(uncertain|bad)"/.test(l)),
      'the spike is flagged',
    ).to.equal(true);
    expect(readFileSync(out, 'utf8')).to.equal(fromCsv.stdout);
    expect(fromInflux.stderr).to.match(
      new RegExp(
        `${SECONDS + 1} time steps \\(${readingCount} readings\\) in [\\d.]+ s, \\d+ readings/s; ${2 * readingCount} messages written to `,
      ),
    );
  });

  it('without --tag, a time step is ordered by tag name: the same output as a CSV with its columns by name', async function () {
    const sorted = [...TAG_NAMES].sort();
    const [header, ...body] = readFileSync(csv, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const cols = ['tsMs', ...sorted].map((n) => header.indexOf(n));
    const sortedCsv = join(dir, 'sorted.csv');
    writeFileSync(sortedCsv, [header, ...body].map((cells) => cols.map((i) => cells[i]).join(',')).join('\n') + '\n');
    const fromCsv = await cli(['replay', '--flow', flow, '--input', sortedCsv, '--time-column', 'tsMs', '--asset', ASSET]);
    const fromInflux = await cli([
      'replay',
      '--flow',
      flow,
      '--influx',
      influxd!.url,
      '--database',
      'plant',
      '--asset',
      ASSET,
      '--site',
      'hamburg',
      ...range,
    ]);
    expect(fromCsv.code, fromCsv.stderr).to.equal(0);
    expect(fromInflux.code, fromInflux.stderr).to.equal(0);
    expect(fromInflux.stdout.split('\n').filter((l) => l !== '')).to.have.length(2 * readingCount);
    expect(fromInflux.stdout).to.equal(fromCsv.stdout);
  });

  it('fit from InfluxDB writes the same model as fit from the equivalent CSV; bad-quality readings are left out', async function () {
    // 12 run-to-failure histories, hourly: s1 wears quadratically, s2 is noise, s3 wears linearly.
    const rand = prng(3);
    const csvRows = [['engine', 'time', ...FIT_CHANNELS].join(',')];
    const readings: Reading[] = [];
    const assets = Array.from({ length: 12 }, (_, i) => `fleet/pump-${String(i + 1).padStart(2, '0')}`);
    for (const [u, asset] of assets.entries()) {
      const life = 30 + Math.floor(rand() * 30);
      const t0 = FIT_START_MS + u * 100 * HOUR_MS;
      for (let k = 0; k < life; k++) {
        const tsMs = t0 + k * HOUR_MS;
        const w = k / life;
        const values = [1 + 4 * w * w + 0.05 * rand(), 10 + rand(), 2 + 3 * w + 0.1 * rand()].map((v) => Math.round(v * 1e4) / 1e4);
        // one cell the sensor got wrong: empty in the CSV, a bad-quality reading in the historian
        const badCell = u === 3 && k === 7 ? 1 : -1;
        csvRows.push([asset, iso(tsMs), ...values.map((v, c) => (c === badCell ? '' : String(v)))].join(','));
        values.forEach((value, c) =>
          readings.push({
            asset,
            tag: FIT_CHANNELS[c],
            value: c === badCell ? 9999 : value,
            tsMs,
            quality: c === badCell ? 'bad' : 'good',
            source: 'opcua',
          }),
        );
      }
    }
    const fitCsv = join(dir, 'fleet.csv');
    writeFileSync(fitCsv, csvRows.join('\n') + '\n');
    await writeReadings(influxd!.url, 'fleet', readings);
    const csvModel = join(dir, 'model-csv.json');
    const influxModel = join(dir, 'model-influx.json');
    const a = await cli([
      'fit',
      '--kind',
      'rul',
      '--input',
      fitCsv,
      '--asset-column',
      'engine',
      '--time-column',
      'time',
      '--out',
      csvModel,
    ]);
    expect(a.code, a.stderr).to.equal(0);
    const b = await cli([
      'fit',
      '--kind',
      'rul',
      '--influx',
      influxd!.url,
      '--database',
      'fleet',
      '--from',
      '2025-01-01',
      '--to',
      '2026-01-01',
      '--page-size',
      '500',
      '--out',
      influxModel,
    ]);
    expect(b.code, b.stderr).to.equal(0);
    expect(a.stderr).to.match(/1 empty cell hold/);
    expect(b.stderr).to.match(/1 empty cell hold/);
    expect(b.stderr).to.match(/1 bad-quality reading left out/);
    expect(b.stdout.split('\n')[0]).to.equal(a.stdout.split('\n')[0]);
    expect(a.stdout).to.match(/^fitted rul-similarity on 12 assets, \d+ rows/);
    expect(JSON.parse(readFileSync(influxModel, 'utf8'))).to.deep.equal(JSON.parse(readFileSync(csvModel, 'utf8')));
  });

  describe('bad input: one line, non-zero exit', function () {
    const fails = async (args: string[], code: number, re: RegExp, env: Record<string, string> = {}) => {
      const r = await cli(args, env);
      expect(r.code, r.stderr).to.equal(code);
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
      expect(r.stderr).to.match(re);
      expect(r.stdout).to.equal('');
    };
    const replayArgs = (url: string, ...more: string[]) => [
      'replay',
      '--flow',
      flow,
      '--influx',
      url,
      '--database',
      'plant',
      ...range,
      ...more,
    ];
    const fitArgs = (url: string, ...more: string[]) => [
      'fit',
      '--kind',
      'rul',
      '--influx',
      url,
      '--database',
      'fleet',
      '--from',
      '2025-01-01',
      '--to',
      '2026-01-01',
      '--out',
      join(dir, 'm.json'),
      ...more,
    ];

    it('a database that does not exist', async function () {
      await fails(
        [...replayArgs(influxd!.url).map((a) => (a === 'plant' ? 'nope' : a))],
        1,
        /^twinloop (replay|fit): InfluxDB at http:\/\/127\.0\.0\.1:\d+ has no database 'nope'$/m,
      );
      await fails(
        [...fitArgs(influxd!.url).map((a) => (a === 'fleet' ? 'nope' : a))],
        1,
        /^twinloop (replay|fit): InfluxDB at http:\/\/127\.0\.0\.1:\d+ has no database 'nope'$/m,
      );
    });

    it('a range without readings', async function () {
      await fails(
        ['replay', '--flow', flow, '--influx', influxd!.url, '--database', 'plant', '--from', '2020-01-01', '--to', '2020-02-01'],
        2,
        /^twinloop (replay|fit): no readings in measurement reading of database plant from 2020-01-01T00:00:00\.000Z to 2020-02-01T00:00:00\.000Z$/m,
      );
      await fails([...replayArgs(influxd!.url), '--asset', 'no/such/asset'], 2, /no readings in .* \(asset no\/such\/asset\)$/m);
      await fails(
        [
          'fit',
          '--kind',
          'rul',
          '--influx',
          influxd!.url,
          '--database',
          'fleet',
          '--from',
          '2020-01-01',
          '--to',
          '2020-02-01',
          '--out',
          join(dir, 'm.json'),
        ],
        2,
        /^twinloop (replay|fit): no readings in measurement reading of database fleet from 2020-01-01/m,
      );
    });

    it('both --input and --influx, neither, options of the other input, a bad range', async function () {
      await fails([...replayArgs(influxd!.url), '--input', csv], 2, /^twinloop replay: give --input FILE or --influx URL, not both/);
      await fails(['replay', '--flow', flow], 2, /--influx URL or --input FILE is required/);
      await fails([...replayArgs(influxd!.url), '--time-column', 'tsMs'], 2, /--time-column goes with --input, not --influx/);
      await fails(['replay', '--flow', flow, '--input', csv, '--database', 'plant'], 2, /--database goes with --influx, not --input/);
      await fails(
        ['replay', '--flow', flow, '--influx', influxd!.url, '--database', 'plant', '--from', '2026-01-02'],
        2,
        /--to TIME is required with --influx/,
      );
      await fails(
        ['replay', '--flow', flow, '--influx', influxd!.url, '--database', 'plant', '--from', '2026-01-02', '--to', '2026-01-01'],
        2,
        /--to \(2026-01-01T00:00:00\.000Z\) must be after --from/,
      );
      await fails([...fitArgs(influxd!.url), '--input', csv], 2, /^twinloop fit: give --input FILE or --influx URL, not both/);
      await fails([...fitArgs(influxd!.url), '--asset-column', 'engine'], 2, /--asset-column goes with --input, not --influx/);
      await fails([...fitArgs(`http://admin:x@127.0.0.1:${influxd!.port}`)], 2, /INFLUX_USERNAME and INFLUX_PASSWORD, not in the URL/);
    });

    it('a server that is down', async function () {
      const down = `http://127.0.0.1:${await freePort()}`;
      await fails(replayArgs(down), 1, /^twinloop (replay|fit): cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/m);
      await fails(fitArgs(down), 1, /^twinloop (replay|fit): cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/m);
    });
  });

  describe('with authentication on', function () {
    let secured: Influxd | undefined;
    before(async function () {
      if (!influxd) return this.skip();
      secured = await startInfluxd(ensureDebianBinary('influxdb', 'influxd')!, { auth: true });
      await influxql(secured.url, `CREATE USER admin WITH PASSWORD '${ADMIN.INFLUX_PASSWORD}' WITH ALL PRIVILEGES`);
      await influxql(secured.url, 'CREATE DATABASE plant', ADMIN);
      await writeReadings(
        secured.url,
        'plant',
        [{ asset: ASSET, tag: 'zone1_temp', value: 180, tsMs: START_MS, quality: 'good', source: 'opcua' }],
        ADMIN,
      );
    });
    after(async function () {
      await secured?.stop();
    });

    it('reads with INFLUX_USERNAME / INFLUX_PASSWORD from the environment; wrong or no credentials: one line', async function () {
      const args = ['replay', '--flow', flow, '--influx', secured!.url, '--database', 'plant', ...range];
      const ok = await cli(args, ADMIN);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(
        ok.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l).payload.value),
      ).to.deep.equal([180, 180]);
      for (const env of [{ ...ADMIN, INFLUX_PASSWORD: 'wrong' }, {}]) {
        const r = await cli(args, env);
        expect(r.code, r.stderr).to.equal(1);
        expect(r.stderr.trim().split('\n')).to.have.length(1);
        expect(r.stderr).to.match(
          /^twinloop (replay|fit): InfluxDB at http:\/\/127\.0\.0\.1:\d+ refused the credentials \(INFLUX_USERNAME, INFLUX_PASSWORD\): /,
        );
      }
    });
  });
});
