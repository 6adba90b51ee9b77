#!/usr/bin/env node
/**
 * `npm run cluster-demo`: scale-out on one machine, from one command. A 3-node nats-server cluster
 * (JetStream), a Mosquitto and three `twinloop start --cluster` instances, all on 127.0.0.1 ports the
 * OS picks (never 1880, 1883, 4840 or 8086), in a temporary folder; six simulated lines publish
 * readings every second. It prints which instance owns which line whenever that changes, so killing
 * an instance (kill -9 PID) shows its lines moving after one lease. Ctrl-C stops everything it
 * started, instances first (they give their lines up), and removes the folder.
 *
 * Needs Debian's `nats-server` and `mosquitto` (apt install nats-server mosquitto) and a clone after
 * `npm install` (the instances run this clone's Node-RED).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { freePort } from './lib/free-port.js';

const HELP = `Usage: node dist/bin/cluster-demo.js [--lease-s N]   (npm run cluster-demo)

Starts, on 127.0.0.1 ports the OS picks: a 3-node nats-server cluster with JetStream, a Mosquitto,
and three TwinLoop instances (twinloop start --cluster) that share six simulated lines
(demo/cluster/line1 … line6, two readings each per second). Prints each instance's editor and the
admin password, then which instance owns which line whenever that changes. Kill an instance
(kill -9 PID, PIDs printed) and its lines move to the others after about one lease; the broker
queues their readings meanwhile, and the count printed at the end says whether any was lost.
Ctrl-C stops everything it started and removes its temporary folder.

Options:
  --lease-s N   lease in seconds (default 5)
  -h, --help    this text

Needs nats-server and mosquitto (Debian: apt install nats-server mosquitto).
`;

const LINES = Array.from({ length: 6 }, (_, i) => `demo/cluster/line${i + 1}`);
const TAGS = ['melt_temp', 'screw_speed'];
const INSTANCES = ['nr1', 'nr2', 'nr3'];

interface Proc {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal once it has exited. */
  exited: Promise<string>;
}

function findBinary(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin'];
  return dirs
    .filter((d) => d.startsWith('/'))
    .map((d) => join(d, bin))
    .find((p) => existsSync(p));
}

function run(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  // its own process group: a terminal's Ctrl-C reaches this script, which stops the parts in order
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  return { name, child, exited };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Ctrl-C (or SIGTERM, SIGHUP) seen: from the first line of main on, so nothing started is left behind. */
let stopRequested = false;
class Stopped extends Error {}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  proc?: Proc,
  out?: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (stopRequested) throw new Stopped();
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited while starting:\n${out?.() ?? ''}`);
    if (Date.now() > end) throw new Error(`${what}: not ready after ${timeoutMs / 1000} s\n${out?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopProc(p: Proc, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const killer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(killer);
}

const stamp = () => new Date().toISOString().slice(11, 19);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'lease-s': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const leaseS = Number(values['lease-s'] ?? '5');
  if (!Number.isInteger(leaseS) || leaseS < 1 || leaseS > 600) {
    process.stderr.write(`cluster-demo: --lease-s must be a whole number of seconds 1–600, got '${values['lease-s']}'\n`);
    return 2;
  }
  const natsBin = findBinary('nats-server');
  const mosqBin = findBinary('mosquitto');
  for (const [bin, found] of [
    ['nats-server', natsBin],
    ['mosquitto', mosqBin],
  ] as const) {
    if (!found) {
      process.stderr.write(`cluster-demo: ${bin} not found: install it (Debian: apt install ${bin})\n`);
      return 1;
    }
  }
  // a second Ctrl-C is not the default exit either: the stop below has its own time limits
  let wake: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => (wake = resolve));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      stopRequested = true;
      wake();
    });
  }
  const twinloop = join(__dirname, 'twinloop.js');
  const dir = mkdtempSync(join(tmpdir(), 'twinloop-cluster-demo-'));
  const procs: Proc[] = [];
  const intervals: NodeJS.Timeout[] = [];
  const clients: mqtt.MqttClient[] = [];
  let nc: { close(): Promise<void> } | undefined;
  const published = new Set<string>();
  const processed = new Map<string, number>();
  let stopping = false;

  const stop = async (): Promise<void> => {
    for (const i of intervals) clearInterval(i);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await nc?.close().catch(() => undefined);
    // instances first (a clean stop gives their lines up through NATS), then the servers
    await Promise.all(procs.filter((p) => INSTANCES.includes(p.name)).map((p) => stopProc(p, 'SIGINT', 20_000)));
    await Promise.all(procs.filter((p) => !INSTANCES.includes(p.name)).map((p) => stopProc(p, 'SIGTERM', 10_000)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // NATS: three JetStream servers routed to each other
    const nats = await Promise.all(
      INSTANCES.map(async (_, i) => ({ name: `nats${i + 1}`, client: await freePort(), route: await freePort() })),
    );
    for (const n of nats) {
      const store = join(dir, n.name);
      mkdirSync(store);
      const routes = nats.filter((m) => m !== n).map((m) => `nats-route://127.0.0.1:${m.route}`);
      const conf = join(dir, `${n.name}.conf`);
      writeFileSync(
        conf,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.client}`,
          `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 1GB }`,
          `cluster { name: twinloop-demo, listen: 127.0.0.1:${n.route}, routes: [${routes.join(', ')}] }`,
        ].join('\n') + '\n',
      );
      procs.push(run(n.name, natsBin!, ['-c', conf]));
    }
    const servers = nats.map((n) => `nats://127.0.0.1:${n.client}`);

    // Mosquitto: persistent sessions and room to queue a takeover's worth of readings
    const mqttPort = await freePort();
    const mosqConf = join(dir, 'mosquitto.conf');
    writeFileSync(
      mosqConf,
      [
        `listener ${mqttPort} 127.0.0.1`,
        'allow_anonymous true',
        ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
        'persistence true',
        `persistence_location ${dir}/`,
        'max_queued_messages 100000',
        'log_dest none',
      ].join('\n') + '\n',
    );
    procs.push(run('mosquitto', mosqBin!, ['-c', mosqConf]));
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    await until('mosquitto', () => listening(mqttPort), 15_000, procs.at(-1));
    for (const [i, n] of nats.entries()) await until(n.name, () => listening(n.client), 15_000, procs[i]);

    // the three instances, each with its own home and editor port; one admin password for all
    const password = randomBytes(9).toString('base64url');
    const editors = new Map<string, string>();
    const starts = INSTANCES.map(async (name) => {
      const home = join(dir, name);
      const args = ['start', '--cluster', servers.join(','), '--lines', LINES.join(','), '--mqtt-url', mqttUrl, '--instance', name];
      const env = {
        ...process.env,
        PORT: String(await freePort()),
        TWINLOOP_HOME: home,
        TWINLOOP_ADMIN_PASSWORD: password,
        TWINLOOP_DEMO_USERS: '0',
      };
      const p = run(name, process.execPath, [twinloop, ...args, '--lease-s', String(leaseS)], env);
      procs.push(p);
      let out = '';
      let ready = false;
      const onData = (d: Buffer) => {
        if (ready) {
          for (const line of String(d).split('\n')) if (line.trim() !== '') process.stdout.write(`[${name}] ${line}\n`);
        } else out += String(d);
      };
      p.child.stdout!.on('data', onData);
      p.child.stderr!.on('data', onData);
      // TwinLoop's start may take a minute on a loaded two-core machine (three at once)
      await until(
        `instance ${name}`,
        () => /Press Ctrl-C/.test(out),
        180_000,
        p,
        () => out,
      );
      ready = true;
      editors.set(name, /editor:\s+(\S+)/.exec(out)![1]!);
      void p.exited.then((how) => {
        if (!stopping)
          process.stdout.write(`${stamp()} ${name} (pid ${p.child.pid}) ended (${how}): its lines move to the others after the lease\n`);
      });
    });
    await Promise.all(starts);

    // which instance owns which line, from the lines' lease streams
    const { connectNats } = await import('../runtime/cluster/nats-connect.js');
    const { jetstreamManager } = await import('../runtime/cluster/nats-client.js');
    const { leaseHolders, linesByHolder } = await import('../runtime/cluster/lease-view.js');
    const conn = await connectNats({ servers, name: 'twinloop cluster-demo' });
    nc = conn;
    const jsm = await jetstreamManager(conn);
    const table = async (): Promise<string | undefined> => {
      try {
        const by = linesByHolder(await leaseHolders(jsm, LINES));
        return [...by.entries()].map(([h, ls]) => `${h || '(nobody)'}: ${ls.map((l) => l.split('/')[2]).join(' ')}`).join(' | ');
      } catch {
        return undefined; // an election or a stream being created: ask again
      }
    };
    await until('every line owned', async () => !((await table()) ?? '(nobody)').includes('(nobody)'), 120_000);

    // six lines: two readings each per second, JSON with a value and its time; what the owners publish back is counted
    const sim = await mqtt.connectAsync(mqttUrl, { clientId: 'twinloop-demo-lines', protocolVersion: 5 });
    const watch = await mqtt.connectAsync(mqttUrl, { clientId: 'twinloop-demo-watch', protocolVersion: 5, clean: false });
    clients.push(sim, watch);
    watch.on('message', (_topic, payload) => {
      const r = JSON.parse(String(payload)) as { asset: string; tag: string; tsMs: number };
      const key = `${r.asset}/${r.tag}@${r.tsMs}`;
      processed.set(key, (processed.get(key) ?? 0) + 1);
    });
    await watch.subscribeAsync('demo/cluster/+/+/twin/reading/+', { qos: 1 });
    let t = 0;
    intervals.push(
      setInterval(() => {
        const tsMs = Date.now();
        t++;
        LINES.forEach((line, i) =>
          TAGS.forEach((tag, j) => {
            const value = j === 0 ? 210 + i + Math.sin(t / 30) : 60 + 5 * Math.sin(t / 45 + i);
            published.add(`${line}/extruder/${tag}@${tsMs}`);
            void sim.publishAsync(`${line}/extruder/${tag}`, JSON.stringify({ value: Number(value.toFixed(2)), tsMs }), { qos: 1 });
          }),
        );
      }, 1000),
    );

    process.stdout.write(
      `TwinLoop cluster demo is running (3 nats-server, Mosquitto, 3 TwinLoop instances, 6 lines; lease ${leaseS} s).\n` +
        `  NATS:       ${servers.join(',')}\n` +
        `  MQTT:       ${mqttUrl} (lines publish demo/cluster/lineN/extruder/<tag>; owners publish …/twin/reading/<tag>)\n` +
        INSTANCES.map((n) => `  ${n}:        ${editors.get(n)} (pid ${procs.find((p) => p.name === n)!.child.pid})\n`).join('') +
        `  login:      admin  ${password}\n` +
        `  files:      ${dir} (removed on Ctrl-C)\n` +
        `Try kill -9 <pid>: the instance's lines move to the others after about ${leaseS} s, without losing readings.\n` +
        `Press Ctrl-C to stop.\n`,
    );
    let shown = '';
    const show = async () => {
      const now = await table();
      if (now !== undefined && now !== shown) {
        shown = now;
        process.stdout.write(`${stamp()} owners: ${now}\n`);
      }
    };
    await show();
    intervals.push(setInterval(() => void show(), 500));
  } catch (err) {
    stopping = true;
    if (err instanceof Stopped || stopRequested) {
      process.stdout.write('Stopping the cluster demo…\n');
      await stop();
      process.stdout.write('stopped\n');
      return 0;
    }
    process.stderr.write(`cluster-demo: ${(err as Error).message}\n`);
    await stop();
    return 1;
  }

  await stopSignal;
  stopping = true;
  process.stdout.write('Stopping the cluster demo…\n');
  // readings still in flight at the stop are not counted against the owners
  const settled = [...published].filter((k) => Number(k.split('@')[1]) < Date.now() - 3 * leaseS * 1000);
  const lost = settled.filter((k) => !processed.has(k)).length;
  const duplicates = [...processed.values()].reduce((n, c) => n + c - 1, 0);
  await stop();
  process.stdout.write(
    `readings: published ${published.size}, processed ${processed.size} by the line owners; of those published more than ` +
      `${3 * leaseS} s before the stop, ${lost} not processed; ${duplicates} processed twice\nstopped\n`,
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      // node:util parseArgs: an unknown option is bad usage (2), as in every twinloop command
      const usage = String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS_');
      process.stderr.write(`cluster-demo: ${String((err as Error).message).split('\n')[0]}${usage ? ' (see --help)' : ''}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
