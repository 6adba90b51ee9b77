/**
 * `twinloop ledger export`: a line's ledger stream on NATS JetStream written out as that file
 * (runtime/cluster/ledger-export.ts; the NATS client is loaded only for it).
 *
 * `twinloop ledger verify FILE`: checks the audit ledger's hash chain and, with the signing key found
 * the way `twinloop start` provides it, every record's MAC and the signed head checkpoint
 * (runtime/control/ledger-auth.ts); names the first broken record. Exit 0 when the ledger holds, 1
 * when it does not, 2 on bad usage or an unreadable file (via UsageError).
 */
import { constants, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { TwinError } from '../../runtime/model/errors.js';
import { checkLedger, headPath } from '../../runtime/control/ledger-auth.js';
import { MIN_KEY_CHARS } from '../../runtime/control/command.js';
import { findSigningKey } from '../lib/demo-users.js';

export const ledgerHelp = `Usage: twinloop ledger verify FILE [--json] [--home DIR] [--key-env NAME]
       twinloop ledger export --servers URLS --line SITE/AREA/LINE --out FILE [--json] [--home DIR] [--key-env NAME]

Checks an audit ledger (the JSON-lines file a twin-ledger node writes, by default
<user dir>/twinloop/ledger/<node id>.jsonl) and names the first record that fails.

The chain: every record holds the SHA-256 of its own canonical JSON and the hash of the record
before it, so an edited, removed, inserted or reordered record breaks the chain there.

Authenticity, when the signing key is found: every record must carry its MAC (HMAC-SHA256 under
a key derived from the twin-ledger's signing key), so records appended or rewritten by someone
without the key fail; and FILE.head, the signed checkpoint of the ledger's head, must agree with
the file, so a truncated tail, a deleted ledger or a replaced history fails. The key is found as
\`twinloop start\` provides it: the env var named by --key-env, else TWINLOOP_SIGNING_KEY, else
the file TWINLOOP_SIGNING_KEY_FILE names, else <home>/signing.key (home: --home, TWINLOOP_HOME,
./.twinloop). Without a key only the chain is checked (and the checkpoint is compared without
checking its MAC). See SECURITY.md.

Prints, when the ledger holds:
  ok (chain + authenticity): N records, last hash <hex>
  ok (chain only: no key): N records, last hash <hex>
and otherwise the first broken record or the alarm, and what to do:
  broken: line L (seq S): <reason>
  N records before it verify; last good hash <hex>
  alarm: <reason>

Reasons: bad JSON, not a ledger record, seq out of order (a record missing, inserted or moved),
prevHash mismatch (this record or the one before was altered or replaced), hash mismatch (this
record was altered), no MAC / MAC does not verify (not written with the key: forged, a ledger from
before records were authenticated, or the wrong key), torn last line (a write cut short by a
crash; that record was never confirmed), checkpoint disagreements (truncated, missing, replaced).

export: with scale-out on NATS JetStream (ARCHITECTURE.md), each line's ledger is a replicated
stream. export writes it to FILE as the same JSON lines, record for record, so \`verify\` checks
it. With the signing key (found as above) every MAC is checked on the way and the signed
checkpoint FILE.head is written beside it. A stream that does not verify is still written whole
(evidence), without a checkpoint, and the first bad record is named (exit 1).
  --servers URLS  the NATS servers, comma-separated (default: env TWINLOOP_NATS_SERVERS);
                  a user and password, if the cluster wants them, from env TWINLOOP_NATS_USER
                  and TWINLOOP_NATS_PASSWORD (never on the command line)
  --line ID       the line, site/area/line
  --out FILE      where to write (replaced)
Prints: exported N records of line ID (stream S) to FILE[, checkpoint FILE.head]

Options:
  --json          one JSON object: { ok, file, records, lastHash, bytes, authenticated, keySource?,
                  head?, firstBad?, alarm? }
  --home DIR      the user directory whose signing.key to use
  --key-env NAME  take the key from env var NAME (a flow's twin-ledger "signing key env var")
  -h, --help      this text

Exit codes: 0 the ledger holds; 1 it does not, or (export) the cluster cannot be reached; 2 bad
usage (unknown subcommand, no such file, unreadable file, a line without a ledger stream).
On a terminal, stderr shows progress for large files.

Examples:
  npx twinloop ledger verify ~/.node-red/twinloop/ledger/8f2c1a7e3b4d5c6a.jsonl
  npx twinloop ledger export --servers nats://nats1:4222,nats://nats2:4222 --line plant7/extrusion/line1 --out line1.jsonl
`;

const OPTIONS = {
  json: { type: 'boolean' },
  home: { type: 'string' },
  'key-env': { type: 'string' },
  servers: { type: 'string' },
  line: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { json?: boolean; home?: string; 'key-env'?: string; servers?: string; line?: string; out?: string };

/** The signing key as `twinloop start` provides it (--key-env, TWINLOOP_SIGNING_KEY, <home>/signing.key), if any. */
function signingKeyOf(values: Values): { key?: string; keySource?: string } {
  const env = process.env;
  let key: string | undefined;
  let keySource: string | undefined;
  if (values['key-env'] !== undefined) {
    const name = values['key-env'];
    key = env[name];
    if (key === undefined || key === '') throw new UsageError(`--key-env ${name}: that env var is not set`);
    keySource = `env ${name}`;
  } else {
    ({ key, source: keySource } = findSigningKey(resolve(values.home ?? env.TWINLOOP_HOME ?? '.twinloop'), env));
  }
  if (key !== undefined && key.length < MIN_KEY_CHARS)
    throw new UsageError(`the signing key from ${keySource} is shorter than ${MIN_KEY_CHARS} characters`);
  return { key, keySource };
}

async function exportCommand(values: Values, extra: string[]): Promise<number> {
  if (extra.length > 0) throw new UsageError(`export takes options only, got '${extra.join(' ')}'`);
  const servers = (values.servers ?? process.env.TWINLOOP_NATS_SERVERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new UsageError('export needs --servers (or env TWINLOOP_NATS_SERVERS): the NATS servers of the cluster');
  if (values.line === undefined) throw new UsageError('export needs --line site/area/line');
  if (values.out === undefined) throw new UsageError('export needs --out FILE');
  const { key, keySource } = signingKeyOf(values);
  // the NATS client (bundled into dist/runtime/cluster/nats-client.js) loads only for export
  const [{ connect, jetstreamManager }, { exportLedgerStream }] = await Promise.all([
    import('../../runtime/cluster/nats-client.js'),
    import('../../runtime/cluster/ledger-export.js'),
  ]);
  const { parseLineId } = await import('../../runtime/cluster/line-id.js');
  try {
    parseLineId(values.line);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const env = process.env;
  const nc = await connect({
    servers,
    ...(env.TWINLOOP_NATS_USER ? { user: env.TWINLOOP_NATS_USER, pass: env.TWINLOOP_NATS_PASSWORD ?? '' } : {}),
    timeout: 10_000,
  }).catch((err: Error) => {
    throw new TwinError('CONNECTION', `cannot connect to ${servers.join(',')}: ${err.message}`);
  });
  try {
    const { ledgerStreamName } = await import('../../runtime/cluster/line-id.js');
    const { retryTransient } = await import('../../runtime/cluster/expected-append.js');
    // JetStream answers nothing while its meta group elects a leader (say, the node that led it just
    // died): wait that out as the export itself does, instead of failing with a bare "timeout"
    const found = await retryTransient(async () => {
      const jsm = await jetstreamManager(nc);
      return jsm.streams.info(ledgerStreamName(values.line!)).then(
        () => true,
        (err: Error & { code?: unknown }) => {
          if (err.code === 10059) return false;
          throw err;
        },
      );
    }).catch((err: Error) => {
      throw new TwinError('CONNECTION', `${servers.join(',')}: ${err.message}`);
    });
    if (!found) throw new UsageError(`line ${values.line} has no ledger stream (${ledgerStreamName(values.line)}) on ${servers.join(',')}`);
    const r = await exportLedgerStream({ nc, line: values.line, file: values.out, ...(key !== undefined ? { signingKey: key } : {}) });
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          ok: r.ok,
          line: values.line,
          stream: r.stream,
          file: r.file,
          records: r.records,
          messages: r.messages,
          lastHash: r.lastHash,
          head: r.head,
          authenticated: key !== undefined,
          ...(keySource ? { keySource } : {}),
          ...(r.firstBad ? { firstBad: r.firstBad } : {}),
        }) + '\n',
      );
    } else if (r.ok) {
      process.stdout.write(
        `exported ${r.records} records of line ${values.line} (stream ${r.stream}) to ${r.file}${r.head ? `, checkpoint ${r.file}.head` : ''}\n`,
      );
      if (key === undefined)
        process.stdout.write('no signing key found: MACs not checked, no checkpoint written (verify checks the chain only)\n');
    } else {
      const bad = r.firstBad!;
      process.stdout.write(`exported ${r.messages} messages of line ${values.line} to ${r.file}, but the stream does not verify\n`);
      process.stdout.write(`broken: message ${bad.line} (seq ${bad.seq}): ${bad.reason}\n`);
    }
    return r.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
}

/** Files smaller than this verify too fast for a progress line to help. */
const PROGRESS_MIN_BYTES = 16 * 2 ** 20;

export async function ledgerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(ledgerHelp);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub === undefined) throw new UsageError('which subcommand? `twinloop ledger verify FILE` or `twinloop ledger export …`');
  if (sub === 'export') return exportCommand(values, positionals.slice(1));
  if (sub !== 'verify') throw new UsageError(`unknown subcommand '${sub}' (there are: verify, export)`);
  for (const o of ['servers', 'line', 'out'] as const)
    if (values[o] !== undefined) throw new UsageError(`--${o} belongs to \`ledger export\`, not verify`);
  if (file === undefined) throw new UsageError('verify needs the ledger FILE');
  if (extra.length > 0) throw new UsageError(`one FILE at a time, got also '${extra.join(' ')}'`);
  const { key, keySource } = signingKeyOf(values);

  const stat = await fsp.stat(file).catch(() => undefined);
  // a missing ledger with a checkpoint beside it was deleted: that is a finding, not a typo
  const deleted =
    !stat &&
    (await fsp.stat(headPath(file)).then(
      () => true,
      () => false,
    ));
  if (!stat && !deleted) throw new UsageError(`no such file: ${file}`);
  if (stat && !stat.isFile()) throw new UsageError(`not a file: ${file}`);
  if (stat) {
    await fsp.access(file, constants.R_OK).catch(() => {
      throw new UsageError(`cannot read ${file} (permission denied)`);
    });
  }

  const tty = process.stderr.isTTY === true && (stat?.size ?? 0) >= PROGRESS_MIN_BYTES;
  let lastMs = Date.now();
  const v = await checkLedger(file, key, {
    onProgress: (read, total) => {
      const now = Date.now();
      if (!tty || now - lastMs < 250) return;
      lastMs = now;
      const mib = (b: number) => (b / 2 ** 20).toFixed(0);
      process.stderr.write(
        `\r\x1b[2Kledger verify: ${mib(read)} / ${mib(total)} MiB (${((100 * read) / Math.max(1, total)).toFixed(0)} %)`,
      );
    },
  }).catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  if (tty) process.stderr.write('\r\x1b[2K');

  if (values.json) {
    const out = {
      ok: v.ok,
      file: v.path,
      records: v.records,
      lastHash: v.lastHash,
      bytes: v.bytes,
      authenticated: v.authenticated,
      ...(keySource ? { keySource } : {}),
      ...(v.head ? { head: v.head } : {}),
      ...(v.firstBad ? { firstBad: v.firstBad } : {}),
      ...(v.alarm ? { alarm: v.alarm } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else if (v.ok) {
    const mode = v.authenticated ? 'chain + authenticity' : 'chain only: no key';
    process.stdout.write(`ok (${mode}): ${v.records} records, last hash ${v.lastHash}\n`);
    if (!v.authenticated) {
      process.stdout.write(
        `no signing key found (TWINLOOP_SIGNING_KEY, --key-env, TWINLOOP_SIGNING_KEY_FILE, <home>/signing.key): records and checkpoint not authenticated\n`,
      );
    }
  } else if (v.firstBad) {
    const bad = v.firstBad;
    process.stdout.write(`broken: line ${bad.line} (seq ${bad.seq}): ${bad.reason}\n`);
    process.stdout.write(`${v.records} records before it verify; last good hash ${v.lastHash}\n`);
    if (v.alarm) process.stdout.write(`what to do: ${v.alarm.remedy}\n`);
  } else {
    process.stdout.write(`alarm: ${v.alarm!.reason}\n`);
    process.stdout.write(`what to do: ${v.alarm!.remedy}\n`);
  }
  return v.ok ? 0 : 1;
}
