/**
 * How many OPC UA monitored items one endpoint sustains at a 1 s sampling interval with no update lost.
 *
 * A node-opcua server runs in its own process (test/support/opcua-server.ts in script mode) with N
 * bench variables whose value advances on every read: every 1 s sample is a change the client must
 * receive, and a gap in an item's sequence is a lost update. For N = 1,000 / 5,000 / 10,000 / 20,000 the
 * TwinLoop runtime (one shared session, `OpcuaConnection.monitor`, DataValue → Reading) monitors all
 * items; the baseline is a bare node-opcua ClientSubscription with the same parameters on the target
 * 10,000 items, measured in the same run. Reported: time to create the items (until each delivered its first
 * value), updates received vs expected over a window, lost updates, latency (source timestamp →
 * receive, which includes up to one publishing interval), memory. About 70 s in all.
 *
 * Run: npm run bench (wired by the lead), or `npx tsup && node dist/bench/opcua-items.js`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AttributeIds, OPCUAClient, TimestampsToReturn, type ClientMonitoredItemBase, type DataValue } from 'node-opcua';
import { OpcuaSessionManager } from '../runtime/ingest/opcua-session.js';
import { latencyStats, memory, progress, progressDone, type BenchRow } from './harness.js';

const SAMPLING_MS = 1000;
const QUEUE_SIZE = Number(process.env.OPCUA_BENCH_QUEUE ?? 1);
const WARMUP_MS = 1500;
const WINDOW_MS = Number(process.env.OPCUA_BENCH_WINDOW_MS ?? 8000);
const GRACE_MS = 2000;
const SIZES = (process.env.OPCUA_BENCH_ITEMS ?? '1000,5000,10000,20000').split(',').map(Number);
/** The baseline runs at the target size (10,000 items on one session). */
const BASELINE_ITEMS = Number(process.env.OPCUA_BENCH_BASELINE_ITEMS ?? 10_000);

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** The bench server in a child process; `ask` sends a command line and waits for its JSON answer. */
async function startServer(
  items: number,
): Promise<{ endpointUrl: string; ask(cmd: string): Promise<Record<string, number>>; stop(): Promise<void> }> {
  const root = repoRoot();
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['-r', require.resolve('tsx/cjs'), join(root, 'test', 'support', 'opcua-server.ts'), '--bench-items', String(items)],
    { cwd: root, env: { ...process.env, TWINLOOP_TEST_TMP: mkdtempSync(join(tmpdir(), 'twinloop-bench-')) } },
  );
  const waiting: Array<(o: Record<string, unknown>) => void> = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue; // node-opcua's own log lines
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        waiting.shift()?.(o);
      } catch {
        /* not ours */
      }
    }
  });
  child.stderr.resume();
  const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
    waiting.push(resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    endpointUrl: String(first.endpointUrl),
    ask: (cmd) =>
      new Promise((resolve) => {
        waiting.push(resolve as never);
        child.stdin.write(cmd + '\n');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Per-item sequence bookkeeping over the measurement window. */
class Tally {
  readonly first: Float64Array;
  readonly last: Float64Array;
  readonly count: Uint32Array;
  readonly seen: Uint8Array;
  seenCount = 0;
  latencies: number[] = [];
  received = 0;
  /** The measurement window, in source time (the server's sample time), epoch ms. */
  fromMs = Infinity;
  toMs = -Infinity;
  constructor(readonly n: number) {
    this.first = new Float64Array(n).fill(NaN);
    this.last = new Float64Array(n).fill(NaN);
    this.count = new Uint32Array(n);
    this.seen = new Uint8Array(n);
  }

  on(index: number, value: number, sourceMs: number, nowMs: number): void {
    if (!this.seen[index]) {
      this.seen[index] = 1;
      this.seenCount++;
    }
    // count the samples the server took inside the window, whenever they arrive
    if (!(sourceMs >= this.fromMs && sourceMs < this.toMs)) return;
    this.received++;
    this.latencies.push(nowMs - sourceMs);
    if (Number.isNaN(this.first[index])) this.first[index] = value;
    this.last[index] = value;
    this.count[index]++;
  }

  /** Updates the server produced for an item inside the window that never arrived. */
  lost(): { lost: number; expected: number } {
    let lost = 0;
    let expected = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.count[i] === 0) continue;
      const span = this.last[i] - this.first[i] + 1;
      expected += span;
      lost += span - this.count[i];
    }
    return { lost, expected };
  }
}

async function measure(
  label: string,
  n: number,
  server: Awaited<ReturnType<typeof startServer>>,
  start: (tally: Tally) => Promise<() => Promise<void>>,
  baseline: boolean,
): Promise<BenchRow> {
  const tally = new Tally(n);
  const t0 = Date.now();
  const stop = await start(tally);
  while (tally.seenCount < n) {
    if (Date.now() - t0 > 60_000) throw new Error(`${label}: only ${tally.seenCount}/${n} items delivered a value in 60 s`);
    progress(`${label}: ${tally.seenCount}/${n} items live`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const createdMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const onServer = await server.ask('items');
  const w0 = Date.now();
  tally.fromMs = w0;
  tally.toMs = w0 + WINDOW_MS;
  // the window's last samples may still be in flight: give them a publishing interval and more
  while (Date.now() < tally.toMs + GRACE_MS) {
    progress(`${label}: window ${Math.round((Date.now() - w0) / 1000)}/${WINDOW_MS / 1000} s, ${tally.received} updates`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const windowS = WINDOW_MS / 1000;
  const mem = memory();
  await stop();
  progressDone();
  const { lost } = tally.lost();
  const nominal = Math.round(n * windowS * (1000 / SAMPLING_MS));
  return {
    suite: 'opcua',
    case: label,
    baseline,
    count: tally.received,
    throughputPerS: tally.received / windowS,
    ...latencyStats(tally.latencies),
    ...mem,
    note:
      `${n} items @${SAMPLING_MS} ms, queue ${QUEUE_SIZE}; created+first value in ${createdMs} ms; ` +
      `samples taken in a ${windowS.toFixed(0)} s window: received ${tally.received} of ~${nominal} nominal (${lost} gaps in the per-item sequences); ` +
      `server holds ${onServer.items} items in ${onServer.sessions} session(s)`,
  };
}

function twinloopCase(endpointUrl: string, n: number) {
  return async (tally: Tally) => {
    const manager = new OpcuaSessionManager();
    const conn = manager.acquire({
      endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      pkiDir: mkdtempSync(join(tmpdir(), 'twinloop-bench-pki-')),
      acceptUnknownCertificates: true,
    });
    await conn.whenConnected(30_000);
    const index = new Map<string, number>();
    const items = Array.from({ length: n }, (_, i) => {
      const nodeId = `ns=1;s=bench.${i}`;
      index.set(nodeId, i);
      return { nodeId, asset: 'bench/line', tag: `b${i}` };
    });
    const sub = conn
      .monitor({ items, samplingIntervalMs: SAMPLING_MS, deadband: 0, queueSize: QUEUE_SIZE, maxFutureMs: 0 })
      .subscribe((s) => {
        if (s.kind !== 'reading' || s.reading.quality !== 'good') return;
        tally.on(index.get(s.item.nodeId)!, s.reading.value, s.reading.tsMs, Date.now());
      });
    return async () => {
      sub.unsubscribe();
      await manager.release(conn);
    };
  };
}

function bareCase(endpointUrl: string, n: number) {
  return async (tally: Tally) => {
    const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
    await client.connect(endpointUrl);
    const session = await client.createSession();
    // same subscription parameters as the runtime's (publishing interval = sampling interval, ≤ 1 s)
    const sub = await session.createSubscription2({
      requestedPublishingInterval: SAMPLING_MS,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 60,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    for (let from = 0; from < n; from += 1000) {
      const ids = Array.from({ length: Math.min(1000, n - from) }, (_, k) => ({
        nodeId: `ns=1;s=bench.${from + k}`,
        attributeId: AttributeIds.Value,
      }));
      const group = await sub.monitorItems(
        ids,
        { samplingInterval: SAMPLING_MS, queueSize: QUEUE_SIZE, discardOldest: true },
        TimestampsToReturn.Both,
      );
      group.on('changed', (_mi: ClientMonitoredItemBase, dv: DataValue, i: number) => {
        tally.on(from + i, Number(dv.value.value), dv.sourceTimestamp?.getTime() ?? NaN, Date.now());
      });
    }
    return async () => {
      await sub.terminate().catch(() => undefined);
      await session.close().catch(() => undefined);
      await client.disconnect();
    };
  };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const maxN = Math.max(...SIZES, BASELINE_ITEMS);
  const server = await startServer(maxN);
  try {
    const b = BASELINE_ITEMS;
    rows.push(await measure(`bare node-opcua ClientSubscription, ${b} items`, b, server, bareCase(server.endpointUrl, b), true));
    for (const n of SIZES) {
      rows.push(await measure(`TwinLoop shared session monitor, ${n} items`, n, server, twinloopCase(server.endpointUrl, n), false));
    }
  } finally {
    await server.stop();
  }
  return rows;
}

if (require.main === module) {
  const t0 = Date.now();
  run().then(
    (rows) => {
      console.table(
        rows.map((r) => ({
          case: r.case,
          updatesPerS: r.throughputPerS?.toFixed(0),
          p50Ms: r.p50Ms?.toFixed(0),
          p95Ms: r.p95Ms?.toFixed(0),
          p99Ms: r.p99Ms?.toFixed(0),
          rssMiB: r.rssMiB?.toFixed(0),
          heapMiB: r.heapMiB?.toFixed(0),
        })),
      );
      for (const r of rows) console.log(`${r.case}: ${r.note}`);
      console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
