/**
 * `twinloop fit`: models from history. `--kind rul` fits a remaining-useful-life model on
 * run-to-failure histories in a CSV and writes the model file that twin-rul loads.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, numberOption } from './usage.js';
import { parseDelimiter } from '../../runtime/replay/csv.js';
import { readHistoryCsv, type HistoryTable } from '../../runtime/maintenance/history-csv.js';
import { fitRulAny, rulModelToJson, RUL_METHODS, type RulMethod } from '../../runtime/maintenance/rul-json.js';
import { TwinError } from '../../runtime/model/errors.js';

export const fitHelp = `Usage: twinloop fit --kind rul --input TRAIN.csv --asset-column NAME --time-column NAME --out MODEL.json [options]

Fits a remaining-useful-life (RUL) model on run-to-failure history and writes it as JSON for the
twin-rul node (its "Model file").

The input: CSV with a header row; one row per asset and time. The asset column names the asset,
the time column holds ISO-8601 times (UTC unless they carry an offset) or epoch milliseconds.
Every other column whose cells are all numbers (or empty) is a channel; other columns are left out
with a note. The rows of each asset are its life, and its LAST ROW IS ITS FAILURE. An empty cell
holds the asset's previous value in that channel.

Options:
  --kind rul             what to fit (only rul so far)
  --input FILE           the run-to-failure history
  --asset-column NAME    column naming each row's asset
  --time-column NAME     column with the row's time
  --out FILE             where the model goes (JSON)
  --method M             similarity (default): matches the asset's health index against the
                         training trajectories; ols: ridge regression on rolling means and slopes;
                         trend: the degradation trend extrapolated to the failure level
  --rul-cap-ms N         RUL cap in ms: the model does not tell lives longer than this apart
                         (early wear is not observable). Default: the shortest training life
  --rul-cap N            the same in rows: N × the median time between an asset's rows
                         (C-MAPSS: 125 cycles, as the literature scores it)
  --seed N               seed of the folds that give the P10/P90 residuals (default 1)
  --delimiter C          field delimiter (default ','; 'tab' for tabs)
  -h, --help             this text

Prints a summary (units, rows, the channels that trend with time to failure, the P10-P90 width);
on a terminal, stderr shows what it is doing. Bad input: exit code 1 or 2 and one line saying where.

Example:
  npx twinloop fit --kind rul --input fd001.csv --asset-column engine --time-column time --rul-cap 125 --out fd001-rul.json
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
  help: { type: 'boolean', short: 'h' },
} as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A duration for the summary: ms and, where the rows are regular, rows. */
function span(ms: number, rowMs: number): string {
  return `${Math.round(ms)} ms (${(ms / rowMs).toFixed(1)} rows)`;
}

export async function fitCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(fitHelp);
    return 0;
  }
  if (values.kind === undefined) throw new UsageError('--kind is required (rul)');
  if (values.kind !== 'rul') throw new UsageError(`--kind must be rul, got '${values.kind}'`);
  for (const o of ['input', 'asset-column', 'time-column', 'out'] as const) if (!values[o]) throw new UsageError(`--${o} is required`);
  const method = (values.method ?? 'similarity') as RulMethod;
  if (!RUL_METHODS.includes(method)) throw new UsageError(`--method must be one of ${RUL_METHODS.join(', ')}, got '${values.method}'`);
  if (values['rul-cap-ms'] !== undefined && values['rul-cap'] !== undefined) throw new UsageError('give --rul-cap-ms or --rul-cap, not both');
  const capMs = numberOption(values['rul-cap-ms'], 'rul-cap-ms', (n) => n > 0, 'a number > 0');
  const capRows = numberOption(values['rul-cap'], 'rul-cap', (n) => n > 0, 'a number > 0');
  const seed = numberOption(values.seed, 'seed', (n) => Number.isInteger(n), 'an integer') ?? 1;
  let delimiter: string;
  try {
    delimiter = parseDelimiter(values.delimiter);
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
  const input = values.input!;
  if (!existsSync(input) || !statSync(input).isFile()) throw new TwinError('BAD_CSV', `cannot read the input ${input}: no such file`);

  const tty = process.stderr.isTTY === true;
  const step = (s: string) => tty && process.stderr.write(`\r\x1b[2Kfit: ${s}`);
  step(`reading ${input}…`);
  let table: HistoryTable;
  try {
    table = await readHistoryCsv(input, { assetColumn: values['asset-column']!, timeColumn: values['time-column']!, delimiter });
  } catch (err) {
    throw new TwinError('BAD_CSV', `${input}: ${(err as Error).message}`);
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
    throw new TwinError('MODEL', `cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  for (const n of table.notes) process.stderr.write(`twinloop fit: note: ${n}\n`);
  const signals = (model as { signals?: { channels: string[] } }).signals?.channels;
  const bands = (model as { bands?: Array<{ q10Ms: number; q90Ms: number }> }).bands;
  const oof = (model as { oofRmseMs?: Record<string, number> }).oofRmseMs;
  const lines = [
    `fitted ${model.kind} on ${units.length} assets, ${table.rows} rows (median row interval ${rowMs} ms; lives ${span(Math.min(...lives), rowMs)} to ${span(Math.max(...lives), rowMs)})`,
    `  RUL cap ${span(rulCapMs, rowMs)}, seed ${seed}`,
    ...(signals ? [`  ${signals.length} of ${units[0].channels.length} channels trend with time to failure: ${signals.join(', ')}`] : []),
    ...(bands ? [`  out-of-fold P10-P90 width by forecast band: ${bands.map((b) => ((b.q90Ms - b.q10Ms) / rowMs).toFixed(1)).join(', ')} rows`] : []),
    ...(oof ? [`  out-of-fold RMSE against the capped RUL: ${Object.entries(oof).map(([m, v]) => `${m} ${(v / rowMs).toFixed(1)}`).join(', ')} rows`] : []),
    `  wrote ${values.out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
