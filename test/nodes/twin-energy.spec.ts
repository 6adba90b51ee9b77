import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import type { DemandStatus, EnergyBaselinePoint, EnergyCost } from '../../runtime/model/energy.js';
import { compileTariff, type TariffDef } from '../../runtime/energy/tariff.js';
import { billFromCosts } from '../../runtime/energy/cost-rollup.js';
import type { TwinTariffNode } from '../../nodes/twin-tariff/tariff-api.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const energyNode = nodeModule('twin-energy');
const tariffNode = nodeModule('twin-tariff');

const MIN = 60_000;
const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const EPS = 1e-9;
const ASSET = 'demo/plant1/extrusion/line1/extruder';

type Msg<T> = NodeMessage & { payload: T; error?: { message: string; source?: { id: string } } };
interface Rig {
  node: Node;
  costs: Msg<EnergyCost>[];
  demand: Msg<DemandStatus>[];
  baseline: Msg<EnergyBaselinePoint>[];
  caught: Msg<unknown>[];
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

function load(tariff: TariffDef | string | null, cfg: Record<string, unknown>): Promise<Rig> {
  const flow: object[] = [
    {
      id: 'e',
      type: 'twin-energy',
      name: 'energy',
      ...(tariff !== null ? { tariff: 'tar' } : {}),
      ...cfg,
      wires: [['o1'], ['o2'], ['o3']],
    },
    { id: 'o1', type: 'helper' },
    { id: 'o2', type: 'helper' },
    { id: 'o3', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['e'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  if (tariff !== null)
    flow.push({ id: 'tar', type: 'twin-tariff', name: 'tariff', tariff: typeof tariff === 'string' ? tariff : JSON.stringify(tariff) });
  return new Promise((resolve, reject) => {
    helper
      .load([tariffNode, energyNode, catchNode] as never, flow as never, () => {
        const rig: Rig = { node: helper.getNode('e'), costs: [], demand: [], baseline: [], caught: [], statuses: [] };
        listen<Msg<EnergyCost>>(helper.getNode('o1'), 'input', (m) => rig.costs.push(m));
        listen<Msg<DemandStatus>>(helper.getNode('o2'), 'input', (m) => rig.demand.push(m));
        listen<Msg<EnergyBaselinePoint>>(helper.getNode('o3'), 'input', (m) => rig.baseline.push(m));
        listen<Msg<unknown>>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

function rd(tag: string, value: unknown, tsMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: ASSET, tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}

/** Send payloads; resolve when the node has answered all of them (done or error), then let outputs settle. */
async function feed(rig: Rig, payloads: unknown[], errs = 0): Promise<void> {
  const before = rig.caught.length;
  for (const p of payloads) rig.node.receive({ payload: p } as never);
  await waitFor(() => rig.caught.length >= before + errs, 10_000, 10, `${errs} errors`);
  await new Promise((r) => setTimeout(r, 100));
  expect(rig.caught.length - before, 'errors').to.equal(errs);
}

const intervals = (rig: Rig): EnergyCost[] => rig.costs.map((m) => m.payload).filter((c) => c.scope === 'interval');
const shifts = (rig: Rig): EnergyCost[] => rig.costs.map((m) => m.payload).filter((c) => c.scope === 'shift');

/** Berlin: peak Mon–Fri 08–20 local, off-peak otherwise; demand 8 €/kW; tan φ 0.4 at 0.05 €/kvarh; 25 € fee; 0.4 kg CO2/kWh. */
const berlin: TariffDef = {
  timeZone: 'Europe/Berlin',
  periods: [
    { name: 'peak', priceEurPerKwh: 0.2931, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
    { name: 'offpeak', priceEurPerKwh: 0.1874 },
  ],
  defaultPeriod: 'offpeak',
  demandChargeEurPerKw: 8,
  powerFactorPenalty: { maxTanPhi: 0.4, priceEurPerKvarh: 0.05 },
  fixedFeeEurPerPeriod: 25,
  co2KgPerKwh: 0.4,
};

describe('twin-energy node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('reproduces a bill computed by hand to the cent: time of use, demand charge, power-factor penalty, a gap', async function () {
    // Tue 2026-01-06, local 00:00 CET (01-05T23:00Z) .. 24:00. Power and reactive power every 15
    // minutes on the quarter hour (left-hold: each quarter = the reading at its start × 0.25 h):
    // 10 kW and 5 kvar, except 50 kW and 25 kvar at 10:15 (back at 10:30). No readings 02:15–02:45,
    // so 02:00–03:00 (60 min > max gap 20 min) is not integrated: 4 quarters with no data.
    //   off-peak 00–08, 20–24: 48 − 4 = 44 quarters × 2.5 kWh = 110 kWh × 0.1874 = 20.614
    //   peak 08–20: 47 × 2.5 + 12.5 = 130 kWh × 0.2931                           = 38.103
    //   demand 12.5 kWh / 0.25 h = 50 kW × 8.00                                   = 400.00
    //   kvarh 91 × 1.25 + 6.25 = 120; allowed 0.4 × 240 = 96; excess 24 × 0.05    =   1.20
    //   fee                                                                       =  25.00
    //   total 484.917                                                             = 484.92
    //   CO2 240 × 0.4 = 96 kg
    // Shift 'early' 06–14: off-peak 8 × 2.5 = 20 kWh (3.748) + peak 23 × 2.5 + 12.5 = 70 kWh
    // (20.517) = 24.265 → 24.27 once; the sum of the rounded quarter hours would be 24.21.
    const start = utc('2026-01-05T23:00:00Z');
    const spike = utc('2026-01-06T09:15:00Z');
    const rig = await load(berlin, {
      mode: 'power',
      powerTag: 'power_kw',
      reactiveTag: 'reactive_kvar',
      maxGapMs: '1200000',
      shifts: '06:00 early, 14:00 late, 22:00 night',
    });
    const payloads: unknown[] = [];
    for (let q = 0; q <= 96; q++) {
      const ts = start + q * 15 * MIN;
      if (ts > utc('2026-01-06T01:00:00Z') && ts < utc('2026-01-06T02:00:00Z')) continue; // the gap
      payloads.push(rd('reactive_kvar', ts === spike ? 25 : 5, ts), rd('power_kw', ts === spike ? 50 : 10, ts));
    }
    await feed(rig, payloads);
    const iv = intervals(rig);
    expect(iv).to.have.length(96);
    const gapped = iv.filter((c) => c.quality === 'bad');
    expect(gapped.map((c) => new Date(c.startMs).toISOString())).to.deep.equal([
      '2026-01-06T01:00:00.000Z',
      '2026-01-06T01:15:00.000Z',
      '2026-01-06T01:30:00.000Z',
      '2026-01-06T01:45:00.000Z',
    ]);
    for (const g of gapped) expect(g).to.include({ energyKwh: 0, gapMs: 15 * MIN, costEur: 0 });
    expect(gapped[0].qualityReason).to.match(/no data for 900 s; power gap 3600 s > max gap/);
    expect(iv.filter((c) => c.quality !== 'good')).to.have.length(4);
    const spikeRec = iv.find((c) => c.startMs === spike)!;
    expect(spikeRec).to.include({ costEur: 3.66, endMs: spike + 15 * MIN, tsMs: spike + 15 * MIN });
    expect(spikeRec.energyKwhByPeriod.peak).to.be.closeTo(12.5, EPS);
    expect(spikeRec.reactiveKvarh).to.be.closeTo(6.25, EPS);

    const bill = billFromCosts(
      compileTariff(berlin),
      { startMs: start, endMs: start + 24 * H },
      rig.costs.map((m) => m.payload),
    );
    expect(bill.energyCharges.map((c) => [c.period, +c.energyKwh.toFixed(9)])).to.deep.equal([
      ['peak', 130],
      ['offpeak', 110],
    ]);
    expect(bill.demand.peakKw).to.be.closeTo(50, EPS);
    expect(bill.powerFactor!.excessKvarh).to.be.closeTo(24, EPS);
    expect(bill.co2Kg).to.be.closeTo(96, EPS);
    expect(bill.totalEur).to.equal(484.92);

    const early = shifts(rig).find((s) => s.label === 'early')!;
    expect(early).to.include({
      startMs: utc('2026-01-06T05:00:00Z'),
      endMs: utc('2026-01-06T13:00:00Z'),
      costEur: 24.27,
      quality: 'good',
      gapMs: 0,
    });
    expect(early.energyKwh).to.be.closeTo(90, EPS);
    // The demand status carries the billing period's peak and its charge (never spread over intervals).
    const lastDemand = rig.demand[rig.demand.length - 1].payload;
    expect(lastDemand.billingPeakKw).to.be.closeTo(50, EPS);
    expect(lastDemand.demandChargeEur).to.be.closeTo(400, EPS);
    expect(rig.demand[rig.demand.length - 1].topic).to.equal(`${ASSET}/demand`);
    expect(rig.costs[0].topic).to.equal(`${ASSET}/energy/interval`);
  });

  /** night 00–06 0.10, day 06–22 0.25, evening 22–24 0.15, every day; 2.00 €/kW demand. */
  const dstTariff: TariffDef = {
    timeZone: 'Europe/Berlin',
    periods: [
      { name: 'night', priceEurPerKwh: 0.1, windows: [{ fromHour: 0, toHour: 6 }] },
      { name: 'day', priceEurPerKwh: 0.25, windows: [{ fromHour: 6, toHour: 22 }] },
      { name: 'evening', priceEurPerKwh: 0.15, windows: [{ fromHour: 22, toHour: 24 }] },
    ],
    demandChargeEurPerKw: 2,
  };
  const dstDays: Array<[string, string, string, number, number, number]> = [
    // name, local midnight (UTC), next local midnight (UTC), hours, night hours, total €
    //   spring: night 5 h × 10 kWh × 0.10 = 5 + day 160 × 0.25 = 40 + evening 20 × 0.15 = 3 + demand 10 kW × 2 = 20 → 68.00
    //   autumn: night 7 h (02:00 twice) = 7 + 40 + 3 + 20 → 70.00
    ['spring forward (Sun 2026-03-29, 23 h)', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 23, 5, 68],
    ['fall back (Sun 2026-10-25, 25 h)', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', 25, 7, 70],
  ];
  for (const [name, from, to, hours, nightHours, total] of dstDays) {
    it(`a daylight-saving day, ${name}: energy counter with a rollover at 10 000 kWh, hourly intervals, bill to the cent`, async function () {
      // Counter readings every hour, 10 kWh per hour, from 9 950 kWh: it rolls over 9 990 → 0 after 5 h.
      const startMs = utc(from);
      const rig = await load(dstTariff, {
        mode: 'counter',
        counterTag: 'energy_kwh',
        counterModulusKwh: '10000',
        intervalMin: '60',
        maxGapMs: '7200000',
        shifts: '00:00 day',
      });
      const payloads = [];
      for (let h = 0; h <= hours; h++) payloads.push(rd('energy_kwh', (9950 + 10 * h) % 10000, startMs + h * H));
      await feed(rig, payloads);
      const iv = intervals(rig);
      expect(iv).to.have.length(hours);
      for (const c of iv) expect(c).to.include({ quality: 'good', gapMs: 0 });
      for (const c of iv) expect(c.energyKwh).to.be.closeTo(10, EPS);
      expect(iv.filter((c) => c.energyKwhByPeriod.night > 0)).to.have.length(nightHours);
      const day = shifts(rig);
      expect(day).to.have.length(1);
      expect(day[0]).to.include({ label: 'day', startMs, endMs: utc(to), quality: 'good' });
      expect(day[0].energyKwh).to.be.closeTo(10 * hours, EPS);
      expect(day[0].costEur).to.equal(total - 20);
      const bill = billFromCosts(
        compileTariff(dstTariff),
        { startMs, endMs: utc(to) },
        rig.costs.map((m) => m.payload),
      );
      expect(bill.demand.peakKw).to.be.closeTo(10, EPS);
      expect(bill.totalEur).to.equal(total);
    });
  }

  it('the demand alert fires before the block that would set a new billing peak closes, with the load to shed', async function () {
    // UTC, 15-minute blocks, 10 €/kW. Block 10:00–10:15 at 40 kW sets the billing peak (40 kW).
    // Block 10:15–10:30: 30 kW until 10:20, then 70 kW. At 10:20 the forecast is
    //   (30 kW × 5 min + 70 kW × 10 min) / 15 min = (2.5 + 11.667) kWh / 0.25 h = 56.67 kW > 40
    // → alert at 10:20, shed (56.67 − 40) × 15 / 10 = 25 kW (45 kW for 10 min brings the block to 40).
    const flat: TariffDef = {
      timeZone: 'UTC',
      periods: [{ name: 'flat', priceEurPerKwh: 0.2 }],
      defaultPeriod: 'flat',
      demandChargeEurPerKw: 10,
    };
    const rig = await load(flat, { mode: 'power', powerTag: 'power_kw', demandEveryMs: '0', maxGapMs: '120000' });
    const t0 = utc('2026-02-02T10:00:00Z');
    const kw = (m: number): number => (m < 15 ? 40 : m < 20 ? 30 : 70);
    const payloads = [];
    for (let m = 0; m <= 32; m++) payloads.push(rd('power_kw', kw(m), t0 + m * MIN));
    await feed(rig, payloads);
    const statuses = rig.demand.map((m) => m.payload);
    expect(
      statuses.filter((s) => s.blockStartMs === t0).every((s) => !s.alert),
      'no peak to protect in the first block',
    ).to.equal(true);
    const first = statuses.find((s) => s.alert)!;
    expect(first.tsMs).to.equal(t0 + 20 * MIN);
    expect(first.blockEndMs).to.equal(t0 + 30 * MIN);
    expect(first.tsMs).to.be.lessThan(first.blockEndMs);
    expect(first.billingPeakKw).to.be.closeTo(40, EPS);
    expect(first.thresholdKw).to.be.closeTo(40, EPS);
    expect(first.forecastKw).to.be.closeTo(170 / 3, 1e-9);
    expect(first.shedKw).to.be.closeTo(25, 1e-9);
    expect(first.averageKwSoFar).to.be.closeTo(30, EPS);
    expect(first.demandChargeEur).to.be.closeTo(400, EPS);
    const before = statuses.find((s) => s.tsMs === t0 + 19 * MIN)!;
    expect(before.alert).to.equal(false);
    expect(before.forecastKw).to.be.closeTo(30, EPS);
    // Nobody shed: the block closed at 56.67 kW, the new peak.
    const after = statuses.find((s) => s.tsMs === t0 + 31 * MIN)!;
    expect(after.billingPeakKw).to.be.closeTo(170 / 3, 1e-9);
    // Still above the new peak in the last block (70 kW > 56.67): (70 − 56.67) × 15 / 13 = 15.4 → 16 kW to shed.
    await waitFor(() => rig.statuses.some((s) => s.fill === 'yellow' && s.text === 'alert, shed 16 kW'), 3000, 20, 'yellow alert status');
  });

  const badInputs: Array<[string, Record<string, unknown>, unknown, RegExp, string]> = [
    [
      'negative power',
      { mode: 'power', powerTag: 'power_kw' },
      rd('power_kw', -5, utc('2026-02-02T10:00:30Z')),
      /negative power -5 kW at 2026-02-02T10:00:30.000Z/,
      'bad payload',
    ],
    [
      'a counter going backwards',
      { mode: 'counter', counterTag: 'energy_kwh' },
      rd('energy_kwh', 95, utc('2026-02-02T10:00:30Z')),
      /energy counter went backwards from 100 to 95 kWh \(−5\).*not a rollover.*nor a reset/,
      'bad payload',
    ],
    [
      'a time going backwards',
      { mode: 'power', powerTag: 'power_kw' },
      rd('power_kw', 10, utc('2026-02-02T09:59:00Z')),
      /is not after the last one/,
      'out of order',
    ],
    [
      'a non-finite value',
      { mode: 'power', powerTag: 'power_kw' },
      rd('power_kw', Infinity, utc('2026-02-02T10:00:30Z')),
      /Reading\.value is not finite/,
      'not finite',
    ],
    [
      'a payload that is not a Reading',
      { mode: 'power', powerTag: 'power_kw' },
      { kw: 5 },
      /Reading\.asset must be a non-empty string/,
      'bad payload',
    ],
  ];
  for (const [what, cfg, bad, re, statusText] of badInputs) {
    it(`refuses ${what} with a clear error (Catch) and a red status, and keeps costing unchanged`, async function () {
      const flat: TariffDef = { timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: 0.2 }], defaultPeriod: 'flat' };
      const rig = await load(flat, cfg);
      const tag = cfg.mode === 'power' ? 'power_kw' : 'energy_kwh';
      const t0 = utc('2026-02-02T10:00:00Z');
      // power: 12 kW for 15 min = 3 kWh; counter: 100 → 103 kWh
      const v = (i: number): number => (cfg.mode === 'power' ? 12 : 100 + i);
      await feed(rig, [rd(tag, v(0), t0), bad, rd(tag, v(1), t0 + 5 * MIN), rd(tag, v(2), t0 + 10 * MIN), rd(tag, v(3), t0 + 15 * MIN)], 1);
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.caught[0].error?.source?.id).to.equal('e');
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === statusText)).to.equal(true);
      const iv = intervals(rig);
      expect(iv).to.have.length(1);
      expect(iv[0]).to.include({ quality: 'good', costEur: 0.6 });
      expect(iv[0].energyKwh).to.be.closeTo(3, EPS);
    });
  }

  const noTariff: Array<[string, string | null, RegExp]> = [
    ['without a tariff', null, /no tariff: choose a twin-tariff config node/],
    [
      'with a tariff that does not compile',
      '{"timeZone":"Mars/Olympus","periods":[{"name":"x","priceEurPerKwh":0.1}],"defaultPeriod":"x"}',
      /the tariff does not compile: .*unknown time zone 'Mars\/Olympus'/,
    ],
  ];
  for (const [what, tariff, re] of noTariff) {
    it(`${what}: red status, every input refused with the reason`, async function () {
      const rig = await load(tariff, { mode: 'power', powerTag: 'power_kw' });
      await feed(rig, [rd('power_kw', 1, 1000), rd('power_kw', 1, 2000)], 2);
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
      expect(rig.costs).to.have.length(0);
    });
  }

  it('a bad config (interval not dividing the day): red status, inputs refused with the field named', async function () {
    const rig = await load(
      { timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: 0.2 }], defaultPeriod: 'flat' },
      { mode: 'power', powerTag: 'power_kw', intervalMin: '7' },
    );
    await feed(rig, [rd('power_kw', 1, 1000)], 1);
    expect(rig.caught[0].error?.message).to.match(/intervalMin must be whole minutes dividing a day/);
    expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
  });

  it('a tariff updated by message applies from the next interval', async function () {
    const flat = (price: number): TariffDef => ({
      timeZone: 'UTC',
      periods: [{ name: 'flat', priceEurPerKwh: price }],
      defaultPeriod: 'flat',
    });
    const rig = await load(flat(0.2), { mode: 'power', powerTag: 'power_kw', maxGapMs: '1200000' });
    const t0 = utc('2026-02-02T10:00:00Z');
    await feed(rig, [rd('power_kw', 40, t0), rd('power_kw', 40, t0 + 5 * MIN)]);
    (helper.getNode('tar') as TwinTariffNode).update(flat(0.5), 'test');
    // 40 kW × 15 min = 10 kWh per interval: 10 × 0.20 = 2.00 for the interval in progress, then 10 × 0.50 = 5.00.
    await feed(rig, [rd('power_kw', 40, t0 + 15 * MIN), rd('power_kw', 40, t0 + 30 * MIN)]);
    expect(intervals(rig).map((c) => c.costEur)).to.deep.equal([2, 5]);
    expect(intervals(rig)[0].tariffVersion).to.not.equal(intervals(rig)[1].tariffVersion);
  });

  it('energy and cost per kg from a units counter with rollover, and a batch record from a batch tag', async function () {
    // UTC, 0.20 €/kWh, 60 kW constant (1 kWh a minute). Units counter in kg rolls over at 1000:
    // 900 → 980 → 60 (rollover: +80) → 140 over 10:00–10:15: 240 kg in the interval.
    //   interval: 15 kWh, 3.00 €, 0.0625 kWh/kg, 0.0125 €/kg
    // Batch 7 from 10:05 to 10:12: 7 kWh, 1.40 €, units prorated by time within the counter's spans.
    const flat: TariffDef = { timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: 0.2 }], defaultPeriod: 'flat' };
    const rig = await load(flat, {
      mode: 'power',
      powerTag: 'power_kw',
      unitsTag: 'output_kg',
      unitsModulus: '1000',
      unitName: 'kg',
      batchTag: 'batch',
    });
    const t0 = utc('2026-02-02T10:00:00Z');
    await feed(rig, [
      rd('output_kg', 900, t0),
      rd('power_kw', 60, t0),
      rd('batch', 7, t0 + 5 * MIN),
      rd('output_kg', 980, t0 + 5 * MIN),
      rd('power_kw', 60, t0 + 5 * MIN),
      rd('output_kg', 60, t0 + 10 * MIN),
      rd('power_kw', 60, t0 + 10 * MIN),
      rd('batch', 0, t0 + 12 * MIN),
      rd('output_kg', 140, t0 + 15 * MIN),
      rd('power_kw', 60, t0 + 15 * MIN),
    ]);
    const iv = intervals(rig);
    expect(iv).to.have.length(1);
    expect(iv[0]).to.include({ units: 240, unitName: 'kg', costEur: 3 });
    expect(iv[0].energyKwhPerUnit).to.be.closeTo(0.0625, EPS);
    expect(iv[0].costEurPerUnit).to.be.closeTo(0.0125, EPS);
    const batch = rig.costs.map((m) => m.payload).find((c) => c.scope === 'batch')!;
    // 80 kg in 10:05–10:10, 80 kg × 2/5 in 10:10–10:12 = 32 → 112 kg
    expect(batch).to.include({ label: 'batch 7', startMs: t0 + 5 * MIN, endMs: t0 + 12 * MIN, costEur: 1.4, quality: 'good' });
    expect(batch.energyKwh).to.be.closeTo(7, EPS);
    expect(batch.units).to.be.closeTo(112, EPS);
  });

  it('an ISO 50006 baseline over days: expected vs actual and the CUSUM of savings on output 3', async function () {
    // Daily shifts; energy per day = 100 + 0.5 kWh/kg × production, fitted on 3 days; day 4 uses
    // 10 % less than expected. Readings hourly: power constant over the day, units counter linear.
    const flat: TariffDef = { timeZone: 'UTC', periods: [{ name: 'flat', priceEurPerKwh: 0.2 }], defaultPeriod: 'flat' };
    const rig = await load(flat, {
      mode: 'power',
      powerTag: 'power_kw',
      unitsTag: 'output_kg',
      unitName: 'kg',
      shifts: '00:00 day',
      baselineVars: 'units',
      baselinePeriods: '3',
      maxGapMs: '3700000',
    });
    const t0 = utc('2026-02-02T00:00:00Z');
    const kg = [400, 800, 600, 700];
    const kwh = [300, 500, 400, 0.9 * 450];
    const payloads = [];
    let counter = 0;
    for (let d = 0; d < 4; d++) {
      for (let h = d === 0 ? 0 : 1; h <= 24; h++) {
        const ts = t0 + d * 24 * H + h * H;
        if (h > 0) counter += kg[d] / 24;
        payloads.push(rd('output_kg', counter, ts), rd('power_kw', kwh[h === 24 && d < 3 ? d + 1 : d] / 24, ts));
      }
    }
    await feed(rig, payloads);
    expect(rig.baseline).to.have.length(1);
    const p = rig.baseline[0].payload;
    expect(p.coefficients.intercept).to.be.closeTo(100, 1e-6);
    expect(p.coefficients.units).to.be.closeTo(0.5, 1e-9);
    expect(p.r2).to.be.closeTo(1, 1e-9);
    expect(p.expectedKwh).to.be.closeTo(450, 1e-6);
    expect(p.actualKwh).to.be.closeTo(405, 1e-6);
    expect(p.savingKwh).to.be.closeTo(45, 1e-6);
    expect(p.cusumKwh).to.be.closeTo(45, 1e-6);
    expect(p.quality).to.equal('good');
    expect(rig.baseline[0].topic).to.equal(`${ASSET}/enpi`);
  });
});
