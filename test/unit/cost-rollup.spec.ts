import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import type { EnergyCost } from '../../runtime/model/energy.js';
import { compileTariff, type TariffDef } from '../../runtime/energy/tariff.js';
import { CostRollup, billFromCosts, parseShifts, shiftAt } from '../../runtime/energy/cost-rollup.js';
import type { Span } from '../../runtime/energy/energy-integrator.js';

const MIN = 60_000;
const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const EPS = 1e-9;
const span = (startMs: number, endMs: number, amount: number, extra: Partial<Span> = {}): Span => ({
  startMs,
  endMs,
  amount,
  gap: false,
  quality: 'good',
  ...extra,
});

/** UTC: day 06–22 at 0.3, night otherwise at 0.1. */
const dayNight: TariffDef = {
  timeZone: 'UTC',
  periods: [
    { name: 'day', priceEurPerKwh: 0.3, windows: [{ fromHour: 6, toHour: 22 }] },
    { name: 'night', priceEurPerKwh: 0.1 },
  ],
  defaultPeriod: 'night',
  co2KgPerKwh: 0.5,
};

describe('energy: cost rollup', () => {
  it('shifts from text, sorted; bad text is a clear config error', () => {
    expect(parseShifts('22:00 night, 06:00 early; 14:00 late')).to.deep.equal([
      { name: 'early', startMinute: 360 },
      { name: 'late', startMinute: 840 },
      { name: 'night', startMinute: 1320 },
    ]);
    expect(parseShifts('')).to.deep.equal([]);
    expect(() => parseShifts('6am early')).to.throw(TwinError, /shift "6am early" is not "HH:MM name"/);
    expect(() => parseShifts('06:00 a, 06:00 b')).to.throw(TwinError, /start at the same time/);
  });

  it('the shift in force: the night shift runs past midnight; a DST night is an hour shorter', () => {
    const shifts = parseShifts('06:00 early, 14:00 late, 22:00 night');
    const s = shiftAt(utc('2026-03-29T00:30:00Z'), 'Europe/Berlin', shifts); // 01:30 CET on the spring-forward night
    expect(s.name).to.equal('night');
    expect([s.startMs, s.endMs]).to.deep.equal([utc('2026-03-28T21:00:00Z'), utc('2026-03-29T04:00:00Z')]);
    expect(s.endMs - s.startMs).to.equal(7 * H);
  });

  it('a span across a price boundary and an interval boundary is prorated; cost rounded once per record', () => {
    // 05:50–06:20, 30 kWh: interval 05:45–06:00 gets 10 kWh night (1.00 €); 06:00–06:15 gets 15 kWh
    // day (4.50 €); 06:15–06:30 has 5 kWh so far (closes later).
    const r = new CostRollup({ asset: 'a', intervalMinutes: 15 }, compileTariff(dayNight), 'v1');
    const out = r.addEnergy(span(utc('2026-02-02T05:50:00Z'), utc('2026-02-02T06:20:00Z'), 30));
    expect(out).to.have.length(2);
    expect(out[0]).to.include({
      scope: 'interval',
      startMs: utc('2026-02-02T05:45:00Z'),
      costEur: 1,
      gapMs: 5 * MIN,
      quality: 'uncertain',
      tariffVersion: 'v1',
    });
    expect(out[0].qualityReason).to.equal('no data for 300 s');
    expect(out[0].energyKwhByPeriod).to.deep.equal({ day: 0, night: 10 });
    expect(out[0].co2Kg).to.be.closeTo(5, EPS);
    expect(out[1]).to.include({ costEur: 4.5, gapMs: 0, quality: 'good' });
    expect(out[1].energyKwhByPeriod.day).to.be.closeTo(15, EPS);
  });

  it('round once: three pieces of 0.3349 € make 1.00, not 3 × 0.33', () => {
    const t = compileTariff({ timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: 0.3349 }], defaultPeriod: 'flat' });
    const r = new CostRollup({ asset: 'a', intervalMinutes: 15 }, t, 'v');
    const t0 = utc('2026-02-02T10:00:00Z');
    r.addEnergy(span(t0, t0 + 5 * MIN, 1));
    r.addEnergy(span(t0 + 5 * MIN, t0 + 10 * MIN, 1));
    const [rec] = r.addEnergy(span(t0 + 10 * MIN, t0 + 15 * MIN, 1));
    expect(rec.costEur).to.equal(1);
  });

  it('a gap span is no data: bad for a record with nothing else, uncertain with a reason otherwise', () => {
    const r = new CostRollup({ asset: 'a', intervalMinutes: 15 }, compileTariff(dayNight), 'v');
    const t0 = utc('2026-02-02T10:00:00Z');
    r.addEnergy(span(t0, t0 + 10 * MIN, 1));
    const out = r.addEnergy(span(t0 + 10 * MIN, t0 + 40 * MIN, 0, { gap: true, quality: 'bad', reason: 'power gap 1800 s > max gap' }));
    expect(out.map((c) => [c.quality, c.gapMs, c.energyKwh])).to.deep.equal([
      ['uncertain', 5 * MIN, 1],
      ['bad', 15 * MIN, 0],
    ]);
    expect(out[1].qualityReason).to.equal('no data for 900 s; power gap 1800 s > max gap');
  });

  it('secondary quantities wait for the energy data; late ones go to the open record', () => {
    const r = new CostRollup(
      { asset: 'a', intervalMinutes: 15, reactive: true, units: true, unitName: 'kg' },
      compileTariff(dayNight),
      'v',
    );
    const t0 = utc('2026-02-02T10:00:00Z');
    r.addSecondary('units', span(t0, t0 + 20 * MIN, 20)); // ahead of the energy: 15 kg in the first interval, 5 in the second
    const first = r.addEnergy(span(t0, t0 + 20 * MIN, 4));
    expect(first[0]).to.include({ units: 15, unitName: 'kg', reactiveKvarh: 0 });
    expect(first[0].energyKwhPerUnit).to.be.closeTo(3 / 15, EPS);
    expect(first[0].costEurPerUnit).to.be.closeTo((3 * 0.3) / 15, EPS);
    r.addSecondary('reactive', span(t0 + 10 * MIN, t0 + 20 * MIN, 2)); // late: 1 kvarh belongs to a closed interval
    const [second] = r.addEnergy(span(t0 + 20 * MIN, t0 + 30 * MIN, 2));
    expect(second).to.include({ units: 5, reactiveKvarh: 2 });
    // Units arriving after the energy reading that closed their interval: kept for the next record.
    r.addSecondary('units', span(t0 + 20 * MIN, t0 + 30 * MIN, 7));
    const [third] = r.addEnergy(span(t0 + 30 * MIN, t0 + 45 * MIN, 3));
    expect(third).to.include({ units: 7, startMs: t0 + 30 * MIN });
  });

  it('a batch between marks; a mark older than the energy data takes effect where the data is', () => {
    const r = new CostRollup({ asset: 'a', intervalMinutes: 60 }, compileTariff(dayNight), 'v');
    const t0 = utc('2026-02-02T10:00:00Z');
    r.addEnergy(span(t0, t0 + 10 * MIN, 10));
    expect(r.startBatch('B-1', t0 + 5 * MIN)).to.deep.equal([]); // late mark: starts at 10:10
    r.addEnergy(span(t0 + 10 * MIN, t0 + 20 * MIN, 10));
    const b1 = r.endBatch(t0 + 15 * MIN); // late mark: ends at 10:20, at once
    expect(b1).to.have.length(1);
    expect(b1[0]).to.include({
      scope: 'batch',
      label: 'B-1',
      startMs: t0 + 10 * MIN,
      endMs: t0 + 20 * MIN,
      tsMs: t0 + 20 * MIN,
      gapMs: 0,
      quality: 'good',
    });
    expect(b1[0].energyKwh).to.be.closeTo(10, EPS);
    const again = r.startBatch('B-2', t0 + 25 * MIN);
    expect(again).to.deep.equal([]);
    const out = r.addEnergy(span(t0 + 20 * MIN, t0 + 30 * MIN, 10));
    expect(out).to.deep.equal([]);
    const b2 = r.startBatch('B-3', t0 + 30 * MIN); // a new batch ends the running one
    expect(b2).to.have.length(1);
    expect(b2[0]).to.include({ label: 'B-2', startMs: t0 + 25 * MIN, endMs: t0 + 30 * MIN, quality: 'good' });
    expect(b2[0].energyKwh).to.be.closeTo(5, EPS);
  });

  it('a new tariff applies from the next interval; the bill adds the demand charge over the interval records', () => {
    const t1 = compileTariff({ ...dayNight, demandChargeEurPerKw: 2 });
    const r = new CostRollup({ asset: 'a', intervalMinutes: 15 }, t1, 'v1');
    const t0 = utc('2026-02-02T10:00:00Z');
    const recs: EnergyCost[] = [];
    recs.push(...r.addEnergy(span(t0, t0 + 5 * MIN, 1)));
    r.setTariff(
      compileTariff({
        ...dayNight,
        periods: [
          { name: 'day', priceEurPerKwh: 1, windows: [{ fromHour: 6, toHour: 22 }] },
          { name: 'night', priceEurPerKwh: 0.1 },
        ],
      }),
      'v2',
    );
    recs.push(...r.addEnergy(span(t0 + 5 * MIN, t0 + 30 * MIN, 5)));
    expect(recs.map((c) => [c.costEur, c.tariffVersion])).to.deep.equal([
      [0.9, 'v1'],
      [3, 'v2'],
    ]);
    // Bill under the first tariff: 6 kWh × 0.3 = 1.80 + peak 3 kWh / 0.25 h = 12 kW × 2 = 24 → 25.80
    expect(billFromCosts(t1, { startMs: t0, endMs: t0 + H }, recs).totalEur).to.equal(25.8);
  });
});
