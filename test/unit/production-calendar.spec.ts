import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import {
  type CalendarDef,
  compileCalendar,
  plannedStopsIn,
  productionIntervals,
  productionMinutes,
  typicalWeek,
} from '../../runtime/maintenance/production-calendar.js';
import { localIso, localToEpochMs } from '../../runtime/time/zoned.js';

const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const ALL = ['early', 'late', 'night'];
const SHIFTS = [
  { name: 'early', start: '06:00', end: '14:00' },
  { name: 'late', start: '14:00', end: '22:00' },
  { name: 'night', start: '22:00', end: '06:00' },
];
const nightOnly = (timeZone: string, day: 'sat' | 'sun' = 'sat'): CalendarDef => ({ timeZone, shifts: SHIFTS, week: { [day]: ['night'] } });

function expectConfigError(def: unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    compileCalendar(def as CalendarDef);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'compileCalendar should throw').to.be.instanceOf(TwinError);
  expect((caught as TwinError).code).to.equal('BAD_CONFIG');
  for (const p of parts) expect((caught as TwinError).message).to.contain(p);
}

/** The one production interval of a calendar in [from, to), as local ISO strings and hours. */
function only(cal: ReturnType<typeof compileCalendar>, from: string, to: string): [string, string, number] {
  const ivs = productionIntervals(cal, utc(from), utc(to));
  expect(ivs, 'one interval').to.have.length(1);
  return [localIso(ivs[0].startMs, cal.timeZone), localIso(ivs[0].endMs, cal.timeZone), (ivs[0].endMs - ivs[0].startMs) / H];
}

describe('maintenance: production calendar', () => {
  describe('daylight saving', () => {
    it('Europe/Berlin: the night shift 22:00–06:00 lasts 9 h over the autumn-back night, 7 h over the spring-forward one, 8 h otherwise', () => {
      const cal = compileCalendar(nightOnly('Europe/Berlin'));
      expect(only(cal, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).to.deep.equal([
        '2026-10-24T22:00:00+02:00',
        '2026-10-25T06:00:00+01:00',
        9,
      ]);
      expect(only(cal, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).to.deep.equal([
        '2026-03-28T22:00:00+01:00',
        '2026-03-29T06:00:00+02:00',
        7,
      ]);
      expect(only(cal, '2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z')).to.deep.equal([
        '2026-10-31T22:00:00+01:00',
        '2026-11-01T06:00:00+01:00',
        8,
      ]);
    });

    it('America/New_York: the same night shift lasts 9 h on 2026-10-31/11-01 and 7 h on 2026-03-07/08', () => {
      const cal = compileCalendar(nightOnly('America/New_York'));
      expect(only(cal, '2026-10-31T00:00:00Z', '2026-11-02T12:00:00Z')).to.deep.equal([
        '2026-10-31T22:00:00-04:00',
        '2026-11-01T06:00:00-05:00',
        9,
      ]);
      expect(only(cal, '2026-03-07T00:00:00Z', '2026-03-09T12:00:00Z')).to.deep.equal([
        '2026-03-07T22:00:00-05:00',
        '2026-03-08T06:00:00-04:00',
        7,
      ]);
    });

    it('a whole-day shift 00:00–24:00 is 23 h and 25 h long on the Berlin change days', () => {
      const cal = compileCalendar({
        timeZone: 'Europe/Berlin',
        shifts: [{ name: 'day', start: '00:00', end: '24:00' }],
        week: { sun: ['day'] },
      });
      expect(productionMinutes(cal, utc('2026-03-28T00:00:00Z'), utc('2026-03-30T00:00:00Z'))).to.equal(23 * 60);
      expect(productionMinutes(cal, utc('2026-10-24T00:00:00Z'), utc('2026-10-26T00:00:00Z'))).to.equal(25 * 60);
      expect(productionMinutes(cal, utc('2026-06-06T00:00:00Z'), utc('2026-06-08T00:00:00Z'))).to.equal(24 * 60);
    });

    it('Asia/Kolkata (no DST, +05:30): every night shift is 8 h, starting 16:30Z, all year', () => {
      const cal = compileCalendar(nightOnly('Asia/Kolkata'));
      const ivs = productionIntervals(cal, utc('2026-01-01T00:00:00Z'), utc('2027-01-01T00:00:00Z'));
      expect(ivs).to.have.length(52);
      for (const iv of ivs) {
        expect(iv.endMs - iv.startMs).to.equal(8 * H);
        expect(new Date(iv.startMs).toISOString().slice(11, 16)).to.equal('16:30');
      }
      expect(localIso(ivs[0].startMs, 'Asia/Kolkata')).to.equal('2026-01-03T22:00:00+05:30');
    });

    it('a local time the clock skips is the instant it jumps to; a repeated one is the first', () => {
      expect(localIso(localToEpochMs('2026-03-29', 150, 'Europe/Berlin'), 'Europe/Berlin')).to.equal('2026-03-29T03:30:00+02:00');
      expect(localToEpochMs('2026-10-25', 150, 'Europe/Berlin')).to.equal(utc('2026-10-25T00:30:00Z'));
      expect(localToEpochMs('2026-11-01', 90, 'America/New_York')).to.equal(utc('2026-11-01T05:30:00Z'));
      const cal = compileCalendar({
        timeZone: 'Europe/Berlin',
        shifts: [{ name: 'x', start: '02:30', end: '05:00' }],
        week: { sun: ['x'] },
      });
      expect(only(cal, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).to.deep.equal([
        '2026-03-29T03:30:00+02:00',
        '2026-03-29T05:00:00+02:00',
        1.5,
      ]);
    });
  });

  it('a week of three shifts Mon–Fri is 120 h (Friday night runs into Saturday); intervals sorted, disjoint, named', () => {
    const cal = compileCalendar({ timeZone: 'Europe/Berlin', shifts: SHIFTS, week: { mon: ALL, tue: ALL, wed: ALL, thu: ALL, fri: ALL } });
    const from = utc('2026-06-07T22:00:00Z'); // Mon 00:00 CEST
    const ivs = productionIntervals(cal, from, from + 7 * 24 * H);
    expect(ivs.reduce((s, iv) => s + iv.endMs - iv.startMs, 0)).to.equal(120 * H);
    expect(ivs).to.have.length(15);
    for (let i = 1; i < ivs.length; i++) expect(ivs[i].startMs).to.be.at.least(ivs[i - 1].endMs);
    expect(ivs.map((iv) => iv.shift).slice(0, 3)).to.deep.equal(['early', 'late', 'night']);
    expect(localIso(ivs[14].endMs, 'Europe/Berlin')).to.equal('2026-06-13T06:00:00+02:00');
  });

  it('clips intervals to the range asked for', () => {
    const cal = compileCalendar(nightOnly('Europe/Berlin'));
    const ivs = productionIntervals(cal, utc('2026-06-07T01:00:00Z'), utc('2026-06-07T02:00:00Z'));
    expect(ivs).to.deep.equal([{ shift: 'night', startMs: utc('2026-06-07T01:00:00Z'), endMs: utc('2026-06-07T02:00:00Z') }]);
    expect(productionIntervals(cal, utc('2026-06-07T02:00:00Z'), utc('2026-06-07T02:00:00Z'))).to.deep.equal([]);
  });

  it('a holiday has no production: a night shift into it stops at its midnight, one out of it starts at the next midnight', () => {
    const cal = compileCalendar({ timeZone: 'Europe/Berlin', shifts: SHIFTS, week: { thu: ALL, fri: ALL }, holidays: ['2026-12-25'] });
    // Thu 24th: early, late, night cut at 25th 00:00; Fri 25th: only the part of its night shift on the 26th.
    const ivs = productionIntervals(cal, utc('2026-12-23T23:00:00Z'), utc('2026-12-27T23:00:00Z'));
    expect(ivs.map((iv) => [iv.shift, localIso(iv.startMs, 'Europe/Berlin'), localIso(iv.endMs, 'Europe/Berlin')])).to.deep.equal([
      ['early', '2026-12-24T06:00:00+01:00', '2026-12-24T14:00:00+01:00'],
      ['late', '2026-12-24T14:00:00+01:00', '2026-12-24T22:00:00+01:00'],
      ['night', '2026-12-24T22:00:00+01:00', '2026-12-25T00:00:00+01:00'],
      ['night', '2026-12-26T00:00:00+01:00', '2026-12-26T06:00:00+01:00'],
    ]);
  });

  it('planned stops (weekly and dated) are taken out of production and listed by name', () => {
    const cal = compileCalendar({
      timeZone: 'Europe/Berlin',
      shifts: SHIFTS,
      week: { fri: ALL, sat: ALL },
      plannedStops: [
        { name: 'Saturday maintenance', days: ['sat'], from: '06:00', to: '14:00' },
        { name: 'audit', from: '2026-06-12T10:00', to: '2026-06-12T11:30' },
      ],
    });
    const from = utc('2026-06-11T22:00:00Z'); // Fri 00:00 CEST
    const to = from + 3 * 24 * H;
    expect(productionMinutes(cal, from, to)).to.equal((48 - 8 - 1.5) * 60);
    const stops = plannedStopsIn(cal, from, to);
    expect(stops.map((s) => [s.name, localIso(s.startMs, 'Europe/Berlin'), localIso(s.endMs, 'Europe/Berlin')])).to.deep.equal([
      ['audit', '2026-06-12T10:00:00+02:00', '2026-06-12T11:30:00+02:00'],
      ['Saturday maintenance', '2026-06-13T06:00:00+02:00', '2026-06-13T14:00:00+02:00'],
    ]);
    const sat = productionIntervals(cal, utc('2026-06-13T04:00:00Z'), utc('2026-06-13T12:00:00Z'));
    expect(sat).to.deep.equal([], 'Sat 06:00–14:00 is the planned stop');
    it('Pacific/Chatham (+12:45/+13:45): shifts across both transitions start and end where the wall clock says', () => {
      const cal = compileCalendar({
        timeZone: 'Pacific/Chatham',
        shifts: [{ name: 'x', start: '02:30', end: '04:00' }],
        week: { sun: ['x'], sat: ['x'], mon: ['x'] },
      });
      const cases = [
        ['2026-04-03T00:00:00Z', ['2026-04-04', '2026-04-05', '2026-04-06']],
        ['2026-09-25T00:00:00Z', ['2026-09-26', '2026-09-27', '2026-09-28']],
      ] as const;
      const at = (d: string, m: number) => localToEpochMs(d, m, 'Pacific/Chatham');
      for (const [first, days] of cases) {
        const ivs = productionIntervals(cal, utc(first), utc(first) + 4 * 24 * H);
        expect(ivs.map((iv) => [iv.startMs, iv.endMs])).to.deep.equal(days.map((d) => [at(d, 150), at(d, 240)]));
      }
      // 2026-09-27: 02:30 local is at +12:45, 04:00 at +13:45 → 30 min of production; 2026-04-05: 03:45 repeats → 2 h 30.
      const sep = productionIntervals(cal, utc('2026-09-26T00:00:00Z'), utc('2026-09-27T00:00:00Z'));
      expect(sep.map((iv) => localIso(iv.startMs, 'Pacific/Chatham') + ' ' + localIso(iv.endMs, 'Pacific/Chatham'))).to.deep.equal([
        '2026-09-27T02:30:00+12:45 2026-09-27T04:00:00+13:45',
      ]);
      expect(sep[0].endMs - sep[0].startMs).to.equal(30 * 60_000);
    });
  });

  describe('bad definitions get a clear BAD_CONFIG', () => {
    const cases: Array<[string, unknown, string[]]> = [
      ['not an object', 'x', ['must be an object']],
      ['an unknown zone', { ...nightOnly('Mars/Olympus') }, ["unknown time zone 'Mars/Olympus'"]],
      ['a missing zone', { shifts: SHIFTS, week: {} }, ['IANA zone name']],
      [
        'a bad time',
        { timeZone: 'UTC', shifts: [{ name: 'a', start: '25:00', end: '06:00' }], week: {} },
        ["shift 'a' start", "'HH:MM'", '"25:00"'],
      ],
      [
        'a time without a leading zero',
        { timeZone: 'UTC', shifts: [{ name: 'a', start: '6:00', end: '14:00' }], week: {} },
        ["shift 'a' start"],
      ],
      ['minutes past 59', { timeZone: 'UTC', shifts: [{ name: 'a', start: '06:60', end: '14:00' }], week: {} }, ["shift 'a' start"]],
      [
        'a zero-length shift',
        { timeZone: 'UTC', shifts: [{ name: 'a', start: '06:00', end: '06:00' }], week: {} },
        ["shift 'a' starts and ends at 06:00"],
      ],
      ['a shift without a name', { timeZone: 'UTC', shifts: [{ start: '06:00', end: '07:00' }], week: {} }, ['shift 1 needs a name']],
      ['a shift defined twice', { timeZone: 'UTC', shifts: [SHIFTS[0], SHIFTS[0]], week: {} }, ["shift 'early' is defined twice"]],
      [
        'overlapping shifts on one day',
        { timeZone: 'UTC', shifts: [SHIFTS[0], { name: 'mid', start: '10:00', end: '18:00' }], week: { mon: ['early', 'mid'] } },
        ["shifts overlap: 'early' on mon and 'mid' on mon both run on mon from 10:00"],
      ],
      [
        'a night shift overlapping the next day’s early shift',
        {
          timeZone: 'UTC',
          shifts: [{ name: 'long night', start: '22:00', end: '07:00' }, SHIFTS[0]],
          week: { mon: ['long night'], tue: ['early'] },
        },
        ["'long night' on mon and 'early' on tue", 'tue from 06:00'],
      ],
      [
        'Saturday night overlapping Sunday early across the week end',
        {
          timeZone: 'UTC',
          shifts: [{ name: 'long night', start: '22:00', end: '07:00' }, SHIFTS[0]],
          week: { sat: ['long night'], sun: ['early'] },
        },
        ["'early' on sun", "'long night' on sat", 'sun from 06:00'],
      ],
      [
        'an unknown shift in the week',
        { timeZone: 'UTC', shifts: SHIFTS, week: { mon: ['early', 'lunch'] } },
        ['week.mon: unknown shift "lunch"', 'early, late, night'],
      ],
      ['an unknown weekday', { timeZone: 'UTC', shifts: SHIFTS, week: { monday: ['early'] } }, ["unknown weekday 'monday'"]],
      [
        'a shift listed twice on a day',
        { timeZone: 'UTC', shifts: SHIFTS, week: { mon: ['early', 'early'] } },
        ["week.mon lists shift 'early' twice"],
      ],
      ['no week', { timeZone: 'UTC', shifts: SHIFTS }, ['week must be an object']],
      ['a bad holiday', { ...nightOnly('UTC'), holidays: ['2026-02-30'] }, ['holiday 1', "'YYYY-MM-DD'"]],
      [
        'a stop that ends before it starts',
        { ...nightOnly('UTC'), plannedStops: [{ name: 'x', from: '2026-06-01T10:00', to: '2026-06-01T09:00' }] },
        ["'x': to 2026-06-01T09:00 is not after from 2026-06-01T10:00"],
      ],
      [
        'a stop with a bad date-time',
        { ...nightOnly('UTC'), plannedStops: [{ name: 'x', from: '2026-06-01 10:00', to: '2026-06-01T11:00' }] },
        ["'x' from must be a local date-time"],
      ],
      [
        'a weekly stop with an unknown day',
        { ...nightOnly('UTC'), plannedStops: [{ name: 'x', days: ['saturday'], from: '06:00', to: '14:00' }] },
        ['\'x\' days: unknown weekday "saturday"'],
      ],
    ];
    for (const [what, def, parts] of cases) {
      it(what, () => expectConfigError(def, ...parts));
    }
  });

  it('refuses a non-finite range with BAD_TIMESTAMP', () => {
    const cal = compileCalendar(nightOnly('UTC'));
    expect(() => productionIntervals(cal, NaN, 0)).to.throw(TwinError, /finite epoch ms/);
  });
});

describe("maintenance: typical week (the editor's week grid)", () => {
  it('draws shifts Monday first, a night shift on both days it touches, and weekly stops cutting shifts', () => {
    const cal = compileCalendar({
      timeZone: 'Europe/Berlin',
      shifts: SHIFTS,
      week: { mon: ALL, sat: ['early', 'night'] },
      plannedStops: [
        { name: 'Saturday maintenance', days: ['sat'], from: '10:00', to: '12:00' },
        { name: 'audit', from: '2026-03-28T06:00', to: '2026-03-28T14:00' },
      ],
      holidays: ['2026-12-25'],
    });
    const week = typicalWeek(cal);
    expect(week.days.map((d) => d.day)).to.deep.equal(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    const mon = week.days[0];
    expect(mon.shifts).to.deep.equal([
      { fromMin: 360, toMin: 840, name: 'early' },
      { fromMin: 840, toMin: 1320, name: 'late' },
      { fromMin: 1320, toMin: 1440, name: 'night' },
    ]);
    expect(week.days[1].shifts).to.deep.equal([{ fromMin: 0, toMin: 360, name: 'night' }]);
    const sat = week.days[5];
    expect(sat.stops).to.deep.equal([{ fromMin: 600, toMin: 720, name: 'Saturday maintenance' }]);
    expect(sat.shifts).to.deep.equal([
      { fromMin: 360, toMin: 600, name: 'early' },
      { fromMin: 720, toMin: 840, name: 'early' },
      { fromMin: 1320, toMin: 1440, name: 'night' },
    ]);
    // Saturday's night shift runs into Sunday morning.
    expect(week.days[6].shifts).to.deep.equal([{ fromMin: 0, toMin: 360, name: 'night' }]);
    // Monday 3 × 8 h, Saturday early 8 h less the 2 h stop, Saturday night 8 h.
    expect(week.productionMinPerWeek).to.equal((24 + 6 + 8) * 60);
    expect(week).to.include({ datedStops: 1, holidays: 1 });
  });
});
