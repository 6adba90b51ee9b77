/**
 * Ledger benchmark: durable (fdatasync'ed) appends per second to the hash-chained file ledger, and
 * latency per append, for sequential awaited appends (one decision after another, as a gate makes
 * them) and for bursts of concurrent appends (many gates or records at once, group-committed).
 * Baselines in the same run, same JSON lines, same file system: plain FileHandle.appendFile +
 * datasync per line, without hashing, sequential and as a concurrent burst. Also: chain
 * verification speed (`twinloop ledger verify`) over the file written. Bounded to about 25 s.
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
import { latencyStats, memory, progress, type BenchRow } from './harness.js';

const SUITE = 'ledger';
const CASE_BUDGET_MS = 4000;
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

const entry = (i: number) => ({ type: 'decision' as const, asset: 'demo/plant1/extrusion/line1/extruder', tag: 'barrel_zone2_sp', proposalId: decision(i).proposalId, data: decision(i) });

/** The line the ledger writes for record i, with a placeholder hash: the baseline writes the same bytes without hashing. */
function plainLine(i: number): string {
  const e = entry(i);
  return JSON.stringify({ seq: i, tsMs: Date.now(), ...e, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) }) + '\n';
}

interface Timed {
  count: number;
  seconds: number;
  latenciesMs: number[];
}

/** Sequential awaited operations for about the budget. */
async function sequential(op: (i: number) => Promise<unknown>): Promise<Timed> {
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  const until = t0 + CASE_BUDGET_MS;
  let i = 0;
  while (performance.now() < until) {
    const t = performance.now();
    await op(i++);
    latenciesMs.push(performance.now() - t);
  }
  return { count: i, seconds: (performance.now() - t0) / 1000, latenciesMs };
}

/** Bursts of BURST concurrent operations, each burst awaited, for about the budget; latency = call → resolve. */
async function bursts(op: (i: number) => Promise<unknown>): Promise<Timed> {
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  const until = t0 + CASE_BUDGET_MS;
  let i = 0;
  while (performance.now() < until) {
    const calls: Promise<unknown>[] = [];
    for (let b = 0; b < BURST; b++) {
      const t = performance.now();
      calls.push(op(i++).then(() => latenciesMs.push(performance.now() - t)));
    }
    await Promise.all(calls);
  }
  return { count: i, seconds: (performance.now() - t0) / 1000, latenciesMs };
}

const row = (name: string, m: Timed, note: string, baseline = false): BenchRow => ({
  suite: SUITE,
  case: name,
  ...(baseline ? { baseline } : {}),
  count: m.count,
  throughputPerS: m.count / m.seconds,
  ...latencyStats(m.latenciesMs),
  ...memory(),
  note,
});

export async function run(): Promise<BenchRow[]> {
  const base = process.env.TWINLOOP_BENCH_DIR ?? tmpdir();
  const dir = mkdtempSync(join(base, 'twinloop-bench-ledger-'));
  const rows: BenchRow[] = [];
  const where = `files in ${base}`;
  try {
    // Baselines: the same lines, appended and fdatasync'ed, no hashing, no chain.
    progress('ledger: baseline, sequential appendFile + datasync');
    const plainSeq = await fsp.open(join(dir, 'plain-seq.jsonl'), 'a');
    const seqBase = await sequential(async (i) => {
      await plainSeq.appendFile(plainLine(i));
      await plainSeq.datasync();
    });
    await plainSeq.close();
    rows.push(row('plain appendFile + datasync per line, sequential', seqBase, `same JSON lines, no hashing; ${where}`, true));

    progress('ledger: baseline, concurrent appendFile + datasync');
    const plainBurst = await fsp.open(join(dir, 'plain-burst.jsonl'), 'a');
    const burstBase = await bursts(async (i) => {
      await plainBurst.appendFile(plainLine(i));
      await plainBurst.datasync();
    });
    await plainBurst.close();
    rows.push(row(`plain appendFile + datasync per line, bursts of ${BURST} concurrent`, burstBase, `one sync per line, run side by side in libuv's pool; ${where}`, true));

    progress('ledger: sequential awaited appends');
    const seqPath = join(dir, 'ledger-seq.jsonl');
    const seqLedger = await openFileLedger(seqPath);
    const seq = await sequential((i) => seqLedger.append(entry(i)));
    await seqLedger.close();
    rows.push(row('file ledger append (hash chain + fdatasync), sequential awaited', seq, `${(seq.count / seq.seconds / (seqBase.count / seqBase.seconds)).toFixed(2)}× the sequential baseline; ${(statSync(seqPath).size / seq.count).toFixed(0)} bytes per record`));

    progress('ledger: concurrent bursts');
    const burstPath = join(dir, 'ledger-burst.jsonl');
    const burstLedger = await openFileLedger(burstPath);
    const burst = await bursts((i) => burstLedger.append(entry(i)));
    await burstLedger.close();
    rows.push(row(`file ledger append, bursts of ${BURST} concurrent (group commit)`, burst, `${(burst.count / burst.seconds / (burstBase.count / burstBase.seconds)).toFixed(2)}× the burst baseline; latency = call → durable`));

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
