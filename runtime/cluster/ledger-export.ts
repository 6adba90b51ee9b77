/**
 * `twinloop ledger export`: a line's ledger stream written out as the file ledger's JSON lines
 * (one record per message, exactly as stored), so `twinloop ledger verify` checks it. With the
 * signing key, every MAC is checked on the way and the signed head checkpoint (FILE.head) is
 * written beside it, as the file ledger keeps one; a stream that does not verify is still written
 * whole (it is evidence), without a checkpoint, and the result names the first bad record.
 */
import { promises as fsp } from 'node:fs';
import type { NatsConnection } from './nats-client.js';
import { jetstream, jetstreamManager } from './nats-client.js';
import { ChainChecker, type ChainVerification } from '../control/ledger-verify.js';
import { headPath, ledgerKeys, signHead, writeHead } from '../control/ledger-auth.js';
import { readStreamTexts } from './jetstream-ledger.js';
import { retryTransient } from './expected-append.js';
import { ledgerStreamName, parseLineId } from './line-id.js';

export interface LedgerExport extends ChainVerification {
  stream: string;
  file: string;
  /** Messages written (all of the stream, also past a break). */
  messages: number;
  /** FILE.head was written (a key was given and the stream verified). */
  head: boolean;
}

export interface LedgerExportOptions {
  nc: NatsConnection;
  line: string;
  file: string;
  signingKey?: string;
}

export async function exportLedgerStream(opts: LedgerExportOptions): Promise<LedgerExport> {
  const stream = ledgerStreamName(parseLineId(opts.line));
  const keys = opts.signingKey !== undefined ? ledgerKeys(opts.signingKey) : undefined;
  const jsm = await retryTransient(() => jetstreamManager(opts.nc));
  const texts = await retryTransient(() => readStreamTexts(jetstream(opts.nc), jsm, stream));
  const checker = new ChainChecker(keys);
  texts.forEach((t, i) => {
    const reason = `stream seq ${t.seq} where ${i + 1} was expected (a message is missing)`;
    if (t.seq !== i + 1) checker.firstBad ??= { seq: i, line: i + 1, reason };
    checker.push(t.text, i + 1);
  });
  const fh = await fsp.open(opts.file, 'w', 0o600);
  try {
    await fh.writeFile(texts.map((t) => t.text + '\n').join(''), 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  const v = checker.result();
  const head = keys !== undefined && v.ok;
  if (head) await writeHead(opts.file, signHead(keys, v.records, v.lastHash));
  // a checkpoint left from an earlier export would describe another file
  else await fsp.rm(headPath(opts.file), { force: true });
  return { ...v, stream, file: opts.file, messages: texts.length, head };
}
