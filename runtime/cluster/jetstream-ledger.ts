/**
 * A line's audit ledger on a replicated JetStream stream (the Ledger of stores.ts, in place of the
 * embedded file). One stream per line: R3 by default, file storage, deletes and purges denied.
 *
 * Records are exactly the file ledger's (ledger-verify.ts: seq, tsMs, type, …, prevHash, hash and,
 * with a signing key, mac), one record per message, so the export (`twinloop ledger export`) is the
 * same JSON-lines file and `twinloop ledger verify` checks it. Record seq n is stream seq n + 1.
 *
 * Single writer by construction: record n is published with the stream-wide Expected-Last-Sequence
 * n (expected-append.ts). The stream thus refuses a writer that has not seen every record before:
 * an owner that lost its line (paused, partitioned, replaced) gets a LedgerFencedError on its next
 * append and must stand down; this handle then refuses every later append too. A lost ack (leader
 * killed mid-append) is retried with the same Nats-Msg-Id, so a record is stored once.
 *
 * On open the whole stream is read and its chain (and, with the key, every MAC) verified: a broken
 * stream is an alarm (LedgerAlarmError), never repaired. The replicated stream stands in for the
 * file ledger's signed head checkpoint: records cannot be deleted or purged through the API.
 *
 * One handle per line per process: unlike the file ledger, handles do not share a core, so a second
 * handle on the same line would be fenced by the first one's appends, and onAppend tells only of
 * this handle's records.
 */
import type { NatsConnection } from './nats-client.js';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from './nats-client.js';
import type { LedgerRecord } from '../model/control.js';
import { TwinError } from '../model/errors.js';
import type { Ledger, LedgerEntry } from '../control/stores.js';
import { buildRecord, ChainChecker, MAX_LINE_BYTES } from '../control/ledger-verify.js';
import { LedgerAlarmError, ledgerKeys, type LedgerKeys } from '../control/ledger-auth.js';
import { appendExpected, ensureLineStream, retryTransient, type ExpectedAppendOptions } from './expected-append.js';
import { ledgerStreamName, ledgerSubject, parseLineId } from './line-id.js';

/**
 * This handle appends nothing more: another writer appended to this line's stream (this one is no
 * longer the owner and must stand down), or `outcomeUnknown`: an append got no answer within the wait
 * (the cluster had no leader that long), so nothing may be chained onto it. The message says which:
 * a supervisor reading "no longer owns the line" during an outage would look for a second instance.
 */
export class LedgerFencedError extends TwinError {
  readonly fenced = true;
  constructor(
    readonly line: string,
    readonly seq: number,
    reason: string,
    readonly outcomeUnknown = false,
  ) {
    super(
      'LEDGER',
      outcomeUnknown
        ? `ledger of line ${line}: record ${seq} may or may not be stored (${reason}); this handle appends nothing more ` +
            '(restart the flow: it continues from what the stream holds)'
        : `ledger of line ${line}: record ${seq} refused (${reason}); this instance no longer owns the line`,
    );
    this.name = 'LedgerFencedError';
  }
}

export interface JetStreamLedgerOptions extends ExpectedAppendOptions {
  nc: NatsConnection;
  /** 'site/area/line' */
  line: string;
  /** The twin-ledger's signing key: records get MACs, and every MAC is checked on open. */
  signingKey?: string;
  /** Stream replicas (default 3; 1 for a single server). */
  replicas?: number;
  /** Wall clock for tsMs (default Date.now). */
  nowMs?: () => number;
}

export interface JetStreamLedger extends Ledger {
  readonly line: string;
  readonly stream: string;
  /** Records in the stream as this writer knows it. */
  readonly records: number;
  /** Set once an append was refused (LedgerFencedError): every later append is refused too. */
  readonly fenced: LedgerFencedError | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Every message of a stream, in order, as text: an ordered consumer from seq 1 until it says nothing
 * is pending, then message by message from the stream leader (getMessage) until there is none. The
 * second step is needed: an ephemeral consumer may sit on a replica that is still catching up after
 * a restart, and was seen to stop one message short (119 of 120 acknowledged appends).
 */
export async function readStreamTexts(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
): Promise<Array<{ seq: number; text: string }>> {
  const out: Array<{ seq: number; text: string }> = [];
  const consumer = await js.consumers.get(stream, { opt_start_seq: 1 });
  try {
    let done = (await consumer.info()).num_pending === 0;
    while (!done) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
      let n = 0;
      for await (const m of batch) {
        n++;
        out.push({ seq: m.seq, text: dec.decode(m.data) });
        if (m.info.pending === 0) {
          // a fetch otherwise waits out its expiry for the rest of its batch
          done = true;
          break;
        }
      }
      if (n === 0 && (await consumer.info()).num_pending === 0) done = true;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  for (let seq = (out.at(-1)?.seq ?? 0) + 1; ; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) return out;
    out.push({ seq: m.seq, text: dec.decode(m.data) });
  }
}

class JetStreamLedgerImpl implements JetStreamLedger {
  readonly location: string;
  fenced: LedgerFencedError | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(rec: LedgerRecord) => void>();
  private closed = false;
  private readOnlyWhy: string | undefined;

  constructor(
    readonly line: string,
    readonly stream: string,
    private readonly subject: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly keys: LedgerKeys | undefined,
    private nextSeq: number,
    private lastHash: string,
    private readonly opts: JetStreamLedgerOptions,
  ) {
    this.location = `nats:${stream}`;
  }

  get records(): number {
    return this.nextSeq;
  }

  static async open(opts: JetStreamLedgerOptions): Promise<JetStreamLedgerImpl> {
    const line = parseLineId(opts.line);
    const keys = opts.signingKey !== undefined ? ledgerKeys(opts.signingKey) : undefined;
    const js = jetstream(opts.nc);
    const jsm = await retryTransient(() => jetstreamManager(opts.nc), opts.retryForMs);
    const stream = ledgerStreamName(line);
    const subject = ledgerSubject(line);
    await retryTransient(() => ensureLineStream(jsm, { name: stream, subject, replicas: opts.replicas ?? 3 }), opts.retryForMs);
    const { checker } = await retryTransient(() => verifyStream(js, jsm, stream, keys), opts.retryForMs);
    const l = new JetStreamLedgerImpl(line, stream, subject, js, jsm, keys, checker.records, checker.lastHash, opts);
    if (!keys && checker.macs > 0) l.readOnlyWhy = `ledger ${l.location} is authenticated (MACs): open it with its signing key to append`;
    return l;
  }

  append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>> {
    if (this.closed) return Promise.reject(new TwinError('LEDGER', `ledger ${this.location}: this handle is closed`));
    if (this.fenced) return Promise.reject(this.fenced);
    if (this.readOnlyWhy) return Promise.reject(new TwinError('LEDGER', this.readOnlyWhy));
    let rec: LedgerRecord<T>;
    let text: string;
    try {
      rec = this.build(entry);
      text = JSON.stringify(rec);
      if (Buffer.byteLength(text) + 1 > MAX_LINE_BYTES) {
        throw new TwinError('BAD_PAYLOAD', `ledger record '${entry.type}' is larger than ${MAX_LINE_BYTES} bytes`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    // seq and prevHash are assigned in call order; appends go out one at a time in that order
    this.nextSeq++;
    this.lastHash = rec.hash;
    const run = this.tail.then(async () => {
      if (this.fenced) throw this.fenced;
      let out;
      try {
        // the record's hash is unique to it (it covers seq and prevHash): its Msg-Id
        const target = { stream: this.stream, subject: this.subject };
        out = await appendExpected(this.js, this.jsm, target, enc.encode(text), rec.hash, rec.seq, this.opts);
      } catch (err) {
        // outcome unknown: nothing after it may be chained onto it
        this.fenced ??= new LedgerFencedError(this.line, rec.seq, `append outcome unknown: ${(err as Error).message}`, true);
        throw err;
      }
      if (!out.stored) {
        this.fenced = new LedgerFencedError(this.line, rec.seq, out.reason);
        throw this.fenced;
      }
      for (const l of this.listeners) {
        try {
          l(rec as LedgerRecord);
        } catch {
          // a listener's bug must not turn a durable append into a failed one
        }
      }
      return rec;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private build<T>(entry: LedgerEntry<T>): LedgerRecord<T> {
    return buildRecord(entry, this.nextSeq, (this.opts.nowMs ?? Date.now)(), this.lastHash, this.keys);
  }

  /** Every record in the stream, verified (another writer's records included: the stream is the truth). */
  async readAll(): Promise<LedgerRecord[]> {
    await this.tail;
    const { records } = await retryTransient(() => verifyStream(this.js, this.jsm, this.stream, this.keys), this.opts.retryForMs);
    return records;
  }

  onAppend(listener: (rec: LedgerRecord) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.tail;
  }
}

/** Read a line stream and check it as `twinloop ledger verify` checks a file; a break is a LedgerAlarmError. */
async function verifyStream(js: JetStreamClient, jsm: JetStreamManager, stream: string, keys: LedgerKeys | undefined) {
  const checker = new ChainChecker(keys);
  const records: LedgerRecord[] = [];
  for (const { seq, text } of await readStreamTexts(js, jsm, stream)) {
    const rec = seq === checker.records + 1 ? checker.push(text, seq) : undefined;
    if (!rec) {
      const reason = `stream seq ${seq} where ${checker.records + 1} was expected (a message is missing)`;
      checker.firstBad ??= { seq: seq - 1, line: seq, reason };
      const bad = checker.firstBad;
      throw new LedgerAlarmError({
        reason: `ledger stream ${stream} does not verify at message ${bad.line} (seq ${bad.seq}): ${bad.reason}`,
        remedy:
          "Stop the line's writes, export the stream (`twinloop ledger export`) as evidence and verify it. " +
          'The ledger is never repaired automatically.',
        firstBad: bad,
      });
    }
    records.push(rec);
  }
  return { checker, records };
}

/** Open (or create) the ledger stream of a line and load its head; rejects with LedgerAlarmError when it does not verify. */
export async function openJetStreamLedger(opts: JetStreamLedgerOptions): Promise<JetStreamLedger> {
  return JetStreamLedgerImpl.open(opts);
}
