/**
 * Local wall time in an IANA time zone, through Intl.DateTimeFormat (no dependency): the one home
 * of the zone arithmetic that tariffs (energy) and production calendars (maintenance) share.
 * Tariff periods and shifts are written in local wall time; UTC offsets are never assumed fixed
 * (23- and 25-hour days happen, and offsets run from −12:00 to +14:00, e.g. Pacific/Chatham +13:45).
 */
import { TwinError } from '../model/errors.js';

export type DayName = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
export const DAY_NAMES: readonly DayName[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface LocalParts {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: DayName;
  /** local date, 'YYYY-MM-DD' */
  dateKey: string;
  /** minutes since local midnight, 0..1439 */
  minuteOfDay: number;
  /** local wall time minus UTC, ms (e.g. +3_600_000 for CET) */
  offsetMs: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Largest |UTC offset| of any zone (Pacific/Kiritimati +14:00). */
export const MAX_OFFSET_MS = 14 * 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws TwinError('BAD_CONFIG') naming the zone when Intl does not know it. */
export function assertTimeZone(timeZone: unknown): string {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') {
    throw new TwinError('BAD_CONFIG', `time zone must be an IANA zone name such as 'Europe/Berlin', got ${JSON.stringify(timeZone)}`);
  }
  formatter(timeZone);
  return timeZone;
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        weekday: 'short',
      });
    } catch (err) {
      throw new TwinError('BAD_CONFIG', `unknown time zone '${timeZone}' (expected an IANA name such as 'Europe/Berlin')`, { cause: err });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function localParts(tsMs: number, timeZone: string): LocalParts {
  const parts = formatter(timeZone).formatToParts(new Date(tsMs));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  const year = Number(get('year'));
  const month = Number(get('month'));
  const day = Number(get('day'));
  const hour = Number(get('hour'));
  const minute = Number(get('minute'));
  const second = Number(get('second'));
  const weekday = get('weekday').slice(0, 3).toLowerCase() as DayName;
  const wholeSecondMs = Math.floor(tsMs / 1000) * 1000;
  const offsetMs = Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecondMs;
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    weekday,
    dateKey: `${pad(year, 4)}-${pad(month)}-${pad(day)}`,
    minuteOfDay: hour * 60 + minute,
    offsetMs,
  };
}

export function offsetMsAt(tsMs: number, timeZone: string): number {
  return localParts(tsMs, timeZone).offsetMs;
}

/**
 * The first instant after tsMs at which the local minute-of-day reaches one of boundaryMinutes
 * (0..1440; local midnight is always one) or the UTC offset changes (a DST transition).
 * Between tsMs and that instant, the local date, weekday and which boundaries we are between stay
 * the same, so anything defined on those is constant. Assumes at most one offset change within a
 * local day (true of every IANA zone today).
 */
export function nextLocalBoundaryMs(tsMs: number, timeZone: string, boundaryMinutes: readonly number[]): number {
  const offsetMs = offsetMsAt(tsMs, timeZone);
  const localMs = tsMs + offsetMs;
  const dayStartLocalMs = Math.floor(localMs / DAY_MS) * DAY_MS;
  const sinceMidnightMs = localMs - dayStartLocalMs;
  let nextSinceMidnightMs = DAY_MS;
  for (const m of boundaryMinutes) {
    const bMs = m * MINUTE_MS;
    if (bMs > sinceMidnightMs && bMs < nextSinceMidnightMs) nextSinceMidnightMs = bMs;
  }
  const candidateMs = dayStartLocalMs + nextSinceMidnightMs - offsetMs;
  if (offsetMsAt(candidateMs, timeZone) === offsetMs) return candidateMs;
  // A transition lies in (tsMs, candidateMs]: find its first millisecond.
  let lo = tsMs;
  let hi = candidateMs;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMsAt(mid, timeZone) === offsetMs) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** 'MM-DD' → [month, day]; throws BAD_CONFIG. */
export function parseMonthDay(text: unknown, what: string): [number, number] {
  const m = typeof text === 'string' ? /^(\d{2})-(\d{2})$/.exec(text) : null;
  const month = m ? Number(m[1]) : NaN;
  const day = m ? Number(m[2]) : NaN;
  const maxDay = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (!m || !maxDay || day < 1 || day > maxDay) {
    throw new TwinError('BAD_CONFIG', `${what} must be a month-day 'MM-DD', got ${JSON.stringify(text)}`);
  }
  return [month, day];
}

/** 'YYYY-MM-DD' local date check; throws BAD_CONFIG. */
export function parseLocalDate(text: unknown, what: string): string {
  const m = typeof text === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) : null;
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]))
      return text as string;
  }
  throw new TwinError('BAD_CONFIG', `${what} must be a local date 'YYYY-MM-DD', got ${JSON.stringify(text)}`);
}

/**
 * The epoch ms at which the zone's wall clock shows `minuteOfDay` (0..1440) on local date `dateKey`.
 * Skipped times move forward by the gap (a shift edge in the spring-forward hour starts when the clock
 * jumps), repeated times take the first occurrence.
 */
export function localToEpochMs(dateKey: string, minuteOfDay: number, timeZone: string): number {
  const wallMs = Date.parse(`${dateKey}T00:00:00Z`) + minuteOfDay * MINUTE_MS;
  // The instant is wall − offset, offsets span −12:00..+14:00, so it lies within 14 h of the wall time;
  // the offsets at those two ends are the candidates (at most one change in between). Sampling only
  // ±12 h missed a Pacific/Chatham change (+13:45) and came out an hour off.
  const before = offsetMsAt(wallMs - MAX_OFFSET_MS, timeZone);
  const after = offsetMsAt(wallMs + MAX_OFFSET_MS, timeZone);
  const valid = [before, after].map((o) => wallMs - o).filter((t) => wallMs - offsetMsAt(t, timeZone) === t);
  if (valid.length > 0) return Math.min(...valid);
  return wallMs - before; // in the gap: the offset before the change lands after it
}

/** ISO 8601 local time with offset, e.g. '2026-10-25T02:30:00+01:00'. */
export function localIso(tsMs: number, timeZone: string): string {
  const p = localParts(tsMs, timeZone);
  const off = Math.round(p.offsetMs / MINUTE_MS);
  const sign = off < 0 ? '-' : '+';
  return `${p.dateKey}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}
