/**
 * A replay file → Readings in event-time order.
 *
 * - The header names the columns. The time column (default `timestamp`) holds ISO-8601 times or
 *   epoch ms; an optional asset column names each row's asset (an empty cell: the default asset).
 * - Every other column is a tag, except those listed to skip (text columns such as a batch id);
 *   its cells must be numbers or empty (an empty cell is no reading).
 * - Rows are sorted by time, stably: files from historians are usually in order, and a file that
 *   is not (two exports concatenated, say) is still replayed in time order; rows with equal times
 *   keep their file order, and within a row the tags keep the column order.
 */
import { basename, extname } from 'node:path';
import { TwinError } from '../model/errors.js';
import type { Reading } from '../model/reading.js';
import { csvError, readCsvFile, type CsvRecord } from './csv.js';
import { parseReplayTime } from './time.js';

export interface ReplayFileOptions {
  timeColumn?: string;
  assetColumn?: string;
  /** Asset of rows without an asset column or cell; default: the file's base name. */
  asset?: string;
  delimiter?: string;
  /** Columns that are neither time, asset nor tag. */
  skipColumns?: string[];
}

/** One data row, compact: values by tag index, NaN where the cell was empty. */
export interface ReplayRow {
  line: number;
  tsMs: number;
  asset: string;
  values: Float64Array;
}

export interface ReplayTable {
  tags: string[];
  rows: ReplayRow[];
  /** Every `<asset>/<tag>` that has at least one reading. */
  topics: Set<string>;
  readingCount: number;
  /** True when the file was not in time order and had to be sorted. */
  sorted: boolean;
}

/** The default asset of a file: its base name without extension. */
export function defaultAsset(path: string): string {
  return basename(path, extname(path));
}

/** A CSV cell that is a plain decimal number (no hex, no Infinity, no blanks). */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Largest magnitude a cell may hold. No plant signal comes near it, and a model that squares or
 * sums values (fit) overflows to Infinity on numbers like 1e308.
 */
export const MAX_ABS_CELL = 1e15;

/** A number cell beyond ±MAX_ABS_CELL: the reason, for a csvError naming line and column. */
export function outOfRange(cell: string, v: number): string | undefined {
  if (Math.abs(v) <= MAX_ABS_CELL) return undefined;
  return `${JSON.stringify(cell.length > 40 ? cell.slice(0, 40) + '…' : cell)} is outside ±${MAX_ABS_CELL.toExponential()}`;
}

/** The table's header: which column is what. Throws TwinError('BAD_CSV') naming the column. */
export function headerLayout(header: CsvRecord, o: ReplayFileOptions) {
  const names = header.fields.map((f) => f.trim());
  const timeColumn = o.timeColumn ?? 'timestamp';
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === '') throw csvError(header.line, undefined, `column ${i + 1} of the header has no name`);
    if (seen.has(n)) throw csvError(header.line, n, 'the header names this column twice');
    seen.add(n);
  });
  const timeIndex = names.indexOf(timeColumn);
  if (timeIndex < 0)
    throw csvError(
      header.line,
      undefined,
      `no time column ${JSON.stringify(timeColumn)} in the header (${names.join(', ')}); name it with --time-column`,
    );
  const assetIndex = o.assetColumn !== undefined ? names.indexOf(o.assetColumn) : -1;
  if (o.assetColumn !== undefined && assetIndex < 0)
    throw csvError(header.line, undefined, `no asset column ${JSON.stringify(o.assetColumn)} in the header (${names.join(', ')})`);
  const skip = new Set(o.skipColumns ?? []);
  for (const s of skip) if (!seen.has(s)) throw csvError(header.line, undefined, `no column ${JSON.stringify(s)} to skip in the header`);
  const tagIndexes: number[] = [];
  names.forEach((n, i) => {
    if (i === timeIndex || i === assetIndex || skip.has(n)) return;
    if (n.includes('/'))
      throw csvError(header.line, n, "a tag name must not contain '/' (the asset path comes from --asset or the asset column)");
    tagIndexes.push(i);
  });
  if (tagIndexes.length === 0) throw csvError(header.line, undefined, 'no tag columns besides the time and asset columns');
  return { names, timeIndex, assetIndex, tagIndexes, tags: tagIndexes.map((i) => names[i]) };
}

/** One record → a row; throws TwinError('BAD_CSV') naming the line and column. */
export function parseRow(rec: CsvRecord, layout: ReturnType<typeof headerLayout>, asset: string): ReplayRow {
  const { names, timeIndex, assetIndex, tagIndexes } = layout;
  if (rec.fields.length !== names.length) {
    throw csvError(rec.line, undefined, `${rec.fields.length} fields, but the header has ${names.length} columns`);
  }
  let tsMs: number;
  try {
    tsMs = parseReplayTime(rec.fields[timeIndex]);
  } catch (err) {
    throw csvError(rec.line, names[timeIndex], (err as Error).message);
  }
  let rowAsset = asset;
  if (assetIndex >= 0) {
    const a = rec.fields[assetIndex].trim();
    if (a !== '') rowAsset = a;
  }
  if (rowAsset === '' || rowAsset.startsWith('/') || rowAsset.endsWith('/') || /[#+]/.test(rowAsset)) {
    throw csvError(
      rec.line,
      assetIndex >= 0 ? names[assetIndex] : undefined,
      `${JSON.stringify(rowAsset)} is not an asset path (levels separated by '/', no MQTT wildcards)`,
    );
  }
  const values = new Float64Array(tagIndexes.length);
  for (let k = 0; k < tagIndexes.length; k++) {
    const cell = rec.fields[tagIndexes[k]].trim();
    if (cell === '') {
      values[k] = Number.NaN;
      continue;
    }
    const v = Number(cell);
    if (!NUMBER.test(cell) || !Number.isFinite(v)) {
      const name = names[tagIndexes[k]];
      const shown = JSON.stringify(cell.length > 40 ? cell.slice(0, 40) + '…' : cell);
      throw csvError(rec.line, name, `not a number: ${shown} (leave text columns out with --skip-column ${name})`);
    }
    const range = outOfRange(cell, v);
    if (range) throw csvError(rec.line, names[tagIndexes[k]], range);
    values[k] = v;
  }
  return { line: rec.line, tsMs, asset: rowAsset, values };
}

/** The readings of one row, in column order (empty cells give none). */
export function rowReadings(row: ReplayRow, tags: readonly string[]): Reading[] {
  const out: Reading[] = [];
  for (let k = 0; k < tags.length; k++) {
    const v = row.values[k];
    if (Number.isNaN(v)) continue;
    out.push({ asset: row.asset, tag: tags[k], value: v, tsMs: row.tsMs, quality: 'good', source: 'replay' });
  }
  return out;
}

/** Read, check and order a whole replay file. */
export async function loadReplayFile(
  path: string,
  o: ReplayFileOptions,
  records: AsyncIterable<CsvRecord> = readCsvFile(path, o.delimiter),
): Promise<ReplayTable> {
  const asset = o.asset ?? defaultAsset(path);
  let layout: ReturnType<typeof headerLayout> | undefined;
  const rows: ReplayRow[] = [];
  const topics = new Set<string>();
  let readingCount = 0;
  let inOrder = true;
  let lastTs = -Infinity;
  for await (const rec of records) {
    if (!layout) {
      layout = headerLayout(rec, o);
      continue;
    }
    const row = parseRow(rec, layout, asset);
    if (row.tsMs < lastTs) inOrder = false;
    lastTs = row.tsMs;
    for (let k = 0; k < layout.tags.length; k++) {
      if (!Number.isNaN(row.values[k])) {
        readingCount++;
        topics.add(`${row.asset}/${layout.tags[k]}`);
      }
    }
    rows.push(row);
  }
  if (!layout) throw new TwinError('BAD_CSV', 'the file is empty: a header row is needed');
  // Array.prototype.sort is stable (ES2019): equal times keep their file order.
  if (!inOrder) rows.sort((a, b) => a.tsMs - b.tsMs);
  return { tags: layout.tags, rows, topics, readingCount, sorted: !inOrder };
}
