/**
 * Maintenance-window ranking benchmark (runtime only): the time to rank a year of a plant's
 * calendar at 15-minute resolution (35,040 grid steps; 35,017 candidate starts for a 6-hour job),
 * median and p95 of repeated runs, beside a baseline measured in the same run: a plain loop over
 * the same grid that only sums the production minutes in each 15-minute cell (the least any
 * ranking must do), over the same precomputed production intervals.
 *
 * Calendar: Europe/Berlin, three shifts Mon–Fri and an early shift on Saturday, a weekly planned
 * stop Sat 06:00–14:00, six holidays, so the year has both DST changes. Rows: the baseline; the
 * calendar's expansion into a year of production intervals alone; the full ranking (expansion
 * included) without and with a time-of-use tariff for the job's energy.
 */
import { compileTariff } from '../runtime/energy/tariff.js';
import type { RulEstimate } from '../runtime/model/maintenance.js';
import { compileCalendar, productionIntervals, type ShiftInterval } from '../runtime/maintenance/production-calendar.js';
import { type RankOptions, rankWindows } from '../runtime/maintenance/window-ranking.js';
import { latencyStats, memory, progress, type BenchRow } from './harness.js';

const SUITE = 'maintenance';
const WARMUP = 3;
const RUNS = 30;
const STEP_MIN = 15;
const DAY_MS = 86_400_000;
const ALL = ['early', 'late', 'night'];

const calendar = compileCalendar({
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', start: '06:00', end: '14:00' },
    { name: 'late', start: '14:00', end: '22:00' },
    { name: 'night', start: '22:00', end: '06:00' },
  ],
  week: { mon: ALL, tue: ALL, wed: ALL, thu: ALL, fri: ALL, sat: ['early'] },
  plannedStops: [{ name: 'Saturday maintenance', days: ['sat'], from: '06:00', to: '14:00' }],
  holidays: ['2026-04-03', '2026-04-06', '2026-05-01', '2026-10-03', '2026-12-25', '2026-12-26'],
});
const tariff = compileTariff({
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.1 },
  ],
  defaultPeriod: 'offpeak',
});
const T0 = Date.UTC(2026, 0, 5, 5); // Mon 06:00 CET
const rul: RulEstimate = {
  asset: 'bench/line1/press',
  tsMs: T0,
  rulMs: 200 * DAY_MS,
  rulP10Ms: 120 * DAY_MS,
  rulP90Ms: 300 * DAY_MS,
  healthIndex: 0.5,
  quality: 'good',
};
const OPTS: RankOptions = {
  jobDurationMin: 360,
  downtimeCostEurPerHour: 2000,
  failureCostEur: 50_000,
  jobCostEur: 1000,
  horizonDays: 365,
  stepMin: STEP_MIN,
  topN: 5,
};

/** Milliseconds of each of RUNS calls after WARMUP untimed ones; `fn` returns a checksum. */
function time(fn: () => number): { ms: number[]; sink: number } {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    sink += fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms, sink };
}

/** The baseline: production ms in each grid cell, one pointer walking the sorted intervals. */
function sumPerCell(ivs: readonly ShiftInterval[], originMs: number, cells: number, out: Float64Array): number {
  const stepMs = STEP_MIN * 60_000;
  let k = 0;
  let total = 0;
  for (let c = 0; c < cells; c++) {
    const s = originMs + c * stepMs;
    const e = s + stepMs;
    while (k < ivs.length && ivs[k].endMs <= s) k++;
    let sum = 0;
    for (let j = k; j < ivs.length && ivs[j].startMs < e; j++) sum += Math.min(e, ivs[j].endMs) - Math.max(s, ivs[j].startMs);
    out[c] = sum;
    total += sum;
  }
  return total;
}

function row(name: string, count: number, ms: number[], note: string, baseline = false): BenchRow {
  const lat = latencyStats(ms);
  return {
    suite: SUITE,
    case: name,
    ...(baseline ? { baseline } : {}),
    count,
    throughputPerS: count / ((lat.p50Ms ?? NaN) / 1000),
    ...lat,
    ...memory(),
    note,
  };
}

export async function run(): Promise<BenchRow[]> {
  const horizonEndMs = T0 + OPTS.horizonDays * DAY_MS;
  const cells = Math.round((horizonEndMs - T0) / (STEP_MIN * 60_000));
  const ivs = productionIntervals(calendar, T0, horizonEndMs);
  const perCell = new Float64Array(cells);

  progress('maintenance: baseline');
  const base = time(() => sumPerCell(ivs, T0, cells, perCell));
  const baseP50 = latencyStats(base.ms).p50Ms ?? NaN;
  const productionH = base.sink / (WARMUP + RUNS) / 3_600_000;
  const rows: BenchRow[] = [
    row(
      `plain loop summing production minutes per 15-min cell (${cells.toLocaleString('en-US')} cells)`,
      cells,
      base.ms,
      `${productionH.toFixed(0)} production hours in the year; count = grid cells; throughput per second of cells`,
      true,
    ),
  ];
  const vs = (ms: number[]): string => `${((latencyStats(ms).p50Ms ?? NaN) / baseP50).toFixed(1)}× baseline p50`;

  progress('maintenance: calendar expansion');
  const expand = time(() => productionIntervals(calendar, T0, horizonEndMs).length);
  rows.push(
    row(
      'calendar → a year of production intervals',
      ivs.length,
      expand.ms,
      `${ivs.length} intervals (shifts cut by stops and holidays, DST-safe local times); ${vs(expand.ms)}`,
    ),
  );

  for (const [name, opts] of [
    ['rank a year at 15 min, 6-h job, top 5', OPTS],
    ['rank a year at 15 min, 6-h job, top 5, with TOU tariff (energy)', { ...OPTS, tariff, jobPowerKw: 100, restartEnergyKwh: 50 }],
  ] as const) {
    progress(`maintenance: ${name}`);
    let candidates = 0;
    let first = '';
    const r = time(() => {
      const result = rankWindows(calendar, rul, opts);
      candidates = result.candidates;
      first = result.windows[0]?.startLocal ?? 'none';
      return result.windows.length;
    });
    rows.push(
      row(name, candidates, r.ms, `${candidates.toLocaleString('en-US')} candidates, expansion included; rank 1 ${first}; ${vs(r.ms)}`),
    );
  }
  return rows;
}
