/**
 * Ledger benchmark: durable (fdatasync'ed) appends per second to the hash-chained file ledger, and
 * latency per append, for sequential awaited appends (one decision after another, as a gate makes
 * them) and for bursts of concurrent appends (many gates or records at once, group-committed).
 * Baselines in the same run, same JSON lines, same file system: plain FileHandle.appendFile +
 * datasync per line, without hashing, sequential and as a concurrent burst. Also: chain
 * verification speed (`twinloop ledger verify`) over the file written. Baseline and ledger run in
 * alternating 1 s rounds (4 each) so disk noise from other work hits both alike. Bounded to about 20 s.
 *
 * Files go to $TWINLOOP_BENCH_DIR or the OS temp dir; fsync cost depends entirely on that disk
 * (a tmpfs makes it free), so the note names the directory.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileLedger } from '../runtime/control/file-ledger.js';
import { verifyLedgerFile } from '../runtime/control/ledger-verify.js';
import type { Decision } from '../runtime/model/control.js';
import { memory, progress, type BenchRow } from './harness.js';
import { sequential as sequentialFor, timed, timedRow, type Timed } from './support/ledger-appends.js';

const SUITE = 'ledger';
/** Each pair of cases (baseline, ledger) runs in alternating rounds, so disk noise hits both alike. */
const ROUNDS = 4;
const ROUND_MS = 1000;
const BURST = 500;

function decision(i: number): Decision {
  return {
    proposalId: `3f6c1f0e-8a2b-4c1d-9e7f-${String(i).padStart(12, '0')}`,
    verdict: 'approve',
    user: 'alice',
    printedName: 'Alice Example',
    meaning: 'Approved: I authorise this setpoint change',
    reason: 'energy per kg down 3 %, quality inside limits',
    tsMs: 1_767_225_600_000 + i,
    envelopeVersion: '9c1e5d7a2b3f4e6d',
  };
}

const entry = (i: number) => ({
  type: 'decision' as const,
  asset: 'demo/plant1/extrusion/line1/extruder',
  tag: 'barrel_zone2_sp',
  proposalId: decision(i).proposalId,
  data: decision(i),
});

/** The line the ledger writes for record i, with a placeholder hash: the baseline writes the same bytes without hashing. */
function plainLine(i: number): string {
  const e = entry(i);
  return JSON.stringify({ seq: i, tsMs: Date.now(), ...e, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) }) + '\n';
}

/** Sequential awaited operations for one round, added to `m`. */
const sequential = (m: Timed, op: (i: number) => Promise<unknown>): Promise<void> => sequentialFor(m, op, ROUND_MS);

/** Bursts of BURST concurrent operations, each burst awaited, for one round, added to `m`; latency = call → resolve. */
async function bursts(m: Timed, op: (i: number) => Promise<unknown>): Promise<void> {
  const latenciesMs = m.latenciesMs;
  const t0 = performance.now();
  const until = t0 + ROUND_MS;
  let i = m.count;
  while (performance.now() < until) {
    const calls: Promise<unknown>[] = [];
    for (let b = 0; b < BURST; b++) {
      const t = performance.now();
      calls.push(op(i++).then(() => latenciesMs.push(performance.now() - t)));
    }
    await Promise.all(calls);
  }
  m.count = i;
  m.seconds += (performance.now() - t0) / 1000;
}

/** Baseline and ledger in alternating rounds (the order flips each round). */
async function alternate(
  run: (m: Timed, op: (i: number) => Promise<unknown>) => Promise<void>,
  baseOp: (i: number) => Promise<unknown>,
  ledgerOp: (i: number) => Promise<unknown>,
  label: string,
): Promise<[Timed, Timed]> {
  const base = timed();
  const ledger = timed();
  for (let r = 0; r < ROUNDS; r++) {
    progress(`ledger: ${label}, round ${r + 1}/${ROUNDS}`);
    if (r % 2 === 0) {
      await run(base, baseOp);
      await run(ledger, ledgerOp);
    } else {
      await run(ledger, ledgerOp);
      await run(base, baseOp);
    }
  }
  return [base, ledger];
}

const row = (name: string, m: Timed, note: string, baseline = false): BenchRow => timedRow(SUITE, name, m, note, baseline);

export async function run(): Promise<BenchRow[]> {
  const base = process.env.TWINLOOP_BENCH_DIR ?? tmpdir();
  const dir = mkdtempSync(join(base, 'twinloop-bench-ledger-'));
  const rows: BenchRow[] = [];
  const where = `files in ${base}`;
  try {
    // Baselines: the same lines, appended and fdatasync'ed, no hashing, no chain.
    const plainSeq = await fsp.open(join(dir, 'plain-seq.jsonl'), 'a');
    const seqPath = join(dir, 'ledger-seq.jsonl');
    const seqLedger = await openFileLedger(seqPath);
    const [seqBase, seq] = await alternate(
      sequential,
      async (i) => {
        await plainSeq.appendFile(plainLine(i));
        await plainSeq.datasync();
      },
      (i) => seqLedger.append(entry(i)),
      'sequential',
    );
    await plainSeq.close();
    await seqLedger.close();

    const plainBurst = await fsp.open(join(dir, 'plain-burst.jsonl'), 'a');
    const burstPath = join(dir, 'ledger-burst.jsonl');
    const burstLedger = await openFileLedger(burstPath);
    const [burstBase, burst] = await alternate(
      bursts,
      async (i) => {
        await plainBurst.appendFile(plainLine(i));
        await plainBurst.datasync();
      },
      (i) => burstLedger.append(entry(i)),
      `bursts of ${BURST}`,
    );
    await plainBurst.close();
    await burstLedger.close();

    const ratio = (a: Timed, b: Timed) => (a.count / a.seconds / (b.count / b.seconds)).toFixed(2);
    rows.push(
      row(
        'plain appendFile + datasync per line, sequential',
        seqBase,
        `same JSON lines, no hashing; ${where}; rounds alternate with the ledger's`,
        true,
      ),
    );
    rows.push(
      row(
        'file ledger append (hash chain + fdatasync), sequential awaited',
        seq,
        `${ratio(seq, seqBase)}× the sequential baseline; ${(statSync(seqPath).size / seq.count).toFixed(0)} bytes per record`,
      ),
    );
    rows.push(
      row(
        `plain appendFile + datasync per line, bursts of ${BURST} concurrent`,
        burstBase,
        `one sync per line, run side by side in libuv's pool; ${where}`,
        true,
      ),
    );
    rows.push(
      row(
        `file ledger append, bursts of ${BURST} concurrent (group commit)`,
        burst,
        `${ratio(burst, burstBase)}× the burst baseline; latency = call → durable`,
      ),
    );

    progress('ledger: verify');
    const t0 = performance.now();
    const v = await verifyLedgerFile(burstPath);
    const seconds = (performance.now() - t0) / 1000;
    if (!v.ok) throw new Error(`the benchmark's own ledger does not verify: ${v.firstBad?.reason}`);
    rows.push({
      suite: SUITE,
      case: 'verifyLedgerFile (twinloop ledger verify), streaming',
      count: v.records,
      throughputPerS: v.records / seconds,
      ...memory(),
      note: `${(v.bytes / 2 ** 20 / seconds).toFixed(0)} MiB/s over ${(v.bytes / 2 ** 20).toFixed(1)} MiB`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
