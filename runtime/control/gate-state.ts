/**
 * The approval gate's state and vocabulary: its configuration, one Change per proposal, what goes
 * in (GateInput) and what comes out (GateEffect). The machine (gate-machine.ts) is a pure function of
 * these; the executor (gate.ts) turns effects into ledger appends, commands, orders and replies, in order.
 * Generic in the proposal (P): a setpoint Proposal by default, a MaintenanceProposal in a maintenance gate.
 */
import { createHash } from 'node:crypto';
import type { Command, Decision, EnvelopeConfig, Proposal, ProposalState, WriteResult } from '../model/control.js';
import type { MaintenanceOrder } from '../model/maintenance.js';
import type { Reading } from '../model/reading.js';
import { badConfig } from '../model/errors.js';
import { MIN_KEY_CHARS } from './command.js';
import type { DecisionOutcome, DecisionRequest } from './gate-registry.js';
import type { LedgerEntry } from './stores.js';
import type { BaseProposal } from './gate-kind.js';
import type { MaintenanceGateConfig } from './gate-maintenance.js';

/** The auto-approval policy decides under this name (its own recorded decision). */
export const POLICY_USER = 'policy:auto-approval';

/** How long after a command's expiry the gate still waits for its write result before calling it failed. */
export const DEFAULT_RESULT_GRACE_MS = 30_000;

/** The auto-approval policy as configured (what the page sees is AutoApprovalPolicy). */
export interface AutoApprovalConfig {
  enabled: boolean;
  /** Largest |change| the policy approves on its own, setpoint units. */
  maxStep: number;
}

export interface GateConfig {
  /** Absent on configs from before kinds existed: a setpoint gate. */
  kind?: 'setpoint';
  envelope: EnvelopeConfig;
  envelopeVersion: string;
  /** Changes larger than this need two different approvers; Infinity = rule off. */
  twoPersonAboveStep: number;
  /** `enabled` = configured on (it starts on and supervisors may switch it off and on again). */
  autoApproval: AutoApprovalConfig;
  commandTtlMs: number;
  /** HMAC key shared with the writers. */
  signingKey: string;
  /** Wait this long past a command's expiry for its result (a writer may be mid read-back). */
  resultGraceMs?: number;
}

/** A gate's configuration, of either kind. */
export type AnyGateConfig = GateConfig | MaintenanceGateConfig;

export function isMaintenanceConfig(c: AnyGateConfig): c is MaintenanceGateConfig {
  return c.kind === 'maintenance';
}

/** Refuse a configuration that would make the rules contradict each other. */
export function validateGateConfig(c: GateConfig): GateConfig {
  if (!(c.twoPersonAboveStep > 0)) badConfig(`twoPersonAboveStep must be > 0 (blank = off), not ${c.twoPersonAboveStep}`);
  if (!(Number.isFinite(c.commandTtlMs) && c.commandTtlMs >= 1000)) badConfig(`commandTtlMs must be at least 1000, not ${c.commandTtlMs}`);
  if (typeof c.signingKey !== 'string' || c.signingKey.length < MIN_KEY_CHARS) {
    badConfig(`the ledger's signing key is missing or shorter than ${MIN_KEY_CHARS} characters`);
  }
  if (c.autoApproval.enabled) {
    const m = c.autoApproval.maxStep;
    if (!(Number.isFinite(m) && m > 0)) badConfig(`autoApprovalMaxStep must be > 0 when auto-approval is on, not ${m}`);
    // The policy is one approver: it must never decide a change that needs two people.
    if (m > c.twoPersonAboveStep) badConfig(`autoApprovalMaxStep ${m} must not exceed twoPersonAboveStep ${c.twoPersonAboveStep}`);
  }
  return c;
}

/** Everything the gate knows about one proposal. */
export interface Change<P extends BaseProposal = Proposal> {
  proposal: P;
  state: ProposalState;
  /** A maintenance decision has no envelope version. */
  decisions: Decision[];
  /** 1 or 2; only ever raised (a second approval is never waived because a reading moved). */
  requiredApprovals: number;
  reason?: string;
  /** Wall clock the change reached a final state (views keep ended ones a while). */
  endedTsMs?: number;
  /** Planned values, step 1..n, fixed when the first step is issued (re-planned after a restart). */
  plan?: number[];
  /** Commands issued, in step order. */
  commands: Command[];
  /** Write results by command id (the first one counts). */
  results: Map<string, WriteResult>;
  /** Maintenance: the signed order, once approved. */
  order?: MaintenanceOrder;
}

export const FINAL_STATES: ReadonlySet<ProposalState> = new Set(['rejected', 'expired', 'superseded', 'blocked', 'done', 'failed']);

export interface GateState<P extends BaseProposal = Proposal> {
  /** By proposal id, in arrival order. */
  changes: Map<string, Change<P>>;
  /** Command id → proposal id, for write results and restore. */
  commandOwner: Map<string, string>;
  /** Latest reading per readingKey (the envelope's inputs). */
  readings: Map<string, Reading>;
  /** Wall clock of the last write to this setpoint (dwell and rate are measured from it). */
  lastChangeTsMs?: number;
  /** The last value written and read back, and when: newer than the setpoint's reading until the plant reports it. */
  lastWritten?: { value: number; tsMs: number };
  /** The command issued and not yet answered (at most one per setpoint). */
  inflight?: Command;
  autoApprovalOn: boolean;
}

export function emptyGateState<P extends BaseProposal = Proposal>(config: AnyGateConfig): GateState<P> {
  const autoApprovalOn = isMaintenanceConfig(config) ? false : config.autoApproval.enabled;
  return { changes: new Map(), commandOwner: new Map(), readings: new Map(), autoApprovalOn };
}

/** A new change, as a proposal arrives (or its record is restored). */
export function newChange<P extends BaseProposal>(proposal: P): Change<P> {
  return { proposal, state: 'pending', decisions: [], requiredApprovals: 1, commands: [], results: new Map() };
}

/** A reply token: the executor resolves the caller's promise when the effects before it are durable. */
export type Token = number;

export type GateInput<P extends BaseProposal = Proposal> =
  | { kind: 'proposal'; proposal: P; token?: Token }
  | { kind: 'reading'; reading: Reading; token?: Token }
  | { kind: 'result'; result: WriteResult; token?: Token }
  | { kind: 'decide'; request: DecisionRequest; token?: Token }
  | { kind: 'policy'; enabled: boolean; user: string; reason?: string; token?: Token }
  /** Time passed (the operator's timer): expiries, due ramp steps; with a token, answered like any input. */
  | { kind: 'tick'; token?: Token };

/** What a state event (output 2) and the page see of a change. */
export interface ChangeSnapshot<P extends BaseProposal = Proposal> {
  proposal: P;
  state: ProposalState;
  decisions: Decision[];
  requiredApprovals: number;
  reason?: string;
  endedTsMs?: number;
  step?: number;
  steps?: number;
  /** Maintenance: the signed order, once approved. */
  order?: MaintenanceOrder;
}

export type GateEffect<P extends BaseProposal = Proposal> =
  /**
   * Append to the ledger; then report the change's state (no snapshot: a policy record).
   * `result`: a write result the writer may have recorded already (the executor then does not repeat it).
   */
  | { kind: 'record'; entry: LedgerEntry; snapshot?: ChangeSnapshot<P>; result?: WriteResult }
  /** Emit a command (only after every record before it is durable); `replay`: re-emitted unchanged after a restart. */
  | { kind: 'command'; command: Command; replay?: boolean }
  /** Emit a maintenance order (after every record before it is durable); `replay`: re-sent unchanged after a restart. */
  | { kind: 'order'; order: MaintenanceOrder; replay?: boolean }
  /** Answer the caller of the input with this token. */
  | { kind: 'reply'; token: Token; outcome: DecisionOutcome };

export function snapshot<P extends BaseProposal>(c: Change<P>): ChangeSnapshot<P> {
  const s: ChangeSnapshot<P> = {
    proposal: c.proposal,
    state: c.state,
    decisions: [...c.decisions],
    requiredApprovals: c.requiredApprovals,
  };
  if (c.reason !== undefined) s.reason = c.reason;
  if (c.endedTsMs !== undefined) s.endedTsMs = c.endedTsMs;
  if (c.commands.length > 0) {
    s.step = c.commands.length;
    s.steps = c.plan?.length ?? c.commands[c.commands.length - 1]!.steps;
  }
  if (c.order !== undefined) s.order = c.order;
  return s;
}

/**
 * A command id derived from the setpoint, proposal and step (UUID-shaped): a bug that issued a step
 * twice would produce the same id, which the writer's single-use store refuses.
 */
export function commandIdFor(asset: string, tag: string, proposalId: string, step: number): string {
  const h = createHash('sha256').update(`${asset}/${tag}#${proposalId}#${step}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export type { DecisionRequest, DecisionOutcome };
