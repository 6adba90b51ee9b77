/**
 * What GET twinloop/overview/api/data answers (web/server/overview-api.ts): the store's delta since a
 * cursor (runtime/overview/series-store.ts, types only) and the pending proposals in a few words.
 */
import type { AssetDelta, Bucket, OverviewDelta, SeriesKind } from '../../runtime/overview/series-store.js';
import type { DriftEvent } from '../../runtime/model/drift.js';

export type { AssetDelta, Bucket, DriftEvent, SeriesKind };
export type { DemandStatus, EnergyCost } from '../../runtime/model/energy.js';
export type { MaintenanceWindow } from '../../runtime/model/maintenance.js';

interface ProposalBase {
  id: string;
  gateName: string;
  asset: string;
  approvals: number;
  requiredApprovals: number;
  expiresTsMs: number;
}
export interface SetpointProposal extends ProposalBase {
  kind: 'setpoint';
  tag: string;
  unit?: string;
  currentValue: number;
  proposedValue: number;
  rationale: string;
  envelopeOk: boolean;
}
export interface MaintenanceProposal extends ProposalBase {
  kind: 'maintenance';
  job: string;
  window: { startMs: number; endMs: number; startLocal: string; endLocal: string; timeZone: string; expectedCostEur: number };
  rulMs: number;
}
export type Proposal = SetpointProposal | MaintenanceProposal;

export interface Data extends Partial<OverviewDelta> {
  nowMs: number;
  username: string | null;
  nodes: Array<{ id: string; name: string }>;
  proposals: Proposal[];
  /** null: no twin-overview node is deployed (and nothing below is sent). */
  node: string | null;
  epoch?: string;
  full?: boolean;
}
