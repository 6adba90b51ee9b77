/**
 * `twinloop evaluate ALARMS LABELS`: scores an alarm record against labelled windows
 * (runtime/eval/evaluate.ts). Exit 0 after scoring, 2 on bad usage or unreadable input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { evaluateSeries, parseAlarms, parseWindows, timelineSvg } from '../../runtime/eval/evaluate.js';

export const evaluateHelp = `Usage: twinloop evaluate ALARMS LABELS [--key NAME] [--svg FILE] [--json]

Scores an alarm record against labelled anomaly windows, as NAB and SKAB do:
  NAB score (standard, reward_low_FP_rate, reward_low_FN_rate; 100 = every window caught at its
  start, 0 = never alarming; first 15 % of the rows, at most 750, not scored),
  point-wise precision, recall, F1 and false-alarm rate (rows inside windows are anomalous),
  windows caught, mean delay from a window's start to its first alarm, alarms and false alarms per day.

ALARMS  JSON lines (e.g. \`twinloop replay\` output) or CSV, one row per sample with a flag
        (anomalous/alarm/anomaly/detection: true or 1) and a time (tsMs, or ts/timestamp/time as
        ISO or 'YYYY-MM-DD HH:MM:SS', read as UTC); an optional 'value' is plotted. A file with
        only alarm events (no row without an alarm) gets the event figures, not the NAB score.
LABELS  CSV with 'start,end' per line, a JSON array of [start, end], or NAB's combined_windows.json.

Options:
  --key NAME   which series of a combined_windows.json (e.g. realTraffic/speed_7578.csv)
  --svg FILE   also write a timeline: windows, alarms and values
  --json       print the report as one JSON object
  -h, --help   this text

Exit codes: 0 scored; 2 bad usage (missing or unreadable file, bad rows).

Example:
  npx twinloop evaluate alarms.jsonl windows.csv --svg alarms.svg
`;

const OPTIONS = {
  key: { type: 'string' },
  svg: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(evaluateHelp);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('give the ALARMS file and the LABELS file');
  const [alarmsFile, labelsFile] = positionals;
  let series;
  let windows;
  try {
    series = parseAlarms(read(alarmsFile));
    windows = parseWindows(read(labelsFile), values.key);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
  if (series.tsMs.length === 0) throw new UsageError(`${alarmsFile} holds no rows`);
  const r = evaluateSeries(series, windows);
  if (values.svg) writeFileSync(values.svg, timelineSvg(series, windows, `${alarmsFile} against ${labelsFile}`));
  if (values.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const e = r.events;
  const lines = [`${r.rows} rows, ${r.windows} labelled windows, ${f(e.days, 2)} days`];
  if (r.nab) {
    const n = r.nab;
    lines.push(
      `NAB score: standard ${f(n.standard)}, reward_low_FP_rate ${f(n.reward_low_FP_rate)}, reward_low_FN_rate ${f(n.reward_low_FN_rate)}`,
    );
  } else lines.push('NAB score: n/a (the file holds only alarm events; give one row per sample to weigh them)');
  if (r.pointwise) {
    const p = r.pointwise;
    lines.push(`point-wise: precision ${f(p.precision, 3)}, recall ${f(p.recall, 3)}, F1 ${f(p.f1, 3)}, FAR ${f(p.farPct, 2)} %`);
  }
  lines.push(
    `windows caught ${e.caught}/${e.windows}, mean delay ${Number.isFinite(e.meanDelayMs) ? f(e.meanDelayMs / 60_000) + ' min' : 'n/a'}; ` +
      `${e.alarms} alarms (${f(e.alarmsPerDay, 2)}/day), ${e.falseAlarms} outside windows (${f(e.falseAlarmsPerDay, 2)}/day)`,
  );
  if (values.svg) lines.push(`timeline: ${values.svg}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
