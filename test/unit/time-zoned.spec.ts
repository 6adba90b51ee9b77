import { expect } from 'chai';
import { localParts, localToEpochMs } from '../../runtime/time/zoned.js';

const MIN = 60_000;
const H = 60 * MIN;

/**
 * Truth from Intl alone: every instant whose wall clock shows (dateKey, minute) is wall − o for an
 * offset o the zone has at that instant; try every quarter-hour offset from −12:00 to +14:00.
 * None (a skipped time): the instant the clock jumps to, i.e. the wall time shifted by the gap.
 */
function truth(dateKey: string, minute: number, zone: string): number {
  const wallMs = Date.parse(`${dateKey}T00:00:00Z`) + minute * MIN;
  const valid: number[] = [];
  for (let o = -12 * H; o <= 14 * H; o += 15 * MIN) {
    const t = wallMs - o;
    if (localParts(t, zone).offsetMs === o) valid.push(t);
  }
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the first instant after the jump whose wall time is past the skipped one, minus the
  // overshoot; equivalently wall − (offset before the jump).
  const before = localParts(wallMs - 14 * H - 1, zone).offsetMs;
  const t = wallMs - before;
  expect(localParts(t, zone).offsetMs, 'a skipped time lands after the jump').to.be.greaterThan(before);
  return t;
}

// DST transition days (2026), both directions, and a non-DST half-hour zone.
const DAYS: [string, string][] = [
  ['Pacific/Chatham', '2026-04-05'], // +13:45 → +12:45 at 03:45 local
  ['Pacific/Chatham', '2026-09-27'], // +12:45 → +13:45 at 02:45 local
  ['Pacific/Chatham', '2026-04-04'],
  ['Pacific/Chatham', '2026-09-26'],
  ['Pacific/Chatham', '2026-04-06'],
  ['Pacific/Chatham', '2026-09-28'],
  ['Pacific/Chatham', '2026-09-25'],
  ['Pacific/Chatham', '2026-04-03'],
  ['Europe/Berlin', '2026-03-29'],
  ['Europe/Berlin', '2026-10-25'],
  ['America/New_York', '2026-03-08'],
  ['America/New_York', '2026-11-01'],
  ['Asia/Kolkata', '2026-03-29'],
  ['Australia/Lord_Howe', '2026-04-05'], // +11:00 → +10:30 (half-hour DST)
  ['Australia/Lord_Howe', '2026-10-04'], // +10:30 → +11:00
  ['Pacific/Kiritimati', '2026-06-01'], // +14:00
  ['Pacific/Pago_Pago', '2026-06-01'], // −11:00
];

describe('time: localToEpochMs against Intl-derived truth', () => {
  for (const [zone, day] of DAYS) {
    it(`${zone} ${day}: every quarter hour of the day`, () => {
      for (let m = 0; m <= 1440; m += 15) {
        expect(localToEpochMs(day, m, zone), `${day} +${m} min`).to.equal(truth(day, m, zone));
      }
    });
  }

  it('Chatham: the skipped and repeated quarter hours', () => {
    // 2026-09-27 02:45 → 03:45 (+13:45): 03:00 local does not exist; it moves forward by the gap to 04:00 +13:45.
    expect(new Date(localToEpochMs('2026-09-27', 3 * 60, 'Pacific/Chatham')).toISOString()).to.equal('2026-09-26T14:15:00.000Z');
    // 2026-04-05 03:45 → 02:45 (+12:45): 03:00 local happens twice; the first is at +13:45.
    expect(new Date(localToEpochMs('2026-04-05', 3 * 60, 'Pacific/Chatham')).toISOString()).to.equal('2026-04-04T13:15:00.000Z');
  });
});
