import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { type TariffDef, compileTariff, periodAt, splitByPeriod, weekPlan } from '../../runtime/energy/tariff.js';
import { localParts, nextLocalBoundaryMs } from '../../runtime/time/zoned.js';

const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);

/** Peak Mon–Fri 08–20 local, off-peak everywhere else. */
const berlinTou: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.2 },
  ],
  defaultPeriod: 'offpeak',
  holidays: ['2026-12-25'],
};

function expectConfigError(def: TariffDef, ...parts: string[]): TwinError {
  let caught: unknown;
  try {
    compileTariff(def);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'compileTariff should throw').to.be.instanceOf(TwinError);
  const err = caught as TwinError;
  expect(err.code).to.equal('BAD_CONFIG');
  for (const p of parts) expect(err.message).to.contain(p);
  return err;
}

describe('energy: tariff calendar (local wall time via Intl)', () => {
  it('reads Berlin local time on both sides of the spring-forward and fall-back transitions', () => {
    // 2026-03-29 01:00Z: 02:00 CET jumps to 03:00 CEST.
    expect(localParts(utc('2026-03-29T00:59:00Z'), 'Europe/Berlin')).to.include({ hour: 1, minute: 59, offsetMs: H, weekday: 'sun' });
    expect(localParts(utc('2026-03-29T01:00:00Z'), 'Europe/Berlin')).to.include({ hour: 3, minute: 0, offsetMs: 2 * H });
    // 2026-10-25 01:00Z: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    expect(localParts(utc('2026-10-25T00:30:00Z'), 'Europe/Berlin')).to.include({ hour: 2, minute: 30, offsetMs: 2 * H });
    expect(localParts(utc('2026-10-25T01:30:00Z'), 'Europe/Berlin')).to.include({
      hour: 2,
      minute: 30,
      offsetMs: H,
      dateKey: '2026-10-25',
    });
  });

  it('finds the DST transition as a boundary when no window edge comes first', () => {
    // From local 00:30 CET on the spring-forward day, with only midnight as a boundary, the next
    // change is the offset jump at 01:00Z, not local midnight.
    expect(nextLocalBoundaryMs(utc('2026-03-28T23:30:00Z'), 'Europe/Berlin', [0, 1440])).to.equal(utc('2026-03-29T01:00:00Z'));
    // After it, next local midnight is 22:00Z (CEST): a 23-hour day.
    expect(nextLocalBoundaryMs(utc('2026-03-29T01:00:00Z'), 'Europe/Berlin', [0, 1440])).to.equal(utc('2026-03-29T22:00:00Z'));
    // Fall back: 02:30 CEST → 01:00Z transition, then local 02:30 CET again at 01:30Z.
    expect(nextLocalBoundaryMs(utc('2026-10-25T00:30:00Z'), 'Europe/Berlin', [0, 150, 1440])).to.equal(utc('2026-10-25T01:00:00Z'));
    expect(nextLocalBoundaryMs(utc('2026-10-25T01:00:00Z'), 'Europe/Berlin', [0, 150, 1440])).to.equal(utc('2026-10-25T01:30:00Z'));
  });
});

describe('energy: tariff definition and price period of an instant', () => {
  const t = compileTariff(berlinTou);

  it('prices by local hours and weekdays (Berlin winter is UTC+1)', () => {
    expect(periodAt(t, utc('2026-01-07T06:59:59Z')).name).to.equal('offpeak'); // Wed 07:59:59
    expect(periodAt(t, utc('2026-01-07T07:00:00Z')).name).to.equal('peak'); // Wed 08:00 (from is inclusive)
    expect(periodAt(t, utc('2026-01-07T18:59:00Z')).name).to.equal('peak'); // Wed 19:59
    expect(periodAt(t, utc('2026-01-07T19:00:00Z')).name).to.equal('offpeak'); // Wed 20:00 (to is exclusive)
    expect(periodAt(t, utc('2026-01-10T10:00:00Z')).name).to.equal('offpeak'); // Sat 11:00
  });

  it('prices by local hours in summer time (Berlin UTC+2)', () => {
    expect(periodAt(t, utc('2026-07-01T06:30:00Z')).name).to.equal('peak'); // Wed 08:30 CEST
    expect(periodAt(t, utc('2026-07-01T05:30:00Z')).name).to.equal('offpeak'); // Wed 07:30 CEST
  });

  it('treats a holiday as its own day type, not its weekday', () => {
    expect(periodAt(t, utc('2026-12-25T10:00:00Z')).name).to.equal('offpeak'); // Fri 11:00, holiday
    expect(periodAt(t, utc('2026-12-24T10:00:00Z')).name).to.equal('peak'); // Thu 11:00
  });

  it('uses seasons (month-day ranges, one wrapping the year end)', () => {
    const s = compileTariff({
      timeZone: 'Europe/Berlin',
      seasons: [
        { name: 'summer', from: '04-01', to: '09-30' },
        { name: 'winter', from: '10-01', to: '03-31' },
      ],
      periods: [
        {
          name: 'summer-peak',
          priceEurPerKwh: 0.35,
          windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], seasons: ['summer'], fromHour: 11, toHour: 17 }],
        },
        {
          name: 'winter-peak',
          priceEurPerKwh: 0.3,
          windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], seasons: ['winter'], fromHour: 7.5, toHour: 19 }],
        },
        { name: 'base', priceEurPerKwh: 0.18 },
      ],
      defaultPeriod: 'base',
    });
    expect(periodAt(s, utc('2026-09-30T10:00:00Z')).name).to.equal('summer-peak'); // Wed 12:00 CEST, last summer day
    expect(periodAt(s, utc('2026-10-01T10:00:00Z')).name).to.equal('winter-peak'); // Thu 12:00 CEST, first winter day
    expect(periodAt(s, utc('2026-01-07T06:30:00Z')).name).to.equal('winter-peak'); // Wed 07:30 CET
    expect(periodAt(s, utc('2026-01-07T06:29:00Z')).name).to.equal('base'); // Wed 07:29 CET
    expect(periodAt(s, utc('2026-06-03T08:00:00Z')).name).to.equal('base'); // Wed 10:00 CEST: summer peak starts at 11
  });

  it('prices the repeated 02:xx hour of the fall-back day and the missing one of spring-forward', () => {
    const night = compileTariff({
      timeZone: 'Europe/Berlin',
      periods: [
        { name: 'night', priceEurPerKwh: 0.1, windows: [{ fromHour: 0, toHour: 2.5 }] },
        { name: 'day', priceEurPerKwh: 0.25, windows: [{ fromHour: 2.5, toHour: 24 }] },
      ],
    });
    // 02:15 CEST and 02:15 CET are both night; 02:45 of both are day.
    expect(periodAt(night, utc('2026-10-25T00:15:00Z')).name).to.equal('night');
    expect(periodAt(night, utc('2026-10-25T01:15:00Z')).name).to.equal('night');
    expect(periodAt(night, utc('2026-10-25T00:45:00Z')).name).to.equal('day');
    expect(periodAt(night, utc('2026-10-25T01:45:00Z')).name).to.equal('day');
    // Spring forward: 01:59 CET is night, the next minute is 03:00 CEST: day.
    expect(periodAt(night, utc('2026-03-29T00:59:00Z')).name).to.equal('night');
    expect(periodAt(night, utc('2026-03-29T01:00:00Z')).name).to.equal('day');
    // Splitting the fall-back night: night 00:00 CEST..02:30 CEST, day 02:30..03:00 CEST,
    // night again 02:00 CET..02:30 CET, then day.
    const segs = splitByPeriod(night, utc('2026-10-24T22:00:00Z'), utc('2026-10-25T03:00:00Z'));
    expect(segs.map((x) => [new Date(x.startMs).toISOString(), x.period.name])).to.deep.equal([
      ['2026-10-24T22:00:00.000Z', 'night'],
      ['2026-10-25T00:30:00.000Z', 'day'],
      ['2026-10-25T01:00:00.000Z', 'night'],
      ['2026-10-25T01:30:00.000Z', 'day'],
    ]);
  });

  it('New York: peak 14–19 local follows EDT after 2026-03-08', () => {
    const ny = compileTariff({
      timeZone: 'America/New_York',
      periods: [
        { name: 'on-peak', priceEurPerKwh: 0.4, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 14, toHour: 19 }] },
        { name: 'off-peak', priceEurPerKwh: 0.12 },
      ],
      defaultPeriod: 'off-peak',
    });
    expect(periodAt(ny, utc('2026-03-06T19:00:00Z')).name).to.equal('on-peak'); // Fri 14:00 EST (UTC-5)
    expect(periodAt(ny, utc('2026-03-09T18:00:00Z')).name).to.equal('on-peak'); // Mon 14:00 EDT (UTC-4)
    expect(periodAt(ny, utc('2026-03-09T23:00:00Z')).name).to.equal('off-peak'); // Mon 19:00 EDT
    expect(periodAt(ny, utc('2026-03-09T22:59:00Z')).name).to.equal('on-peak'); // Mon 18:59 EDT
  });

  it('has the documented defaults', () => {
    expect(t.demandBlockMinutes).to.equal(15);
    expect(t.demandChargeEurPerKw).to.equal(0);
    expect(t.fixedFeeEurPerPeriod).to.equal(0);
    expect(t.co2KgPerKwh).to.equal(0);
    expect(t.powerFactorPenalty).to.equal(null);
  });
});

describe('energy: tariff bad configuration', () => {
  it('unknown time zone → BAD_CONFIG naming the zone', () => {
    expectConfigError({ ...berlinTou, timeZone: 'Europe/Atlantis' }, "unknown time zone 'Europe/Atlantis'");
    expectConfigError({ ...berlinTou, timeZone: '' }, 'IANA');
  });

  it('overlapping periods → BAD_CONFIG naming both and where', () => {
    expectConfigError(
      {
        ...berlinTou,
        periods: [...berlinTou.periods, { name: 'shoulder', priceEurPerKwh: 0.25, windows: [{ days: ['fri'], fromHour: 18, toHour: 22 }] }],
      },
      'overlap',
      "'peak' window 1",
      "'shoulder' window 1",
      'on fri',
      '18:00–20:00',
    );
  });

  it('windows in different seasons do not overlap; in a shared season they do', () => {
    const seasons = [
      { name: 'summer', from: '04-01', to: '09-30' },
      { name: 'winter', from: '10-01', to: '03-31' },
    ];
    const p = (name: string, season: string) => ({ name, priceEurPerKwh: 0.3, windows: [{ seasons: [season], fromHour: 8, toHour: 20 }] });
    expect(() =>
      compileTariff({
        timeZone: 'UTC',
        seasons,
        periods: [p('a', 'summer'), p('b', 'winter'), { name: 'c', priceEurPerKwh: 0.1 }],
        defaultPeriod: 'c',
      }),
    ).not.to.throw();
    expectConfigError(
      { timeZone: 'UTC', seasons, periods: [p('a', 'summer'), p('b', 'summer'), { name: 'c', priceEurPerKwh: 0.1 }], defaultPeriod: 'c' },
      "'a' window 1",
      "'b' window 1",
      "season 'summer'",
    );
  });

  it('overlapping seasons, gaps without a default, bad hours, unknown names → clear BAD_CONFIG', () => {
    expectConfigError(
      {
        timeZone: 'UTC',
        seasons: [
          { name: 'summer', from: '04-01', to: '09-30' },
          { name: 'late', from: '09-15', to: '12-31' },
        ],
        periods: [{ name: 'x', priceEurPerKwh: 0.1 }],
        defaultPeriod: 'x',
      },
      "seasons 'summer' and 'late' overlap",
      '09-15',
    );
    expectConfigError(
      { timeZone: 'UTC', periods: [{ name: 'day', priceEurPerKwh: 0.2, windows: [{ fromHour: 6, toHour: 22 }] }] },
      'no period covers',
      '00:00–06:00',
    );
    expectConfigError(
      { timeZone: 'UTC', periods: [{ name: 'n', priceEurPerKwh: 0.1, windows: [{ fromHour: 22, toHour: 6 }] }] },
      'two windows',
    );
    expectConfigError({ timeZone: 'UTC', periods: [{ name: 'n', priceEurPerKwh: 0.1, windows: [{ fromHour: 0, toHour: 25 }] }] }, 'toHour');
    expectConfigError({ timeZone: 'UTC', periods: [{ name: 'n', priceEurPerKwh: -0.1 }], defaultPeriod: 'n' }, 'priceEurPerKwh');
    expectConfigError({ timeZone: 'UTC', periods: [{ name: 'n', priceEurPerKwh: 0.1 }], defaultPeriod: 'm' }, "defaultPeriod 'm'");
    expectConfigError({ ...berlinTou, demandBlockMinutes: 0 }, 'demandBlockMinutes');
    expectConfigError({ ...berlinTou, holidays: ['2026-02-30'] }, 'holiday 1');
    expectConfigError(
      {
        timeZone: 'UTC',
        periods: [{ name: 'n', priceEurPerKwh: 0.1, windows: [{ days: ['mon', 'funday' as 'sun'], fromHour: 0, toHour: 24 }] }],
        defaultPeriod: 'n',
      },
      "unknown day 'funday'",
    );
  });
});

describe("energy: tariff week plan (the editor's week grid)", () => {
  it('gives each day type its periods on the wall clock, as periodAt prices them', () => {
    const plan = weekPlan(compileTariff(berlinTou));
    expect(plan.map((p) => p.season)).to.deep.equal([null]);
    const days = plan[0].days;
    expect(days.map((d) => d.day)).to.deep.equal(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'holiday']);
    expect(days[0].segments).to.deep.equal([
      { fromMin: 0, toMin: 480, period: 'offpeak' },
      { fromMin: 480, toMin: 1200, period: 'peak' },
      { fromMin: 1200, toMin: 1440, period: 'offpeak' },
    ]);
    expect(days[5].segments).to.deep.equal([{ fromMin: 0, toMin: 1440, period: 'offpeak' }]);
    expect(days[7].segments).to.deep.equal([{ fromMin: 0, toMin: 1440, period: 'offpeak' }]);
    // Monday 2026-03-02 09:00 Berlin is what the plan says.
    expect(periodAt(compileTariff(berlinTou), utc('2026-03-02T08:00:00Z')).name).to.equal('peak');
  });

  it('plans every season, and the dates outside every season when some are', () => {
    const def: TariffDef = {
      timeZone: 'UTC',
      seasons: [{ name: 'winter', from: '12-01', to: '02-28' }],
      periods: [
        { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon'], seasons: ['winter'], fromHour: 7.5, toHour: 20 }] },
        { name: 'base', priceEurPerKwh: 0.2 },
      ],
      defaultPeriod: 'base',
    };
    const plan = weekPlan(compileTariff(def));
    expect(plan.map((p) => p.season)).to.deep.equal(['winter', null]);
    expect(plan[0].days[0].segments.map((s) => [s.fromMin, s.period])).to.deep.equal([
      [0, 'base'],
      [450, 'peak'],
      [1200, 'base'],
    ]);
    expect(plan[1].days[0].segments).to.deep.equal([{ fromMin: 0, toMin: 1440, period: 'base' }]);
  });
});
