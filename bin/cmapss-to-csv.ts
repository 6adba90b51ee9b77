#!/usr/bin/env node
/**
 * NASA C-MAPSS text file → the CSV a plant's historian would give: columns
 * engine,time,setting1..setting3,s1..s21, one row per engine cycle, time in epoch ms from a fixed
 * origin (time = origin + cycle × cycleMs, so every engine starts at the same moment). `twinloop
 * fit` and `twinloop replay` then take it as they take any plant export.
 *
 *   node dist/bin/cmapss-to-csv.js train_FD001.txt fd001.csv [--cycle-ms 3600000] [--origin 2026-01-01T00:00:00Z]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCmapss } from '../runtime/maintenance/cmapss.js';
import type { UnitHistory } from '../runtime/maintenance/health-index.js';

export const CMAPSS_ORIGIN_MS = Date.parse('2026-01-01T00:00:00Z');
export const CMAPSS_CYCLE_MS = 3_600_000;

/** CSV text of C-MAPSS histories (as cmapss.ts reads them, tsMs = cycle × cycleMs) from `originMs`. */
export function cmapssCsv(units: UnitHistory[], originMs = CMAPSS_ORIGIN_MS): string {
  if (units.length === 0) return '';
  const lines = [['engine', 'time', ...units[0].channels].join(',')];
  for (const u of units) u.values.forEach((row, r) => lines.push([u.asset, originMs + u.tsMs[r], ...row].join(',')));
  return lines.join('\n') + '\n';
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'cycle-ms': { type: 'string' }, origin: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 2) {
    process.stdout.write(
      'Usage: node dist/bin/cmapss-to-csv.js CMAPSS.txt OUT.csv [--cycle-ms N (default 3600000)] [--origin ISO (default 2026-01-01T00:00:00Z)]\n',
    );
    return values.help ? 0 : 2;
  }
  const cycleMs = values['cycle-ms'] === undefined ? CMAPSS_CYCLE_MS : Number(values['cycle-ms']);
  const originMs = values.origin === undefined ? CMAPSS_ORIGIN_MS : Date.parse(values.origin);
  if (!(cycleMs > 0)) throw new Error(`--cycle-ms must be a number > 0, got '${values['cycle-ms']}'`);
  if (!Number.isFinite(originMs)) throw new Error(`--origin must be an ISO-8601 time, got '${values.origin}'`);
  const units = readCmapss(positionals[0], cycleMs);
  writeFileSync(positionals[1], cmapssCsv(units, originMs));
  process.stderr.write(
    `cmapss-to-csv: ${units.length} engines, ${units.reduce((s, u) => s + u.values.length, 0)} rows → ${positionals[1]}\n`,
  );
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`cmapss-to-csv: ${(err as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
