/**
 * Node-RED embedded in our own process (as Node-RED's docs describe for "embedding into an existing
 * app"), with the TwinLoop package made visible to it through `<userDir>/node_modules`.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, existsSync, symlinkSync, lstatSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express from 'express';
import type { NodeRedApp } from 'node-red';
import { loginThrottle } from '../../web/server/login-throttle.js';
import { mergedAdminAuth } from '../../runtime/auth/admin-auth.js';
import { quietErrorHandler } from '../../web/server/http-errors.js';

/** The package root: dist/bin/lib → ../../.. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..', '..');

export interface NodeRedOptions {
  userDir: string;
  port: number;
  host: string;
  /** Relative to userDir (default flows.json); passed to Node-RED absolute, which otherwise would
   *  open a flows.json in the current directory first (say, when started in ~/.node-red). */
  flowFile?: string;
  /** Editor/admin logins (bcrypt hashes); when absent the editor is open to anyone who can reach host:port. */
  adminAuthUsers?: Array<{ username: string; password: string; permissions: string | string[]; printedName?: string }>;
  credentialSecret?: string;
  logLevel?: string;
}

/**
 * The `node-red` module as the CLI uses it. @types/node-red 1.3 types its start, stop, log, hooks, events
 * and HTTP apps as Node-RED 4.1 still has them; what it leaves out is declared here from Node-RED 4.1's
 * red.js and @node-red/runtime/lib/nodes: init's settings-only form (no HTTP server) and settings beyond
 * 1.3's LocalSettings, and the two calls of the runtime's `nodes` module used (1.3 declares it empty).
 */
export type NodeRedModule = Omit<NodeRedApp, 'init' | 'nodes'> & {
  init(settings: object): void;
  init(server: Server, settings: object): void;
  nodes: {
    /** The constructor of a registered node type; undefined when none is. */
    getType(type: string): unknown;
    setFlows(flows: object[], credentials: null, type: 'full', muteLog: boolean, forceStart: boolean): Promise<unknown>;
  };
};

export interface EmbeddedNodeRed {
  url: string;
  stop(): Promise<void>;
  RED: NodeRedModule;
}

/**
 * Node-RED finds node packages in `<userDir>/node_modules`; link this package there so the
 * editor lists TwinLoop's nodes and its examples appear in the Import menu.
 */
function linkPackage(userDir: string): void {
  const scopeDir = join(userDir, 'node_modules', '@twinloop');
  const link = join(scopeDir, 'node-red-twin');
  mkdirSync(scopeDir, { recursive: true });
  if (existsSync(link) || isDanglingLink(link)) {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === PACKAGE_ROOT) return;
    rmSync(link, { recursive: true, force: true });
  }
  symlinkSync(PACKAGE_ROOT, link, 'dir');
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Node-RED is not a dependency of the package, so that a palette install uses the user's Node-RED instead
 * of installing a second one: resolve it from the package (a clone's devDependency) or the working directory.
 */
export function requireNodeRed(): NodeRedModule {
  let path: string;
  try {
    path = require.resolve('node-red', { paths: [PACKAGE_ROOT, process.cwd()] });
  } catch {
    throw new Error('Node-RED not found: run this in a clone after `npm install`, or where `npm install node-red` has been run');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path found at run time (above)
  return require(path) as NodeRedModule;
}

export async function startNodeRed(opts: NodeRedOptions): Promise<EmbeddedNodeRed> {
  mkdirSync(opts.userDir, { recursive: true });
  linkPackage(opts.userDir);
  const RED = requireNodeRed();
  const app = express();
  const server: Server = createServer(app);
  const settings = {
    userDir: resolve(opts.userDir),
    flowFile: resolve(opts.userDir, opts.flowFile ?? 'flows.json'),
    flowFilePretty: true,
    uiHost: opts.host,
    uiPort: opts.port,
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    credentialSecret: opts.credentialSecret,
    adminAuth: opts.adminAuthUsers?.length ? { type: 'credentials', users: opts.adminAuthUsers } : undefined,
    // Logins throttled by source address, never a lock on a user name (SECURITY.md, "Logins").
    httpAdminMiddleware: undefined as unknown,
    functionGlobalContext: {},
    logging: { console: { level: opts.logLevel ?? 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    diagnostics: { enabled: false },
    // A plant's Node-RED does not phone home, and must not ask on first load.
    telemetry: { enabled: false },
    runtimeState: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    // Flow code gets no modules (no `fs`, no `child_process` through a function node's setup tab) and
    // no exec node. This raises the bar, it is no boundary: an editor deploys code that runs in this
    // process (SECURITY.md, "Roles"); the writers' check of the ledger's approval is what holds then.
    functionExternalModules: false,
    nodesExcludes: ['90-exec.js'],
  };
  settings.httpAdminMiddleware = loginThrottle(() => mergedAdminAuth(settings.adminAuth), {
    onFailure: (source, username, waitMs) => {
      const next = waitMs > 0 ? `: next attempt from there in ${Math.ceil(waitMs / 1000)} s` : '';
      RED.log?.warn?.(`[twinloop] failed login for ${JSON.stringify(username.slice(0, 64))} from ${source}${next}`);
    },
  });
  RED.init(server, settings);
  // The port is taken first (a busy port fails before any flow starts), but until the runtime has
  // started a browser gets a quiet 503: Node-RED's editor would log "runtime not started" as an error.
  let started = false;
  app.use((_req, res, next) => (started ? next() : res.status(503).set('Retry-After', '2').send('TwinLoop is starting')));
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  // Express's final handler would answer an error with its stack (and our install paths).
  app.use(quietErrorHandler((text) => RED.log?.warn?.(`[twinloop] ${text}`)));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port, opts.host, () => res());
  });
  await RED.start();
  started = true;
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${opts.host}:${port}/`,
    RED,
    stop: async () => {
      await RED.stop();
      await new Promise<void>((res) => {
        server.closeAllConnections?.();
        server.close(() => res());
      });
    },
  };
}
