/**
 * The energy stage's step (what twin-energy runs), without Node-RED: Readings in; EnergyCost
 * records, DemandStatus and EnergyBaselinePoints out. Per asset it composes the parts of this
 * folder: an EnergyIntegrator per measured quantity (energy, reactive, units), a CostRollup, a
 * DemandTracker and, when configured, an EnpiBaseline over the shift records, and owns the routing
 * around them (tags, batch marks, demand-status thinning). The node is a thin adapter over `push`.
 *
 * Rules (also in the node's help):
 *  - Readings are routed by tag: the power (kW) or energy-counter (kWh) tag, the reactive tag (kvar,
 *    or kvarh in counter mode), the units counter, the batch tag (value > 0 starts batch <value>,
 *    0 ends it), the baseline's variable tags (mean over each shift). Other tags are ignored.
 *  - A refused reading (negative, counter backwards, out of order, …) changes nothing.
 *  - A DemandStatus is given after an energy reading when the alert turns on or off, when a new
 *    block has begun, or when demandEveryMs of event time have passed since the last one.
 */
import type { DemandStatus, EnergyBaselinePoint, EnergyCost } from '../model/energy.js';
import { TwinError } from '../model/errors.js';
import { singleReadingInput, type Reading } from '../model/reading.js';
import { EnergyIntegrator } from './energy-integrator.js';
import { DemandTracker } from './demand-tracker.js';
import { CostRollup, type ShiftDef } from './cost-rollup.js';
import { EnpiBaseline } from './enpi-baseline.js';
import type { Tariff } from './tariff.js';

export interface EnergyEngineConfig {
  mode: 'power' | 'counter';
  /** the power tag (kW) in power mode, the energy counter tag (kWh) in counter mode */
  energyTag: string;
  counterModulusKwh?: number;
  /** reactive power (kvar) in power mode, reactive counter (kvarh, same modulus) in counter mode */
  reactiveTag?: string;
  unitsTag?: string;
  unitsModulus?: number;
  unitName?: string;
  batchTag?: string;
  intervalMinutes: number;
  /** absent: the tariff's block length */
  demandBlockMinutes?: number;
  alertFloorKw: number;
  alertMarginPct: number;
  maxGapMs: number;
  demandEveryMs: number;
  shifts: ShiftDef[];
  /** variables: 'units' (units produced in the shift) and/or tag names (their mean over the shift) */
  baseline?: { variables: string[]; baselinePeriods: number };
}

export interface EngineOutput {
  costs: EnergyCost[];
  demand: DemandStatus | null;
  baseline: EnergyBaselinePoint[];
  /** something to log once (a baseline that could not be fitted) */
  warning?: string;
}

interface AssetState {
  energy: EnergyIntegrator;
  reactive: EnergyIntegrator | null;
  units: EnergyIntegrator | null;
  rollup: CostRollup;
  demand: DemandTracker;
  baseline: EnpiBaseline | null;
  baselineWarned: boolean;
  varSums: Map<string, { sum: number; n: number }>;
  lastDemand: { tsMs: number; alert: boolean; blockStartMs: number } | null;
  batch: { lastTsMs: number; value: number };
}

export class EnergyEngine {
  private readonly assets = new Map<string, AssetState>();

  constructor(
    private readonly cfg: EnergyEngineConfig,
    private tariff: Tariff,
    private version: string,
  ) {
    // Build one asset's parts now so a bad combination shows at deploy, not at the first reading.
    this.build('config check');
  }

  /** A new tariff: prices from each asset's next interval on. */
  setTariff(tariff: Tariff, version: string): void {
    this.tariff = tariff;
    this.version = version;
    for (const a of this.assets.values()) {
      a.rollup.setTariff(tariff, version);
      a.demand.demandChargeEurPerKw = tariff.demandChargeEurPerKw;
    }
  }

  private state(asset: string): AssetState {
    let a = this.assets.get(asset);
    if (!a) {
      a = this.build(asset);
      this.assets.set(asset, a);
    }
    return a;
  }

  private build(asset: string): AssetState {
    const c = this.cfg;
    const counter = c.mode === 'counter';
    const integrator = (what: string, unit: string, isCounter: boolean, modulus: number | undefined) =>
      new EnergyIntegrator({ mode: isCounter ? 'counter' : 'rate', what, unit, maxGapMs: c.maxGapMs, modulus });
    return {
      energy: integrator(counter ? 'energy counter' : 'power', counter ? 'kWh' : 'kW', counter, c.counterModulusKwh),
      reactive: c.reactiveTag
        ? integrator(counter ? 'reactive counter' : 'reactive power', counter ? 'kvarh' : 'kvar', counter, c.counterModulusKwh)
        : null,
      units: c.unitsTag ? integrator('units counter', c.unitName ?? 'units', true, c.unitsModulus) : null,
      rollup: new CostRollup(
        {
          asset,
          intervalMinutes: c.intervalMinutes,
          shifts: c.shifts,
          unitName: c.unitName,
          units: !!c.unitsTag,
          reactive: !!c.reactiveTag,
        },
        this.tariff,
        this.version,
      ),
      demand: new DemandTracker({
        timeZone: this.tariff.timeZone,
        blockMinutes: c.demandBlockMinutes ?? this.tariff.demandBlockMinutes,
        alertFloorKw: c.alertFloorKw,
        alertMarginFrac: c.alertMarginPct / 100,
        demandChargeEurPerKw: this.tariff.demandChargeEurPerKw,
      }),
      baseline: c.baseline ? new EnpiBaseline({ asset, ...c.baseline }) : null,
      baselineWarned: false,
      varSums: new Map(),
      lastDemand: null,
      batch: { lastTsMs: -Infinity, value: 0 },
    };
  }

  /** One input payload; throws a TwinError (nothing applied) for a bad one. */
  push(payload: unknown): EngineOutput {
    const r: Reading = singleReadingInput(payload, 'twin-energy');
    const c = this.cfg;
    const out: EngineOutput = { costs: [], demand: null, baseline: [] };
    const known =
      r.tag === c.energyTag ||
      r.tag === c.reactiveTag ||
      r.tag === c.unitsTag ||
      r.tag === c.batchTag ||
      c.baseline?.variables.includes(r.tag);
    if (!known) return out;
    const a = this.state(r.asset);
    if (r.tag === c.energyTag) {
      const span = a.energy.push(r);
      if (span) {
        a.demand.add(span);
        this.closed(a, a.rollup.addEnergy(span), out);
        out.demand = this.demandStatus(r.asset, a, r.tsMs);
      }
    } else if (r.tag === c.reactiveTag) {
      const span = a.reactive!.push(r);
      if (span) a.rollup.addSecondary('reactive', span);
    } else if (r.tag === c.unitsTag) {
      const span = a.units!.push(r);
      if (span) a.rollup.addSecondary('units', span);
    } else if (r.tag === c.batchTag) {
      if (r.tsMs <= a.batch.lastTsMs)
        throw new TwinError('OUT_OF_ORDER', `batch mark at ${new Date(r.tsMs).toISOString()} is not after the last one; not applied`);
      a.batch.lastTsMs = r.tsMs;
      if (r.quality !== 'bad' && r.value !== a.batch.value) {
        a.batch.value = r.value;
        this.closed(a, r.value > 0 ? a.rollup.startBatch(`${c.batchTag} ${r.value}`, r.tsMs) : a.rollup.endBatch(r.tsMs), out);
      }
    } else {
      this.addVar(a, r);
    }
    return out;
  }

  private addVar(a: AssetState, r: Reading): void {
    if (r.quality === 'bad') return;
    const s = a.varSums.get(r.tag) ?? { sum: 0, n: 0 };
    s.sum += r.value;
    s.n++;
    a.varSums.set(r.tag, s);
  }

  private closed(a: AssetState, costs: EnergyCost[], out: EngineOutput): void {
    out.costs.push(...costs);
    if (!a.baseline) return;
    for (const rec of costs) {
      if (rec.scope !== 'shift') continue;
      const x: Record<string, number | undefined> = {};
      for (const v of this.cfg.baseline!.variables) {
        if (v === 'units') x[v] = rec.units;
        else {
          const s = a.varSums.get(v);
          x[v] = s && s.n > 0 ? s.sum / s.n : undefined;
        }
      }
      a.varSums.clear();
      const point = a.baseline.add({ startMs: rec.startMs, endMs: rec.endMs, actualKwh: rec.energyKwh, quality: rec.quality, x });
      if (point) out.baseline.push(point);
      if (a.baseline.failure && !a.baselineWarned) {
        a.baselineWarned = true;
        out.warning = `${rec.asset}: ${a.baseline.failure}`;
      }
    }
  }

  private demandStatus(asset: string, a: AssetState, tsMs: number): DemandStatus | null {
    const s = a.demand.status(asset, tsMs, a.energy.rate);
    const last = a.lastDemand;
    if (last && last.alert === s.alert && last.blockStartMs === s.blockStartMs && tsMs - last.tsMs < this.cfg.demandEveryMs) return null;
    a.lastDemand = { tsMs, alert: s.alert, blockStartMs: s.blockStartMs };
    return s;
  }
}
