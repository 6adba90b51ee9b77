/**
 * `twinloop ledger verify FILE`: checks the audit ledger's hash chain and names the first broken
 * record. Exit 0 when the chain holds, 1 when it is broken, 2 on bad usage (via UsageError).
 */
import { constants, promises as fsp } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';

export const ledgerHelp = `Usage: twinloop ledger verify FILE [--json]

Checks the hash chain of an audit ledger (the JSON-lines file a twin-ledger node writes, by default
<user dir>/twinloop/ledger/<node id>.jsonl). Every record holds the SHA-256 of its own canonical
JSON and the hash of the record before it, so an edited, removed, inserted or reordered record
breaks the chain there. The check reads the file as a stream and stops at the first broken record.

Prints, when the chain holds:
  ok: N records, last hash <hex>
and otherwise the first broken record, its line (1-based) and why:
  broken: line L (seq S): <reason>
  N records before it verify; last good hash <hex>

Reasons: bad JSON, not a ledger record (a field missing or of the wrong type), seq out of order
(a record missing, inserted or moved), prevHash mismatch (this record or the one before was altered
or replaced), hash mismatch (this record was altered), torn last line (a write cut short by a crash;
that record was never confirmed). An empty file is a ledger with 0 records.

Keep the last hash somewhere else (a shift log, another system): a chain shows changes inside the
file, but not a file rewritten from some record on with every hash recomputed.

Options:
  --json       print the result as one JSON object: { ok, file, records, lastHash, bytes, firstBad? }
  -h, --help   this text

Exit codes: 0 the chain holds; 1 the chain is broken; 2 bad usage (unknown subcommand, no such file).
On a terminal, stderr shows progress for large files.

Example:
  npx twinloop ledger verify ~/.node-red/twinloop/ledger/8f2c1a7e3b4d5c6a.jsonl
`;

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Files smaller than this verify too fast for a progress line to help. */
const PROGRESS_MIN_BYTES = 16 * 2 ** 20;

export async function ledgerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(ledgerHelp);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub === undefined) throw new UsageError('which subcommand? `twinloop ledger verify FILE`');
  if (sub !== 'verify') throw new UsageError(`unknown subcommand '${sub}' (there is: verify)`);
  if (file === undefined) throw new UsageError('verify needs the ledger FILE');
  if (extra.length > 0) throw new UsageError(`one FILE at a time, got also '${extra.join(' ')}'`);
  const stat = await fsp.stat(file).catch(() => undefined);
  if (!stat) throw new UsageError(`no such file: ${file}`);
  if (!stat.isFile()) throw new UsageError(`not a file: ${file}`);
  await fsp.access(file, constants.R_OK).catch(() => {
    throw new UsageError(`cannot read ${file} (permission denied)`);
  });

  const tty = process.stderr.isTTY === true && stat.size >= PROGRESS_MIN_BYTES;
  const startMs = Date.now();
  let lastMs = startMs;
  const v = await verifyLedgerFile(file, {
    onProgress: (read, total) => {
      const now = Date.now();
      if (!tty || now - lastMs < 250) return;
      lastMs = now;
      const mib = (b: number) => (b / 2 ** 20).toFixed(0);
      process.stderr.write(`\r\x1b[2Kledger verify: ${mib(read)} / ${mib(total)} MiB (${((100 * read) / Math.max(1, total)).toFixed(0)} %)`);
    },
  });
  if (tty) process.stderr.write('\r\x1b[2K');

  if (values.json) {
    process.stdout.write(JSON.stringify({ ok: v.ok, file: v.path, records: v.records, lastHash: v.lastHash, bytes: v.bytes, ...(v.firstBad ? { firstBad: v.firstBad } : {}) }) + '\n');
  } else if (v.ok) {
    process.stdout.write(`ok: ${v.records} records, last hash ${v.lastHash}\n`);
  } else {
    const bad = v.firstBad!;
    process.stdout.write(`broken: line ${bad.line} (seq ${bad.seq}): ${bad.reason}\n`);
    process.stdout.write(`${v.records} records before it verify; last good hash ${v.lastHash}\n`);
  }
  return v.ok ? 0 : 1;
}
