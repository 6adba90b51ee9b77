/** One full record of every kind the historian stores, for round-trip specs (record → point → row → record). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../../runtime/model/reading.js';
import type { Estimate } from '../../runtime/model/estimate.js';
import type { AnomalyScore, DriftEvent } from '../../runtime/model/drift.js';
import type { MaintenanceWindow, RulEstimate } from '../../runtime/model/maintenance.js';
import type { DemandStatus, EnergyBaselinePoint, EnergyCost } from '../../runtime/model/energy.js';

export const T0 = 1_764_806_400_000; // 2025-12-04T00:00:00Z
export const ASSET = 'acme/hamburg/extrusion/line2/extruder';

export function reading(i: number, over: Partial<Reading> = {}): Reading {
  return {
    asset: ASSET,
    tag: 'zone1_temp',
    value: 200 + i / 8,
    unit: 'degC',
    tsMs: T0 + i * 100,
    quality: 'good',
    source: 'opcua',
    ...over,
  };
}

export const estimate: Estimate = {
  asset: ASSET,
  tag: 'zone1_temp',
  tsMs: T0 + 1,
  value: 201.25,
  variance: 0.04,
  unit: 'degC',
  state: { level: 201.25, slopePerS: 0.002 },
  covariance: [
    [0.04, 0.001],
    [0.001, 0.0004],
  ],
  innovation: -0.3,
  nis: 0.9,
  model: 'kalman/local-trend',
  quality: 'uncertain',
  qualityReason: 'NIS high',
};
export const drift: DriftEvent = {
  asset: ASSET,
  tag: 'zone1_temp',
  tsMs: T0 + 2,
  startTsMs: T0 - 60_000,
  kind: 'sensor-fault',
  faultType: 'stuck',
  method: 'page-hinkley',
  direction: 'up',
  magnitude: 3.5,
  evidence: { statistic: 12.5, threshold: 10, related: [{ tag: 'zone2_temp', change: 0.1, changeSigma: 0.2, moved: false }] },
  quality: 'good',
};
export const score: AnomalyScore = { asset: ASSET, tag: 'zone1_temp', tsMs: T0 + 3, method: 'page-hinkley', score: 0.75, quality: 'good' };
export const rul: RulEstimate = {
  asset: ASSET,
  tsMs: T0 + 4,
  rulMs: 864e6,
  rulP10Ms: 432e6,
  rulP90Ms: 1296e6,
  healthIndex: 0.62,
  quality: 'good',
  model: 'rul-similarity',
};
export const windowRec = (rank: number): MaintenanceWindow => ({
  asset: ASSET,
  tsMs: T0 + 5,
  rank,
  startMs: T0 + rank * 86_400_000,
  endMs: T0 + rank * 86_400_000 + 7_200_000,
  startLocal: '2025-12-05T06:00:00+01:00',
  endLocal: '2025-12-05T08:00:00+01:00',
  timeZone: 'Europe/Berlin',
  expectedCostEur: 1200.5 * rank,
  costParts: { jobEur: 800, downtimeEur: 300.5, expectedFailureEur: 100, energyEur: 0 },
  failureProbability: 0.01 * rank,
  productionLossMinutes: 45,
  why: 'Planned stop on "Friday";\nlowest expected cost.',
  quality: 'good',
});
export const energy: EnergyCost = {
  asset: ASSET,
  tsMs: T0 + 900_000,
  scope: 'interval',
  startMs: T0,
  endMs: T0 + 900_000,
  energyKwh: 12.5,
  costEur: 3.125,
  energyKwhByPeriod: { peak: 10, offpeak: 2.5 },
  co2Kg: 4.4,
  gapMs: 0,
  quality: 'good',
};
export const energyShift: EnergyCost = {
  ...energy,
  scope: 'shift',
  label: 'early',
  energyKwhByPeriod: {},
  units: 100,
  unitName: 'kg',
  energyKwhPerUnit: 0.125,
  costEurPerUnit: 0.03125,
};
export const demand: DemandStatus = {
  asset: ASSET,
  tsMs: T0 + 7,
  blockStartMs: T0,
  blockEndMs: T0 + 900_000,
  averageKwSoFar: 40,
  forecastKw: 52,
  billingPeakKw: 50,
  alert: true,
  shedKw: 2,
  quality: 'uncertain',
};
export const baseline: EnergyBaselinePoint = {
  asset: ASSET,
  tsMs: T0 + 8,
  startMs: T0,
  endMs: T0 + 8,
  actualKwh: 10,
  expectedKwh: 11,
  savingKwh: 1,
  cusumKwh: 5,
  coefficients: { intercept: 3.1, units: 0.25 },
  r2: 0.93,
  quality: 'good',
};

/** Every kind once (two windows and two energy records at the same time: identity tags keep them apart). */
export function everyKind(): Record<string, unknown>[] {
  return [reading(0), estimate, drift, score, rul, windowRec(1), windowRec(2), energy, energyShift, demand, baseline] as unknown as Record<
    string,
    unknown
  >[];
}

/** Points in a historian buffer's segment files (read as files: another process may own the buffer). */
export function bufferedOnDisk(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => /^seg-\d+\.jsonl$/.test(f))
    .reduce(
      (n, f) =>
        n +
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.endsWith('}')).length,
      0,
    );
}
