/**
 * Authenticity of the audit ledger (SECURITY.md, "The audit ledger"). The hash chain
 * (ledger-verify.ts) shows edits inside the file, but anyone who can write the file can recompute
 * it. So, when the ledger has a key (the twin-ledger's signing key):
 *   - every record carries `mac` = HMAC-SHA256(recordKey, record.hash); the hash covers every other
 *     field, so the MAC does too. recordKey = HKDF(signing key, 'twinloop ledger-record v1'): a
 *     distinct key, so a record MAC can never pass as a command signature or the other way round;
 *   - a signed checkpoint of the head (records, lastHash, mac under HKDF(key, 'twinloop
 *     ledger-head v1')) is kept in `<ledger>.head` (mode 0600), replaced atomically after every
 *     commit group. A missing ledger, a truncated tail or a replaced history no longer matches it.
 * Nothing here can tell an attacker who holds the key, or one who deletes both files: see SECURITY.md.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname } from 'node:path';
import { canonicalJson } from './canonical.js';
import { GENESIS_HASH, recordMac, verifyLedgerFile, type FileVerification, type VerifyFileOptions } from './ledger-verify.js';
import { MIN_KEY_CHARS } from './command.js';
import { TwinError } from '../model/errors.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** The two keys derived from a ledger's signing key. */
export interface LedgerKeys {
  record: Buffer;
  head: Buffer;
}

export function ledgerKeys(signingKey: string): LedgerKeys {
  if (typeof signingKey !== 'string' || signingKey.length < MIN_KEY_CHARS)
    throw new Error(`ledger key must have at least ${MIN_KEY_CHARS} characters`);
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(signingKey, 'utf8'), Buffer.alloc(0), label, 32));
  return { record: derive('twinloop ledger-record v1'), head: derive('twinloop ledger-head v1') };
}

export { recordMac };

function macEquals(a: unknown, expected: string): boolean {
  return typeof a === 'string' && HEX64.test(a) && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(expected, 'hex'));
}

export function recordMacMatches(keys: LedgerKeys, rec: { hash: string; mac?: unknown }): boolean {
  return macEquals(rec.mac, recordMac(keys, rec.hash));
}

/** The signed checkpoint of the ledger's head: how many records it held and the last one's hash. */
export interface LedgerHead {
  v: 1;
  records: number;
  lastHash: string;
  mac: string;
}

export function headPath(ledgerPath: string): string {
  return `${ledgerPath}.head`;
}

function headBody(records: number, lastHash: string): { v: 1; records: number; lastHash: string } {
  return { v: 1, records, lastHash };
}

export function signHead(keys: LedgerKeys, records: number, lastHash: string): LedgerHead {
  const body = headBody(records, lastHash);
  return { ...body, mac: createHmac('sha256', keys.head).update(canonicalJson(body)).digest('hex') };
}

/** Replace the checkpoint atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeHead(ledgerPath: string, head: LedgerHead): Promise<void> {
  const path = headPath(ledgerPath);
  const tmp = `${path}.tmp`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(head) + '\n', 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dirname(path), 'r');
    await dh.sync();
  } catch {
    /* some platforms cannot sync a directory */
  } finally {
    await dh?.close();
  }
}

/** The checkpoint as found: absent, unreadable / not authentic (with why), or its fields. */
type HeadRead = { state: 'absent' } | { state: 'bad'; why: string } | { state: 'ok'; head: LedgerHead; authentic: boolean | undefined };

export async function readHead(ledgerPath: string, keys: LedgerKeys | undefined): Promise<HeadRead> {
  let text: string;
  try {
    text = await fsp.readFile(headPath(ledgerPath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    return { state: 'bad', why: `cannot read it (${(err as Error).message})` };
  }
  let h: Partial<LedgerHead>;
  try {
    h = JSON.parse(text) as Partial<LedgerHead>;
  } catch {
    return { state: 'bad', why: 'it is not JSON' };
  }
  if (
    h?.v !== 1 ||
    !Number.isSafeInteger(h.records) ||
    (h.records as number) < 0 ||
    typeof h.lastHash !== 'string' ||
    !HEX64.test(h.lastHash)
  ) {
    return { state: 'bad', why: 'it is not a ledger checkpoint' };
  }
  const head = h as LedgerHead;
  if (!keys) return { state: 'ok', head, authentic: undefined };
  const expected = signHead(keys, head.records, head.lastHash).mac;
  if (!macEquals(head.mac, expected))
    return { state: 'bad', why: 'its MAC does not verify (written without the signing key, or with another key)' };
  return { state: 'ok', head, authentic: true };
}

/** Something about the ledger that must stop the gate and be shown to people, with what to do. */
export interface LedgerAlarm {
  reason: string;
  remedy: string;
  /** The first bad record, when one is to blame. */
  firstBad?: { seq: number; line: number; reason: string };
}

export interface LedgerCheck extends FileVerification {
  /** The file exists. */
  exists: boolean;
  /** Records that carry a MAC (all of them, when a key was given and the check passed). */
  macs: number;
  /** Authenticity was checked (a key was given). */
  authenticated: boolean;
  /** What the checkpoint says, if there is one that could be read. */
  head?: { records: number; lastHash: string; authentic: boolean | undefined };
  /** Set when the ledger must not be used: chain broken, a record not authentic, or the checkpoint disagrees. */
  alarm?: LedgerAlarm;
}

export const LEDGER_REMEDY = (path: string) =>
  `Stop the flow's writes, keep the file as evidence and run \`twinloop ledger verify ${path}\`. Restore the ledger and ` +
  `${basename(headPath(path))} from a backup you trust; to deliberately start a new ledger, move both files aside and restart. ` +
  'The ledger is never repaired automatically.';

/**
 * Verify a ledger file: its chain, with `signingKey` every record's MAC, and the checkpoint beside
 * it. A missing file is a ledger with 0 records, unless a checkpoint says it held records.
 */
export async function checkLedger(path: string, signingKey: string | undefined, opts: VerifyFileOptions = {}): Promise<LedgerCheck> {
  const keys = signingKey !== undefined ? ledgerKeys(signingKey) : undefined;
  const exists = await fsp.stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  // the hash at every seq is not kept: only the one the checkpoint names is needed
  const headRead = await readHead(path, keys);
  const wanted = headRead.state === 'ok' ? headRead.head.records - 1 : -1;
  let hashAtHead: string | undefined = wanted === -1 ? GENESIS_HASH : undefined;
  const v: FileVerification = exists
    ? await verifyLedgerFile(path, {
        ...opts,
        ...(keys ? { macKey: keys } : {}),
        onRecord: (r) => {
          if (r.seq === wanted) hashAtHead = r.hash;
          opts.onRecord?.(r);
        },
      })
    : { ok: true, records: 0, lastHash: GENESIS_HASH, path, bytes: 0, macs: 0 };
  const out: LedgerCheck = { ...v, exists, macs: v.macs ?? 0, authenticated: !!keys };
  if (headRead.state === 'ok')
    out.head = { records: headRead.head.records, lastHash: headRead.head.lastHash, authentic: headRead.authentic };
  const remedy = LEDGER_REMEDY(path);
  const alarm = (reason: string): LedgerCheck => ({
    ...out,
    ok: false,
    alarm: { reason, remedy, ...(v.firstBad ? { firstBad: v.firstBad } : {}) },
  });

  if (!v.ok) {
    const bad = v.firstBad!;
    return alarm(`${path} does not verify at line ${bad.line} (seq ${bad.seq}): ${bad.reason}`);
  }
  const head = headRead.state === 'ok' ? headRead.head : undefined;
  if (headRead.state === 'bad') return alarm(`the checkpoint ${headPath(path)} cannot be trusted: ${headRead.why}`);
  if (!exists) {
    if (head && head.records > 0)
      return alarm(`the ledger ${path} is missing, but its checkpoint says it held ${head.records} records (deleted or moved?)`);
    return out;
  }
  if (!head) {
    // A keyed ledger writes its checkpoint before its first record: a ledger with authenticated records and no checkpoint lost it.
    if (keys && v.records > 0)
      return alarm(`the checkpoint ${headPath(path)} is missing (deleted?): a truncated or replaced ledger cannot be ruled out`);
    return out;
  }
  if (head.records > v.records) {
    return alarm(
      `the ledger holds ${v.records} records but its checkpoint says ${head.records}: the last ${head.records - v.records} were removed (truncated)`,
    );
  }
  if (hashAtHead !== head.lastHash) {
    return alarm(`record ${head.records - 1} is not the one the checkpoint signed: the history was replaced from that record or before`);
  }
  return out;
}

/** The ledger cannot be used: carries the alarm (reason and remedy) for the page and the node's status. */
export class LedgerAlarmError extends TwinError {
  constructor(readonly alarm: LedgerAlarm) {
    super('LEDGER', `${alarm.reason}. ${alarm.remedy}`);
  }
}

/** The alarm an error carries, or one made of its message (any error that stops a gate from starting). */
export function alarmOf(err: unknown, remedy: string): LedgerAlarm {
  if (err instanceof LedgerAlarmError) return err.alarm;
  const a = (err as { alarm?: LedgerAlarm } | null)?.alarm;
  if (a && typeof a.reason === 'string' && typeof a.remedy === 'string') return a;
  return { reason: (err as Error)?.message ?? String(err), remedy };
}
