/**
 * Latency from an approved, signed command entering the writer to the value reaching the OPC UA
 * server, beside a bare node-opcua client write of the same values in the same run.
 *
 * A node-opcua server (in this process, loopback) serves one Double setpoint whose setter stamps
 * each arriving value with performance.now(): that is "the value reached the server". Cases:
 *  - writer → server: CommandWriter (runtime/control/writer.ts) with the real file ledger and
 *    used-commands store (fsync), the shared OpcuaConnection and the twin-opcua-write transport:
 *    verify signature, claim (fsync), read the present value, envelope step check, write. Latency =
 *    execute() called → the server's setter ran. The whole pipeline (read-back + two more ledger
 *    appends with fsync) until the WriteResult is ready is a second row.
 *  - baseline: a bare node-opcua ClientSession.write of the same values, call → setter.
 *  - decide → server: the runtime Gate (what twin-approval's GateHandle.decide calls) approves a
 *    pending proposal; its decision and the signed command are fsync'ed to the ledger before the
 *    command is emitted; the command goes to the same writer. Latency = decide() called → setter ran.
 *  - the same through Node-RED: twin-approval → twin-opcua-write in an embedded runtime, decided
 *    through the registered GateHandle (what the supervisors' page calls).
 * Commands run one after another (a writer serialises them anyway), alternating 200 ↔ 201; the
 * envelope's rate limits are set out of the way (the gate would otherwise pace the changes).
 *
 * Run: npm run bench (wired by the lead), or `npx tsup && node dist/bench/approval-latency.js`.
 * Env: APPROVAL_BENCH_N (commands per case, default 300), APPROVAL_BENCH_NR_N (Node-RED case, 200).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AttributeIds,
  DataType,
  DataValue,
  OPCUACertificateManager,
  OPCUAClient,
  OPCUAServer,
  StatusCodes,
  Variant,
  type StatusCode,
} from 'node-opcua';
import { signCommand } from '../runtime/control/command.js';
import { envelopeVersion, validateEnvelope } from '../runtime/control/envelope.js';
import { openFileLedger } from '../runtime/control/file-ledger.js';
import { openUsedCommands } from '../runtime/control/file-used-commands.js';
import { CommandWriter, type WriterOutcome } from '../runtime/control/writer.js';
import { Gate } from '../runtime/control/gate.js';
import type { Command, Proposal } from '../runtime/model/control.js';
import { OpcuaSessionManager } from '../runtime/ingest/opcua-session.js';
import { opcuaTransport } from '../nodes/twin-opcua-write/opcua-transport.js';
import { SourceItems } from '../runtime/ingest/source-items.js';
import { latencyStats, memory, progress, progressDone, type BenchRow } from './harness.js';
import { dropTestHelperSpies } from './node-red-helper.js';

const N = Number(process.env.APPROVAL_BENCH_N ?? 300);
const N_NODE_RED = Number(process.env.APPROVAL_BENCH_NR_N ?? 200);
const WARMUP = 20;
const KEY = 'bench-signing-key-0123456789abcdef';
const ASSET = 'bench/line1/extruder';
const TAG = 'zone1_sp';
const NODE_ID = 'ns=1;s=bench.zone1_sp';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface BenchServer {
  endpointUrl: string;
  /** performance.now() of every value that reached the setter, in order. */
  arrivals: Array<{ value: number; atMs: number }>;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<BenchServer> {
  const port = await freePort();
  const cm = new OPCUACertificateManager({ rootFolder: join(dir, 'server-pki'), automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  const server = new OPCUAServer({
    port,
    hostname: '127.0.0.1',
    resourcePath: '/UA/Bench',
    serverCertificateManager: cm,
    allowAnonymous: true,
  });
  await server.initialize();
  const ns = server.engine.addressSpace!.getOwnNamespace();
  const arrivals: BenchServer['arrivals'] = [];
  let current = new DataValue({
    value: new Variant({ dataType: DataType.Double, value: 200 }),
    statusCode: StatusCodes.Good,
    sourceTimestamp: new Date(),
  });
  ns.addVariable({
    organizedBy: server.engine.addressSpace!.rootFolder.objects,
    browseName: 'zone1_sp',
    nodeId: 's=bench.zone1_sp',
    dataType: 'Double',
    accessLevel: 'CurrentRead | CurrentWrite',
    userAccessLevel: 'CurrentRead | CurrentWrite',
    minimumSamplingInterval: 100,
    value: {
      timestamped_get: () => current,
      timestamped_set: async (dv: DataValue): Promise<StatusCode> => {
        const atMs = performance.now();
        const value = dv.value.value as number;
        arrivals.push({ value, atMs });
        current = new DataValue({
          value: new Variant({ dataType: DataType.Double, value }),
          statusCode: StatusCodes.Good,
          sourceTimestamp: new Date(),
        });
        return StatusCodes.Good;
      },
    },
  });
  await server.start();
  return {
    endpointUrl: `opc.tcp://127.0.0.1:${port}/UA/Bench`,
    arrivals,
    async stop() {
      await server.shutdown(0);
      await cm.dispose();
    },
  };
}

/** Rate limits out of the way: the gate would otherwise pace the changes (that is not latency). */
const ENVELOPE = {
  asset: ASSET,
  tag: TAG,
  unit: 'degC',
  lowLimit: 150,
  highLimit: 260,
  maxStep: 5,
  rateUpPerMin: 1e9,
  rateDownPerMin: 1e9,
  minDwellMs: 0,
  interlocks: [],
  inputTags: [],
  maxInputAgeMs: 10_000,
  minQuality: 'good',
  ramp: false,
};

/** The bench stands in for twin-opcua-in on the envelope's source: its readings carry that origin. */
const ORIGIN = Object.freeze({ connection: 'ep', item: NODE_ID });

const valueAt = (i: number) => (i % 2 === 0 ? 201 : 200);

/** A proposal as twin-propose makes them (only what the gate reads matters here). */
function proposal(id: string, from: number, to: number, nowMs: number): Proposal {
  return {
    id,
    asset: ASSET,
    tag: TAG,
    currentValue: from,
    proposedValue: to,
    unit: 'degC',
    rationale: 'bench',
    predictedEffect: { kpiTag: 'energy_per_kg', currentKpi: 1, predictedKpi: 0.99, lowKpi: 0.98, highKpi: 1, intervalPct: 90 },
    fit: { method: 'bench', n: 100, r2: 0.9, rmse: 0.01 },
    fitRange: { fromTsMs: nowMs - 3_600_000, toTsMs: nowMs, setpointMin: 150, setpointMax: 260 },
    createdTsMs: nowMs,
    expiresTsMs: nowMs + 600_000,
    quality: 'good',
  };
}

/**
 * The same loop through Node-RED itself (embedded, test-helper spies removed): twin-approval →
 * twin-opcua-write (→ WriteResult wired back), decided through the GateHandle the supervisors'
 * page calls. Latency = GateHandle.decide() called → the server's setter ran.
 */
async function nodeRedCase(server: BenchServer, dir: string, n: number): Promise<number[]> {
  const helper = require('node-red-node-test-helper');
  const registry = require('../runtime/control/gate-registry.js') as typeof import('../runtime/control/gate-registry.js');
  const modules = ['twin-opcua-endpoint', 'twin-envelope', 'twin-ledger', 'twin-approval', 'twin-opcua-write'].map((t) =>
    require(join(__dirname, '..', 'nodes', t, `${t}.js`)),
  );
  helper.init(require.resolve('node-red'));
  helper.settings({ userDir: join(dir, 'nr'), logging: { console: { level: 'off' } } });
  await new Promise<void>((r) => helper.startServer(r));
  const flow = [
    {
      id: 'ep',
      type: 'twin-opcua-endpoint',
      endpointUrl: server.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      authMode: 'anonymous',
      acceptUnknownCertificates: true,
    },
    { id: 'env', type: 'twin-envelope', ...ENVELOPE, inputTags: '', source: 'ep' },
    { id: 'led', type: 'twin-ledger', path: join(dir, 'nr-ledger.jsonl') },
    {
      id: 'gate',
      type: 'twin-approval',
      envelope: 'env',
      ledger: 'led',
      twoPersonAboveStep: '',
      autoApproval: false,
      commandTtlMs: 60_000,
      wires: [['w'], []],
    },
    {
      id: 'w',
      type: 'twin-opcua-write',
      endpoint: 'ep',
      nodeId: NODE_ID,
      asset: ASSET,
      tag: TAG,
      envelope: 'env',
      ledger: 'led',
      readBackTimeoutMs: 2000,
      wires: [['gate'], []],
    },
  ];
  const latencies: number[] = [];
  try {
    await helper.load(modules, flow, { led: { signingKey: KEY } });
    dropTestHelperSpies(
      helper,
      flow.map((x) => x.id),
    );
    const gateNode = helper.getNode('gate') as { receive(m: unknown): void };
    const until = async (check: () => boolean, what: string) => {
      const end = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > end) throw new Error(`node-red case: timed out waiting for ${what}`);
        await new Promise((r) => setImmediate(r));
      }
    };
    // the gate registers once it has rebuilt its state from the ledger
    await until(() => registry.findGate('gate', 'setpoint') !== undefined, 'twin-approval to register its GateHandle');
    const handle = registry.findGate('gate', 'setpoint')!;
    const stateOf = (id: string) => handle.views().find((v) => v.proposal.id === id)?.state;
    for (let i = 0; i < WARMUP + n; i++) {
      const from = valueAt(i + 1);
      const to = valueAt(i);
      const nowMs = Date.now();
      gateNode.receive({
        topic: `${ASSET}/${TAG}`,
        payload: { asset: ASSET, tag: TAG, value: from, unit: 'degC', tsMs: nowMs, quality: 'good', source: 'bench', origin: ORIGIN },
      });
      const p = proposal(`nr-${i}`, from, to, nowMs);
      gateNode.receive({ topic: `${ASSET}/${TAG}`, payload: p });
      await until(() => stateOf(p.id) === 'pending', 'pending');
      const before = server.arrivals.length;
      const start = performance.now();
      const d = await handle.decide({
        proposalId: p.id,
        verdict: 'approve',
        user: 'bench',
        printedName: 'Bench Supervisor',
        reason: 'bench',
      });
      if (!d.ok) throw new Error(`node-red case decide: ${d.error}`);
      await until(() => server.arrivals.length > before, 'arrival');
      const a = server.arrivals[before];
      if (a.value !== to) throw new Error(`node-red case: ${a.value} arrived, ${to} expected`);
      if (i >= WARMUP) latencies.push(a.atMs - start);
      await until(() => stateOf(p.id) === 'done', 'done');
      if (i % 50 === 0) progress(`approval-latency node-red ${i}/${WARMUP + n}`);
    }
  } finally {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
  }
  return latencies;
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'twinloop-bench-approval-'));
  const server = await startServer(dir);
  const rows: BenchRow[] = [];
  const sessions = new OpcuaSessionManager();
  try {
    // --- baseline: bare node-opcua client write -------------------------------------------------
    const cm = new OPCUACertificateManager({ rootFolder: join(dir, 'client-pki'), automaticallyAcceptUnknownCertificate: true });
    await cm.initialize();
    const client = OPCUAClient.create({
      endpointMustExist: false,
      clientCertificateManager: cm,
      connectionStrategy: { maxRetry: 3, initialDelay: 100 },
    });
    await client.connect(server.endpointUrl);
    const session = await client.createSession();
    const bare: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < WARMUP + N; i++) {
      const before = server.arrivals.length;
      const start = performance.now();
      const status = await session.write({
        nodeId: NODE_ID,
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value: valueAt(i) } },
      });
      if (!status.isGood()) throw new Error(`baseline write: ${status.name}`);
      const a = server.arrivals[before];
      if (!a || a.value !== valueAt(i)) throw new Error('baseline: arrival not seen');
      if (i >= WARMUP) bare.push(a.atMs - start);
      if (i % 50 === 0) progress(`approval-latency baseline ${i}/${WARMUP + N}`);
    }
    const bareS = (performance.now() - t0) / 1000;
    await session.close();
    await client.disconnect();
    await cm.dispose();
    rows.push({
      suite: 'approval',
      case: 'bare node-opcua write → server',
      baseline: true,
      count: N,
      throughputPerS: (WARMUP + N) / bareS,
      ...latencyStats(bare),
      ...memory(),
    });

    // --- the writer pipeline ----------------------------------------------------------------------
    const env = validateEnvelope(ENVELOPE);
    const version = envelopeVersion(env);
    const ledger = await openFileLedger(join(dir, 'ledger.jsonl'));
    const used = await openUsedCommands(join(dir, 'ledger.jsonl.used'));
    const conn = sessions.acquire({
      endpointUrl: server.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      pkiDir: join(dir, 'twin-pki'),
      acceptUnknownCertificates: true,
    });
    await conn.whenConnected(20_000);
    const writer = new CommandWriter({
      writerId: 'bench',
      key: KEY,
      target: { asset: ASSET, tag: TAG },
      envelope: env,
      envelopeVersion: version,
      usedCommands: used,
      ledger,
      transport: opcuaTransport(conn, NODE_ID, 2000, { connection: 'bench', items: new SourceItems() }),
    });
    const toServer: number[] = [];
    const toResult: number[] = [];
    const t1 = performance.now();
    for (let i = 0; i < WARMUP + N; i++) {
      const nowMs = Date.now();
      const cmd = signCommand(KEY, {
        proposalId: `p-${i}`,
        asset: ASSET,
        tag: TAG,
        value: valueAt(i),
        unit: 'degC',
        step: 1,
        steps: 1,
        fromValue: valueAt(i + 1),
        issuedTsMs: nowMs,
        expiresTsMs: nowMs + 60_000,
        envelopeVersion: version,
      });
      const before = server.arrivals.length;
      const start = performance.now();
      const out = await writer.execute(cmd);
      const end = performance.now();
      if (out.result?.outcome !== 'written' || out.result.readBackOk !== true)
        throw new Error(`writer: ${out.reason ?? out.result?.outcome}`);
      const a = server.arrivals[before];
      if (!a || a.value !== valueAt(i)) throw new Error('writer: arrival not seen');
      if (i >= WARMUP) {
        toServer.push(a.atMs - start);
        toResult.push(end - start);
      }
      if (i % 50 === 0) progress(`approval-latency writer ${i}/${WARMUP + N}`);
    }
    const writerS = (performance.now() - t1) / 1000;
    progressDone();

    const records = (await ledger.readAll()).length; // before the gate adds its own
    const ratio = (a: number | undefined, b: number | undefined) => ((a ?? NaN) / (b ?? NaN)).toFixed(1);
    const base = latencyStats(bare);
    const srv = latencyStats(toServer);
    rows.push({
      suite: 'approval',
      case: 'signed command → twin writer → server',
      count: N,
      throughputPerS: (WARMUP + N) / writerS,
      ...srv,
      ...memory(),
      note: `verify + claim (fsync) + read present value + envelope step check + write; p50 ${ratio(srv.p50Ms, base.p50Ms)}× the bare write`,
    });
    rows.push({
      suite: 'approval',
      case: 'signed command → WriteResult (read back, ledger)',
      count: N,
      ...latencyStats(toResult),
      ...memory(),
      note: `+ read-back + 'write' and 'readback' ledger appends (fsync); ${records} ledger records`,
    });

    // --- the approval gate too: GateHandle.decide → signed command → writer → server ---------------
    // The runtime Gate behind twin-approval's GateHandle (same ledger, fsync'ed decision and command
    // records before the command is emitted), wired to the writer as the flow wires the nodes.
    const gate = await Gate.open({
      config: {
        envelope: env,
        envelopeVersion: version,
        twoPersonAboveStep: Infinity,
        autoApproval: { enabled: false, maxStep: 0 },
        commandTtlMs: 60_000,
        signingKey: KEY,
      },
      ledger,
    });
    // the writer starts on the command the moment the gate emits it (as a wire would deliver it)
    const issued: Array<(c: Command) => void> = [];
    gate.commands$.subscribe(({ command }) => issued.shift()?.(command));
    void gate.start(); // settles with its first tick; the rounds below wait for their own answers
    const decideToServer: number[] = [];
    const t2 = performance.now();
    for (let i = 0; i < WARMUP + N; i++) {
      const from = valueAt(i + 1);
      const to = valueAt(i);
      const nowMs = Date.now();
      await gate.reading({ asset: ASSET, tag: TAG, value: from, unit: 'degC', tsMs: nowMs, quality: 'good', source: 'bench' });
      const p = proposal(`g-${i}`, from, to, nowMs);
      const po = await gate.proposal(p);
      if (!po.ok) throw new Error(`gate proposal: ${po.error}`);
      const before = server.arrivals.length;
      const written = new Promise<WriterOutcome>((resolve) => issued.push((c) => resolve(writer.execute(c))));
      const start = performance.now();
      const d = await gate.decide({
        proposalId: p.id,
        verdict: 'approve',
        user: 'bench',
        printedName: 'Bench Supervisor',
        reason: 'bench',
      });
      if (!d.ok) throw new Error(`gate decide: ${d.error}`);
      const out = await written;
      if (out.result?.outcome !== 'written' || out.result.readBackOk !== true)
        throw new Error(`gate → writer: ${out.reason ?? out.result?.outcome}`);
      const a = server.arrivals[before];
      if (!a || a.value !== to) throw new Error('gate → writer: arrival not seen');
      if (i >= WARMUP) decideToServer.push(a.atMs - start);
      await gate.result(out.result); // closes the proposal (done), as the wire back to twin-approval does
      if (i % 50 === 0) progress(`approval-latency gate ${i}/${WARMUP + N}`);
    }
    const gateS = (performance.now() - t2) / 1000;
    gate.close();
    const g = latencyStats(decideToServer);
    rows.push({
      suite: 'approval',
      case: 'GateHandle.decide → gate → writer → server',
      count: N,
      throughputPerS: (WARMUP + N) / gateS,
      ...g,
      ...memory(),
      note: `decision and signed command recorded (fsync) before the command leaves the gate, then the writer path above; p50 ${ratio(g.p50Ms, base.p50Ms)}× the bare write`,
    });
    await sessions.release(conn);
    await ledger.close();
    await used.close();

    const nr = latencyStats(await nodeRedCase(server, dir, N_NODE_RED));
    progressDone();
    rows.push({
      suite: 'approval',
      case: 'Node-RED: GateHandle.decide → twin-approval → twin-opcua-write → server',
      count: N_NODE_RED,
      ...nr,
      ...memory(),
      note: `embedded Node-RED (test-helper spies removed), the page's decide call; p50 ${ratio(nr.p50Ms, base.p50Ms)}× the bare write`,
    });
  } finally {
    progressDone();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  run().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
