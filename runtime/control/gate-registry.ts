/**
 * The approval gates running in this process, as the supervisors' page sees them. twin-approval
 * registers a handle per node, of one of two kinds: a setpoint gate (GateHandle: proposals checked
 * against a control envelope, signed commands to writers) or a maintenance gate
 * (MaintenanceGateHandle: maintenance windows, signed maintenance orders). The page's HTTP API
 * (web/server/approvals-api.ts) lists and decides through them. No node-red import: a handle is
 * plain data + functions.
 */
import type { Decision, EnvelopeCheck, EnvelopeConfig, Proposal, ProposalState, Verdict } from '../model/control.js';
import type { LedgerRecord } from '../model/control.js';
import type { MaintenanceOrder, MaintenanceProposal } from '../model/maintenance.js';
import type { LedgerAlarm } from './ledger-auth.js';

export interface TrendPoint {
  tsMs: number;
  value: number;
}

export interface ProposalView {
  proposal: Proposal;
  state: ProposalState;
  /** Decisions so far (two-person rule: approvals from different users). */
  decisions: Decision[];
  /** Approvals this change needs (1, or 2 above the two-person threshold). */
  requiredApprovals: number;
  /** The envelope check as of now (against the gate's latest readings). */
  envelope: EnvelopeCheck;
  /** Recent history for the page's chart: the setpoint and the KPI. */
  trend: { setpoint: TrendPoint[]; kpi: TrendPoint[] };
  /** Why it ended (blocked / failed / expired), when it has. */
  reason?: string;
}

export interface DecisionRequest {
  proposalId: string;
  verdict: Verdict;
  user: string;
  printedName: string;
  reason: string;
  /**
   * What the signature means, as the signer saw and kept (or edited) it; blank or absent = the
   * standard wording for the verdict. At most MAX_MEANING_CHARS after trimming (longer is refused,
   * never cut: what is recorded must be what was signed).
   */
  meaning?: string;
}

/** Longest meaning of a signature the gate records. */
export const MAX_MEANING_CHARS = 200;

/**
 * Longest reason of a decision or a policy switch: a few sentences. Every poll of the page and
 * every ledger line carries it, so a megabyte reason would cost megabytes on each.
 */
export const MAX_REASON_CHARS = 1000;

/** The standard meaning of a signature per verdict (what the page prefills). */
export const DEFAULT_MEANING: Readonly<Record<Verdict, string>> = {
  approve: 'Approved: I authorise this setpoint change',
  reject: 'Rejected: I do not authorise this setpoint change',
};

export interface DecisionOutcome {
  ok: boolean;
  /** State after the decision (e.g. 'pending' while a second approval is still needed). */
  state?: ProposalState;
  /** Why a decision was refused (not pending, same user twice, expired, ...). */
  error?: string;
  /** The input was well formed but refused as not authentic (a write result whose signature does not verify). */
  refused?: boolean;
  /**
   * A proposal equal to one already decided (approved or rejected, as the ledger has it): it is not
   * put up again and nothing is recorded; this is the id of the decided one (`state` is its state).
   */
  duplicateOf?: string;
  /** A well-formed reading that does not count: it came from another connection than the envelope's source. */
  ignored?: string;
}

export interface AutoApprovalPolicy {
  /** On now (a supervisor may have switched a configured policy off). */
  enabled: boolean;
  /** Configured on this gate: only then can it be switched on (and the page shows a switch). */
  configured: boolean;
  /** Largest |change| the policy approves on its own, setpoint units (0 when not configured). */
  maxStep: number;
}

/** What a gate decides on: setpoint changes or maintenance windows. */
export type GateKind = 'setpoint' | 'maintenance';

export interface GateHandle {
  /** Absent on handles from before maintenance gates existed: a setpoint gate. */
  kind?: 'setpoint';
  /** Node id. */
  id: string;
  name: string;
  asset: string;
  tag: string;
  envelope: EnvelopeConfig;
  envelopeVersion: string;
  /** Changes larger than this need two different approvers (Infinity = rule off). */
  twoPersonAboveStep: number;
  autoApproval(): AutoApprovalPolicy;
  /** Open and recently ended proposals (ended ones for a short while, for the page). */
  views(): ProposalView[];
  /** Decide; resolves after the decision is in the ledger (fsync'ed). */
  decide(req: DecisionRequest): Promise<DecisionOutcome>;
  /** Switch the auto-approval policy off (or on, if configured); recorded in the ledger with the reason given. */
  setAutoApproval(enabled: boolean, user: string, reason?: string): Promise<DecisionOutcome>;
  /** The ledger's records (history tab). */
  ledgerRecords(): Promise<LedgerRecord[]>;
  ledgerLocation: string;
  /** Set when the gate could not start on its ledger and refuses to act: the page shows why and what to do. */
  alarm?: LedgerAlarm;
}

/** The states a maintenance proposal can be in (a subset of the setpoint vocabulary). */
export type MaintenanceState = Extract<ProposalState, 'pending' | 'approved' | 'rejected' | 'expired' | 'superseded'>;

/** A supervisor's decision on a maintenance window: no envelope is involved. */
export type MaintenanceDecision = Omit<Decision, 'envelopeVersion'>;

/** The standard meaning of a signature on a maintenance window. */
export const MAINTENANCE_MEANING: Readonly<Record<Verdict, string>> = {
  approve: 'Approved: I authorise this maintenance window',
  reject: 'Rejected: I do not authorise this maintenance window',
};

export interface MaintenanceView {
  proposal: MaintenanceProposal;
  state: MaintenanceState;
  decisions: MaintenanceDecision[];
  requiredApprovals: number;
  /** Why it ended (rejected / expired / superseded), when it has. */
  reason?: string;
  /** The signed order, once approved. */
  order?: MaintenanceOrder;
}

export interface MaintenanceGateHandle {
  kind: 'maintenance';
  /** Node id. */
  id: string;
  name: string;
  asset: string;
  /** Windows whose expected cost is above this need two different approvers (Infinity = rule off). */
  twoPersonAboveEur: number;
  views(): MaintenanceView[];
  /** Decide; resolves after the decision (and an order it issues) is in the ledger (fsync'ed). */
  decide(req: DecisionRequest): Promise<DecisionOutcome>;
  ledgerRecords(): Promise<LedgerRecord[]>;
  ledgerLocation: string;
  /** As GateHandle.alarm. */
  alarm?: LedgerAlarm;
}

export type AnyGateHandle = GateHandle | MaintenanceGateHandle;

export function isMaintenanceGate(h: AnyGateHandle): h is MaintenanceGateHandle {
  return h.kind === 'maintenance';
}

const gates = new Map<string, AnyGateHandle>();

/** How pages name a gate: its node name, else what it guards. */
export function gateName(g: AnyGateHandle): string {
  return g.name || (isMaintenanceGate(g) ? `${g.asset} maintenance` : `${g.asset}/${g.tag}`);
}

export function registerGate(h: AnyGateHandle): void {
  gates.set(h.id, h);
}

export function unregisterGate(id: string): void {
  gates.delete(id);
}

/** Gates of both kinds (what the page lists). */
export function listAllGates(): AnyGateHandle[] {
  return [...gates.values()];
}

export function findAnyGate(id: string): AnyGateHandle | undefined {
  return gates.get(id);
}

/** The setpoint gates (the only kind there was before maintenance gates). */
export function listGates(): GateHandle[] {
  return listAllGates().filter((g): g is GateHandle => !isMaintenanceGate(g));
}

export function findGate(id: string): GateHandle | undefined {
  const g = gates.get(id);
  return g && !isMaintenanceGate(g) ? g : undefined;
}

export function findMaintenanceGate(id: string): MaintenanceGateHandle | undefined {
  const g = gates.get(id);
  return g && isMaintenanceGate(g) ? g : undefined;
}
