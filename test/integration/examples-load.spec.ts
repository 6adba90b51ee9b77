/**
 * Every Import-menu example (examples/**\/*.json) loaded as shipped into a real Node-RED runtime with
 * every TwinLoop node and the core nodes: each node of the flow runs (no missing types), and no node
 * reports an error or a red status while the flow starts: bad config would. Servers the examples name
 * (OPC UA endpoint, MQTT broker, InfluxDB) are ports nobody listens on, so they only fail to connect.
 * The user directory has the package at node_modules/@twinloop/node-red-twin, as an `npm install` in
 * ~/.node-red (and `twinloop start`) put it, so relative model paths resolve as they do in the editor.
 *
 * The self-contained examples are then run through their buttons (inject nodes) and their debug
 * nodes checked for what their comments promise.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { helper, nodeModule } from '../support/nr.js';
import { freePort } from '../support/ports.js';
import { recordNodeCalls, tempUserDir, waitUntil, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { startAedes } from '../support/aedes.js';
import { endClient, publish, rawClient } from '../support/mqtt-helpers.js';

const ROOT = join(__dirname, '..', '..');
const CORE = join(ROOT, 'node_modules', '@node-red', 'nodes', 'core');

/** Red statuses that only say a server is not there (every server in this spec is a closed port). */
const CONNECTION_FAILED = /ECONNREFUSED|connect|offline|unreachable/i;

type FlowNode = { id: string; type: string; z?: string };
type Msg = { topic?: string; payload?: unknown; error?: { message: string } };

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? jsonFiles(p) : f.endsWith('.json') ? [p] : [];
  });
}

/** Core node type → its module file, from the registerType calls in @node-red/nodes. */
function coreModules(): Map<string, string> {
  const map = new Map<string, string>();
  for (const area of readdirSync(CORE)) {
    const dir = join(CORE, area);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/registerType\(\s*["']([\w -]+)["']/g)) map.set(m[1], join(dir, f));
    }
  }
  return map;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const twinTypes = Object.keys(pkg['node-red'].nodes);
const examples = jsonFiles(join(ROOT, 'examples'))
  .map((f) => ({ file: relative(ROOT, f), flow: JSON.parse(readFileSync(f, 'utf8')) as unknown }))
  .filter((e): e is { file: string; flow: FlowNode[] } => Array.isArray(e.flow));

// node-red-node-test-helper 0.3.6 registers its own copies of catch, status and complete once per NODE
// of that type in the flow, so a flow with two catch nodes fails ("catch already registered"). Around
// this spec's loads each registers once per load (and those three are left to the helper).
const preloaded = (helper as unknown as { _nodeModules: Record<string, (red: unknown) => unknown> })._nodeModules;
function registerPreloadedOnce(): () => void {
  const originals = { ...preloaded };
  const done = new Set<string>();
  for (const [type, register] of Object.entries(originals)) {
    preloaded[type] = (red) => {
      if (done.has(type)) return undefined;
      done.add(type);
      return register(red);
    };
  }
  return () => Object.assign(preloaded, originals);
}

const core = coreModules();
const coreTypes = [...new Set(examples.flatMap((e) => e.flow.map((n) => n.type)))].filter((t) => !twinTypes.includes(t) && t !== 'tab');
const coreFiles = new Set(
  coreTypes
    .filter((t) => !(t in preloaded))
    .map((t) => core.get(t))
    .filter((p): p is string => !!p),
);
const nodes = [...twinTypes.map(nodeModule), ...[...coreFiles].map((p) => require(p))];

describe('examples (Import menu) in a real Node-RED', function () {
  const savedEnv = { ...process.env };
  let recorder: Recorder;
  let restorePreload: (() => void) | undefined;

  before(async function () {
    const nobody = await freePort();
    process.env.TWINLOOP_MQTT_URL = `mqtt://127.0.0.1:${nobody}`;
    process.env.TWINLOOP_OPCUA_ENDPOINT = `opc.tcp://127.0.0.1:${nobody}/UA/TwinLoopSim`;
    process.env.TWINLOOP_SIGNING_KEY = 'examples-test-signing-key-0123456789';
    process.env.TWINLOOP_BEARING_MODEL = join(ROOT, 'models', 'bearing-rul-model.json');
  });
  after(function () {
    process.env = savedEnv;
  });

  async function start(flow: FlowNode[]): Promise<void> {
    const userDir = tempUserDir('nr-examples-');
    mkdirSync(join(userDir, 'node_modules', '@twinloop'), { recursive: true });
    symlinkSync(ROOT, join(userDir, 'node_modules', '@twinloop', 'node-red-twin'), 'dir');
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(() => r()));
    recorder = recordNodeCalls();
    restorePreload = registerPreloadedOnce();
    await helper.load(nodes as never, flow as never);
  }
  afterEach(async function () {
    await helper.unload();
    restorePreload?.();
    recorder?.restore();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  describe('every flow loads', function () {
    this.timeout(60_000);

    it('covers every example and knows every node type they use', function () {
      expect(examples.length).to.be.greaterThan(5);
      expect(
        coreTypes.filter((t) => !core.has(t) && !(t in preloaded)),
        'types that are neither TwinLoop nor core nodes',
      ).to.deep.equal([]);
    });

    for (const { file, flow } of examples) {
      it(`${file}: every node starts, none reports an error or a red status`, async function () {
        await start(flow);
        const missing = flow.filter((n) => n.type !== 'tab' && !helper.getNode(n.id)).map((n) => `${n.id} (${n.type})`);
        expect(missing, 'nodes that did not start').to.deep.equal([]);
        // constructors validate their config synchronously; give async starts (files, sessions) a moment too
        await new Promise((r) => setTimeout(r, 500));
        const problems = flow.flatMap((n) => [
          ...recorder.errors(n.id).map((e) => `${n.id} (${n.type}) error: ${e.message}`),
          ...recorder
            .statuses(n.id)
            .filter((s) => s.fill === 'red' && !CONNECTION_FAILED.test(s.text ?? ''))
            .map((s) => `${n.id} (${n.type}) red: ${s.text}`),
        ]);
        expect(problems).to.deep.equal([]);
      });
    }
  });

  describe('the self-contained examples do what their comments say', function () {
    this.timeout(120_000);
    const flowOf = (file: string) => examples.find((e) => e.file === file)!.flow;

    /** What reaches a debug node (its input), from now on. */
    function collect(id: string): Msg[] {
      const got: Msg[] = [];
      (helper.getNode(id) as unknown as NodeLike).on('input', (m: never) => got.push(m));
      return got;
    }
    const click = (id: string) => (helper.getNode(id) as unknown as NodeLike).receive({});

    const payloads = (msgs: Msg[]) => msgs.map((m) => m.payload as Record<string, unknown>);

    it('analytics: normal data raises nothing, a drifting sensor is a sensor fault, a colder feed a process change', async function () {
      await start(flowOf('examples/analytics/estimate-and-drift.json'));
      const events = collect('an-debug-drift');
      const estimates = collect('an-thin'); // every estimate; the sidebar gets one a minute
      for (const button of ['an-normal', 'an-sensor', 'an-feed']) {
        const before = estimates.length;
        click(button);
        await waitUntil(() => estimates.length === before + 2 * 2400, 60_000, 50, `the estimates of ${button} (40 min of 2 zones)`);
      }
      const run = (n: number) => payloads(events).filter((p) => String(p.asset).endsWith(`/run${n}`));
      expect(run(1), 'normal').to.deep.equal([]);
      expect(run(2).length, 'sensor drift').to.be.greaterThan(0);
      for (const e of run(2))
        expect([e.tag, e.kind, e.faultType, e.direction]).to.deep.equal(['zone1_temp', 'sensor-fault', 'drift', 'up']);
      expect(new Set(run(3).map((e) => e.tag)), 'feed change').to.deep.equal(new Set(['zone1_temp', 'zone2_temp']));
      for (const e of run(3)) expect([e.kind, e.direction]).to.deep.equal(['process-change', 'down']);
      const normal = payloads(estimates).filter((p) => String(p.asset).endsWith('/run1'));
      expect(normal.length).to.equal(2 * 2400);
      // the model is right, so only the NIS check's 1 % false alarms (and the windows they sit in) are uncertain
      expect(normal.filter((e) => e.quality !== 'good').length).to.be.below(0.01 * normal.length);
      // once the filter has settled (the first estimates carry its initial variance)
      for (const e of normal.slice(-10)) expect(e.variance as number, 'tighter than one reading (0.3 °C noise)').to.be.below(0.09);
    });

    it('anomaly alarms: a runaway is one alarm episode, a line stop one alarm, ack records the operator', async function () {
      await start(flowOf('examples/analytics/anomaly-alarms.json'));
      const events = collect('al-debug-events');
      let handled = 0; // readings twin-alarm has taken (its own input handler runs first)
      (helper.getNode('al-alarm') as unknown as { on(e: string, f: () => void): void }).on('input', () => handled++);
      const shown = (tag: string) =>
        payloads(events).filter((p) => p.kind === 'raised' && p.annunciated && String(p.alarmId).endsWith(tag));
      click('al-runaway');
      await waitUntil(() => handled >= 3600, 60_000, 50, 'the 20 minutes of the runaway scenario');
      await waitUntil(() => payloads(events).some((p) => p.kind === 'cleared'), 30_000, 50, 'the episode clears');
      expect(shown('/melt_temp')).to.have.length(1);
      const raised = shown('/melt_temp')[0];
      expect(
        payloads(events)
          .filter((p) => p.kind === 'cleared')
          .map((p) => p.episodeId),
      ).to.deep.equal([raised.episodeId]);
      click('al-ack');
      await waitUntil(() => payloads(events).some((p) => p.kind === 'acked'), 30_000, 50, 'the acknowledgement');
      expect(payloads(events).find((p) => p.kind === 'acked')!.action).to.include({ user: 'operator' });
      const before = payloads(events).length;
      click('al-stop');
      await waitUntil(() => handled >= 3600 * 2 + 1, 60_000, 50, 'the 20 minutes of the line-stop scenario');
      await waitUntil(() => shown('/line_stop').length > 0, 30_000, 50, 'the line-stop alarm');
      await new Promise((r) => setTimeout(r, 100)); // outputs are delivered after the input is handled
      const stop = payloads(events).slice(before);
      expect(stop.filter((p) => p.kind === 'raised' && p.annunciated).map((p) => p.alarmId)).to.deep.equal([
        'acme/plant1/extrusion/line1/extruder/line_stop',
      ]);
      expect(stop.filter((p) => p.kind === 'raised' && !p.annunciated).length).to.be.greaterThan(0);
    });

    it('maintenance: the simulated bearing (12 days left) gets a RUL with its interval and ranked windows', async function () {
      await start(flowOf('examples/maintenance/rul-to-window.json'));
      const rul = collect('maint-debug-rul');
      const windows = collect('maint-debug-windows');
      const proposals = collect('maint-debug-proposal');
      // the button sends its click time to the vibration function: a chosen instant in its place (Wednesday
      // 11 March 2026, 09:00 UTC), so the calendar the windows are ranked in never depends on today's date
      const button = flowOf('examples/maintenance/rul-to-window.json').find((n) => n.id === 'maint-inject') as FlowNode &
        Record<string, unknown>;
      expect([button.payloadType, button.wires]).to.deep.equal(['date', [['maint-vibration']]]);
      (helper.getNode('maint-vibration') as unknown as NodeLike).receive({ payload: Date.UTC(2026, 2, 11, 9) });
      await waitUntil(() => rul.length >= 73 && windows.length >= 73, 60_000, 50, 'a RUL and windows for each of the 73 hourly rows');
      const last = payloads(rul).at(-1)!;
      const day = 86_400_000;
      expect(last.quality).to.equal('good');
      expect(last.rulMs as number).to.be.within(9 * day, 13 * day);
      expect(last.rulP10Ms as number).to.be.at.most(last.rulMs as number);
      expect(last.rulP90Ms as number).to.be.at.least(last.rulMs as number);
      const ranked = windows.at(-1)!.payload as Array<Record<string, number>>;
      expect(ranked.length).to.be.greaterThan(0);
      expect(ranked.map((w) => w.rank)).to.deep.equal(ranked.map((_, k) => k + 1));
      for (let k = 1; k < ranked.length; k++) expect(ranked[k].expectedCostEur).to.be.at.least(ranked[k - 1].expectedCostEur);
      expect(payloads(proposals).length).to.be.greaterThan(0);
      expect(payloads(proposals)[0].kind).to.equal('maintenance');
    });

    // The readings function takes its clock from the button's timestamp (msg.payload), so each case below
    // sends a chosen instant: the day it costs never depends on today's date.
    async function energyShifts(nowMs: number): Promise<Record<string, unknown>[]> {
      // the button sends its click time to the readings function: what this sends in its place
      const button = flowOf('examples/energy/energy-cost.json').find((n) => n.id === 'energy-inject') as FlowNode & Record<string, unknown>;
      expect([button.payloadType, button.wires]).to.deep.equal(['date', [['energy-readings']]]);
      const shifts = collect('energy-debug-shifts');
      (helper.getNode('energy-readings') as unknown as NodeLike).receive({ payload: nowMs });
      await waitUntil(() => shifts.length >= 3, 60_000, 50, 'three shift records');
      const got = payloads(shifts);
      expect(got.map((s) => s.label)).to.deep.equal(['early', 'late', 'night']);
      return got;
    }
    const peakKwh = (s: Record<string, unknown>) =>
      Object.entries(s.energyKwhByPeriod as Record<string, number>)
        .filter(([p]) => p.startsWith('peak'))
        .reduce((a, [, v]) => a + v, 0);

    it('energy: three whole shifts of a weekday costed per kg under the tariff', async function () {
      await start(flowOf('examples/energy/energy-cost.json'));
      // Thursday 12 March 2026, noon UTC: the day costed is Wednesday 11 March from 06:00 Berlin (winter, no holiday)
      const [early, late, night] = await energyShifts(Date.UTC(2026, 2, 12, 12));
      for (const [s, kg] of [
        [early, 3200],
        [late, 3200],
        [night, 2800],
      ] as const) {
        expect([s.quality, s.gapMs]).to.deep.equal(['good', 0]);
        expect(s.units as number).to.be.closeTo(kg, 10);
        // every kWh is priced between the weekday's cheapest (0.18 off-peak) and dearest (0.28) EUR/kWh
        expect((s.costEur as number) / (s.energyKwh as number)).to.be.within(0.18 - 1e-6, 0.28 + 1e-6);
        expect(s.costEurPerUnit as number).to.be.closeTo((s.costEur as number) / (s.units as number), 0.001);
      }
      expect(peakKwh(night), 'no peak prices at night').to.equal(0);
      expect(peakKwh(early), 'a weekday: the early shift pays peak prices').to.be.greaterThan(0);
      expect(early.costEurPerUnit as number, 'a kg made in the early shift costs more than one made at night').to.be.above(
        night.costEurPerUnit as number,
      );
    });

    it("energy: a Sunday's day shifts are priced at the weekend rate", async function () {
      await start(flowOf('examples/energy/energy-cost.json'));
      // Monday 16 March 2026, noon UTC: the day costed starts Sunday 15 March, 06:00 Berlin
      const [early, late, night] = await energyShifts(Date.UTC(2026, 2, 16, 12));
      const pricedAt = (s: Record<string, unknown>) =>
        Object.entries(s.energyKwhByPeriod as Record<string, number>)
          .filter(([, kwh]) => kwh > 0)
          .map(([p]) => p)
          .sort();
      for (const s of [early, late]) {
        expect(pricedAt(s)).to.deep.equal(['weekend']);
        expect((s.costEur as number) / (s.energyKwh as number)).to.be.closeTo(0.16, 1e-4);
      }
      // the night runs into Monday 00:00-06:00, off-peak
      expect(pricedAt(night)).to.deep.equal(['offpeak', 'weekend']);
      expect(peakKwh(night)).to.equal(0);
    });

    it('any message to a Reading: text, Modbus registers and an OPC UA sample become Readings; "n/a" one error', async function () {
      await start(flowOf('examples/ingest/any-message-to-reading.json'));
      const readings = collect('ir-debug-readings');
      const errors = collect('ir-debug-errors');
      const before = Date.now();
      for (const button of ['ir-inject-text', 'ir-inject-modbus', 'ir-inject-opcua']) {
        const n = readings.length;
        click(button);
        await waitUntil(() => readings.length === n + 1, 10_000, 20, `the reading of ${button}`);
      }
      click('ir-inject-bad');
      await waitUntil(() => errors.length === 1, 10_000, 20, 'the error of "n/a"');
      const asset = 'demo/plant1/extrusion/line1/extruder';
      const [text, modbus, opcua] = payloads(readings);
      expect(text).to.include({ asset, tag: 'zone1_temp', value: 212.5, unit: 'degC', quality: 'good', source: 'mqtt' });
      expect(text.tsMs as number, 'the arrival time').to.be.within(before, Date.now());
      expect(modbus).to.include({ asset, tag: 'melt_pressure', value: 185, unit: 'bar', quality: 'good', source: 'modbus' });
      expect(opcua).to.include({ asset, tag: 'vibration', value: 0, quality: 'bad', qualityReason: 'BadSensorFailure', source: 'opcua' });
      expect(readings.map((m) => m.topic)).to.deep.equal([`${asset}/zone1_temp`, `${asset}/melt_pressure`, `${asset}/vibration`]);
      expect(errors[0].error?.message).to.match(/value \(msg\.payload\) is not numeric: "n\/a"/);
      expect(readings.length, 'nothing sent for "n/a"').to.equal(3);
    });

    it("any message to a Reading, MQTT part: the simulator's JSON through core mqtt in, twin-reading, twin-screen", async function () {
      const broker = await startAedes();
      process.env.TWINLOOP_MQTT_URL = broker.url; // restored with the rest of the environment after the suite
      const pub = await rawClient(broker.url);
      try {
        await start(flowOf('examples/ingest/any-message-to-reading.json'));
        const screened = collect('ir-debug-mqtt');
        const topic = 'demo/plant1/extrusion/line1/extruder';
        const tsMs = Date.now() - 1000;
        // the subscription may still be on its way: publish until the first reading comes through
        await waitUntil(
          async () => {
            await publish(pub, `${topic}/zone1_temp`, JSON.stringify({ value: 211.8, tsMs, quality: 'good', unit: 'degC' }));
            return screened.length > 0;
          },
          20_000,
          200,
          'a screened reading from the core mqtt in',
        );
        await publish(pub, `${topic}/melt_pressure`, JSON.stringify({ value: 512, tsMs: tsMs + 1, quality: 'good', unit: 'bar' }));
        await waitUntil(() => screened.some((m) => (m.payload as { tag?: string }).tag === 'melt_pressure'), 10_000, 20, 'melt_pressure');
        const [first] = payloads(screened);
        expect(first).to.deep.equal({ asset: topic, tag: 'zone1_temp', value: 211.8, unit: 'degC', tsMs, quality: 'good', source: 'mqtt' });
        const pressure = payloads(screened).find((p) => p.tag === 'melt_pressure')!;
        // the screen's range is 0…400: above it, the reading goes on flagged
        expect([pressure.value, pressure.quality, pressure.tsMs]).to.deep.equal([512, 'bad', tsMs + 1]);
      } finally {
        await endClient(pub);
        await helper.unload();
        await broker.stop();
      }
    });

    it('historian: the 60 readings are durable in the disk buffer while InfluxDB is away', async function () {
      await start(flowOf('examples/historian/write-and-query.json'));
      const durable = collect('hist-debug-durable');
      click('hist-inject-write');
      await waitUntil(() => durable.length > 0, 30_000, 50, 'the Complete node');
      expect((durable[0].payload as unknown[]).length).to.equal(60);
    });

    it("tariff update: next year's prices are put in force, overlapping periods refused", async function () {
      await start(flowOf('examples/energy/tariff-update.json'));
      const inForce = collect('tu-debug');
      const refused = collect('tu-debug-err');
      click('tu-inject-next');
      await waitUntil(() => inForce.length > 0, 10_000, 20, 'the tariff in force');
      expect((inForce[0].payload as { version?: unknown }).version).to.be.a('string');
      click('tu-inject-bad');
      await waitUntil(() => refused.length > 0, 10_000, 20, 'the refusal');
      expect(refused[0].error?.message).to.match(/overlap/i);
      expect(inForce.length).to.equal(1);
    });
  });
});
