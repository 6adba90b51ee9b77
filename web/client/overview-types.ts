/**
 * What GET twinloop/overview/api/data answers (web/server/overview-api.ts): the store's delta since a
 * cursor (runtime/overview/series-store.ts, types only) and the pending proposals in a few words.
 */
import type { AssetDelta, Bucket, OverviewDelta, SeriesKind } from '../../runtime/overview/series-store.js';
import type { DriftEvent } from '../../runtime/model/drift.js';
import type { AlarmRow } from '../../runtime/alarm/alarm-actions.js';

export type { AlarmRow, AssetDelta, Bucket, DriftEvent, SeriesKind };
export type { DemandStatus, EnergyCost } from '../../runtime/model/energy.js';
export type { MaintenanceWindow } from '../../runtime/model/maintenance.js';

interface ProposalBase {
  id: string;
  gateName: string;
  asset: string;
  approvals: number;
  requiredApprovals: number;
  expiresTsMs: number;
  /** In a cluster: the instance whose gate decides it. */
  instance?: string;
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
  /** Alarms an operator must see, of every twin-alarm node (runtime/alarm/alarm-actions.ts alarmRows). */
  alarms: AlarmRow[];
  alarmSources: AlarmSource[];
  /** What the logged-in user may do with alarms (the server checks again on every action). */
  alarmRights: { ack: boolean; shelve: boolean };
  /** null: no twin-overview node is deployed (and nothing below is sent). */
  node: string | null;
  epoch?: string;
  full?: boolean;
}

export interface AlarmSource {
  id: string;
  name: string;
  /** Longest shelving the node allows, ms. */
  maxShelveMs: number;
  /** Where its actions are recorded besides output 1: 'ledger' or 'log'. */
  recordedIn: 'ledger' | 'log';
}

/** What POST twinloop/overview/api/alarm answers. */
export interface AlarmActionAnswer {
  ok?: boolean;
  user?: string;
  changed?: boolean;
  state?: string;
  error?: string;
}
