import { expect } from 'chai';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvParser, parseCsvText, parseDelimiter, readCsvFile, type CsvRecord } from '../../runtime/replay/csv.js';
import { TwinError } from '../../runtime/model/errors.js';

const fields = (recs: CsvRecord[]) => recs.map((r) => r.fields);

describe('replay: CSV reader', () => {
  it('splits plain fields and keeps empty ones', () => {
    expect(fields(parseCsvText('a,b,c\n1,,3\n'))).to.deep.equal([
      ['a', 'b', 'c'],
      ['1', '', '3'],
    ]);
    expect(fields(parseCsvText('a,b\n1,\n'))).to.deep.equal([
      ['a', 'b'],
      ['1', ''],
    ]);
  });

  it('reads quoted fields: delimiters, doubled quotes and line breaks inside', () => {
    const recs = parseCsvText('name,note\n"a,b","say ""hi"""\n"multi\nline",x\nlast,"" \n'.replace(' \n', '\n'));
    expect(fields(recs)).to.deep.equal([
      ['name', 'note'],
      ['a,b', 'say "hi"'],
      ['multi\nline', 'x'],
      ['last', ''],
    ]);
    // a record keeps the line it starts on; the next one counts the line break inside the quotes
    expect(recs.map((r) => r.line)).to.deep.equal([1, 2, 3, 5]);
  });

  it('handles CRLF, a BOM, blank lines and a missing final line break', () => {
    const recs = parseCsvText('\uFEFFt,v\r\n1,2\r\n\r\n3,4');
    expect(fields(recs)).to.deep.equal([
      ['t', 'v'],
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(recs.map((r) => r.line)).to.deep.equal([1, 2, 4]);
  });

  it('gives the same records whatever the chunking (CR and LF of one CRLF in different chunks too)', () => {
    const text = 'a;b\r\n"x;""y""";2\r\n"q\r\nr";3\r\n';
    const whole = parseCsvText(text, ';');
    for (let cut = 1; cut < text.length; cut++) {
      const p = new CsvParser(';');
      const recs = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.end()];
      expect(recs, `cut at ${cut}`).to.deep.equal(whole);
    }
    expect(fields(whole)).to.deep.equal([
      ['a', 'b'],
      ['x;"y"', '2'],
      ['q\r\nr', '3'],
    ]);
  });

  it('uses the delimiter option (tab by name)', () => {
    expect(parseDelimiter(undefined)).to.equal(',');
    expect(parseDelimiter('tab')).to.equal('\t');
    expect(parseDelimiter(';')).to.equal(';');
    expect(fields(parseCsvText('a\tb\n1\t2\n', parseDelimiter('tab')))).to.deep.equal([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(() => parseDelimiter('::')).to.throw(TwinError, /one character/);
    expect(() => parseDelimiter('"')).to.throw(TwinError, /one character/);
  });

  it('says where a quote is not closed or text follows a closing quote', () => {
    expect(() => parseCsvText('a,b\n1,2\n3,"open\n'))
      .to.throw(TwinError, /^line 3: a quoted field is not closed/)
      .with.property('code', 'BAD_CSV');
    expect(() => parseCsvText('a,b\n1,"x"y\n')).to.throw(TwinError, /^line 2: field 2: text after a closing quote/);
  });

  it('refuses a record past the line or column bound as soon as it passes it (limits counted per record)', () => {
    const limits = { maxRecordChars: 10, maxColumns: 3 };
    expect(parseCsvText('a,b\n123456789\n1234567890\n', ',', limits).map((r) => r.fields)).to.deep.equal([
      ['a', 'b'],
      ['123456789'],
      ['1234567890'],
    ]);
    expect(() => parseCsvText('a,b\n12345678901\n', ',', limits)).to.throw(TwinError, /^line 2: the line is longer than 10 characters$/);
    // a quoted line break does not start a new record: the record's length counts on
    expect(() => parseCsvText('a\n"12345\n678901"\n', ',', limits)).to.throw(TwinError, /^line 2: the line is longer than 10 characters$/);
    expect(parseCsvText('a,b,c\n1,2,3\n', ',', limits)).to.have.length(2);
    expect(() => parseCsvText('a,b,c,d\n', ',', limits))
      .to.throw(TwinError, /^line 1: more than 3 columns$/)
      .with.property('code', 'BAD_CSV');
    // the parser stops at the bound: a chunk far longer than it is not held
    const p = new CsvParser(',', limits);
    expect(() => p.push('x'.repeat(1e6))).to.throw(TwinError, /longer than 10/);
  });

  it('streams a file in chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinloop-replay-csv-'));
    try {
      const rows = Array.from({ length: 50_000 }, (_, i) => `${i},"v ${i}"`);
      writeFileSync(join(dir, 'big.csv'), ['t,v', ...rows].join('\r\n'));
      let n = 0;
      let last: CsvRecord | undefined;
      for await (const r of readCsvFile(join(dir, 'big.csv'))) {
        n++;
        last = r;
      }
      expect(n).to.equal(50_001);
      expect(last).to.deep.equal({ line: 50_001, fields: ['49999', 'v 49999'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
