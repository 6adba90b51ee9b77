/**
 * The closed loop in one Node-RED runtime, as the writer specs build it: the plant simulator's OPC UA
 * server → twin-opcua-in → twin-approval (envelope on `tag`, mode == 1 and alarm == 0 as interlocks,
 * read from the same endpoint) → twin-opcua-write, with helpers on the commands, gate events, write
 * results and writer alarms. The ledger node (id 'led') is the caller's: a file or a JetStream one.
 */
import type { Command, WriteResult } from '../../runtime/model/control.js';
import { nodeModule } from './nr.js';
import type { NodeLike } from './opcua-nr.js';
import type { TestPlantSim } from './plant-sim.js';

export const CLOSED_LOOP_NODES = [
  'twin-opcua-endpoint',
  'twin-opcua-in',
  'twin-envelope',
  'twin-ledger',
  'twin-approval',
  'twin-opcua-write',
].map(nodeModule);

export function closedLoopFlow(plant: TestPlantSim, tag: string, ledger: Record<string, unknown>, extra: object[] = []): object[] {
  const asset = plant.sim.asset;
  const item = (t: string) => ({ nodeId: `ns=1;s=extruder.${t}`, asset, tag: t });
  return [
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
      items: [item(tag), item('mode'), item('alarm')],
      samplingIntervalMs: 200,
      deadband: 0,
      queueSize: 1,
      maxFutureMs: 5000,
      wires: [['gate']],
    },
    {
      id: 'env',
      type: 'twin-envelope',
      asset,
      tag,
      unit: 'degC',
      lowLimit: 160,
      highLimit: 240,
      maxStep: 10,
      rateUpPerMin: 600,
      rateDownPerMin: 600,
      minDwellMs: 0,
      interlocks: [
        { tag: 'mode', op: '==', value: 1 },
        { tag: 'alarm', op: '==', value: 0 },
      ],
      inputTags: '',
      maxInputAgeMs: 30_000,
      minQuality: 'good',
      ramp: false,
      source: 'ep',
    },
    { ...ledger, id: 'led' },
    {
      id: 'gate',
      type: 'twin-approval',
      envelope: 'env',
      ledger: 'led',
      twoPersonAboveStep: '',
      autoApproval: false,
      autoApprovalMaxStep: '',
      commandTtlMs: 60_000,
      wires: [['w', 'cmds'], ['events']],
    },
    {
      id: 'w',
      type: 'twin-opcua-write',
      endpoint: 'ep',
      nodeId: `ns=1;s=extruder.${tag}`,
      asset,
      tag,
      envelope: 'env',
      ledger: 'led',
      readBackTimeoutMs: 2000,
      wires: [['gate', 'results'], ['alarms']],
    },
    { id: 'cmds', type: 'helper' },
    { id: 'events', type: 'helper' },
    { id: 'results', type: 'helper' },
    { id: 'alarms', type: 'helper' },
    ...extra,
  ];
}

/** What the loop's helpers receive, collected from now on. */
export function collectClosedLoop(node: (id: string) => NodeLike) {
  const got = {
    cmds: [] as Command[],
    events: [] as Array<{ proposalId: string; state: string }>,
    results: [] as WriteResult[],
    alarms: [] as unknown[],
  };
  node('cmds').on('input', (m: never) => got.cmds.push((m as { payload: Command }).payload));
  node('events').on('input', (m: never) => got.events.push((m as { payload: { proposalId: string; state: string } }).payload));
  node('results').on('input', (m: never) => got.results.push((m as { payload: WriteResult }).payload));
  node('alarms').on('input', (m: never) => got.alarms.push((m as { payload: unknown }).payload));
  return got;
}
