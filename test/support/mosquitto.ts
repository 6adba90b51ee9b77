/**
 * A real Debian Mosquitto on a free 127.0.0.1 port with a temp config and persistence file, so
 * persistent sessions (subscriptions and queued QoS 1 messages) survive stop/start.
 * Use only after `ensureDebianBinary('mosquitto', 'mosquitto')` returned a path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

export interface Mosquitto {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** SIGTERM and wait for exit (Mosquitto saves its persistence file on the way out). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGHUP: Mosquitto reloads its config (and ACL file) without dropping clients. */
  reload(): void;
  /** The broker log so far (for failure messages). */
  log(): string;
  /** The broker's process id while it runs (CPU accounting in benches). */
  pid(): number | undefined;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(bin: string, extraConfig = ''): Promise<Mosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, Mosquitto would switch to user `mosquitto`, which cannot write the temp dir:
      // no persistence file, so no session would survive a restart.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'persistence_file mosquitto.db',
      'autosave_interval 1',
      'max_queued_messages 100000',
      'max_inflight_messages 20',
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      extraConfig,
    ].join('\n') + '\n',
  );
  let child: ChildProcess | undefined;
  const m: Mosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    async start() {
      if (child) return;
      child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d) => (stderr += String(d)));
      const c = child;
      c.once('exit', () => {
        if (child === c) child = undefined;
      });
      await waitFor(
        async () => {
          if (!child) throw new Error(`mosquitto exited at start: ${stderr}\n${m.log()}`);
          return canConnect(port);
        },
        10_000,
        25,
        `mosquitto listening on ${port}`,
      );
    },
    async stop() {
      const c = child;
      if (!c) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    async restart() {
      await m.stop();
      await m.start();
    },
    reload() {
      child?.kill('SIGHUP');
    },
    pid: () => child?.pid,
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
  };
  await m.start();
  return m;
}
