/**
 * Production calendar of a plant in its IANA time zone: when the line produces, so a maintenance
 * window can be charged for the production it takes away and no more.
 *
 * - Shifts have local start/end 'HH:MM' ('24:00' allowed as an end); end ≤ start means the shift
 *   runs past midnight into the next local date. A shift belongs to the local date it STARTS on:
 *   `week.sat: ['night']` is the night from Saturday 22:00 to Sunday 06:00.
 * - Every instant is found by converting local wall time to epoch ms on its own date, never by
 *   adding fixed hours, so the night shift 22:00–06:00 over the autumn-back night lasts 9 h and
 *   over the spring-forward night 7 h. A local time the clock skips (02:30 on a spring-forward
 *   day) is read as the instant the clock shows it moved to (03:30), one it shows twice as the
 *   first of the two (the 'compatible' rule of ECMAScript Temporal).
 * - A holiday is a local date with no production at all: it also cuts an overnight shift at the
 *   holiday's local midnight (a night shift into Christmas Day stops at 00:00; the one starting
 *   on Christmas evening works only its hours after the next midnight).
 * - Planned stops are production-free ranges: dated ('2026-03-28T06:00'..'2026-03-28T14:00') or
 *   weekly ({ days: ['sat'], from: '06:00', to: '14:00' }, past midnight allowed as for shifts).
 *   They are where maintenance costs no production.
 */
import { badConfig, TwinError } from '../model/errors.js';
import {
  DAY_NAMES,
  type DayName,
  MAX_OFFSET_MS,
  assertTimeZone,
  localParts,
  localToEpochMs,
  offsetMsAt,
  parseLocalDate,
} from '../time/zoned.js';

export interface ShiftDef {
  name: string;
  /** local 'HH:MM' */
  start: string;
  /** local 'HH:MM' or '24:00'; ≤ start = ends on the next local date */
  end: string;
}

export interface PlannedStopDef {
  name?: string;
  /** dated: local 'YYYY-MM-DDTHH:MM'; weekly (with days): local 'HH:MM' */
  from: string;
  to: string;
  /** present = a weekly stop starting on these weekdays */
  days?: DayName[];
}

export interface CalendarDef {
  timeZone: string;
  shifts: ShiftDef[];
  /** which shifts start on which weekday; a missing day has none */
  week: Partial<Record<DayName, string[]>>;
  plannedStops?: PlannedStopDef[];
  /** local dates 'YYYY-MM-DD' without production */
  holidays?: string[];
}

export interface Interval {
  startMs: number;
  endMs: number;
}
export interface ShiftInterval extends Interval {
  shift: string;
}
export interface StopInterval extends Interval {
  name: string;
}

interface Shift {
  name: string;
  startMin: number;
  endMin: number;
}
interface WeeklyStop {
  name: string;
  days: Set<DayName>;
  startMin: number;
  endMin: number;
}

export interface ProductionCalendar {
  readonly def: Readonly<CalendarDef>;
  readonly timeZone: string;
  /** @internal shifts by weekday (0 = Sunday) */
  readonly byWeekday: readonly (readonly Shift[])[];
  /** @internal */
  readonly datedStops: readonly StopInterval[];
  /** @internal */
  readonly weeklyStops: readonly WeeklyStop[];
  /** @internal */
  readonly holidays: ReadonlySet<string>;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const WEEK_MIN = 7 * 1440;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
export const fmtMinute = (m: number): string => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

/** 'HH:MM' → minutes since local midnight (0..1439, or 1440 for '24:00' when allowed). */
function parseHhMm(text: unknown, what: string, allow24: boolean): number {
  const m = typeof text === 'string' ? /^(\d{2}):(\d{2})$/.exec(text) : null;
  const min = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || !(min < 1440 || (allow24 && min === 1440))) {
    badConfig(`production calendar: ${what} must be a local time 'HH:MM'${allow24 ? " (or '24:00')" : ''}, got ${JSON.stringify(text)}`);
  }
  return min;
}

/** Local date key + days. */
function addDays(dateKey: string, days: number): string {
  const d = new Date(Date.parse(`${dateKey}T00:00:00Z`) + days * DAY_MS);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** 'Sat 06:00' in the zone, for explanations. */
export function localShort(tsMs: number, timeZone: string): string {
  const p = localParts(tsMs, timeZone);
  return `${p.weekday[0].toUpperCase()}${p.weekday.slice(1)} ${fmtMinute(p.minuteOfDay)}`;
}

function parseLocalDateTime(text: unknown, what: string): { dateKey: string; minute: number } {
  const m = typeof text === 'string' ? /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/.exec(text) : null;
  if (!m) badConfig(`production calendar: ${what} must be a local date-time 'YYYY-MM-DDTHH:MM', got ${JSON.stringify(text)}`);
  try {
    return { dateKey: parseLocalDate(m[1], what), minute: parseHhMm(m[2], what, false) };
  } catch {
    badConfig(`production calendar: ${what} is not a valid local date-time, got ${JSON.stringify(text)}`);
  }
}

function checkDays(days: unknown, what: string): DayName[] {
  if (!Array.isArray(days) || days.length === 0)
    badConfig(`production calendar: ${what} must be a non-empty list of weekdays (${DAY_NAMES.join(', ')})`);
  for (const d of days)
    if (!DAY_NAMES.includes(d as DayName))
      badConfig(`production calendar: ${what}: unknown weekday ${JSON.stringify(d)} (use ${DAY_NAMES.join(', ')})`);
  return days as DayName[];
}

/** Validates a calendar; every problem is a TwinError('BAD_CONFIG') that says what to fix. */
export function compileCalendar(def: CalendarDef): ProductionCalendar {
  if (!def || typeof def !== 'object' || Array.isArray(def))
    badConfig('production calendar: definition must be an object { timeZone, shifts, week, plannedStops?, holidays? }');
  let timeZone: string;
  try {
    timeZone = assertTimeZone(def.timeZone);
  } catch (err) {
    badConfig(`production calendar: production calendar: ${(err as Error).message.replace(/^tariff /, '')}`);
  }

  if (!Array.isArray(def.shifts)) badConfig('production calendar: shifts must be a list of { name, start, end }');
  const shifts = new Map<string, Shift>();
  def.shifts.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || s.name.trim() === '') badConfig(`production calendar: shift ${i + 1} needs a name`);
    if (shifts.has(s.name)) badConfig(`production calendar: shift '${s.name}' is defined twice`);
    const startMin = parseHhMm(s.start, `shift '${s.name}' start`, false);
    const endMin = parseHhMm(s.end, `shift '${s.name}' end`, true);
    if (startMin === endMin)
      badConfig(
        `production calendar: shift '${s.name}' starts and ends at ${s.start}: a shift lasts less than 24 h (split a 24-hour day into shifts)`,
      );
    shifts.set(s.name, { name: s.name, startMin, endMin: endMin < startMin ? endMin + 1440 : endMin });
  });

  if (!def.week || typeof def.week !== 'object' || Array.isArray(def.week))
    badConfig('production calendar: week must be an object such as { "mon": ["early", "late"] }');
  const byWeekday: Shift[][] = DAY_NAMES.map(() => []);
  for (const [day, names] of Object.entries(def.week)) {
    const d = DAY_NAMES.indexOf(day as DayName);
    if (d < 0) badConfig(`production calendar: week: unknown weekday '${day}' (use ${DAY_NAMES.join(', ')})`);
    if (!Array.isArray(names)) badConfig(`production calendar: week.${day} must be a list of shift names`);
    for (const n of names) {
      const s = shifts.get(n);
      if (!s)
        badConfig(
          `production calendar: week.${day}: unknown shift ${JSON.stringify(n)} (defined: ${[...shifts.keys()].join(', ') || 'none'})`,
        );
      if (byWeekday[d].includes(s)) badConfig(`production calendar: week.${day} lists shift '${n}' twice`);
      byWeekday[d].push(s);
    }
  }
  // Overlap on the wall clock over a circular week (Saturday's night shift runs into Sunday).
  const spans: { label: string; from: number; to: number }[] = [];
  byWeekday.forEach((list, d) => {
    for (const s of list) {
      const from = d * 1440 + s.startMin;
      const to = d * 1440 + s.endMin;
      spans.push({ label: `'${s.name}' on ${DAY_NAMES[d]}`, from, to });
      if (to > WEEK_MIN) spans.push({ label: `'${s.name}' on ${DAY_NAMES[d]}`, from: from - WEEK_MIN, to: to - WEEK_MIN });
    }
  });
  spans.sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1];
    const b = spans[i];
    if (b.from < a.to) {
      const at = ((b.from % WEEK_MIN) + WEEK_MIN) % WEEK_MIN;
      badConfig(
        `production calendar: shifts overlap: ${a.label} and ${b.label} both run on ${DAY_NAMES[Math.floor(at / 1440)]} from ${fmtMinute(at % 1440)}`,
      );
    }
  }

  const holidays = new Set<string>();
  (Array.isArray(def.holidays) ? def.holidays : def.holidays === undefined ? [] : [def.holidays]).forEach((h, i) => {
    try {
      holidays.add(parseLocalDate(h, `holiday ${i + 1}`));
    } catch (err) {
      badConfig(`production calendar: production calendar: ${(err as Error).message}`);
    }
  });

  const datedStops: StopInterval[] = [];
  const weeklyStops: WeeklyStop[] = [];
  if (def.plannedStops !== undefined && !Array.isArray(def.plannedStops)) badConfig('production calendar: plannedStops must be a list');
  (def.plannedStops ?? []).forEach((p, i) => {
    if (!p || typeof p !== 'object') badConfig(`production calendar: planned stop ${i + 1} must be an object { name?, from, to, days? }`);
    const name = typeof p.name === 'string' && p.name.trim() !== '' ? p.name : `planned stop ${i + 1}`;
    if (p.days !== undefined) {
      const days = new Set(checkDays(p.days, `'${name}' days`));
      const startMin = parseHhMm(p.from, `'${name}' from`, false);
      const endMin = parseHhMm(p.to, `'${name}' to`, true);
      if (startMin === endMin) badConfig(`production calendar: '${name}' from and to are both ${p.from}`);
      weeklyStops.push({ name, days, startMin, endMin: endMin < startMin ? endMin + 1440 : endMin });
      return;
    }
    const from = parseLocalDateTime(p.from, `'${name}' from`);
    const to = parseLocalDateTime(p.to, `'${name}' to`);
    const startMs = localToEpochMs(from.dateKey, from.minute, timeZone);
    const endMs = localToEpochMs(to.dateKey, to.minute, timeZone);
    if (endMs <= startMs) badConfig(`production calendar: '${name}': to ${p.to} is not after from ${p.from}`);
    datedStops.push({ name, startMs, endMs });
  });
  datedStops.sort((a, b) => a.startMs - b.startMs);

  return { def, timeZone, byWeekday, datedStops, weeklyStops, holidays };
}

function checkRange(fromMs: number, toMs: number): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs))
    throw new TwinError('BAD_TIMESTAMP', `production calendar: range must be finite epoch ms, got ${fromMs}..${toMs}`);
}

/** Local dates whose shifts or stops can reach into [fromMs, toMs) (one day early for overnight ones). */
function datesCovering(cal: ProductionCalendar, fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  const last = localParts(toMs, cal.timeZone).dateKey;
  for (let d = addDays(localParts(fromMs, cal.timeZone).dateKey, -1); d <= last; d = addDays(d, 1)) out.push(d);
  return out;
}

const weekdayOf = (dateKey: string): number => new Date(`${dateKey}T00:00:00Z`).getUTCDay();

/**
 * localToEpochMs for many times of a few dates: most local dates have one UTC offset from 14 h
 * before their midnight to 14 h after the next, and then a wall time converts with one subtraction
 * (one Intl lookup per date, ~10 µs, instead of three per time: a year of shifts in a few ms).
 */
class LocalClock {
  private readonly offsets = new Map<string, number | null>();
  /** offsetMsAt by instant (shared by neighbouring dates) */
  private readonly at = new Map<number, number>();
  constructor(readonly timeZone: string) {}

  private offset(tsMs: number): number {
    let o = this.at.get(tsMs);
    if (o === undefined) this.at.set(tsMs, (o = offsetMsAt(tsMs, this.timeZone)));
    return o;
  }

  epochMs(dateKey: string, minuteOfDay: number): number {
    let off = this.offsets.get(dateKey);
    if (off === undefined) {
      const dayMs = Date.parse(`${dateKey}T00:00:00Z`);
      // Wall times of date d (and up to 24:00) are instants within 14 h of [d 00:00, d+1 00:00] as UTC.
      const a = this.offset(dayMs - MAX_OFFSET_MS);
      off = a === this.offset(dayMs + DAY_MS + MAX_OFFSET_MS) ? a : null;
      this.offsets.set(dateKey, off);
    }
    return off === null
      ? localToEpochMs(dateKey, minuteOfDay, this.timeZone)
      : Date.parse(`${dateKey}T00:00:00Z`) + minuteOfDay * MINUTE_MS - off;
  }

  /** Epoch range of a wall-clock span starting on local date d (endMin > 1440: on the next date). */
  span(d: string, span: { startMin: number; endMin: number }): [number, number] {
    const endMs = span.endMin > 1440 ? this.epochMs(addDays(d, 1), span.endMin - 1440) : this.epochMs(d, span.endMin);
    return [this.epochMs(d, span.startMin), endMs];
  }
}

/** Sorted production-free ranges that cut shifts: planned stops and holidays. */
function cutsIn(cal: ProductionCalendar, clock: LocalClock, dates: string[], fromMs: number, toMs: number): StopInterval[] {
  const cuts = stopsIn(cal, clock, dates, fromMs, toMs);
  for (const d of dates) {
    if (cal.holidays.has(d)) cuts.push({ name: `holiday ${d}`, startMs: clock.epochMs(d, 0), endMs: clock.epochMs(d, 1440) });
  }
  return cuts.sort((a, b) => a.startMs - b.startMs);
}

/** Planned stops (dated and weekly) that overlap [fromMs, toMs), clipped to it, sorted by start. */
export function plannedStopsIn(cal: ProductionCalendar, fromMs: number, toMs: number): StopInterval[] {
  checkRange(fromMs, toMs);
  return stopsIn(cal, new LocalClock(cal.timeZone), datesCovering(cal, fromMs, toMs), fromMs, toMs);
}

function stopsIn(cal: ProductionCalendar, clock: LocalClock, dates: string[], fromMs: number, toMs: number): StopInterval[] {
  const out: StopInterval[] = [];
  const push = (name: string, s: number, e: number): void => {
    const startMs = Math.max(s, fromMs);
    const endMs = Math.min(e, toMs);
    if (endMs > startMs) out.push({ name, startMs, endMs });
  };
  for (const s of cal.datedStops) push(s.name, s.startMs, s.endMs);
  for (const d of dates) {
    const day = DAY_NAMES[weekdayOf(d)];
    for (const w of cal.weeklyStops) {
      if (!w.days.has(day)) continue;
      const [startMs, endMs] = clock.span(d, w);
      push(w.name, startMs, endMs);
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/**
 * Production time in [fromMs, toMs): one interval per shift occurrence (or per piece of it left by
 * stops and holidays), sorted, non-overlapping, clipped to the range.
 */
export function productionIntervals(cal: ProductionCalendar, fromMs: number, toMs: number): ShiftInterval[] {
  checkRange(fromMs, toMs);
  if (toMs <= fromMs) return [];
  const dates = datesCovering(cal, fromMs, toMs);
  const clock = new LocalClock(cal.timeZone);
  const shifts: ShiftInterval[] = [];
  for (const d of dates) {
    for (const s of cal.byWeekday[weekdayOf(d)]) {
      const [startMs, endMs] = clock.span(d, s);
      if (endMs > fromMs && startMs < toMs && endMs > startMs)
        shifts.push({ shift: s.name, startMs: Math.max(startMs, fromMs), endMs: Math.min(endMs, toMs) });
    }
  }
  shifts.sort((a, b) => a.startMs - b.startMs);
  return subtract(shifts, cutsIn(cal, clock, dates, fromMs, toMs));
}

/** Pieces of sorted, disjoint `intervals` outside every cut (cuts sorted by start, may overlap). */
function subtract(intervals: ShiftInterval[], cuts: Interval[]): ShiftInterval[] {
  const out: ShiftInterval[] = [];
  let c = 0;
  for (const iv of intervals) {
    while (c < cuts.length && cuts[c].endMs <= iv.startMs) c++;
    let t = iv.startMs;
    for (let k = c; k < cuts.length && cuts[k].startMs < iv.endMs; k++) {
      if (cuts[k].startMs > t) out.push({ shift: iv.shift, startMs: t, endMs: cuts[k].startMs });
      t = Math.max(t, cuts[k].endMs);
    }
    if (t < iv.endMs) out.push({ shift: iv.shift, startMs: t, endMs: iv.endMs });
  }
  return out;
}

/** Production minutes in [fromMs, toMs). */
export function productionMinutes(cal: ProductionCalendar, fromMs: number, toMs: number): number {
  return productionIntervals(cal, fromMs, toMs).reduce((sum, iv) => sum + (iv.endMs - iv.startMs), 0) / MINUTE_MS;
}

export interface WeekSegment {
  /** local minutes [fromMin, toMin) of the day */
  fromMin: number;
  toMin: number;
  name: string;
}

export interface TypicalWeek {
  /** Monday first; a night shift past midnight shows on both days it touches */
  days: { day: DayName; shifts: WeekSegment[]; stops: WeekSegment[] }[];
  /** production minutes of such a week (shifts less weekly stops) */
  productionMinPerWeek: number;
  datedStops: number;
  holidays: number;
}

/**
 * A week of shifts and weekly planned stops on the wall clock, without holidays and dated stops
 * (counted apart): what an editor draws as a week grid. Built from the compiled calendar, so
 * it shows what productionIntervals uses.
 */
export function typicalWeek(cal: ProductionCalendar): TypicalWeek {
  // One slot per minute of the circular week (Sunday 00:00 = 0, as DAY_NAMES): 10 080 entries.
  const shiftAt: (string | null)[] = new Array<string | null>(WEEK_MIN).fill(null);
  const stopAt: (string | null)[] = new Array<string | null>(WEEK_MIN).fill(null);
  const paint = (slots: (string | null)[], d: number, span: { startMin: number; endMin: number }, name: string): void => {
    for (let m = d * 1440 + span.startMin; m < d * 1440 + span.endMin; m++) slots[m % WEEK_MIN] = name;
  };
  cal.byWeekday.forEach((list, d) => list.forEach((s) => paint(shiftAt, d, s, s.name)));
  for (const w of cal.weeklyStops) DAY_NAMES.forEach((day, d) => w.days.has(day) && paint(stopAt, d, w, w.name));

  const runs = (slots: (string | null)[], d: number, keep: (m: number) => boolean): WeekSegment[] => {
    const out: WeekSegment[] = [];
    for (let m = 0; m < 1440; m++) {
      const name = slots[d * 1440 + m];
      if (name === null || !keep(d * 1440 + m)) continue;
      const last = out[out.length - 1];
      if (last && last.name === name && last.toMin === m) last.toMin = m + 1;
      else out.push({ fromMin: m, toMin: m + 1, name });
    }
    return out;
  };
  const order = [1, 2, 3, 4, 5, 6, 0];
  let productionMinPerWeek = 0;
  for (let m = 0; m < WEEK_MIN; m++) if (shiftAt[m] !== null && stopAt[m] === null) productionMinPerWeek++;
  return {
    days: order.map((d) => ({
      day: DAY_NAMES[d],
      shifts: runs(shiftAt, d, (m) => stopAt[m] === null),
      stops: runs(stopAt, d, () => true),
    })),
    productionMinPerWeek,
    datedStops: cal.datedStops.length,
    holidays: cal.holidays.size,
  };
}
