/**
 * Records of predictive maintenance: a remaining-useful-life estimate, a ranked maintenance window,
 * and the maintenance proposal a supervisor approves or rejects on the approvals page.
 */
import type { Quality } from './quality.js';

/**
 * Remaining useful life of an asset at the event time of the last reading it rests on. rulMs is the
 * point forecast (P50); P10/P90 bound where the true RUL fell in 80 % of held-out cases with a
 * similar forecast (so P(fail before now + rulP10Ms) ≈ 10 %).
 */
export interface RulEstimate {
  asset: string;
  tsMs: number;
  rulMs: number;
  rulP10Ms: number;
  rulP90Ms: number;
  /** 1 = as new, 0 = at failure */
  healthIndex: number;
  quality: Quality;
  qualityReason?: string;
  /** the model's kind and fit label, e.g. 'rul-similarity' */
  model?: string;
}

/** One part of a window's expected cost. */
export interface WindowCostParts {
  /** the job itself (parts, labour) */
  jobEur: number;
  /** production lost: downtime rate × the part of the job that falls in production time */
  downtimeEur: number;
  /** failure cost × probability the asset fails before the window starts */
  expectedFailureEur: number;
  /** energy the job draws, priced by the tariff at the window's time (0 without a tariff) */
  energyEur: number;
}

/** A candidate maintenance window, ranked (rank 1 = recommended). */
export interface MaintenanceWindow {
  asset: string;
  /** event time of the RUL estimate the ranking rests on */
  tsMs: number;
  rank: number;
  startMs: number;
  endMs: number;
  /** local wall time of start and end in the calendar's zone, ISO 8601 with offset */
  startLocal: string;
  endLocal: string;
  timeZone: string;
  expectedCostEur: number;
  costParts: WindowCostParts;
  /** P(failure before startMs) from the RUL distribution */
  failureProbability: number;
  /** production minutes the job takes away */
  productionLossMinutes: number;
  /** one or two sentences: why this window */
  why: string;
  quality: Quality;
  qualityReason?: string;
}

/** A maintenance window put to the supervisors (twin-maintenance → twin-approval in maintenance mode). */
export interface MaintenanceProposal {
  kind: 'maintenance';
  /** unique id (UUID) */
  id: string;
  asset: string;
  /** what is to be done, e.g. 'Replace gearbox bearing' */
  job: string;
  window: MaintenanceWindow;
  /** the runners-up, for the page (rank 2..) */
  alternatives: MaintenanceWindow[];
  rul: RulEstimate;
  rationale: string;
  createdTsMs: number;
  /** wall clock: after this the proposal can no longer be approved */
  expiresTsMs: number;
  quality: Quality;
  qualityReason?: string;
  /** id of the open proposal for the same asset and job this one replaces */
  supersedes?: string;
}

/**
 * An approved maintenance window, issued by the gate after the decisions it needs are durable in
 * the ledger: what a CMMS adapter or a work-order flow takes. Signed like a Command (HMAC-SHA256 over
 * the canonical JSON of every other field) so a receiver can check it came from the gate.
 */
export interface MaintenanceOrder {
  id: string;
  proposalId: string;
  asset: string;
  job: string;
  startMs: number;
  endMs: number;
  timeZone: string;
  /** logins that approved */
  approvedBy: string[];
  issuedTsMs: number;
  signature: string;
}
