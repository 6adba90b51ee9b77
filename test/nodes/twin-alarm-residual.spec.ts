/**
 * twin-estimate → twin-alarm in a real Node-RED, fed by the plant simulator's engine (event time):
 * the alarm scores the estimate's own prediction (method auto: an Estimate with `predicted` and
 * `innovationVar`), so a setpoint step the first-order model predicts raises nothing, while a stuck
 * sensor, a sensor drift, recurring spikes and a feed starvation each raise one alarm with its cause
 * and evidence.
 */
import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { PlantEngine } from '../../examples/plant-sim/engine.js';
import { parseSimCommand } from '../../examples/plant-sim/faults.js';
import { PLANT } from '../../examples/plant-sim/model.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const alarmNode = nodeModule('twin-alarm');
const estimateNode = nodeModule('twin-estimate');

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const T0 = Date.UTC(2026, 2, 2, 6, 0, 0);
const MIN = 60_000;
/** Tags read straight into twin-alarm: related tags for the classification (not watched). */
const RELATED = ['zone1_heater_kw', 'zone2_temp', 'melt_temp', 'melt_pressure', 'motor_power', 'motor_current', 'quality_index'];

type Msg<P> = NodeMessage & { payload: P; error?: { message: string } };

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

interface Rig {
  zone: Node;
  feed: Node;
  alarm: Node;
  events: AlarmEvent[];
  caught: Msg<unknown>[];
  done: number;
}

function load(): Promise<Rig> {
  const est = { measurementVar: 0.0225, levelVarPerS: 2.25e-5, model: 'first-order', gain: 1, nisWindow: 20 };
  const flow = [
    { id: 'z', type: 'twin-estimate', ...est, pairs: 'zone1_temp=zone1_sp', tauS: PLANT.zoneTauS[0], wires: [['a']] },
    {
      id: 'f',
      type: 'twin-estimate',
      ...est,
      measurementVar: 0.36,
      levelVarPerS: 3.6e-4,
      gain: PLANT.throughputKgphPerRpm,
      pairs: 'throughput=screw_speed_sp',
      tauS: PLANT.screwTauS,
      wires: [['a']],
    },
    { id: 'a', type: 'twin-alarm', watch: 'zone1_temp, throughput', wires: [['e'], []] },
    { id: 'e', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['a', 'z', 'f'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
    { id: 'q', type: 'complete', scope: ['a'], uncaught: false, wires: [['d']] },
    { id: 'd', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([estimateNode, alarmNode, catchNode, completeNode] as never, flow, () => {
        const rig: Rig = {
          zone: helper.getNode('z'),
          feed: helper.getNode('f'),
          alarm: helper.getNode('a'),
          events: [],
          caught: [],
          done: 0,
        };
        listen<Msg<AlarmEvent>>(helper.getNode('e'), 'input', (m) => rig.events.push(m.payload));
        listen<Msg<unknown>>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<unknown>(helper.getNode('d'), 'input', () => rig.done++);
        resolve(rig);
      })
      .catch(reject);
  });
}

/**
 * Run the simulator (1 Hz) for `durationMs` with `commands`, sending each sample's readings: the
 * zone and throughput tags and their setpoints to their twin-estimate, the related tags to twin-alarm.
 * Waits until twin-alarm has completed every message it was due (one per estimate, one per related reading).
 */
async function simulate(rig: Rig, commands: Array<{ atMs: number; command: string }>, durationMs: number): Promise<void> {
  let due = 0;
  const send = (n: Node, tag: string, tsMs: number, s: { value: number; quality: string }): void => {
    n.receive({ payload: { asset: ASSET, tag, value: s.value, tsMs, quality: s.quality, source: 'sim' } } as never);
  };
  const engine = new PlantEngine({ seed: 11, startTsMs: T0, publishIntervalMs: 1000 }, (tsMs, r) => {
    send(rig.zone, 'zone1_sp', tsMs, r.zone1_sp);
    send(rig.zone, 'zone1_temp', tsMs, r.zone1_temp);
    send(rig.feed, 'screw_speed_sp', tsMs, r.screw_speed_sp);
    send(rig.feed, 'throughput', tsMs, r.throughput);
    due += 2;
    for (const tag of RELATED) {
      send(rig.alarm, tag, tsMs, r[tag as keyof typeof r]);
      due++;
    }
  });
  for (const c of commands) {
    engine.advance(c.atMs - engine.elapsedMs);
    engine.apply(parseSimCommand(c.command));
  }
  // a minute at a time, so the flow keeps up with the engine
  while (engine.elapsedMs < durationMs) {
    engine.advance(Math.min(MIN, durationMs - engine.elapsedMs));
    // the first sample of each estimator initialises it (an estimate without innovation is still one message)
    await waitFor(() => rig.done + rig.caught.length >= due - 2, 60_000, 10, 'twin-alarm handled every message');
  }
  await waitFor(() => rig.done + rig.caught.length >= due - 2, 60_000, 10, 'twin-alarm handled every message');
  await new Promise((r) => setTimeout(r, 30));
}

const raised = (rig: Rig): AlarmEvent[] => rig.events.filter((e) => e.kind === 'raised' && e.annunciated);

describe('twin-alarm on twin-estimate: the twin residual', function () {
  this.timeout(180_000);
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('setpoint steps the models predict (zone +10 °C, screw 80 → 90 rpm) raise nothing', async function () {
    const rig = await load();
    await simulate(
      rig,
      [
        { atMs: 10 * MIN, command: 'set zone1_sp 200' },
        { atMs: 20 * MIN, command: 'set screw_speed_sp 90' },
      ],
      30 * MIN,
    );
    expect(rig.caught.map((m) => m.error?.message)).to.deep.equal([]);
    expect(raised(rig)).to.deep.equal([]);
  });

  it('a stuck thermocouple: one alarm, a sensor fault of type stuck, on the residual', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'stuck zone1_temp' }], 20 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'stuck', method: 'twin-residual' });
  });

  it('a thermocouple drift: one alarm, a sensor fault, and no related tag moved', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'drift zone1_temp 60' }], 20 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'drift' });
    expect((r[0].cause?.evidence as { corroboration: { perTag: string[] } }).corroboration.perTag).to.deep.equal([]);
  });

  it('a thermocouple spiking on 5 % of its readings: one alarm, a sensor fault of type spike', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'spike zone1_temp' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'spike' });
  });

  it('feed starvation: one alarm on throughput, a process change, with the related tags that moved', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'disturb feed_starve 0.5' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/throughput`]);
    expect(r[0].cause?.kind).to.equal('process-change');
    expect((r[0].cause?.evidence as { corroboration: { perTag: string[] } }).corroboration.perTag).to.include.members([
      'melt_pressure',
      'motor_power',
    ]);
  });
});
