/**
 * twin-alarm with its defaults (watch blank: every tag it is fed is scored) behind twin-estimate in
 * a real Node-RED, fed by the plant simulator's engine (event time): the modelled tags' Estimates, and
 * Readings of every other tag and of the setpoints (the known inputs). A setpoint step moves the tags
 * with no model (heater power, drive power and current, melt pressure): the settling window after
 * the setpoint's change keeps them quiet; a feed starvation moves them all: one alarm, the others
 * recorded as its consequences.
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
/** Tags read straight into twin-alarm, scored on the learned baseline (no model), and the setpoints (known inputs). */
const RELATED = ['zone1_heater_kw', 'zone2_temp', 'melt_temp', 'melt_pressure', 'motor_power', 'motor_current', 'quality_index'];
const SETPOINTS = ['zone1_sp', 'screw_speed_sp'];

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

function load(alarm: Record<string, unknown> = {}): Promise<Rig> {
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
    { id: 'a', type: 'twin-alarm', ...alarm, wires: [['e'], []] },
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
 * zone and throughput tags and their setpoints to their twin-estimate, the other tags and the setpoints to twin-alarm.
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
    for (const tag of [...RELATED, ...SETPOINTS]) {
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
const STEPS = [
  { atMs: 10 * MIN, command: 'set zone1_sp 200' },
  { atMs: 20 * MIN, command: 'set screw_speed_sp 90' },
];

describe('twin-alarm with its defaults (every tag): known inputs and one alarm per process change', function () {
  this.timeout(240_000);
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('setpoint steps (zone +10 °C, screw 80 → 90 rpm): no alarm; the setpoints are not scored', async function () {
    const rig = await load();
    await simulate(rig, STEPS, 30 * MIN);
    expect(rig.caught.map((m) => m.error?.message)).to.deep.equal([]);
    expect(raised(rig)).to.deep.equal([]);
    expect(rig.events.filter((e) => SETPOINTS.some((t) => e.alarmId.endsWith(`/${t}`)))).to.deep.equal([]);
  });

  it('the same steps with no settling window: the tags with no model alarm', async function () {
    const rig = await load({ settleMs: 0 });
    await simulate(rig, STEPS, 30 * MIN);
    expect(raised(rig).length).to.be.at.least(1);
    expect(raised(rig).every((e) => e.cause?.method === 'learned-baseline')).to.equal(true);
  });

  it('feed starvation: one annunciated alarm; the other tags that alarmed are recorded as its consequences', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'disturb feed_starve 0.5' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/throughput`]);
    expect(r[0].cause?.kind).to.equal('process-change');
    const rest = rig.events.filter((e) => e.kind === 'raised' && !e.annunciated);
    expect(rest.length).to.be.at.least(2);
    for (const e of rest) expect(e).to.include({ suppressedBy: `${ASSET}/throughput`, state: 'suppressed-by-design' });
  });
});
