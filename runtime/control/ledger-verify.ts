/**
 * Verification of the audit ledger's hash chain (JSON lines, one LedgerRecord per line).
 *
 * Each record holds `hash` = hex SHA-256 of canonicalJson(record without `hash`) and `prevHash` =
 * the hash of the record before it (GENESIS_HASH for the first); `seq` is the 0-based position.
 * Editing, deleting, inserting or reordering a record therefore breaks the chain at (or right
 * after) that record, and verification names the first line where it breaks.
 *
 * What a chain cannot show on its own: a writer with access to the file can rewrite every record
 * from some point on (or drop the tail) and recompute all hashes. A ledger with a key therefore
 * also carries a MAC per record (`mac`, over `hash`; checked here when `macKey` is given) and a
 * signed checkpoint of its head beside the file (ledger-auth.ts).
 *
 * The file is read as a stream of bytes split on '\n' (safe in UTF-8), so a large ledger is
 * verified in constant memory, and a last line without its '\n' (a write cut short by a crash or
 * power loss) is seen as torn rather than silently accepted or dropped.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import type { LedgerRecord } from '../model/control.js';
import type { LedgerEntry, LedgerVerification } from './stores.js';
import { TwinError } from '../model/errors.js';
import { canonicalJson } from './canonical.js';

/** prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;

/** Longest line accepted (the ledger refuses bigger records): bounds memory on a file that is not a ledger. */
export const MAX_LINE_BYTES = 64 * 2 ** 20;

/** hex SHA-256 over the canonical JSON of the record without `hash` and `mac` (members with those names are ignored). */
export function hashRecord(rec: Omit<LedgerRecord, 'hash'> & { hash?: unknown; mac?: unknown }): string {
  const { hash: _ignored, mac: _mac, ...body } = rec;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** A record's MAC: HMAC-SHA256 under the ledger's record key (ledger-auth.ts) over its hash, which covers every other field. */
export function recordMac(key: { record: Buffer }, hash: string): string {
  return createHmac('sha256', key.record).update(hash).digest('hex');
}

/**
 * A new record from an entry: checked, its data made plain JSON (Dates become strings, undefined
 * members go, so the record read back hashes exactly as the one written), chained to `prevHash`,
 * hashed and, with a key, MAC'ed. The file ledger and the JetStream ledger build records alike.
 */
export function buildRecord<T>(
  entry: LedgerEntry<T>,
  seq: number,
  tsMs: number,
  prevHash: string,
  key?: { record: Buffer },
): LedgerRecord<T> {
  if (entry === null || typeof entry !== 'object' || typeof entry.type !== 'string' || (entry.type as string) === '') {
    throw new TwinError('BAD_PAYLOAD', 'ledger entry needs a type');
  }
  for (const k of ['asset', 'tag', 'proposalId'] as const) {
    if (entry[k] !== undefined && typeof entry[k] !== 'string') throw new TwinError('BAD_PAYLOAD', `ledger entry ${k} must be a string`);
  }
  if (entry.data === undefined) throw new TwinError('BAD_PAYLOAD', `ledger entry '${entry.type}' has no data`);
  let data: T;
  try {
    data = JSON.parse(JSON.stringify(entry.data)) as T;
  } catch (err) {
    throw new TwinError('BAD_PAYLOAD', `ledger entry '${entry.type}' data is not JSON: ${(err as Error).message}`);
  }
  const body = {
    seq,
    tsMs,
    type: entry.type,
    ...(entry.asset !== undefined ? { asset: entry.asset } : {}),
    ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
    ...(entry.proposalId !== undefined ? { proposalId: entry.proposalId } : {}),
    data,
    prevHash,
  };
  const hash = hashRecord(body);
  return key ? { ...body, hash, mac: recordMac(key, hash) } : { ...body, hash };
}

/** A chain check's result, with the head of the chain so far (what the next record must point at). */
export interface ChainVerification extends LedgerVerification {
  /** Hash of the last good record (GENESIS_HASH when there is none). */
  lastHash: string;
  /** Good records that carry a MAC (checked only when a key was given). */
  macs?: number;
}

export interface FileVerification extends ChainVerification {
  path: string;
  bytes: number;
}

/** Why a parsed line is not a ledger record, or undefined if its fields have the right types. */
function shapeProblem(x: unknown): string | undefined {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return 'not a JSON object';
  const r = x as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) return 'seq is not a non-negative integer';
  if (typeof r.tsMs !== 'number' || !Number.isFinite(r.tsMs)) return 'tsMs is not a number';
  if (typeof r.type !== 'string' || r.type === '') return 'type is missing';
  for (const k of ['asset', 'tag', 'proposalId']) if (r[k] !== undefined && typeof r[k] !== 'string') return `${k} is not a string`;
  if (!('data' in r)) return 'data is missing';
  if (typeof r.prevHash !== 'string' || !HEX64.test(r.prevHash)) return 'prevHash is not 64 hex digits';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'hash is not 64 hex digits';
  if (r.mac !== undefined && (typeof r.mac !== 'string' || !HEX64.test(r.mac))) return 'mac is not 64 hex digits';
  return undefined;
}

/**
 * Checks lines one at a time against the chain so far. After the first bad line it stops judging
 * (everything after a break is unverifiable) and `firstBad` names that line.
 */
export class ChainChecker {
  records = 0;
  macs = 0;
  lastHash = GENESIS_HASH;
  firstBad: LedgerVerification['firstBad'];

  /** With `macKey`, every record must also carry its MAC under that key. */
  constructor(private readonly macKey?: { record: Buffer }) {}

  /** Check the next line (text without its '\n', 1-based line number); returns the record if the chain holds. */
  push(text: string, line: number): LedgerRecord | undefined {
    if (this.firstBad) return undefined;
    const expectedSeq = this.records;
    const bad = (reason: string, seq = expectedSeq): undefined => {
      this.firstBad = { seq, line, reason };
      return undefined;
    };
    if (text.trim() === '') return bad('empty line');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return bad(`bad JSON (${(err as Error).message})`);
    }
    const problem = shapeProblem(parsed);
    if (problem) return bad(`not a ledger record: ${problem}`);
    const rec = parsed as LedgerRecord;
    if (rec.seq !== expectedSeq) {
      return bad(`seq ${rec.seq} where ${expectedSeq} was expected (a record is missing, inserted or out of order)`, rec.seq);
    }
    if (rec.prevHash !== this.lastHash) {
      return bad(
        expectedSeq === 0
          ? 'prevHash of the first record is not the genesis hash (records before it were removed?)'
          : `prevHash does not match the hash of record ${expectedSeq - 1} (that record or this one was altered or replaced)`,
        rec.seq,
      );
    }
    let hash: string;
    try {
      hash = hashRecord(rec);
    } catch (err) {
      return bad(`cannot hash the record: ${(err as Error).message}`, rec.seq);
    }
    if (hash !== rec.hash) return bad('hash mismatch: the record was altered after it was written', rec.seq);
    const mac = (rec as { mac?: string }).mac;
    if (this.macKey) {
      if (mac === undefined)
        return bad('no MAC: not written by the ledger with its key (forged, or a ledger from before records were authenticated)', rec.seq);
      if (!timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(recordMac(this.macKey, rec.hash), 'hex'))) {
        return bad("MAC does not verify: the record was not written with this ledger's key (forged, or another key)", rec.seq);
      }
    }
    if (mac !== undefined) this.macs++;
    this.records++;
    this.lastHash = rec.hash;
    return rec;
  }

  /** No more complete lines; `tornTail` holds the bytes after the last '\n', if any. */
  end(tornTail: string): void {
    if (!this.firstBad && tornTail !== '') {
      this.firstBad = {
        seq: this.records,
        line: this.records + 1,
        reason: 'torn last line: it has no newline at its end (a write cut short by a crash); that record was never confirmed',
      };
    }
  }

  result(): ChainVerification {
    return {
      ok: this.firstBad === undefined,
      records: this.records,
      lastHash: this.lastHash,
      macs: this.macs,
      ...(this.firstBad ? { firstBad: this.firstBad } : {}),
    };
  }
}

/**
 * Verify lines already split (each without its '\n'), as held in memory. A string holding the
 * whole file can be given as `text.split('\n')`: its final element is then the part after the
 * last '\n', which must be empty (anything else is a torn last line).
 */
export function verifyRecords(lines: Iterable<string>, opts: { splitText?: boolean } = {}): ChainVerification {
  const all = [...lines];
  const checker = new ChainChecker();
  const complete = opts.splitText ? all.slice(0, -1) : all;
  complete.forEach((l, i) => checker.push(l, i + 1));
  if (opts.splitText) checker.end(all[all.length - 1] ?? '');
  return checker.result();
}

export interface VerifyFileOptions {
  /** Called with every record that extends the chain, in order (to load the ledger while verifying). */
  onRecord?: (rec: LedgerRecord) => void;
  /** Called now and then with bytes read so far and the file's size (for a progress line). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read only the first `maxBytes` bytes (a prefix known to end after a complete line). */
  maxBytes?: number;
  /** Check every record's MAC under this key (ledger-auth.ts ledgerKeys). */
  macKey?: { record: Buffer };
}

const NL = 0x0a;

/** Verify a ledger file by streaming it; stops reading at the first bad line. A missing file is an error (ENOENT). */
export async function verifyLedgerFile(path: string, opts: VerifyFileOptions = {}): Promise<FileVerification> {
  const size = opts.maxBytes ?? (await fsp.stat(path)).size;
  const checker = new ChainChecker(opts.macKey);
  if (size === 0) return { ...checker.result(), path, bytes: 0 };
  let pending: Buffer[] = []; // bytes of the current line, across chunks
  let pendingBytes = 0;
  let line = 0;
  let bytesRead = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20, end: size - 1 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      let start = 0;
      for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
        pending.push(chunk.subarray(start, nl));
        const text = Buffer.concat(pending).toString('utf8');
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        const rec = checker.push(text, ++line);
        if (rec === undefined) break;
        opts.onRecord?.(rec);
      }
      if (checker.firstBad) break;
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          checker.firstBad = {
            seq: checker.records,
            line: line + 1,
            reason: `line longer than ${MAX_LINE_BYTES} bytes: not a ledger record`,
          };
          break;
        }
      }
      opts.onProgress?.(bytesRead, size);
    }
  } finally {
    stream.destroy();
  }
  checker.end(checker.firstBad ? '' : Buffer.concat(pending).toString('utf8'));
  return { ...checker.result(), path, bytes: size };
}

/** One line for people: where the chain breaks and why. */
export function describeBreak(path: string, v: LedgerVerification): string {
  if (!v.firstBad) return `${path}: ${v.records} records, chain intact`;
  return `${path}: chain broken at line ${v.firstBad.line} (seq ${v.firstBad.seq}): ${v.firstBad.reason}`;
}
