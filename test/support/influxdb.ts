/**
 * A real Debian InfluxDB 1.x (`influxd`) on free 127.0.0.1 ports (HTTP and RPC) with a temp config
 * whose meta, data and WAL directories live in a temp dir, so data survive stop/start on the SAME
 * port and directory. WAL writes are fsynced before a write is acknowledged (wal-fsync-delay 0), so
 * a SIGKILL loses nothing the server answered 204 for.
 * Use only after `ensureDebianBinary('influxdb', 'influxd')` returned a path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

export interface Influxd {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** SIGTERM (or SIGKILL when `hard`) and wait for exit. */
  stop(hard?: boolean): Promise<void>;
  restart(): Promise<void>;
  running(): boolean;
  /** The server log so far (for failure messages). */
  log(): string;
}

async function pingOk(url: string): Promise<boolean> {
  try {
    // /ping answers without credentials even with auth on.
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

/** `auth`: HTTP authentication on (create the first admin user with CREATE USER … WITH ALL PRIVILEGES). */
export async function startInfluxd(bin: string, opts: { auth?: boolean } = {}): Promise<Influxd> {
  const port = await freePort();
  const rpcPort = await freePort();
  const dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'influxd-'));
  const conf = join(dir, 'influxdb.conf');
  const logFile = join(dir, 'influxd.log');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  wal-fsync-delay = "0s"',
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      `  auth-enabled = ${opts.auth === true}`,
      '[continuous_queries]',
      '  enabled = false',
      '[logging]',
      '  level = "warn"',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  const m: Influxd = {
    url,
    port,
    dir,
    async start() {
      if (child) return;
      const fd = openSync(logFile, 'a');
      try {
        child = spawn(bin, ['-config', conf], { stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      const c = child;
      c.once('exit', () => {
        if (child === c) child = undefined;
      });
      await waitFor(
        async () => {
          if (!child) throw new Error(`influxd exited at start:\n${m.log()}`);
          return pingOk(url);
        },
        20_000,
        50,
        `influxd answering /ping on ${port}`,
      );
    },
    async stop(hard = false) {
      const c = child;
      if (!c) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
      child = undefined;
    },
    async restart() {
      await m.stop();
      await m.start();
    },
    running() {
      return child !== undefined;
    },
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
  };
  await m.start();
  return m;
}
