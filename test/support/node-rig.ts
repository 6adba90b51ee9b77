/**
 * The node-spec rig: one TwinLoop node under test in node-red-node-test-helper, a helper on each of
 * its outputs, a catch and a complete scoped to it, and its status and error calls (also those made
 * while it was constructed: a config error, the first status). `feedRig` sends messages and waits
 * until the node has completed or thrown each one; `nodeRedPerSpec` gives a suite a fresh runtime per
 * spec. The twin-alarm and twin-drift node specs use it, and test/support/alarm-sim-rig.ts (twin-estimate
 * nodes wired in front of twin-alarm).
 */
import type { Node, NodeMessage } from 'node-red';
import { helper } from './nr.js';
import { waitFor } from './ports.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

export type Msg<P> = NodeMessage & { payload: P; error?: { message: string; source?: { id: string } } };
export type Status = { fill?: string; shape?: string; text?: string };

export function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

export interface NodeRig {
  node: Node;
  /** Messages the catch node got (the node under test's done(err)). */
  caught: Msg<unknown>[];
  /** Messages it completed (done()). */
  completed: number;
  statuses: Status[];
  errors: unknown[];
}

/** What each output's helper received, by the name given to the output. */
export type Outputs<P extends Record<string, unknown>> = { [K in keyof P]: Msg<P[K]>[] };

export interface NodeRigSpec<K extends string> {
  /** Node modules to register (nodeModule(type)); catch and complete are added. */
  modules: unknown[];
  /** The node under test: id, type and config; its wires are the rig's. */
  node: { id: string; type: string } & Record<string, unknown>;
  /** A name for each output, in order: a helper per output collects its messages under that name. */
  outputs: readonly K[];
  /** More flow nodes (config nodes, nodes wired into the one under test). */
  flow?: object[];
  credentials?: Record<string, unknown>;
  /** Nodes the catch node listens to (default: the node under test; complete always counts only it). */
  catchScope?: string[];
}

/** Load the rig; `P` gives each named output's payload type. */
export function loadNodeRig<P extends Record<string, unknown>>(spec: NodeRigSpec<Extract<keyof P, string>>): Promise<NodeRig & Outputs<P>> {
  const id = spec.node.id;
  const outId = (name: string) => `rig-out-${name}`;
  const flow = [
    ...(spec.flow ?? []),
    { ...spec.node, wires: spec.outputs.map((name) => [outId(name)]) },
    ...spec.outputs.map((name) => ({ id: outId(name), type: 'helper' })),
    { id: 'rig-catch', type: 'catch', scope: spec.catchScope ?? [id], uncaught: false, wires: [['rig-caught']] },
    { id: 'rig-caught', type: 'helper' },
    { id: 'rig-complete', type: 'complete', scope: [id], uncaught: false, wires: [['rig-completed']] },
    { id: 'rig-completed', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([...spec.modules, catchNode, completeNode] as never, flow as never, (spec.credentials ?? {}) as never, () => {
        const node = helper.getNode(id);
        // Calls made while the node was constructed (config errors, first status) are on the helper's spies.
        const spied = node as unknown as { status: { args: unknown[][] }; error: { args: unknown[][] } };
        const rig = {
          node,
          caught: [],
          completed: 0,
          statuses: spied.status.args.map((a) => a[0] as Status),
          errors: spied.error.args.map((a) => a[0]),
        } as NodeRig & Record<string, unknown>;
        for (const name of spec.outputs) {
          const got: unknown[] = (rig[name] = []) as unknown[];
          listen<unknown>(helper.getNode(outId(name)), 'input', (m) => got.push(m));
        }
        listen<Msg<unknown>>(helper.getNode('rig-caught'), 'input', (m) => rig.caught.push(m));
        listen<unknown>(helper.getNode('rig-completed'), 'input', () => rig.completed++);
        listen<{ args: [Status] }>(node, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(node, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig as NodeRig & Outputs<P>);
      })
      .catch(reject);
  });
}

/** Send messages to the node in order and wait until every one was completed or caught (and outputs delivered). */
export async function feedRig(rig: NodeRig, msgs: Array<{ topic?: string; payload: unknown }>): Promise<void> {
  const target = rig.completed + rig.caught.length + msgs.length;
  for (const m of msgs) rig.node.receive(m as never);
  await waitFor(() => rig.completed + rig.caught.length >= target, 30_000, 10, 'all inputs handled');
  await new Promise((r) => setTimeout(r, 30)); // outputs are delivered asynchronously after done()
}

/** Start node-red-node-test-helper's server before each spec of the calling suite; unload and stop it after each. */
export function nodeRedPerSpec(): void {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });
}
