/**
 * The approval gates running in this process, as the supervisors' pages see them. twin-approval
 * registers one GateHandle per node; a gate decides one kind of proposal (gate-kind.ts): setpoint
 * changes (checked against a control envelope, signed commands to writers) or maintenance windows
 * (signed maintenance orders). A handle says which in `kind`, and carries that kind's own facts and
 * views beside what every gate has. The pages' HTTP APIs (web/server/approvals-api.ts,
 * overview-api.ts) list and decide through them. No node-red import: a handle is plain data + functions.
 */
import type { Decision, EnvelopeCheck, EnvelopeConfig, Proposal, ProposalState, Verdict } from '../model/control.js';
import type { LedgerRecord } from '../model/control.js';
import type { MaintenanceOrder, MaintenanceProposal } from '../model/maintenance.js';
import type { ProposalKind } from './gate-kind.js';
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

/** What every gate's handle shows, whatever it decides on. */
interface CommonFacts<K extends ProposalKind> {
  /** What the gate decides on (its core's kind, gate-kind.ts). */
  kind: K;
  /** Node id. */
  id: string;
  name: string;
  asset: string;
  ledgerLocation: string;
  /**
   * The cluster line ('site/area/line') the gate acts for, when it runs in a TwinLoop cluster: the
   * cluster's gate service (runtime/cluster/gate-service.ts) serves it to other instances only while
   * this instance owns that line.
   */
  line?: string;
  /** Set when the gate could not start on its ledger and refuses to act: the page shows why and what to do. */
  alarm?: LedgerAlarm;
}

/** What a kind adds to what the page shows of its gate. */
interface KindFacts {
  setpoint: {
    tag: string;
    envelope: EnvelopeConfig;
    envelopeVersion: string;
    /** Changes larger than this need two different approvers (Infinity = rule off). */
    twoPersonAboveStep: number;
  };
  maintenance: {
    /** Windows whose expected cost is above this need two different approvers (Infinity = rule off). */
    twoPersonAboveEur: number;
  };
}

/** What a kind's proposals look like on the page. */
interface KindViews {
  setpoint: ProposalView;
  maintenance: MaintenanceView;
}

/** What a kind adds to what the page can do with its gate. */
interface KindCalls {
  setpoint: {
    autoApproval(): AutoApprovalPolicy;
    /** Switch the auto-approval policy off (or on, if configured); recorded in the ledger with the reason given. */
    setAutoApproval(enabled: boolean, user: string, reason?: string): Promise<DecisionOutcome>;
  };
  maintenance: object;
}

/**
 * What a gate of kind K shows, without its functions (all a gate that refuses to act has): GateFacts
 * alone is either kind, told apart by `kind`.
 */
export type GateFacts<K extends ProposalKind = ProposalKind> = K extends ProposalKind ? CommonFacts<K> & KindFacts[K] : never;

/**
 * A gate running in this process. GateHandle alone is either kind, told apart by `kind`;
 * GateHandle<'setpoint'> or GateHandle<'maintenance'> is one kind's, with its own fields and views.
 */
export type GateHandle<K extends ProposalKind = ProposalKind> = K extends ProposalKind
  ? CommonFacts<K> &
      KindFacts[K] &
      KindCalls[K] & {
        /** Open and recently ended proposals (ended ones for a short while, for the page). */
        views(): KindViews[K][];
        /** Decide; resolves after the decision (and a command or order it issues) is in the ledger (fsync'ed). */
        decide(req: DecisionRequest): Promise<DecisionOutcome>;
        /** The ledger's records (history tab). */
        ledgerRecords(): Promise<LedgerRecord[]>;
      }
  : never;

const gates = new Map<string, GateHandle>();
const listeners = new Set<() => void>();

/** How pages name a gate: its node name, else what it guards. */
export function gateName(g: GateHandle): string {
  return g.name || (g.kind === 'maintenance' ? `${g.asset} maintenance` : `${g.asset}/${g.tag}`);
}

export function registerGate(h: GateHandle): void {
  gates.set(h.id, h);
  changed();
}

export function unregisterGate(id: string): void {
  if (gates.delete(id)) changed();
}

/**
 * Hear every registration and unregistration (the cluster's gate service follows the gates it
 * serves). Returns the function that stops listening.
 */
export function onGatesChanged(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  for (const l of [...listeners]) {
    try {
      l();
    } catch {
      /* a listener's failure is its own: registration goes on */
    }
  }
}

/** The gates in this process, in the order they registered: every one, or those of one kind. */
export function listGates(): GateHandle[];
export function listGates<K extends ProposalKind>(kind: K): GateHandle<K>[];
export function listGates(kind?: ProposalKind): GateHandle[] {
  return [...gates.values()].filter((g) => kind === undefined || g.kind === kind);
}

/** The gate of this node id; with a kind, only when it decides that kind. */
export function findGate(id: string): GateHandle | undefined;
export function findGate<K extends ProposalKind>(id: string, kind: K): GateHandle<K> | undefined;
export function findGate(id: string, kind?: ProposalKind): GateHandle | undefined {
  const g = gates.get(id);
  return g && (kind === undefined || g.kind === kind) ? g : undefined;
}
