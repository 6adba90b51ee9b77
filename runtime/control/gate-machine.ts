/**
 * The approval gate as a pure state machine: `handle(input, nowMs)` mutates the GateState and returns
 * the effects, in the order they must happen (records before the command they justify, replies last).
 * No I/O, no clock of its own: the operator (gate-operator.ts) supplies the time and the timer, the
 * executor (gate.ts) makes the effects durable. Marble and property tests drive this directly.
 *
 * Life of a proposal:  pending → approved → (commands, one ramp step at a time) → done | failed
 *                      pending → rejected | expired | superseded ;  approved → blocked | superseded | expired
 *
 * A decision stands: a proposal equal to one a person (or the policy) approved or rejected — same
 * setpoint, same value it starts from and goes to — is not put up again while the envelope version is
 * the one decided under and the gate has written no other change to the setpoint since the decision
 * (the situation decided on is unchanged). That holds after a restart (the state comes from the
 * ledger) and when a restarted proposer makes the same proposal anew. It is answered with
 * `duplicateOf` and nothing is recorded.
 */
import type { Command, Decision, EnvelopeCheck, Proposal, WriteResult } from '../model/control.js';
import { GATE_MAX_FUTURE_MS, supersedes, type Reading } from '../model/reading.js';
import { signCommand } from './command.js';
import { verifyResult } from './gate-result-signature.js';
import { checkEnvelope, envelopeInputKeys, fmtDuration, fromEnvelopeSource, readingKey } from './envelope.js';
import { planRamp, requiredGapMs } from './ramp.js';
import {
  DEFAULT_RESULT_GRACE_MS,
  FINAL_STATES,
  POLICY_USER,
  commandIdFor,
  emptyGateState,
  snapshot,
  type Change,
  type DecisionOutcome,
  type DecisionRequest,
  type GateConfig,
  type GateEffect,
  type GateInput,
  type GateState,
} from './gate-state.js';
import type { LedgerEntry } from './stores.js';
import { DEFAULT_MEANING, MAX_MEANING_CHARS, MAX_REASON_CHARS } from './gate-registry.js';

/** Violations that no waiting can cure: an approval that would run into them is refused at once. */
const HARD_CODES = new Set(['ABOVE_HIGH', 'BELOW_LOW', 'STEP_TOO_LARGE']);

/** Longest reason for a policy switch the gate records (the page's reason field is free text). */

/** A refused input: the caller (node) reports it through done(err); nothing is recorded. */
class Refusal extends Error {}

export class GateMachine {
  readonly state: GateState;
  private readonly graceMs: number;
  /** Until then a step that lacks readings waits for them instead of being blocked (just started: none yet). */
  private warmUntilMs = -Infinity;
  /** The readings the envelope rests on (setpoint, interlocks, input tags): the only ones kept. */
  private readonly inputKeys: ReadonlySet<string>;

  constructor(readonly config: GateConfig, state?: GateState) {
    this.state = state ?? emptyGateState(config);
    this.graceMs = config.resultGraceMs ?? DEFAULT_RESULT_GRACE_MS;
    this.inputKeys = envelopeInputKeys(config.envelope);
  }

  private get env() {
    return this.config.envelope;
  }

  /**
   * After a restore: re-emit the unanswered command unchanged while the gate still waits for its
   * result (until its expiry plus the grace), then catch up with time. An expired one is re-sent too:
   * a writer never writes it, but one that claimed it before the crash settles it from the plant
   * (written or not, runtime/control/writer.ts), and one that did not refuses it as EXPIRED; either
   * way the ledger gets the truth now instead of "no result" at the end of the grace.
   */
  start(nowMs: number): GateEffect[] {
    const out: GateEffect[] = [];
    this.warmUntilMs = nowMs + this.env.maxInputAgeMs;
    const cmd = this.state.inflight;
    if (cmd && nowMs < cmd.expiresTsMs + this.graceMs) out.push({ kind: 'command', command: cmd, replay: true });
    this.advance(nowMs, out);
    return out;
  }

  handle(input: GateInput, nowMs: number): GateEffect[] {
    const out: GateEffect[] = [];
    // Time first: a proposal that expired a moment ago is expired before anyone decides on it.
    this.advance(nowMs, out);
    let outcome: DecisionOutcome = { ok: true };
    try {
      switch (input.kind) {
        case 'proposal':
          outcome = this.onProposal(input.proposal, nowMs, out);
          break;
        case 'reading':
          outcome = this.onReading(input.reading, nowMs);
          break;
        case 'result':
          outcome = this.onResult(input.result, nowMs, out);
          break;
        case 'decide':
          outcome = this.onDecide(input.request, nowMs, out);
          break;
        case 'policy':
          outcome = this.onPolicy(input.enabled, input.user, input.reason, nowMs, out);
          break;
        case 'tick':
          break;
      }
    } catch (err) {
      if (!(err instanceof Refusal)) throw err; // a bug: let it surface
      outcome = { ok: false, error: err.message };
    }
    this.advance(nowMs, out);
    if (input.kind !== 'tick' && input.token !== undefined) {
      // The state as it is after time has been applied too (an approval that was blocked at once says so).
      const id = input.kind === 'proposal' ? input.proposal.id : input.kind === 'decide' ? input.request.proposalId : input.kind === 'result' ? input.result.proposalId : undefined;
      const c = id === undefined ? undefined : this.state.changes.get(id);
      if (outcome.ok && c && outcome.state !== undefined) outcome = { ...outcome, state: c.state };
      out.push({ kind: 'reply', token: input.token, outcome });
    }
    return out;
  }

  /** When the machine next has something to do on its own (Infinity: nothing). */
  nextWakeMs(nowMs: number): number {
    const at: number[] = [];
    for (const c of this.state.changes.values()) if (c.state === 'pending') at.push(c.proposal.expiresTsMs);
    const inflight = this.state.inflight;
    if (inflight) at.push(inflight.expiresTsMs + this.graceMs);
    const ex = this.executing();
    if (ex && !inflight) {
      if (ex.commands.length === 0) at.push(ex.proposal.expiresTsMs);
      if (this.warmUntilMs > nowMs) at.push(this.warmUntilMs);
      try {
        const next = this.nextStep(ex, nowMs);
        if (next) at.push(next.dueMs);
      } catch {
        // no plan: advance() blocks the change at once
      }
    }
    const future = at.filter((t) => t > nowMs);
    return future.length ? Math.min(...future) : Infinity;
  }

  // ---------------------------------------------------------------------------------------------
  // What the page shows and the rules use.

  /**
   * The setpoint as the gate knows it: its latest reading, or the value the gate last wrote and read
   * back when that is newer (the plant's next report may lag the write).
   */
  setpointValue(): number | undefined {
    const r = this.state.readings.get(readingKey(this.env.asset, this.env.tag));
    const w = this.state.lastWritten;
    // A reading stamped no later than the write's confirmation may have been taken before the write.
    if (w && (!r || r.tsMs <= w.tsMs)) return w.value;
    return r?.value;
  }

  /**
   * Whether the gate knows the setpoint as it is now: after a change whose outcome it does not know
   * (failed, refused, lapsed) only a reading taken after it says where the plant is.
   */
  setpointKnown(): boolean {
    const last = this.state.lastChangeTsMs;
    if (last === undefined) return true;
    const r = this.state.readings.get(readingKey(this.env.asset, this.env.tag));
    const w = this.state.lastWritten;
    return (r !== undefined && r.tsMs > last) || (w !== undefined && w.tsMs >= last);
  }

  /** The size of a proposal's change, against its own current value and the latest reading (the larger). */
  changeSize(p: Proposal): number {
    const sp = this.setpointValue();
    const a = Math.abs(p.proposedValue - p.currentValue);
    return sp === undefined ? a : Math.max(a, Math.abs(p.proposedValue - sp));
  }

  requiredApprovals(c: Change): number {
    return Math.max(c.requiredApprovals, this.changeSize(c.proposal) > this.config.twoPersonAboveStep ? 2 : 1);
  }

  /** The whole change checked against the envelope as of now (decision time, the page). */
  checkChange(p: Proposal, nowMs: number): EnvelopeCheck {
    return checkEnvelope(this.env, {
      fromValue: this.setpointValue() ?? p.currentValue,
      toValue: p.proposedValue,
      lastChangeTsMs: this.state.lastChangeTsMs,
      nowMs,
      readings: this.state.readings,
      scope: 'change',
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs.

  private onProposal(p: Proposal, nowMs: number, out: GateEffect[]): DecisionOutcome {
    const env = this.env;
    if (p.asset !== env.asset || p.tag !== env.tag) {
      throw new Refusal(`proposal is for ${p.asset}/${p.tag}; this gate is for ${env.asset}/${env.tag}`);
    }
    if (this.state.changes.has(p.id)) throw new Refusal(`proposal ${p.id} is already known (a replay?)`);
    const decided = this.decidedTwin(p);
    if (decided) return { ok: true, state: decided.state, duplicateOf: decided.proposal.id };
    if (p.quality === 'bad') throw new Refusal(`proposal ${p.id} rests on bad-quality inputs${p.qualityReason ? ` (${p.qualityReason})` : ''}`);
    if (nowMs >= p.expiresTsMs) throw new Refusal(`proposal ${p.id} expired at ${new Date(p.expiresTsMs).toISOString()} before it arrived`);

    const c: Change = { proposal: p, state: 'pending', decisions: [], requiredApprovals: 1, commands: [], results: new Map() };
    c.requiredApprovals = this.requiredApprovals(c);
    this.state.changes.set(p.id, c);
    this.record(out, c, 'proposal', p);

    // One open proposal per setpoint: the newest one is what the proposer now thinks.
    for (const old of this.state.changes.values()) {
      if (old !== c && old.state === 'pending') {
        this.end(old, 'superseded', `superseded by proposal ${p.id}`, nowMs);
        this.record(out, old, 'superseded', { supersededBy: p.id, state: old.state, reason: old.reason });
      }
    }
    this.maybeAutoApprove(c, nowMs, out);
    return { ok: true, state: c.state };
  }

  /** The decided change the proposal repeats, if its decision still stands (see the header). */
  decidedTwin(p: Proposal): Change | undefined {
    for (const c of this.state.changes.values()) {
      const q = c.proposal;
      if (q.asset !== p.asset || q.tag !== p.tag || q.currentValue !== p.currentValue || q.proposedValue !== p.proposedValue) continue;
      const last = c.decisions[c.decisions.length - 1];
      if (!last || last.envelopeVersion !== this.config.envelopeVersion) continue;
      const approvedFully = c.decisions.filter((d) => d.verdict === 'approve').length >= c.requiredApprovals;
      if (!(c.state === 'rejected' || (c.state !== 'pending' && approvedFully))) continue;
      const movedSince = [...this.state.changes.values()].some((o) => o !== c && o.commands.some((cmd) => cmd.issuedTsMs > last.tsMs));
      if (!movedSince) return c;
    }
    return undefined;
  }

  private maybeAutoApprove(c: Change, nowMs: number, out: GateEffect[]): void {
    const policy = this.config.autoApproval;
    if (!policy.enabled || !this.state.autoApprovalOn) return;
    const size = this.changeSize(c.proposal);
    if (size > policy.maxStep || c.requiredApprovals > 1 || c.proposal.quality !== 'good') return;
    const check = this.checkChange(c.proposal, nowMs);
    if (!check.ok) return; // left for a person, who sees why
    this.approve(
      c,
      {
        proposalId: c.proposal.id,
        verdict: 'approve',
        user: POLICY_USER,
        printedName: 'Auto-approval policy',
        meaning: 'Approved by the auto-approval policy: small change, envelope holds, inputs good',
        reason: `change ${round(size)} ≤ ${policy.maxStep} and envelope ${check.version} holds`,
        tsMs: nowMs,
        envelopeVersion: this.config.envelopeVersion,
      },
      check,
      nowMs,
      out,
    );
  }

  /**
   * Keep the reading when it is one of the envelope's inputs and came from the envelope's source
   * connection (a reading from anywhere else never counts, however new or good). Dated more than
   * GATE_MAX_FUTURE_MS ahead: refused. A late good reading never replaces a newer one; a bad one
   * from the source always does, so a reading dated a little ahead cannot hide a failure.
   */
  private onReading(r: Reading, nowMs: number): DecisionOutcome {
    const key = readingKey(r.asset, r.tag);
    if (!this.inputKeys.has(key)) return { ok: true }; // memory stays bounded however many tags a flow sends
    if (!fromEnvelopeSource(this.env, r)) {
      const from = r.origin ? `${r.origin.connection} (${r.origin.item})` : `no connection (source ${r.source})`;
      return { ok: true, ignored: `reading of ${key} from ${from} ignored: the envelope reads its inputs from ${this.env.source}` };
    }
    if (r.tsMs - nowMs > GATE_MAX_FUTURE_MS) {
      const ahead = `${fmtDuration(r.tsMs - nowMs)} in the future (at most ${fmtDuration(GATE_MAX_FUTURE_MS)})`;
      throw new Refusal(`reading of ${key} is dated ${ahead}: refused`);
    }
    if (supersedes(this.state.readings.get(key), r)) this.state.readings.set(key, r);
    return { ok: true };
  }

  private onDecide(req: DecisionRequest, nowMs: number, out: GateEffect[]): DecisionOutcome {
    const c = this.state.changes.get(req.proposalId);
    if (!c) throw new Refusal(`no proposal ${req.proposalId} at this gate`);
    const user = typeof req.user === 'string' ? req.user.trim() : '';
    if (user === '') throw new Refusal('a decision needs the user who makes it');
    if (user.startsWith('policy:')) throw new Refusal(`user names starting with "policy:" are reserved for policies`);
    const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
    if (reason === '') throw new Refusal('a decision needs a reason');
    if (reason.length > MAX_REASON_CHARS) throw new Refusal(`the reason is longer than ${MAX_REASON_CHARS} characters`);
    if (req.verdict !== 'approve' && req.verdict !== 'reject') throw new Refusal(`verdict must be approve or reject, not ${String(req.verdict)}`);
    if (c.state !== 'pending') throw new Refusal(`proposal ${c.proposal.id} is ${c.state}${c.reason ? ` (${c.reason})` : ''}; it cannot be decided`);
    if (req.meaning !== undefined && typeof req.meaning !== 'string') throw new Refusal('the meaning of the signature must be text');
    const meaning = typeof req.meaning === 'string' && req.meaning.trim() !== '' ? req.meaning.trim() : DEFAULT_MEANING[req.verdict];
    if (meaning.length > MAX_MEANING_CHARS) throw new Refusal(`the meaning of the signature is longer than ${MAX_MEANING_CHARS} characters`);

    const printedName = typeof req.printedName === 'string' && req.printedName.trim() !== '' ? req.printedName.trim() : user;
    const check = this.checkChange(c.proposal, nowMs);
    const decision: Decision = {
      proposalId: c.proposal.id,
      verdict: req.verdict,
      user,
      printedName,
      meaning,
      reason,
      tsMs: nowMs,
      envelopeVersion: this.config.envelopeVersion,
    };
    if (req.verdict === 'reject') {
      // Stopping a change is always allowed, also for someone who approved it a moment ago.
      c.decisions.push(decision);
      this.end(c, 'rejected', `rejected by ${user}: ${reason}`, nowMs);
      this.record(out, c, 'decision', this.decisionData(decision, c, check));
      return { ok: true, state: c.state };
    }
    if (c.decisions.some((d) => d.verdict === 'approve' && d.user === user)) {
      throw new Refusal(`${user} has already approved this change; a second approval must come from a different user`);
    }
    const hard = check.violations.filter((v) => HARD_CODES.has(v.code));
    if (hard.length > 0) {
      throw new Refusal(`the change is outside the envelope (${check.version}): ${hard.map((v) => v.message).join('; ')}`);
    }
    this.approve(c, decision, check, nowMs, out);
    return { ok: true, state: c.state };
  }

  private approve(c: Change, decision: Decision, check: EnvelopeCheck, nowMs: number, out: GateEffect[]): void {
    c.requiredApprovals = this.requiredApprovals(c);
    c.decisions.push(decision);
    const approvals = c.decisions.filter((d) => d.verdict === 'approve').length;
    if (approvals < c.requiredApprovals) {
      this.record(out, c, 'decision', this.decisionData(decision, c, check));
      return;
    }
    c.state = 'approved';
    this.record(out, c, 'decision', this.decisionData(decision, c, check));
    // One change in execution per setpoint: the newest approval wins, the rest of an older ramp is dropped.
    // (A command of the older change still in flight is awaited before this one's first step.)
    for (const old of this.state.changes.values()) {
      if (old !== c && old.state === 'approved') {
        this.end(old, 'superseded', `rest of the change superseded by the approval of ${c.proposal.id}`, nowMs);
        this.record(out, old, 'superseded', { supersededBy: c.proposal.id, state: old.state, reason: old.reason, stepsWritten: old.commands.length });
      }
    }
  }

  private decisionData(d: Decision, c: Change, check: EnvelopeCheck) {
    // fromValue: where the setpoint stood when decided; a writer accepts values between it (or the proposal's) and the target
    const fromValue = this.setpointValue() ?? c.proposal.currentValue;
    return { ...d, state: c.state, requiredApprovals: c.requiredApprovals, envelopeCheck: check, fromValue };
  }

  private onPolicy(enabled: boolean, user: string, reason: string | undefined, nowMs: number, out: GateEffect[]): DecisionOutcome {
    const u = typeof user === 'string' ? user.trim() : '';
    if (u === '') throw new Refusal('switching auto-approval needs the user who does it');
    if (typeof enabled !== 'boolean') throw new Refusal('auto-approval switch must be true or false');
    if (reason !== undefined && typeof reason !== 'string') throw new Refusal('the reason for switching auto-approval must be text');
    const why = reason?.trim() ?? '';
    if (why.length > MAX_REASON_CHARS) {
      throw new Refusal(`the reason for switching auto-approval is longer than ${MAX_REASON_CHARS} characters`);
    }
    if (enabled && !this.config.autoApproval.enabled) throw new Refusal('auto-approval is not configured on this gate; it cannot be switched on');
    this.state.autoApprovalOn = enabled;
    const entry: LedgerEntry = {
      type: 'policy',
      asset: this.env.asset,
      tag: this.env.tag,
      data: { policy: 'auto-approval', enabled, maxStep: this.config.autoApproval.maxStep, user: u, tsMs: nowMs, ...(why !== '' ? { reason: why } : {}) },
    };
    out.push({ kind: 'record', entry });
    return { ok: true };
  }

  private onResult(r: WriteResult, nowMs: number, out: GateEffect[]): DecisionOutcome {
    if (!verifyResult(this.config.signingKey, r)) {
      // Not from a writer holding the key: it must not move any change. Recorded (nested, so that a
      // restore never reads it as a result) under this gate's setpoint, not under the ids it names.
      const reason = `write result for command ${String(r.commandId)} ${r.signature === undefined ? 'is not signed' : 'has a signature that does not verify'}: ignored`;
      out.push({ kind: 'record', entry: { type: 'refused', asset: this.env.asset, tag: this.env.tag, data: { refusal: 'BAD_SIGNATURE', reason, received: r } } });
      return { ok: false, error: reason, refused: true };
    }
    const owner = this.state.commandOwner.get(r.commandId);
    const c = owner === undefined ? undefined : this.state.changes.get(owner);
    const cmd = c?.commands.find((x) => x.id === r.commandId);
    if (!c || !cmd) throw new Refusal(`write result for command ${r.commandId}, which this gate did not issue`);
    if (r.proposalId !== cmd.proposalId || r.asset !== cmd.asset || r.tag !== cmd.tag || r.value !== cmd.value) {
      throw new Refusal(`write result for command ${r.commandId} does not match the command (proposal, target or value differ)`);
    }
    const first = c.results.get(r.commandId);
    if (first) {
      // The first result decides the change; a later, different one is still news about the plant
      // (a replay the writer did execute): it is recorded and moves dwell and the known setpoint.
      if (first.outcome === r.outcome && first.readBackOk === r.readBackOk) return { ok: true, state: c.state };
      noteWrite(this.state, cmd, r, nowMs);
    } else applyResult(this.state, c, cmd, r, nowMs);
    const type = r.outcome === 'refused' ? 'refused' : r.readBackOk !== undefined ? 'readback' : 'write';
    // `receivedByGate`: on restore this record is a final result even without a read-back.
    const data = { ...r, receivedByGate: true };
    out.push({ kind: 'record', entry: { type, asset: cmd.asset, tag: cmd.tag, proposalId: cmd.proposalId, data }, snapshot: snapshot(c), result: r });
    return { ok: true, state: c.state };
  }

  // ---------------------------------------------------------------------------------------------
  // Time: expiries, lapsed commands, the next ramp step.

  private advance(nowMs: number, out: GateEffect[]): void {
    for (const c of this.state.changes.values()) {
      if (c.state === 'pending' && nowMs >= c.proposal.expiresTsMs) {
        this.end(c, 'expired', 'not decided before it expired', nowMs);
        this.record(out, c, 'expired', { state: c.state, reason: c.reason });
      }
    }
    const inflight = this.state.inflight;
    if (inflight && nowMs >= inflight.expiresTsMs + this.graceMs) {
      const c = this.state.changes.get(inflight.proposalId)!;
      this.state.inflight = undefined;
      // It may have been written up to its expiry: count that as the last change (dwell stays safe).
      this.state.lastChangeTsMs = Math.max(this.state.lastChangeTsMs ?? -Infinity, inflight.expiresTsMs);
      if (c.state === 'approved') this.end(c, 'failed', `no write result for step ${inflight.step} before the command expired`, nowMs);
      this.record(out, c, 'expired', { commandId: inflight.id, step: inflight.step, state: c.state, reason: 'command expired without a write result' });
    }
    const ex = this.executing();
    if (ex && !this.state.inflight) this.issueNext(ex, nowMs, out);
  }

  private executing(): Change | undefined {
    for (const c of this.state.changes.values()) if (c.state === 'approved') return c;
    return undefined;
  }

  /** The next step of an executing change: its value, the value before it, and when it is due. */
  private nextStep(c: Change, nowMs: number): { step: number; plan: number[]; fromValue: number; dueMs: number } | undefined {
    const k = c.commands.length + 1;
    const to = c.proposal.proposedValue;
    let plan = c.plan;
    let fromValue: number;
    if (k === 1) {
      fromValue = this.setpointValue() ?? c.proposal.currentValue;
      if (!plan) plan = this.env.ramp ? planValues(this.env, fromValue, to, nowMs) : [to];
    } else {
      fromValue = c.commands[k - 2]!.value;
      // After a restart the plan is rebuilt from the last commanded value; step numbers carry on.
      if (!plan) plan = [...c.commands.map((x) => x.value), ...planValues(this.env, fromValue, to, nowMs)];
    }
    if (plan.length === 0) plan = [to]; // already there: one confirming write
    if (k > plan.length) return undefined;
    const value = plan[k - 1]!;
    const last = this.state.lastChangeTsMs;
    // Every write waits the dwell, a confirming write of the same value too (requiredGapMs is 0 for it).
    const gapMs = Math.max(this.env.minDwellMs, Math.ceil(requiredGapMs(this.env, fromValue, value)));
    const dueMs = last === undefined ? nowMs : Math.max(nowMs, last + gapMs);
    return { step: k, plan, fromValue, dueMs };
  }

  private issueNext(c: Change, nowMs: number, out: GateEffect[]): void {
    if (c.commands.length === 0 && nowMs >= c.proposal.expiresTsMs) {
      this.end(c, 'expired', 'approved, but not started before the proposal expired', nowMs);
      this.record(out, c, 'expired', { state: c.state, reason: c.reason });
      return;
    }
    let next;
    try {
      next = this.nextStep(c, nowMs);
    } catch (err) {
      this.end(c, 'blocked', `no ramp plan: ${(err as Error).message}`, nowMs);
      this.record(out, c, 'blocked', { state: c.state, reason: c.reason });
      return;
    }
    if (!next) {
      this.end(c, 'done', 'every step written and read back', nowMs);
      this.record(out, c, 'readback', { state: c.state, reason: c.reason });
      return;
    }
    if (nowMs < next.dueMs) return; // dwell / rate: the timer comes back at dueMs
    // A first step starts from the setpoint as it is: wait (until the proposal expires) for a reading that says so.
    if (next.step === 1 && !this.setpointKnown()) return;
    const value = next.plan[next.step - 1]!;
    // The write-time re-check: the latest readings, now, this one step.
    const check = checkEnvelope(this.env, {
      fromValue: next.fromValue,
      toValue: value,
      lastChangeTsMs: this.state.lastChangeTsMs,
      nowMs,
      readings: this.state.readings,
      scope: 'step',
    });
    if (!check.ok) {
      // Just started (or restarted): readings that have not arrived yet are awaited, not held against the change.
      if (nowMs < this.warmUntilMs && check.violations.every((v) => v.code === 'MISSING_INPUT')) return;
      this.end(c, 'blocked', `step ${next.step}: ${check.violations.map((v) => v.message).join('; ')}`, nowMs);
      this.record(out, c, 'blocked', { state: c.state, reason: c.reason, step: next.step, value, fromValue: next.fromValue, envelopeCheck: check });
      return;
    }
    c.plan = next.plan;
    const p = c.proposal;
    const unsigned = {
      id: commandIdFor(p.asset, p.tag, p.id, next.step),
      proposalId: p.id,
      asset: p.asset,
      tag: p.tag,
      value,
      step: next.step,
      steps: next.plan.length,
      fromValue: next.fromValue,
      issuedTsMs: nowMs,
      expiresTsMs: nowMs + this.config.commandTtlMs,
      envelopeVersion: this.config.envelopeVersion,
      ...(p.unit !== undefined ? { unit: p.unit } : {}),
    };
    const cmd: Command = signCommand(this.config.signingKey, unsigned);
    c.commands.push(cmd);
    this.state.commandOwner.set(cmd.id, p.id);
    this.state.inflight = cmd;
    this.record(out, c, 'command', cmd);
    out.push({ kind: 'command', command: cmd });
  }

  // ---------------------------------------------------------------------------------------------

  private end(c: Change, state: Change['state'], reason: string, nowMs: number): void {
    c.state = state;
    c.reason = reason;
    if (FINAL_STATES.has(state)) c.endedTsMs = nowMs;
  }

  private record(out: GateEffect[], c: Change, type: LedgerEntry['type'], data: unknown): void {
    const entry: LedgerEntry = { type, asset: c.proposal.asset, tag: c.proposal.tag, proposalId: c.proposal.id, data };
    out.push({ kind: 'record', entry, snapshot: snapshot(c) });
  }
}

/**
 * A write result's effect on the state (live and on restore alike). A step counts as done only when
 * written AND read back equal; anything else ends the change as failed.
 */
export function applyResult(state: GateState, c: Change, cmd: Command, r: WriteResult, atMs: number): void {
  c.results.set(r.commandId, r);
  if (state.inflight?.id === r.commandId) state.inflight = undefined;
  noteWrite(state, cmd, r, atMs);
  const latest = c.commands[c.commands.length - 1];
  const ok = r.outcome === 'written' && r.readBackOk === true;
  if (c.state !== 'approved' || latest?.id !== cmd.id) return; // a superseded change's late result: recorded, nothing more
  if (!ok) {
    const why =
      r.outcome === 'written' ? (r.readBackOk === false ? `read back ${r.readBackValue ?? '?'} instead of ${cmd.value}` : 'no read-back') : `${r.outcome}${r.reason ? `: ${r.reason}` : ''}`;
    c.state = 'failed';
    c.reason = `step ${cmd.step}: ${why}`;
    c.endedTsMs = atMs;
  } else if (cmd.step >= cmd.steps) {
    c.state = 'done';
    c.reason = cmd.steps > 1 ? `all ${cmd.steps} steps written and read back` : 'written and read back';
    c.endedTsMs = atMs;
  }
}

/**
 * What any result says about the plant. It counts as a change for dwell and rate: a failed write may
 * have reached the plant, and a refusal may answer a replay of a command the writer wrote before a
 * crash (REPLAYED). A write read back equal tells the setpoint's value.
 */
export function noteWrite(state: GateState, cmd: Command, r: WriteResult, atMs: number): void {
  state.lastChangeTsMs = Math.max(state.lastChangeTsMs ?? -Infinity, atMs);
  if (r.outcome === 'written' && r.readBackOk === true) state.lastWritten = { value: cmd.value, tsMs: atMs };
}

function planValues(env: GateConfig['envelope'], fromValue: number, toValue: number, nowMs: number): number[] {
  return planRamp(env, fromValue, toValue, nowMs).map((s) => s.value);
}

function round(v: number): string {
  return String(Number(v.toPrecision(10)));
}
