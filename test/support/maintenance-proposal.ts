/**
 * MaintenanceProposal records for the maintenance-kind gate specs, as twin-maintenance makes them: a
 * ranked window in the plant's time zone with its cost parts, runners-up, and the RUL it rests on.
 */
import type { MaintenanceProposal, MaintenanceWindow } from '../../runtime/model/maintenance.js';

export const M_ASSET = 'demo/plant1/extrusion/line1/extruder';
export const M_ZONE = 'Europe/Berlin';
const HOUR_MS = 3_600_000;

/** Local wall time in the zone, ISO 8601 with offset (as twin-maintenance writes startLocal/endLocal). */
export function localIso(ms: number, timeZone = M_ZONE): string {
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'longOffset',
  });
  const s = f.format(new Date(ms)); // "2026-12-05 06:00:00 GMT+01:00"
  const [date, time, gmt] = s.split(' ');
  const off = gmt === 'GMT' ? '+00:00' : gmt!.replace('GMT', '');
  return `${date}T${time}${off}`;
}

export function maintenanceWindow(startMs: number, durationMs = 4 * HOUR_MS, over: Partial<MaintenanceWindow> = {}): MaintenanceWindow {
  const endMs = startMs + durationMs;
  return {
    asset: M_ASSET,
    tsMs: startMs - 24 * HOUR_MS,
    rank: 1,
    startMs,
    endMs,
    startLocal: localIso(startMs),
    endLocal: localIso(endMs),
    timeZone: M_ZONE,
    expectedCostEur: 1850,
    costParts: { jobEur: 1200, downtimeEur: 0, expectedFailureEur: 610, energyEur: 40 },
    failureProbability: 0.061,
    productionLossMinutes: 0,
    why: 'Planned stop: no production lost, failure risk before it about 6 %.',
    quality: 'good',
    ...over,
  };
}

export function maintenanceProposal(id: string, over: Partial<MaintenanceProposal> = {}, nowMs = Date.now()): MaintenanceProposal {
  const start = nowMs + 48 * HOUR_MS;
  return {
    kind: 'maintenance',
    id,
    asset: M_ASSET,
    job: 'Replace gearbox bearing',
    window: maintenanceWindow(start),
    alternatives: [
      maintenanceWindow(start - 30 * HOUR_MS, 4 * HOUR_MS, {
        rank: 2,
        expectedCostEur: 3100,
        costParts: { jobEur: 1200, downtimeEur: 1800, expectedFailureEur: 70, energyEur: 30 },
        failureProbability: 0.007,
        productionLossMinutes: 240,
        why: 'Tomorrow morning: lowest risk, but 4 h of production lost.',
      }),
    ],
    rul: {
      asset: M_ASSET,
      tsMs: nowMs - 60_000,
      rulMs: 9 * 24 * HOUR_MS,
      rulP10Ms: 4 * 24 * HOUR_MS,
      rulP90Ms: 15 * 24 * HOUR_MS,
      healthIndex: 0.31,
      quality: 'good',
      model: 'rul-similarity',
    },
    rationale: 'Bearing wear is rising; the next planned stop costs least with an acceptable failure risk before it.',
    createdTsMs: nowMs,
    expiresTsMs: nowMs + 30 * 60_000,
    quality: 'good',
    ...over,
  };
}
