/**
 * The approval gate as a pure state machine: `handle(input, nowMs)` mutates the GateState and returns
 * the effects, in the order they must happen (records before the command or order they justify,
 * replies last). No I/O, no clock of its own: the operator (gate-operator.ts) supplies the time and
 * the timer, the executor (gate.ts) makes the effects durable. Marble and property tests drive this.
 *
 * One core for every kind of proposal (gate-kind.ts): arrival, supersede, the decision that stands,
 * decisions and the two-person rule, expiry, ledger records, replies. The kind's rules say what a
 * proposal is about and what approval sets going:
 *   setpoint    pending → approved → (commands, one ramp step at a time) → done | failed
 *               pending → rejected | expired | superseded ;  approved → blocked | superseded | expired
 *   maintenance pending → approved (→ one signed order) | rejected | expired | superseded
 *
 * A decision stands: a proposal equal to one a person (or the policy) approved or rejected is not put
 * up again while the situation decided on is unchanged (the kind says what "equal" and "unchanged"
 * mean). That holds after a restart (the state comes from the ledger) and when a restarted proposer
 * makes the same proposal anew. It is answered with `duplicateOf` and nothing is recorded.
 */
import type { Decision, EnvelopeCheck, Proposal } from '../model/control.js';
import { Refusal, type BaseProposal, type KindRules } from './gate-kind.js';
import { maintenanceRules } from './gate-maintenance.js';
import { SetpointRules } from './gate-setpoint.js';
import {
  FINAL_STATES,
  emptyGateState,
  isMaintenanceConfig,
  newChange,
  snapshot,
  type AnyGateConfig,
  type Change,
  type DecisionOutcome,
  type DecisionRequest,
  type GateEffect,
  type GateInput,
  type GateState,
} from './gate-state.js';
import type { LedgerEntry } from './stores.js';
import { MAX_MEANING_CHARS, MAX_REASON_CHARS } from './gate-registry.js';

export { applyResult, noteWrite } from './gate-setpoint.js';

export class GateMachine<P extends BaseProposal = Proposal> {
  readonly state: GateState<P>;
  readonly rules: KindRules<P>;

  constructor(
    readonly config: AnyGateConfig,
    state?: GateState<P>,
  ) {
    this.state = state ?? emptyGateState<P>(config);
    const rules = isMaintenanceConfig(config) ? maintenanceRules(config, this as never) : new SetpointRules(config, this as never);
    this.rules = rules as unknown as KindRules<P>;
  }

  /** The setpoint kind's rules (envelope, ramp, commands); undefined in a maintenance gate. */
  get setpoint(): SetpointRules | undefined {
    return this.rules instanceof SetpointRules ? this.rules : undefined;
  }

  /**
   * After a restore: the kind re-sends what was issued and not yet settled (an unanswered command,
   * an approved window's order), then the machine catches up with time.
   */
  start(nowMs: number): GateEffect<P>[] {
    const out: GateEffect<P>[] = [];
    this.rules.start(nowMs, out);
    this.advance(nowMs, out);
    return out;
  }

  handle(input: GateInput<P>, nowMs: number): GateEffect<P>[] {
    const out: GateEffect<P>[] = [];
    // Time first: a proposal that expired a moment ago is expired before anyone decides on it.
    this.advance(nowMs, out);
    let outcome: DecisionOutcome = { ok: true };
    try {
      switch (input.kind) {
        case 'proposal':
          outcome = this.onProposal(input.proposal, nowMs, out);
          break;
        case 'decide':
          outcome = this.onDecide(input.request, nowMs, out);
          break;
        case 'reading':
        case 'result':
        case 'policy': {
          const { token: _t, ...kindInput } = input;
          if (!this.rules.input) throw new Refusal(`a ${this.rules.kind} gate takes ${this.rules.noun}s only, not a ${input.kind}`);
          outcome = this.rules.input(kindInput, nowMs, out);
          break;
        }
        case 'tick':
          break;
      }
    } catch (err) {
      if (!(err instanceof Refusal)) throw err; // a bug: let it surface
      outcome = { ok: false, error: err.message };
    }
    this.advance(nowMs, out);
    if (input.token !== undefined) {
      // The state as it is after time has been applied too (an approval that was blocked at once says so).
      const id =
        input.kind === 'proposal'
          ? input.proposal.id
          : input.kind === 'decide'
            ? input.request.proposalId
            : input.kind === 'result'
              ? input.result.proposalId
              : undefined;
      const c = id === undefined ? undefined : this.state.changes.get(id);
      if (outcome.ok && c && outcome.state !== undefined) outcome = { ...outcome, state: c.state };
      out.push({ kind: 'reply', token: input.token, outcome });
    }
    return out;
  }

  /** When the machine next has something to do on its own (Infinity: nothing). */
  nextWakeMs(nowMs: number): number {
    const at: number[] = [];
    for (const c of this.state.changes.values()) if (c.state === 'pending') at.push(this.rules.decideByMs(c.proposal));
    if (this.rules.wakeTimes) at.push(...this.rules.wakeTimes(nowMs));
    let next = Infinity;
    for (const t of at) if (t > nowMs && t < next) next = t;
    return next;
  }

  // ---------------------------------------------------------------------------------------------
  // What the page shows and the rules use (setpoint gates; kept here for their callers).

  setpointValue(): number | undefined {
    return this.setpoint?.setpointValue();
  }

  /** The whole change checked against the envelope as of now (decision time, the page): setpoint gates only. */
  checkChange(p: Proposal, nowMs: number): EnvelopeCheck {
    const sp = this.setpoint;
    if (!sp) throw new Error('a maintenance gate has no envelope');
    return sp.checkChange(p, nowMs);
  }

  /** Approvals a change needs now: as the rule asks, never fewer than before (a second approval is never waived). */
  requiredApprovals(c: Change<P>): number {
    return Math.max(c.requiredApprovals, this.rules.approvalsNeeded(c));
  }

  /** The decided change the proposal repeats, if its decision still stands (see the header). */
  decidedTwin(p: P): Change<P> | undefined {
    for (const c of this.state.changes.values()) if (this.rules.decisionStands(c, p)) return c;
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs.

  private onProposal(p: P, nowMs: number, out: GateEffect<P>[]): DecisionOutcome {
    const { rules } = this;
    const wrong = rules.wrongTarget(p);
    if (wrong !== undefined) throw new Refusal(wrong);
    if (this.state.changes.has(p.id)) throw new Refusal(`${rules.noun} ${p.id} is already known (a replay?)`);
    const decided = this.decidedTwin(p);
    if (decided) return { ok: true, state: decided.state, duplicateOf: decided.proposal.id };
    const what = `${rules.noun} ${p.id}`;
    if (p.quality === 'bad') throw new Refusal(`${what} rests on bad-quality inputs${p.qualityReason ? ` (${p.qualityReason})` : ''}`);
    if (nowMs >= p.expiresTsMs) throw new Refusal(`${what} expired at ${new Date(p.expiresTsMs).toISOString()} before it arrived`);
    const late = rules.tooLate?.(p, nowMs);
    if (late !== undefined) throw new Refusal(late);

    const c = newChange(p);
    c.requiredApprovals = this.requiredApprovals(c);
    this.state.changes.set(p.id, c);
    this.record(out, c, 'proposal', p);

    // One open proposal per subject: the newest to arrive is what the proposer now thinks.
    for (const old of this.state.changes.values()) {
      if (old !== c && old.state === 'pending' && rules.replaces(old.proposal, p)) {
        this.end(old, 'superseded', `superseded by proposal ${p.id}`, nowMs);
        this.record(out, old, 'superseded', { supersededBy: p.id, state: old.state, reason: old.reason });
      }
    }
    rules.afterProposal?.(c, nowMs, out);
    return { ok: true, state: c.state };
  }

  private onDecide(req: DecisionRequest, nowMs: number, out: GateEffect<P>[]): DecisionOutcome {
    const { rules } = this;
    const c = this.state.changes.get(req.proposalId);
    if (!c) throw new Refusal(`no ${rules.noun} ${req.proposalId} at this gate`);
    const user = typeof req.user === 'string' ? req.user.trim() : '';
    if (user === '') throw new Refusal('a decision needs the user who makes it');
    if (user.startsWith('policy:')) throw new Refusal(`user names starting with "policy:" are reserved for policies`);
    const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
    if (reason === '') throw new Refusal('a decision needs a reason');
    if (reason.length > MAX_REASON_CHARS) throw new Refusal(`the reason is longer than ${MAX_REASON_CHARS} characters`);
    if (req.verdict !== 'approve' && req.verdict !== 'reject')
      throw new Refusal(`verdict must be approve or reject, not ${String(req.verdict)}`);
    if (c.state !== 'pending') {
      throw new Refusal(`${rules.noun} ${c.proposal.id} is ${c.state}${c.reason ? ` (${c.reason})` : ''}; it cannot be decided`);
    }
    if (req.meaning !== undefined && typeof req.meaning !== 'string') throw new Refusal('the meaning of the signature must be text');
    const meaning = typeof req.meaning === 'string' && req.meaning.trim() !== '' ? req.meaning.trim() : rules.meaning[req.verdict];
    if (meaning.length > MAX_MEANING_CHARS)
      throw new Refusal(`the meaning of the signature is longer than ${MAX_MEANING_CHARS} characters`);

    const printedName = typeof req.printedName === 'string' && req.printedName.trim() !== '' ? req.printedName.trim() : user;
    const decision = {
      proposalId: c.proposal.id,
      verdict: req.verdict,
      user,
      printedName,
      meaning,
      reason,
      tsMs: nowMs,
      ...rules.decisionFields(),
    } as Decision; // a maintenance decision has no envelope version
    if (req.verdict === 'reject') {
      // Stopping a change is always allowed, also for someone who approved it a moment ago.
      c.decisions.push(decision);
      this.end(c, 'rejected', `rejected by ${user}: ${reason}`, nowMs);
      this.record(out, c, 'decision', this.decisionData(decision, c, nowMs));
      return { ok: true, state: c.state };
    }
    if (c.decisions.some((d) => d.verdict === 'approve' && d.user === user)) {
      throw new Refusal(`${user} has already approved this ${rules.subject}; a second approval must come from a different user`);
    }
    const refused = rules.refuseApproval?.(c, nowMs);
    if (refused !== undefined) throw new Refusal(refused);
    this.approve(c, decision, nowMs, out);
    return { ok: true, state: c.state };
  }

  /** Count an approval (a person's, or the policy's); with all it needs, the change is approved and the kind acts. */
  approve(c: Change<P>, decision: Decision, nowMs: number, out: GateEffect<P>[]): void {
    c.requiredApprovals = this.requiredApprovals(c);
    c.decisions.push(decision);
    const approvals = c.decisions.filter((d) => d.verdict === 'approve').length;
    if (approvals < c.requiredApprovals) {
      this.record(out, c, 'decision', this.decisionData(decision, c, nowMs));
      return;
    }
    c.state = 'approved';
    this.record(out, c, 'decision', this.decisionData(decision, c, nowMs));
    this.rules.onApproved(c, nowMs, out);
  }

  private decisionData(d: Decision, c: Change<P>, nowMs: number) {
    return { ...d, state: c.state, requiredApprovals: c.requiredApprovals, ...this.rules.decisionExtras(c, nowMs) };
  }

  // ---------------------------------------------------------------------------------------------
  // Time: expiries, then what the kind does on its own.

  private advance(nowMs: number, out: GateEffect<P>[]): void {
    for (const c of this.state.changes.values()) {
      if (c.state === 'pending' && nowMs >= this.rules.decideByMs(c.proposal)) {
        this.end(c, 'expired', this.rules.expiryReason(c.proposal, nowMs), nowMs);
        this.record(out, c, 'expired', { state: c.state, reason: c.reason });
      }
    }
    this.rules.advance?.(nowMs, out);
  }

  // ---------------------------------------------------------------------------------------------

  end(c: Change<P>, state: Change['state'], reason: string, nowMs: number): void {
    c.state = state;
    c.reason = reason;
    if (FINAL_STATES.has(state)) c.endedTsMs = nowMs;
  }

  /** A record about a change: asset, the tag for a setpoint (a maintenance gate's records carry none), proposal id. */
  record(out: GateEffect<P>[], c: Change<P>, type: LedgerEntry['type'], data: unknown): void {
    const tag = this.rules.tag !== undefined ? { tag: this.rules.tag } : {};
    const entry: LedgerEntry = { type, asset: c.proposal.asset, ...tag, proposalId: c.proposal.id, data };
    out.push({ kind: 'record', entry, snapshot: snapshot(c) });
  }
}
