/**
 * What a prebuilt flow needs from its site, and how the site's values reach Node-RED without
 * putting secrets in flow JSON (used by `twinloop deploy`).
 *
 * - A node property whose whole value is `${NAME}` is resolved by Node-RED at start from the flow's
 *   environment (Node-RED substitutes whole values only, so `${A}/x` is not a reference).
 * - A `${NAME}` inside a node's `credentials` object is substituted by deploy itself: Node-RED
 *   stores credentials encrypted in flows_cred.json, never in flows.json.
 * - Site values reach the runtime as Node-RED's global environment (the `global-config` node that
 *   the editor's User Settings → Environment edits). Secrets go in as type `cred`, whose values
 *   Node-RED keeps with the credentials, so flows.json holds only their names.
 */
import { randomBytes } from 'node:crypto';

export type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string };

const WHOLE_REF = /^\$\{(\w+)\}$/;
/** Names that hold secrets: their values never go into flows.json. */
const SECRET_NAME = /PASS(WORD)?|SECRET|TOKEN|KEY|CREDENTIAL/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export interface FlowNeeds {
  /** referenced by node properties: resolved by Node-RED from the global environment */
  env: Set<string>;
  /** referenced inside `credentials`: substituted by deploy */
  credentials: Set<string>;
}

export function flowNeeds(nodes: FlowNode[]): FlowNeeds {
  const needs: FlowNeeds = { env: new Set(), credentials: new Set() };
  const walk = (v: unknown, into: Set<string>): void => {
    if (typeof v === 'string') {
      const m = WHOLE_REF.exec(v);
      if (m) into.add(m[1]);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, into);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x, into);
    }
  };
  for (const node of nodes) {
    for (const [key, value] of Object.entries(node)) walk(value, key === 'credentials' ? needs.credentials : needs.env);
  }
  return needs;
}

/**
 * A dotenv-style file: `NAME=value` lines, `#` comments and blank lines, optional `export `, values
 * optionally in single or double quotes (no escapes; a ` # note` after the value is a comment).
 * Throws `file:line: reason` on anything else, since a typo must not deploy: a line that is not
 * NAME=value, an invalid name, an unbalanced quote (also a quote inside an unquoted value: quote the
 * value with the other kind), a name set twice.
 */
export function parseEnvFile(text: string, file = 'env file'): Map<string, string> {
  const out = new Map<string, string>();
  const lineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const at = `${file}:${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${at}: expected NAME=value, got '${line.slice(0, 40)}'`);
    const name = m[1]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`${at}: invalid variable name '${name.slice(0, 40)}' (letters, digits and _, not starting with a digit)`);
    }
    let value = m[2]!;
    const q = value[0];
    if (q === '"' || q === "'") {
      const quoted = new RegExp(`^${q}([^${q}]*)${q}\\s*(?:#.*)?$`).exec(value);
      const kind = q === '"' ? 'double' : 'single';
      if (!quoted) throw new Error(`${at}: unbalanced ${kind} quote in the value of ${name} (or text after the closing quote)`);
      value = quoted[1]!;
    } else {
      value = value.replace(/\s+#.*$/, '');
      if (/["']/.test(value)) throw new Error(`${at}: unbalanced quote in the value of ${name} (quote the whole value)`);
    }
    const first = lineOf.get(name);
    if (first !== undefined) throw new Error(`${at}: ${name} is set again (first on line ${first})`);
    lineOf.set(name, i + 1);
    out.set(name, value);
  });
  return out;
}

export interface SiteValues {
  values: Map<string, string>;
  missing: string[];
}

/**
 * The values for every name the flow needs, from the site file only: never from the deployer's own
 * environment, so a flow naming HOME or NODE_RED_PASSWORD cannot carry them to the target.
 */
export function resolveNeeds(needs: FlowNeeds, site: Map<string, string>): SiteValues {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const name of [...new Set([...needs.env, ...needs.credentials])].sort()) {
    const v = site.get(name);
    if (v === undefined || v === '') missing.push(name);
    else values.set(name, v);
  }
  return { values, missing };
}

/** Node credentials with their `${NAME}` placeholders replaced by the site's values. */
export function withCredentials(nodes: FlowNode[], values: Map<string, string>): FlowNode[] {
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = WHOLE_REF.exec(v);
      return m && values.has(m[1]) ? values.get(m[1]) : v;
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return nodes.map((n) => (n.credentials ? { ...n, credentials: fill(n.credentials) } : n));
}

interface EnvEntry {
  name: string;
  value: string;
  type: string;
}

export interface MergeOptions {
  /**
   * The site file's values: its non-secret names all go to the global environment, so that deploying
   * the site's next flow finds them there and changes nothing (Node-RED restarts every flow when the
   * global environment changes).
   */
  site?: Map<string, string>;
  /**
   * What Node-RED holds for running nodes' credentials (GET /credentials/<type>/<id>): text fields
   * as values, password fields only as `has_<field>`. A node absent here gets its credentials sent.
   */
  storedCredentials?: Map<string, Record<string, unknown>>;
  /** Replace secrets Node-RED already holds (otherwise they are kept: they cannot be read back to compare). */
  updateSecrets?: boolean;
}

export interface Merged {
  flows: FlowNode[];
  /** The global environment changed: Node-RED will restart every flow. */
  globalChanged: boolean;
  /** Secret names left as Node-RED holds them. */
  keptSecrets: string[];
}

/** `NAME` when the value is a whole `${NAME}` reference. */
function refName(v: unknown): string | undefined {
  return typeof v === 'string' ? WHOLE_REF.exec(v)?.[1] : undefined;
}

/**
 * The credentials to send for one node: none when Node-RED already holds the same (Node-RED counts a
 * node that arrives with credentials as changed and restarts it, and with it every node that uses it).
 * Text fields are compared; a password Node-RED holds is kept unless `updateSecrets`.
 */
function credentialsToSend(
  node: FlowNode,
  filled: Record<string, unknown>,
  stored: Record<string, unknown> | undefined,
  updateSecrets: boolean,
  kept: Set<string>,
): Record<string, unknown> | undefined {
  if (!stored) return filled;
  const send: Record<string, unknown> = {};
  const original = (node.credentials ?? {}) as Record<string, unknown>;
  for (const [field, value] of Object.entries(filled)) {
    if (`has_${field}` in stored) {
      if (stored[`has_${field}`] === true && !updateSecrets) kept.add(refName(original[field]) ?? `${node.id}.${field}`);
      else send[field] = value;
    } else if (stored[field] !== value) send[field] = value;
  }
  return Object.keys(send).length > 0 ? send : undefined;
}

/**
 * The deployed flows: the running flows without the nodes this flow brings (same ids: a redeploy
 * replaces them, other flows stay), plus the flow, plus the global environment with the site's
 * values. Only what differs from what runs is changed, so that Node-RED's "modified flows" deploy
 * restarts only this flow's changed nodes: unchanged credentials are not sent, and the global
 * environment (whose change restarts everything) is left as it is unless a value in it differs.
 * Secrets are `cred` entries whose values travel in the node's credentials (Node-RED encrypts them);
 * other secrets already set there are kept ('__PWRD__' is Node-RED's "unchanged" marker).
 */
export function mergeDeployment(
  running: FlowNode[],
  flow: FlowNode[],
  needs: FlowNeeds,
  values: Map<string, string>,
  opts: MergeOptions = {},
): Merged {
  const incoming = new Set(flow.map((n) => n.id));
  const runningIds = new Set(running.map((n) => n.id));
  const kept = running.filter((n) => !incoming.has(n.id) && n.type !== 'global-config');
  const keptSecrets = new Set<string>();
  const updateSecrets = opts.updateSecrets === true;

  const oldGlobal = running.find((n) => n.type === 'global-config');
  const env = new Map<string, EnvEntry>(((oldGlobal?.env as EnvEntry[] | undefined) ?? []).map((e) => [e.name, e]));
  const credMap: Record<string, string> = {};
  for (const e of env.values()) if (e.type === 'cred') credMap[e.name] = '__PWRD__';
  let globalChanged = false;
  const wanted = new Map<string, string>();
  for (const [name, value] of opts.site ?? []) if (!isSecretName(name) && value !== '') wanted.set(name, value);
  for (const name of needs.env) wanted.set(name, values.get(name)!);
  for (const name of [...wanted.keys()].sort()) {
    const value = wanted.get(name)!;
    const old = env.get(name);
    if (isSecretName(name)) {
      if (old?.type === 'cred' && !updateSecrets) {
        keptSecrets.add(name);
        continue;
      }
      env.set(name, { name, value: '', type: 'cred' });
      credMap[name] = value;
      globalChanged = true;
    } else if (!(old?.type === 'str' && old.value === value)) {
      env.set(name, { name, value, type: 'str' });
      globalChanged = true;
    }
  }
  const global: FlowNode[] = [];
  if (globalChanged) {
    global.push({
      ...(oldGlobal ?? { id: randomBytes(8).toString('hex'), type: 'global-config', modules: {} }),
      env: [...env.values()],
      credentials: { map: credMap },
    });
  } else if (oldGlobal) global.push(oldGlobal);

  const deployed = withCredentials(flow, values).map((n, i) => {
    if (!n.credentials) return n;
    const stored = runningIds.has(n.id) ? opts.storedCredentials?.get(n.id) : undefined;
    const send = credentialsToSend(flow[i]!, n.credentials as Record<string, unknown>, stored, updateSecrets, keptSecrets);
    const { credentials: _c, ...rest } = n;
    return send ? { ...rest, credentials: send } : rest;
  });
  return { flows: [...kept, ...deployed, ...global], globalChanged, keptSecrets: [...keptSecrets].sort() };
}
