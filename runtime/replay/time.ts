/**
 * Time cells of a replay file: ISO-8601 date-times or epoch milliseconds. A time without a zone
 * offset is read as UTC (not the machine's local zone), so a replay gives the same event times on
 * every machine.
 */
import { TwinError } from '../model/errors.js';
import { toEpochMs } from '../model/reading.js';

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH = /^\d+(\.\d+)?$/;

/** Epoch ms of a time cell; throws TwinError('BAD_TIMESTAMP') saying what was expected. */
export function parseReplayTime(raw: string): number {
  const s = raw.trim();
  if (s === '') throw new TwinError('BAD_TIMESTAMP', 'the time is empty');
  if (EPOCH.test(s)) return toEpochMs(s);
  const m = ISO.exec(s);
  if (!m) throw new TwinError('BAD_TIMESTAMP', `not an ISO-8601 time or epoch milliseconds: ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}`);
  let zone = m[3] ?? (m[2] ? 'Z' : '');
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = m[2] ? `${m[1]}T${m[2].replace(',', '.')}${zone.toUpperCase()}` : m[1];
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new TwinError('BAD_TIMESTAMP', `not a valid date or time: ${JSON.stringify(s)}`);
  return t;
}
