/**
 * `twinloop fit`: models from history. `--kind rul` fits a remaining-useful-life model on
 * run-to-failure histories in a CSV or an InfluxDB historian and writes the model file that
 * twin-rul loads.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, numberOption } from './usage.js';
import { parseDelimiter } from '../../runtime/replay/csv.js';
import { historyFromRecords, readHistoryCsv, type HistoryTable } from '../../runtime/maintenance/history-csv.js';
import type { CsvRecord } from '../../runtime/replay/csv.js';
import { influxReadingPages, type InfluxQuery, type InfluxRange } from '../../runtime/replay/influx-source.js';
import { influxOptions, INFLUX_HELP_ENV, INFLUX_ONLY, INFLUX_OPTIONS } from '../lib/influx-input.js';
import { fitRulAny, rulModelToJson, RUL_METHODS, type RulMethod } from '../../runtime/maintenance/rul-json.js';
import { TwinError } from '../../runtime/model/errors.js';
import { median } from '../../runtime/stats/index.js';

export const fitHelp = `Usage: twinloop fit --kind rul --input TRAIN.csv --asset-column NAME --time-column NAME --out MODEL.json [options]
       twinloop fit --kind rul --influx URL --database DB --from TIME --to TIME --out MODEL.json [options]

Fits a remaining-useful-life (RUL) model on run-to-failure history and writes it as JSON for the
twin-rul node (its "Model file").

The input: CSV with a header row; one row per asset and time. The asset column names the asset,
the time column holds ISO-8601 times (UTC unless they carry an offset) or epoch milliseconds.
Every other column whose cells are all numbers (or empty) is a channel; other columns are left out
with a note. The rows of each asset are its life, and its LAST ROW IS ITS FAILURE. An empty cell
holds the asset's previous value in that channel.
Bounds as for twinloop replay: lines up to 1,048,576 characters, up to 10,000 columns, real
calendar dates from 1970 to 2199, numbers within ±1e15 (a larger one is refused with its line).

From InfluxDB (--influx): the readings twin-historian writes (measurement reading: tag "asset"
naming the asset, tag "tag" naming the channel, field "value", tag "quality"). Each asset's
readings between --from and --to are pivoted into rows: one row per distinct time, one channel per
tag (a tag without a reading at that time is an empty cell). As for a CSV, each asset's LAST ROW
IS ITS FAILURE, so the range must end at the failures: select the run-to-failure assets with
--asset (or keep a database or a --site / --line of them) and let --to lie after the last failure.
Bad-quality readings are left out (the previous value holds).

Options:
  --kind rul             what to fit (only rul so far)
  --input FILE           the run-to-failure history (CSV)
  --influx URL           or the history from an InfluxDB 1.x historian (http://host:8086); exactly
                         one of --input and --influx
  --out FILE             where the model goes (JSON)
  --method M             similarity (default): matches the asset's health index against the
                         training trajectories; ols: ridge regression on rolling means and slopes;
                         trend: the degradation trend extrapolated to the failure level
  --rul-cap-ms N         RUL cap in ms: the model does not tell lives longer than this apart
                         (early wear is not observable). Default: the shortest training life
  --rul-cap N            the same in rows: N × the median time between an asset's rows
                         (C-MAPSS: 125 cycles, as the literature scores it)
  --seed N               seed of the folds that give the P10/P90 residuals (default 1)
  -h, --help             this text

For --input:
  --asset-column NAME    column naming each row's asset (required)
  --time-column NAME     column with the row's time (required)
  --delimiter C          field delimiter (default ','; 'tab' for tabs)

For --influx:
  --database DB          the database (required)
  --from TIME            start of the range, inclusive: ISO-8601 (UTC without a zone) or epoch ms
  --to TIME              end of the range, exclusive (both required)
  --measurement M        the measurement (default: reading)
  --asset-tag NAME       the tag naming the asset (default: asset)
  --asset A              only this asset; repeatable (default: every asset in the range)
  --tag T                only this channel; repeatable, in this order (default: every tag, by name)
  --site S, --line L     only points with this site / line tag
  --retention-policy RP  read this retention policy (default: the database's default)
  --page-size N          points per query (default 10000)
${INFLUX_HELP_ENV}

Prints a summary (units, rows, the channels that trend with time to failure, the P10-P90 width);
on a terminal, stderr shows what it is doing. Bad input: exit code 2 and one line saying where.

Examples (the first two in a clone of the project, where NASA's C-MAPSS FD001 is a test fixture):
  node dist/bin/cmapss-to-csv.js test/fixtures/cmapss/train_FD001.txt fd001.csv
  npx twinloop fit --kind rul --input fd001.csv --asset-column engine --time-column time --rul-cap 125 --out fd001-rul.json
  INFLUX_USERNAME=reader INFLUX_PASSWORD=… npx twinloop fit --kind rul --influx http://historian:8086 \\
    --database pumps --from 2025-01-01 --to 2026-12-01 --site hamburg --out pump-rul.json
`;

const OPTIONS = {
  kind: { type: 'string' },
  input: { type: 'string' },
  'asset-column': { type: 'string' },
  'time-column': { type: 'string' },
  out: { type: 'string' },
  method: { type: 'string' },
  'rul-cap-ms': { type: 'string' },
  'rul-cap': { type: 'string' },
  seed: { type: 'string' },
  delimiter: { type: 'string' },
  ...INFLUX_OPTIONS,
  asset: { type: 'string', multiple: true },
  'asset-tag': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A duration for the summary: ms and, where the rows are regular, rows. */
function span(ms: number, rowMs: number): string {
  return `${Math.round(ms)} ms (${(ms / rowMs).toFixed(1)} rows)`;
}

const CSV_ONLY = ['input', 'asset-column', 'time-column', 'delimiter'] as const;
const INFLUX_FIT_ONLY = ['asset', 'asset-tag'] as const;
/** Column names of the pivot that no InfluxDB tag value can clash with (a CSV column cannot hold '/'). */
const PIVOT_ASSET = '/asset';
const PIVOT_TIME = '/time';

/**
 * A historian's readings pivoted into run-to-failure rows, through the CSV reader's own rules
 * (time order, the last row is the failure, empty cells hold): one row per asset and distinct time,
 * one column per tag. The range is read page by page; only the pivot is held.
 */
async function historianHistory(
  query: InfluxQuery,
  range: InfluxRange,
  pageSize: number,
  describe: string,
  progress: (readings: number) => void,
): Promise<HistoryTable> {
  const byAsset = new Map<string, { tsMs: number; values: Map<string, number> }[]>();
  const tags = new Set<string>();
  let readings = 0;
  let bad = 0;
  for await (const page of influxReadingPages(query, range, pageSize)) {
    for (const r of page) {
      readings++;
      if (r.quality === 'bad') {
        bad++;
        continue;
      }
      let rows = byAsset.get(r.asset);
      if (!rows) byAsset.set(r.asset, (rows = []));
      let last = rows[rows.length - 1];
      if (!last || last.tsMs !== r.tsMs) rows.push((last = { tsMs: r.tsMs, values: new Map() }));
      if (!last.values.has(r.tag)) last.values.set(r.tag, r.value); // a reading stored twice (good and uncertain): the first
      tags.add(r.tag);
    }
    progress(readings);
  }
  if (readings === 0) throw new TwinError('BAD_PAYLOAD', `no readings in ${describe}`);
  const channels = range.tags.length > 0 ? range.tags.filter((t) => tags.has(t)) : [...tags].sort();
  const assets = range.assets.length > 0 ? range.assets.filter((a) => byAsset.has(a)) : [...byAsset.keys()].sort();
  const records: CsvRecord[] = [{ line: 1, fields: [PIVOT_ASSET, PIVOT_TIME, ...channels] }];
  for (const a of assets) {
    for (const row of byAsset.get(a)!) {
      records.push({
        line: records.length + 1,
        fields: [a, String(row.tsMs), ...channels.map((c) => (row.values.has(c) ? String(row.values.get(c)) : ''))],
      });
    }
  }
  let table: HistoryTable;
  try {
    table = await historyFromRecords(records, { assetColumn: PIVOT_ASSET, timeColumn: PIVOT_TIME });
  } catch (err) {
    // the reader names a line and column of the pivot: say the tag instead, or nothing
    const message = (err as Error).message.replace(/^line \d+(?:, column ("(?:[^"\\]|\\.)*"))?: /, (_, col?: string) => {
      const name: unknown = col ? JSON.parse(col) : undefined;
      return typeof name === 'string' && channels.includes(name) ? `tag ${col}: ` : '';
    });
    throw new TwinError((err as TwinError).code ?? 'BAD_PAYLOAD', `${describe}: ${message}`);
  }
  if (bad > 0) table.notes.push(`${bad} bad-quality reading${bad > 1 ? 's' : ''} left out`);
  return table;
}

export async function fitCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(fitHelp);
    return 0;
  }
  if (values.kind === undefined) throw new UsageError('--kind is required (rul)');
  if (values.kind !== 'rul') throw new UsageError(`--kind must be rul, got '${values.kind}'`);
  if (values.input !== undefined && values.influx !== undefined) throw new UsageError('give --input FILE or --influx URL, not both');
  const fromInflux = values.influx !== undefined;
  for (const o of fromInflux ? (['out'] as const) : (['input', 'asset-column', 'time-column', 'out'] as const))
    if (!values[o]) throw new UsageError(`--${o} is required`);
  for (const o of fromInflux ? CSV_ONLY : [...INFLUX_ONLY, ...INFLUX_FIT_ONLY])
    if (values[o] !== undefined)
      throw new UsageError(`--${o} goes with ${fromInflux ? '--input' : '--influx'}, not ${fromInflux ? '--influx' : '--input'}`);
  const method = (values.method ?? 'similarity') as RulMethod;
  if (!RUL_METHODS.includes(method)) throw new UsageError(`--method must be one of ${RUL_METHODS.join(', ')}, got '${values.method}'`);
  if (values['rul-cap-ms'] !== undefined && values['rul-cap'] !== undefined)
    throw new UsageError('give --rul-cap-ms or --rul-cap, not both');
  const capMs = numberOption(values['rul-cap-ms'], 'rul-cap-ms', (n) => n > 0, 'a number > 0');
  const capRows = numberOption(values['rul-cap'], 'rul-cap', (n) => n > 0, 'a number > 0');
  const seed = numberOption(values.seed, 'seed', (n) => Number.isInteger(n), 'an integer') ?? 1;
  const tty = process.stderr.isTTY === true;
  const step = (s: string) => tty && process.stderr.write(`\r\x1b[2Kfit: ${s}`);
  let input: string;
  let table: HistoryTable;
  if (fromInflux) {
    const assetTag = values['asset-tag'] ?? 'asset';
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(assetTag))
      throw new UsageError(`--asset-tag must be a tag name (letters, digits, _ or -), got '${assetTag}'`);
    const o = influxOptions(values, values.asset ?? [], assetTag);
    input = `InfluxDB ${values.database}`;
    step(`reading ${o.describe}…`);
    table = await historianHistory(o.query, o.range, o.pageSize, o.describe, (n) =>
      step(`reading ${o.describe}: ${n.toLocaleString('en')} readings…`),
    );
  } else {
    let delimiter: string;
    try {
      delimiter = parseDelimiter(values.delimiter);
    } catch (err) {
      throw new UsageError(`--${(err as Error).message}`);
    }
    input = values.input!;
    if (!existsSync(input) || !statSync(input).isFile()) throw new TwinError('BAD_CSV', `cannot read the input ${input}: no such file`);
    step(`reading ${input}…`);
    try {
      table = await readHistoryCsv(input, { assetColumn: values['asset-column']!, timeColumn: values['time-column']!, delimiter });
    } catch (err) {
      throw new TwinError('BAD_CSV', `${input}: ${(err as Error).message}`);
    }
  }
  const { units } = table;
  const rowMs = median(units.flatMap((u) => u.tsMs.slice(1).map((t, i) => t - u.tsMs[i])));
  const lives = units.map((u) => u.tsMs[u.tsMs.length - 1] - u.tsMs[0]);
  const rulCapMs = capMs ?? (capRows !== undefined ? capRows * rowMs : Math.min(...lives));
  if (!(rulCapMs > 0)) throw new UsageError('the RUL cap comes out as 0: give --rul-cap-ms');

  step(`fitting ${method} on ${units.length} assets (${table.rows} rows)…`);
  let model;
  try {
    model = fitRulAny(units, { method, rulCapMs, seed });
  } catch (err) {
    throw new TwinError((err as TwinError).code ?? 'MODEL', `${input}: ${(err as Error).message}`);
  }
  if (tty) process.stderr.write('\r\x1b[2K');
  try {
    writeFileSync(values.out!, rulModelToJson(model) + '\n');
  } catch (err) {
    // not the input's fault: exit code 1
    throw new Error(`cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  for (const n of table.notes) process.stderr.write(`twinloop fit: note: ${n}\n`);
  const signals = (model as { signals?: { channels: string[] } }).signals?.channels;
  const bands = (model as { bands?: Array<{ q10Ms: number; q90Ms: number }> }).bands;
  const oof = (model as { oofRmseMs?: Record<string, number> }).oofRmseMs;
  const lines = [
    `fitted ${model.kind} on ${units.length} assets, ${table.rows} rows (median row interval ${rowMs} ms; lives ${span(Math.min(...lives), rowMs)} to ${span(Math.max(...lives), rowMs)})`,
    `  RUL cap ${span(rulCapMs, rowMs)}, seed ${seed}`,
    ...(signals ? [`  ${signals.length} of ${units[0].channels.length} channels trend with time to failure: ${signals.join(', ')}`] : []),
    ...(bands
      ? [`  out-of-fold P10-P90 width by forecast band: ${bands.map((b) => ((b.q90Ms - b.q10Ms) / rowMs).toFixed(1)).join(', ')} rows`]
      : []),
    ...(oof
      ? [
          `  out-of-fold RMSE against the capped RUL: ${Object.entries(oof)
            .map(([m, v]) => `${m} ${(v / rowMs).toFixed(1)}`)
            .join(', ')} rows`,
        ]
      : []),
    `  wrote ${values.out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
