/**
 * The in-memory ledger of the gate's specs (control-memory-ledger.ts) with the optional
 * `onAppend` of the Ledger interface, as the file ledger has it: listeners hear of each record
 * once it is durable, in order, before the appender's promise resolves. The gate keeps its index of
 * write results from it; the plain MemoryLedger (no onAppend) exercises the gate's read-the-ledger
 * fallback.
 */
import type { LedgerRecord } from '../../runtime/model/control.js';
import type { LedgerEntry } from '../../runtime/control/stores.js';
import { MemoryLedger } from './control-memory-ledger.js';

export class NotifyingMemoryLedger extends MemoryLedger {
  private readonly listeners = new Set<(rec: LedgerRecord) => void>();

  override append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>> {
    return super.append(entry).then((rec) => {
      for (const l of this.listeners) l(rec as LedgerRecord);
      return rec;
    });
  }

  /** How often the whole ledger was read. */
  readAllCalls = 0;

  override readAll(): Promise<LedgerRecord[]> {
    this.readAllCalls++;
    return super.readAll();
  }

  onAppend(listener: (rec: LedgerRecord) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
