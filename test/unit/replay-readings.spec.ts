import { expect } from 'chai';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReplayTime } from '../../runtime/replay/time.js';
import { defaultAsset, loadReplayFile, rowReadings, type ReplayFileOptions } from '../../runtime/replay/readings.js';
import { TwinError } from '../../runtime/model/errors.js';

describe('replay: rows to readings', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-replay-rows-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (name: string, text: string, o: ReplayFileOptions = {}) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return loadReplayFile(p, o);
  };
  const failure = async (p: Promise<unknown>): Promise<TwinError> => {
    try {
      await p;
    } catch (err) {
      return err as TwinError;
    }
    throw new Error('expected a failure');
  };

  it('parses ISO-8601 (a time without offset is UTC) and epoch milliseconds', () => {
    expect(parseReplayTime('2026-01-05T08:00:00Z')).to.equal(Date.UTC(2026, 0, 5, 8));
    expect(parseReplayTime('2026-01-05T08:00:00')).to.equal(Date.UTC(2026, 0, 5, 8));
    expect(parseReplayTime('2026-01-05 08:00:00.250')).to.equal(Date.UTC(2026, 0, 5, 8, 0, 0, 250));
    expect(parseReplayTime('2026-01-05T09:00:00+01:00')).to.equal(Date.UTC(2026, 0, 5, 8));
    expect(parseReplayTime('2026-01-05T09:00+0100')).to.equal(Date.UTC(2026, 0, 5, 8));
    expect(parseReplayTime('2026-01-05')).to.equal(Date.UTC(2026, 0, 5));
    expect(parseReplayTime(' 1767600000000 ')).to.equal(1767600000000);
    expect(parseReplayTime('2024-02-29')).to.equal(Date.UTC(2024, 1, 29));
    expect(parseReplayTime('2199-12-31T23:59:59.999Z')).to.equal(Date.UTC(2200, 0, 1) - 1);
    expect(parseReplayTime('0')).to.equal(0);
    // Date.parse would read these as 2 March, 1 May, 1 March 2025: refused
    for (const bad of [
      '',
      'yesterday',
      '05/01/2026',
      '2026-13-45T00:00:00Z',
      '1e12',
      '2026-02-30',
      '2026-04-31T08:00:00Z',
      '2025-02-29',
      '2026-01-05T24:00:00Z',
      '2026-01-05T08:60:00Z',
      '100000000000000000000',
      '2200-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
    ]) {
      expect(() => parseReplayTime(bad), bad)
        .to.throw(TwinError)
        .with.property('code', 'BAD_TIMESTAMP');
    }
  });

  it('makes one good reading per non-empty tag cell, asset from the file name', async () => {
    const t = await load(
      'line1-extruder.csv',
      'timestamp,zone1_temp,vibration\n2026-01-05T08:00:00Z,190.5,\n2026-01-05T08:00:01Z,191,1.5\n',
    );
    expect(defaultAsset('/x/line1-extruder.csv')).to.equal('line1-extruder');
    expect(t.tags).to.deep.equal(['zone1_temp', 'vibration']);
    expect(t.readingCount).to.equal(3);
    expect([...t.topics]).to.deep.equal(['line1-extruder/zone1_temp', 'line1-extruder/vibration']);
    const t0 = Date.UTC(2026, 0, 5, 8);
    expect(t.rows.map((r) => rowReadings(r, t.tags))).to.deep.equal([
      [{ asset: 'line1-extruder', tag: 'zone1_temp', value: 190.5, tsMs: t0, quality: 'good', source: 'replay' }],
      [
        { asset: 'line1-extruder', tag: 'zone1_temp', value: 191, tsMs: t0 + 1000, quality: 'good', source: 'replay' },
        { asset: 'line1-extruder', tag: 'vibration', value: 1.5, tsMs: t0 + 1000, quality: 'good', source: 'replay' },
      ],
    ]);
  });

  it('takes the asset from --asset or the asset column (an empty cell: the default)', async () => {
    const t = await load('a.csv', 'ts;machine;p\n1000;plant/m1;1\n1000;;2\n', {
      timeColumn: 'ts',
      assetColumn: 'machine',
      asset: 'plant/m0',
      delimiter: ';',
    });
    expect(t.rows.map((r) => r.asset)).to.deep.equal(['plant/m1', 'plant/m0']);
    expect(t.tags).to.deep.equal(['p']);
  });

  it('sorts a file that is out of order, stably (equal times keep file order)', async () => {
    const t = await load('unsorted.csv', 'timestamp,v\n3000,3\n1000,1\n2000,2a\n2000,2b\n'.replace('2a', '21').replace('2b', '22'));
    expect(t.sorted).to.equal(true);
    expect(t.rows.map((r) => [r.tsMs, r.values[0], r.line])).to.deep.equal([
      [1000, 1, 3],
      [2000, 21, 4],
      [2000, 22, 5],
      [3000, 3, 2],
    ]);
    const s = await load('sorted.csv', 'timestamp,v\n1000,1\n1000,2\n');
    expect(s.sorted).to.equal(false);
  });

  it('skips columns named with --skip-column', async () => {
    const t = await load('skip.csv', 'timestamp,batch,v\n1000,A12,1\n', { skipColumns: ['batch'] });
    expect(t.tags).to.deep.equal(['v']);
  });

  it('names the line and column of a bad cell', async () => {
    const e1 = await failure(load('badtime.csv', 'timestamp,v\n1000,1\n2000,2\nnoon,3\n'));
    expect(e1.code).to.equal('BAD_CSV');
    expect(e1.message).to.match(/^line 4, column "timestamp": not an ISO-8601 time or epoch milliseconds: "noon"/);
    const e2 = await failure(load('badnum.csv', 'timestamp,zone1_temp,batch\n1000,1,2\n2000,hot,3\n'));
    expect(e2.message).to.match(
      /^line 3, column "zone1_temp": not a number: "hot" \(leave text columns out with --skip-column zone1_temp\)/,
    );
    const e3 = await failure(load('short.csv', 'timestamp,a,b\n1000,1\n'));
    expect(e3.message).to.equal('line 2: 2 fields, but the header has 3 columns');
  });

  it('rejects a header without the time column, with duplicate or empty names, or without tags', async () => {
    expect((await failure(load('h1.csv', 'time,v\n1,2\n'))).message).to.match(
      /no time column "timestamp" in the header \(time, v\); name it with --time-column/,
    );
    expect((await failure(load('h2.csv', 'timestamp,v,v\n1,2,3\n'))).message).to.match(
      /^line 1, column "v": the header names this column twice/,
    );
    expect((await failure(load('h3.csv', 'timestamp,,v\n1,2,3\n'))).message).to.match(/column 2 of the header has no name/);
    expect((await failure(load('h4.csv', 'timestamp\n1\n'))).message).to.match(/no tag columns/);
    expect((await failure(load('h5.csv', 'timestamp,a/b\n1,2\n'))).message).to.match(/must not contain '\/'/);
    expect((await failure(load('h6.csv', ''))).message).to.match(/empty/);
    expect((await failure(load('h7.csv', 'timestamp,v\n1,2\n', { assetColumn: 'm' }))).message).to.match(/no asset column "m"/);
    expect((await failure(load('h8.csv', 'timestamp,v\n1,2\n', { skipColumns: ['x'] }))).message).to.match(/no column "x" to skip/);
  });
});
