/**
 * Test rig for the twin-alarm specs fed by the plant simulator's engine (event time): two twin-estimate
 * nodes ('z': zone1_temp on zone1_sp, 'f': throughput on screw_speed_sp) wired into twin-alarm 'a' in a
 * real Node-RED, on the node-spec rig (test/support/node-rig.ts: its events, a catch and a complete). The specs choose the alarm node's
 * config and which tags go to twin-alarm directly.
 */
import type { Node } from 'node-red';
import { PlantEngine } from '../../examples/plant-sim/engine.js';
import { parseSimCommand } from '../../examples/plant-sim/faults.js';
import { PLANT } from '../../examples/plant-sim/model.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { helper, nodeModule } from './nr.js';
import { loadNodeRig, type Msg, type NodeRig } from './node-rig.js';
import { waitFor } from './ports.js';

const alarmNode = nodeModule('twin-alarm');
const estimateNode = nodeModule('twin-estimate');

export const ASSET = 'demo/plant1/extrusion/line1/extruder';
const T0 = Date.UTC(2026, 2, 2, 6, 0, 0);
export const MIN = 60_000;

export type { Msg };

export interface AlarmSimRig {
  zone: Node;
  feed: Node;
  alarm: Node;
  /** Tags read straight into twin-alarm on each sample. */
  direct: string[];
  /** twin-alarm's events (output 1). */
  readonly events: AlarmEvent[];
  /** Errors of twin-alarm and of the two twin-estimate nodes. */
  caught: Msg<unknown>[];
  /** Messages twin-alarm completed. */
  readonly done: number;
}

/** Load the flow with twin-alarm's `alarm` config; `direct` tags are sent to twin-alarm by `simulate`. */
export async function loadAlarmSimRig(alarm: Record<string, unknown>, direct: string[]): Promise<AlarmSimRig> {
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
  ];
  const rig: NodeRig & { events: Msg<AlarmEvent>[] } = await loadNodeRig<{ events: AlarmEvent; rates: unknown }>({
    modules: [estimateNode, alarmNode],
    node: { id: 'a', type: 'twin-alarm', ...alarm },
    outputs: ['events', 'rates'],
    flow,
    catchScope: ['a', 'z', 'f'],
  });
  return {
    zone: helper.getNode('z'),
    feed: helper.getNode('f'),
    alarm: rig.node,
    direct,
    get events() {
      return rig.events.map((m) => m.payload);
    },
    caught: rig.caught,
    get done() {
      return rig.completed;
    },
  };
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
