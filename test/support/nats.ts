/**
 * Real Debian nats-server processes with JetStream on free 127.0.0.1 ports and temp store dirs: a
 * 3-node cluster (or a single node); `extraConfig` is added to each node's config (say, an
 * `authorization` block, whose user and password the helper's own clients then use). A node can be SIGKILLed and restarted on the same ports and
 * store dir, as a crashed machine comes back. Use only after `ensureDebianBinary('nats-server',
 * 'nats-server')` returned a path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, waitFor } from './ports.js';

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  running(): boolean;
  /** The server's process id while it runs (CPU accounting in benches). */
  pid(): number | undefined;
  /** SIGKILL (no shutdown: a machine that dies) and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and store dir. */
  start(): Promise<void>;
  /** What the server printed (for failure messages). */
  log(): string;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL (what a client gets as its server list). */
  servers: string[];
  /** A client connection to all nodes, closed by stop(). */
  connect(): Promise<NatsConnection>;
  /** The node that leads a stream's raft group now (undefined while none does). */
  streamLeader(stream: string): Promise<NatsNode | undefined>;
  /** The node that leads the JetStream meta group now, as a running node's monitoring (/jsz) says (undefined while none does). */
  metaLeader(): Promise<NatsNode | undefined>;
  /** Kill every node, close the clients, remove the store dirs. */
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A JetStream cluster of `size` nodes (1: a single server without clustering). */
export async function startNatsCluster(
  bin: string,
  size = 3,
  opts: { extraConfig?: string; user?: string; password?: string } = {},
): Promise<NatsCluster> {
  const dir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nats-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort(), monitor: await freePort() })),
  );
  const clients: NatsConnection[] = [];
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const store = join(dir, name);
    mkdirSync(store);
    const conf = join(dir, `${name}.conf`);
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`);
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `http: 127.0.0.1:${p.monitor}`,
        `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 1GB }`,
        ...(size > 1 ? [`cluster { name: twinloop-test, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }`] : []),
        opts.extraConfig ?? '',
      ].join('\n') + '\n',
    );
    let child: ChildProcess | undefined;
    let out = '';
    const node: NatsNode = {
      name,
      port: p.client,
      url: `nats://127.0.0.1:${p.client}`,
      running: () => child !== undefined,
      pid: () => child?.pid,
      async kill() {
        const c = child;
        if (!c) return;
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGKILL');
        await exited;
      },
      async start() {
        if (child) return;
        const c = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
        child = c;
        c.stdout!.on('data', (d) => (out += String(d)));
        c.stderr!.on('data', (d) => (out += String(d)));
        c.once('exit', () => {
          if (child === c) child = undefined;
        });
        await waitFor(
          async () => {
            if (!child) throw new Error(`nats-server ${name} exited at start:\n${out}`);
            return canConnect(p.client);
          },
          15_000,
          25,
          `nats-server ${name} listening on ${p.client}`,
        );
      },
      log: () => out,
    };
    return node;
  });
  await Promise.all(nodes.map((n) => n.start()));
  const servers = nodes.map((n) => n.url);

  const cluster: NatsCluster = {
    nodes,
    servers,
    async connect() {
      const login = opts.user ? { user: opts.user, pass: opts.password ?? '' } : {};
      const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1, ...login });
      clients.push(nc);
      return nc;
    },
    async streamLeader(stream) {
      const nc = await cluster.connect();
      try {
        // during an election (or right after a node came back) the info request may time out: ask again
        const jsm = (await waitFor(() => jetstreamManager(nc).catch(() => undefined), 30_000, 100, 'JetStream manager'))!;
        const info = await waitFor(() => jsm.streams.info(stream).catch(() => undefined), 30_000, 100, `stream ${stream} info`);
        return nodes.find((n) => n.name === info!.cluster?.leader);
      } finally {
        await nc.close();
      }
    },
    async metaLeader() {
      const names = await Promise.all(
        nodes
          .map((n, i) => ({ n, port: ports[i]!.monitor }))
          .filter(({ n }) => n.running())
          .map(({ port }) =>
            fetch(`http://127.0.0.1:${port}/jsz`)
              .then((r) => r.json() as Promise<{ meta_cluster?: { leader?: string } }>)
              .then(
                (j) => j.meta_cluster?.leader,
                () => undefined,
              ),
          ),
      );
      const leader = names.find((x) => x);
      return nodes.find((n) => n.name === leader);
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // JetStream answers only once the meta group has a leader (a cluster elects one after start).
  try {
    const nc = await cluster.connect();
    const jsm = (await waitFor(() => jetstreamManager(nc).catch(() => undefined), 30_000, 100, 'JetStream ready'))!;
    await waitFor(
      () =>
        jsm.getAccountInfo().then(
          () => true,
          () => false,
        ),
      30_000,
      100,
      'JetStream meta leader',
    );
    await nc.close();
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.name}\n${n.log()}`).join('\n');
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}
