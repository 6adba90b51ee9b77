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
 * A dotenv-style file: `NAME=value` lines, `#` comments, optional `export `, values optionally in
 * single or double quotes. Throws naming the line on anything else (a typo must not deploy).
 */
export function parseEnvFile(text: string, file = 'env file'): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected NAME=value, got '${line.slice(0, 40)}'`);
    let value = m[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, '');
    out.set(m[1], value);
  });
  return out;
}

export interface SiteValues {
  values: Map<string, string>;
  missing: string[];
}

/** The values for every name the flow needs, from the site file first, then the given environment. */
export function resolveNeeds(needs: FlowNeeds, site: Map<string, string>, processEnv: NodeJS.ProcessEnv): SiteValues {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const name of [...new Set([...needs.env, ...needs.credentials])].sort()) {
    const v = site.get(name) ?? processEnv[name];
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

/**
 * The deployed flows: the running flows without the nodes this flow brings (same ids: a redeploy
 * replaces them, other flows stay), plus the flow, plus the global environment updated with the
 * site's values for the names the flow's properties reference. Secrets are `cred` entries whose
 * values travel in the node's credentials (Node-RED encrypts them); other secrets already set
 * there are kept ('__PWRD__' is Node-RED's "unchanged" marker).
 */
export function mergeDeployment(running: FlowNode[], flow: FlowNode[], needs: FlowNeeds, values: Map<string, string>): FlowNode[] {
  const incoming = new Set(flow.map((n) => n.id));
  const kept = running.filter((n) => !incoming.has(n.id) && n.type !== 'global-config');
  const oldGlobal = running.find((n) => n.type === 'global-config');
  const env = new Map<string, EnvEntry>(((oldGlobal?.env as EnvEntry[] | undefined) ?? []).map((e) => [e.name, e]));
  const credMap: Record<string, string> = {};
  for (const e of env.values()) if (e.type === 'cred') credMap[e.name] = '__PWRD__';
  for (const name of [...needs.env].sort()) {
    const value = values.get(name)!;
    if (isSecretName(name)) {
      env.set(name, { name, value: '', type: 'cred' });
      credMap[name] = value;
    } else {
      env.set(name, { name, value, type: 'str' });
    }
  }
  const global: FlowNode = {
    ...(oldGlobal ?? { id: randomBytes(8).toString('hex'), type: 'global-config', modules: {} }),
    env: [...env.values()],
    credentials: { map: credMap },
  };
  return [...kept, ...withCredentials(flow, values), global];
}

