/**
 * Time cells of a replay file: ISO-8601 date-times or epoch milliseconds. A time without a zone
 * offset is read as UTC (not the machine's local zone), so a replay gives the same event times on
 * every machine.
 */
import { TwinError } from '../model/errors.js';
import { toEpochMs } from '../model/reading.js';

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH = /^\d+(\.\d+)?$/;

/** Times a plant's history can hold: 1970-01-01 up to (not including) 2200-01-01 UTC. */
export const MIN_REPLAY_MS = 0;
export const MAX_REPLAY_MS = Date.UTC(2200, 0, 1);

function inRange(t: number, s: string): number {
  if (!(t >= MIN_REPLAY_MS && t < MAX_REPLAY_MS)) {
    throw new TwinError('BAD_TIMESTAMP', `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)} is outside 1970-01-01..2199-12-31`);
  }
  return t;
}

/** Date.parse rolls 2026-02-30 over to 2 March: a date must name a day its month has. */
function checkCalendar(date: string, s: string): void {
  const [y, mo, d] = date.split('-').map(Number);
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) {
    throw new TwinError('BAD_TIMESTAMP', `not a calendar date: ${JSON.stringify(s)}`);
  }
}

/** Epoch ms of a time cell; throws TwinError('BAD_TIMESTAMP') saying what was expected. */
export function parseReplayTime(raw: string): number {
  const s = raw.trim();
  if (s === '') throw new TwinError('BAD_TIMESTAMP', 'the time is empty');
  if (EPOCH.test(s)) return inRange(toEpochMs(s), s);
  const m = ISO.exec(s);
  if (!m)
    throw new TwinError(
      'BAD_TIMESTAMP',
      `not an ISO-8601 time or epoch milliseconds: ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}`,
    );
  checkCalendar(m[1], s);
  if (m[2] && !/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?/.test(m[2])) {
    throw new TwinError('BAD_TIMESTAMP', `not a time of day: ${JSON.stringify(s)}`);
  }
  let zone = m[3] ?? (m[2] ? 'Z' : '');
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = m[2] ? `${m[1]}T${m[2].replace(',', '.')}${zone.toUpperCase()}` : m[1];
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new TwinError('BAD_TIMESTAMP', `not a valid date or time: ${JSON.stringify(s)}`);
  return inRange(t, s);
}
