/**
 * A streaming CSV reader (RFC 4180): quoted fields with `""` escapes and line breaks inside quotes,
 * any one-character delimiter, LF or CRLF line ends, a UTF-8 byte-order mark. Records carry the
 * line number they start on, so every later error can say "line 17, column "zone1_temp"".
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { TwinError } from '../model/errors.js';

export interface CsvRecord {
  /** 1-based line number of the record's first character. */
  line: number;
  fields: string[];
}

/** Bad CSV at a known place: `line 17, column "zone1_temp": …`. */
export function csvError(line: number, column: string | undefined, what: string): TwinError {
  return new TwinError('BAD_CSV', `line ${line}${column !== undefined ? `, column ${JSON.stringify(column)}` : ''}: ${what}`);
}

/** The delimiter option: one character, or `tab` / `\t`. */
export function parseDelimiter(raw: string | undefined): string {
  if (raw === undefined) return ',';
  if (raw === 'tab' || raw === '\\t') return '\t';
  if (raw.length !== 1 || raw === '"' || raw === '\n' || raw === '\r') {
    throw new TwinError(
      'BAD_CONFIG',
      `delimiter must be one character other than a quote or line break (or 'tab'), not ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/**
 * Bounds that keep a hostile or broken file from taking the process down: one record is held
 * whole while it is parsed, so a 50 MB line or 200,000 columns would otherwise cost gigabytes
 * (and a stack overflow where a row is spread into arguments).
 */
export const MAX_RECORD_CHARS = 1 << 20;
export const MAX_COLUMNS = 10_000;

export interface CsvLimits {
  maxRecordChars?: number;
  maxColumns?: number;
}

/**
 * Incremental parser: `push` text in any chunking, `end` at the end of input; both return the
 * records completed so far. Blank lines are skipped. A record longer than `maxRecordChars` or with
 * more than `maxColumns` fields is refused as soon as it passes the bound, so memory stays bounded.
 */
export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  /** The previous character closed a quoted field: only a delimiter or line end may follow. */
  private afterQuote = false;
  /** Inside quotes, a `"` was seen: either an escaped quote (next is `"`) or the closing one. */
  private quotePending = false;
  private pendingCR = false;
  private fieldStarted = false;
  private line = 1;
  private recordLine = 1;
  private first = true;
  /** characters of the record being parsed (delimiters and quotes included) */
  private recordChars = 0;
  private readonly maxRecordChars: number;
  private readonly maxColumns: number;

  constructor(
    private readonly delimiter = ',',
    limits: CsvLimits = {},
  ) {
    this.maxRecordChars = limits.maxRecordChars ?? MAX_RECORD_CHARS;
    this.maxColumns = limits.maxColumns ?? MAX_COLUMNS;
  }

  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
    }
    const d = this.delimiter;
    for (; i < text.length; i++) {
      const c = text[i];
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === '\n') continue; // CRLF: the record already ended at CR
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (c === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false;
        this.afterQuote = true;
      }
      // the line end is not part of the record (a quoted one is)
      if ((this.inQuotes || (c !== '\n' && c !== '\r')) && ++this.recordChars > this.maxRecordChars) {
        throw csvError(this.recordLine, undefined, `the line is longer than ${this.maxRecordChars.toLocaleString('en')} characters`);
      }
      if (this.inQuotes) {
        if (c === '"') this.quotePending = true;
        else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        continue;
      }
      if (c === d) {
        this.endField();
      } else if (c === '\n' || c === '\r') {
        this.endRecord(out);
        this.line++;
        this.recordLine = this.line;
        if (c === '\r') this.pendingCR = true;
      } else if (this.afterQuote) {
        throw csvError(
          this.line,
          undefined,
          `field ${this.fields.length + 1}: text after a closing quote (a quote inside a field must be doubled: "")`,
        );
      } else if (c === '"' && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
      } else {
        this.field += c;
        this.fieldStarted = true;
      }
    }
    return out;
  }

  end(): CsvRecord[] {
    if (this.quotePending) {
      this.quotePending = false;
      this.inQuotes = false;
      this.afterQuote = true;
    }
    if (this.inQuotes) throw csvError(this.recordLine, undefined, 'a quoted field is not closed before the end of the file');
    const out: CsvRecord[] = [];
    this.endRecord(out);
    return out;
  }

  private endField(): void {
    if (this.fields.length >= this.maxColumns) {
      throw csvError(this.recordLine, undefined, `more than ${this.maxColumns.toLocaleString('en')} columns`);
    }
    this.fields.push(this.field);
    this.field = '';
    this.afterQuote = false;
    this.fieldStarted = false;
  }

  private endRecord(out: CsvRecord[]): void {
    const blank = this.fields.length === 0 && !this.fieldStarted && this.field === '';
    if (!blank) {
      this.endField();
      out.push({ line: this.recordLine, fields: this.fields });
    }
    this.fields = [];
    this.field = '';
    this.afterQuote = false;
    this.fieldStarted = false;
    this.recordChars = 0;
  }
}

/** Parse a whole CSV text (tests, the editor example). */
export function parseCsvText(text: string, delimiter = ',', limits?: CsvLimits): CsvRecord[] {
  const p = new CsvParser(delimiter, limits);
  return [...p.push(text), ...p.end()];
}

/** Records of a CSV file, read in chunks (the file is never held whole as one string). */
export async function* readCsvFile(path: string, delimiter = ',', limits?: CsvLimits): AsyncGenerator<CsvRecord> {
  const p = new CsvParser(delimiter, limits);
  const decoder = new StringDecoder('utf8');
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    yield* p.push(decoder.write(chunk as Buffer));
  }
  yield* p.push(decoder.end());
  yield* p.end();
}
