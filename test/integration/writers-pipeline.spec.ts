// The writer pipeline (runtime/control/writer.ts) with the OPC UA transport of twin-opcua-write, the
// real file ledger and used-commands store, against a node-opcua server whose setpoint behaves like
// PLCs do: applied at once, applied a little after the write is acknowledged, or held by a local
// clamp. Covers what the node specs cannot arrange with the simulator: serialisation of concurrent
// commands, read-back retries, read-back tolerance, and a value that cannot be read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { SourceItems } from '../../runtime/ingest/source-items.js';
import type { OpcuaItem } from '../../runtime/ingest/opcua-config.js';
import { freePort } from '../support/ports.js';
import { recordApproval } from '../support/control-approval.js';

const KEY = 'test-signing-key-0123456789abcdef';
const ASSET = 'it/line1/extruder';
const TAG = 'zone1_sp';
/** An envelope without interlocks or input tags: the writer re-reads nothing besides its setpoint. */
const NO_INPUTS = { connection: 'it-endpoint', items: new SourceItems<OpcuaItem>() };

type PlcMode = { kind: 'immediate' } | { kind: 'delayed'; delayMs: number } | { kind: 'clamp'; max: number };

/** A setpoint that acknowledges writes Good and applies them as the mode says; records each write. */
async function startPlc(dir: string) {
  const port = await freePort();
  const cm = new OPCUACertificateManager({ rootFolder: join(dir, 'server-pki'), automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  const server = new OPCUAServer({
    port,
    hostname: '127.0.0.1',
    resourcePath: '/UA/Plc',
    serverCertificateManager: cm,
    allowAnonymous: true,
  });
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
        new DataValue({
          value: new Variant({ dataType: DataType.Double, value: plc.value }),
          statusCode: plc.readable ? StatusCodes.Good : StatusCodes.BadSensorFailure,
        }),
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
  return {
    plc,
    endpointUrl: `opc.tcp://127.0.0.1:${port}/UA/Plc`,
    stop: async () => {
      await server.shutdown(0);
      await cm.dispose();
    },
  };
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
    asset: ASSET,
    tag: TAG,
    unit: 'degC',
    lowLimit: 150,
    highLimit: 260,
    maxStep: 20,
    rateUpPerMin: 600,
    rateDownPerMin: 600,
    minDwellMs: 0,
    interlocks: [],
    inputTags: [],
    maxInputAgeMs: 10_000,
    minQuality: 'good',
    ramp: false,
  });
  const version = envelopeVersion(env);

  before(async function () {
    dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'writers-pipeline-'));
    srv = await startPlc(dir);
    conn = sessions.acquire({
      endpointUrl: srv.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      pkiDir: join(dir, 'client-pki'),
      acceptUnknownCertificates: true,
    });
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
    await recordApproval(ledger, { proposalId: 'p', asset: ASSET, tag: TAG }); // the writer writes approved changes only
    Object.assign(srv.plc, { mode: { kind: 'immediate' }, value: 190, writes: [], readable: true });
  });
  afterEach(async function () {
    await ledger.close();
    await used.close();
  });

  /** The ledger after the approval the specs start from. */
  const trail = async () => (await ledger.readAll()).filter((r) => r.type !== 'proposal' && r.type !== 'decision');
  const writer = (readBackTimeoutMs = 1000, readBackToleranceAbs?: number) =>
    new CommandWriter({
      writerId: 'it',
      key: KEY,
      target: { asset: ASSET, tag: TAG },
      envelope: env,
      envelopeVersion: version,
      usedCommands: used,
      ledger,
      transport: opcuaTransport(conn, `ns=1;s=${TAG}`, readBackTimeoutMs, NO_INPUTS),
      readBackToleranceAbs,
    });
  const command = (over: Partial<UnsignedCommand>) => {
    const now = Date.now();
    return signCommand(KEY, {
      proposalId: 'p',
      asset: ASSET,
      tag: TAG,
      value: 200,
      step: 1,
      steps: 1,
      fromValue: 190,
      issuedTsMs: now,
      expiresTsMs: now + 60_000,
      envelopeVersion: version,
      ...over,
    });
  };

  it('runs concurrent commands one after another: each step is checked against the value the one before wrote', async function () {
    const w = writer();
    // 190 → 205 → 220: each a 15 step from the value before it, 30 from 190. Interleaved, the
    // second would see 190 and be refused (or, without the check, jump 30 at once).
    const [a, b] = await Promise.all([
      w.execute(command({ value: 205, step: 1, steps: 2 })),
      w.execute(command({ value: 220, fromValue: 205, step: 2, steps: 2 })),
    ]);
    expect([a.result?.outcome, b.result?.outcome]).to.deep.equal(['written', 'written']);
    expect(srv.plc.writes).to.deep.equal([205, 220]);
    const recs = await trail();
    expect(recs.map((r) => [r.type, (r.data as { presentValue?: number }).presentValue])).to.deep.equal([
      ['write-intent', 190],
      ['write', 190],
      ['readback', undefined],
      ['write-intent', 205],
      ['write', 205],
      ['readback', undefined],
    ]);
  });

  it('a correctly signed command whose proposal the ledger never approved is refused NO_DECISION, and nothing reaches the PLC', async function () {
    const cmd = command({ proposalId: 'never-approved', value: 192 });
    const out = await writer().execute(cmd);
    expect(out.refusal).to.equal('NO_DECISION');
    expect(out.reason).to.match(/no approval of proposal never-approved/);
    expect(srv.plc.writes).to.deep.equal([]);
    expect(srv.plc.value).to.equal(190);
    const recs = await trail();
    expect(recs.map((r) => [r.type, (r.data as { refusal?: string }).refusal])).to.deep.equal([['refused', 'NO_DECISION']]);
    // not claimed: the id was never used, and a value beyond the approved change is refused alike
    expect(used.has(cmd.id)).to.equal(false);
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
    const rb = (await trail()).find((r) => r.type === 'readback');
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
      writerId: 'it',
      key: KEY,
      target: { asset: ASSET, tag: TAG },
      envelope: env,
      envelopeVersion: version,
      usedCommands: used,
      ledger,
      transport: opcuaTransport(conn, `ns=1;s=${TAG}`, 1000, NO_INPUTS),
      nowMs: () => (calls++ === 0 ? now : now + 5000),
    });
    const out = await w.execute(cmd);
    expect(out.refusal).to.equal('EXPIRED');
    expect(out.reason).to.match(/before it could be written/);
    expect(srv.plc.writes).to.deep.equal([]);
    expect((await trail()).map((r) => r.type)).to.deep.equal(['refused']);
  });

  it('a writer that may no longer write after its intent (its line taken over meanwhile) records the write failed and writes nothing', async function () {
    let owner = true;
    const w = new CommandWriter({
      writerId: 'it',
      key: KEY,
      target: { asset: ASSET, tag: TAG },
      envelope: env,
      envelopeVersion: version,
      usedCommands: used,
      ledger,
      transport: opcuaTransport(conn, `ns=1;s=${TAG}`, 1000, NO_INPUTS),
      mayWrite: () => (owner ? undefined : 'line p/a/l is owned by another instance now'),
    });
    expect((await w.execute(command({ value: 192 }))).result?.outcome).to.equal('written');
    owner = false;
    const out = await w.execute(command({ value: 194 }));
    expect(out.result?.outcome).to.equal('failed');
    expect(out.reason).to.equal('not written: line p/a/l is owned by another instance now');
    expect(srv.plc.writes).to.deep.equal([192]);
    expect((await trail()).map((r) => `${r.type}:${(r.data as { outcome?: string }).outcome ?? ''}`).slice(-2)).to.deep.equal([
      'write-intent:',
      'write:failed',
    ]);
  });

  describe('write-ahead intent and settling a command left open by a crash (never written twice)', function () {
    /**
     * The ledger as a process that dies at one append: `before` = it dies just before the record of
     * that type lands (the record is lost), `after` = just after it is durable. Either way the append
     * rejects, so the writer stops there, as a killed process would.
     */
    const dying = (inner: Ledger, type: string, when: 'before' | 'after'): Ledger => ({
      location: inner.location,
      readAll: () => inner.readAll(),
      close: async () => undefined,
      append: async (entry) => {
        if (entry.type !== type) return inner.append(entry);
        if (when === 'after') await inner.append(entry);
        throw new Error(`killed ${when} the ${type} record`);
      },
    });
    const writerOn = (l: Ledger, nowMs?: () => number, settleReadAttempts = 2) =>
      new CommandWriter({
        writerId: 'it',
        key: KEY,
        target: { asset: ASSET, tag: TAG },
        envelope: env,
        envelopeVersion: version,
        usedCommands: used,
        ledger: l,
        transport: opcuaTransport(conn, `ns=1;s=${TAG}`, 500, NO_INPUTS),
        nowMs,
        settleReadAttempts,
      });
    const types = async (id: string) =>
      (await trail())
        .filter((r) => (r.data as { commandId?: string }).commandId === id)
        .map((r) => `${r.type}:${(r.data as { outcome?: string }).outcome ?? ''}`);

    it('records the intent (command, value, present value) before the write, and the write only after it', async function () {
      const cmd = command({ value: 204 });
      // the plant's write handler sees the ledger as it is at the moment of the write
      let atWrite: string[] = [];
      const orig = srv.plc.writes.push.bind(srv.plc.writes);
      srv.plc.writes.push = (...v: number[]) => {
        // the file as it is on disk at this moment (synchronously: nothing can be appended meanwhile)
        atWrite = readFileSync(ledger.location, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => (JSON.parse(l) as { type: string }).type);
        return orig(...v);
      };
      try {
        await writer().execute(cmd);
      } finally {
        delete (srv.plc.writes as { push?: unknown }).push;
      }
      const recs = await trail();
      expect(recs[0]).to.include({ type: 'write-intent', proposalId: 'p' });
      // decisionSeq: the approval the writer found (the fixture's decision record, seq 1)
      expect(recs[0]!.data).to.include({
        commandId: cmd.id,
        decisionSeq: 1,
        value: 204,
        presentValue: 190,
        step: 1,
        steps: 1,
        toleranceAbs: 0.5,
        writer: 'it',
      });
      expect(atWrite, 'the ledger on disk when the plant took the value').to.deep.equal(['proposal', 'decision', 'write-intent']);
      expect(srv.plc.writes).to.deep.equal([204]);
    });

    it('killed after the plant took the value, before the write record: re-sent, it is settled as written and read back (plant confirmed), not written again', async function () {
      const cmd = command({ value: 204 });
      let err: Error | undefined;
      await writerOn(dying(ledger, 'write', 'before'))
        .execute(cmd)
        .catch((e: Error) => (err = e));
      expect(err?.message).to.match(/killed before the write record/);
      expect(srv.plc.writes).to.deep.equal([204]);
      expect(await types(cmd.id)).to.deep.equal(['write-intent:']);

      // "restart": a new writer over the same stores; the gate re-sends the same command
      const out = await writerOn(ledger).execute(cmd);
      expect(out.refusal).to.equal(undefined);
      expect(out.result).to.include({ commandId: cmd.id, outcome: 'written', readBackOk: true, readBackValue: 204 });
      expect(out.alarm).to.equal(false);
      expect(srv.plc.writes, 'never written twice').to.deep.equal([204]);
      expect(await types(cmd.id)).to.deep.equal(['write-intent:', 'write:written', 'readback:written']);
      const [, w, rb] = (await trail()).filter((r) => (r.data as { commandId?: string }).commandId === cmd.id);
      expect(w!.data).to.include({ settledAfterRestart: true, presentValue: 190, presentValueBefore: 190 });
      expect((rb!.data as { note: string }).note).to.match(
        /^plant confirmed after restart: it holds 204 .*reached it \(it held 190 before\)/,
      );

      // once settled, the ledger has its result: a further copy is a plain replay
      const again = await writerOn(ledger).execute(cmd);
      expect(again.refusal).to.equal('REPLAYED');
      expect(srv.plc.writes).to.deep.equal([204]);
    });

    it('killed right after the intent, before the write: settled as failed "not written before the crash"', async function () {
      const cmd = command({ value: 204 });
      await writerOn(dying(ledger, 'write-intent', 'after'))
        .execute(cmd)
        .catch(() => undefined);
      expect(srv.plc.writes).to.deep.equal([]);
      const out = await writerOn(ledger).execute(cmd);
      expect(out.result).to.include({ outcome: 'failed' });
      expect(out.reason).to.equal("not written before the crash: the plant holds 190, the command's value is 204 (tolerance 0.5)");
      expect(out.alarm).to.equal(true);
      expect(srv.plc.writes).to.deep.equal([]);
      expect(await types(cmd.id)).to.deep.equal(['write-intent:', 'write:failed']);
    });

    it('killed after the claim, before the intent: settled as failed without reading the plant (no intent, no write)', async function () {
      const cmd = command({ value: 204 });
      await writerOn(dying(ledger, 'write-intent', 'before'))
        .execute(cmd)
        .catch(() => undefined);
      expect(used.has(cmd.id)).to.equal(true);
      srv.plc.value = 204; // even a plant that happens to hold the value: this writer never wrote it
      const out = await writerOn(ledger).execute(cmd);
      expect(out.result).to.include({ outcome: 'failed' });
      expect(out.reason).to.match(/^not written before the crash: the command was claimed, but no write intent was recorded/);
      expect(srv.plc.writes).to.deep.equal([]);
      expect(await types(cmd.id)).to.deep.equal(['write:failed']);
    });

    it('killed after the write record, before the read-back: only the read-back is recorded after the restart', async function () {
      const cmd = command({ value: 204 });
      await writerOn(dying(ledger, 'readback', 'before'))
        .execute(cmd)
        .catch(() => undefined);
      const out = await writerOn(ledger).execute(cmd);
      expect(out.result).to.include({ outcome: 'written', readBackOk: true, readBackValue: 204 });
      expect(srv.plc.writes).to.deep.equal([204]);
      expect(await types(cmd.id)).to.deep.equal(['write-intent:', 'write:written', 'readback:written']);
    });

    it('a plant that cannot be read when settling: outcome unknown with the reason and an alarm; nothing written', async function () {
      const cmd = command({ value: 204 });
      await writerOn(dying(ledger, 'write', 'before'))
        .execute(cmd)
        .catch(() => undefined);
      srv.plc.readable = false;
      const out = await writerOn(ledger).execute(cmd);
      expect(out.result).to.include({ outcome: 'unknown' });
      expect(out.reason).to.match(
        /could not be read after a restart \(.*BadSensorFailure.*\): whether the write before the crash reached it is unknown/,
      );
      expect(out.alarm).to.equal(true);
      expect(srv.plc.writes).to.deep.equal([204]);
      expect(await types(cmd.id)).to.deep.equal(['write-intent:', 'write:unknown']);
    });

    it('a copy arriving after the setpoint was written again by a later command: unknown (the plant no longer tells), not failed', async function () {
      const a = command({ value: 204 });
      await writerOn(dying(ledger, 'write', 'before'))
        .execute(a)
        .catch(() => undefined);
      const b = await writerOn(ledger).execute(command({ value: 206, fromValue: 204 }));
      expect(b.result).to.include({ outcome: 'written', readBackOk: true });
      const out = await writerOn(ledger).execute(a);
      expect(out.result).to.include({ outcome: 'unknown' });
      expect(out.reason).to.match(/written again since \(command .+\): whether this command reached the plant before the crash is unknown/);
      expect(srv.plc.writes).to.deep.equal([204, 206]);
    });

    it('a command that expired while the process was down is still settled (settling writes nothing); one never claimed is refused as EXPIRED', async function () {
      const now = Date.now();
      const cmd = command({ value: 204, issuedTsMs: now, expiresTsMs: now + 1000 });
      await writerOn(dying(ledger, 'write', 'before'), () => now)
        .execute(cmd)
        .catch(() => undefined);
      const late = () => now + 60_000;
      const out = await writerOn(ledger, late).execute(cmd);
      expect(out.result).to.include({ outcome: 'written', readBackOk: true });
      expect(srv.plc.writes).to.deep.equal([204]);

      const unclaimed = command({ value: 206, issuedTsMs: now, expiresTsMs: now + 1000 });
      const refused = await writerOn(ledger, late).execute(unclaimed);
      expect(refused.refusal).to.equal('EXPIRED');
      expect(srv.plc.writes).to.deep.equal([204]);
    });

    it('a copy of a command arriving while it is being executed is refused as REPLAYED, not settled', async function () {
      srv.plc.mode = { kind: 'delayed', delayMs: 300 };
      const cmd = command({ value: 204 });
      // two writers (two nodes wired to one gate output), the same command at once
      const [a, b] = await Promise.all([writerOn(ledger).execute(cmd), writerOn(ledger).execute(cmd)]);
      expect([a.refusal, b.refusal].filter(Boolean)).to.deep.equal(['REPLAYED']);
      expect(srv.plc.writes).to.deep.equal([204]);
      expect((await types(cmd.id)).filter((t) => t.startsWith('write'))).to.deep.equal(['write-intent:', 'write:written']);
    });
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
