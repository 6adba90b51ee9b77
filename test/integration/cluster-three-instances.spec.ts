// Scale-out as plant IT runs it: a real 3-node Debian nats-server cluster (JetStream, leases at R3), a
// real Debian Mosquitto, and three `twinloop start --cluster … --lines … --instance A|B|C` processes
// (the built CLI, each its own Node-RED with the generated cluster flow: per line, twin-mqtt-in on the
// line's persistent session → twin-screen → twin-mqtt-out). Six simulated lines publish JSON readings
// of two sources each, whose values are per-source sequence numbers, in scans every SCAN_MS; an
// observer with a persistent session counts what the instances publish back as processed.
//
// Run 1 (baseline): each line held by exactly one instance (its lease stream and the instances' own
// "owns line" logs agree), 2 per instance (at most ⌈6/3⌉ + 1); every published (source, sequence)
// processed exactly once.
// Run 2: the instance holding most lines is SIGKILLed between two scans while the scans go on (no
// release: its leases run out); its lines are claimed by the survivors; every published (source,
// sequence) processed, 0 lost; duplicates counted. Printed: counts, kill → claim per line (the
// claim event's own time) and kill → first processed reading, against the lease. A survivor's approvals
// page (its cluster block) lists all 6 lines with their owners before the kill and after the takeover.
// Run 6 (the readings' half of the issue's run 6; the ledger's half is in cluster-leader-burst.spec.ts):
// the same with a nats-server SIGKILLed at the same moment, the leader of one of the victim's lease
// streams, so that line's takeover also waits for an election; the last instance takes every line.
//
// The kill comes after the victim has published the outputs of every reading it acknowledged to the
// broker: a reading acknowledged (PUBACK) but not yet handed on inside a killed process is not
// redelivered by the broker; that window is named in issue 16's report, not hidden here.
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import type { LineHolder } from '../../runtime/cluster/lease-view.js';
import { maxLinesPerInstance, type LeaseEvent } from '../../runtime/cluster/line-lease.js';
import { leaseStreamName } from '../../runtime/cluster/line-id.js';
import {
  holderCounts as counts,
  leaseView,
  lineOfAsset,
  ownedByLog,
  probeLines,
  startLineInstance,
  takeoverClaim,
  waitLinesSettled,
} from '../support/cluster-lines.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster, type NatsNode } from '../support/nats.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { endClient, publish, rawClient, subscribe } from '../support/mqtt-helpers.js';
import { waitFor } from '../support/ports.js';
import { adminToken, type TwinloopProcess } from '../support/twinloop-process.js';

const LINES = Array.from({ length: 6 }, (_, i) => `s3/area/line${i + 1}`);
const SOURCES = LINES.flatMap((l) => [`${l}/m1/speed`, `${l}/m1/temp`]);
const INSTANCES = ['A', 'B', 'C'] as const;
const LEASE_S = 3;
const SCAN_MS = 100;
const BIN = `${__dirname}/../../dist/bin/twinloop.js`;

/** What the observer saw: source → processed sequence numbers (in arrival order), and arrival times. */
class Processed {
  readonly bySource = new Map<string, number[]>();
  readonly lastAtMs = new Map<string, number>();
  probes = new Set<string>();
  add(topic: string, payload: Buffer): void {
    const r = JSON.parse(payload.toString()) as { asset: string; tag: string; value: number };
    if (r.tag === 'probe') {
      this.probes.add(lineOfAsset(r.asset));
      return;
    }
    const source = `${r.asset}/${r.tag}`;
    this.bySource.set(source, [...(this.bySource.get(source) ?? []), r.value]);
    this.lastAtMs.set(topic, performance.now());
  }
  /** Seen in [from, to) per source. */
  count(from: number, to: number): { processed: number; lost: number; duplicates: number; lostList: string[] } {
    let processed = 0;
    let duplicates = 0;
    const lostList: string[] = [];
    for (const s of SOURCES) {
      const seen = (this.bySource.get(s) ?? []).filter((v) => v >= from && v < to);
      processed += seen.length;
      duplicates += seen.length - new Set(seen).size;
      const set = new Set(seen);
      for (let q = from; q < to; q++) if (!set.has(q)) lostList.push(`${s}#${q}`);
    }
    return { processed, lost: lostList.length, duplicates, lostList };
  }
  /** Every source has every sequence in [from, to). */
  complete(from: number, to: number, sources: readonly string[] = SOURCES): boolean {
    return sources.every((s) => {
      const set = new Set(this.bySource.get(s) ?? []);
      for (let q = from; q < to; q++) if (!set.has(q)) return false;
      return true;
    });
  }
}

describe('cluster: 3 nats-server, Mosquitto, 3 `twinloop start --cluster` instances, 6 lines', function () {
  this.timeout(240_000);
  const natsBin = ensureDebianBinary('nats-server', 'nats-server');
  const mosqBin = ensureDebianBinary('mosquitto', 'mosquitto');
  let nats: NatsCluster;
  let mosq: Mosquitto;
  const inst = new Map<string, TwinloopProcess>();
  let pub: MqttClient | undefined;
  let obs: MqttClient | undefined;
  const seen = new Processed();
  let seq = 0;

  const view = (): Promise<LineHolder[]> => leaseView(nats, LINES);
  /** One scan: every source's next sequence number, published at QoS 1 (acknowledged by the broker). */
  const scan = async (): Promise<void> => {
    const tsMs = Date.now();
    await Promise.all(SOURCES.map((s) => publish(pub!, s, JSON.stringify({ value: seq, tsMs }))));
    seq++;
  };
  const scans = async (n: number, between?: (i: number) => Promise<void>): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      if (between) await between(i);
      await scan();
      await new Promise((r) => setTimeout(r, Math.max(0, SCAN_MS - (performance.now() - t0))));
    }
  };

  before(async function () {
    if (!natsBin || !mosqBin) this.skip();
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: npm run build first`);
    nats = await startNatsCluster(natsBin!, 3);
    mosq = await startMosquitto(mosqBin!);
    // the observer's session exists before any output is published
    obs = await rawClient(mosq.url, {
      protocolVersion: 5,
      clientId: 'spec3-observer',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    obs.on('message', (topic, payload) => seen.add(topic, payload));
    await subscribe(obs, 's3/area/+/+/twin/reading/+', 1);
    pub = await rawClient(mosq.url, { protocolVersion: 5, clientId: 'spec3-lines' });
    const started = await Promise.all(INSTANCES.map((name) => startLineInstance(nats, mosq.url, LINES, name, LEASE_S)));
    INSTANCES.forEach((name, i) => inst.set(name, started[i]!));
  });

  after(async function () {
    await endClient(pub);
    await endClient(obs);
    for (const tl of inst.values()) await tl.stop();
    await mosq?.stop();
    await nats?.stop();
  });

  it('run 1, baseline: each line held by exactly one instance, 2 each (≤ ⌈6/3⌉ + 1); published = processed per source and sequence', async function () {
    const share = maxLinesPerInstance(LINES.length, INSTANCES.length, 1);
    // every instance has joined (membership bucket) and the shares have settled
    await waitLinesSettled(nats, LINES, INSTANCES.length);
    // each line's session exists at the broker once its owner subscribed: probe until every line answers
    await probeLines(pub!, LINES, () => seen.probes);
    const before = await view();
    // ownership sampled through the run: a line never without a holder
    const samples: LineHolder[][] = [];
    const sampler = setInterval(
      () =>
        void view().then(
          (v) => samples.push(v),
          () => undefined,
        ),
      250,
    );
    const from = seq;
    try {
      await scans(50);
      await waitFor(() => seen.complete(from, seq), 30_000, 50, `every reading of run 1 processed`);
    } finally {
      clearInterval(sampler);
    }
    const after = await view();
    const c = seen.count(from, seq);
    const holders = (v: LineHolder[]) => LINES.map((l) => v.find((x) => x.line === l)!.holder);
    const changes = samples.reduce((n, v, i) => n + (i > 0 && holders(v).join() !== holders(samples[i - 1]!).join() ? 1 : 0), 0);
    console.log(
      `      run 1: ${SOURCES.length} sources × ${seq - from} scans: published ${SOURCES.length * (seq - from)}, processed ${c.processed}, ` +
        `lost ${c.lost}, duplicates ${c.duplicates}; lines per instance ${JSON.stringify(Object.fromEntries(counts(after)))} ` +
        `(at most ${share}); ownership changes during the run ${changes} (${samples.length} samples)`,
    );
    for (const v of [before, after, ...samples]) {
      expect(v.every((l) => l.holder !== undefined && (INSTANCES as readonly string[]).includes(l.holder))).to.equal(true);
      for (const n of counts(v).values()) expect(n).to.be.at.most(share);
    }
    // the instances' own view (their logs) agrees: each line owned by exactly one of them, the one its lease stream names
    for (const line of LINES) {
      const claimers = INSTANCES.filter((name) => ownedByLog(inst.get(name)!).has(line));
      expect(claimers, line).to.deep.equal([after.find((l) => l.line === line)!.holder]);
    }
    expect(c.lostList).to.deep.equal([]);
    expect(c.processed, 'each published reading processed exactly once').to.equal(SOURCES.length * (seq - from));
  });

  const alive = new Set<string>(INSTANCES);

  /**
   * SIGKILL the instance holding the most lines mid-run (with `withNats`, at the same moment the
   * nats-server that leads the lease stream of one of its lines): the survivors claim its lines after
   * the lease, 0 readings lost. Counts printed under `run`.
   */
  async function killMidRun(run: string, withNats: boolean): Promise<void> {
    const start = await view();
    // what a survivor's approvals page says of the lines (its cluster block: line → serving instance)
    const pageOwners = async (name: string): Promise<Record<string, string>> => {
      const tl = inst.get(name)!;
      const base = tl.url.replace(/\/?$/, '/');
      const token = await adminToken(tl.url, 'admin', tl.logins.admin!);
      const res = await fetch(`${base}twinloop/approvals/api/gates`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { cluster?: { owners?: Record<string, string> } };
      return body.cluster?.owners ?? {};
    };
    const pageMatches = async (name: string, holders: LineHolder[]): Promise<boolean> => {
      const o = await pageOwners(name).catch(() => ({}) as Record<string, string>);
      return LINES.every((l) => o[l] !== undefined && o[l] === holders.find((h) => h.line === l)?.holder);
    };
    const byCount = [...counts(start).entries()].sort((a, b) => b[1] - a[1]);
    const victim = byCount[0]![0];
    // the lines it holds when it dies (read again at the kill: a line it gave up cleanly before is no takeover)
    let victimLines = start.filter((l) => l.holder === victim).map((l) => l.line);
    const victimSources = SOURCES.filter((s) => victimLines.some((l) => s.startsWith(`${l}/`)));
    const survivors = [...alive].filter((n) => n !== victim);
    const pageOf = survivors[0]!;
    await waitFor(async () => pageMatches(pageOf, await view()), 30_000, 250, `${pageOf}'s approvals page lists all ${LINES.length} lines`);
    let natsVictim: NatsNode | undefined;
    const from = seq;
    const KILL_AT = 30;
    let killWallMs = 0;
    let killedAt = 0;
    let firstAfterKill: number | undefined;
    const lastBefore = new Map<string, number>();
    await scans(120, async (i) => {
      if (i !== KILL_AT) return;
      // between two scans: the victim has published the outputs of every reading the broker gave it
      await waitFor(() => seen.complete(from, seq, victimSources), 20_000, 10, "the victim's outputs so far");
      for (const s of victimSources) lastBefore.set(s, (seen.bySource.get(s) ?? []).length);
      victimLines = (await view()).filter((l) => l.holder === victim).map((l) => l.line);
      if (withNats) natsVictim = await nats.streamLeader(leaseStreamName(victimLines[0]!));
      killWallMs = Date.now();
      killedAt = performance.now();
      await Promise.all([inst.get(victim)!.kill(), natsVictim?.kill()]);
      alive.delete(victim);
      const watch = setInterval(() => {
        if (firstAfterKill !== undefined) return clearInterval(watch);
        if (victimSources.some((s) => (seen.bySource.get(s) ?? []).length > lastBefore.get(s)!)) {
          firstAfterKill = performance.now() - killedAt;
          clearInterval(watch);
        }
      }, 10);
    });
    // the victim's lines have new holders among the survivors
    const taken = (await waitFor(
      async () => {
        const v = await view().catch(() => undefined);
        if (!v) return false;
        return victimLines.every((l) => survivors.includes(v.find((x) => x.line === l)!.holder!)) && v;
      },
      60_000,
      100,
      "the victim's lines claimed by the survivors",
    )) as LineHolder[];
    await waitFor(() => seen.complete(from, seq), 60_000, 50, `every reading of ${run} processed`);
    // after the takeover, the survivor's page lists every line again, each with its new owner
    await waitFor(async () => pageMatches(pageOf, await view()), 30_000, 250, `${pageOf}'s approvals page lists all lines again`);
    const c = seen.count(from, seq);
    // each line's claim by its new holder and the event before it (the victim's last renewal), from the lease stream
    const handover = new Map<string, { claim: LeaseEvent; before: LeaseEvent }>();
    for (const l of victimLines) handover.set(l, await takeoverClaim(nats, l, taken.find((x) => x.line === l)!.seq, victim));
    const claimS = victimLines.map((l) => {
      const { claim } = handover.get(l)!;
      return `${l.split('/')[2]} → ${claim.owner} ${((claim.tsMs - killWallMs) / 1000).toFixed(1)} s`;
    });
    const share2 = maxLinesPerInstance(LINES.length, survivors.length, 1);
    console.log(
      `      ${run}: killed ${victim}${natsVictim ? ` and nats-server ${natsVictim.name} (leader of the lease stream of ${victimLines[0]!.split('/')[2]})` : ''} ` +
        `(held ${victimLines.length}: ${victimLines.map((l) => l.split('/')[2]).join(', ')}) after scan ${KILL_AT}; ` +
        `kill → claim: ${claimS.join('; ')} (lease ${LEASE_S} s); kill → first reading of its lines processed again ` +
        `${firstAfterKill === undefined ? '?' : (firstAfterKill / 1000).toFixed(1)} s\n` +
        `      ${run}: ${SOURCES.length} sources × ${seq - from} scans: published ${SOURCES.length * (seq - from)}, processed ${c.processed}, ` +
        `lost ${c.lost}, duplicates ${c.duplicates}; lines per instance now ${JSON.stringify(Object.fromEntries(counts(taken)))} (at most ${share2}); ` +
        `${pageOf}'s approvals page listed all ${LINES.length} lines with their owners before and after`,
    );
    expect(victimLines.length).to.be.greaterThan(0);
    for (const l of victimLines) {
      const { claim, before } = handover.get(l)!;
      expect(claim.kind, `${l}: claimed by a survivor`).to.equal('claim');
      expect(survivors as readonly string[], `${l}: claimed by a survivor`).to.include(claim.owner);
      // the lease's bound: the claim follows the victim's last renewal, a full lease after it (one machine, one clock)
      expect(before.owner, `${l}: the event before the claim`).to.equal(victim);
      expect(claim.tsMs - before.tsMs, `${l}: claimed only after the victim's lease ran out`).to.be.at.least(LEASE_S * 1000);
    }
    for (const n of counts(taken).values()) expect(n).to.be.at.most(share2);
    expect(c.lostList).to.deep.equal([]);
    if (natsVictim) await natsVictim.start();
  }

  it('run 2: one instance SIGKILLed mid-run: its lines claimed by the survivors after its lease, 0 readings lost', async function () {
    await killMidRun('run 2', false);
  });

  it('run 6: an instance and a nats-server SIGKILLed together: the last instance takes every line, 0 readings lost', async function () {
    await killMidRun('run 6', true);
  });
});
