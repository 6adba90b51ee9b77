/**
 * Scale-out ledger benchmark: sequential awaited appends (one decision after another, as a gate
 * makes them) to a line's ledger on a real 3-node nats-server JetStream cluster (R3 stream, file
 * storage, stream-wide expected sequence; runtime/cluster/jetstream-ledger.ts), beside the embedded
 * file ledger (hash chain + fdatasync) in alternating 1 s rounds of the same run, same records, same
 * signing key. Then the stall of appends while the stream leader is SIGKILLed and a new one is
 * elected (KILLS times), and used-command claims (KV create()) per second.
 *
 * Debian's nats-server 2.9.10 fsyncs its file store on a timer, not per append (it has no
 * sync_interval option); production wants `sync_interval: always` on ≥ 2.10 (ARCHITECTURE.md), which
 * costs an fsync per append on each replica. Skipped with a loud line when nats-server is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openFileLedger } from '../runtime/control/file-ledger.js';
import { openJetStreamLedger } from '../runtime/cluster/jetstream-ledger.js';
import { openKvUsedCommands } from '../runtime/cluster/kv-used-commands.js';
import { connect } from '../runtime/cluster/nats-client.js';
import { latencyStats, progress, type BenchRow } from './harness.js';
import { BENCH_SIGNING_KEY as KEY, decision as entry, leaderKillStalls, sequential, timed, timedRow } from './support/ledger-appends.js';

const SUITE = 'nats-ledger';
const ROUNDS = 4;
const ROUND_MS = 1000;
const KILLS = 3;

const row = (name: string, m: ReturnType<typeof timed>, note: string, baseline = false): BenchRow =>
  timedRow(SUITE, name, m, note, baseline);

export async function run(): Promise<BenchRow[]> {
  const root = resolve(__dirname, '..', '..');
  const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
  const { ensureDebianBinary } = tsx.require(
    join(root, 'test', 'support', 'debian.ts'),
    __filename,
  ) as typeof import('../test/support/debian.js');
  const { startNatsCluster } = tsx.require(
    join(root, 'test', 'support', 'nats.ts'),
    __filename,
  ) as typeof import('../test/support/nats.js');
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  if (!bin) return [{ suite: SUITE, case: 'SKIPPED', note: 'nats-server is not installed (apt-get install nats-server)' }];

  const base = process.env.TWINLOOP_BENCH_DIR ?? tmpdir();
  const dir = mkdtempSync(join(base, 'twinloop-bench-nats-'));
  progress('nats-ledger: starting 3 nats-server nodes');
  const cluster = await startNatsCluster(bin, 3);
  const rows: BenchRow[] = [];
  try {
    // the built client (dist/runtime/cluster/nats-client.js) for everything the ledger touches: one copy of its classes
    const nc = await connect({ servers: cluster.servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const file = await openFileLedger(join(dir, 'file-ledger.jsonl'), { signingKey: KEY });
    const js = await openJetStreamLedger({ nc, line: 'bench/plant/line1', signingKey: KEY });
    const f = timed();
    const n = timed();
    for (let r = 0; r < ROUNDS; r++) {
      progress(`nats-ledger: round ${r + 1}/${ROUNDS}`);
      const pair = [() => sequential(f, (i) => file.append(entry(i)), ROUND_MS), () => sequential(n, (i) => js.append(entry(i)), ROUND_MS)];
      for (const step of r % 2 === 0 ? pair : [...pair].reverse()) await step();
    }
    const ratio = (n.count / n.seconds / (f.count / f.seconds)).toFixed(2);
    rows.push(
      row(
        'file ledger append (hash chain + MAC + fdatasync), sequential awaited',
        f,
        `files in ${base}; rounds alternate with the stream's`,
        true,
      ),
    );
    rows.push(
      row(
        'JetStream ledger append, R3 stream, stream-wide expected seq, sequential awaited',
        n,
        `${ratio}× the file ledger; 3 nats-server 2.9.10 on loopback, same machine (no per-append fsync on 2.9.10)`,
      ),
    );

    // The stall: appends keep going while the leader is killed; the longest append is the election.
    const stalls = await leaderKillStalls(cluster, js, KILLS, 1500, 'nats-ledger: leader kill');
    const check = await openJetStreamLedger({ nc, line: 'bench/plant/line1', signingKey: KEY });
    if (check.records !== js.records) throw new Error(`stream holds ${check.records} records, the writer acknowledged ${js.records}`);
    rows.push({
      suite: SUITE,
      case: `append stall while the stream leader is SIGKILLed (${KILLS} kills)`,
      count: KILLS,
      ...latencyStats(stalls),
      note: `longest append per kill: ${stalls.map((s) => (s / 1000).toFixed(1)).join(', ')} s; after them the stream verifies with all ${check.records} records`,
    });
    await check.close();
    await js.close();
    await file.close();

    const used = await openKvUsedCommands({ nc, owner: 'bench', preload: false });
    const c = timed();
    progress('nats-ledger: used-command claims');
    await sequential(c, (i) => used.claim(`bench-cmd-${i}`), 2 * ROUND_MS);
    rows.push(row('used-command claim (KV create(), R3), sequential awaited', c, 'one per command write'));
    await nc.close();
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
