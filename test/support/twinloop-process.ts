/**
 * Start the real `twinloop start` (dist/bin/twinloop.js) as a child process on free ports with a
 * throw-away user directory, as a person would run it; used by the browser and end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface TwinloopProcess {
  url: string;
  home: string;
  mqttPort: number;
  opcuaPort: number;
  /** The logins `twinloop start` printed: user → password. */
  logins: Record<string, string>;
  output(): string;
  /** SIGINT, and the exit code once the process is gone. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no shutdown code runs. */
  kill(): Promise<void>;
  child: ChildProcess;
}

/**
 * `home`: an existing user directory (with its flows.json) to start in, e.g. for a restart.
 * `cwd`: the folder it is started from (default: this process's).
 */
export async function startTwinloop(
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
  home = mkdtempSync(join(tmpdir(), 'twinloop-home-')),
  cwd?: string,
): Promise<TwinloopProcess> {
  const [port, mqttPort, opcuaPort] = [await freePort(), await freePort(), await freePort()];
  const bin = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
  const child = spawn(process.execPath, [bin, 'start', ...extraArgs], {
    env: {
      ...process.env,
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      OPCUA_PORT: String(opcuaPort),
      TWINLOOP_HOME: home,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    // only to give up on a start that hangs: on a loaded 2-core machine a start takes up to a minute
    const timer = setTimeout(() => reject(new Error(`twinloop start did not come up in 180 s:\n${out}`)), 180_000);
    const onData = () => {
      const m = /editor:\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`twinloop start exited with ${code}:\n${out}`));
    });
  });
  // The login lines follow the editor line in the same write; wait for the last one.
  await new Promise<void>((resolve) => {
    const check = () => (/Press Ctrl-C/.test(out) ? resolve() : setTimeout(check, 20));
    check();
  });
  const logins: Record<string, string> = {};
  const block = /logins \(user {2}password {2}role\):\n([\s\S]*?)\nPress Ctrl-C/.exec(out)?.[1] ?? '';
  for (const line of block.split('\n')) {
    const m = /^\s+(\S+)\s+(\S+)\s/.exec(line);
    if (m && !line.includes('TWINLOOP_ADMIN_PASSWORD')) logins[m[1]] = m[2];
  }
  return {
    url,
    home,
    logins,
    mqttPort,
    opcuaPort,
    child,
    output: () => out,
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', (code) => {
          clearTimeout(killer);
          resolve(code);
        });
        child.kill('SIGINT');
      }),
  };
}

/**
 * The login of the demo broker's Node-RED user (it may subscribe to everything and publish twin/
 * outputs; bin/lib/broker-acl.ts), read from the home as the plant's own OS user can.
 */
export function brokerLogin(home: string): { username: string; password: string } {
  return { username: 'node-red', password: readFileSync(join(home, 'mqtt-node-red.password'), 'utf8').trim() };
}

/** An admin API access token (Node-RED adminAuth, password grant), for tests that call the API. */
export async function adminToken(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(new URL('auth/token', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
  });
  if (!res.ok) throw new Error(`login as ${username} failed: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
