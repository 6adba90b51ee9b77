// The writer pipeline (runtime/control/writer.ts) with the OPC UA transport of twin-opcua-write, the
// real file ledger and used-commands store, against a node-opcua server whose setpoint behaves like
// PLCs do: applied at once, applied a little after the write is acknowledged, or held by a local
// clamp. Covers what the node specs cannot arrange with the simulator: serialisation of concurrent
// commands, read-back retries, read-back tolerance, and a value that cannot be read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DataType, DataValue, OPCUACertificateManager, OPCUAServer, StatusCodes, Variant, type StatusCode } from 'node-opcua';
import { signCommand, type UnsignedCommand } from '../../runtime/control/command.js';
import { envelopeVersion, validateEnvelope } from '../../runtime/control/envelope.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import { CommandWriter, defaultToleranceAbs, describeReceived } from '../../runtime/control/writer.js';
import { OpcuaSessionManager, type OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import { opcuaTransport } from '../../nodes/twin-opcua-write/opcua-transport.js';
import { freePort } from '../support/ports.js';

const KEY = 'test-signing-key-0123456789abcdef';
const ASSET = 'it/line1/extruder';
const TAG = 'zone1_sp';

type PlcMode = { kind: 'immediate' } | { kind: 'delayed'; delayMs: number } | { kind: 'clamp'; max: number };

/** A setpoint that acknowledges writes Good and applies them as the mode says; records each write. */
async function startPlc(dir: string) {
  const port = await freePort();
  const cm = new OPCUACertificateManager({ rootFolder: join(dir, 'server-pki'), automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  const server = new OPCUAServer({ port, hostname: '127.0.0.1', resourcePath: '/UA/Plc', serverCertificateManager: cm, allowAnonymous: true });
  await server.initialize();
  const ns = server.engine.addressSpace!.getOwnNamespace();
  const plc = { mode: { kind: 'immediate' } as PlcMode, value: 190, writes: [] as number[], readable: true };
  ns.addVariable({
    organizedBy: server.engine.addressSpace!.rootFolder.objects,
    browseName: TAG,
    nodeId: `s=${TAG}`,
    dataType: 'Double',
    accessLevel: 'CurrentRead | CurrentWrite',
    userAccessLevel: 'CurrentRead | CurrentWrite',
    minimumSamplingInterval: 100,
    value: {
      timestamped_get: () =>
        new DataValue({ value: new Variant({ dataType: DataType.Double, value: plc.value }), statusCode: plc.readable ? StatusCodes.Good : StatusCodes.BadSensorFailure }),
      timestamped_set: async (dv: DataValue): Promise<StatusCode> => {
        const v = dv.value.value as number;
        plc.writes.push(v);
        const m = plc.mode;
        if (m.kind === 'immediate') plc.value = v;
        else if (m.kind === 'delayed') setTimeout(() => (plc.value = v), m.delayMs);
        else plc.value = Math.min(v, m.max);
        return StatusCodes.Good;
      },
    },
  });
  await server.start();
  return { plc, endpointUrl: `opc.tcp://127.0.0.1:${port}/UA/Plc`, stop: async () => { await server.shutdown(0); await cm.dispose(); } };
}

describe('writer pipeline (OPC UA transport, file ledger, real server)', function () {
  this.timeout(60_000);
  let dir: string;
  let srv: Awaited<ReturnType<typeof startPlc>>;
  const sessions = new OpcuaSessionManager();
  let conn: OpcuaConnection;
  let ledger: Ledger;
  let used: UsedCommands;
  const env = validateEnvelope({
    asset: ASSET, tag: TAG, unit: 'degC', lowLimit: 150, highLimit: 260, maxStep: 20, rateUpPerMin: 600, rateDownPerMin: 600,
    minDwellMs: 0, interlocks: [], inputTags: [], maxInputAgeMs: 10_000, minQuality: 'good', ramp: false,
  });
  const version = envelopeVersion(env);

  before(async function () {
    dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'writers-pipeline-'));
    srv = await startPlc(dir);
    conn = sessions.acquire({ endpointUrl: srv.endpointUrl, securityMode: 'None', securityPolicy: 'None', pkiDir: join(dir, 'client-pki'), acceptUnknownCertificates: true });
    await conn.whenConnected(20_000);
  });
  after(async function () {
    await sessions.release(conn);
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async function () {
    const sub = mkdtempSync(join(dir, 'ledger-'));
    ledger = await openFileLedger(join(sub, 'l.jsonl'));
    used = await openUsedCommands(join(sub, 'l.jsonl.used'));
    Object.assign(srv.plc, { mode: { kind: 'immediate' }, value: 190, writes: [], readable: true });
  });
  afterEach(async function () {
    await ledger.close();
    await used.close();
  });

  const writer = (readBackTimeoutMs = 1000, readBackToleranceAbs?: number) =>
    new CommandWriter({
      writerId: 'it', key: KEY, target: { asset: ASSET, tag: TAG }, envelope: env, envelopeVersion: version,
      usedCommands: used, ledger, transport: opcuaTransport(conn, `ns=1;s=${TAG}`, readBackTimeoutMs), readBackToleranceAbs,
    });
  const command = (over: Partial<UnsignedCommand>) => {
    const now = Date.now();
    return signCommand(KEY, { proposalId: 'p', asset: ASSET, tag: TAG, value: 200, step: 1, steps: 1, fromValue: 190, issuedTsMs: now, expiresTsMs: now + 60_000, envelopeVersion: version, ...over });
  };

  it('runs concurrent commands one after another: each step is checked against the value the one before wrote', async function () {
    const w = writer();
    // 190 → 205 → 220: each a 15 step from the value before it, 30 from 190. Interleaved, the
    // second would see 190 and be refused (or, without the check, jump 30 at once).
    const [a, b] = await Promise.all([w.execute(command({ value: 205, step: 1, steps: 2 })), w.execute(command({ value: 220, fromValue: 205, step: 2, steps: 2 }))]);
    expect([a.result?.outcome, b.result?.outcome]).to.deep.equal(['written', 'written']);
    expect(srv.plc.writes).to.deep.equal([205, 220]);
    const recs = await ledger.readAll();
    expect(recs.map((r) => [r.type, (r.data as { presentValue?: number }).presentValue])).to.deep.equal([
      ['write', 190], ['readback', undefined], ['write', 205], ['readback', undefined],
    ]);
  });

  it('reads back until a PLC that applies the setpoint a little later has taken it', async function () {
    srv.plc.mode = { kind: 'delayed', delayMs: 300 };
    const out = await writer(3000).execute(command({ value: 204 }));
    expect(out.result).to.include({ outcome: 'written', readBackValue: 204, readBackOk: true });
    expect(out.alarm).to.equal(false);
  });

  it('a PLC that holds another value: the last value read is recorded as a mismatch, with an alarm', async function () {
    srv.plc.mode = { kind: 'clamp', max: 198 };
    const out = await writer(500).execute(command({ value: 204 }));
    expect(out.result).to.include({ outcome: 'written', readBackValue: 198, readBackOk: false });
    expect(out.alarm).to.equal(true);
    expect(out.reason).to.equal('read back 198, wrote 204 (tolerance 0.5)');
    const rb = (await ledger.readAll()).find((r) => r.type === 'readback');
    expect(rb?.data).to.include({ readBackOk: false, readBackValue: 198, toleranceAbs: 0.5 });
  });

  it('the default tolerance accepts a value the plant rounded; a tighter configured one does not', async function () {
    srv.plc.mode = { kind: 'clamp', max: 203.96 }; // e.g. a PLC that keeps a tenth of a degree less
    const dflt = await writer(300).execute(command({ value: 204 }));
    expect(dflt.result?.readBackOk).to.equal(true); // default tolerance for 204 is 0.5
    srv.plc.value = 190;
    const tight = await writer(300, 0.01).execute(command({ value: 204 }));
    expect(tight.result).to.include({ readBackOk: false, readBackValue: 203.96 });
  });

  it('a present value that cannot be read (bad status): failed with an alarm, nothing written, the command used up', async function () {
    srv.plc.readable = false;
    const cmd = command({ value: 204 });
    const out = await writer().execute(cmd);
    expect(out.result).to.include({ outcome: 'failed' });
    expect(out.reason).to.match(/cannot read the present value: .*BadSensorFailure/);
    expect(out.alarm).to.equal(true);
    expect(srv.plc.writes).to.deep.equal([]);
    expect(used.has(cmd.id)).to.equal(true);
    srv.plc.readable = true;
    const again = await writer().execute(cmd);
    expect(again.refusal).to.equal('REPLAYED');
    expect(srv.plc.writes).to.deep.equal([]);
  });

  it('a command that expires while the present value is being read is refused, not written', async function () {
    const now = Date.now();
    const cmd = command({ value: 204, issuedTsMs: now, expiresTsMs: now + 1000 });
    // a clock that has moved past the expiry once the read is done (as a slow reconnect would)
    let calls = 0;
    const w = new CommandWriter({
      writerId: 'it', key: KEY, target: { asset: ASSET, tag: TAG }, envelope: env, envelopeVersion: version,
      usedCommands: used, ledger, transport: opcuaTransport(conn, `ns=1;s=${TAG}`, 1000), nowMs: () => (calls++ === 0 ? now : now + 5000),
    });
    const out = await w.execute(cmd);
    expect(out.refusal).to.equal('EXPIRED');
    expect(out.reason).to.match(/before it could be written/);
    expect(srv.plc.writes).to.deep.equal([]);
    expect((await ledger.readAll()).map((r) => r.type)).to.deep.equal(['refused']);
  });

  it('default read-back tolerance is half a unit in the last decimal; received things are described within bounds', function () {
    expect(defaultToleranceAbs(204)).to.equal(0.5);
    expect(defaultToleranceAbs(201.5)).to.equal(0.05);
    expect(defaultToleranceAbs(-3.25)).to.be.closeTo(0.005, 1e-15);
    expect(describeReceived({ a: 1 })).to.equal('{"a":1}');
    expect(describeReceived('x'.repeat(1000))).to.have.length.below(700);
    const cyclic: Record<string, unknown> = { k: 1 };
    cyclic.self = cyclic;
    expect(describeReceived(cyclic)).to.equal('object with keys k, self');
  });
});
