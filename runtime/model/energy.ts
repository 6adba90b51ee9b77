/**
 * Records of energy costing: cost per interval, shift or batch under a tariff, the running demand
 * block with its forecast, and the ISO 50006 baseline comparison.
 */
import type { Quality } from './quality.js';

export type EnergyCostScope = 'interval' | 'shift' | 'batch';

/** Energy and its cost over [startMs, endMs) for one asset. */
export interface EnergyCost {
  asset: string;
  /** event time the record was closed (= endMs for intervals and shifts) */
  tsMs: number;
  scope: EnergyCostScope;
  /** shift name or batch id; absent for intervals */
  label?: string;
  startMs: number;
  endMs: number;
  energyKwh: number;
  /** energy charge under the tariff (time-of-use periods, prorated); no demand charge or fees */
  costEur: number;
  /** kWh per price period, e.g. { peak: 12.1, offpeak: 3.2 } */
  energyKwhByPeriod: Record<string, number>;
  co2Kg: number;
  /** inductive reactive energy in the span (when a reactive tag is configured), for the power-factor penalty of the bill */
  reactiveKvarh?: number;
  /** sha256 of the tariff definition the cost was computed under */
  tariffVersion?: string;
  /** units produced in the span from the counter tag, when configured */
  units?: number;
  unitName?: string;
  energyKwhPerUnit?: number;
  costEurPerUnit?: number;
  /** milliseconds of the span with no data (a gap longer than the max gap); their energy is not known */
  gapMs: number;
  /** 'uncertain' when the span has gaps or uncertain readings; 'bad' when it has no data at all */
  quality: Quality;
  qualityReason?: string;
}

/** The demand block in progress: where its average is heading, against the billing period's peak so far. */
export interface DemandStatus {
  asset: string;
  tsMs: number;
  blockStartMs: number;
  blockEndMs: number;
  /** average power so far in the block (energy so far / elapsed) */
  averageKwSoFar: number;
  /** forecast of the block's average at its end (energy so far + present power × time left) / block */
  forecastKw: number;
  /** largest block average so far in the billing period */
  billingPeakKw: number;
  /** forecastKw > billingPeakKw (and above the alert margin): act before the block closes */
  alert: boolean;
  /** kW to shed for the rest of the block to stay at the billing peak (0 when no alert) */
  shedKw: number;
  /** the alert threshold: max(billingPeakKw, the configured floor) */
  thresholdKw?: number;
  /** billingPeakKw × the tariff's demand charge: the demand charge of the billing period so far (billed per period, never per interval) */
  demandChargeEur?: number;
  /** start of the billing period the peak belongs to */
  billingPeriodStartMs?: number;
  quality: Quality;
  qualityReason?: string;
}

/** ISO 50006 baseline comparison for one interval: expected energy from the baseline regression and the CUSUM of savings. */
export interface EnergyBaselinePoint {
  asset: string;
  tsMs: number;
  startMs: number;
  endMs: number;
  actualKwh: number;
  expectedKwh: number;
  /** expected − actual: positive = saved */
  savingKwh: number;
  /** running sum of savingKwh since the baseline was fitted */
  cusumKwh: number;
  /** baseline terms, e.g. { intercept: 3.1, units: 0.25 } */
  coefficients: Record<string, number>;
  r2: number;
  quality: Quality;
  qualityReason?: string;
}
