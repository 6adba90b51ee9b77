/**
 * Energy tariff: a validated definition and the price period of an instant.
 *
 * Time-of-use windows are in LOCAL wall time of the tariff's IANA zone (DST-safe: a 23- or
 * 25-hour day simply has fewer or more hours in whichever windows its wall clock passes through).
 * A day is typed by its weekday, except that a holiday (a local date in `holidays`) is the day
 * type 'holiday' instead of its weekday (the usual "holidays are priced like Sundays" rule is
 * written as days: ['sun', 'holiday']).
 *
 * Power-factor penalty form (the French TURPE / many EU DSO form): reactive energy above
 * maxTanPhi × active energy over the billing period is charged per kvarh:
 *   excessKvarh = max(0, Σ kvarh − maxTanPhi × Σ kWh),  penalty = excessKvarh × priceEurPerKvarh.
 * tan φ 0.4 ≈ cos φ 0.93; the German "50 % of active energy" rule is maxTanPhi 0.5.
 *
 * The record type lives here until runtime/model/ gets an energy record (see the TARIFF report).
 */
import { badConfig, TwinError } from '../model/errors.js';
import { DAY_NAMES, type DayName, assertTimeZone, localParts, nextLocalBoundaryMs, parseLocalDate, parseMonthDay } from '../time/zoned.js';

export type DayType = DayName | 'holiday';
const DAY_TYPES: readonly DayType[] = [...DAY_NAMES, 'holiday'];

export interface TariffWindowDef {
  /** day types the window applies to; default: every day type including 'holiday' */
  days?: DayType[];
  /** season names the window applies to; default: all dates, in a season or not */
  seasons?: string[];
  /** local hours [fromHour, toHour), 0 ≤ from < to ≤ 24, on the minute (7.5 = 07:30); no wrap past midnight */
  fromHour: number;
  toHour: number;
}

export interface TariffPeriodDef {
  name: string;
  priceEurPerKwh: number;
  windows?: TariffWindowDef[];
}

export interface SeasonDef {
  name: string;
  /** inclusive month-day range 'MM-DD'; from > to wraps the year end ('10-01'..'03-31') */
  from: string;
  to: string;
}

export interface TariffDef {
  timeZone: string;
  periods: TariffPeriodDef[];
  /** name of the period that applies wherever no window does; without it the windows must cover every hour */
  defaultPeriod?: string;
  seasons?: SeasonDef[];
  /** local dates 'YYYY-MM-DD' */
  holidays?: string[];
  /** charge per kW of the largest block-average power in the billing period */
  demandChargeEurPerKw?: number;
  /** demand block length, default 15 */
  demandBlockMinutes?: number;
  powerFactorPenalty?: { maxTanPhi: number; priceEurPerKvarh: number };
  fixedFeeEurPerPeriod?: number;
  co2KgPerKwh?: number;
}

export interface PricePeriod {
  name: string;
  priceEurPerKwh: number;
}

interface Window {
  period: PricePeriod;
  label: string;
  days: Set<DayType>;
  /** null = any date */
  seasons: Set<string> | null;
  fromMin: number;
  toMin: number;
}

export interface Tariff {
  readonly def: Readonly<TariffDef>;
  readonly timeZone: string;
  readonly periods: readonly PricePeriod[];
  readonly demandChargeEurPerKw: number;
  readonly demandBlockMinutes: number;
  readonly powerFactorPenalty: { maxTanPhi: number; priceEurPerKvarh: number } | null;
  readonly fixedFeeEurPerPeriod: number;
  readonly co2KgPerKwh: number;
  /** @internal */
  readonly windows: readonly Window[];
  /** @internal */
  readonly defaultPeriod: PricePeriod | null;
  /** @internal sorted local minutes at which a window starts or ends */
  readonly boundaryMinutes: readonly number[];
  /** @internal [name, startDayOfYear, endDayOfYear] in a leap year, inclusive */
  readonly seasons: readonly { name: string; from: [number, number]; to: [number, number] }[];
  /** @internal */
  readonly holidays: ReadonlySet<string>;
}

function nonNegative(value: unknown, what: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    badConfig(`tariff: ${what} must be a finite number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function hourToMinute(h: unknown, what: string): number {
  if (typeof h !== 'number' || !Number.isFinite(h) || h < 0 || h > 24)
    badConfig(`tariff: ${what} must be an hour 0..24, got ${JSON.stringify(h)}`);
  const min = Math.round(h * 60);
  if (Math.abs(min - h * 60) > 1e-6) badConfig(`tariff: ${what} must fall on a whole minute, got ${h}`);
  return min;
}

const fmtMin = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Leap-year day index of a month-day, for season membership. */
function dayIndex([month, day]: [number, number]): number {
  return (Date.UTC(2024, month - 1, day) - Date.UTC(2024, 0, 1)) / 86_400_000;
}

function inSeason(s: { from: [number, number]; to: [number, number] }, idx: number): boolean {
  const a = dayIndex(s.from);
  const b = dayIndex(s.to);
  return a <= b ? idx >= a && idx <= b : idx >= a || idx <= b;
}

/** Validates a definition; every problem is a TwinError('BAD_CONFIG') that says what to fix. */
export function compileTariff(def: TariffDef): Tariff {
  if (!def || typeof def !== 'object') badConfig('tariff: definition must be an object');
  const timeZone = assertTimeZone(def.timeZone);

  const seasons = (def.seasons ?? []).map((s, i) => {
    if (!s || typeof s.name !== 'string' || !s.name) badConfig(`tariff: season ${i + 1} needs a name`);
    return { name: s.name, from: parseMonthDay(s.from, `season '${s.name}' from`), to: parseMonthDay(s.to, `season '${s.name}' to`) };
  });
  const seasonNames = new Set<string>();
  for (const s of seasons) {
    if (seasonNames.has(s.name)) badConfig(`tariff: season '${s.name}' is defined twice`);
    seasonNames.add(s.name);
  }
  // Seasons must not share a date.
  let anyDateWithoutSeason = seasons.length === 0;
  for (let idx = 0; idx < 366; idx++) {
    const hit = seasons.filter((s) => inSeason(s, idx));
    if (hit.length > 1) {
      const d = new Date(Date.UTC(2024, 0, 1 + idx));
      badConfig(
        `tariff: seasons '${hit[0].name}' and '${hit[1].name}' overlap (both contain ${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')})`,
      );
    }
    if (hit.length === 0) anyDateWithoutSeason = true;
  }

  const holidays = new Set((def.holidays ?? []).map((h, i) => parseLocalDate(h, `holiday ${i + 1}`)));

  if (!Array.isArray(def.periods) || def.periods.length === 0) badConfig('tariff: needs at least one period');
  const periods: PricePeriod[] = [];
  const windows: Window[] = [];
  for (const p of def.periods) {
    if (!p || typeof p.name !== 'string' || !p.name) badConfig('tariff: every period needs a name');
    if (periods.some((q) => q.name === p.name)) badConfig(`tariff: period '${p.name}' is defined twice (give it several windows instead)`);
    const period: PricePeriod = { name: p.name, priceEurPerKwh: nonNegative(p.priceEurPerKwh, `period '${p.name}' priceEurPerKwh`) };
    periods.push(period);
    (p.windows ?? []).forEach((w, i) => {
      const label = `'${p.name}' window ${i + 1}`;
      const fromMin = hourToMinute(w?.fromHour, `${label} fromHour`);
      const toMin = hourToMinute(w?.toHour, `${label} toHour`);
      if (fromMin >= toMin) {
        badConfig(
          `tariff: ${label}: fromHour ${w.fromHour} must be before toHour ${w.toHour} (a window past midnight is two windows: [from, 24) and [0, to))`,
        );
      }
      const days = new Set<DayType>(w.days ?? DAY_TYPES);
      for (const d of days) if (!DAY_TYPES.includes(d)) badConfig(`tariff: ${label}: unknown day '${d}' (use ${DAY_TYPES.join(', ')})`);
      if (days.size === 0) badConfig(`tariff: ${label}: days is empty`);
      let seasonSet: Set<string> | null = null;
      if (w.seasons !== undefined) {
        seasonSet = new Set(w.seasons);
        for (const s of seasonSet) if (!seasonNames.has(s)) badConfig(`tariff: ${label}: unknown season '${s}'`);
        if (seasonSet.size === 0) badConfig(`tariff: ${label}: seasons is empty`);
      }
      windows.push({ period, label, days, seasons: seasonSet, fromMin, toMin });
    });
  }

  let defaultPeriod: PricePeriod | null = null;
  if (def.defaultPeriod !== undefined) {
    defaultPeriod = periods.find((p) => p.name === def.defaultPeriod) ?? null;
    if (!defaultPeriod) badConfig(`tariff: defaultPeriod '${def.defaultPeriod}' is not one of the periods`);
  }

  // Overlap and coverage, checked over every (day type, season) the calendar can produce.
  const seasonDomain: (string | null)[] = [...seasonNames, ...(anyDateWithoutSeason ? [null] : [])];
  for (const day of DAY_TYPES) {
    for (const season of seasonDomain) {
      const here = windows.filter((w) => w.days.has(day) && (w.seasons === null || (season !== null && w.seasons.has(season))));
      const where = `on ${day}${season ? ` in season '${season}'` : seasonNames.size ? ' outside every season' : ''}`;
      for (let i = 0; i < here.length; i++) {
        for (let j = i + 1; j < here.length; j++) {
          const from = Math.max(here[i].fromMin, here[j].fromMin);
          const to = Math.min(here[i].toMin, here[j].toMin);
          if (from < to)
            badConfig(`tariff: periods overlap: ${here[i].label} and ${here[j].label} both cover ${where} ${fmtMin(from)}–${fmtMin(to)}`);
        }
      }
      if (!defaultPeriod) {
        const sorted = [...here].sort((a, b) => a.fromMin - b.fromMin);
        let covered = 0;
        for (const w of sorted) {
          if (w.fromMin > covered) break;
          covered = Math.max(covered, w.toMin);
        }
        if (covered < 1440) {
          const gapEnd = sorted.find((w) => w.fromMin > covered)?.fromMin ?? 1440;
          badConfig(`tariff: no period covers ${where} ${fmtMin(covered)}–${fmtMin(gapEnd)} (add a window or a defaultPeriod)`);
        }
      }
    }
  }

  const demandBlockMinutes = def.demandBlockMinutes ?? 15;
  if (!Number.isInteger(demandBlockMinutes) || demandBlockMinutes <= 0 || demandBlockMinutes > 1440) {
    badConfig(`tariff: demandBlockMinutes must be a whole number of minutes 1..1440, got ${JSON.stringify(def.demandBlockMinutes)}`);
  }
  let powerFactorPenalty: Tariff['powerFactorPenalty'] = null;
  if (def.powerFactorPenalty !== undefined) {
    powerFactorPenalty = {
      maxTanPhi: nonNegative(def.powerFactorPenalty?.maxTanPhi, 'powerFactorPenalty.maxTanPhi'),
      priceEurPerKvarh: nonNegative(def.powerFactorPenalty?.priceEurPerKvarh, 'powerFactorPenalty.priceEurPerKvarh'),
    };
  }

  const boundaries = new Set<number>([0, 1440]);
  for (const w of windows) boundaries.add(w.fromMin).add(w.toMin);

  return {
    def,
    timeZone,
    periods,
    windows,
    defaultPeriod,
    boundaryMinutes: [...boundaries].sort((a, b) => a - b),
    seasons,
    holidays,
    demandChargeEurPerKw: nonNegative(def.demandChargeEurPerKw, 'demandChargeEurPerKw', 0),
    demandBlockMinutes,
    powerFactorPenalty,
    fixedFeeEurPerPeriod: nonNegative(def.fixedFeeEurPerPeriod, 'fixedFeeEurPerPeriod', 0),
    co2KgPerKwh: nonNegative(def.co2KgPerKwh, 'co2KgPerKwh', 0),
  };
}

/** The period of a local minute on a day type in a season (null: a date outside every season). */
function periodOn(tariff: Tariff, day: DayType, season: string | null, minuteOfDay: number): PricePeriod | null {
  for (const w of tariff.windows) {
    if (!w.days.has(day)) continue;
    if (w.seasons !== null && (season === null || !w.seasons.has(season))) continue;
    if (minuteOfDay >= w.fromMin && minuteOfDay < w.toMin) return w.period;
  }
  return tariff.defaultPeriod;
}

/** The price period in force at an instant (its local wall time decides). */
export function periodAt(tariff: Tariff, tsMs: number): PricePeriod {
  if (!Number.isFinite(tsMs)) throw new TwinError('BAD_TIMESTAMP', `tariff: instant must be finite epoch ms, got ${tsMs}`);
  const lp = localParts(tsMs, tariff.timeZone);
  const day: DayType = tariff.holidays.has(lp.dateKey) ? 'holiday' : lp.weekday;
  const idx = dayIndex([lp.month, lp.day]);
  const season = tariff.seasons.find((s) => inSeason(s, idx))?.name ?? null;
  const period = periodOn(tariff, day, season, lp.minuteOfDay);
  // compileTariff proved coverage, so null is a bug.
  if (!period) throw new Error(`tariff: no period at ${new Date(tsMs).toISOString()}`);
  return period;
}

export interface DayPlanSegment {
  /** local minutes [fromMin, toMin) of the day */
  fromMin: number;
  toMin: number;
  period: string;
}

export interface SeasonWeekPlan {
  /** null: the dates outside every season (or a tariff without seasons) */
  season: string | null;
  days: { day: DayType; segments: DayPlanSegment[] }[];
}

/** Monday first, as a plant's week is read; holidays last. */
const PLAN_DAYS: readonly DayType[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'holiday'];

/**
 * The price periods of each day type, season by season, on the local wall clock: what an editor
 * draws as a week grid. Same matching as periodAt (one copy of the rules).
 */
export function weekPlan(tariff: Tariff): SeasonWeekPlan[] {
  const domain: (string | null)[] = tariff.seasons.map((s) => s.name);
  let outside = domain.length === 0;
  for (let idx = 0; idx < 366 && !outside; idx++) outside = !tariff.seasons.some((s) => inSeason(s, idx));
  if (outside) domain.push(null);
  const cuts = tariff.boundaryMinutes;
  return domain.map((season) => ({
    season,
    days: PLAN_DAYS.map((day) => {
      const segments: DayPlanSegment[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const name = periodOn(tariff, day, season, cuts[i])?.name ?? '';
        const last = segments[segments.length - 1];
        if (last && last.period === name) last.toMin = cuts[i + 1];
        else segments.push({ fromMin: cuts[i], toMin: cuts[i + 1], period: name });
      }
      return { day, segments };
    }),
  }));
}

export interface PeriodSegment {
  startMs: number;
  endMs: number;
  period: PricePeriod;
}

/** [startMs, endMs) cut where the price period changes (adjacent pieces of one period merged). */
export function splitByPeriod(tariff: Tariff, startMs: number, endMs: number): PeriodSegment[] {
  const out: PeriodSegment[] = [];
  let t = startMs;
  while (t < endMs) {
    const next = Math.min(endMs, nextLocalBoundaryMs(t, tariff.timeZone, tariff.boundaryMinutes));
    const period = periodAt(tariff, t);
    const last = out[out.length - 1];
    if (last && last.period === period && last.endMs === t) last.endMs = next;
    else out.push({ startMs: t, endMs: next, period });
    t = next;
  }
  return out;
}
