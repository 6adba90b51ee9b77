/**
 * `twinloop deploy FLOW.json --env SITE.env [--url URL]`: check that the site gives every variable a
 * prebuilt flow needs, then deploy it to a running Node-RED through its Admin API.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { flowNeeds, mergeDeployment, parseEnvFile, resolveNeeds, type FlowNode } from '../lib/flow-env.js';
import { numberOption, UsageError } from './usage.js';
import { isRecord } from '../../runtime/model/errors.js';

export const deployHelp = `Usage: twinloop deploy FLOW.json --env SITE.env [options]

Checks that every \${VARIABLE} the flow uses is set in SITE.env (only there: this command's own
environment never reaches the flow), lists what is missing, and otherwise deploys the flow to
a running Node-RED through its Admin API. Nodes of the flow replace the nodes with the same ids
(a redeploy updates it); only what changed is restarted, other flows keep running and keep their
state. Site values become Node-RED's global environment (User Settings → Environment); values of
secret-looking names (PASSWORD, SECRET, TOKEN, KEY, CREDENTIAL) are stored as Node-RED
credentials, encrypted, never in flows.json. A secret Node-RED already holds cannot be read back
to compare, so it is kept unless --update-secrets is given. Node-RED restarts every flow when its
global environment changes: deploy changes it only when a site value differs from what it holds.

Options (environment variable in brackets):
  --env FILE       the site's variables, NAME=value per line (required); # comments, blank
                   lines, 'export ' and quoted values are fine; a line that is not NAME=value,
                   an invalid name, an unbalanced quote or a name set twice is refused (file:line)
  --url URL        Node-RED's admin URL [NODE_RED_URL] (default http://127.0.0.1:1880/)
  --token T        an Admin API access token [NODE_RED_TOKEN]
  --user U         log in as U with the password in NODE_RED_PASSWORD (when adminAuth is on and
                   no token is given); never pass a password on the command line
  --timeout-s N    give up on a request Node-RED has not answered within N seconds (default 30)
  --update-secrets replace secrets Node-RED already holds (restarts the nodes that use them)
  --dry-run        check only: print what would be deployed, deploy nothing
  -h, --help       this text

Redirects are not followed: the requests carry the token or the password, which must not go to
another address. A 3xx answer fails the deploy naming its Location; give that URL with --url.

Exit codes: 0 deployed (or checked), 2 bad input or missing variables, 1 Node-RED refused, redirected,
did not answer in time or could not be reached.
`;

interface Admin {
  base: string;
  token?: string;
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_S = 30;

async function call(admin: Admin, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Node-RED-API-Version': 'v2', ...extra };
  if (admin.token) headers.Authorization = `Bearer ${admin.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const url = new URL(path, admin.base);
  let res: Response;
  let text: string;
  // redirect 'manual': a 3xx is answered to us, never followed, so the token or password in this
  // request cannot be re-sent to another origin. The timeout covers the answer and its body.
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(admin.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      throw new Error(`no answer from ${method} ${url.href} within ${admin.timeoutMs / 1000} s (--timeout-s)`);
    }
    throw new Error(`cannot reach Node-RED at ${admin.base}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    throw new Error(
      `${method} ${url.href} answered ${res.status}, a redirect to ${location ?? '(no Location)'}: ` +
        'not followed (deploy sends credentials); give the right --url',
    );
  }
  if (res.status === 401) {
    throw new Error(
      admin.token
        ? `Node-RED refused the token (401) for ${method} /${path} at ${admin.base}: wrong, expired, or without write permission`
        : `Node-RED at ${admin.base} needs a login (adminAuth is on): give --token or --user with NODE_RED_PASSWORD`,
    );
  }
  if (!res.ok) throw new Error(`Node-RED answered ${res.status} to ${method} /${path}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

async function login(admin: Admin, user: string, password: string): Promise<string> {
  const res = (await call(admin, 'POST', 'auth/token', {
    client_id: 'node-red-admin',
    grant_type: 'password',
    scope: '*',
    username: user,
    password,
  })) as { access_token?: string };
  if (!res.access_token) throw new Error('Node-RED returned no access token');
  return res.access_token;
}

function readFlow(path: string): FlowNode[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read flow ${path}: ${(err as Error).message}`);
  }
  const nodes: unknown = Array.isArray(parsed) ? parsed : isRecord(parsed) ? parsed.flows : undefined;
  if (!Array.isArray(nodes) || (nodes as unknown[]).some((n) => !isRecord(n) || typeof n.id !== 'string' || typeof n.type !== 'string')) {
    throw new UsageError(`${path} is not a Node-RED flow (an array of nodes with id and type)`);
  }
  return nodes as FlowNode[];
}

/**
 * What Node-RED holds for the credentials of the flow's nodes that already run (text fields as values,
 * passwords as has_<field>). A node whose credentials cannot be read (no permission) is left out: its
 * credentials are then sent, as on a first deploy.
 */
async function storedCredentials(admin: Admin, flow: FlowNode[], running: FlowNode[]): Promise<Map<string, Record<string, unknown>>> {
  const runningIds = new Set(running.map((n) => n.id));
  const out = new Map<string, Record<string, unknown>>();
  for (const n of flow) {
    if (!n.credentials || !runningIds.has(n.id)) continue;
    try {
      out.set(
        n.id,
        (await call(admin, 'GET', `credentials/${encodeURIComponent(n.type)}/${encodeURIComponent(n.id)}`)) as Record<string, unknown>,
      );
    } catch {
      // not readable: sent again
    }
  }
  return out;
}

export async function deployCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      env: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      user: { type: 'string' },
      'timeout-s': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'update-secrets': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(deployHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one FLOW.json');
  if (!values.env) throw new UsageError('--env SITE.env is required');
  const timeoutS =
    numberOption(values['timeout-s'], 'timeout-s', (n) => n > 0 && n <= 3600, 'seconds, above 0 and at most 3600') ?? DEFAULT_TIMEOUT_S;
  const flow = readFlow(positionals[0]);
  let site: Map<string, string>;
  try {
    site = parseEnvFile(readFileSync(values.env, 'utf8'), values.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const needs = flowNeeds(flow);
  const { values: siteValues, missing } = resolveNeeds(needs, site);
  if (missing.length > 0) {
    process.stderr.write(`twinloop deploy: ${positionals[0]} needs ${missing.length} variable(s) that ${values.env} does not set:\n`);
    for (const name of missing) process.stderr.write(`  ${name}\n`);
    return 2;
  }

  const admin: Admin = {
    base: (values.url ?? process.env.NODE_RED_URL ?? 'http://127.0.0.1:1880/').replace(/\/?$/, '/'),
    timeoutMs: timeoutS * 1000,
  };
  admin.token = values.token ?? process.env.NODE_RED_TOKEN;
  if (!admin.token && values.user) {
    // read for the login request only; never a flow value (resolveNeeds reads the site file alone)
    const password = process.env.NODE_RED_PASSWORD;
    if (!password) throw new UsageError('--user needs the password in NODE_RED_PASSWORD');
    admin.token = await login(admin, values.user, password);
  }

  // Types the flow uses that this Node-RED lacks fail the deploy in Node-RED ("missing types");
  // name them before anything changes.
  const sets = (await call(admin, 'GET', 'nodes')) as Array<{ types?: string[]; enabled?: boolean }>;
  const known = new Set([
    'tab',
    'subflow',
    'group',
    'junction',
    'global-config',
    ...sets.filter((s) => s.enabled !== false).flatMap((s) => s.types ?? []),
  ]);
  const unknown = [...new Set(flow.map((n) => n.type))].filter((t) => !known.has(t) && !t.startsWith('subflow:'));
  if (unknown.length > 0)
    throw new Error(`Node-RED at ${admin.base} lacks node types: ${unknown.join(', ')} (install @twinloop/node-red-twin there)`);

  const running = (await call(admin, 'GET', 'flows')) as { rev: string; flows: FlowNode[] };
  const stored = await storedCredentials(admin, flow, running.flows);
  const merged = mergeDeployment(running.flows, flow, needs, siteValues, {
    site,
    storedCredentials: stored,
    updateSecrets: values['update-secrets'] === true,
  });
  const tabs = flow.filter((n) => n.type === 'tab').map((n) => String(n.label ?? n.id));
  const summary = `${flow.length} nodes (${tabs.join(', ') || 'no tabs'}), ${needs.env.size} environment and ${needs.credentials.size} credential variable(s)`;
  const notes: string[] = [];
  if (merged.keptSecrets.length > 0)
    notes.push(`kept the secret(s) Node-RED holds for ${merged.keptSecrets.join(', ')} (--update-secrets replaces them)`);
  if (merged.globalChanged && running.flows.some((n) => n.type === 'global-config')) {
    notes.push('site values changed in the global environment: Node-RED restarts every flow');
  }
  if (values['dry-run']) {
    process.stdout.write(`dry run: would deploy ${summary} to ${admin.base}\n${notes.map((n) => `  ${n}\n`).join('')}`);
    return 0;
  }
  // 'nodes': Node-RED stops and starts only the nodes that differ from what runs (and the nodes that
  // use a changed config node); unchanged nodes of this flow and every other flow keep their state.
  const result = (await call(
    admin,
    'POST',
    'flows',
    { rev: running.rev, flows: merged.flows },
    { 'Node-RED-Deployment-Type': 'nodes' },
  )) as { rev?: string };
  process.stdout.write(`deployed ${summary} to ${admin.base} (rev ${result.rev ?? '?'})\n${notes.map((n) => `  ${n}\n`).join('')}`);
  return 0;
}
