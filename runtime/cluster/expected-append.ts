/**
 * One append to a JetStream stream that only succeeds where the writer expects it: the stream-wide
 * Expected-Last-Sequence (never the per-subject one: on nats-server 2.9.10 that one lets two writers
 * win at R3, nats-server issue 4320). Each message carries a Nats-Msg-Id, so an attempt whose ack was
 * lost (the stream leader died after storing it) can be repeated: the server answers a duplicate with
 * the first one's seq. Should the repeat instead meet "wrong last sequence" (the duplicate window
 * passed, or a new leader without the dedupe entry), the message at the expected position is read:
 * ours (same Msg-Id) means the first attempt landed; anyone else's means another writer got there
 * first, and the caller must stand down.
 */
import type { JetStreamClient, JetStreamManager } from './nats-client.js';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from './nats-client.js';
import { TwinError } from '../model/errors.js';

export interface ExpectedAppendOptions {
  /** Wait for one ack this long before trying again (default 2,000 ms). */
  attemptTimeoutMs?: number;
  /** Keep trying this long across leader elections (measured 4–8.5 s on 2.9.10; default 30,000 ms). */
  retryForMs?: number;
}

export type AppendOutcome = { stored: true; seq: number } | { stored: false; reason: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
}

/** The Msg-Id of the message at `seq` (undefined: none there yet). Throws while the stream cannot answer. */
async function msgIdAt(jsm: JetStreamManager, stream: string, seq: number): Promise<string | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { seq });
    return m ? (m.header?.get('Nats-Msg-Id') ?? '') : undefined;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined;
    throw err;
  }
}

/**
 * Append `payload` so that it becomes message `expectedLastSeq + 1` of `stream`, or learn that
 * someone else's message is there. Transient failures (no leader, timeouts, reconnects) are retried
 * until `retryForMs`; then a TwinError('LEDGER') is thrown (the outcome is then unknown to the caller).
 */
export async function appendExpected(
  js: JetStreamClient,
  jsm: JetStreamManager,
  target: { stream: string; subject: string },
  payload: Uint8Array,
  msgId: string,
  expectedLastSeq: number,
  opts: ExpectedAppendOptions = {},
): Promise<AppendOutcome> {
  const attemptMs = opts.attemptTimeoutMs ?? 2_000;
  const until = Date.now() + (opts.retryForMs ?? 30_000);
  let lastErr: unknown;
  for (let attempt = 0; Date.now() < until; attempt++) {
    if (attempt > 0) await sleep(Math.min(250, 25 * attempt));
    try {
      const expect = { lastSequence: expectedLastSeq };
      const ack = await js.publish(target.subject, payload, { msgID: msgId, expect, timeout: attemptMs });
      if (ack.seq === expectedLastSeq + 1) return { stored: true, seq: ack.seq };
      // a duplicate ack names where the first copy went: anywhere else is not what we asked for
      throw new TwinError('LEDGER', `${target.stream}: message ${msgId} stored at seq ${ack.seq}, expected ${expectedLastSeq + 1}`);
    } catch (err) {
      if (err instanceof TwinError) throw err;
      if (!isWrongLastSequence(err)) {
        lastErr = err;
        continue;
      }
      try {
        const there = await msgIdAt(jsm, target.stream, expectedLastSeq + 1);
        if (there === msgId) return { stored: true, seq: expectedLastSeq + 1 };
        const reason =
          there === undefined
            ? `${target.stream} moved on`
            : `seq ${expectedLastSeq + 1} of ${target.stream} holds another writer's message`;
        return { stored: false, reason };
      } catch (readErr) {
        lastErr = readErr;
      }
    }
  }
  const why = (lastErr as Error)?.message ?? 'timeout';
  throw new TwinError('LEDGER', `${target.stream}: no acknowledgement within ${opts.retryForMs ?? 30_000} ms (${why})`, { cause: lastErr });
}

/** What a line's stream must be: replicated, on disk, never deleted from or purged. */
export interface LineStreamSpec {
  name: string;
  subject: string;
  replicas: number;
  /** Keep at most this many messages (-1: all; the ledger keeps all). */
  maxMsgs?: number;
}

/**
 * Create the stream, or check that an existing one has the settings the audit trail relies on
 * (an identical add by two instances at once is fine: the server answers both with the stream).
 */
export async function ensureLineStream(jsm: JetStreamManager, spec: LineStreamSpec): Promise<void> {
  const cfg = {
    name: spec.name,
    subjects: [spec.subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: spec.replicas,
    max_msgs: spec.maxMsgs ?? -1,
    deny_delete: true,
    deny_purge: true,
    allow_rollup_hdrs: false,
  };
  let info;
  try {
    info = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    info = await jsm.streams.add(cfg);
  }
  const c = info.config;
  const wrong = [
    c.storage !== StorageType.File && 'storage is not file',
    c.num_replicas !== spec.replicas && `replicas ${c.num_replicas}, not ${spec.replicas}`,
    !c.deny_delete && 'deletes allowed',
    !c.deny_purge && 'purges allowed',
    (c.subjects?.length !== 1 || c.subjects[0] !== spec.subject) && `subjects ${JSON.stringify(c.subjects)}`,
  ].filter(Boolean);
  if (wrong.length > 0) throw new TwinError('LEDGER', `stream ${spec.name} exists with other settings (${wrong.join(', ')}): not used`);
}

/**
 * Run `fn` again on failure until `forMs` passed (JetStream answers nothing while its meta group or a
 * stream elects a leader). A TwinError is a verdict, not a hiccup: it is thrown at once.
 */
export async function retryTransient<T>(fn: () => Promise<T>, forMs = 30_000): Promise<T> {
  const until = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TwinError || Date.now() >= until) throw err;
      await sleep(Math.min(500, 50 * (attempt + 1)));
    }
  }
}
