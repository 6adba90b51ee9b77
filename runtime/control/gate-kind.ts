/**
 * What one kind of proposal adds to the approval gate's core (gate-machine.ts). The core owns the
 * life of a proposal: arrival, supersede, the decision that stands, the supervisors' decisions and
 * the two-person rule, expiry, the ledger records, the replies. A kind says what its proposals are
 * about and what "approved" sets going:
 *   setpoint    (gate-setpoint.ts)    checked against a control envelope; approved → signed commands,
 *                                     one ramp step at a time, each awaited from a writer
 *   maintenance (gate-maintenance.ts) a maintenance window; approved → one signed MaintenanceOrder,
 *                                     no plant write
 * A gate decides one kind (one setpoint, or one asset's maintenance); its records say which: a
 * setpoint's carry asset and tag, a maintenance gate's the asset only and `kind: 'maintenance'`
 * in their data. A record without a kind is a setpoint's (every ledger from before kinds existed).
 */
import type { LedgerRecord, Verdict } from '../model/control.js';
import type { Quality } from '../model/quality.js';
import type { Change, GateEffect, GateState } from './gate-state.js';
import type { DecisionOutcome } from './gate-registry.js';
import type { GateMachine } from './gate-machine.js';

export type ProposalKind = 'setpoint' | 'maintenance';

/** What the core reads of any proposal. */
export interface BaseProposal {
  id: string;
  asset: string;
  /** Wall clock: undecided by then, it expires. */
  expiresTsMs: number;
  quality: Quality;
  qualityReason?: string;
}

/** The inputs only a kind knows what to do with (the core refuses them when its kind has none). */
export type KindInput =
  | { kind: 'reading'; reading: import('../model/reading.js').Reading }
  | { kind: 'result'; result: import('../model/control.js').WriteResult }
  | { kind: 'policy'; enabled: boolean; user: string; reason?: string };

/** A refused input: the caller (node) reports it through done(err); nothing is recorded. */
export class Refusal extends Error {}

/** The kind a ledger record belongs to: `kind` in its data, setpoint when absent (older ledgers). */
export function recordKind(rec: Pick<LedgerRecord, 'data'>): ProposalKind {
  const d = rec.data as { kind?: unknown } | null;
  return d !== null && typeof d === 'object' && d.kind === 'maintenance' ? 'maintenance' : 'setpoint';
}

export interface KindRules<P extends BaseProposal> {
  readonly kind: ProposalKind;
  /** How refusals name a proposal ('proposal', 'maintenance proposal') and what it changes ('change'). */
  readonly noun: string;
  readonly subject: string;
  /** The standard meaning of a signature per verdict (what the page prefills). */
  readonly meaning: Readonly<Record<Verdict, string>>;
  /** What the gate's records carry: a setpoint's asset and tag, a maintenance gate's asset only. */
  readonly asset: string;
  readonly tag?: string;

  /** Why a proposal for something else is refused (undefined: it is this gate's). */
  wrongTarget(p: P): string | undefined;
  /** Why a proposal of this gate can no longer be decided on arrival (after the common checks). */
  tooLate?(p: P, nowMs: number): string | undefined;
  /** Until when a pending proposal may be decided, and why it expired then. */
  decideByMs(p: P): number;
  expiryReason(p: P, nowMs: number): string;
  /** Whether the newly arrived `p` supersedes the pending `old`. */
  replaces(old: P, p: P): boolean;
  /** Whether the decision on `c` stands for `p` (same subject, situation unchanged): p is then not put up. */
  decisionStands(c: Change<P>, p: P): boolean;
  /** Approvals the rule asks for now (1, or 2 above the two-person threshold); the core never lowers them. */
  approvalsNeeded(c: Change<P>): number;
  /** Fields every decision of this kind records (the setpoint's envelope version). */
  decisionFields(): { envelopeVersion?: string };
  /** What a decision record holds besides the decision, its state and required approvals. */
  decisionExtras(c: Change<P>, nowMs: number): Record<string, unknown>;
  /** Why an approval is refused outright (undefined: it may be given). */
  refuseApproval?(c: Change<P>, nowMs: number): string | undefined;
  /** After a proposal is recorded and the ones it replaces superseded (the auto-approval policy). */
  afterProposal?(c: Change<P>, nowMs: number, out: GateEffect<P>[]): void;
  /** After a change has all its approvals (recorded): what approval sets going. */
  onApproved(c: Change<P>, nowMs: number, out: GateEffect<P>[]): void;
  /** On start, after a restore: re-send what was issued and not yet settled. */
  start(nowMs: number, out: GateEffect<P>[]): void;
  /** Time: what the kind does on its own (the setpoint's lapsed commands, next ramp steps). */
  advance?(nowMs: number, out: GateEffect<P>[]): void;
  /** When the kind next has something to do on its own. */
  wakeTimes?(nowMs: number): number[];
  /** Readings, write results and policy switches (setpoint only). */
  input?(input: KindInput, nowMs: number, out: GateEffect<P>[]): DecisionOutcome;
  /** Restore: the proposal a 'proposal' record of this gate holds (undefined: not one). */
  restoredProposal(data: unknown): P | undefined;
  /** Restore: a record of another type than proposal, decision, expired, superseded, blocked. */
  restoreRecord?(state: GateState<P>, rec: LedgerRecord, c: Change<P> | undefined): void;
}

/** Builds a kind's rules for a machine (they read and change its state through it). */
export type KindRulesFactory<P extends BaseProposal> = (m: GateMachine<P>) => KindRules<P>;
