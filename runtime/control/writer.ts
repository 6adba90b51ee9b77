/**
 * The writer pipeline shared by twin-opcua-write and twin-mqtt-write (DESIGN principle 5: no
 * unapproved write reaches the plant). For anything that arrives at a writer:
 *
 *   verify (signature → expiry → target, command.ts)
 *   → claim single use (UsedCommands: durable before the write; a crash after it loses the write, never repeats it)
 *   → read the setpoint's present value from the plant
 *   → re-check the envelope's limits and largest step against that value (scope 'step')
 *   → write → read back (equal within a tolerance)
 *
 * and every outcome goes to the ledger (fsync'ed) BEFORE it is reported: 'refused' (code, reason,
 * what arrived), 'write' (the write's outcome), 'readback' (value and match).
 *
 * What the writer does NOT re-check: interlocks, other input tags, freshness of other inputs, dwell
 * and rate limits. Those rest on readings the writer does not see (it knows only its own setpoint)
 * and on the change's history; they are the approval gate's job, which re-checks them against fresh
 * data when it issues each command (a ramp step included). The writer's check is the last line for
 * what it CAN see at the moment of writing: the value in the plant right now, the hard limits and
 * the largest single step from that value.
 *
 * The transport (OPC UA session, MQTT link) is injected, so this file does no I/O of its own.
 * Commands are executed one at a time per writer, so two commands never interleave their
 * read-check-write sequences.
 */
import type { Command, EnvelopeConfig, EnvelopeViolationCode, LedgerRecord, WriteResult } from '../model/control.js';
import type { Reading } from '../model/reading.js';
import { isCommandShape, verifyCommand, type CommandRefusal, type CommandTarget } from './command.js';
import { checkEnvelope, readingKey } from './envelope.js';
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

/** The envelope codes a writer can judge on its own (see the header: the rest is the gate's). */
const WRITER_CHECKED: ReadonlySet<EnvelopeViolationCode> = new Set(['ABOVE_HIGH', 'BELOW_LOW', 'STEP_TOO_LARGE']);

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

  constructor(private readonly o: WriterOptions) {
    this.now = o.nowMs ?? Date.now;
  }

  /** Execute one input (serialised after those before it). Rejects only when the ledger fails. */
  execute(x: unknown): Promise<WriterOutcome> {
    const run = this.queue.then(() => this.run(x));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(x: unknown): Promise<WriterOutcome> {
    const o = this.o;
    const records: LedgerRecord[] = [];
    const check = verifyCommand(o.key, x, o.target, this.now());
    if (!check.ok) {
      // only a command signed by the gate is worth a WriteResult: a forged or malformed one was not
      // issued by it, and must not be able to change the state of a proposal it names
      const authentic = check.refusal !== 'MALFORMED' && check.refusal !== 'BAD_SIGNATURE';
      return this.refuse(x, check.refusal!, check.reason!, authentic, records);
    }
    const cmd = x as Command;
    if (cmd.envelopeVersion !== o.envelopeVersion) {
      return this.refuse(cmd, 'OUTSIDE_ENVELOPE', `approved under envelope version ${cmd.envelopeVersion}, this writer has ${o.envelopeVersion}`, true, records);
    }
    if (!(await o.usedCommands.claim(cmd.id))) {
      return this.refuse(cmd, 'REPLAYED', `command ${cmd.id} was used before`, true, records);
    }

    let current: number;
    try {
      current = await o.transport.readCurrent();
    } catch (err) {
      // nothing was written: the change cannot be checked against the plant
      const reason = `cannot read the present value: ${message(err)}`;
      return this.failed(cmd, reason, records);
    }
    const nowMs = this.now();
    // the setpoint's own reading, fresh from the plant; interlock and input readings are the gate's (header)
    const own: Reading = { asset: o.target.asset, tag: o.target.tag, value: current, tsMs: nowMs, quality: 'good', source: 'writer' };
    const env = checkEnvelope(o.envelope, {
      fromValue: current,
      toValue: cmd.value,
      nowMs,
      readings: new Map([[readingKey(o.target.asset, o.target.tag), own]]),
      scope: 'step',
    });
    const violations = env.violations.filter((v) => WRITER_CHECKED.has(v.code));
    if (violations.length > 0) {
      const reason = `${violations.map((v) => `${v.code}: ${v.message}`).join('; ')} (present value ${current})`;
      return this.refuse(cmd, 'OUTSIDE_ENVELOPE', reason, true, records, { presentValue: current, violations });
    }

    // reading the present value may have waited for a connection: the command must still be valid now
    if (this.now() > cmd.expiresTsMs) {
      return this.refuse(cmd, 'EXPIRED', `expired ${new Date(cmd.expiresTsMs).toISOString()} before it could be written`, true, records, { presentValue: current });
    }
    try {
      await o.transport.write(cmd.value, cmd);
    } catch (err) {
      return this.failed(cmd, message(err), records, current);
    }
    await this.append(cmd, 'write', this.result(cmd, 'written'), records, { presentValue: current });

    const tol = o.readBackToleranceAbs ?? defaultToleranceAbs(cmd.value);
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

  /** The result as sent to the gate, signed with the gate's key (the gate ignores unsigned results). */
  private result(cmd: Command, outcome: WriteResult['outcome'], reason?: string, readBackValue?: number, readBackOk?: boolean): WriteResult {
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
  private async failed(cmd: Command, reason: string, records: LedgerRecord[], presentValue?: number): Promise<WriterOutcome> {
    const result = this.result(cmd, 'failed', reason);
    await this.append(cmd, 'write', result, records, presentValue !== undefined ? { presentValue } : {});
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

  private async append(cmd: Command, type: 'write' | 'readback', result: WriteResult, records: LedgerRecord[], extra: Record<string, unknown>): Promise<LedgerRecord> {
    const rec = await this.o.ledger.append({ type, asset: cmd.asset, tag: cmd.tag, proposalId: cmd.proposalId, data: { ...result, ...extra } });
    records.push(rec);
    return rec;
  }
}

function message(err: unknown): string {
  return String((err as Error)?.message ?? err);
}
