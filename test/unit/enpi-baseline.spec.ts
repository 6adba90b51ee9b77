import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { EnpiBaseline, type BaselinePeriod } from '../../runtime/energy/enpi-baseline.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

function period(i: number, actualKwh: number, x: BaselinePeriod['x'], quality: BaselinePeriod['quality'] = 'good'): BaselinePeriod {
  return { startMs: T0 + i * DAY, endMs: T0 + (i + 1) * DAY, actualKwh, quality, x };
}

/** energy = 200 + 0.4 kWh/kg × kg + 3 kWh/°C × ambient (exact). */
const model = (kg: number, temp: number): number => 200 + 0.4 * kg + 3 * temp;
const baselineX: Array<[number, number]> = [
  [1000, 5],
  [1500, 8],
  [1200, 15],
  [800, 20],
  [1400, 2],
  [1100, 12],
];

describe('energy: ISO 50006 baseline', () => {
  it('fits energy on production and temperature, then gives expected, saving and the CUSUM of savings', () => {
    const b = new EnpiBaseline({ asset: 'a', variables: ['units', 'ambient_temp'], baselinePeriods: 6 });
    baselineX.forEach(([kg, temp], i) => expect(b.add(period(i, model(kg, temp), { units: kg, ambient_temp: temp }))).to.equal(null));
    expect(b.fitted).to.equal(true);
    const p1 = b.add(period(6, model(1000, 10) - 50, { units: 1000, ambient_temp: 10 }))!;
    expect(p1.coefficients.intercept).to.be.closeTo(200, 1e-6);
    expect(p1.coefficients.units).to.be.closeTo(0.4, 1e-9);
    expect(p1.coefficients.ambient_temp).to.be.closeTo(3, 1e-8);
    expect(p1.r2).to.be.closeTo(1, 1e-12);
    expect(p1.expectedKwh).to.be.closeTo(630, 1e-6);
    expect(p1.savingKwh).to.be.closeTo(50, 1e-6);
    expect(p1).to.include({ quality: 'good', tsMs: T0 + 7 * DAY, startMs: T0 + 6 * DAY });
    const p2 = b.add(period(7, model(1200, 10) + 20, { units: 1200, ambient_temp: 10 }))!;
    expect(p2.savingKwh).to.be.closeTo(-20, 1e-6);
    expect(p2.cusumKwh).to.be.closeTo(30, 1e-6);
  });

  it('r2 below 1 on noisy data (hand-checked on a tiny set)', () => {
    // y = 1, 3, 2, 5 over x = 1, 2, 3, 4: OLS slope 1.1, intercept 0; residuals −0.1, 0.8, −1.3, 0.6:
    // SSres 2.7, SStot 8.75 → r2 = 0.69142…
    const b = new EnpiBaseline({ asset: 'a', variables: ['units'], baselinePeriods: 4 });
    [1, 3, 2, 5].forEach((y, i) => b.add(period(i, y, { units: i + 1 })));
    const p = b.add(period(4, 3, { units: 2 }))!;
    expect(p.coefficients.units).to.be.closeTo(1.1, 1e-9);
    expect(p.coefficients.intercept).to.be.closeTo(0, 1e-9);
    expect(p.r2).to.be.closeTo(1 - 2.7 / 8.75, 1e-9);
  });

  it('is honest outside its data: a variable beyond the baseline range or uncertain energy gives an uncertain point', () => {
    const b = new EnpiBaseline({ asset: 'a', variables: ['units', 'ambient_temp'], baselinePeriods: 6 });
    baselineX.forEach(([kg, temp], i) => b.add(period(i, model(kg, temp), { units: kg, ambient_temp: temp })));
    const far = b.add(period(6, 1000, { units: 3000, ambient_temp: 10 }))!;
    expect(far.quality).to.equal('uncertain');
    expect(far.qualityReason).to.equal("units 3000 outside the baseline's 800..1500");
    const unsure = b.add(period(7, 600, { units: 1000, ambient_temp: 10 }, 'uncertain'))!;
    expect(unsure).to.include({ quality: 'uncertain', qualityReason: 'energy uncertain' });
  });

  it('a period without a variable is not compared (bad, CUSUM unchanged); baseline periods without one are left out', () => {
    const b = new EnpiBaseline({ asset: 'a', variables: ['units', 'ambient_temp'], baselinePeriods: 6 });
    b.add(period(0, 999, { units: 1000 })); // no temperature: not in the fit
    expect(b.fitted).to.equal(false);
    baselineX.forEach(([kg, temp], i) => b.add(period(i + 1, model(kg, temp), { units: kg, ambient_temp: temp })));
    expect(b.fitted).to.equal(true);
    const p = b.add(period(8, 500, { units: 1000 }))!;
    expect(p).to.include({
      quality: 'bad',
      savingKwh: 0,
      cusumKwh: 0,
      qualityReason: 'no value of ambient_temp in the period: not compared',
    });
  });

  it('a variable that never varied in the baseline cannot be fitted: says so, gives no points', () => {
    const b = new EnpiBaseline({ asset: 'a', variables: ['units'], baselinePeriods: 3 });
    [1, 2, 3].forEach((y, i) => b.add(period(i, y, { units: 500 })));
    expect(b.failure).to.match(/units did not vary over the 3 baseline periods/);
    expect(b.add(period(3, 4, { units: 600 }))).to.equal(null);
  });

  it('needs variables + 2 baseline periods', () => {
    expect(() => new EnpiBaseline({ asset: 'a', variables: ['units', 't'], baselinePeriods: 3 })).to.throw(
      TwinError,
      /at least 4 periods for 2 variable\(s\)/,
    );
  });
});
