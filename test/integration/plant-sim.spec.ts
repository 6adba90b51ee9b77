// The plant simulator against real clients: a node-opcua client (browse, read, subscribe, write,
// security + user/password), an in-process aedes broker (JSON UNS, Sparkplug B births/data/rebirth,
// NDEATH as will), and the CLI as a child process.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  AttributeIds,
  BrowseDirection,
  ClientSubscription,
  DataValue,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  ClientMonitoredItem,
  DataType,
  type ClientSession,
} from 'node-opcua';
import { decodeSparkplugPayload, encodeSparkplugPayload, parseSparkplugTopic } from '../../runtime/ingest/sparkplug-codec.js';
import { TAG_NAMES, sparkplugAlias, OPCUA_NAMESPACE_URI } from '../../examples/plant-sim/index.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { startTestPlantSim, type TestPlantSim } from '../support/plant-sim.js';
import { freePort, waitFor } from '../support/ports.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const tmp = (p: string) => mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), p));
const ROOT = join(__dirname, '..', '..');

describe('plant simulator (integration)', function () {
  this.timeout(60_000);

  describe('OPC UA server', function () {
    let plant: TestPlantSim;
    let client: OPCUAClient;
    let session: ClientSession;
    const clientPki = tmp('plant-sim-client-pki-');

    function newClient(securityMode = MessageSecurityMode.None, securityPolicy = SecurityPolicy.None): OPCUAClient {
      return OPCUAClient.create({
        applicationName: 'plant-sim-spec',
        securityMode,
        securityPolicy,
        endpointMustExist: false,
        connectionStrategy: { maxRetry: 1, initialDelay: 100, maxDelay: 200 },
        clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
      });
    }

    before(async function () {
      // Manual clock: the test decides when simulated time moves, so values and timestamps are exact.
      plant = await startTestPlantSim({
        clock: 'manual',
        startTsMs: T0,
        publishIntervalMs: 1000,
        seed: 5,
        opcuaUser: 'operator',
        opcuaPassword: 's3cret-pw',
      });
      client = newClient();
      await client.connect(plant.endpoint);
      session = await client.createSession();
    });
    after(async function () {
      await session?.close().catch(() => undefined);
      await client?.disconnect();
      await plant?.stop();
    });

    it('serves the contract endpoint and namespace', async function () {
      expect(plant.endpoint).to.equal(`opc.tcp://127.0.0.1:${plant.port}/UA/TwinLoopSim`);
      const ns = await session.read({ nodeId: 'i=2255', attributeId: AttributeIds.Value });
      expect(ns.value.value[1]).to.equal(OPCUA_NAMESPACE_URI);
    });

    it('browses Objects/Extruder with every tag as ns=1;s=extruder.<tag>', async function () {
      const objects = await session.browse({ nodeId: 'i=85', browseDirection: BrowseDirection.Forward, resultMask: 63 });
      const extruder = objects.references!.find((r) => r.browseName.name === 'Extruder');
      expect(extruder, 'Extruder under Objects').to.not.equal(undefined);
      const children = await session.browse({ nodeId: extruder!.nodeId, browseDirection: BrowseDirection.Forward, resultMask: 63 });
      const ids = children.references!.map((r) => r.nodeId.toString()).filter((id) => id.startsWith('ns=1;s=extruder.'));
      expect(ids.sort()).to.deep.equal(TAG_NAMES.map((t) => `ns=1;s=extruder.${t}`).sort());
    });

    it('reads values with source timestamps in simulated time, EURange and units', async function () {
      plant.sim.advance(5000);
      const [temp, count, mode] = await session.read(
        [
          { nodeId: 'ns=1;s=extruder.zone1_temp', attributeId: AttributeIds.Value },
          { nodeId: 'ns=1;s=extruder.part_count', attributeId: AttributeIds.Value },
          { nodeId: 'ns=1;s=extruder.mode', attributeId: AttributeIds.Value },
        ],
        TimestampsToReturn.Both,
      );
      expect(temp.statusCode.isGood()).to.equal(true);
      expect(temp.value.dataType).to.equal(DataType.Double);
      expect(temp.value.value).to.equal(plant.sim.snapshot().readings.zone1_temp.value);
      expect(temp.sourceTimestamp!.getTime()).to.equal(T0 + 5000);
      expect(count.value.dataType).to.equal(DataType.UInt32);
      expect(mode.value.value).to.equal(1);
      const props = await session.browse({
        nodeId: 'ns=1;s=extruder.zone1_temp',
        browseDirection: BrowseDirection.Forward,
        resultMask: 63,
      });
      const eu = props.references!.find((r) => r.browseName.name === 'EURange')!;
      const units = props.references!.find((r) => r.browseName.name === 'EngineeringUnits')!;
      const [range, unit] = await session.read([
        { nodeId: eu.nodeId, attributeId: AttributeIds.Value },
        { nodeId: units.nodeId, attributeId: AttributeIds.Value },
      ]);
      expect(range.value.value.low).to.equal(0);
      expect(range.value.value.high).to.equal(350);
      expect(unit.value.value.displayName.text).to.match(/°C|degC/);
    });

    it('notifies subscribers of each new sample', async function () {
      const sub = ClientSubscription.create(session, {
        requestedPublishingInterval: 50,
        publishingEnabled: true,
        requestedMaxKeepAliveCount: 10,
        requestedLifetimeCount: 100,
      });
      const item = ClientMonitoredItem.create(
        sub,
        { nodeId: 'ns=1;s=extruder.melt_pressure', attributeId: AttributeIds.Value },
        { samplingInterval: 0, queueSize: 100, discardOldest: false },
        TimestampsToReturn.Both,
      );
      const seen: DataValue[] = [];
      item.on('changed', (dv: DataValue) => seen.push(dv));
      await waitFor(() => seen.length >= 1, 10_000, 25, 'initial notification');
      const start = plant.sim.simTimeMs;
      for (let i = 0; i < 3; i++) {
        plant.sim.advance(1000);
        const n = seen.length;
        await waitFor(() => seen.length > n, 10_000, 25, `notification ${i}`);
      }
      await sub.terminate();
      const stamps = seen.slice(-3).map((d) => d.sourceTimestamp!.getTime());
      expect(stamps).to.deep.equal([start + 1000, start + 2000, start + 3000]);
    });

    it('takes a setpoint write into the process (the zone heats up)', async function () {
      const before = plant.sim.snapshot().truth.zone2_temp;
      const st = await session.write({
        nodeId: 'ns=1;s=extruder.zone2_sp',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value: before + 20 } },
      });
      expect(st.name).to.equal('Good');
      const readBack = await session.read({ nodeId: 'ns=1;s=extruder.zone2_sp', attributeId: AttributeIds.Value });
      expect(readBack.value.value).to.equal(before + 20);
      plant.sim.advance(240_000); // two time constants of zone 2
      const temp = await session.read({ nodeId: 'ns=1;s=extruder.zone2_temp', attributeId: AttributeIds.Value });
      expect(temp.value.value).to.be.above(before + 15);
    });

    it('refuses writes outside the PLC limits (BadOutOfRange) and leaves the setpoint', async function () {
      const sp = (await session.read({ nodeId: 'ns=1;s=extruder.screw_speed_sp', attributeId: AttributeIds.Value })).value.value;
      const st = await session.write({
        nodeId: 'ns=1;s=extruder.screw_speed_sp',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value: 150 } },
      });
      expect(st.name).to.equal('BadOutOfRange');
      expect((await session.read({ nodeId: 'ns=1;s=extruder.screw_speed_sp', attributeId: AttributeIds.Value })).value.value).to.equal(sp);
      expect(plant.sim.snapshot().truth.screw_speed_sp).to.equal(sp);
      const ro = await session.write({
        nodeId: 'ns=1;s=extruder.zone1_temp',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value: 100 } },
      });
      expect(ro.isGood()).to.equal(false);
    });

    it('injects faults through sim.fault_command: a dropout reads BadSensorFailure', async function () {
      const st = await session.write({
        nodeId: 'ns=1;s=sim.fault_command',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.String, value: 'dropout vibration' } },
      });
      expect(st.name).to.equal('Good');
      plant.sim.advance(1000);
      const v = await session.read({ nodeId: 'ns=1;s=extruder.vibration', attributeId: AttributeIds.Value });
      expect(v.statusCode.name).to.equal('BadSensorFailure');
      const bad = await session.write({
        nodeId: 'ns=1;s=sim.fault_command',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.String, value: 'explode vibration' } },
      });
      expect(bad.isGood()).to.equal(false);
      await session.write({
        nodeId: 'ns=1;s=sim.fault_command',
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.String, value: 'clear' } },
      });
      plant.sim.advance(1000);
      expect((await session.read({ nodeId: 'ns=1;s=extruder.vibration', attributeId: AttributeIds.Value })).statusCode.isGood()).to.equal(
        true,
      );
    });

    it('offers None, Sign and SignAndEncrypt with the three policies', async function () {
      const endpoints = await client.getEndpoints();
      const pairs = new Set(endpoints.map((e) => `${MessageSecurityMode[e.securityMode]}:${(e.securityPolicyUri ?? '').split('#')[1]}`));
      expect(pairs).to.include('None:None');
      for (const mode of ['Sign', 'SignAndEncrypt']) {
        for (const pol of ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']) expect(pairs).to.include(`${mode}:${pol}`);
      }
    });

    it('accepts the configured user over SignAndEncrypt and refuses a wrong password', async function () {
      const secure = newClient(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Aes256_Sha256_RsaPss);
      await secure.connect(plant.endpoint);
      try {
        const s = await secure.createSession({ type: UserTokenType.UserName, userName: 'operator', password: 's3cret-pw' });
        const v = await s.read({ nodeId: 'ns=1;s=extruder.melt_temp', attributeId: AttributeIds.Value });
        expect(v.statusCode.isGood()).to.equal(true);
        await s.close();
        let refused: Error | undefined;
        try {
          await secure.createSession({ type: UserTokenType.UserName, userName: 'operator', password: 'wrong' });
        } catch (err) {
          refused = err as Error;
        }
        expect(refused?.message).to.match(/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/);
      } finally {
        await secure.disconnect();
      }
    });
  });

  describe('MQTT publishing', function () {
    let broker: AedesBroker;
    let plant: TestPlantSim;
    let listener: MqttClient;
    const messages: Array<{ topic: string; payload: Buffer }> = [];
    const PREFIX = 'test/plant1/extrusion/line1';

    before(async function () {
      broker = await startAedes();
      listener = await connectAsync(broker.url, { clientId: `plant-sim-spec-${process.pid}` });
      listener.on('message', (topic, payload) => messages.push({ topic, payload }));
      await listener.subscribeAsync([`${PREFIX}/#`, 'spBv1.0/#']);
      plant = await startTestPlantSim({
        opcua: false,
        clock: 'manual',
        startTsMs: T0,
        publishIntervalMs: 1000,
        mqttUrl: broker.url,
        prefix: PREFIX,
      });
      // The NBIRTH is sent when the simulator's client connects.
      await waitFor(() => messages.some((m) => m.topic === 'spBv1.0/plant1/DBIRTH/line1/extruder'), 10_000, 25, 'DBIRTH');
    });
    after(async function () {
      await plant?.stop();
      await listener?.endAsync();
      await broker?.stop();
    });

    const since = (n: number) => messages.slice(n);

    it('publishes every tag as unified-namespace JSON', async function () {
      const n = messages.length;
      plant.sim.advance(1000);
      await waitFor(() => since(n).filter((m) => m.topic.startsWith(PREFIX)).length >= TAG_NAMES.length, 10_000, 25, 'JSON samples');
      const json = since(n).filter((m) => m.topic.startsWith(PREFIX));
      expect(json.map((m) => m.topic).sort()).to.deep.equal(TAG_NAMES.map((t) => `${PREFIX}/extruder/${t}`).sort());
      const snap = plant.sim.snapshot();
      const temp = JSON.parse(json.find((m) => m.topic.endsWith('/zone1_temp'))!.payload.toString());
      expect(temp).to.deep.equal({ value: snap.readings.zone1_temp.value, tsMs: T0 + 1000, quality: 'good', unit: 'degC' });
      const mode = JSON.parse(json.find((m) => m.topic.endsWith('/mode'))!.payload.toString());
      expect(mode).to.deep.equal({ value: 1, tsMs: T0 + 1000, quality: 'good' });
    });

    it('a sensor dropout is published as quality bad', async function () {
      plant.sim.injectFault({ tag: 'melt_temp', kind: 'dropout' });
      const n = messages.length;
      plant.sim.advance(1000);
      await waitFor(() => since(n).some((m) => m.topic === `${PREFIX}/extruder/melt_temp`), 10_000, 25, 'melt_temp');
      const body = JSON.parse(
        since(n)
          .find((m) => m.topic === `${PREFIX}/extruder/melt_temp`)!
          .payload.toString(),
      );
      expect(body.quality).to.equal('bad');
      expect(body.qualityReason).to.equal('BadSensorFailure');
      await waitFor(() => since(n).some((m) => m.topic.includes('/DDATA/')), 10_000, 25, 'DDATA');
      const dd = decodeSparkplugPayload(since(n).find((m) => m.topic.includes('/DDATA/'))!.payload);
      const metric = dd.metrics.find((m) => m.alias === sparkplugAlias('melt_temp'));
      // On the wire the metric has isNull = true; sparkplug-payload decodes that as value null
      // (the shared codec does not surface an isNull flag on decode).
      expect(metric, 'melt_temp metric in DDATA').to.not.equal(undefined);
      expect(metric!.value).to.equal(null);
      plant.sim.clearFaults();
    });

    it('sends NBIRTH (bdSeq, rebirth control) and DBIRTH with every tag, alias and unit', function () {
      const nbirth = messages.find((m) => m.topic === 'spBv1.0/plant1/NBIRTH/line1')!;
      const nb = decodeSparkplugPayload(nbirth.payload);
      expect(nb.seq).to.equal(0);
      expect(nb.metrics.map((m) => m.name)).to.include.members(['bdSeq', 'Node Control/Rebirth']);
      const db = decodeSparkplugPayload(messages.find((m) => m.topic === 'spBv1.0/plant1/DBIRTH/line1/extruder')!.payload);
      expect(db.seq).to.equal(1);
      expect(db.metrics.map((m) => m.name)).to.deep.equal([...TAG_NAMES]);
      for (const m of db.metrics) expect(m.alias).to.equal(sparkplugAlias(m.name as never));
      expect(db.metrics.find((m) => m.name === 'zone1_temp')!.unit).to.equal('degC');
      expect(db.metrics.find((m) => m.name === 'part_count')!.type).to.equal('UInt32');
    });

    it('sends DDATA with changed metrics by alias only, seq counting up', async function () {
      const n = messages.length;
      plant.sim.advance(3000);
      await waitFor(() => since(n).filter((m) => m.topic === 'spBv1.0/plant1/DDATA/line1/extruder').length >= 3, 10_000, 25, 'DDATA');
      const dd = since(n)
        .filter((m) => m.topic === 'spBv1.0/plant1/DDATA/line1/extruder')
        .map((m) => decodeSparkplugPayload(m.payload));
      for (const p of dd) {
        expect(p.metrics.every((m) => m.name === undefined && typeof m.alias === 'number')).to.equal(true);
        // Setpoints did not change, so they are not repeated.
        expect(p.metrics.some((m) => m.alias === sparkplugAlias('zone1_sp'))).to.equal(false);
      }
      expect(dd[1].seq).to.equal((dd[0].seq! + 1) % 256);
      expect(dd.at(-1)!.timestampMs).to.equal(plant.sim.simTimeMs);
      const temp = dd.at(-1)!.metrics.find((m) => m.alias === sparkplugAlias('zone1_temp'))!;
      expect(temp.value).to.equal(plant.sim.snapshot().readings.zone1_temp.value);
    });

    it('answers NCMD Node Control/Rebirth with a fresh NBIRTH and DBIRTH', async function () {
      const n = messages.length;
      await listener.publishAsync(
        'spBv1.0/plant1/NCMD/line1',
        encodeSparkplugPayload({ timestampMs: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }),
      );
      await waitFor(() => since(n).some((m) => m.topic === 'spBv1.0/plant1/DBIRTH/line1/extruder'), 10_000, 25, 'rebirth');
      const births = since(n).filter((m) => m.topic.includes('BIRTH'));
      expect(births.map((m) => m.topic)).to.deep.equal(['spBv1.0/plant1/NBIRTH/line1', 'spBv1.0/plant1/DBIRTH/line1/extruder']);
      expect(decodeSparkplugPayload(births[0].payload).seq).to.equal(0);
    });

    it('accepts a setpoint by Sparkplug DCMD within the PLC limits only', async function () {
      await listener.publishAsync(
        'spBv1.0/plant1/DCMD/line1/extruder',
        encodeSparkplugPayload({ metrics: [{ name: 'screw_speed_sp', type: 'Double', value: 95 }] }),
      );
      await waitFor(() => plant.sim.snapshot().truth.screw_speed_sp === 95, 10_000, 25, 'DCMD write');
      await listener.publishAsync(
        'spBv1.0/plant1/DCMD/line1/extruder',
        encodeSparkplugPayload({ metrics: [{ alias: sparkplugAlias('screw_speed_sp'), type: 'Double', value: 500 }] }),
      );
      await listener.publishAsync(
        'spBv1.0/plant1/DCMD/line1/extruder',
        encodeSparkplugPayload({ metrics: [{ name: 'zone1_sp', type: 'Double', value: 200 }] }),
      );
      await waitFor(() => plant.sim.snapshot().truth.zone1_sp === 200, 10_000, 25, 'second DCMD');
      expect(plant.sim.snapshot().truth.screw_speed_sp).to.equal(95); // the 500 rpm write was refused
    });

    it('publishes NDEATH (its will) when its connection dies, then births again with the next bdSeq', async function () {
      const client = plant.sim.mqtt!.client;
      const bdSeq = plant.sim.mqtt!.bdSeq;
      const n = messages.length;
      client.stream.destroy(); // the network goes away without a DISCONNECT
      await waitFor(() => since(n).some((m) => m.topic === 'spBv1.0/plant1/NDEATH/line1'), 10_000, 25, 'NDEATH');
      const death = decodeSparkplugPayload(since(n).find((m) => m.topic === 'spBv1.0/plant1/NDEATH/line1')!.payload);
      expect(death.metrics.find((m) => m.name === 'bdSeq')?.value).to.equal(bdSeq);
      await waitFor(() => since(n).some((m) => m.topic === 'spBv1.0/plant1/NBIRTH/line1'), 15_000, 25, 'NBIRTH after reconnect');
      const birth = decodeSparkplugPayload(since(n).find((m) => m.topic === 'spBv1.0/plant1/NBIRTH/line1')!.payload);
      expect(birth.metrics.find((m) => m.name === 'bdSeq')?.value).to.equal((bdSeq + 1) % 256);
      expect(parseSparkplugTopic('spBv1.0/plant1/NBIRTH/line1')?.edgeNodeId).to.equal('line1');
    });
  });

  describe('wall-clock driver', function () {
    it('moves simulated time at speed × wall time and publishes as it goes', async function () {
      const plant = await startTestPlantSim({ opcua: false, speed: 50, startTsMs: T0, publishIntervalMs: 1000 });
      try {
        const stamps: number[] = [];
        plant.sim.onSample((ts) => stamps.push(ts));
        await waitFor(() => stamps.length >= 20, 20_000, 25, '20 samples');
        expect(stamps[0]).to.be.at.least(T0 + 1000);
        for (let i = 1; i < stamps.length; i++) expect(stamps[i] - stamps[i - 1]).to.equal(1000);
      } finally {
        await plant.stop();
      }
    });
  });

  describe('operator schedule', function () {
    it('applies scheduled setpoint changes at their simulated offsets, and reports a refused one without stopping', async function () {
      const logs: string[] = [];
      const plant = await startTestPlantSim({
        opcua: false,
        clock: 'manual',
        startTsMs: T0,
        publishIntervalMs: 1000,
        log: (m) => logs.push(m),
        schedule: [
          { atMs: 10_000, command: 'set zone3_sp 211' },
          { atMs: 5_000, command: 'set zone3_sp 300' },
          { atMs: 20_000, command: 'set zone3_sp 219' },
        ],
      });
      try {
        const sp = () => plant.sim.snapshot().readings.zone3_sp.value;
        expect(sp()).to.equal(215);
        plant.sim.advance(9_000);
        expect(sp()).to.equal(215);
        expect(logs.join('\n')).to.match(/set zone3_sp 300 refused/);
        plant.sim.advance(2_000);
        expect(sp()).to.equal(211);
        plant.sim.advance(10_000);
        expect(sp()).to.equal(219);
      } finally {
        await plant.stop();
      }
    });
  });

  describe('warm-up', function () {
    it('runs the first simulated minutes fast, then meets the wall clock without running ahead of it', async function () {
      const plant = await startTestPlantSim({ opcua: false, speed: 1, warmup: { simMs: 30_000, speed: 60 }, publishIntervalMs: 1000 });
      try {
        const stamps: number[] = [];
        const lead: number[] = [];
        plant.sim.onSample((ts) => {
          stamps.push(ts);
          lead.push(ts - Date.now());
        });
        await waitFor(() => stamps.length >= 33, 20_000, 25, '33 samples');
        for (let i = 1; i < stamps.length; i++) expect(stamps[i] - stamps[i - 1]).to.equal(1000);
        // Readings are never from the future (a 1 s sample may be stamped up to one tick early).
        expect(Math.max(...lead)).to.be.below(1000);
        // The warm-up started in the past: the first samples are older than the wall clock by most of the gain.
        expect(lead[0]).to.be.below(-20_000);
      } finally {
        await plant.stop();
      }
    });
  });

  describe('CLI', function () {
    const bin = join(ROOT, 'dist', 'bin', 'twinloop.js');

    it('twinloop --help and twinloop sim --help print usage and exit 0', function () {
      const top = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
      expect(top.status).to.equal(0);
      expect(top.stdout)
        .to.match(/Usage: twinloop <command>/)
        .and.match(/\bsim\b/);
      const sim = spawnSync(process.execPath, [bin, 'sim', '--help'], { encoding: 'utf8' });
      expect(sim.status).to.equal(0);
      expect(sim.stdout)
        .to.match(/--opcua-port/)
        .and.match(/--days-to-failure/)
        .and.match(/ahead of the wall clock/);
    });

    it('bad options exit 2 with a one-line reason', function () {
      for (const args of [
        ['sim', '--speed', '0'],
        ['sim', '--bogus'],
        ['sim', '--opcua-port', '70000'],
        ['sim', '--no-mqtt', '--no-opcua'],
        ['sim', '--mqtt-url', 'http://x'],
        ['nosuch'],
      ]) {
        const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
        expect(r.status, args.join(' ')).to.equal(2);
        expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
        expect(r.stderr).to.match(/^twinloop/);
      }
    });

    it('runs, prints endpoint and topics, takes a stdin command and stops cleanly on SIGTERM', async function () {
      const broker = await startAedes();
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          bin,
          'sim',
          '--opcua-port',
          String(port),
          '--mqtt-url',
          broker.url,
          '--speed',
          '10',
          '--seed',
          '42',
          '--pki-dir',
          tmp('plant-sim-cli-pki-'),
          '--quiet',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(() => out.includes('Ctrl-C stops'), 30_000, 50, 'sim started');
        expect(out).to.include(`opc.tcp://127.0.0.1:${port}/UA/TwinLoopSim`);
        expect(out).to.include('demo/plant1/extrusion/line1/extruder/<tag>');
        child.stdin.write('drift zone1_temp 2\nset screw_speed_sp 999\n');
        await waitFor(() => out.includes('refused:'), 10_000, 50, 'command answers');
        expect(out).to.include('ok: drift zone1_temp 2');
        expect(out).to.match(/refused: screw_speed_sp=999 is outside the PLC limits/);
        child.kill('SIGTERM');
        expect(await exited).to.equal(0);
        expect(out).to.include('stopped');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await broker.stop();
      }
    });
  });
});
