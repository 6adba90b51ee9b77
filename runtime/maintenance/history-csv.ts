/**
 * Run-to-failure history from a CSV export (a historian's, or a plant's maintenance records): a
 * header row, one column naming the asset, one the time (ISO-8601 or epoch ms; a time without a
 * zone is UTC), and the rest channels. A column whose every non-empty cell is a number is a
 * channel; any other column (a batch id, an operator's note) is left out with a note. The rows of
 * each asset are put in time order and its last row is its failure. An empty cell holds the
 * asset's previous value in that channel, as the live node does between samples.
 */
import { TwinError } from '../model/errors.js';
import { csvError, readCsvFile, type CsvRecord } from '../replay/csv.js';
import { NUMBER, outOfRange } from '../replay/readings.js';
import { parseReplayTime } from '../replay/time.js';
import type { UnitHistory } from './health-index.js';

export interface HistoryCsvOptions {
  assetColumn: string;
  timeColumn: string;
}

export interface HistoryTable {
  units: UnitHistory[];
  /** things the reader decided that a person should know (columns left out, cells held) */
  notes: string[];
  rows: number;
}

interface Row {
  line: number;
  tsMs: number;
  values: number[];
}

/** Build histories from CSV records (the first is the header). */
export async function historyFromRecords(
  records: AsyncIterable<CsvRecord> | Iterable<CsvRecord>,
  o: HistoryCsvOptions,
): Promise<HistoryTable> {
  let header: CsvRecord | undefined;
  const body: CsvRecord[] = [];
  for await (const rec of records) {
    if (!header) header = rec;
    else body.push(rec);
  }
  if (!header) throw new TwinError('BAD_CSV', 'the file is empty: a header row is needed');
  const names = header.fields.map((f) => f.trim());
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === '') throw csvError(header!.line, undefined, `column ${i + 1} of the header has no name`);
    if (seen.has(n)) throw csvError(header!.line, n, 'the header names this column twice');
    seen.add(n);
  });
  const assetIndex = names.indexOf(o.assetColumn);
  if (assetIndex < 0)
    throw csvError(header.line, undefined, `no asset column ${JSON.stringify(o.assetColumn)} in the header (${names.join(', ')})`);
  const timeIndex = names.indexOf(o.timeColumn);
  if (timeIndex < 0)
    throw csvError(header.line, undefined, `no time column ${JSON.stringify(o.timeColumn)} in the header (${names.join(', ')})`);
  if (body.length === 0) throw new TwinError('BAD_CSV', 'no data rows after the header');
  for (const rec of body) {
    if (rec.fields.length !== names.length)
      throw csvError(rec.line, undefined, `${rec.fields.length} fields, but the header has ${names.length} columns`);
  }

  // A number too large for the model's sums (1e308) is bad input, not a text column.
  for (const rec of body) {
    rec.fields.forEach((f, i) => {
      if (i === assetIndex || i === timeIndex) return;
      const c = f.trim();
      const range = NUMBER.test(c) ? outOfRange(c, Number(c)) : undefined;
      if (range) throw csvError(rec.line, names[i], range);
    });
  }

  const notes: string[] = [];
  const channelIndexes: number[] = [];
  names.forEach((n, i) => {
    if (i === assetIndex || i === timeIndex) return;
    const text = body.find((rec) => {
      const c = rec.fields[i].trim();
      return c !== '' && !(NUMBER.test(c) && Number.isFinite(Number(c)));
    });
    if (text)
      notes.push(
        `column ${JSON.stringify(n)} left out: not numeric (line ${text.line}: ${JSON.stringify(text.fields[i].trim().slice(0, 40))})`,
      );
    else if (body.every((rec) => rec.fields[i].trim() === '')) notes.push(`column ${JSON.stringify(n)} left out: empty`);
    else channelIndexes.push(i);
  });
  if (channelIndexes.length === 0) throw csvError(header.line, undefined, 'no numeric column besides the asset and time columns');
  const channels = channelIndexes.map((i) => names[i]);

  const byAsset = new Map<string, Row[]>();
  for (const rec of body) {
    const asset = rec.fields[assetIndex].trim();
    if (asset === '') throw csvError(rec.line, names[assetIndex], 'the asset is empty');
    let tsMs: number;
    try {
      tsMs = parseReplayTime(rec.fields[timeIndex]);
    } catch (err) {
      throw csvError(rec.line, names[timeIndex], (err as Error).message);
    }
    const list = byAsset.get(asset) ?? [];
    list.push({
      line: rec.line,
      tsMs,
      values: channelIndexes.map((i) => {
        const c = rec.fields[i].trim();
        return c === '' ? NaN : Number(c);
      }),
    });
    byAsset.set(asset, list);
  }

  let held = 0,
    sorted = 0;
  const units: UnitHistory[] = [];
  for (const [asset, list] of byAsset) {
    if (list.some((r, i) => i > 0 && r.tsMs < list[i - 1].tsMs)) {
      sorted++;
      list.sort((a, b) => a.tsMs - b.tsMs); // stable: equal times keep file order (and are rejected below)
    }
    if (list.length < 2)
      throw csvError(list[0].line, names[assetIndex], `asset ${JSON.stringify(asset)} has one row: a run to failure needs at least two`);
    for (let r = 0; r < list.length; r++) {
      if (r > 0 && list[r].tsMs === list[r - 1].tsMs) {
        throw csvError(
          list[r].line,
          names[timeIndex],
          `asset ${JSON.stringify(asset)} has two rows at ${new Date(list[r].tsMs).toISOString()} (the other is line ${list[r - 1].line})`,
        );
      }
      list[r].values.forEach((v, c) => {
        if (!Number.isNaN(v)) return;
        if (r === 0)
          throw csvError(list[r].line, channels[c], `empty in the first row of asset ${JSON.stringify(asset)}: no earlier value to hold`);
        list[r].values[c] = list[r - 1].values[c];
        held++;
      });
    }
    units.push({ asset, channels: [...channels], tsMs: list.map((r) => r.tsMs), values: list.map((r) => r.values) });
  }
  if (sorted > 0) notes.push(`${sorted} asset${sorted > 1 ? 's' : ''} not in time order in the file: rows sorted by time`);
  if (held > 0) notes.push(`${held} empty cell${held > 1 ? 's' : ''} hold the asset's previous value`);
  return { units, notes, rows: body.length };
}

/** Read a run-to-failure CSV file (streamed, parsed with the replay's RFC 4180 reader). */
export function readHistoryCsv(path: string, o: HistoryCsvOptions & { delimiter?: string }): Promise<HistoryTable> {
  return historyFromRecords(readCsvFile(path, o.delimiter), o);
}
