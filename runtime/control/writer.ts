/**
 * The writer pipeline shared by twin-opcua-write and twin-mqtt-write (DESIGN principle 5: no
 * unapproved write reaches the plant). For anything that arrives at a writer:
 *
 *   verify (signature → expiry → target, command.ts)
 *   → the ledger holds an approval of the command's proposal covering its value (decision-index.ts; else NO_DECISION)
 *   → claim single use (UsedCommands: durable before the write; a crash after it never repeats the write)
 *   → read the setpoint's present value and the envelope's interlock and input tags from the plant
 *   → re-check limits and largest step against that value, interlocks and inputs against those readings
 *   → 'write-intent' to the ledger (fsync'ed: the write-ahead record) → write → read back
 *
 * and every outcome goes to the ledger (fsync'ed) BEFORE it is reported: 'refused' (code, reason,
 * what arrived), 'write' (the write's outcome), 'readback' (value and match).
 *
 * Crash recovery (settling). The process can die between the plant accepting a write and the 'write'
 * record. The gate then re-sends the same command after the restart; it was claimed, so it is never
 * written again, but the ledger must still say what the plant took. A claimed command with no final
 * result in the ledger, that is not being executed in this process, is SETTLED instead of refused
 * as REPLAYED (also when it has expired meanwhile: settling writes nothing):
 *   - no 'write-intent' and no 'write': the writer died before it could write (the intent precedes
 *     every write) → 'write' failed, "not written before the crash";
 *   - otherwise the plant's present value is read: equal to the command's value within tolerance →
 *     'write' written (when it was missing) + 'readback' ok, with a note "confirmed after restart";
 *     different → 'write' failed "not written before the crash" (or, when the 'write' record was
 *     already there, a 'readback' that does not match); unreadable → 'write' with outcome 'unknown',
 *     which the gate treats as a failed step (no further steps); also unknown when a later command
 *     wrote the setpoint after this one's intent (the plant's value no longer tells).
 * The settling lives here, not in the gate, because only the writer can read the plant (it holds the
 * transport, the node id / topic and the tolerance) and only it knows whether it got as far as its
 * intent; the gate just re-sends the unanswered command and acts on the result like any other.
 *
 * What the writer re-checks at the moment of writing, through its own connection (the envelope's
 * source: the same OPC UA session or broker it writes through), never through readings a flow
 * handed it: the setpoint's present value against the hard limits and the largest single step
 * (OUTSIDE_ENVELOPE), and every interlock tag and input tag of the envelope, read afresh
 * (transport.readInputs): an interlock that does not hold, a bad (or, as configured, uncertain)
 * quality, a stale reading or an item it cannot read at all is refused as INPUT_MISMATCH, naming the
 * tag and what the plant said. So a gate fooled by readings from elsewhere still writes nothing.
 * What it does NOT re-check: dwell and rate limits, which rest on the change's history and are the
 * approval gate's job (it re-checks them when it issues each command, a ramp step included).
 *
 * The transport (OPC UA session, MQTT link) is injected, so this file does no I/O of its own.
 * Commands are executed one at a time per writer, so two commands never interleave their
 * read-check-write sequences.
 */
import type { Command, EnvelopeConfig, EnvelopeViolationCode, LedgerRecord, WriteResult } from '../model/control.js';
import type { Reading } from '../model/reading.js';
import { isCommandShape, verifyCommand, type CommandRefusal, type CommandTarget } from './command.js';
import { openDecisionIndex, type DecisionCheck } from './decision-index.js';
import { checkEnvelope, envelopeInputKeys, readingKey } from './envelope.js';
import { signResult } from './gate-result-signature.js';
import type { Ledger, UsedCommands } from './stores.js';

/** How a writer reaches its plant. */
export interface WriterTransport {
  /** The setpoint's present value in the plant (throws when it cannot be read). */
  readCurrent(): Promise<number>;
  /** Write one value (throws with the plant's reason, e.g. 'BadOutOfRange', when refused). */
  write(value: number, command: Command): Promise<void>;
  /**
   * The value after the write. A transport that waits for the plant to report (MQTT) resolves as
   * soon as a value within `toleranceAbs` of `expected` arrives, else with the last value it saw;
   * it rejects when it saw none.
   */
  readBack(expected: number, toleranceAbs: number): Promise<number>;
  /**
   * Fresh readings of the envelope's interlock and input tags (keys as readingKey), through this
   * transport's own connection. A key it cannot read is left out (the check calls it missing); a bad
   * status from the plant is a bad-quality reading, not an exception. Throws only when the connection
   * cannot be used at all.
   */
  readInputs(keys: readonly string[]): Promise<ReadonlyMap<string, Reading>>;
}

export interface WriterOptions {
  /** Node id of the writer (WriteResult.writer, ledger records). */
  writerId: string;
  /** HMAC key shared with the gate. */
  key: string;
  target: CommandTarget;
  envelope: EnvelopeConfig;
  /** Version hash of `envelope`: a command approved under another version is refused. */
  envelopeVersion: string;
  usedCommands: UsedCommands;
  ledger: Ledger;
  transport: WriterTransport;
  /** Read-back tolerance, absolute; default: half a unit in the last decimal of the commanded value. */
  readBackToleranceAbs?: number;
  /** Wall clock (expiry is about people's time); injectable for tests. */
  nowMs?: () => number;
  /** Settling after a restart: attempts to read the plant before the outcome is 'unknown' (default 3). */
  settleReadAttempts?: number;
  /**
   * Asked right before the plant write, once the intent is durable: a reason not to write now, or
   * undefined. In a cluster: the line is no longer this instance's (a pause between the intent and
   * the write outlived the lease); the write is then recorded failed, or that record is refused.
   */
  mayWrite?: () => string | undefined;
}

/** What became of one input. */
export interface WriterOutcome {
  /** Absent when what arrived was not an authentic command (nothing to tell the gate about). */
  result?: WriteResult;
  refusal?: CommandRefusal;
  /** Why (refusal, failed write or read-back); undefined when written and read back. */
  reason?: string;
  /** The write or the read-back failed: raise an alarm. */
  alarm: boolean;
  /** The ledger records appended for this input, in order. */
  records: LedgerRecord[];
}

/**
 * Command ids being executed in this process right now (by any writer): a replay of one of them is
 * a replay, not a command left unanswered by a crash, and is refused rather than settled.
 */
const EXECUTING = new Set<string>();

/** A ledger record's WriteResult-shaped data, if it is one (the gate's nested refusals are not). */
function resultOf(rec: LedgerRecord): (WriteResult & { receivedByGate?: boolean }) | undefined {
  if (rec.type !== 'write' && rec.type !== 'readback' && rec.type !== 'refused') return undefined;
  const d = rec.data as Partial<WriteResult> | null;
  return d && typeof d.commandId === 'string' && typeof d.outcome === 'string' ? (d as WriteResult) : undefined;
}

/** A result that closes a command: anything but 'written' still waiting for its read-back (gate-restore.ts reads them alike). */
function isFinal(r: WriteResult & { receivedByGate?: boolean }): boolean {
  return r.outcome !== 'written' || r.readBackOk !== undefined || r.receivedByGate === true;
}

/** The envelope codes a writer judges on its own (see the header: dwell and rate are the gate's). */
const WRITER_LIMITS: ReadonlySet<EnvelopeViolationCode> = new Set(['ABOVE_HIGH', 'BELOW_LOW', 'STEP_TOO_LARGE']);
const WRITER_INPUTS: ReadonlySet<EnvelopeViolationCode> = new Set(['INTERLOCK', 'BAD_INPUT', 'STALE_INPUT', 'MISSING_INPUT']);

/** Half a unit in the last decimal of `v` as written (201.5 → 0.05, 200 → 0.5), at least 1e-9. */
export function defaultToleranceAbs(v: number): number {
  const s = String(Math.abs(v));
  if (/e/i.test(s)) return Math.max(Math.abs(v) * 1e-12, 1e-9);
  const dot = s.indexOf('.');
  const decimals = dot < 0 ? 0 : Math.min(9, s.length - dot - 1);
  return 0.5 * 10 ** -decimals;
}

/** A short, bounded description of something that is not a command (for the ledger). */
export function describeReceived(x: unknown, maxChars = 600): string {
  if (x === null || typeof x !== 'object') return `${typeof x}: ${String(x).slice(0, maxChars)}`;
  let text: string;
  try {
    text = JSON.stringify(x) ?? '';
  } catch {
    text = `object with keys ${Object.keys(x).slice(0, 20).join(', ')}`;
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} chars)` : text;
}

export class CommandWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** The approvals in the ledger for this writer's setpoint (decision-index.ts), opened on first use. */
  private decisions: ReturnType<typeof openDecisionIndex> | undefined;

  constructor(private readonly o: WriterOptions) {
    this.now = o.nowMs ?? Date.now;
  }

  /** Execute one input (serialised after those before it). Rejects only when the ledger fails. */
  execute(x: unknown): Promise<WriterOutcome> {
    const run = this.queue.then(() => this.run(x));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Run `f` with the command id marked as executing in this process (by any writer); a second input
   * with the same id meanwhile gets `busy` (it is a replay, not a command a crash left open).
   * Only authentic commands are marked, so a forged one cannot hold a genuine id hostage.
   */
  private async exclusive<T>(id: string, f: (busy: boolean) => Promise<T>): Promise<T> {
    if (EXECUTING.has(id)) return f(true);
    EXECUTING.add(id);
    try {
      return await f(false);
    } finally {
      EXECUTING.delete(id);
    }
  }

  private async run(x: unknown): Promise<WriterOutcome> {
    const o = this.o;
    const records: LedgerRecord[] = [];
    const check = verifyCommand(o.key, x, o.target, this.now());
    if (!check.ok) {
      // An authentic command for this target that expired while the process was down may still need
      // settling (see the header): that writes nothing, so its expiry does not matter.
      if (
        check.refusal === 'EXPIRED' &&
        (x as Command).asset === o.target.asset &&
        (x as Command).tag === o.target.tag &&
        o.usedCommands.has((x as Command).id)
      ) {
        const cmd = x as Command;
        const settled = await this.exclusive(cmd.id, async (busy) => (busy ? undefined : this.settleIfOpen(cmd, records)));
        if (settled) return settled;
      }
      // only a command signed by the gate is worth a WriteResult: a forged or malformed one was not
      // issued by it, and must not be able to change the state of a proposal it names
      const authentic = check.refusal !== 'MALFORMED' && check.refusal !== 'BAD_SIGNATURE';
      return this.refuse(x, check.refusal!, check.reason!, authentic, records);
    }
    const cmd = x as Command;
    return this.exclusive(cmd.id, (busy) => this.runCommand(cmd, busy, records));
  }

  /** A command whose signature, expiry and target check out; `busy`: the same id is executing right now. */
  private async runCommand(cmd: Command, busy: boolean, records: LedgerRecord[]): Promise<WriterOutcome> {
    const o = this.o;
    const replayed = () => this.refuse(cmd, 'REPLAYED', `command ${cmd.id} was used before`, true, records);
    if (busy) return replayed();
    if (o.usedCommands.has(cmd.id)) return (await this.settleIfOpen(cmd, records)) ?? replayed();
    if (cmd.envelopeVersion !== o.envelopeVersion) {
      return this.refuse(
        cmd,
        'OUTSIDE_ENVELOPE',
        `approved under envelope version ${cmd.envelopeVersion}, this writer has ${o.envelopeVersion}`,
        true,
        records,
      );
    }
    const decision = await this.checkDecision(cmd);
    if (!decision.ok) return this.refuse(cmd, 'NO_DECISION', decision.reason, true, records);
    if (!(await o.usedCommands.claim(cmd.id))) return replayed();

    let current: number;
    try {
      current = await o.transport.readCurrent();
    } catch (err) {
      // nothing was written: the change cannot be checked against the plant
      const reason = `cannot read the present value: ${message(err)}`;
      return this.failed(cmd, reason, records);
    }
    // the interlock and input tags, read through the same connection: what the plant says now
    const ownKey = readingKey(o.target.asset, o.target.tag);
    const inputKeys = [...envelopeInputKeys(o.envelope)].filter((k) => k !== ownKey);
    const readings = new Map<string, Reading>();
    if (inputKeys.length > 0) {
      let fresh: ReadonlyMap<string, Reading>;
      try {
        fresh = await o.transport.readInputs(inputKeys);
      } catch (err) {
        return this.failed(cmd, `cannot read the interlocks and inputs: ${message(err)}`, records, current);
      }
      for (const k of inputKeys) {
        const r = fresh.get(k);
        if (r) readings.set(k, r);
      }
    }
    const nowMs = this.now();
    readings.set(ownKey, { asset: o.target.asset, tag: o.target.tag, value: current, tsMs: nowMs, quality: 'good', source: 'writer' });
    const env = checkEnvelope(o.envelope, { fromValue: current, toValue: cmd.value, nowMs, readings, scope: 'step' });
    const limits = env.violations.filter((v) => WRITER_LIMITS.has(v.code));
    const inputs = env.violations.filter((v) => WRITER_INPUTS.has(v.code));
    if (limits.length > 0 || inputs.length > 0) {
      const violations = [...limits, ...inputs];
      const said = inputKeys.length > 0 ? '; inputs as the writer read them through its own connection now' : '';
      const reason = `${violations.map((v) => `${v.code}: ${v.message}`).join('; ')} (present value ${current}${said})`;
      const plant = Object.fromEntries(inputKeys.map((k) => [k, plantSaid(readings.get(k))]));
      return this.refuse(cmd, limits.length > 0 ? 'OUTSIDE_ENVELOPE' : 'INPUT_MISMATCH', reason, true, records, {
        presentValue: current,
        violations,
        ...(inputKeys.length > 0 ? { inputs: plant } : {}),
      });
    }

    // reading the present value may have waited for a connection: the command must still be valid now
    if (this.now() > cmd.expiresTsMs) {
      return this.refuse(cmd, 'EXPIRED', `expired ${new Date(cmd.expiresTsMs).toISOString()} before it could be written`, true, records, {
        presentValue: current,
      });
    }
    const tol = o.readBackToleranceAbs ?? defaultToleranceAbs(cmd.value);
    // Write-ahead: durable before the plant can take the value, so a crash after the write leaves a
    // trace the next run settles from the plant (header). A failed append writes nothing (rejects).
    records.push(
      await o.ledger.append({
        type: 'write-intent',
        asset: cmd.asset,
        tag: cmd.tag,
        proposalId: cmd.proposalId,
        data: {
          commandId: cmd.id,
          proposalId: cmd.proposalId,
          decisionSeq: decision.approval.decisionSeq,
          value: cmd.value,
          presentValue: current,
          step: cmd.step,
          steps: cmd.steps,
          toleranceAbs: tol,
          writer: o.writerId,
          tsMs: this.now(),
        },
      }),
    );
    const notNow = o.mayWrite?.();
    if (notNow !== undefined) return this.failed(cmd, `not written: ${notNow}`, records, current);
    try {
      await o.transport.write(cmd.value, cmd);
    } catch (err) {
      return this.failed(cmd, message(err), records, current);
    }
    await this.append(cmd, 'write', this.result(cmd, 'written'), records, { presentValue: current });

    let readBackValue: number | undefined;
    let reason: string | undefined;
    try {
      readBackValue = await o.transport.readBack(cmd.value, tol);
      if (!(Math.abs(readBackValue - cmd.value) <= tol)) reason = `read back ${readBackValue}, wrote ${cmd.value} (tolerance ${tol})`;
    } catch (err) {
      reason = `read-back failed: ${message(err)}`;
    }
    const result = this.result(cmd, 'written', reason, readBackValue, reason === undefined);
    await this.append(cmd, 'readback', result, records, { toleranceAbs: tol });
    return { result, reason, alarm: reason !== undefined, records };
  }

  /**
   * The ledger must hold the approval the command claims (decision-index.ts): a key alone does not
   * make a write. Checked before the claim, so a refused command can still be settled or re-sent.
   */
  private async checkDecision(cmd: Command): Promise<DecisionCheck> {
    const open = (this.decisions ??= openDecisionIndex(this.o.ledger, this.o.target));
    open.catch(() => {
      if (this.decisions === open) this.decisions = undefined;
    });
    const d = await open;
    if (!d.index.approval(cmd.proposalId)) await d.refresh(); // a ledger that cannot tell of appends is read again
    return d.index.check(cmd);
  }

  /**
   * A command claimed earlier (before a restart, or by an execution that died with the ledger) with
   * no final result in the ledger: record what the plant holds (header), never write. undefined when
   * the ledger has a final result for it: then it is a plain replay.
   */
  private async settleIfOpen(cmd: Command, records: LedgerRecord[]): Promise<WriterOutcome | undefined> {
    const o = this.o;
    let intent: LedgerRecord | undefined;
    let written: LedgerRecord | undefined;
    /** A write to this setpoint intended after this command's: the plant's value is no longer evidence. */
    let overwrittenBy: string | undefined;
    for (const rec of await o.ledger.readAll()) {
      if (rec.type === 'write-intent') {
        const id = (rec.data as { commandId?: unknown })?.commandId;
        if (id === cmd.id) intent = rec;
        else if ((intent || written) && rec.asset === cmd.asset && rec.tag === cmd.tag) overwrittenBy = String(id);
        continue;
      }
      const r = resultOf(rec);
      if (!r || r.commandId !== cmd.id) continue;
      if (isFinal(r)) return undefined;
      written = rec;
    }
    const tol = o.readBackToleranceAbs ?? defaultToleranceAbs(cmd.value);
    const before = (intent?.data as { presentValue?: unknown } | undefined)?.presentValue;
    const presentValueBefore = typeof before === 'number' ? before : undefined;
    const base: Record<string, unknown> = {
      settledAfterRestart: true,
      ...(intent ? { intentSeq: intent.seq } : {}),
      ...(presentValueBefore !== undefined ? { presentValueBefore } : {}),
    };
    if (!intent && !written) {
      const reason =
        'not written before the crash: the command was claimed, but no write intent was recorded (the writer records it before every write)';
      return this.failed(cmd, reason, records, undefined, base);
    }
    if (overwrittenBy !== undefined) {
      // e.g. a copy arriving long after the gate gave up on it: later writes make the plant's value say nothing about this one
      const reason = `the setpoint was written again since (command ${overwrittenBy}): whether this command reached the plant before the crash is unknown`;
      const result = this.result(cmd, 'unknown', reason);
      await this.append(cmd, 'write', result, records, base);
      return { result, reason, alarm: true, records };
    }
    let plant: number | undefined;
    let readError = '';
    const attempts = Math.max(1, o.settleReadAttempts ?? 3);
    for (let i = 0; i < attempts && plant === undefined; i++) {
      try {
        plant = await o.transport.readCurrent();
      } catch (err) {
        readError = message(err);
      }
    }
    if (plant === undefined) {
      const reason = `the plant could not be read after a restart (${readError}): whether the write before the crash reached it is unknown`;
      const result = this.result(cmd, 'unknown', reason);
      await this.append(cmd, 'write', result, records, base);
      return { result, reason, alarm: true, records };
    }
    const holds = Math.abs(plant - cmd.value) <= tol;
    if (!written && !holds) {
      return this.failed(
        cmd,
        `not written before the crash: the plant holds ${plant}, the command's value is ${cmd.value} (tolerance ${tol})`,
        records,
        plant,
        base,
      );
    }
    const already = presentValueBefore !== undefined && Math.abs(presentValueBefore - cmd.value) <= tol;
    const note = !holds
      ? `read back after restart: the plant holds ${plant}, wrote ${cmd.value} (tolerance ${tol})`
      : `plant confirmed after restart: it holds ${plant} (command value ${cmd.value}, tolerance ${tol}); ` +
        (already
          ? 'it held that value already before the write'
          : `the write before the crash reached it (it held ${presentValueBefore ?? '?'} before)`);
    if (!written) {
      await this.append(cmd, 'write', this.result(cmd, 'written'), records, {
        ...base,
        ...(presentValueBefore !== undefined ? { presentValue: presentValueBefore } : {}),
        note,
      });
    }
    const reason = holds ? undefined : note;
    const result = this.result(cmd, 'written', reason, plant, holds);
    await this.append(cmd, 'readback', result, records, { ...base, toleranceAbs: tol, note });
    return { result, reason, alarm: !holds, records };
  }

  /** The result as sent to the gate, signed with the gate's key (the gate ignores unsigned results). */
  private result(
    cmd: Command,
    outcome: WriteResult['outcome'],
    reason?: string,
    readBackValue?: number,
    readBackOk?: boolean,
  ): WriteResult {
    return signResult(this.o.key, {
      commandId: cmd.id,
      proposalId: cmd.proposalId,
      asset: cmd.asset,
      tag: cmd.tag,
      value: cmd.value,
      outcome,
      ...(reason !== undefined ? { reason } : {}),
      ...(readBackValue !== undefined ? { readBackValue } : {}),
      ...(readBackOk !== undefined ? { readBackOk } : {}),
      writer: this.o.writerId,
      tsMs: this.now(),
    });
  }

  /** A write that could not be made or that the plant refused: one 'write' record, outcome 'failed', alarm. */
  private async failed(
    cmd: Command,
    reason: string,
    records: LedgerRecord[],
    presentValue?: number,
    extra: Record<string, unknown> = {},
  ): Promise<WriterOutcome> {
    const result = this.result(cmd, 'failed', reason);
    await this.append(cmd, 'write', result, records, { ...extra, ...(presentValue !== undefined ? { presentValue } : {}) });
    return { result, reason, alarm: true, records };
  }

  private async refuse(
    x: unknown,
    refusal: CommandRefusal,
    reason: string,
    authentic: boolean,
    records: LedgerRecord[],
    extra: Record<string, unknown> = {},
  ): Promise<WriterOutcome> {
    const o = this.o;
    const shaped = isCommandShape(x);
    const result = authentic && shaped ? this.result(x, 'refused', `${refusal}: ${reason}`) : undefined;
    const data = {
      refusal,
      reason,
      writer: o.writerId,
      // the WriteResult exactly as it is sent (its reason carries the refusal code)
      ...(result ?? {}),
      // what arrived: the command itself when it has a command's shape, else a bounded description
      ...(shaped ? { command: x } : { received: describeReceived(x) }),
      ...extra,
    };
    records.push(
      await o.ledger.append({
        type: 'refused',
        // the writer's own target: a forged command's asset/tag are the forger's words
        asset: o.target.asset,
        tag: o.target.tag,
        ...(authentic && shaped ? { proposalId: x.proposalId } : {}),
        data,
      }),
    );
    return { result, refusal, reason: `${refusal}: ${reason}`, alarm: false, records };
  }

  private async append(
    cmd: Command,
    type: 'write' | 'readback',
    result: WriteResult,
    records: LedgerRecord[],
    extra: Record<string, unknown>,
  ): Promise<LedgerRecord> {
    const rec = await this.o.ledger.append({
      type,
      asset: cmd.asset,
      tag: cmd.tag,
      proposalId: cmd.proposalId,
      data: { ...result, ...extra },
    });
    records.push(rec);
    return rec;
  }
}

/** What the plant said for one input, for the ledger (null: it could not be read). */
function plantSaid(r: Reading | undefined): Record<string, unknown> | null {
  if (!r) return null;
  const why = r.qualityReason ? { qualityReason: r.qualityReason } : {};
  return { value: r.value, quality: r.quality, tsMs: r.tsMs, ...why, ...(r.origin ? { origin: r.origin } : {}) };
}

function message(err: unknown): string {
  return String((err as Error)?.message ?? err);
}
