/**
 * The narrow store interfaces of the closed loop (DESIGN principle 9): a local file is the embedded
 * default (runtime/control/file-ledger.ts, file-used-commands.ts); a replicated store can take its place.
 */
import type { LedgerEventType, LedgerRecord } from '../model/control.js';

export interface LedgerEntry<T = unknown> {
  type: LedgerEventType;
  asset?: string;
  tag?: string;
  proposalId?: string;
  data: T;
}

export interface Ledger {
  /** Where the ledger lives (a file path for the file ledger), for people. */
  readonly location: string;
  /**
   * Append one record; resolves only once it is durable (written and fsync'ed), with its seq and
   * hash filled in. Appends are serialised in call order.
   */
  append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>>;
  /** Every record, in order (for rebuilding state and the history tab). */
  readAll(): Promise<LedgerRecord[]>;
  /**
   * Optional: be told of every record appended to this ledger in this process (through any handle),
   * once it is durable, in append order, before the appender's promise resolves. Returns the
   * unsubscribe function. A store that cannot tell leaves it out: readers then use readAll().
   */
  onAppend?(listener: (rec: LedgerRecord) => void): () => void;
  close(): Promise<void>;
}

/** Result of checking a ledger's hash chain. */
export interface LedgerVerification {
  ok: boolean;
  records: number;
  /** First broken record (0-based seq / 1-based line) and why. */
  firstBad?: { seq: number; line: number; reason: string };
}

/** Command ids a writer has executed: a command is written at most once, across restarts. */
export interface UsedCommands {
  /**
   * Claim an id before writing; resolves true if it was unused (and is now durably marked used),
   * false if it was used before. Claim-then-write means a crash between the two loses the write
   * (the gate then sees no result and the command expires) but never repeats it.
   */
  claim(commandId: string): Promise<boolean>;
  has(commandId: string): boolean;
  close(): Promise<void>;
}
