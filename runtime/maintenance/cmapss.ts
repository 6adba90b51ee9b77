/**
 * Reader for NASA C-MAPSS files (Saxena et al., 2008): one row per engine cycle, space-separated,
 * columns unit, cycle, 3 operational settings, 21 sensors. Rows become per-engine run histories
 * in the shape the RUL model is fitted on; a cycle is given a nominal duration so RUL is in ms.
 */
import { readFileSync } from 'node:fs';
import { TwinError } from '../model/errors.js';
import type { UnitHistory } from './health-index.js';

export const CMAPSS_CHANNELS: readonly string[] = [
  'setting1',
  'setting2',
  'setting3',
  ...Array.from({ length: 21 }, (_, i) => `s${i + 1}`),
];

export interface CmapssRow {
  unit: number;
  cycle: number;
  /** settings then sensors, in CMAPSS_CHANNELS order */
  values: number[];
}

export function parseCmapss(text: string, source = 'cmapss'): CmapssRow[] {
  const rows: CmapssRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const f = line.split(/\s+/).map(Number);
    if (f.length !== 2 + CMAPSS_CHANNELS.length) {
      throw new TwinError('BAD_CSV', `${source} line ${i + 1}: expected ${2 + CMAPSS_CHANNELS.length} fields, got ${f.length}`);
    }
    const bad = f.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new TwinError('BAD_CSV', `${source} line ${i + 1}: field ${bad + 1} is not a number`);
    rows.push({ unit: f[0], cycle: f[1], values: f.slice(2) });
  }
  return rows;
}

/**
 * Group rows by engine, ordered by cycle. `cycleMs` is the nominal duration of one cycle
 * (event time = cycle × cycleMs), so RUL in ms divided by cycleMs is RUL in cycles.
 */
export function cmapssUnits(rows: CmapssRow[], cycleMs: number): UnitHistory[] {
  if (!(cycleMs > 0)) throw new TwinError('BAD_CONFIG', `cycleMs must be > 0, got ${cycleMs}`);
  const byUnit = new Map<number, CmapssRow[]>();
  for (const r of rows) {
    const list = byUnit.get(r.unit) ?? [];
    list.push(r);
    byUnit.set(r.unit, list);
  }
  return [...byUnit.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([unit, list]) => {
      list.sort((a, b) => a.cycle - b.cycle);
      return {
        asset: `engine-${unit}`,
        channels: [...CMAPSS_CHANNELS],
        tsMs: list.map((r) => r.cycle * cycleMs),
        values: list.map((r) => r.values),
      };
    });
}

export function readCmapss(path: string, cycleMs: number): UnitHistory[] {
  return cmapssUnits(parseCmapss(readFileSync(path, 'utf8'), path), cycleMs);
}
