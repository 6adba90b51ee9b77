/**
 * Issue 16, proof runs 5 and 6: a burst of supervisors' decisions on a line whose ledger is an R3
 * JetStream stream on a real 3-node nats-server cluster, with the stream's leader SIGKILLed in the
 * middle of the burst (run 5), and with one node down for a whole burst (run 6, partial).
 *
 * Real parts: the nats-server processes, one Node-RED runtime (node-red-node-test-helper) with
 * twin-ledger (storage jetstream, R3, signing key), four twin-approval gates (zone 1–3 and screw speed
 * setpoints, auto-approval off) and their twin-opcua-write writers, the plant simulator over OPC UA.
 * Decisions go through each gate's registered handle (what the approvals API's POST decide calls);
 * the four gates decide at the same time, so appends queue on the one ledger handle.
 *
 * What must hold after each burst: every decision acknowledged as ok has its record in the stream; the
 * appends the ledger acknowledged (onAppend fires only once an append is durable) are exactly the
 * stream, record for record; each message's Nats-Msg-Id is its record's hash, none twice; seq
 * contiguous; `twinloop ledger export` + `twinloop ledger verify` (with the key) pass; a decision the
 * gate refused has an error and no record; the plant saw exactly the approved values, in order, per tag.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { jetstreamManager } from '@nats-io/jetstream';
import type { GateHandle } from '../../runtime/control/gate-registry.js';
import type { Ledger } from '../../runtime/control/stores.js';
import type { LedgerRecord, Proposal } from '../../runtime/model/control.js';
import { ledgerStreamName } from '../../runtime/cluster/line-id.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster, type NatsNode } from '../support/nats.js';
import { waitFor } from '../support/ports.js';
import { helper } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { CLOSED_LOOP_NODES } from '../support/closed-loop-rig.js';
import { runTwinloop } from '../support/twinloop-cli.js';

const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'control', 'gate-registry.js')) as {
  findGate(id: string, kind: 'setpoint'): GateHandle<'setpoint'> | undefined;
};

const KEY = 'leader-burst-spec-signing-key-0123456789';
const LINE = 'spec/burst/line1';
const STREAM = ledgerStreamName(LINE);
/** The setpoints the simulator has, with where it starts them: one gate and one writer each. */
const SETPOINTS = [
  { tag: 'zone1_sp', unit: 'degC', start: 190 },
  { tag: 'zone2_sp', unit: 'degC', start: 205 },
  { tag: 'zone3_sp', unit: 'degC', start: 215 },
  { tag: 'screw_speed_sp', unit: 'rpm', start: 80 },
] as const;
const TERMINAL = new Set(['done', 'failed', 'blocked', 'expired', 'superseded', 'rejected']);
const node = (id: string) => helper.getNode(id) as unknown as NodeLike;

/** The loop with one gate and one writer per setpoint, all on one ledger; gate events to 'ev'. */
function burstFlow(plant: TestPlantSim, servers: string[]): object[] {
  const asset = plant.sim.asset;
  const item = (t: string) => ({ nodeId: `ns=1;s=extruder.${t}`, asset, tag: t });
  const flow: object[] = [
    {
      id: 'ep',
      type: 'twin-opcua-endpoint',
      endpointUrl: plant.endpoint,
      securityMode: 'None',
      securityPolicy: 'None',
      authMode: 'anonymous',
    },
    {
      id: 'in',
      type: 'twin-opcua-in',
      endpoint: 'ep',
      items: [...SETPOINTS.map((s) => item(s.tag)), item('mode'), item('alarm')],
      samplingIntervalMs: 200,
      deadband: 0,
      queueSize: 1,
      maxFutureMs: 5000,
      wires: [SETPOINTS.map((_, i) => `g${i}`)],
    },
    { id: 'led', type: 'twin-ledger', storage: 'jetstream', servers: servers.join(', '), line: LINE, replicas: 3, waitS: 30 },
    { id: 'ev', type: 'helper' },
  ];
  SETPOINTS.forEach((s, i) => {
    flow.push(
      {
        id: `e${i}`,
        type: 'twin-envelope',
        asset,
        tag: s.tag,
        unit: s.unit,
        lowLimit: s.start - 30,
        highLimit: s.start + 30,
        maxStep: 10,
        rateUpPerMin: 600,
        rateDownPerMin: 600,
        minDwellMs: 0,
        interlocks: [
          { tag: 'mode', op: '==', value: 1 },
          { tag: 'alarm', op: '==', value: 0 },
        ],
        inputTags: '',
        // twin-opcua-in reports by exception: mode and alarm keep the time of their first notification
        maxInputAgeMs: 600_000,
        minQuality: 'good',
        ramp: false,
        source: 'ep',
      },
      {
        id: `g${i}`,
        type: 'twin-approval',
        envelope: `e${i}`,
        ledger: 'led',
        twoPersonAboveStep: '',
        autoApproval: false,
        autoApprovalMaxStep: '',
        commandTtlMs: 60_000,
        wires: [[`w${i}`], ['ev']],
      },
      {
        id: `w${i}`,
        type: 'twin-opcua-write',
        endpoint: 'ep',
        nodeId: `ns=1;s=extruder.${s.tag}`,
        asset,
        tag: s.tag,
        envelope: `e${i}`,
        ledger: 'led',
        readBackTimeoutMs: 2000,
        wires: [[`g${i}`], []],
      },
    );
  });
  return flow;
}

function proposal(asset: string, tag: string, unit: string, from: number, to: number): Proposal {
  const now = Date.now();
  return {
    id: randomUUID(),
    asset,
    tag,
    currentValue: from,
    proposedValue: to,
    unit,
    rationale: `burst: ${tag} from ${from} to ${to}`,
    predictedEffect: {
      kpiTag: 'energy_per_kg',
      kpiUnit: 'kWh/kg',
      currentKpi: 0.31,
      predictedKpi: 0.3,
      lowKpi: 0.295,
      highKpi: 0.305,
      intervalPct: 90,
    },
    fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
    fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: from - 30, setpointMax: from + 30 },
    createdTsMs: now,
    expiresTsMs: now + 5 * 60_000,
    quality: 'good',
  };
}

interface DecisionTry {
  gate: number;
  tag: string;
  proposalId: string;
  verdict: 'approve' | 'reject';
  value: number;
  reason: string;
  ok: boolean;
  error?: string;
  /** The proposal's last state (approved: done / failed / ...). */
  end?: string;
}

describe('issue 16 runs 5–6: a burst of decisions through a SIGKILL of the ledger stream leader (3-node nats-server)', function () {
  this.timeout(180_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let plant: TestPlantSim;
  let tmp: string;
  let rec: Recorder;
  let ledger: Ledger;
  /** Every append the ledger acknowledged as durable, with when. */
  const acked: Array<{ rec: LedgerRecord; atMs: number }> = [];
  const events: Array<{ proposalId: string; state: string; record: LedgerRecord }> = [];
  /** Every setpoint write the simulated PLC accepted. */
  const plantWrites: Array<{ tag: string; value: number }> = [];
  const tries: DecisionTry[] = [];
  const current = new Map<string, number>();

  before(async function () {
    if (!bin) this.skip();
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'leader-burst-'));
    nats = await startNatsCluster(bin!, 3);
    plant = await startTestPlantSim({ publishIntervalMs: 200, onSetpointWrite: (tag, value) => plantWrites.push({ tag, value }) });
    for (const s of SETPOINTS) current.set(s.tag, s.start);
    helper.settings({ userDir: tempUserDir('nr-leader-burst-') });
    rec = recordNodeCalls();
    await new Promise<void>((r) => helper.startServer(() => r()));
    await helper.load(CLOSED_LOOP_NODES as never, burstFlow(plant, nats.servers) as never, { led: { signingKey: KEY } } as never);
    node('ev').on('input', (m: never) => events.push((m as { payload: (typeof events)[number] }).payload));
    ledger = await (helper.getNode('led') as unknown as { ledger(): Promise<Ledger> }).ledger();
    ledger.onAppend!((r) => acked.push({ rec: r, atMs: Date.now() }));
    expect((await ledger.readAll()).length, 'a fresh line').to.equal(0);
    for (const [i] of SETPOINTS.entries()) await waitUntil(() => registry.findGate(`g${i}`, 'setpoint'), 30_000, 20, `gate g${i}`);
  });

  after(async function () {
    rec?.restore();
    await helper.unload().catch(() => undefined);
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await plant?.stop();
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * One gate's part of a burst: `rounds` proposals, each decided (a third rejected); an approval is
   * followed to its end (written and read back) before the next proposal, as one open change per setpoint.
   */
  async function gateRounds(i: number, rounds: number, run: string, onDecision: () => void): Promise<void> {
    const { tag, unit, start } = SETPOINTS[i]!;
    const handle = registry.findGate(`g${i}`, 'setpoint')!;
    for (let j = 0; j < rounds; j++) {
      const from = current.get(tag)!;
      const verdict = (i + j) % 3 === 2 ? 'reject' : 'approve';
      // approved changes move between start and start − 2; a rejected one asks for x.5, which no approval does
      const value = verdict === 'approve' ? (from === start ? start - 2 : start) : from + 7.5;
      const p = proposal(plant.sim.asset, tag, unit, from, value);
      node(`g${i}`).receive({ topic: `${p.asset}/${tag}`, payload: p });
      await waitUntil(() => handle.views().some((v) => v.proposal.id === p.id && v.state === 'pending'), 90_000, 10, `${tag} pending`);
      const reason = `${run} ${tag} round ${j}`;
      onDecision();
      const out = await handle.decide({ proposalId: p.id, verdict, user: j % 2 ? 'alice' : 'bob', printedName: 'Burst', reason });
      const t: DecisionTry = { gate: i, tag, proposalId: p.id, verdict, value, reason, ok: out.ok };
      if (!out.ok) t.error = out.error;
      tries.push(t);
      if (!out.ok) continue;
      if (verdict === 'approve') {
        const last = await waitUntil(
          () => events.find((e) => e.proposalId === p.id && TERMINAL.has(e.state)),
          90_000,
          10,
          `${tag} round ${j} to end`,
        );
        t.end = last.state;
        if (last.state === 'done') current.set(tag, value);
      }
    }
  }

  /** The stream as the cluster has it: every message with its Msg-Id, read from the leader one by one. */
  async function streamMessages(expected: number): Promise<{ messages: number; firstSeq: number; lastSeq: number; ids: string[] }> {
    const nc = await nats.connect();
    try {
      const jsm = await jetstreamManager(nc);
      // a replica that just came back may answer before it caught up: ask until it has what was acknowledged
      const info = (await waitFor(
        async () => {
          const i = await jsm.streams.info(STREAM).catch(() => undefined);
          return i && i.state.messages >= expected ? i : undefined;
        },
        60_000,
        100,
        `stream info with ${expected} messages`,
      ))!;
      const ids: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await waitFor(() => jsm.streams.getMessage(STREAM, { seq }).catch(() => undefined), 30_000, 100, `message ${seq}`);
        ids.push(m!.header?.get('Nats-Msg-Id') ?? '');
      }
      return { messages: info.state.messages, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, ids };
    } finally {
      await nc.close();
    }
  }

  async function exportAndVerify(name: string): Promise<LedgerRecord[]> {
    const file = join(tmp, `${name}.jsonl`);
    const env = { TWINLOOP_SIGNING_KEY: KEY };
    const ex = await runTwinloop(['ledger', 'export', '--servers', nats.servers.join(','), '--line', LINE, '--out', file], env);
    expect(ex.code, ex.out).to.equal(0);
    const ver = await runTwinloop(['ledger', 'verify', file], env);
    expect(ver.code, ver.out).to.equal(0);
    expect(ver.out).to.match(/^ok \(chain \+ authenticity\)/);
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRecord);
  }

  /** Everything the burst's acknowledgements promised, against the stream; prints the counts. */
  async function checkBurst(run: string, burst: DecisionTry[]): Promise<void> {
    // quiet: every acknowledged decision's change has ended, and no append is still queued
    await waitFor(() => ledger.readAll().then((r) => r.length === acked.length), 30_000, 100, 'the ledger to settle');
    const records = await exportAndVerify(run);
    const stream = await streamMessages(acked.length);

    expect(
      records.map((r) => r.seq),
      'contiguous seq',
    ).to.deep.equal([...records.keys()]);
    expect(stream.firstSeq).to.equal(1);
    expect(stream.lastSeq).to.equal(stream.messages);
    expect(stream.messages, 'acknowledged appends = stream length').to.equal(acked.length);
    expect(
      records.map((r) => r.hash),
      'the acknowledged records are the stream, in order',
    ).to.deep.equal(acked.map((a) => a.rec.hash));
    expect(stream.ids, "each message's Nats-Msg-Id is its record's hash").to.deep.equal(records.map((r) => r.hash));
    expect(new Set(stream.ids).size, 'no record twice').to.equal(stream.ids.length);

    const bySeq = new Map(records.map((r) => [r.seq, r]));
    for (const e of events) expect(bySeq.get(e.record.seq)?.hash, `event ${e.state} of ${e.proposalId}`).to.equal(e.record.hash);
    const decisionRecord = (t: DecisionTry) =>
      records.find(
        (r) =>
          r.type === 'decision' && r.proposalId === t.proposalId && (r.data as { reason?: string; verdict?: string }).reason === t.reason,
      );
    const ok = burst.filter((t) => t.ok);
    const refused = burst.filter((t) => !t.ok);
    for (const t of ok) {
      const r = decisionRecord(t);
      expect(r, `decision ${t.reason} acknowledged ok has its record`).to.not.equal(undefined);
      expect((r!.data as { verdict: string }).verdict).to.equal(t.verdict);
    }
    for (const t of refused) {
      expect(t.error, `refused ${t.reason}: says why`).to.be.a('string').and.not.equal('');
      expect(decisionRecord(t), `refused ${t.reason}: no record`).to.equal(undefined);
    }
    expect(ok.length + refused.length).to.equal(burst.length);

    // the plant saw exactly the approved changes that were written, in order, per setpoint
    const written = tries.filter((t) => t.ok && t.verdict === 'approve' && t.end === 'done');
    for (const { tag } of SETPOINTS) {
      expect(
        plantWrites.filter((w) => w.tag === tag).map((w) => w.value),
        `${tag}: writes at the plant`,
      ).to.deep.equal(written.filter((t) => t.tag === tag).map((t) => t.value));
    }
    expect(
      plantWrites.some((w) => !Number.isInteger(w.value)),
      'a rejected value reached the plant',
    ).to.equal(false);

    const types = new Map<string, number>();
    for (const r of records) types.set(r.type, (types.get(r.type) ?? 0) + 1);
    const ends = new Map<string, number>();
    for (const t of burst.filter((x) => x.end)) ends.set(t.end!, (ends.get(t.end!) ?? 0) + 1);
    console.log(
      `      ${run}: ${burst.length} decisions (${ok.filter((t) => t.verdict === 'approve').length} approved, ` +
        `${ok.filter((t) => t.verdict === 'reject').length} rejected, ${refused.length} refused) over ${SETPOINTS.length} gates`,
    );
    console.log(`      approved changes ended: ${JSON.stringify(Object.fromEntries(ends))}`);
    console.log(
      `      stream ${STREAM}: ${stream.messages} messages = ${acked.length} acknowledged appends ` +
        `(${events.length} gate events so far); records ${JSON.stringify(Object.fromEntries(types))}`,
    );
    console.log(`      plant writes: ${plantWrites.length} (all of approved changes); export verified with the key`);
    for (const t of refused) console.log(`      refused: ${t.reason}: ${t.error}`);
  }

  /** Run `rounds` on every gate at once; `at(n)` is called as the n-th decision (1-based) is about to go out. */
  async function burst(run: string, rounds: number, at: (n: number) => void): Promise<DecisionTry[]> {
    const before = tries.length;
    let n = 0;
    await Promise.all(SETPOINTS.map((_, i) => gateRounds(i, rounds, run, () => at(++n))));
    return tries.slice(before);
  }

  it('run 5: the stream leader SIGKILLed mid-burst (restarted later): every acknowledged decision is in the stream once', async function () {
    const rounds = 12; // 48 decisions
    const leader = (await nats.streamLeader(STREAM))!;
    expect(leader, 'the ledger stream has a leader').to.not.equal(undefined);
    let killMs = 0;
    let killing: Promise<void> | undefined;
    let restarting: Promise<void> | undefined;
    const done = await burst('run 5', rounds, (n) => {
      if (n === 16) {
        killMs = Date.now();
        killing = leader.kill();
      }
      if (n === 36 && killing) restarting = killing.then(() => leader.start());
    });
    await killing;
    await (restarting ?? leader.start());
    expect(killMs, 'the kill happened').to.be.greaterThan(0);
    const after = acked.filter((a) => a.atMs >= killMs);
    const before = acked.filter((a) => a.atMs < killMs);
    expect(after.length, 'appends after the kill').to.be.greaterThan(0);
    expect(before.length, 'appends before the kill').to.be.greaterThan(0);
    const newLeader = await nats.streamLeader(STREAM);
    await checkBurst('run 5', done);
    console.log(
      `      killed leader ${leader.name} after decision 16 of ${done.length}; new leader ${newLeader?.name}; ` +
        `stall (kill → next durable append): ${after[0]!.atMs - killMs} ms; ` +
        `longest gap between appends: ${Math.max(...acked.slice(1).map((a, k) => a.atMs - acked[k]!.atMs))} ms`,
    );
  });

  it('run 6 (partial): a node down for a whole burst: every acknowledged decision is in the stream once', async function () {
    const leader = (await nats.streamLeader(STREAM))!;
    const victim = nats.nodes.find((n) => n.name !== leader.name) as NatsNode;
    await victim.kill();
    const before = acked.length;
    try {
      const done = await burst('run 6', 6, () => undefined); // 24 decisions
      expect(acked.length).to.be.greaterThan(before);
      await checkBurst('run 6', done);
      console.log(`      node ${victim.name} (a follower; leader ${leader.name}) down for the whole burst`);
    } finally {
      await victim.start();
    }
  });
});
