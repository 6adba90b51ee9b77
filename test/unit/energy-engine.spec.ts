// The energy stage's step (runtime/energy/energy-engine.ts) without Node-RED: tag routing, interval
// costs, batch marks, demand-status thinning, tariff changes, refusals. The node spec covers the adapter.
import { expect } from 'chai';
import { EnergyEngine, type EnergyEngineConfig } from '../../runtime/energy/energy-engine.js';
import { compileTariff } from '../../runtime/energy/tariff.js';
import { TwinError } from '../../runtime/model/errors.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const ASSET = 'plant1/line1/extruder';
const flat = (price: number) =>
  compileTariff({ timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: price }], defaultPeriod: 'flat', co2KgPerKwh: 0.5 });
const rd = (tag: string, tsMs: number, value: number, extra: Record<string, unknown> = {}) => ({
  asset: ASSET,
  tag,
  value,
  tsMs,
  quality: 'good',
  source: 'test',
  ...extra,
});

const CFG: EnergyEngineConfig = {
  mode: 'power',
  energyTag: 'power_kw',
  intervalMinutes: 15,
  alertFloorKw: 0,
  alertMarginPct: 2,
  maxGapMs: 300_000,
  demandEveryMs: 60_000,
  shifts: [],
  batchTag: 'batch',
};

/** Constant power of `kw` from `fromMin` to `toMin`, one reading a minute. */
function power(e: EnergyEngine, kw: number, fromMin: number, toMin: number) {
  const outs = [];
  for (let m = fromMin; m <= toMin; m++) outs.push(e.push(rd('power_kw', T0 + m * MIN, kw)));
  return outs;
}

describe('energy engine (runtime/energy/energy-engine.ts)', () => {
  it('100 kW for a 15-minute interval → 25 kWh at the tariff price, once the interval has closed', () => {
    const e = new EnergyEngine(CFG, flat(0.2), 'v1');
    const costs = power(e, 100, 0, 16).flatMap((o) => o.costs);
    const interval = costs.filter((c) => c.scope === 'interval');
    expect(interval).to.have.length(1);
    expect(interval[0]).to.include({ asset: ASSET, startMs: T0, endMs: T0 + 15 * MIN });
    expect(interval[0].energyKwh).to.be.closeTo(25, 1e-9);
    expect(interval[0].costEur).to.be.closeTo(5, 1e-9);
  });

  it('a new tariff prices the intervals that follow', () => {
    const e = new EnergyEngine(CFG, flat(0.2), 'v1');
    power(e, 100, 0, 14);
    e.setTariff(flat(0.4), 'v2');
    const costs = power(e, 100, 15, 31).flatMap((o) => o.costs.filter((c) => c.scope === 'interval'));
    expect(costs.map((c) => Math.round(c.costEur * 100) / 100)).to.deep.equal([5, 10]);
  });

  it('ignores other tags, and refuses bad input (nothing applied)', () => {
    const e = new EnergyEngine(CFG, flat(0.2), 'v1');
    expect(e.push(rd('melt_temp', T0, 200))).to.deep.equal({ costs: [], demand: null, baseline: [] });
    expect(() => e.push([rd('power_kw', T0, 1)])).to.throw(TwinError);
    e.push(rd('batch', T0 + MIN, 7));
    expect(() => e.push(rd('batch', T0 + MIN, 0)))
      .to.throw(TwinError)
      .with.property('code', 'OUT_OF_ORDER');
  });

  it('a batch mark starts and ends a batch record', () => {
    const e = new EnergyEngine(CFG, flat(0.2), 'v1');
    power(e, 60, 0, 2);
    e.push(rd('batch', T0 + 2 * MIN, 7));
    power(e, 60, 3, 12);
    const out = e.push(rd('batch', T0 + 12 * MIN, 0));
    const batch = out.costs.filter((c) => c.scope === 'batch');
    expect(batch).to.have.length(1);
    expect(batch[0].energyKwh).to.be.closeTo(10, 1e-9); // 60 kW for 10 minutes
  });

  it('demand status: given when the block changes or demandEveryMs of event time have passed, not per reading', () => {
    const e = new EnergyEngine(CFG, flat(0.2), 'v1');
    const given = power(e, 100, 0, 5).map((o) => o.demand !== null);
    // the first reading only opens the span: the status comes with the second, then a minute later each
    expect(given).to.deep.equal([false, true, true, true, true, true]);
    const sparse = new EnergyEngine({ ...CFG, demandEveryMs: 5 * MIN }, flat(0.2), 'v1');
    expect(power(sparse, 100, 0, 5).map((o) => o.demand !== null)).to.deep.equal([false, true, false, false, false, false]);
  });
});
