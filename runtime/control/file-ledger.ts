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
 * Opened with a signing key (as twin-ledger does), every record gets a MAC and every commit group
 * replaces the signed head checkpoint `<file>.head`; the open then also refuses a record without a
 * valid MAC and a file that disagrees with its checkpoint (ledger-auth.ts). Opened without a key,
 * the chain alone is checked, and a ledger that is authenticated can be read but not appended to.
 *
 * One instance per resolved path per process, shared and reference counted: every handle's
 * close() releases it, and the file is closed with the last.
 */
import type { LedgerRecord } from '../model/control.js';
import { TwinError } from '../model/errors.js';
import type { Ledger, LedgerEntry } from './stores.js';
import { buildRecord, describeBreak, MAX_LINE_BYTES, verifyLedgerFile } from './ledger-verify.js';
import { DurableAppendFile, SharedByPath, STORE_ERROR_CODE } from './ledger-durable-file.js';
import { checkLedger, LedgerAlarmError, ledgerKeys, signHead, writeHead, type LedgerKeys } from './ledger-auth.js';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Which key a core was opened with (never the key itself): two openers of one file must agree. */
const keyId = (keys: LedgerKeys | undefined): string => (keys ? createHash('sha256').update(keys.record).digest('hex') : 'none');

class FileLedgerCore {
  /** seq and hash of the next record to assign (includes appends not yet durable). */
  private nextSeq: number;
  private lastHash: string;
  /** Records and bytes known to be on disk: a consistent prefix of the file to read back. */
  private durableRecords: number;
  private durableBytes: number;
  /** Told of each record once durable (every handle on this path shares the core). */
  private readonly listeners = new Set<(rec: LedgerRecord) => void>();

  /** Opened without a key on a ledger that has MACs or a checkpoint: readable, but an append would break its authenticity. */
  private readOnlyWhy: string | undefined;

  private constructor(
    readonly path: string,
    private readonly file: DurableAppendFile,
    records: number,
    lastHash: string,
    bytes: number,
    private readonly keys: LedgerKeys | undefined,
  ) {
    this.nextSeq = records;
    this.lastHash = lastHash;
    this.durableRecords = records;
    this.durableBytes = bytes;
  }

  get keyId(): string {
    return keyId(this.keys);
  }

  static async open(path: string, signingKey?: string): Promise<FileLedgerCore> {
    const keys = signingKey !== undefined ? ledgerKeys(signingKey) : undefined;
    const c = await checkLedger(path, signingKey).catch((err: NodeJS.ErrnoException) => {
      throw new TwinError(STORE_ERROR_CODE, `cannot read the ledger ${path}: ${err.message}`, { cause: err });
    });
    if (c.alarm) throw new LedgerAlarmError({ ...c.alarm, reason: `refusing to append to a broken ledger: ${c.alarm.reason}` });
    if (keys && !c.head) {
      // A new (or empty) ledger: its checkpoint exists before its first record, so a lost checkpoint is never normal.
      await mkdir(dirname(path), { recursive: true });
      await writeHead(path, signHead(keys, c.records, c.lastHash));
    }
    const afterSync = keys
      ? (last: unknown) => {
          const { records, lastHash } = last as { records: number; lastHash: string };
          return writeHead(path, signHead(keys, records, lastHash));
        }
      : undefined;
    const core = new FileLedgerCore(path, await DurableAppendFile.open(path, afterSync), c.records, c.lastHash, c.bytes, keys);
    if (!keys && (c.macs > 0 || c.head))
      core.readOnlyWhy = `ledger ${path} is authenticated (MACs, checkpoint): open it with its signing key to append`;
    return core;
  }

  append<T>(entry: LedgerEntry<T>): Promise<LedgerRecord<T>> {
    if (this.file.failed) return Promise.reject(this.file.failed);
    if (this.readOnlyWhy) return Promise.reject(new TwinError(STORE_ERROR_CODE, this.readOnlyWhy));
    let rec: LedgerRecord<T>;
    let line: string;
    try {
      rec = this.build(entry);
      line = JSON.stringify(rec) + '\n';
      if (Buffer.byteLength(line) > MAX_LINE_BYTES)
        throw new TwinError('BAD_PAYLOAD', `ledger record '${entry.type}' is larger than ${MAX_LINE_BYTES} bytes`);
    } catch (err) {
      return Promise.reject(err);
    }
    this.nextSeq++;
    this.lastHash = rec.hash;
    const bytes = Buffer.byteLength(line);
    return this.file.append(line, { records: rec.seq + 1, lastHash: rec.hash }).then(() => {
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
    return buildRecord(entry, this.nextSeq, Date.now(), this.lastHash, this.keys);
  }

  /** The durable records, read back and verified (a ledger changed under us is an error, not a history). */
  async readAll(): Promise<LedgerRecord[]> {
    const expected = this.durableRecords;
    const records: LedgerRecord[] = [];
    const v = await verifyLedgerFile(this.path, {
      maxBytes: this.durableBytes,
      onRecord: (r) => records.push(r),
      ...(this.keys ? { macKey: this.keys } : {}),
    });
    if (!v.ok) throw new TwinError(STORE_ERROR_CODE, `ledger no longer verifies: ${describeBreak(this.path, v)}`);
    if (v.records !== expected)
      throw new TwinError(
        STORE_ERROR_CODE,
        `${this.path} holds ${v.records} records where this process wrote ${expected}: changed by someone else`,
      );
    return records;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

const shared = new SharedByPath<FileLedgerCore, string>(
  (path, signingKey) => FileLedgerCore.open(path, signingKey),
  (core) => core.close(),
);

/**
 * Open (or create, with its directory) the ledger at `path`. Rejects with a TwinError naming the
 * first bad line when the existing file does not verify; with `opts.signingKey`, with a
 * LedgerAlarmError also when a record is not authentic or the file disagrees with its checkpoint.
 */
export async function openFileLedger(path: string, opts: { signingKey?: string } = {}): Promise<Ledger> {
  const { key, value: core, release } = await shared.acquire(path, opts.signingKey);
  // A handle without a key may share a keyed core (same process, its appends get MACs); a keyed one must match.
  if (opts.signingKey !== undefined && core.keyId !== keyId(ledgerKeys(opts.signingKey))) {
    await release();
    const other = core.keyId === 'none' ? 'no key' : 'another key';
    throw new TwinError(
      STORE_ERROR_CODE,
      `ledger ${key} is already open in this process with ${other}: every twin-ledger of one file needs the same signing key`,
    );
  }
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
