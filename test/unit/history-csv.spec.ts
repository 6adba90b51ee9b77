/** Run-to-failure history from CSV: assets, times, channels, notes, and errors that say where. */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyFromRecords, readHistoryCsv } from '../../runtime/maintenance/history-csv.js';
import { parseCsvText } from '../../runtime/replay/csv.js';
import { TwinError } from '../../runtime/model/errors.js';

const opts = { assetColumn: 'pump', timeColumn: 'time' };
const read = (text: string) => historyFromRecords(parseCsvText(text), opts);

async function fails(text: string, re: RegExp): Promise<void> {
  try {
    await read(text);
  } catch (err) {
    expect(err).to.be.instanceOf(TwinError);
    expect((err as TwinError).code).to.equal('BAD_CSV');
    expect((err as Error).message).to.match(re);
    return;
  }
  expect.fail(`no error for ${JSON.stringify(text.slice(0, 60))}`);
}

describe('maintenance: run-to-failure history from CSV', function () {
  it('groups rows by asset in time order; numeric columns are channels, the last row is the failure', async function () {
    const t = await read(
      [
        'time,pump,vib,temp,batch',
        '2026-01-01T00:00:00Z,p1,1.0,50,A',
        '2026-01-01T01:00:00Z,p2,2.0,60,A',
        '2026-01-01T02:00:00+01:00,p1,1.5,51,B', // 01:00Z
        '1767236400000,p1,2.5,53,B', // 03:00Z
        '2026-01-01 02:00,p1,2.0,52,C', // 02:00Z, out of file order
        '2026-01-01T02:00:00Z,p2,3.0,70,C',
      ].join('\n'),
    );
    expect(t.rows).to.equal(6);
    expect(t.units.map((u) => u.asset)).to.deep.equal(['p1', 'p2']);
    const [p1, p2] = t.units;
    expect(p1.channels).to.deep.equal(['vib', 'temp']);
    const h = Date.UTC(2026, 0, 1, 0);
    expect(p1.tsMs).to.deep.equal([h, h + 3_600_000, h + 7_200_000, h + 10_800_000]);
    expect(p1.values).to.deep.equal([
      [1, 50],
      [1.5, 51],
      [2, 52],
      [2.5, 53],
    ]);
    expect(p2.values).to.deep.equal([
      [2, 60],
      [3, 70],
    ]);
    expect(t.notes).to.deep.equal([
      'column "batch" left out: not numeric (line 2: "A")',
      '1 asset not in time order in the file: rows sorted by time',
    ]);
  });

  it('holds the previous value in an empty cell; leaves an all-empty column out', async function () {
    const t = await read('time,pump,a,b,c\n1000,p,1,10,\n2000,p,,11,\n3000,p,3,,\n');
    expect(t.units[0].channels).to.deep.equal(['a', 'b']);
    expect(t.units[0].values).to.deep.equal([
      [1, 10],
      [1, 11],
      [3, 11],
    ]);
    expect(t.notes).to.deep.equal(['column "c" left out: empty', "2 empty cells hold the asset's previous value"]);
  });

  it('reads a file with another delimiter', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'history-csv-'));
    try {
      const p = join(dir, 'h.csv');
      writeFileSync(p, 'time;pump;a\n1;x;1.5\n2;x;2.5\n');
      const t = await readHistoryCsv(p, { ...opts, delimiter: ';' });
      expect(t.units[0].values).to.deep.equal([[1.5], [2.5]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('bad input: BAD_CSV with the line', function () {
    it('an empty file, or a header only', async function () {
      await fails('', /the file is empty/);
      await fails('time,pump,a\n', /no data rows after the header/);
    });
    it('no such asset or time column; a nameless or repeated column', async function () {
      await fails('t,pump,a\n1,x,1\n', /line 1: no time column "time" in the header \(t, pump, a\)/);
      await fails('time,p,a\n1,x,1\n', /line 1: no asset column "pump"/);
      await fails('time,pump,,a\n1,x,1,1\n', /line 1: column 3 of the header has no name/);
      await fails('time,pump,a,a\n1,x,1,1\n', /line 1, column "a": the header names this column twice/);
    });
    it('a row with too few fields, a bad time, an empty asset', async function () {
      await fails('time,pump,a\n1,x,1\n2,x\n', /line 3: 2 fields, but the header has 3 columns/);
      await fails('time,pump,a\n1,x,1\nyesterday,x,2\n', /line 3, column "time": not an ISO-8601 time or epoch milliseconds: "yesterday"/);
      await fails('time,pump,a\n1,x,1\n2,,2\n', /line 3, column "pump": the asset is empty/);
    });
    it('no numeric channel; an asset with one row; two rows at the same time; an empty first cell', async function () {
      await fails('time,pump,note\n1,x,ok\n2,x,fine\n', /line 1: no numeric column besides the asset and time columns/);
      await fails('time,pump,a\n1,x,1\n2,x,2\n3,y,3\n', /line 4, column "pump": asset "y" has one row/);
      await fails(
        'time,pump,a\n1,x,1\n2,x,2\n2,x,3\n',
        /line 4, column "time": asset "x" has two rows at 1970-01-01T00:00:00\.002Z \(the other is line 3\)/,
      );
      await fails('time,pump,a,b\n1,x,,1\n2,x,2,2\n', /line 2, column "a": empty in the first row of asset "x"/);
    });
  });
});
