/**
 * Scale bench (issue 16): lines across `twinloop start --cluster` instances, as plant IT runs them: a
 * real 3-node Debian nats-server cluster (JetStream, leases at R3, test/support/nats.ts), a real Debian
 * Mosquitto (test/support/mosquitto.ts), and the built CLI as child processes (test/support/
 * cluster-lines.ts, shared with test/integration/cluster-three-instances.spec.ts); six lines, two
 * sources each; per line, while its owner holds it: readings on the line's persistent session →
 * twin-screen → republished as `<line>/m1/twin/reading/<tag>`, counted by an observer in this process.
 *
 * 1. Readings/s through the whole chain with 1, 2, then 3 instances (one started after the other, the
 *    shares settled and every line probed before measuring), against 1 instance measured in the same
 *    run. Load: closed loop, each line kept OUTSTANDING readings ahead of its outputs (published at
 *    QoS 1 as outputs come back), i.e. offered above what the line's owner can take while the broker's
 *    queue stays bounded; counted over WINDOW_MS after WARM_MS. CPU seconds of every process over the
 *    window (/proc/<pid>/stat; this process: publisher + observer) give CPU per reading. Before them, the
 *    same with one instance whose output session (twin-mqtt-broker) keeps 100 publishes in flight
 *    instead of the generated flow's 10 (`--flow`, the generated flow so edited): what bounds an instance.
 * 2. Takeover: KILLS times, SIGKILL the instance holding line 1 (lease LEASE_S) while every source
 *    publishes every SCAN_MS, then start it again: kill → claim (the claim event's own time in the
 *    line's lease stream) and kill → first reading of line 1 processed again, p50/p99.
 * 3. Ledger: sequential awaited appends to line 1's JetStream ledger (openLineStores, R3) against the
 *    file ledger (hash chain + MAC + fdatasync) in alternating rounds of the same run, then the stall
 *    (longest append: appends are sequential, so the longest gap between two acknowledged appends)
 *    while the stream leader is SIGKILLed, LEDGER_KILLS times. bench/nats-ledger.ts has more rounds.
 *
 * Everything shares this machine's cores, so the instance ratios are bounded by the machine; the
 * bench prints an estimate for one instance per machine, derived from the CPU per reading measured
 * here (see `estimate`). Skipped with a loud line without nats-server or mosquitto. About 3–4 min.
 *
 * Measured with `node dist/bench/run.js cluster-scale` (2026-12-08 01:01–01:04 UTC, 3 min 4 s; 2 cores
 * shared with other jobs, `uptime` load average 9.2 at the start and at the end, 5.8–8.8 in the windows;
 * nats-server 2.9.10, Mosquitto 2.0.11):
 * - readings/s: 1 instance 209 (baseline), 2 instances 415 (1.99×, lines 4+2), 3 instances 620 (2.97×,
 *   lines 3+2+1), while these processes kept only 0.18 / 0.29 / 0.39 of the 2 cores busy: an instance waits
 *   on its output session (10 in flight, PUBACKs, fsynced outbox ack); 1 instance with 100 in flight: 2,415/s
 *   (11.6×) at 111 µs instance CPU per reading (479 µs with 10), Mosquitto 74–108 µs per reading;
 * - takeover, lease 3 s, 5 SIGKILLs: kill → claim p50 3.20 s, p99 3.90 s; kill → first reading processed
 *   p50 3.61 s, p99 4.42 s;
 * - ledger appends, sequential: JetStream R3 934/s (p50 0.90 ms) vs file ledger 123/s (p50 5.8 ms, fdatasync
 *   on a busy disk) = 7.6×; stall on a stream-leader SIGKILL 5.4 and 8.8 s, no acknowledged append lost;
 * - estimate: N × 209/s as generated (broker ceiling ≈ 11,000/s at N ≈ 53), N × 2,415–8,988/s with 100 in
 *   flight (broker ceiling ≈ 13,500/s at N ≈ 1.5–5.6); JetStream off the reading path (0.05 CPU-s/s).
 * Next run (01:07–01:09 UTC, 2 min 32 s, load 5.9 → 6.6): 197 / 389 / 401 per s (1.97× / 2.03×): the 3 instances
 * settled at 3+3+0 lines, a settled state (at most ⌈6/3⌉ + 1 = 3 each), so only two worked; window 100
 * 2,509/s; claim p50 2.95 s, p99 3.55 s; first reading p50 3.10 s, p99 3.65 s; ledger 898/s vs 200/s, stalls
 * 4.2 and 4.9 s. An earlier run at load 10–15: 195 / 395 / 515 per s, window 100 2,847/s, claim p50 3.06 s.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { openFileLedger } from '../runtime/control/file-ledger.js';
import { openLineStores } from '../runtime/cluster/line-stores.js';
import { clusterFlow } from '../bin/lib/cluster-flow.js';
import { latencyStats, percentile, progress, type BenchRow } from './harness.js';
import { BENCH_SIGNING_KEY, decision, leaderKillStalls, sequential, timed, timedRow } from './support/ledger-appends.js';
import type { TwinloopProcess } from '../test/support/twinloop-process.js';

const SUITE = 'cluster-scale';
const LINES = Array.from({ length: 6 }, (_, i) => `scale/area/line${i + 1}`);
const TAGS = ['speed', 'temp'];
const INSTANCES = ['A', 'B', 'C'];
const LEASE_S = 3;
/** Readings each line is kept ahead of its outputs during a throughput window. */
const OUTSTANDING = 200;
const WARM_MS = 2000;
const WINDOW_MS = 8000;
/** Takeover: kills, and the paced scan of every source meanwhile. */
const KILLS = 5;
const SCAN_MS = 100;
const LEDGER_ROUNDS = 4;
const LEDGER_ROUND_MS = 1000;
const LEDGER_KILLS = 2;
const LEDGER_RETRY_MS = 120_000;

/** bench/historian.ts's twin-historian rate (one record per message, one InfluxDB 1.6; README, 2026-12-04): cited, not measured here. */
const HISTORIAN_POINTS_PER_S = 28_117;
const CLK_TCK = 100; // Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
/** User + system CPU seconds of a process so far (0 once it is gone). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 (utime, stime), counted after the name
  } catch {
    return 0;
  }
}

type Supports = typeof import('../test/support/cluster-lines.js') &
  typeof import('../test/support/debian.js') &
  typeof import('../test/support/nats.js') &
  typeof import('../test/support/mosquitto.js') &
  typeof import('../test/support/mqtt-helpers.js') &
  typeof import('../test/support/ports.js');

/** The project's test fixtures (TypeScript under test/support, loaded through tsx). */
function supports(): Supports {
  const root = resolve(__dirname, '..', '..');
  const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
  const load = (name: string) => tsx.require(join(root, 'test', 'support', `${name}.ts`), __filename) as object;
  return Object.assign({}, ...['cluster-lines', 'debian', 'nats', 'mosquitto', 'mqtt-helpers', 'ports'].map(load)) as Supports;
}

/** What the observer saw: processed readings per line, arrival times, and which lines answered a probe. */
class Outputs {
  readonly perLine = new Map<string, number>(LINES.map((l) => [l, 0]));
  readonly lastAtMs = new Map<string, number>();
  readonly probes = new Set<string>();
  onOutput: (line: string) => void = () => undefined;
  add(topic: string): void {
    const parts = topic.split('/');
    const line = parts.slice(0, 3).join('/');
    if (parts.at(-1) === 'probe') {
      this.probes.add(line);
      return;
    }
    this.perLine.set(line, (this.perLine.get(line) ?? 0) + 1);
    this.lastAtMs.set(line, performance.now());
    this.onOutput(line);
  }
  total(): number {
    let n = 0;
    for (const c of this.perLine.values()) n += c;
    return n;
  }
}

/** Keeps every line OUTSTANDING readings ahead of its processed outputs, until stopped. */
class ClosedLoop {
  /** Per line: readings published, counted from the outputs seen so far (every earlier reading came back). */
  private readonly published: Map<string, number>;
  private seq = 0;
  private running = false;
  constructor(
    private readonly pub: MqttClient,
    private readonly out: Outputs,
  ) {
    this.published = new Map(LINES.map((l) => [l, out.perLine.get(l)!]));
  }
  start(): void {
    this.running = true;
    this.out.onOutput = (line) => this.topUp(line);
    for (const l of LINES) this.topUp(l);
  }
  private topUp(line: string): void {
    if (!this.running) return;
    const ahead = this.published.get(line)! - this.out.perLine.get(line)!;
    // in halves: one burst of publishes per OUTSTANDING / 2 outputs rather than one per output
    if (ahead > OUTSTANDING / 2) return;
    const tsMs = Date.now();
    for (let i = ahead; i < OUTSTANDING; i++) {
      const tag = TAGS[this.seq % TAGS.length];
      this.pub.publish(`${line}/m1/${tag}`, JSON.stringify({ value: this.seq++, tsMs }), { qos: 1 });
    }
    this.published.set(line, this.published.get(line)! + OUTSTANDING - ahead);
  }
  /** Stop publishing and wait until every published reading came back (or `timeoutMs`). */
  async stop(timeoutMs = 30_000): Promise<number> {
    this.running = false;
    this.out.onOutput = () => undefined;
    const until = performance.now() + timeoutMs;
    const missing = () => LINES.reduce((n, l) => n + this.published.get(l)! - this.out.perLine.get(l)!, 0);
    while (missing() > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    return missing();
  }
}

interface Throughput {
  instances: number;
  /** Readings processed in the window. */
  count: number;
  perS: number;
  /** CPU seconds per processed reading: each instance, Mosquitto, the nats-servers, this process. */
  instanceCpuPerReading: number[];
  mosquittoCpuPerReading: number;
  natsCpuPerS: number;
  benchCpuPerReading: number;
  /** All processes' CPU over the window / window: cores busy. */
  coresBusy: number;
  /** The machine's 1-minute load average at the window's end (other jobs included). */
  load1: number;
  linesPerInstance: string;
}

/** `p`, or an error naming `what` after `ms`: a step that hangs fails its phase instead of the whole run. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (s: number) => `${(s * 1e6).toFixed(0)} µs`;

export async function run(): Promise<BenchRow[]> {
  const s = supports();
  const natsBin = s.ensureDebianBinary('nats-server', 'nats-server');
  const mosqBin = s.ensureDebianBinary('mosquitto', 'mosquitto');
  if (!natsBin || !mosqBin) {
    const missing = [natsBin ? '' : 'nats-server', mosqBin ? '' : 'mosquitto'].filter(Boolean).join(' and ');
    process.stderr.write(`\n!!!!! SKIPPING cluster-scale: ${missing} not installed (apt-get install nats-server mosquitto) !!!!!\n\n`);
    return [{ suite: SUITE, case: 'SKIPPED', note: `${missing} not installed (apt-get install nats-server mosquitto)` }];
  }
  const rows: BenchRow[] = [];
  progress('cluster-scale: starting 3 nats-server and Mosquitto');
  const nats = await s.startNatsCluster(natsBin, 3);
  const mosq = await s.startMosquitto(mosqBin);
  const inst = new Map<string, TwinloopProcess>();
  /** Every started instance's user directory (temporary), removed at the end. */
  const homes: string[] = [];
  let pub: MqttClient | undefined;
  let obs: MqttClient | undefined;
  const dir = mkdtempSync(join(process.env.TWINLOOP_BENCH_DIR ?? tmpdir(), 'twinloop-bench-scale-'));
  try {
    const out = new Outputs();
    obs = await s.rawClient(mosq.url, {
      protocolVersion: 5,
      clientId: 'bench-scale-observer',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    obs.on('message', (topic) => out.add(topic));
    await s.subscribe(obs, 'scale/area/+/+/twin/reading/+', 1);
    pub = await s.rawClient(mosq.url, { protocolVersion: 5, clientId: 'bench-scale-lines' });
    const start = async (name: string, extraArgs: string[] = []) => {
      const p = await s.startLineInstance(nats, mosq.url, LINES, name, LEASE_S, extraArgs);
      homes.push(p.home);
      return p;
    };

    // ---- 1. readings/s with 1, 2, 3 instances (and, first, 1 instance whose output session has a wider window)
    const measure = async (label: string): Promise<Throughput> => {
      const running = [...inst.entries()];
      progress(`cluster-scale: ${label}, waiting for the shares to settle`);
      const view = await within(90_000, `${label}: shares settled`, s.waitLinesSettled(nats, LINES, running.length));
      out.probes.clear();
      progress(`cluster-scale: ${label}, probing every line`);
      await within(
        90_000,
        `${label}: every line probed`,
        s.probeLines(pub!, LINES, () => out.probes),
      );
      progress(`cluster-scale: ${label}, measuring`);
      const load = new ClosedLoop(pub!, out);
      load.start();
      await new Promise((r) => setTimeout(r, WARM_MS));
      const pids = running.map(([, p]) => p.child.pid);
      const cpu = () => ({
        inst: pids.map(cpuSeconds),
        mosq: cpuSeconds(mosq.pid()),
        nats: nats.nodes.reduce((t, n) => t + cpuSeconds(n.pid()), 0),
        bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      });
      const c0 = cpu();
      const n0 = out.total();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const c1 = cpu();
      const n = out.total() - n0;
      const seconds = (performance.now() - t0) / 1000;
      const missing = await load.stop();
      if (missing > 0) throw new Error(`${label}: ${missing} published readings never came back processed`);
      const instCpu = c1.inst.map((c, k) => c - c0.inst[k]);
      const all = instCpu.reduce((x, y) => x + y, 0) + (c1.mosq - c0.mosq) + (c1.nats - c0.nats) + (c1.bench - c0.bench);
      const counts = s.holderCounts(view);
      return {
        instances: running.length,
        count: n,
        perS: n / seconds,
        instanceCpuPerReading: instCpu.map((c) => c / n),
        mosquittoCpuPerReading: (c1.mosq - c0.mosq) / n,
        natsCpuPerS: (c1.nats - c0.nats) / seconds,
        benchCpuPerReading: (c1.bench - c0.bench) / n,
        coresBusy: all / seconds,
        load1: loadavg()[0]!,
        linesPerInstance: running.map(([x]) => `${x}:${counts.get(x) ?? 0}`).join(' '),
      };
    };
    // a phase that fails (say, an election outlasting a wait on this loaded machine) is one FAILED row; the others still report
    const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        rows.push({ suite: SUITE, case: `${name}: FAILED`, note: String((err as Error).message ?? err).slice(0, 300) });
      }
    };
    // The generated flow with the output session's in-flight window at 100 instead of 10 (--flow)
    let wide: Throughput | undefined;
    await phase('1 instance, output window 100', async () => {
      const wideFlow = join(dir, 'cluster-flow-window-100.json');
      const flow = clusterFlow(LINES.join('\n')).map((n) => (n.type === 'twin-mqtt-broker' ? { ...n, inflightWindow: 100 } : n));
      writeFileSync(wideFlow, JSON.stringify(flow));
      progress('cluster-scale: starting instance W (output window 100)');
      inst.set('W', await start('W', ['--flow', wideFlow]));
      try {
        wide = await measure('1 instance, output window 100');
      } finally {
        await inst.get('W')!.stop(); // a clean stop: it gives its lines and its membership up
        inst.delete('W');
      }
    });
    const measured: Throughput[] = [];
    for (const name of INSTANCES) {
      progress(`cluster-scale: starting instance ${name}`);
      inst.set(name, await start(name));
      measured.push(await measure(`${inst.size} instance(s)`));
    }
    const one = measured[0]!;
    const cpuNote = (m: Throughput) =>
      `lines ${m.linesPerInstance}; CPU per reading: instances ${m.instanceCpuPerReading.map(us).join(' + ')}, Mosquitto ` +
      `${us(m.mosquittoCpuPerReading)}, publisher+observer ${us(m.benchCpuPerReading)}; ` +
      `nats-servers ${m.natsCpuPerS.toFixed(2)} CPU-s/s; ` +
      `these processes kept ${m.coresBusy.toFixed(2)} of 2 cores busy, load average ${m.load1.toFixed(1)}`;
    for (const m of measured) {
      rows.push({
        suite: SUITE,
        case: `readings/s through ${m.instances} instance(s): line session → twin-screen → republish, 6 lines`,
        ...(m.instances === 1 ? { baseline: true } : {}),
        count: m.count,
        throughputPerS: m.perS,
        note: `${(m.perS / one.perS).toFixed(2)}× 1 instance; ${cpuNote(m)}`,
      });
    }
    const w = wide as Throughput | undefined; // set inside a closure: TypeScript cannot follow it
    if (w)
      rows.push({
        suite: SUITE,
        case: 'readings/s through 1 instance whose output session has 100 in flight instead of 10 (--flow, the generated flow edited)',
        count: w.count,
        throughputPerS: w.perS,
        note: `${(w.perS / one.perS).toFixed(2)}× 1 instance with the generated flow's 10; ${cpuNote(w)}`,
      });

    // ---- 2. takeover of line 1, KILLS times
    const line = LINES[0]!;
    await phase('takeover', async () => {
      let seq = 0;
      const scanner = setInterval(() => {
        const tsMs = Date.now();
        for (const l of LINES) for (const tag of TAGS) pub!.publish(`${l}/m1/${tag}`, JSON.stringify({ value: seq, tsMs }), { qos: 1 });
        seq++;
      }, SCAN_MS);
      const claimMs: number[] = [];
      const firstMs: number[] = [];
      try {
        for (let k = 0; k < KILLS; k++) {
          progress(`cluster-scale: takeover ${k + 1}/${KILLS}`);
          // line 1 is served now: a reading of it processed after the shares settled
          await within(90_000, 'shares settled', s.waitLinesSettled(nats, LINES, INSTANCES.length));
          const servedFrom = performance.now();
          await s.waitFor(() => (out.lastAtMs.get(line) ?? 0) > servedFrom, 30_000, 20, `${line} served`);
          const victim = (await s.leaseView(nats, [line]))[0]!.holder!;
          const killWallMs = Date.now();
          const killedAt = performance.now();
          await inst.get(victim)!.kill();
          // outputs the victim published just before it died may still be on their way to the observer
          const fresh = killedAt + 250;
          const taken = (await s.waitFor(
            async () => {
              const v = await s.leaseView(nats, [line]).catch(() => undefined);
              return v && v[0]!.holder && v[0]!.holder !== victim && v[0];
            },
            60_000,
            50,
            `${line} claimed by another instance`,
          )) as { seq: number };
          await s.waitFor(() => (out.lastAtMs.get(line) ?? 0) > fresh, 60_000, 10, `${line} processed again`);
          firstMs.push(out.lastAtMs.get(line)! - killedAt);
          const { claim } = await s.takeoverClaim(nats, line, taken.seq, victim);
          claimMs.push(claim.tsMs - killWallMs);
          progress(`cluster-scale: restarting ${victim}`);
          inst.set(victim, await start(victim));
        }
      } finally {
        clearInterval(scanner);
      }
      const median = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);
      rows.push({
        suite: SUITE,
        case: `takeover: SIGKILL of line 1's owner → claimed by another instance (${KILLS} kills, lease ${LEASE_S} s)`,
        count: KILLS,
        ...latencyStats(claimMs),
        note:
          `each: ${claimMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; ` +
          `bound: the lease (${LEASE_S} s) + one renewal period (${LEASE_S / 3} s)`,
      });
      rows.push({
        suite: SUITE,
        case: `takeover: SIGKILL of line 1's owner → first reading of line 1 processed again`,
        count: KILLS,
        ...latencyStats(firstMs),
        note:
          `each: ${firstMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; ` +
          `p50 ${(median(firstMs) - median(claimMs)).toFixed(0)} ms after the ` +
          `claim's p50 (the new owner's line session connects and the broker hands over what it queued)`,
      });
    });

    // instances down before the ledger rounds: the appends get the machine to themselves
    progress('cluster-scale: stopping instances');
    await Promise.all([...inst.values()].map((p) => p.stop()));
    inst.clear();

    // ---- 3. ledger appends: JetStream R3 via openLineStores against the file ledger; stall on leader loss
    let jsPerS = NaN;
    await phase('ledger', async () => {
      // retries across an election for up to LEDGER_RETRY_MS (the default, 30 s, would turn a longer stall into an error)
      const opts = { servers: nats.servers, line, replicas: 3, signingKey: BENCH_SIGNING_KEY, retryForMs: LEDGER_RETRY_MS };
      const stores = await openLineStores({ ...opts, owner: 'bench' });
      const file = await openFileLedger(join(dir, 'file-ledger.jsonl'), { signingKey: BENCH_SIGNING_KEY });
      const fm = timed();
      const jm = timed();
      for (let r = 0; r < LEDGER_ROUNDS; r++) {
        progress(`cluster-scale: ledger round ${r + 1}/${LEDGER_ROUNDS}`);
        const pair = [
          () => sequential(fm, (i) => file.append(decision(i)), LEDGER_ROUND_MS),
          () => sequential(jm, (i) => stores.ledger.append(decision(i)), LEDGER_ROUND_MS),
        ];
        for (const step of r % 2 === 0 ? pair : [...pair].reverse()) await step();
      }
      jsPerS = jm.count / jm.seconds;
      rows.push(timedRow(SUITE, 'ledger: file ledger append (hash chain + MAC + fdatasync), sequential awaited', fm, 'same run', true));
      rows.push(
        timedRow(
          SUITE,
          "ledger: line 1's JetStream ledger append (openLineStores, R3), sequential awaited",
          jm,
          `${(jsPerS / (fm.count / fm.seconds)).toFixed(2)}× the file ledger; nats-server ${natsVersion(natsBin)}, 3 nodes on this machine`,
        ),
      );
      const stalls = await leaderKillStalls(nats, stores.ledger, LEDGER_KILLS, 1500, 'cluster-scale: ledger leader kill');
      const check = await openLineStores({ ...opts, owner: 'bench-check' });
      const lost = stores.ledger.records - check.ledger.records;
      await check.close();
      await stores.close();
      await file.close();
      rows.push({
        suite: SUITE,
        case: `ledger: stall (longest gap between acknowledged appends) while the stream leader is SIGKILLed (${LEDGER_KILLS} kills)`,
        count: LEDGER_KILLS,
        ...latencyStats(stalls),
        note:
          `each: ${stalls.map((x) => (x / 1000).toFixed(1)).join(', ')} s; ` +
          `${lost === 0 ? 'no acknowledged append lost' : `${lost} acknowledged appends missing`}; ` +
          `${stalls.filter((x) => x > 30_000).length} of them beyond openLineStores' default retry (30 s), which would fence the ledger`,
      });
    });

    if (w) {
      const text = estimate(measured, w, jsPerS);
      process.stdout.write(`\n${text}\n`);
      rows.push({ suite: SUITE, case: 'scale-out estimate (derived from the rows above)', note: text.replace(/\n+/g, ' ') });
    } else rows.push({ suite: SUITE, case: 'scale-out estimate', note: 'not made: the output-window-100 case failed' });
  } finally {
    await s.endClient(pub);
    await s.endClient(obs);
    await Promise.all([...inst.values()].map((p) => p.kill()));
    await mosq.stop();
    await nats.stop();
    for (const d of [dir, ...homes]) rmSync(d, { recursive: true, force: true });
  }
  return rows;
}

function natsVersion(bin: string): string {
  try {
    return /v?(\d+\.\d+\.\d+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/**
 * What N machines give, from what this run measured (on one machine every process shares its cores
 * and its disk, so the ratios measure the machine; CPU per reading does not depend on who else runs):
 * - an instance's rate: the rate one instance reached (a lower bound when its processes left cores
 *   idle: then it waited on its output session's round trips and fsyncs, which are slower on a loaded
 *   machine), capped by its CPU bound, 1 / (its CPU-s per reading) on the one core of Node's main thread;
 *   as shipped (10 publishes in flight) and with 100 in flight;
 * - Mosquitto is one thread and handles each reading twice in and twice out: the site's ceiling is
 *   1 / (its CPU-s per reading), reached at N = ceiling / instance rate;
 * - JetStream is not on the reading path (leases only, flat CPU per second); it bounds decisions by
 *   the line ledger's sequential appends/s.
 */
export function estimate(measured: Throughput[], wide: Throughput, ledgerAppendsPerS: number): string {
  const one = measured[0]!;
  const last = measured.at(-1)!;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const cpuBound = (m: Throughput) => 1 / sum(m.instanceCpuPerReading); // all instances' CPU / readings: each reading has one owner
  const rate = (m: Throughput) => Math.min(m.perS, cpuBound(m));
  const broker = (m: Throughput) => 1 / m.mosquittoCpuPerReading;
  const ratios = measured.map((m) => `${(m.perS / one.perS).toFixed(2)}×`).join(' / ');
  const busy = measured.map((m) => m.coresBusy.toFixed(2)).join(' / ');
  const loads = measured.map((m) => m.load1.toFixed(1)).join(' / ');
  const idle = one.coresBusy < 1.5;
  return [
    `cluster-scale: on this 2-core machine the ratios are bounded by the machine: the instances, Mosquitto, 3 nats-servers and the ` +
      `publisher/observer share its 2 cores and one disk with each other and with other jobs (load average ${loads}); 1/2/3 instances ` +
      `gave ${ratios} while these processes kept ${busy} of the 2 cores busy.` +
      (idle
        ? ` Cores were left idle, so an instance was not CPU-bound: it waited on its output session (as generated: 10 publishes in ` +
          `flight, their PUBACKs and an fsynced outbox ack before the next 10); each instance has its own, hence ratios near the ` +
          `instance count. With 100 in flight one instance gave ${f0(wide.perS)}/s (${(wide.perS / one.perS).toFixed(2)}×).`
        : '') +
      measured
        .filter((m) => /:0\b/.test(m.linesPerInstance))
        .map(
          (m) =>
            ` With ${m.instances} instances the shares settled at ${m.linesPerInstance}: each holds at most ⌈lines/instances⌉ + 1, ` +
            `so nothing moves to an instance without lines and this ratio counts the instances that had some.`,
        )
        .join(''),
    `Estimate for N machines (one instance each; broker and NATS on machines of their own), per instance the rate one instance ` +
      `reached, at most its CPU bound (1 / its CPU per reading, Node's one main thread): as generated ${f0(one.perS)}/s at ` +
      `${us(sum(one.instanceCpuPerReading))} per reading (bound ${f0(cpuBound(one))}/s), so N × ${f0(rate(one))} readings/s; with 100 in ` +
      `flight ${f0(wide.perS)}/s at ${us(sum(wide.instanceCpuPerReading))} per reading (bound ${f0(cpuBound(wide))}/s), so N × ` +
      `${f0(rate(wide))} to N × ${f0(cpuBound(wide))}/s. Lower bounds: this machine's fsyncs and round trips are slower than a ` +
      `dedicated one's. Lines spread ≤ ⌈lines/N⌉ + 1 per instance, so with few lines per machine the busiest one sets the pace.`,
    `Next bottleneck, the broker: Mosquitto (one thread) took ${us(last.mosquittoCpuPerReading)} CPU per reading as generated, ` +
      `${us(wide.mosquittoCpuPerReading)} with 100 in flight (in, to the line's session, the output in, to its subscriber): a ceiling ` +
      `of ≈ ${f0(broker(last))} / ${f0(broker(wide))} readings/s on one core, reached at N ≈ ${(broker(last) / rate(one)).toFixed(0)} ` +
      `machines as generated, N ≈ ${(broker(wide) / cpuBound(wide)).toFixed(1)}–${(broker(wide) / rate(wide)).toFixed(1)} with 100 in ` +
      `flight; beyond it, a broker per area. JetStream is not on the reading path (3 nats-servers used ${last.natsCpuPerS.toFixed(2)} ` +
      `CPU-s/s on the leases, flat with the rate); it bounds decisions, at ` +
      `${Number.isFinite(ledgerAppendsPerS) ? `≈ ${f0(ledgerAppendsPerS)}` : '(ledger phase failed)'} sequential ledger appends/s per ` +
      `line. The historian is not in this chain and not measured here: bench/historian.ts gave ${f0(HISTORIAN_POINTS_PER_S)} ` +
      `points/s per twin-historian into one InfluxDB (README), ` +
      (HISTORIAN_POINTS_PER_S < broker(wide)
        ? `below the broker's ceiling: storing every reading in one InfluxDB would bind before the broker.`
        : `above the broker's ceiling: the broker binds first even when every reading is stored in one InfluxDB.`),
  ].join('\n');
}
