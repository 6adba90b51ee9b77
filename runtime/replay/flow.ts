/**
 * A flow file prepared for replay: checked, with every output port of every TwinLoop node also
 * wired to a capture id (so a message is recorded once per send, wired onward or not), and the
 * nodes that would write outside the process or decide (broker, plant and historian writers, the
 * approval gate) disabled, and no node left recording to the audit ledger. TwinLoop config nodes no
 * active node uses any more (the ledger, the envelopes) are left out. A `${NAME}` the environment does not set is replaced by a placeholder
 * where only a connection uses it (a replay connects to nothing); anywhere else the replay needs it.
 */
import { TwinError } from '../model/errors.js';

/** Wire target that stands for "the replay's recorder"; no node has this id. */
export const CAPTURE_ID = 'twinloop.replay.capture';
export const INGESTION_TYPES: ReadonlySet<string> = new Set(['twin-opcua-in', 'twin-mqtt-in']);
/** TwinLoop nodes that write to a broker, the plant or the historian, or decide: never active in a replay. */
export const OUTBOUND_TYPES: ReadonlySet<string> = new Set([
  'twin-mqtt-out',
  'twin-historian',
  'twin-approval',
  'twin-opcua-write',
  'twin-mqtt-write',
]);
/**
 * Settings by which an active node records to the plant's audit ledger: cut in a replay, so a replay
 * never appends to it (twin-alarm's operator actions are recorded on its output and in the log only).
 */
export const LEDGER_PROPS: Readonly<Record<string, string>> = { 'twin-alarm': 'ledger' };
/** Config nodes of connections: a replay opens none, so their settings do not matter. */
export const CONNECTION_CONFIG_TYPES: ReadonlySet<string> = new Set([
  'twin-opcua-endpoint',
  'twin-mqtt-broker',
  'twin-influx-config',
  'twin-cluster',
]);
/** Settings of ingestion nodes that only shape the live connection. */
const INGESTION_CONNECTION_PROPS: Readonly<Record<string, ReadonlySet<string>>> = {
  'twin-opcua-in': new Set(['endpoint', 'samplingIntervalMs', 'deadband', 'queueSize', 'reportTimestamps']),
  'twin-mqtt-in': new Set(['broker', 'qos', 'rebirthHoldOffMs']),
};
/** Placeholders that pass the config checks; any other unset connection setting becomes 'replay'. */
const PLACEHOLDERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'twin-opcua-endpoint': { endpointUrl: 'opc.tcp://replay.invalid:4840/replay', securityMode: 'None', securityPolicy: 'None' },
  'twin-mqtt-broker': { url: 'mqtt://replay.invalid', clientId: 'twinloop-replay' },
  'twin-influx-config': { url: 'http://replay.invalid:8086' },
  'twin-cluster': { servers: 'nats://replay.invalid:4222' },
  'twin-opcua-in': { samplingIntervalMs: '1000', deadband: '0', queueSize: '10' },
  'twin-mqtt-in': { qos: '1', rebirthHoldOffMs: '5000' },
};
const WHOLE_REF = /^\$\{(\w+)\}$/;
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
  /** TwinLoop config nodes left out: no active node uses them. */
  dropped: FlowNode[];
  /** Unset `${NAME}`s replaced by placeholders in connection settings. */
  placeholders: string[];
  /** Node types the runtime must know (subflow instances and structure excluded). */
  types: Set<string>;
}

export function describeNode(n: Pick<FlowNode, 'id' | 'type' | 'name'>): string {
  return `${n.type}${n.name ? ` "${n.name}"` : ''} (${n.id})`;
}

/**
 * Parse and prepare a flow; throws TwinError('BAD_FLOW') with the reason. `env`: the environment
 * Node-RED resolves `${NAME}` from (the replay's own).
 */
export function prepareReplayFlow(text: string, env: Record<string, string | undefined> = {}): PreparedFlow {
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
    if (!n || typeof n !== 'object' || Array.isArray(n))
      throw new TwinError('BAD_FLOW', `element ${i + 1} of the flow is not a node object`);
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
      if (!subflowIds.has(n.type.slice(8)))
        throw new TwinError('BAD_FLOW', `${describeNode(n)}: the flow does not contain subflow ${n.type.slice(8)}`);
      continue;
    }
    types.add(n.type);
    if (!active(n)) continue;
    if (OUTBOUND_TYPES.has(n.type)) {
      n.d = true;
      disabled.push(n);
      continue;
    }
    if (LEDGER_PROPS[n.type] !== undefined) delete n[LEDGER_PROPS[n.type]!];
    if (INGESTION_TYPES.has(n.type)) ingestion.push(n);
    if (n.type.startsWith('twin-') && Array.isArray(n.wires)) n.wires = n.wires.map((w) => [...w, CAPTURE_ID]);
  }
  if (ingestion.length === 0) {
    throw new TwinError(
      'BAD_FLOW',
      `the flow has no active ingestion node (${[...INGESTION_TYPES].join(' or ')}) to replay the data into ` +
        '(a flow that reads its CSV inside Node-RED, like examples/replay/replay-csv.json, is run from the editor)',
    );
  }
  const dropped = unusedConfigNodes(flows, active);
  const kept = flows.filter((n) => !dropped.includes(n));
  const placeholders = new Set<string>();
  const needed = new Map<string, Set<string>>();
  for (const n of kept) {
    if (STRUCTURE_TYPES.has(n.type) || !active(n)) continue;
    for (const key of Object.keys(n)) {
      if (key === 'credentials' || key === 'id' || key === 'type' || key === 'z' || key === 'wires') continue;
      const connection = CONNECTION_CONFIG_TYPES.has(n.type) || INGESTION_CONNECTION_PROPS[n.type]?.has(key) === true;
      n[key] = fill(n[key], (name) => {
        if (env[name] !== undefined && env[name] !== '') return undefined;
        if (connection) {
          placeholders.add(name);
          return PLACEHOLDERS[n.type]?.[key] ?? 'replay';
        }
        needed.set(name, (needed.get(name) ?? new Set()).add(describeNode(n)));
        return undefined;
      });
    }
  }
  if (needed.size > 0) {
    const names = [...needed.keys()].sort();
    const what = names.map((name) => `${name} (used by ${[...needed.get(name)!].join(', ')})`).join('; ');
    throw new TwinError(
      'BAD_FLOW',
      `the replay needs ${what}: set ${names.length > 1 ? 'them' : 'it'} in the command's environment, e.g. ${names.map((x) => `${x}=…`).join(' ')} twinloop replay …`,
    );
  }
  return { flows: kept, ingestion, disabled, dropped, placeholders: [...placeholders].sort(), types };
}

/** A value with each whole `${NAME}` string replaced by what `replace` returns (undefined: left as it is). */
function fill(v: unknown, replace: (name: string) => string | undefined): unknown {
  if (typeof v === 'string') {
    const m = WHOLE_REF.exec(v);
    return m ? (replace(m[1]!) ?? v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, replace));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, replace)]));
  return v;
}

/** TwinLoop config nodes (no wires) that no active node uses, directly or through another config node. */
function unusedConfigNodes(flows: FlowNode[], active: (n: FlowNode) => boolean): FlowNode[] {
  const isConfig = (n: FlowNode) => n.type.startsWith('twin-') && n.wires === undefined;
  const byId = new Map(flows.map((n) => [n.id, n]));
  const used = new Set<string>();
  const visit = (n: FlowNode): void => {
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        const c = byId.get(v);
        if (c && isConfig(c) && !used.has(c.id)) {
          used.add(c.id);
          visit(c);
        }
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    for (const [k, v] of Object.entries(n)) if (k !== 'id' && k !== 'z' && k !== 'wires' && k !== 'g') walk(v);
  };
  for (const n of flows) if (!STRUCTURE_TYPES.has(n.type) && !isConfig(n) && active(n)) visit(n);
  return flows.filter((n) => isConfig(n) && !used.has(n.id));
}
