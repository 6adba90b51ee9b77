/**
 * Editor typedInputs (msg / flow / global / env / str / num / bool / json / date / jsonata) turned into
 * a getter once, when the node starts: a message path is parsed then, not per message (the hot path
 * walks the parsed parts), constants and env variables are read then, and a JSONata expression is
 * prepared then. A bad path or expression throws at construction, so the node refuses its inputs
 * with a config error instead of failing on every message.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';

type Parts = Array<string | number>;
type Util = NodeAPI['util'];

/** How a property is read from a message: synchronously, or (JSONata) as a promise. */
export interface PropertyGetter {
  get(msg: NodeMessage): unknown;
  /** True when `get` returns a promise (JSONata). */
  async: boolean;
  /** `msg.payload`, `flow.asset`, `"kg"`: for error messages. */
  label: string;
}

function walk(obj: unknown, parts: Parts): unknown {
  let cur = obj;
  for (let i = 0; i < parts.length; i++) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string | number, unknown>)[parts[i]];
  }
  return cur;
}

function parsePath(util: Util, path: string): Parts | undefined {
  try {
    const parts = util.normalisePropertyExpression(path) as unknown[];
    // a nested reference (`payload[msg.index]`) depends on the message: Node-RED resolves it per message
    return parts.every((p) => typeof p === 'string' || typeof p === 'number') ? (parts as Parts) : undefined;
  } catch (err) {
    throw new TwinError('BAD_CONFIG', `'${path}' is not a message property (${(err as Error).message})`);
  }
}

/** A getter of a message property (`payload`, `payload.value`, `data[2]`); the path is parsed once. */
export function messageGetter(util: Util, path: string): (msg: NodeMessage) => unknown {
  const p = path.startsWith('msg.') ? path.slice(4) : path;
  if (p === 'payload') return (msg) => msg.payload;
  if (p === '') throw new TwinError('BAD_CONFIG', 'the message property is empty');
  const parts = parsePath(util, p);
  if (!parts) return (msg): unknown => util.getMessageProperty(msg, p);
  if (parts.length === 1) {
    const k = parts[0];
    return (msg) => (msg as unknown as Record<string | number, unknown>)[k];
  }
  return (msg) => walk(msg, parts);
}

/** A setter of a message property, creating missing objects on the way (as Node-RED's change node does). */
export function messageSetter(util: Util, path: string): (msg: NodeMessage, value: unknown) => void {
  const p = path.startsWith('msg.') ? path.slice(4) : path;
  if (p === 'payload')
    return (msg, v) => {
      msg.payload = v;
    };
  if (p === '') throw new TwinError('BAD_CONFIG', 'the message property is empty');
  const parts = parsePath(util, p);
  if (!parts)
    return (msg, v) => {
      util.setMessageProperty(msg, p, v, true);
    };
  const last = parts[parts.length - 1];
  return (msg, v) => {
    let cur = msg as unknown as Record<string | number, unknown>;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = cur[parts[i]];
      if (next === null || typeof next !== 'object') cur[parts[i]] = next = typeof parts[i + 1] === 'number' ? [] : {};
      cur = next as Record<string | number, unknown>;
    }
    cur[last] = v;
  };
}

/**
 * The getter of one typedInput. `date` is the arrival time of the message, `nowMs()` (epoch ms).
 * An empty `msg`, `flow` or `global` path reads nothing (undefined): an optional field left blank.
 */
export function propertyGetter(
  RED: NodeAPI,
  node: Node,
  value: string | undefined,
  type: string | undefined,
  nowMs: () => number,
): PropertyGetter {
  const v = value ?? '';
  const ty = type || 'str';
  const constant = (c: unknown, label: string): PropertyGetter => ({ get: () => c, async: false, label });
  switch (ty) {
    case 'msg':
      if (v.trim() === '') return constant(undefined, 'msg');
      return { get: messageGetter(RED.util, v.trim()), async: false, label: `msg.${v.trim()}` };
    case 'flow':
    case 'global': {
      if (v.trim() === '') return constant(undefined, ty);
      const { store, key } = RED.util.parseContextStore(v.trim());
      const ctx = node.context()[ty];
      // a synchronous read: the memory store (the default) and localfilesystem (cached) answer at once
      return { get: () => ctx.get(key, store as string), async: false, label: `${ty}.${key}` };
    }
    case 'env':
      return constant(RED.util.evaluateEnvProperty(v, node), `env.${v}`);
    case 'num': {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new TwinError('BAD_CONFIG', `'${v}' is not a number`);
      return constant(n, v);
    }
    case 'bool':
      return constant(v === 'true', v);
    case 'json':
      try {
        return constant(JSON.parse(v), 'JSON');
      } catch (err) {
        throw new TwinError('BAD_CONFIG', `'${v.slice(0, 40)}' is not JSON (${(err as Error).message})`);
      }
    case 'date':
      return { get: () => nowMs(), async: false, label: 'arrival time' };
    case 'jsonata': {
      let expr: ReturnType<Util['prepareJSONataExpression']>;
      try {
        expr = RED.util.prepareJSONataExpression(v, node);
      } catch (err) {
        throw new TwinError('BAD_CONFIG', `JSONata '${v.slice(0, 40)}': ${(err as Error).message}`);
      }
      const get = (msg: NodeMessage) =>
        new Promise<unknown>((resolve, reject) => {
          RED.util.evaluateJSONataExpression(expr, msg, (err, result) => (err ? reject(err) : resolve(result)));
        });
      return { get, async: true, label: `JSONata ${v.length > 30 ? v.slice(0, 30) + '…' : v}` };
    }
    case 'str':
      return constant(v, `"${v}"`);
    default:
      throw new TwinError('BAD_CONFIG', `unsupported property type '${ty}'`);
  }
}

/** A node's input or output property from its editor field: blank or missing = `payload`, the behaviour before the field. */
export function propertyPath(field: unknown): string {
  const s = typeof field === 'string' ? field.trim() : '';
  return s === '' ? 'payload' : s;
}
