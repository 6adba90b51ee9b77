/**
 * A real Node-RED 4 runtime in a child process (embedded through `require('node-red')`, no editor),
 * running `<userDir>/flows.json` with the built nodes found in `nodesDirs` (Node-RED's `nodesDir`:
 * any .js beside a same-named .html), so a test can SIGKILL it mid-flow and start it again on the
 * same user directory. For nodes not (yet) registered in package.json, which `twinloop start` loads.
 * Logs at 'warn' unless `env.TWINLOOP_CHILD_LOG_LEVEL` says otherwise (e.g. 'info' for node.log lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './ports.js';

export interface NodeRedChild {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: a crash, no close handler runs. */
  kill(): Promise<void>;
}

const SCRIPT = `
const http = require('node:http');
const RED = require('node-red');
const settings = JSON.parse(process.env.TWINLOOP_CHILD_SETTINGS);
const logging = { console: { level: process.env.TWINLOOP_CHILD_LOG_LEVEL || 'warn' } };
RED.init(http.createServer(), { ...settings, httpAdminRoot: false, httpNodeRoot: false, credentialSecret: false, logging });
RED.start().then(() => process.stdout.write('NODE-RED STARTED\\n'), (err) => { console.error(err); process.exit(1); });
`;

export async function startNodeRedChild(userDir: string, nodesDirs: string[], env: Record<string, string> = {}): Promise<NodeRedChild> {
  const settings = { userDir, flowFile: 'flows.json', nodesDir: nodesDirs };
  const child = spawn(process.execPath, ['-e', SCRIPT], {
    cwd: join(__dirname, '..', '..'), // `node -e` resolves node-red from the project's node_modules
    env: { ...process.env, ...env, TWINLOOP_CHILD_SETTINGS: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`Node-RED child exited with ${child.exitCode}:\n${out}`);
      return out.includes('NODE-RED STARTED');
    },
    30_000,
    20,
    'Node-RED child started',
  );
  return {
    child,
    output: () => out,
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
