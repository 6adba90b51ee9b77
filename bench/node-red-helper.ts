/**
 * node-red-node-test-helper wraps Node.prototype.send/status/log/... in sinon spies that record every
 * call with its arguments. That is test instrumentation, not Node-RED, and in a benchmark it costs
 * more than the nodes being measured (and grows memory without bound), so benches remove it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../runtime/stats/index.js';
import { latencyStats, memory, progress, type BenchRow } from './harness.js';

interface TestHelperLike {
  _sandbox: { restore(): void };
  _NodePrototype: { send: unknown };
  getNode(id: string): { send?: unknown } | null;
}

const isSpy = (f: unknown): boolean => typeof (f as { callCount?: unknown })?.callCount === 'number';

/** Call after `helper.load(...)`; throws if a spy is still in place on any of the flow's nodes. */
export function dropTestHelperSpies(helper: TestHelperLike, nodeIds: string[]): void {
  helper._sandbox.restore();
  // A wired node keeps its own copy of Node.prototype.send (taken while the spy was in place).
  const proto = helper._NodePrototype;
  for (const id of nodeIds) {
    const node = helper.getNode(id);
    if (node && Object.hasOwn(node, 'send') && isSpy(node.send)) node.send = proto.send;
  }
  if (isSpy(proto.send) || nodeIds.some((id) => isSpy(helper.getNode(id)?.send))) throw new Error('test-helper spies still in place');
}

export interface ChainSpec {
  /** Row label, e.g. `bare custom pass-through node, 1 node`. */
  name: string;
  baseline?: boolean;
  /** The chain's nodes (without the sink): their wires must end at `sink`. */
  nodes: object[];
  head: string;
  /** A helper node the chain's last node sends every message to; or, for a chain that fans out, use `leaves`. */
  sink?: string;
  /**
   * Nodes each input ends at (a fan-out: `screen → [estimate, drift]`): an input is through when
   * every leaf has called done() for it, whether it sent anything or not. Counted by wrapping each
   * leaf's `_complete` (Node-RED's done bookkeeping), the same thin wrapper in every chain.
   */
  leaves?: string[];
}

export interface ChainComparison {
  suite: string;
  /** Node modules to load (bench/pass-node.js for the baseline, the TwinLoop nodes). */
  modules: unknown[];
  chains: ChainSpec[];
  /** The i-th input message, a new object literal per call (a fresh event time each call: estimators refuse replays). */
  message(i: number): { topic: string; payload: unknown };
  roundMs: number;
  rounds: number;
  /** Messages in flight per batch. */
  batch?: number;
  /** The TwinLoop chain must reach this fraction of the first (baseline) chain's median round. */
  targetRatio?: number;
  /** An earlier issue's target for the same rows, reported beside the main one (`issue 15`, 0.8). */
  secondTarget?: { label: string; ratio: number };
}

/**
 * Node chains of the same length measured side by side in one embedded Node-RED (the test
 * helper, spies removed), in alternating rounds so machine noise hits them alike. One row per
 * chain: throughput, latency from `receive()` to the sink, memory, and the ratio to the baseline.
 */
export async function compareNodeChains(spec: ChainComparison): Promise<BenchRow[]> {
  const helper = require('node-red-node-test-helper');
  const batch = spec.batch ?? 100;
  helper.init(require.resolve('node-red'));
  helper.settings({ userDir: mkdtempSync(join(tmpdir(), `bench-${spec.suite}-`)), logging: { console: { level: 'off' } } });
  await new Promise<void>((r) => helper.startServer(r));
  const flow = spec.chains.flatMap((c) => [...c.nodes, ...(c.sink ? [{ id: c.sink, type: 'helper' }] : [])]);
  try {
    await helper.load(spec.modules, flow);
    dropTestHelperSpies(
      helper,
      flow.map((n) => (n as { id: string }).id),
    );
    interface Run {
      spec: ChainSpec;
      head: { receive(m: unknown): void };
      perInput: number;
      received: number;
      want: number;
      waiting?: () => void;
      latencies: number[];
      count: number;
      seconds: number;
      roundRates: number[];
      /** Inputs per CPU second of this process in each round (what another job on the machine does not change). */
      cpuRates: number[];
      notGood: number;
    }
    const runs: Run[] = spec.chains.map((c) => {
      const leaves = c.leaves ?? [];
      const run: Run = {
        spec: c,
        head: helper.getNode(c.head),
        perInput: Math.max(1, leaves.length),
        received: 0,
        want: 0,
        latencies: [],
        count: 0,
        seconds: 0,
        roundRates: [],
        cpuRates: [],
        notGood: 0,
      };
      const arrived = (msg: { _t: number; payload: { quality?: string } }) => {
        run.latencies.push(performance.now() - msg._t);
        if (msg.payload?.quality !== 'good') run.notGood++;
        if (++run.received === run.want) run.waiting?.();
      };
      if (c.sink) helper.getNode(c.sink).on('input', arrived);
      for (const id of leaves) {
        const leaf = helper.getNode(id) as { _complete(msg: unknown, err?: unknown): void };
        // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its node as `this` below
        const complete = leaf._complete;
        leaf._complete = function (msg, err) {
          arrived(msg as { _t: number; payload: { quality?: string } });
          complete.call(this, msg, err);
        };
      }
      return run;
    });
    let i = 0;
    const runFor = async (run: Run, ms: number, record: boolean): Promise<void> => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let count = 0;
      while (performance.now() < t0 + ms) {
        // A chain may drop a message (a detector emits no score for a skipped reading): wait for
        // what arrives, bounded, rather than for an exact count.
        run.want = run.received + batch * run.perInput;
        const done = new Promise<void>((r) => (run.waiting = r));
        for (let b = 0; b < batch; b++) {
          // Stamped on the literal message() returns, as a source node builds its message: a copy by
          // spread (`{ ...m, _t }`) gets a map outside V8's transition tree, and adding `_msgid` to it
          // then makes a new map per message, which slowed every property access in both chains
          // (about 3.5 µs of a bare node's 4.7 µs per message) and hid what the nodes themselves cost.
          const m = spec.message(i++) as { topic: string; payload: unknown; _t?: number };
          m._t = performance.now();
          run.head.receive(m);
        }
        await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
        count += batch;
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (record) {
        run.count += count;
        run.seconds += seconds;
        run.roundRates.push(count / seconds);
        run.cpuRates.push(count / ((cpu.user + cpu.system) / 1e6));
      }
    };
    for (const run of runs) await runFor(run, 500, false); // warm-up
    for (const run of runs) {
      run.latencies.length = 0;
      run.notGood = 0;
    }
    for (let round = 0; round < spec.rounds; round++) {
      for (const run of round % 2 === 0 ? runs : [...runs].reverse()) {
        progress(`${spec.suite}: Node-RED round ${round + 1}/${spec.rounds}: ${run.spec.name}`);
        await runFor(run, spec.roundMs, true);
      }
    }
    // The ratio is judged per CPU second of this process (process.cpuUsage, GC threads included): on a
    // machine shared with other jobs, wall-clock rounds swing by 2× between neighbours, CPU time does
    // not. The wall-clock ratio is printed beside it; on an idle machine the two agree.
    const baseWall = median(runs[0].roundRates);
    const baseCpu = median(runs[0].cpuRates);
    const target = spec.targetRatio ?? 0.8;
    const second = spec.secondTarget;
    const verdict = (ratio: number, t: number) => `target ≥ ${Math.round(t * 100)} %: ${ratio >= t ? 'met' : 'NOT met'}`;
    const list = (rs: number[]) => rs.map((r) => Math.round(r).toLocaleString('en-US')).join(', ');
    return runs.map((run) => {
      const wallRatio = median(run.roundRates) / baseWall;
      const ratio = median(run.cpuRates) / baseCpu;
      const pct = (r: number) => `${(r * 100).toFixed(0)} %`;
      return {
        suite: spec.suite,
        case: run.spec.name,
        baseline: run.spec.baseline || undefined,
        count: run.count,
        throughputPerS: run.count / run.seconds,
        ...latencyStats(run.latencies),
        ...memory(),
        note:
          `embedded Node-RED ${helper._RED?.version?.() ?? '4'} (node-red-node-test-helper, spies removed), ${batch} in flight per batch, ` +
          `${spec.rounds} alternating rounds of ${spec.roundMs} ms (per round: ${list(run.roundRates)}/s; per CPU second: ${list(run.cpuRates)})` +
          (run.spec.baseline
            ? ''
            : `; median round ${pct(ratio)} of the baseline chain per CPU second, ${pct(wallRatio)} by wall clock ` +
              `(${verdict(ratio, target)}${second ? `; ${second.label} ${verdict(ratio, second.ratio)}` : ''}); ` +
              `${run.notGood} of ${run.received} outputs not good`),
      };
    });
  } finally {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
  }
}
