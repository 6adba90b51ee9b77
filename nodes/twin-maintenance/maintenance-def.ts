/**
 * twin-maintenance: the saved config turned into runtime options, and the two kinds of input
 * checked (a RulEstimate, a calendar). Every problem is a TwinError that says what to fix.
 */
import type { NodeDef } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import type { RulEstimate } from '../../runtime/model/maintenance.js';
import { isQuality } from '../../runtime/model/quality.js';
import { compileCalendar, type CalendarDef, type ProductionCalendar } from '../../runtime/maintenance/production-calendar.js';
import { failureDistribution } from '../../runtime/maintenance/failure-probability.js';
import { validateRankOptions, type RankOptions } from '../../runtime/maintenance/window-ranking.js';
import { validateStabilityOptions, type StabilityOptions } from '../../runtime/maintenance/window-stability.js';

type Field = string | number | boolean | undefined;

export interface TwinMaintenanceDef extends NodeDef {
  job?: string;
  timeZone?: string;
  /** JSON text: { shifts, week, plannedStops?, holidays? } (timeZone from the field above) */
  calendar?: string;
  jobDurationMin?: Field;
  downtimeCostEurPerHour?: Field;
  failureCostEur?: Field;
  jobCostEur?: Field;
  horizonDays?: Field;
  stepMin?: Field;
  topN?: Field;
  /** blank = no limit */
  maxFailureProbability?: Field;
  allowProductionLoss?: Field;
  /** id of a twin-tariff config node; blank = no energy costing */
  tariff?: string;
  jobPowerKw?: Field;
  restartEnergyKwh?: Field;
  relativeMargin?: Field;
  absoluteMarginEur?: Field;
  proposalExpiryMin?: Field;
}

export interface MaintenanceConfig {
  job: string;
  calendar: ProductionCalendar;
  rank: Omit<RankOptions, 'tariff'>;
  stability: StabilityOptions;
  proposalExpiryMs: number;
}

export const DEFAULTS = {
  job: 'maintenance',
  jobDurationMin: 240,
  downtimeCostEurPerHour: 0,
  failureCostEur: 0,
  jobCostEur: 0,
  horizonDays: 14,
  stepMin: 15,
  topN: 5,
  relativeMargin: 0.1,
  absoluteMarginEur: 100,
  proposalExpiryMin: 24 * 60,
};

function num(v: Field, what: string, fallback?: number): number | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (typeof v === 'boolean' || !Number.isFinite(n))
    throw new TwinError('BAD_CONFIG', `${what} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** The calendar from a flow's JSON text or a message payload (object or JSON text). */
export function calendarFromPayload(payload: unknown, defaultTimeZone: string | undefined, what: string): ProductionCalendar {
  let def = payload;
  if (typeof def === 'string') {
    try {
      def = JSON.parse(def);
    } catch (err) {
      throw new TwinError('BAD_CONFIG', `${what} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!def || typeof def !== 'object' || Array.isArray(def))
    throw new TwinError('BAD_CONFIG', `${what} must be an object { timeZone?, shifts, week, plannedStops?, holidays? }`);
  const d = def as Partial<CalendarDef>;
  return compileCalendar({ ...d, timeZone: d.timeZone ?? defaultTimeZone } as CalendarDef);
}

/** The node's calendar: its JSON text with the node's time zone (the editor's preview checks the same). */
export function calendarFromDef(def: Pick<TwinMaintenanceDef, 'calendar' | 'timeZone'>): ProductionCalendar {
  const zone = typeof def.timeZone === 'string' && def.timeZone.trim() !== '' ? def.timeZone.trim() : undefined;
  const calendar = calendarFromPayload(def.calendar ?? '', zone, 'calendar');
  if (zone && calendar.timeZone !== zone)
    throw new TwinError('BAD_CONFIG', `calendar time zone '${calendar.timeZone}' differs from the node's '${zone}' (leave one blank)`);
  return calendar;
}

export function configFromDef(def: TwinMaintenanceDef): MaintenanceConfig {
  const calendar = calendarFromDef(def);
  const rank = validateRankOptions({
    jobDurationMin: num(def.jobDurationMin, 'jobDurationMin', DEFAULTS.jobDurationMin) as number,
    downtimeCostEurPerHour: num(def.downtimeCostEurPerHour, 'downtimeCostEurPerHour', DEFAULTS.downtimeCostEurPerHour) as number,
    failureCostEur: num(def.failureCostEur, 'failureCostEur', DEFAULTS.failureCostEur) as number,
    jobCostEur: num(def.jobCostEur, 'jobCostEur', DEFAULTS.jobCostEur) as number,
    horizonDays: num(def.horizonDays, 'horizonDays', DEFAULTS.horizonDays) as number,
    stepMin: num(def.stepMin, 'stepMin', DEFAULTS.stepMin) as number,
    topN: num(def.topN, 'topN', DEFAULTS.topN) as number,
    maxFailureProbability: num(def.maxFailureProbability, 'maxFailureProbability'),
    allowProductionLoss: def.allowProductionLoss !== false && def.allowProductionLoss !== 'false',
    jobPowerKw: num(def.jobPowerKw, 'jobPowerKw', 0),
    restartEnergyKwh: num(def.restartEnergyKwh, 'restartEnergyKwh', 0),
  });
  const stability = validateStabilityOptions({
    relativeMargin: num(def.relativeMargin, 'relativeMargin', DEFAULTS.relativeMargin) as number,
    absoluteMarginEur: num(def.absoluteMarginEur, 'absoluteMarginEur', DEFAULTS.absoluteMarginEur) as number,
  });
  const expiryMin = num(def.proposalExpiryMin, 'proposalExpiryMin', DEFAULTS.proposalExpiryMin) as number;
  if (expiryMin <= 0) throw new TwinError('BAD_CONFIG', `proposalExpiryMin must be > 0, got ${expiryMin}`);
  const job = typeof def.job === 'string' && def.job.trim() !== '' ? def.job.trim() : DEFAULTS.job;
  return { job, calendar, rank, stability, proposalExpiryMs: expiryMin * 60_000 };
}

/** A RulEstimate payload, checked field by field (quantiles in order, all finite). */
export function rulFromPayload(payload: unknown): RulEstimate {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TwinError(
      'BAD_PAYLOAD',
      `payload is not a RulEstimate object (got ${Array.isArray(payload) ? 'an array' : payload === null ? 'null' : typeof payload})`,
    );
  }
  const p = payload as Record<string, unknown>;
  if (typeof p.asset !== 'string' || p.asset.trim() === '')
    throw new TwinError('BAD_PAYLOAD', 'RulEstimate.asset must be a non-empty string');
  if (typeof p.tsMs !== 'number' || !Number.isFinite(p.tsMs))
    throw new TwinError('BAD_TIMESTAMP', `RulEstimate.tsMs must be epoch milliseconds, got ${JSON.stringify(p.tsMs)}`);
  for (const k of ['rulMs', 'rulP10Ms', 'rulP90Ms', 'healthIndex']) {
    if (typeof p[k] !== 'number') throw new TwinError('BAD_PAYLOAD', `RulEstimate.${k} must be a number, got ${JSON.stringify(p[k])}`);
    if (!Number.isFinite(p[k])) throw new TwinError('NOT_FINITE', `RulEstimate.${k} is not finite: ${p[k]}`);
  }
  if (!isQuality(p.quality))
    throw new TwinError('BAD_PAYLOAD', `RulEstimate.quality must be good, uncertain or bad, got ${JSON.stringify(p.quality)}`);
  const rul = payload as RulEstimate;
  failureDistribution(rul); // quantile order
  return rul;
}
