/**
 * The embedded audit ledger: an append-only, hash-chained JSON-lines file (format and checks in
 * ledger-verify.ts). An append resolves only once its line is written and fdatasync'ed, so nobody
 * is told a decision took effect before it is on disk.
 *
 * Order: seq, prevHash and hash are assigned synchronously when append() is called, so records
 * are chained in call order; the lines are then written in that order (group commit, see
 * ledger-durable-file.ts).
 *
 * On open the whole file is verified. A broken chain or a torn last line (a crash mid-write)
 * makes the open fail with the file and the first bad line named: an audit ledger is never
 * repaired silently. A person decides what to do with it (`twinloop ledger verify FILE`).
 *
 * One instance per resolved path per process, shared and reference counted: every handle's
 * close() releases it, and the file is closed with the last.
 */
import { promises as fsp } from 'node:fs';
import type { LedgerRecord } from '../model/control.js';
import { TwinError } from '../model/errors.js';
import type { Ledger, LedgerEntry } from './stores.js';
import { describeBreak, GENESIS_HASH, hashRecord, MAX_LINE_BYTES, verifyLedgerFile } from './ledger-verify.js';
import { DurableAppendFile, SharedByPath, STORE_ERROR_CODE } from './ledger-durable-file.js';

class FileLedgerCore {
  /** seq and hash of the next record to assign (includes appends not yet durable). */
  private nextSeq: number;
  private lastHash: string;
  /** Records and bytes known to be on disk: a consistent prefix of the file to read back. */
  private durableRecords: number;
  private durableBytes: number;
  /** Told of each record once durable (every handle on this path shares the core). */
  private readonly listeners = new Set<(rec: LedgerRecord) => void>();

  private constructor(readonly path: string, private readonly file: DurableAppendFile, records: number, lastHash: string, bytes: number) {
    this.nextSeq = records;
    this.lastHash = lastHash;
    this.durableRecords = records;
    this.durableBytes = bytes;
  }

  static async open(path: string): Promise<FileLedgerCore> {
    const stat = await fsp.stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (stat && !stat.isFile()) throw new TwinError(STORE_ERROR_CODE, `ledger ${path} is not a file`);
    let records = 0;
    let lastHash = GENESIS_HASH;
    let bytes = 0;
    if (stat) {
      const v = await verifyLedgerFile(path);
      if (!v.ok) {
        throw new TwinError(STORE_ERROR_CODE, `refusing to append to a broken ledger: ${describeBreak(path, v)}. Check it with \`twinloop ledger verify ${path}\`; it is not repaired automatically`);
      }
      ({ records, lastHash, bytes } = v);
    }
    return new FileLedgerCore(path, await DurableAppendFile.open(path), records, lastHash, bytes);
  }

  append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>> {
    if (this.file.failed) return Promise.reject(this.file.failed);
    let rec: LedgerRecord<T>;
    let line: string;
    try {
      rec = this.build(entry);
      line = JSON.stringify(rec) + '\n';
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new TwinError('BAD_PAYLOAD', `ledger record '${entry.type}' is larger than ${MAX_LINE_BYTES} bytes`);
    } catch (err) {
      return Promise.reject(err);
    }
    this.nextSeq++;
    this.lastHash = rec.hash;
    const bytes = Buffer.byteLength(line);
    return this.file.append(line).then(() => {
      // Callbacks run in append order, so the counters always describe a prefix of the file.
      this.durableRecords++;
      this.durableBytes += bytes;
      for (const l of this.listeners) {
        try {
          l(rec as LedgerRecord);
        } catch {
          // a listener's bug must not turn a durable append into a failed one
        }
      }
      return rec;
    });
  }

  onAppend(listener: (rec: LedgerRecord) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private build<T>(entry: LedgerEntry<T>): LedgerRecord<T> {
    if (entry === null || typeof entry !== 'object' || typeof entry.type !== 'string' || (entry.type as string) === '') {
      throw new TwinError('BAD_PAYLOAD', 'ledger entry needs a type');
    }
    for (const k of ['asset', 'tag', 'proposalId'] as const) {
      if (entry[k] !== undefined && typeof entry[k] !== 'string') throw new TwinError('BAD_PAYLOAD', `ledger entry ${k} must be a string`);
    }
    if (entry.data === undefined) throw new TwinError('BAD_PAYLOAD', `ledger entry '${entry.type}' has no data`);
    // Plain JSON data (Dates become strings, undefined members go) so that the record read back
    // from the file hashes exactly as the one written.
    let data: T;
    try {
      data = JSON.parse(JSON.stringify(entry.data)) as T;
    } catch (err) {
      throw new TwinError('BAD_PAYLOAD', `ledger entry '${entry.type}' data is not JSON: ${(err as Error).message}`);
    }
    const body = {
      seq: this.nextSeq,
      tsMs: Date.now(),
      type: entry.type,
      ...(entry.asset !== undefined ? { asset: entry.asset } : {}),
      ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
      ...(entry.proposalId !== undefined ? { proposalId: entry.proposalId } : {}),
      data,
      prevHash: this.lastHash,
    };
    return { ...body, hash: hashRecord(body) };
  }

  /** The durable records, read back and verified (a ledger changed under us is an error, not a history). */
  async readAll(): Promise<LedgerRecord[]> {
    const expected = this.durableRecords;
    const records: LedgerRecord[] = [];
    const v = await verifyLedgerFile(this.path, { maxBytes: this.durableBytes, onRecord: (r) => records.push(r) });
    if (!v.ok) throw new TwinError(STORE_ERROR_CODE, `ledger no longer verifies: ${describeBreak(this.path, v)}`);
    if (v.records !== expected) throw new TwinError(STORE_ERROR_CODE, `${this.path} holds ${v.records} records where this process wrote ${expected}: changed by someone else`);
    return records;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

const shared = new SharedByPath<FileLedgerCore>(
  (path) => FileLedgerCore.open(path),
  (core) => core.close(),
);

/**
 * Open (or create, with its directory) the ledger at `path`. Rejects with a TwinError naming the
 * first bad line when the existing file does not verify.
 */
export async function openFileLedger(path: string): Promise<Ledger> {
  const { key, value: core, release } = await shared.acquire(path);
  let closed = false;
  // this handle's subscriptions end with it (the core outlives it while other handles hold it)
  const unsubscribers = new Set<() => void>();
  return {
    location: key,
    append: <T>(entry: LedgerEntry<T>) =>
      closed ? Promise.reject(new TwinError(STORE_ERROR_CODE, `ledger ${key}: this handle is closed`)) : core.append(entry),
    readAll: () => core.readAll(),
    onAppend: (listener: (rec: LedgerRecord) => void) => {
      if (closed) return () => undefined;
      const off = core.onAppend(listener);
      const un = (): void => {
        off();
        unsubscribers.delete(un);
      };
      unsubscribers.add(un);
      return un;
    },
    close: async () => {
      closed = true;
      for (const un of [...unsubscribers]) un();
      await release();
    },
  };
}
