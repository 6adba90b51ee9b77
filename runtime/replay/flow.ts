/**
 * A flow file prepared for replay: checked, with every output port of every TwinLoop node also
 * wired to a capture id (so a message is recorded once per send, wired onward or not), and the
 * nodes that would write outside the process (twin-mqtt-out) disabled.
 */
import { TwinError } from '../model/errors.js';

/** Wire target that stands for "the replay's recorder"; no node has this id. */
export const CAPTURE_ID = 'twinloop.replay.capture';
export const INGESTION_TYPES: ReadonlySet<string> = new Set(['twin-opcua-in', 'twin-mqtt-in']);
/** TwinLoop nodes that write to the plant or a broker: never active in a replay. */
export const OUTBOUND_TYPES: ReadonlySet<string> = new Set(['twin-mqtt-out']);
/** Flow elements that are not node types in the registry. */
const STRUCTURE_TYPES: ReadonlySet<string> = new Set(['tab', 'subflow', 'group', 'junction']);

export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  z?: string;
  d?: boolean;
  wires?: string[][];
  [key: string]: unknown;
}

export interface PreparedFlow {
  flows: FlowNode[];
  /** Active ingestion nodes (the replay's entry points). */
  ingestion: FlowNode[];
  /** Nodes disabled for the replay. */
  disabled: FlowNode[];
  /** Node types the runtime must know (subflow instances and structure excluded). */
  types: Set<string>;
}

export function describeNode(n: Pick<FlowNode, 'id' | 'type' | 'name'>): string {
  return `${n.type}${n.name ? ` "${n.name}"` : ''} (${n.id})`;
}

/** Parse and prepare a flow; throws TwinError('BAD_FLOW') with the reason. */
export function prepareReplayFlow(text: string): PreparedFlow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TwinError('BAD_FLOW', `the flow is not JSON: ${(err as Error).message}`);
  }
  // A flow export is an array; the admin API's { rev, flows } form is accepted too.
  const list = Array.isArray(parsed) ? parsed : (parsed as { flows?: unknown } | null)?.flows;
  if (!Array.isArray(list)) throw new TwinError('BAD_FLOW', 'the flow must be a JSON array of nodes (as the editor exports it)');
  const ids = new Set<string>();
  const flows: FlowNode[] = list.map((raw, i) => {
    const n = raw as Partial<FlowNode> | null;
    if (!n || typeof n !== 'object' || Array.isArray(n)) throw new TwinError('BAD_FLOW', `element ${i + 1} of the flow is not a node object`);
    if (typeof n.id !== 'string' || n.id === '') throw new TwinError('BAD_FLOW', `element ${i + 1} of the flow has no id`);
    if (typeof n.type !== 'string' || n.type === '') throw new TwinError('BAD_FLOW', `node ${n.id} has no type`);
    if (ids.has(n.id)) throw new TwinError('BAD_FLOW', `two nodes have the id ${n.id}`);
    if (n.wires !== undefined && (!Array.isArray(n.wires) || !n.wires.every((w) => Array.isArray(w)))) {
      throw new TwinError('BAD_FLOW', `${describeNode(n as FlowNode)}: wires must be a list of lists of node ids`);
    }
    ids.add(n.id);
    return { ...(n as FlowNode) };
  });
  const disabledTabs = new Set(flows.filter((n) => n.type === 'tab' && n.disabled === true).map((n) => n.id));
  const active = (n: FlowNode) => n.d !== true && !(n.z !== undefined && disabledTabs.has(n.z));
  const subflowIds = new Set(flows.filter((n) => n.type === 'subflow').map((n) => n.id));
  const types = new Set<string>();
  const ingestion: FlowNode[] = [];
  const disabled: FlowNode[] = [];
  for (const n of flows) {
    if (STRUCTURE_TYPES.has(n.type)) continue;
    if (n.type.startsWith('subflow:')) {
      if (!subflowIds.has(n.type.slice(8))) throw new TwinError('BAD_FLOW', `${describeNode(n)}: the flow does not contain subflow ${n.type.slice(8)}`);
      continue;
    }
    types.add(n.type);
    if (!active(n)) continue;
    if (OUTBOUND_TYPES.has(n.type)) {
      n.d = true;
      disabled.push(n);
      continue;
    }
    if (INGESTION_TYPES.has(n.type)) ingestion.push(n);
    if (n.type.startsWith('twin-') && Array.isArray(n.wires)) n.wires = n.wires.map((w) => [...w, CAPTURE_ID]);
  }
  if (ingestion.length === 0) {
    throw new TwinError('BAD_FLOW', `the flow has no active ingestion node (${[...INGESTION_TYPES].join(' or ')}) to replay the data into`);
  }
  return { flows, ingestion, disabled, types };
}
