/**
 * Sequential awaited ledger appends (one decision after another, as a gate makes them) for the
 * ledger benchmarks (nats-ledger, cluster-scale): the record, timed rounds of appends, and the
 * stall of appends while a stream's leader is SIGKILLed and a new one elected.
 */
import type { NatsCluster } from '../../test/support/nats.js';
import type { LedgerEntry } from '../../runtime/control/stores.js';
import { latencyStats, memory, progress, type BenchRow } from '../harness.js';

export const BENCH_SIGNING_KEY = 'bench-signing-key-0123456789abcdef0123';

/** The i-th decision record. */
export const decision = (i: number) => ({
  type: 'decision' as const,
  asset: 'demo/plant1/extrusion/line1/extruder',
  tag: 'barrel_zone2_sp',
  proposalId: `3f6c1f0e-8a2b-4c1d-9e7f-${String(i).padStart(12, '0')}`,
  data: { verdict: 'approve', user: 'alice', reason: 'energy per kg down 3 %, quality inside limits', i },
});

export interface Timed {
  count: number;
  seconds: number;
  latenciesMs: number[];
}
export const timed = (): Timed => ({ count: 0, seconds: 0, latenciesMs: [] });

/** `op(i)` one after another for `ms`, counted and timed into `m`. */
export async function sequential(m: Timed, op: (i: number) => Promise<unknown>, ms: number): Promise<void> {
  const t0 = performance.now();
  let i = m.count;
  while (performance.now() < t0 + ms) {
    const t = performance.now();
    await op(i++);
    m.latenciesMs.push(performance.now() - t);
  }
  m.count = i;
  m.seconds += (performance.now() - t0) / 1000;
}

export const timedRow = (suite: string, name: string, m: Timed, note: string, baseline = false): BenchRow => ({
  suite,
  case: name,
  ...(baseline ? { baseline } : {}),
  count: m.count,
  throughputPerS: m.count / m.seconds,
  ...latencyStats(m.latenciesMs),
  ...memory(),
  note,
});

/**
 * Appends keep going (`windowMs` each time) while the stream's leader is SIGKILLed `kills` times
 * (300 ms in) and restarted after the window; per kill, the longest append (the one that spans the
 * election), ms, ascending.
 */
export async function leaderKillStalls(
  cluster: NatsCluster,
  ledger: { stream: string; records: number; append(e: LedgerEntry): Promise<unknown> },
  kills: number,
  windowMs = 1500,
  label = 'leader kill',
): Promise<number[]> {
  const stalls: number[] = [];
  for (let k = 0; k < kills; k++) {
    progress(`${label} ${k + 1}/${kills}`);
    const leader = await cluster.streamLeader(ledger.stream);
    if (!leader) throw new Error('the ledger stream has no leader');
    const m = timed();
    m.count = ledger.records;
    const appending = sequential(m, (i) => ledger.append(decision(i)), windowMs);
    await new Promise((r) => setTimeout(r, 300));
    await leader.kill();
    await appending;
    stalls.push(Math.max(...m.latenciesMs));
    await leader.start();
  }
  return stalls.sort((a, b) => a - b);
}
