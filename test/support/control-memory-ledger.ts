/**
 * An in-memory Ledger: a legitimate second implementation of the Ledger interface in
 * runtime/control/stores.ts (DESIGN principle 9: stores behind small interfaces), NOT a mock of the
 * file ledger. Records are hash-chained like the file ledger's, appends are serialised and resolve
 * asynchronously (as a durable store would), and `records` can be handed to a new ledger to model a
 * restart over the same store. Used by the gate's unit and property tests.
 */
import { createHash } from 'node:crypto';
import type { LedgerRecord } from '../../runtime/model/control.js';
import { canonicalJson } from '../../runtime/control/canonical.js';
import type { Ledger, LedgerEntry } from '../../runtime/control/stores.js';

export class MemoryLedger implements Ledger {
  readonly location = 'memory';
  /** Make the next append fail (a full disk, say). */
  failNext: Error | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly records: LedgerRecord[] = [],
    private readonly clock: () => number = Date.now,
  ) {}

  append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>> {
    const done = this.tail.then(async () => {
      await new Promise<void>((r) => setImmediate(r)); // durable stores answer later, never synchronously
      if (this.failNext) {
        const err = this.failNext;
        this.failNext = undefined;
        throw err;
      }
      const prev = this.records[this.records.length - 1];
      const body = {
        seq: this.records.length,
        tsMs: this.clock(),
        ...entry,
        // a structured copy: a caller mutating its object later must not change the record
        data: JSON.parse(JSON.stringify(entry.data)) as T,
        prevHash: prev?.hash ?? '0'.repeat(64),
      };
      const rec = { ...body, hash: createHash('sha256').update(canonicalJson(body)).digest('hex') } as LedgerRecord<T>;
      this.records.push(rec);
      return rec;
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  async readAll(): Promise<LedgerRecord[]> {
    await this.tail;
    return this.records.map((r) => JSON.parse(JSON.stringify(r)) as LedgerRecord);
  }

  async close(): Promise<void> {
    await this.tail;
  }
}
