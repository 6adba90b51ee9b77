import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { type TariffDef, compileTariff } from '../../runtime/energy/tariff.js';
import { type IntervalEnergy, computeBill, roundToCent } from '../../runtime/energy/bill.js';

const MIN = 60_000;
const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const EPS = 1e-9;

/** Equal intervals of stepMs from startMs to endMs, energy and kvarh chosen per interval start. */
function intervals(
  startMs: number,
  endMs: number,
  stepMs: number,
  kwh: (s: number) => number,
  kvarh?: (s: number) => number,
): IntervalEnergy[] {
  const out: IntervalEnergy[] = [];
  for (let s = startMs; s < endMs; s += stepMs)
    out.push({ startMs: s, endMs: s + stepMs, energyKwh: kwh(s), ...(kvarh ? { reactiveKvarh: kvarh(s) } : {}) });
  return out;
}

function charge(bill: ReturnType<typeof computeBill>, period: string): { energyKwh: number; chargeEur: number } {
  const row = bill.energyCharges.find((c) => c.period === period);
  expect(row, `row for ${period}`).to.not.equal(undefined);
  return row!;
}

function expectError(fn: () => unknown, code: string, ...parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').to.be.instanceOf(TwinError);
  expect((caught as TwinError).code).to.equal(code);
  for (const p of parts) expect((caught as TwinError).message).to.contain(p);
}

/** Berlin: peak Mon–Fri 08:00–20:00 local at 0.30 €/kWh, off-peak otherwise at 0.20 €/kWh. */
const berlinWeek: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.2 },
  ],
  defaultPeriod: 'offpeak',
  demandChargeEurPerKw: 8,
  powerFactorPenalty: { maxTanPhi: 0.4, priceEurPerKvarh: 0.05 },
  fixedFeeEurPerPeriod: 25,
  co2KgPerKwh: 0.4,
};

describe('energy: bill computed by hand', () => {
  // Week Mon 2026-01-05 00:00 CET (= 2026-01-04T23:00Z) .. Mon 2026-01-12 00:00 CET.
  const weekStart = utc('2026-01-04T23:00:00Z');
  const weekEnd = utc('2026-01-11T23:00:00Z');
  const spikeStart = utc('2026-01-07T09:15:00Z'); // Wed 10:15 CET, a peak hour

  it('a week: two TOU periods, a demand peak, a power-factor penalty, fixed fee, CO2', () => {
    // 672 quarter hours of 2.5 kWh (10 kW) with 1.25 kvarh (tan φ 0.5), except Wed 10:15–10:30
    // CET: 12.5 kWh (50 kW) with 6.25 kvarh.
    //   energy   = 671 × 2.5 + 12.5           = 1690 kWh;  kvarh = 845
    //   peak     = 5 days × 12 h × 4 = 240 q-h: 239 × 2.5 + 12.5 = 610 kWh × 0.30 = 183.00
    //   off-peak = 672 − 240 = 432 q-h × 2.5 = 1080 kWh × 0.20                       = 216.00
    //   demand   = 12.5 kWh / 0.25 h = 50 kW × 8.00                                  = 400.00
    //   PF       = 845 − 0.4 × 1690 = 845 − 676 = 169 kvarh × 0.05                    =   8.45
    //   fixed                                                                         =  25.00
    //   total                                                                         = 832.45
    //   CO2      = 1690 × 0.4 = 676 kg
    const data = intervals(
      weekStart,
      weekEnd,
      15 * MIN,
      (s) => (s === spikeStart ? 12.5 : 2.5),
      (s) => (s === spikeStart ? 6.25 : 1.25),
    );
    expect(data).to.have.length(672);
    const bill = computeBill(compileTariff(berlinWeek), { startMs: weekStart, endMs: weekEnd }, data);
    expect(charge(bill, 'peak').energyKwh).to.be.closeTo(610, EPS);
    expect(charge(bill, 'peak').chargeEur).to.be.closeTo(183, EPS);
    expect(charge(bill, 'offpeak').energyKwh).to.be.closeTo(1080, EPS);
    expect(charge(bill, 'offpeak').chargeEur).to.be.closeTo(216, EPS);
    expect(bill.energyKwh).to.be.closeTo(1690, EPS);
    expect(bill.demand.peakKw).to.be.closeTo(50, EPS);
    expect(bill.demand.peakBlockStartMs).to.equal(spikeStart);
    expect(bill.demand.peakBlockEndMs).to.equal(spikeStart + 15 * MIN);
    expect(bill.demand.chargeEur).to.be.closeTo(400, EPS);
    expect(bill.powerFactor!.tanPhi).to.be.closeTo(0.5, EPS);
    expect(bill.powerFactor!.excessKvarh).to.be.closeTo(169, EPS);
    expect(bill.powerFactor!.penaltyEur).to.be.closeTo(8.45, EPS);
    expect(bill.fixedFeeEur).to.equal(25);
    expect(bill.co2Kg).to.be.closeTo(676, EPS);
    expect(bill.totalEur).to.equal(832.45);
  });

  it('no power-factor penalty at tan φ 0.3 (below 0.4); the demand block length is configurable', () => {
    // Same week, kvarh = 0.3 × kWh → no excess. 30-minute blocks: Wed 10:00–10:30 CET holds
    // 2.5 + 12.5 = 15 kWh / 0.5 h = 30 kW × 8.00 = 240.00.
    //   total = 183.00 + 216.00 + 240.00 + 0 + 25.00 = 664.00
    const data = intervals(
      weekStart,
      weekEnd,
      15 * MIN,
      (s) => (s === spikeStart ? 12.5 : 2.5),
      (s) => (s === spikeStart ? 3.75 : 0.75),
    );
    const bill = computeBill(compileTariff({ ...berlinWeek, demandBlockMinutes: 30 }), { startMs: weekStart, endMs: weekEnd }, data);
    expect(bill.powerFactor!.excessKvarh).to.equal(0);
    expect(bill.powerFactor!.penaltyEur).to.equal(0);
    expect(bill.demand.peakKw).to.be.closeTo(30, EPS);
    expect(bill.demand.peakBlockStartMs).to.equal(utc('2026-01-07T09:00:00Z'));
    expect(bill.totalEur).to.equal(664);
  });

  it('an interval across a period boundary is prorated by time', () => {
    // Tue 2026-01-06: 07:45–08:15 CET, 3 kWh → 1.5 off-peak + 1.5 peak;
    //                 19:50–20:30 CET, 4 kWh over 40 min → 10 min peak = 1 kWh, 30 min off-peak = 3 kWh.
    //   peak 2.5 kWh × 0.30 = 0.75;  off-peak 4.5 kWh × 0.20 = 0.90;  total 1.65 (no demand/fee here)
    const t = compileTariff({ ...berlinWeek, demandChargeEurPerKw: 0, fixedFeeEurPerPeriod: 0, powerFactorPenalty: undefined });
    const bill = computeBill(t, { startMs: utc('2026-01-05T23:00:00Z'), endMs: utc('2026-01-06T23:00:00Z') }, [
      { startMs: utc('2026-01-06T06:45:00Z'), endMs: utc('2026-01-06T07:15:00Z'), energyKwh: 3 },
      { startMs: utc('2026-01-06T18:50:00Z'), endMs: utc('2026-01-06T19:30:00Z'), energyKwh: 4 },
    ]);
    expect(charge(bill, 'peak').energyKwh).to.be.closeTo(2.5, EPS);
    expect(charge(bill, 'offpeak').energyKwh).to.be.closeTo(4.5, EPS);
    expect(bill.energyChargeEur).to.be.closeTo(1.65, EPS);
    expect(bill.totalEur).to.equal(1.65);
    expect(bill.powerFactor).to.equal(null);
  });

  it('an interval across demand blocks and across the billing period edge is prorated by time', () => {
    // UTC, one price 0.10. Interval 10:10–10:40, 30 kWh: blocks from 00:00 get 5 (10:00–10:15),
    // 15 (10:15–10:30), 10 (10:30–10:45) kWh → peak 15 / 0.25 h = 60 kW × 1.00 = 60.00.
    // Interval 23:30 (day before)–00:30, 2 kWh: half inside the bill → 1 kWh.
    //   energy 31 kWh × 0.10 = 3.10; total 63.10
    const t = compileTariff({
      timeZone: 'UTC',
      periods: [{ name: 'flat', priceEurPerKwh: 0.1 }],
      defaultPeriod: 'flat',
      demandChargeEurPerKw: 1,
    });
    const bill = computeBill(t, { startMs: utc('2026-02-02T00:00:00Z'), endMs: utc('2026-02-03T00:00:00Z') }, [
      { startMs: utc('2026-02-01T23:30:00Z'), endMs: utc('2026-02-02T00:30:00Z'), energyKwh: 2 },
      { startMs: utc('2026-02-02T10:10:00Z'), endMs: utc('2026-02-02T10:40:00Z'), energyKwh: 30 },
    ]);
    expect(bill.energyKwh).to.be.closeTo(31, EPS);
    expect(bill.demand.peakKw).to.be.closeTo(60, EPS);
    expect(bill.demand.peakBlockStartMs).to.equal(utc('2026-02-02T10:15:00Z'));
    expect(bill.totalEur).to.equal(63.1);
  });

  describe('daylight-saving days', () => {
    /** night 00–06 at 0.10, day 06–22 at 0.25, evening 22–24 at 0.15, every day; 2.00 €/kW demand. */
    const dstTariff = compileTariff({
      timeZone: 'Europe/Berlin',
      periods: [
        { name: 'night', priceEurPerKwh: 0.1, windows: [{ fromHour: 0, toHour: 6 }] },
        { name: 'day', priceEurPerKwh: 0.25, windows: [{ fromHour: 6, toHour: 22 }] },
        { name: 'evening', priceEurPerKwh: 0.15, windows: [{ fromHour: 22, toHour: 24 }] },
      ],
      demandChargeEurPerKw: 2,
    });

    it('Berlin spring forward (Sun 2026-03-29, a 23-hour day)', () => {
      // Local 00:00 CET = 03-28T23:00Z .. 24:00 CEST = 03-29T22:00Z: 23 hourly intervals of 10 kWh.
      // Local hours 00, 01, (02 skipped), 03, 04, 05 → night 5 h = 50 kWh × 0.10 =  5.00
      //   06..21 → day 16 h = 160 kWh × 0.25                                     = 40.00
      //   22, 23 → evening 2 h = 20 kWh × 0.15                                   =  3.00
      //   demand 10 kW × 2.00                                                    = 20.00
      //   total                                                                  = 68.00
      const start = utc('2026-03-28T23:00:00Z');
      const end = utc('2026-03-29T22:00:00Z');
      const data = intervals(start, end, H, () => 10);
      expect(data).to.have.length(23);
      const bill = computeBill(dstTariff, { startMs: start, endMs: end }, data);
      expect(charge(bill, 'night').energyKwh).to.be.closeTo(50, EPS);
      expect(charge(bill, 'day').energyKwh).to.be.closeTo(160, EPS);
      expect(charge(bill, 'evening').energyKwh).to.be.closeTo(20, EPS);
      expect(bill.demand.peakKw).to.be.closeTo(10, EPS);
      expect(bill.totalEur).to.equal(68);
    });

    it('Berlin fall back (Sun 2026-10-25, a 25-hour day)', () => {
      // Local 00:00 CEST = 10-24T22:00Z .. 24:00 CET = 10-25T23:00Z: 25 hourly intervals of 10 kWh.
      // Local hours 00, 01, 02 (CEST), 02 (CET), 03, 04, 05 → night 7 h = 70 kWh × 0.10 =  7.00
      //   day 16 h = 160 kWh × 0.25                                                   = 40.00
      //   evening 2 h = 20 kWh × 0.15                                                 =  3.00
      //   demand 10 kW × 2.00                                                         = 20.00
      //   total                                                                       = 70.00
      const start = utc('2026-10-24T22:00:00Z');
      const end = utc('2026-10-25T23:00:00Z');
      const data = intervals(start, end, H, () => 10);
      expect(data).to.have.length(25);
      const bill = computeBill(dstTariff, { startMs: start, endMs: end }, data);
      expect(charge(bill, 'night').energyKwh).to.be.closeTo(70, EPS);
      expect(charge(bill, 'day').energyKwh).to.be.closeTo(160, EPS);
      expect(charge(bill, 'evening').energyKwh).to.be.closeTo(20, EPS);
      expect(bill.totalEur).to.equal(70);
    });

    it('America/New_York across DST start (Sun 2026-03-08) with a weekday on-peak', () => {
      // on-peak Mon–Fri 14:00–19:00 local at 0.40, off-peak 0.12. Hourly 10 kWh from
      // Sun 00:00 EST (03-08T05:00Z) to Tue 00:00 EDT (03-10T04:00Z): 23 + 24 = 47 h.
      //   on-peak: Mon 14..18 EDT = 18Z..23Z, 5 h = 50 kWh × 0.40 = 20.00
      //   off-peak: 42 h = 420 kWh × 0.12                          = 50.40
      //   total                                                    = 70.40
      // (a fixed UTC−5 would put 14:00 at 19Z and bill 18Z–19Z as off-peak.)
      const ny = compileTariff({
        timeZone: 'America/New_York',
        periods: [
          { name: 'on-peak', priceEurPerKwh: 0.4, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 14, toHour: 19 }] },
          { name: 'off-peak', priceEurPerKwh: 0.12 },
        ],
        defaultPeriod: 'off-peak',
      });
      const start = utc('2026-03-08T05:00:00Z');
      const end = utc('2026-03-10T04:00:00Z');
      const bill = computeBill(
        ny,
        { startMs: start, endMs: end },
        intervals(start, end, H, () => 10),
      );
      expect(charge(bill, 'on-peak').energyKwh).to.be.closeTo(50, EPS);
      expect(charge(bill, 'off-peak').energyKwh).to.be.closeTo(420, EPS);
      expect(bill.totalEur).to.equal(70.4);
    });
  });

  describe('rounding: once, at the end, half away from zero', () => {
    it('rounds the total, not each line item', () => {
      // two periods of 1 kWh at 0.004 €/kWh: 0.004 + 0.004 = 0.008 → 0.01 (per-item rounding would give 0.00)
      const t = compileTariff({
        timeZone: 'UTC',
        periods: [
          { name: 'a', priceEurPerKwh: 0.004, windows: [{ fromHour: 0, toHour: 12 }] },
          { name: 'b', priceEurPerKwh: 0.004, windows: [{ fromHour: 12, toHour: 24 }] },
        ],
      });
      const bill = computeBill(t, { startMs: utc('2026-02-02T00:00:00Z'), endMs: utc('2026-02-03T00:00:00Z') }, [
        { startMs: utc('2026-02-02T11:00:00Z'), endMs: utc('2026-02-02T13:00:00Z'), energyKwh: 2 },
      ]);
      expect(charge(bill, 'a').chargeEur).to.be.closeTo(0.004, EPS);
      expect(charge(bill, 'b').chargeEur).to.be.closeTo(0.004, EPS);
      expect(bill.totalEur).to.equal(0.01);
    });

    it('roundToCent: half up away from zero, sub-cent amounts', () => {
      expect(roundToCent(0.125)).to.equal(0.13);
      expect(roundToCent(10.5 * 0.2537)).to.equal(2.66); // 2.66385
      expect(roundToCent(1.005)).to.equal(1.01); // 1.005 is 1.00499999999999989… in binary
      expect(roundToCent(-0.125)).to.equal(-0.13);
      expect(roundToCent(0.0049)).to.equal(0);
    });
  });
});

describe('energy: bill bad inputs', () => {
  const t = compileTariff(berlinWeek);
  const period = { startMs: utc('2026-01-05T23:00:00Z'), endMs: utc('2026-01-06T23:00:00Z') };
  const at = utc('2026-01-06T10:00:00Z');

  it('negative energy → BAD_PAYLOAD naming the interval', () => {
    expectError(
      () =>
        computeBill(t, period, [
          { startMs: at, endMs: at + H, energyKwh: 1 },
          { startMs: at + H, endMs: at + 2 * H, energyKwh: -0.5 },
        ]),
      'BAD_PAYLOAD',
      'interval 2',
      'negative energy -0.5 kWh',
    );
  });

  it('negative kvarh, non-finite energy, empty or reversed interval, overlapping intervals, bad period', () => {
    expectError(
      () => computeBill(t, period, [{ startMs: at, endMs: at + H, energyKwh: 1, reactiveKvarh: -1 }]),
      'BAD_PAYLOAD',
      'negative reactive energy',
    );
    expectError(() => computeBill(t, period, [{ startMs: at, endMs: at + H, energyKwh: NaN }]), 'NOT_FINITE', 'energyKwh');
    expectError(() => computeBill(t, period, [{ startMs: at, endMs: at, energyKwh: 1 }]), 'BAD_TIMESTAMP', 'not after');
    expectError(
      () =>
        computeBill(t, period, [
          { startMs: at, endMs: at + H, energyKwh: 1 },
          { startMs: at + 30 * MIN, endMs: at + 90 * MIN, energyKwh: 1 },
        ]),
      'BAD_PAYLOAD',
      'overlap',
    );
    expectError(() => computeBill(t, { startMs: period.endMs, endMs: period.startMs }, []), 'BAD_TIMESTAMP', 'billing period');
  });

  it('an empty bill is the fixed fee alone', () => {
    const bill = computeBill(t, period, []);
    expect(bill.demand.peakBlockStartMs).to.equal(null);
    expect(bill.powerFactor!.tanPhi).to.equal(null);
    expect(bill.totalEur).to.equal(25);
  });
});
