/**
 * Test rig for the twin-alarm specs fed by the plant simulator's engine (event time): two twin-estimate
 * nodes ('z': zone1_temp on zone1_sp, 'f': throughput on screw_speed_sp) wired into twin-alarm 'a' in a
 * real Node-RED, with helpers on its events, a catch and a complete. The specs choose the alarm node's
 * config and which tags go to twin-alarm directly.
 */
import type { Node, NodeMessage } from 'node-red';
import { PlantEngine } from '../../examples/plant-sim/engine.js';
import { parseSimCommand } from '../../examples/plant-sim/faults.js';
import { PLANT } from '../../examples/plant-sim/model.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { helper, nodeModule } from './nr.js';
import { waitFor } from './ports.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const alarmNode = nodeModule('twin-alarm');
const estimateNode = nodeModule('twin-estimate');

export const ASSET = 'demo/plant1/extrusion/line1/extruder';
const T0 = Date.UTC(2026, 2, 2, 6, 0, 0);
export const MIN = 60_000;

export type Msg<P> = NodeMessage & { payload: P; error?: { message: string } };

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

export interface AlarmSimRig {
  zone: Node;
  feed: Node;
  alarm: Node;
  /** Tags read straight into twin-alarm on each sample. */
  direct: string[];
  events: AlarmEvent[];
  caught: Msg<unknown>[];
  done: number;
}

/** Load the flow with twin-alarm's `alarm` config; `direct` tags are sent to twin-alarm by `simulate`. */
export function loadAlarmSimRig(alarm: Record<string, unknown>, direct: string[]): Promise<AlarmSimRig> {
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
        const rig: AlarmSimRig = {
          zone: helper.getNode('z'),
          feed: helper.getNode('f'),
          alarm: helper.getNode('a'),
          direct,
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
 * zone and throughput tags and their setpoints to their twin-estimate, the rig's direct tags to twin-alarm.
 * Waits until twin-alarm has completed every message it was due (one per estimate, one per direct reading).
 */
export async function simulate(rig: AlarmSimRig, commands: Array<{ atMs: number; command: string }>, durationMs: number): Promise<void> {
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
    for (const tag of rig.direct) {
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

/** The annunciated raises. */
export const raised = (rig: AlarmSimRig): AlarmEvent[] => rig.events.filter((e) => e.kind === 'raised' && e.annunciated);
