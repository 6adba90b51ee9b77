/**
 * The approval gates running in this process, as the supervisors' page sees them. twin-approval
 * registers a handle per node; the page's HTTP API (nodes/twin-approval/approvals-api.ts) lists and
 * decides through it. No node-red import: the handle is plain data + functions.
 */
import type { Decision, EnvelopeCheck, EnvelopeConfig, Proposal, ProposalState, Verdict } from '../model/control.js';
import type { LedgerRecord } from '../model/control.js';

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
}

export interface AutoApprovalPolicy {
  /** On now (a supervisor may have switched a configured policy off). */
  enabled: boolean;
  /** Configured on this gate: only then can it be switched on (and the page shows a switch). */
  configured: boolean;
  /** Largest |change| the policy approves on its own, setpoint units (0 when not configured). */
  maxStep: number;
}

export interface GateHandle {
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
}

const gates = new Map<string, GateHandle>();

export function registerGate(h: GateHandle): void {
  gates.set(h.id, h);
}

export function unregisterGate(id: string): void {
  gates.delete(id);
}

export function listGates(): GateHandle[] {
  return [...gates.values()];
}

export function findGate(id: string): GateHandle | undefined {
  return gates.get(id);
}
