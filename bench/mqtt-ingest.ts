/**
 * MQTT ingestion benchmark (raw part): how fast JSON readings arrive
 *   (a) at a bare mqtt.js client — the baseline: what the broker and client library can do — and
 *   (b) out of twin-mqtt-in in a Node-RED runtime (node-red-node-test-helper, in-process),
 * from aedes (in-process) and Mosquitto (Debian, child process), over loopback.
 * A separate mqtt.js client publishes the readings (QoS 0) as fast as the broker takes them; every
 * payload carries its send time, so latency is publish → receive on one clock.
 * twin-screen and the pass-through chain are added by the lead once twin-screen exists.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { Aedes } from 'aedes';
import { latencyStats, memory, progress, progressDone, type BenchRow } from './harness.js';

const N = Number(process.env.TWINLOOP_BENCH_MQTT_N ?? 20_000);
const BATCH = 200;
const IDLE_MS = 3000;

function packageRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package root not found');
    d = up;
  }
  return d;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Broker {
  name: string;
  url: string;
  protocol: 4 | 5;
  stop(): Promise<void>;
}

async function startAedes(): Promise<Broker> {
  const broker = await Aedes.createBroker();
  const port = await freePort();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    name: 'aedes', url: `mqtt://127.0.0.1:${port}`, protocol: 4,
    stop: () => new Promise<void>((r) => broker.close(() => server.close(() => r()))),
  };
}

async function startMosquitto(): Promise<Broker | undefined> {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
  if (!bin) {
    process.stderr.write('!!!!! mqtt-ingest bench: Mosquitto not installed (apt-get install mosquitto); its rows are skipped !!!!!\n');
    return undefined;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nuser ${userInfo().username}\nmax_queued_messages 1000000\nlog_dest none\n`);
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > until) throw new Error('mosquitto did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    name: 'Mosquitto', url: `mqtt://127.0.0.1:${port}`, protocol: 5,
    stop: () => new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGTERM');
    }),
  };
}

function connectClient(url: string, protocol: 4 | 5): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: protocol, reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** Publish N readings in batches, each batch once the previous is written to the socket. */
async function publishAll(pub: MqttClient, topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += BATCH) {
    const end = Math.min(n, i + BATCH);
    await new Promise<void>((resolve, reject) => {
      for (let k = i; k < end; k++) {
        const payload = `{"value":${k},"tsMs":${Date.now()},"quality":"good","unit":"degC","t":${performance.now()}}`;
        pub.publish(topic, payload, { qos: 0 }, k === end - 1 ? (err) => (err ? reject(err) : resolve()) : undefined);
      }
    });
    if (i % 5000 === 0) progress(`mqtt-ingest: published ${i}/${n}`);
  }
}

interface Receiver {
  count: number;
  latencies: number[];
  lastMs: number;
}

async function waitDone(rx: Receiver, n: number): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  while (rx.count < n) {
    await new Promise((r) => setTimeout(r, 20));
    if (rx.count !== last) {
      last = rx.count;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > IDLE_MS) break; // messages lost (QoS 0): report what arrived
  }
}

function row(rx: Receiver, startMs: number, suiteCase: string, baseline: boolean, note: string): BenchRow {
  const s = (rx.lastMs - startMs) / 1000;
  return {
    suite: 'mqtt-ingest', case: suiteCase, baseline, count: rx.count,
    throughputPerS: rx.count / s, ...latencyStats(rx.latencies), ...memory(),
    note: `${note}${rx.count < N ? `; ${N - rx.count} of ${N} not received` : ''}`,
  };
}

async function bareClient(b: Broker): Promise<BenchRow> {
  const sub = await connectClient(b.url, b.protocol);
  const pub = await connectClient(b.url, b.protocol);
  const topic = 'bench/plant1/line1/extruder/zone1_temp';
  const rx: Receiver = { count: 0, latencies: [], lastMs: 0 };
  sub.on('message', (_t, payload) => {
    const now = performance.now();
    const m = JSON.parse(payload.toString()) as { t: number };
    rx.latencies.push(now - m.t);
    rx.count++;
    rx.lastMs = now;
  });
  await new Promise<void>((r, j) => sub.subscribe('bench/#', { qos: 0 }, (e) => (e ? j(e) : r())));
  const start = performance.now();
  await publishAll(pub, topic, N);
  await waitDone(rx, N);
  const r = row(rx, start, `bare mqtt.js client ← ${b.name}`, true, 'JSON.parse per message');
  await Promise.all([new Promise((x) => sub.end(true, {}, () => x(null))), new Promise((x) => pub.end(true, {}, () => x(null)))]);
  return r;
}

async function twinMqttIn(b: Broker): Promise<BenchRow> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require('node-red-node-test-helper');
  helper.init(require.resolve('node-red'));
  const root = packageRoot();
  const mod = (t: string) => require(join(root, 'dist', 'nodes', t, `${t}.js`)); // eslint-disable-line @typescript-eslint/no-require-imports
  const userDir = mkdtempSync(join(tmpdir(), 'bench-nr-'));
  helper.settings({ userDir, logging: { console: { level: 'off' } } });
  await new Promise<void>((r) => helper.startServer(() => r()));
  await helper.load([mod('twin-mqtt-broker'), mod('twin-mqtt-in')], [
    { id: 'b1', type: 'twin-mqtt-broker', url: b.url, protocolVersion: b.protocol, cleanSession: true },
    { id: 'in', type: 'twin-mqtt-in', broker: 'b1', mode: 'json', pattern: 'bench/{asset+}/{tag}', qos: 0, wires: [['sink']] },
    { id: 'sink', type: 'helper' },
  ]);
  const rx: Receiver = { count: 0, latencies: [], lastMs: 0 };
  // Latency needs the send time, which the Reading does not carry: look it up by value (= index).
  const sentAt = new Float64Array(N);
  const link = helper.getNode('b1').link;
  const until = Date.now() + 10_000;
  while (!link.connected && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  // Wait for the SUBSCRIBE to be in place: probe until the node outputs.
  const pub = await connectClient(b.url, b.protocol);
  let primed = false;
  helper.getNode('sink').on('input', (msg: { payload: { value: number } }) => {
    if (!primed) return void (primed = true);
    const now = performance.now();
    const v = msg.payload.value;
    if (v >= 0 && v < N) rx.latencies.push(now - sentAt[v]);
    rx.count++;
    rx.lastMs = now;
  });
  while (!primed) {
    pub.publish('bench/probe/x', `{"value":-1,"tsMs":${Date.now()}}`, { qos: 0 });
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100));
  rx.count = 0;
  rx.latencies.length = 0;
  const topic = 'bench/plant1/line1/extruder/zone1_temp';
  const start = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const end = Math.min(N, i + BATCH);
    await new Promise<void>((resolve, reject) => {
      for (let k = i; k < end; k++) {
        sentAt[k] = performance.now();
        pub.publish(topic, `{"value":${k},"tsMs":${Date.now()},"quality":"good","unit":"degC"}`, { qos: 0 }, k === end - 1 ? (err) => (err ? reject(err) : resolve()) : undefined);
      }
    });
  }
  await waitDone(rx, N);
  const r = row(rx, start, `twin-mqtt-in ← ${b.name}`, false, 'Node-RED runtime (test helper), JSON mode, one msg per Reading');
  await new Promise((x) => pub.end(true, {}, () => x(null)));
  await helper.unload();
  await new Promise<void>((x) => helper.stopServer(() => x()));
  return r;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const brokers = [await startAedes(), await startMosquitto()].filter((b): b is Broker => !!b);
  try {
    for (const b of brokers) {
      progress(`mqtt-ingest: bare client ← ${b.name}`);
      const base = await bareClient(b);
      rows.push(base);
      progress(`mqtt-ingest: twin-mqtt-in ← ${b.name}`);
      const t = await twinMqttIn(b);
      t.note += `; ${((t.throughputPerS ?? 0) / (base.throughputPerS ?? 1) * 100).toFixed(0)}% of the bare client's rate`;
      rows.push(t);
    }
  } finally {
    progressDone();
    for (const b of brokers) await b.stop();
  }
  return rows;
}

if (require.main === module) {
  run().then((rows) => console.table(rows), (err) => {
    console.error(err);
    process.exit(1);
  });
}
