/**
 * The setpoint kind of the approval gate (gate-kind.ts): a Proposal to move one setpoint, checked
 * against the control envelope at decision time and again before every step; approved, it is written
 * as signed commands, one ramp step at a time, each awaited (write result and read-back) before the
 * next. Also the auto-approval policy, the envelope's input readings and the writers' results.
 *
 * A decision stands here when the proposal is the same setpoint, the same value it starts from and
 * goes to, the envelope version is the one decided under, and the gate has written no other change
 * to the setpoint since the decision.
 */
import type { Command, Decision, EnvelopeCheck, LedgerRecord, Proposal, ProposalState, WriteResult } from '../model/control.js';
import { GATE_MAX_FUTURE_MS, supersedes, type Reading } from '../model/reading.js';
import { signCommand } from './command.js';
import { verifyResult } from './gate-result-signature.js';
import { checkEnvelope, envelopeInputKeys, fmtDuration, fromEnvelopeSource, readingKey } from './envelope.js';
import { planRamp, requiredGapMs } from './ramp.js';
import { Refusal, recordKind, type KindInput, type KindRules } from './gate-kind.js';
import {
  DEFAULT_RESULT_GRACE_MS,
  FINAL_STATES,
  POLICY_USER,
  commandIdFor,
  snapshot,
  type Change,
  type DecisionOutcome,
  type GateConfig,
  type GateEffect,
  type GateState,
} from './gate-state.js';
import type { LedgerEntry } from './stores.js';
import { DEFAULT_MEANING, MAX_REASON_CHARS } from './gate-registry.js';
import { jsonMacMatches } from './json-mac.js';
import { LedgerAlarmError } from './ledger-auth.js';
import type { GateMachine } from './gate-machine.js';

/** Violations that no waiting can cure: an approval that would run into them is refused at once. */
const HARD_CODES = new Set(['ABOVE_HIGH', 'BELOW_LOW', 'STEP_TOO_LARGE']);

export class SetpointRules implements KindRules<Proposal> {
  readonly kind = 'setpoint';
  readonly noun = 'proposal';
  readonly subject = 'change';
  readonly meaning = DEFAULT_MEANING;
  readonly asset: string;
  readonly tag: string;
  private readonly graceMs: number;
  /** Until then a step that lacks readings waits for them instead of being blocked (just started: none yet). */
  private warmUntilMs = -Infinity;
  /** The readings the envelope rests on (setpoint, interlocks, input tags): the only ones kept (built on first use). */
  private inputKeysCache: ReadonlySet<string> | undefined;

  constructor(
    readonly config: GateConfig,
    private readonly m: GateMachine<Proposal>,
  ) {
    this.asset = config.envelope.asset;
    this.tag = config.envelope.tag;
    this.graceMs = config.resultGraceMs ?? DEFAULT_RESULT_GRACE_MS;
  }

  private get inputKeys(): ReadonlySet<string> {
    return (this.inputKeysCache ??= envelopeInputKeys(this.config.envelope));
  }

  private get env() {
    return this.config.envelope;
  }

  private get state(): GateState {
    return this.m.state;
  }

  // ---------------------------------------------------------------------------------------------
  // The kind's answers to the core.

  wrongTarget(p: Proposal): string | undefined {
    const env = this.env;
    if (p.asset !== env.asset || p.tag !== env.tag) return `proposal is for ${p.asset}/${p.tag}; this gate is for ${env.asset}/${env.tag}`;
    return undefined;
  }

  decideByMs(p: Proposal): number {
    return p.expiresTsMs;
  }

  expiryReason(): string {
    return 'not decided before it expired';
  }

  /** One open proposal per setpoint: every pending one. */
  replaces(): boolean {
    return true;
  }

  decisionStands(c: Change, p: Proposal): boolean {
    const q = c.proposal;
    if (q.asset !== p.asset || q.tag !== p.tag || q.currentValue !== p.currentValue || q.proposedValue !== p.proposedValue) return false;
    const last = c.decisions[c.decisions.length - 1];
    if (!last || last.envelopeVersion !== this.config.envelopeVersion) return false;
    const approvedFully = c.decisions.filter((d) => d.verdict === 'approve').length >= c.requiredApprovals;
    if (!(c.state === 'rejected' || (c.state !== 'pending' && approvedFully))) return false;
    return ![...this.state.changes.values()].some((o) => o !== c && o.commands.some((cmd) => cmd.issuedTsMs > last.tsMs));
  }

  approvalsNeeded(c: Change): number {
    return this.changeSize(c.proposal) > this.config.twoPersonAboveStep ? 2 : 1;
  }

  decisionFields(): { envelopeVersion: string } {
    return { envelopeVersion: this.config.envelopeVersion };
  }

  decisionExtras(c: Change, nowMs: number): Record<string, unknown> {
    // fromValue: where the setpoint stood when decided; a writer accepts values between it (or the proposal's) and the target
    return { envelopeCheck: this.checkChange(c.proposal, nowMs), fromValue: this.setpointValue() ?? c.proposal.currentValue };
  }

  refuseApproval(c: Change, nowMs: number): string | undefined {
    const check = this.checkChange(c.proposal, nowMs);
    const hard = check.violations.filter((v) => HARD_CODES.has(v.code));
    if (hard.length === 0) return undefined;
    return `the change is outside the envelope (${check.version}): ${hard.map((v) => v.message).join('; ')}`;
  }

  afterProposal(c: Change, nowMs: number, out: GateEffect[]): void {
    const policy = this.config.autoApproval;
    if (!policy.enabled || !this.state.autoApprovalOn) return;
    const size = this.changeSize(c.proposal);
    if (size > policy.maxStep || c.requiredApprovals > 1 || c.proposal.quality !== 'good') return;
    const check = this.checkChange(c.proposal, nowMs);
    if (!check.ok) return; // left for a person, who sees why
    const decision: Decision = {
      proposalId: c.proposal.id,
      verdict: 'approve',
      user: POLICY_USER,
      printedName: 'Auto-approval policy',
      meaning: 'Approved by the auto-approval policy: small change, envelope holds, inputs good',
      reason: `change ${round(size)} ≤ ${policy.maxStep} and envelope ${check.version} holds`,
      tsMs: nowMs,
      envelopeVersion: this.config.envelopeVersion,
    };
    this.m.approve(c, decision, nowMs, out);
  }

  onApproved(c: Change, nowMs: number, out: GateEffect[]): void {
    // One change in execution per setpoint: the newest approval wins, the rest of an older ramp is dropped.
    // (A command of the older change still in flight is awaited before this one's first step.)
    for (const old of this.state.changes.values()) {
      if (old !== c && old.state === 'approved') {
        this.m.end(old, 'superseded', `rest of the change superseded by the approval of ${c.proposal.id}`, nowMs);
        this.m.record(out, old, 'superseded', {
          supersededBy: c.proposal.id,
          state: old.state,
          reason: old.reason,
          stepsWritten: old.commands.length,
        });
      }
    }
  }

  /**
   * After a restore: re-emit the unanswered command unchanged while the gate still waits for its
   * result (until its expiry plus the grace). An expired one is re-sent too: a writer never writes
   * it, but one that claimed it before the crash settles it from the plant (written or not,
   * runtime/control/writer.ts), and one that did not refuses it as EXPIRED; either way the ledger
   * gets the truth now instead of "no result" at the end of the grace.
   */
  start(nowMs: number, out: GateEffect[]): void {
    this.warmUntilMs = nowMs + this.env.maxInputAgeMs;
    const cmd = this.state.inflight;
    if (cmd && nowMs < cmd.expiresTsMs + this.graceMs) out.push({ kind: 'command', command: cmd, replay: true });
  }

  wakeTimes(nowMs: number): number[] {
    const at: number[] = [];
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
    return at;
  }

  input(input: KindInput, nowMs: number, out: GateEffect[]): DecisionOutcome {
    switch (input.kind) {
      case 'reading':
        return this.onReading(input.reading, nowMs);
      case 'result':
        return this.onResult(input.result, nowMs, out);
      case 'policy':
        return this.onPolicy(input.enabled, input.user, input.reason, nowMs, out);
    }
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
  // Inputs only a setpoint gate takes.

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

  private onPolicy(enabled: boolean, user: string, reason: string | undefined, nowMs: number, out: GateEffect[]): DecisionOutcome {
    const u = typeof user === 'string' ? user.trim() : '';
    if (u === '') throw new Refusal('switching auto-approval needs the user who does it');
    if (typeof enabled !== 'boolean') throw new Refusal('auto-approval switch must be true or false');
    if (reason !== undefined && typeof reason !== 'string') throw new Refusal('the reason for switching auto-approval must be text');
    const why = reason?.trim() ?? '';
    if (why.length > MAX_REASON_CHARS) {
      throw new Refusal(`the reason for switching auto-approval is longer than ${MAX_REASON_CHARS} characters`);
    }
    if (enabled && !this.config.autoApproval.enabled)
      throw new Refusal('auto-approval is not configured on this gate; it cannot be switched on');
    this.state.autoApprovalOn = enabled;
    const entry: LedgerEntry = {
      type: 'policy',
      asset: this.env.asset,
      tag: this.env.tag,
      data: {
        policy: 'auto-approval',
        enabled,
        maxStep: this.config.autoApproval.maxStep,
        user: u,
        tsMs: nowMs,
        ...(why !== '' ? { reason: why } : {}),
      },
    };
    out.push({ kind: 'record', entry });
    return { ok: true };
  }

  private onResult(r: WriteResult, nowMs: number, out: GateEffect[]): DecisionOutcome {
    if (!verifyResult(this.config.signingKey, r)) {
      // Not from a writer holding the key: it must not move any change. Recorded (nested, so that a
      // restore never reads it as a result) under this gate's setpoint, not under the ids it names.
      const reason = `write result for command ${String(r.commandId)} ${r.signature === undefined ? 'is not signed' : 'has a signature that does not verify'}: ignored`;
      out.push({
        kind: 'record',
        entry: { type: 'refused', asset: this.env.asset, tag: this.env.tag, data: { refusal: 'BAD_SIGNATURE', reason, received: r } },
      });
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
    out.push({
      kind: 'record',
      entry: { type, asset: cmd.asset, tag: cmd.tag, proposalId: cmd.proposalId, data },
      snapshot: snapshot(c),
      result: r,
    });
    return { ok: true, state: c.state };
  }

  // ---------------------------------------------------------------------------------------------
  // Time: lapsed commands, the next ramp step.

  advance(nowMs: number, out: GateEffect[]): void {
    const inflight = this.state.inflight;
    if (inflight && nowMs >= inflight.expiresTsMs + this.graceMs) {
      const c = this.state.changes.get(inflight.proposalId)!;
      this.state.inflight = undefined;
      // It may have been written up to its expiry: count that as the last change (dwell stays safe).
      this.state.lastChangeTsMs = Math.max(this.state.lastChangeTsMs ?? -Infinity, inflight.expiresTsMs);
      if (c.state === 'approved') this.m.end(c, 'failed', `no write result for step ${inflight.step} before the command expired`, nowMs);
      this.m.record(out, c, 'expired', {
        commandId: inflight.id,
        step: inflight.step,
        state: c.state,
        reason: 'command expired without a write result',
      });
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
      this.m.end(c, 'expired', 'approved, but not started before the proposal expired', nowMs);
      this.m.record(out, c, 'expired', { state: c.state, reason: c.reason });
      return;
    }
    let next;
    try {
      next = this.nextStep(c, nowMs);
    } catch (err) {
      this.m.end(c, 'blocked', `no ramp plan: ${(err as Error).message}`, nowMs);
      this.m.record(out, c, 'blocked', { state: c.state, reason: c.reason });
      return;
    }
    if (!next) {
      this.m.end(c, 'done', 'every step written and read back', nowMs);
      this.m.record(out, c, 'readback', { state: c.state, reason: c.reason });
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
      this.m.end(c, 'blocked', `step ${next.step}: ${check.violations.map((v) => v.message).join('; ')}`, nowMs);
      this.m.record(out, c, 'blocked', {
        state: c.state,
        reason: c.reason,
        step: next.step,
        value,
        fromValue: next.fromValue,
        envelopeCheck: check,
      });
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
    this.m.record(out, c, 'command', cmd);
    out.push({ kind: 'command', command: cmd });
  }

  // ---------------------------------------------------------------------------------------------
  // Restore (gate-restore.ts): a setpoint gate's proposals, commands, results and policy switches.

  restoredProposal(data: unknown): Proposal | undefined {
    const p = data as Proposal | null;
    // no kind: a setpoint proposal (every ledger from before kinds existed)
    return p !== null && typeof p === 'object' && typeof p.id === 'string' && recordKind({ data }) === 'setpoint' ? p : undefined;
  }

  /**
   * Every command of this gate must carry a valid signature under the gate's key; one that does not
   * stops the restore (LedgerAlarmError): the gate then refuses to act and the page shows why. A
   * writer's 'write-intent' records are not results: a command with an intent and no result is
   * still in flight (re-sent on start; the writer settles it from the plant).
   */
  restoreRecord(state: GateState, rec: LedgerRecord, c: Change | undefined): void {
    const data = rec.data as Record<string, unknown>;
    switch (rec.type) {
      case 'command': {
        const cmd = rec.data as Command;
        if (!jsonMacMatches(this.config.signingKey, cmd)) {
          throw new LedgerAlarmError({
            reason: `the ledger's command record seq ${rec.seq} does not carry a valid signature under this gate's key: it was not issued by this gate`,
            remedy:
              'The gate refuses to act on this ledger. Keep the file as evidence and run `twinloop ledger verify` on it; restore the ledger ' +
              'from a backup you trust, or move it and its .head aside to start a new one. If the signing key was changed, put the old key back.',
            firstBad: { seq: rec.seq, line: rec.seq + 1, reason: 'command signature does not verify' },
          });
        }
        if (!c) break;
        c.commands.push(cmd);
        state.commandOwner.set(cmd.id, c.proposal.id);
        state.inflight = cmd;
        break;
      }
      case 'write':
      case 'readback':
      case 'refused': {
        if (isResult(rec.data)) {
          const r = rec.data;
          const owner = state.changes.get(state.commandOwner.get(r.commandId) ?? '');
          const cmd = owner?.commands.find((x) => x.id === r.commandId);
          if (!owner || !cmd) break;
          // A writer records 'write' (written, read-back pending) and then 'readback' for one command: the
          // first is news about the plant, not yet the result the writer sends on. As live, the first
          // final result decides; anything later only moves dwell and the known setpoint.
          const final =
            r.outcome !== 'written' || r.readBackOk !== undefined || (rec.data as { receivedByGate?: boolean }).receivedByGate === true;
          if (final && !owner.results.has(r.commandId)) applyResult(state, owner, cmd, r, rec.tsMs);
          else noteWrite(state, cmd, r, rec.tsMs);
        } else if (c && typeof data.state === 'string') {
          // the gate's own closing record
          c.state = data.state as ProposalState;
          if (typeof data.reason === 'string') c.reason = data.reason;
          if (FINAL_STATES.has(c.state)) c.endedTsMs = rec.tsMs;
        }
        break;
      }
      case 'policy':
        if (data.policy === 'auto-approval' && typeof data.enabled === 'boolean')
          state.autoApprovalOn = data.enabled && this.config.autoApproval.enabled;
        break;
    }
  }
}

function isResult(data: unknown): data is WriteResult {
  const d = data as Partial<WriteResult> | null;
  return (
    !!d &&
    typeof d.commandId === 'string' &&
    (d.outcome === 'written' || d.outcome === 'refused' || d.outcome === 'failed' || d.outcome === 'unknown')
  );
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
      r.outcome === 'written'
        ? r.readBackOk === false
          ? `read back ${r.readBackValue ?? '?'} instead of ${cmd.value}`
          : 'no read-back'
        : `${r.outcome}${r.reason ? `: ${r.reason}` : ''}`;
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
