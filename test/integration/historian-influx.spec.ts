/**
 * twin-historian and twin-history-in against a real InfluxDB 1.6 (Debian's influxd, started here on
 * free ports with its data in a temp dir): write and read back every record kind; influxd stopped
 * (SIGTERM) and killed (SIGKILL) and restarted during writes with nothing lost or duplicated; Node-RED's
 * flow stopped and started again (the same buffer dir), and a Node-RED process killed (SIGKILL) and
 * started again, while the buffer holds points; a lost
 * acknowledgement makes the buffer write its points again, and InfluxDB keeps each once.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { InfluxDB } from 'influx';
import { recordKind } from '../../runtime/model/record-kind.js';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startInfluxd, type Influxd } from '../support/influxdb.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { ASSET, T0, bufferedOnDisk, everyKind, reading } from '../support/influx-records.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const configNode = nodeModule('twin-influx-config');
const historianNode = nodeModule('twin-historian');
const historyInNode = nodeModule('twin-history-in');

type Msg = NodeMessage & { error?: { message: string } };
interface ConfigApi {
  buffered(): number;
  written(): number;
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('integration: twin-historian with a real InfluxDB 1.6', function () {
  this.timeout(60_000);
  let influxd: Influxd | undefined;
  let userDir: string;
  let dbName: string;
  let dbCount = 0;
  let direct: InfluxDB;

  before(async function () {
    const bin = ensureDebianBinary('influxdb', 'influxd');
    if (!bin) return this.skip();
    influxd = await startInfluxd(bin);
  });
  after(async function () {
    await influxd?.stop();
  });
  beforeEach(function (done) {
    helper.startServer(done);
  });
  beforeEach(async function () {
    await influxd!.start(); // a failed test may leave it stopped
    userDir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nr-historian-influx-'));
    helper.settings({ userDir });
    dbName = `twin${++dbCount}`;
    direct = new InfluxDB({ host: '127.0.0.1', port: influxd!.port, database: dbName });
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  function flow(over: Record<string, unknown> = {}): object[] {
    return [
      {
        id: 'db',
        type: 'twin-influx-config',
        url: influxd!.url,
        database: dbName,
        createDatabase: true,
        precision: 'ms',
        site: 'hamburg',
        line: 'line2',
        batchSize: 100,
        flushMs: 50,
        retryMinMs: 50,
        retryMaxMs: 400,
        timeoutMs: 2000,
        ...over,
      },
      { id: 'h', type: 'twin-historian', influx: 'db', measurement: '' },
      { id: 'q', type: 'twin-history-in', influx: 'db', measurement: '', output: 'array', limit: 100000, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['h', 'q'], uncaught: false, wires: [['errs']] },
      { id: 'errs', type: 'helper' },
      { id: 'd', type: 'complete', scope: ['h'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ];
  }

  async function load(over: Record<string, unknown> = {}) {
    await helper.load([configNode, historianNode, historyInNode, catchNode, completeNode] as never, flow(over) as never);
    const rig = {
      h: helper.getNode('h'),
      q: helper.getNode('q'),
      db: helper.getNode('db') as unknown as ConfigApi,
      out: [] as Msg[],
      errs: [] as Msg[],
      completed: 0,
    };
    listen<Msg>(helper.getNode('out'), 'input', (m) => rig.out.push(m));
    listen<Msg>(helper.getNode('errs'), 'input', (m) => rig.errs.push(m));
    listen<Msg>(helper.getNode('completed'), 'input', () => rig.completed++);
    return rig;
  }
  type Rig = Awaited<ReturnType<typeof load>>;

  /** Ask twin-history-in; resolves with the records of its (array) answer. */
  async function history(rig: Rig, payload: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const before = rig.out.length;
    rig.q.receive({ payload } as never);
    await waitFor(() => rig.out.length > before || rig.errs.length > 0, 10_000, 20, 'history answer');
    expect(rig.errs.map((e) => e.error?.message)).to.deep.equal([]);
    return rig.out[before].payload as Record<string, unknown>[];
  }

  /** Every stored reading as [tsMs, value], straight from InfluxDB (not through the nodes under test). */
  async function storedReadings(): Promise<[number, number][]> {
    const raw = (await direct.queryRaw('SELECT "value" FROM "reading"', { precision: 'ms' } as never)) as {
      results: { series?: { values: [number, number][] }[] }[];
    };
    return raw.results[0].series?.[0].values ?? [];
  }

  async function drained(rig: Rig, what: string): Promise<void> {
    await waitFor(() => rig.db.buffered() === 0, 30_000, 50, `${what}: buffer drained (${rig.db.buffered()} left)`);
  }

  it('writes every record kind and reads each back unchanged through twin-history-in', async function () {
    const rig = await load();
    const records = everyKind();
    rig.h.receive({ payload: records } as never);
    await waitFor(() => rig.completed === 1, 10_000, 20, 'completion');
    await drained(rig, 'every kind');
    const byKind = new Map<string, Record<string, unknown>[]>();
    for (const r of records) byKind.set(recordKind(r)!, [...(byKind.get(recordKind(r)!) ?? []), r]);
    expect(byKind.size).to.equal(9);
    for (const [kind, want] of byKind) {
      const got = await history(rig, { measurement: kind, fromMs: T0 - 1000, toMs: T0 + 86_400_000 });
      // Records at the same time come back in tag order: compare as sets (keys sorted for the sort).
      const key = (r: Record<string, unknown>) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
      const order = (a: Record<string, unknown>, b: Record<string, unknown>) => key(a).localeCompare(key(b));
      expect([...got].sort(order), kind).to.deep.equal([...want].sort(order));
    }
    // Site and line are tags on the stored points (the records do not carry them).
    const tags = (await direct.queryRaw('SHOW TAG VALUES FROM "reading" WITH KEY IN ("site", "line")')) as {
      results: { series: { values: string[][] }[] }[];
    };
    expect(tags.results[0].series[0].values).to.deep.equal([
      ['line', 'line2'],
      ['site', 'hamburg'],
    ]);
    expect(rig.errs).to.deep.equal([]);
  });

  it('reads a range in time order: asset and tag filters, [fromMs, toMs), limit, one message per record', async function () {
    await helper.load(
      [configNode, historianNode, historyInNode, catchNode, completeNode] as never,
      flow().map((n) =>
        (n as { id: string }).id === 'q' ? { ...n, output: 'each', measurement: 'reading', asset: ASSET, tag: 'zone1_temp', limit: 5 } : n,
      ) as never,
    );
    const rig = {
      h: helper.getNode('h'),
      q: helper.getNode('q'),
      db: helper.getNode('db') as unknown as ConfigApi,
      out: [] as Msg[],
      errs: [] as Msg[],
      completed: 0,
    };
    listen<Msg>(helper.getNode('out'), 'input', (m) => rig.out.push(m));
    listen<Msg>(helper.getNode('errs'), 'input', (m) => rig.errs.push(m));
    // Sent newest first, with another tag and another asset in between.
    const mine = Array.from({ length: 20 }, (_, i) => reading(19 - i));
    const others = [reading(3, { tag: 'zone2_temp' }), reading(4, { asset: `${ASSET}2` })];
    rig.h.receive({ payload: [...mine, ...others] } as never);
    await drained(rig, 'range');
    rig.q.receive({ payload: { fromMs: T0 + 200, toMs: T0 + 1000 } } as never);
    await waitFor(() => rig.out.length === 5, 10_000, 20, '5 messages');
    await sleep(200);
    expect(rig.out).to.have.length(5);
    expect(rig.out.map((m) => m.payload)).to.deep.equal([2, 3, 4, 5, 6].map((i) => reading(i)));
    expect(rig.out.map((m) => m.topic)).to.deep.equal(Array(5).fill(`${ASSET}/zone1_temp`));
    expect(rig.errs).to.deep.equal([]);
  });

  it('loses and duplicates nothing while influxd is stopped, killed and restarted during writes', async function () {
    const rig = await load();
    const N = 3000;
    const CHUNK = 50;
    let sent = 0;
    const sendChunk = () => {
      rig.h.receive({ payload: Array.from({ length: CHUNK }, (_, i) => reading(sent + i)) } as never);
      sent += CHUNK;
    };
    // A third while up, a third while down (SIGTERM, then SIGKILL after a restart), the rest after.
    while (sent < N / 3) {
      sendChunk();
      await sleep(5);
    }
    await waitFor(() => rig.db.written() > 0, 10_000, 10, 'first writes');
    await influxd!.stop();
    while (sent < N / 2) {
      sendChunk();
      await sleep(5);
    }
    await sleep(300); // retries fail meanwhile
    expect(rig.db.buffered()).to.be.greaterThan(0);
    await influxd!.start();
    while (sent < (2 * N) / 3) {
      sendChunk();
      await sleep(5);
    }
    await influxd!.stop(true); // SIGKILL: only what the server acknowledged is on disk, and only that is acked
    while (sent < N) {
      sendChunk();
      await sleep(5);
    }
    await influxd!.start();
    await waitFor(() => rig.completed === N / CHUNK, 20_000, 20, 'every message durable');
    await drained(rig, 'after the restarts');
    const stored = await storedReadings();
    expect(stored.length).to.equal(N);
    expect(stored).to.deep.equal(Array.from({ length: N }, (_, i) => [reading(i).tsMs, reading(i).value]));
    expect(rig.errs).to.deep.equal([]);
    // And through twin-history-in: the same N records.
    const back = await history(rig, { measurement: 'reading', fromMs: T0, toMs: T0 + N * 100 });
    expect(back).to.deep.equal(Array.from({ length: N }, (_, i) => reading(i)));
  });

  it('writes what the buffer held when the flow restarted (influxd down meanwhile), once', async function () {
    await influxd!.stop();
    let rig = await load();
    const N = 1000;
    for (let k = 0; k < N; k += 100) rig.h.receive({ payload: Array.from({ length: 100 }, (_, i) => reading(k + i)) } as never);
    await waitFor(() => rig.completed === N / 100, 10_000, 20, 'every message durable');
    expect(rig.db.buffered()).to.equal(N);
    await helper.unload(); // Node-RED stops the flow: the config node closes its buffer
    rig = await load(); // …and starts it again from the same user dir, with nothing new to write
    expect(rig.db.buffered()).to.equal(N);
    await influxd!.start();
    await drained(rig, 'after the flow restart');
    const stored = await storedReadings();
    expect(stored).to.deep.equal(Array.from({ length: N }, (_, i) => [reading(i).tsMs, reading(i).value]));
  });

  it('a lost acknowledgement makes the buffer write its points again: InfluxDB keeps each point once', async function () {
    let rig = await load();
    const N = 500;
    rig.h.receive({ payload: Array.from({ length: N }, (_, i) => reading(i)) } as never);
    await drained(rig, 'first delivery');
    expect((await storedReadings()).length).to.equal(N);
    const written = rig.db.written();
    expect(written).to.equal(N);
    await helper.unload();
    // As after a crash between InfluxDB's answer and the fsync of the ack: every point is due again.
    writeFileSync(join(userDir, 'twinloop', 'influx-buffer', 'db', 'acked'), '0\n');
    rig = await load();
    expect(rig.db.buffered()).to.equal(N);
    await drained(rig, 'redelivery');
    expect(rig.db.written()).to.equal(N); // written a second time…
    const stored = await storedReadings();
    expect(stored).to.deep.equal(Array.from({ length: N }, (_, i) => [reading(i).tsMs, reading(i).value])); // …stored once
  });

  it('writes what the buffer held when Node-RED was killed (SIGKILL, influxd down), once, after both are back', async function () {
    const N = 500;
    const home = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nr-child-historian-'));
    // Generates N readings once, only when TWINLOOP_TEST_PUBLISH=1 (the first run).
    writeFileSync(
      join(home, 'flows.json'),
      JSON.stringify([
        { id: 't1', type: 'tab', label: 'historian crash test' },
        {
          id: 'db',
          type: 'twin-influx-config',
          url: influxd!.url,
          database: dbName,
          precision: 'ms',
          batchSize: 100,
          flushMs: 50,
          retryMinMs: 50,
          retryMaxMs: 400,
          timeoutMs: 2000,
        },
        {
          id: 'go',
          type: 'inject',
          z: 't1',
          once: true,
          onceDelay: 0.1,
          repeat: '',
          topic: '',
          payload: '',
          payloadType: 'date',
          wires: [['gen']],
        },
        {
          id: 'gen',
          type: 'function',
          z: 't1',
          outputs: 1,
          wires: [['h']],
          func: `if (env.get('TWINLOOP_TEST_PUBLISH') !== '1') return null;
for (let i = 0; i < ${N}; i++) node.send({ payload: { asset: '${ASSET}', tag: 'zone1_temp', value: 200 + i / 8, unit: 'degC', tsMs: ${T0} + i * 100, quality: 'good', source: 'opcua' } });
return null;`,
        },
        { id: 'h', type: 'twin-historian', z: 't1', influx: 'db', wires: [] },
      ]),
    );
    const dist = join(__dirname, '..', '..', 'dist', 'nodes');
    const nodesDirs = [join(dist, 'twin-influx-config'), join(dist, 'twin-historian')];
    const bufferDir = join(home, 'twinloop', 'influx-buffer', 'db');
    let nr: NodeRedChild | undefined;
    try {
      await influxd!.stop();
      nr = await startNodeRedChild(home, nodesDirs, { TWINLOOP_TEST_PUBLISH: '1' });
      await waitFor(() => bufferedOnDisk(bufferDir) === N, 20_000, 50, `${N} points in the buffer on disk`);
      await nr.kill();
      await influxd!.start();
      expect(await storedReadings()).to.deep.equal([]);
      nr = await startNodeRedChild(home, nodesDirs, { TWINLOOP_TEST_PUBLISH: '0' });
      await waitFor(async () => (await storedReadings().catch(() => [])).length >= N, 20_000, 100, `${N} points in InfluxDB`);
      expect(await storedReadings()).to.deep.equal(Array.from({ length: N }, (_, i) => [reading(i).tsMs, reading(i).value]));
      expect(nr.output()).to.not.match(/\[error\]/);
    } finally {
      await nr?.kill();
    }
  });
});

describe('integration: twin-influx-config credentials against InfluxDB 1.6 with authentication on', function () {
  this.timeout(30_000);
  let influxd: Influxd | undefined;

  before(async function () {
    const bin = ensureDebianBinary('influxdb', 'influxd');
    if (!bin) return this.skip();
    influxd = await startInfluxd(bin, { auth: true });
    // With no user yet, InfluxDB accepts exactly this statement without credentials.
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'pw-0f-admin' WITH ALL PRIVILEGES" }),
    });
    expect(res.status).to.equal(200);
  });
  after(async function () {
    await influxd?.stop();
  });
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('writes and reads with the credentials; with a wrong password keeps the points buffered and never logs it', async function () {
    helper.settings({ userDir: mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nr-historian-auth-')) });
    const cfg = {
      type: 'twin-influx-config',
      url: influxd!.url,
      database: 'secured',
      precision: 'ms',
      batchSize: 100,
      flushMs: 20,
      retryMinMs: 50,
      retryMaxMs: 200,
      timeoutMs: 2000,
    };
    await helper.load(
      [configNode, historianNode, historyInNode] as never,
      [
        { id: 'ok', ...cfg },
        { id: 'bad', ...cfg, database: 'other' },
        { id: 'h1', type: 'twin-historian', influx: 'ok' },
        { id: 'h2', type: 'twin-historian', influx: 'bad' },
        { id: 'q', type: 'twin-history-in', influx: 'ok', measurement: 'reading', output: 'array', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ] as never,
      { ok: { user: 'admin', password: 'pw-0f-admin' }, bad: { user: 'admin', password: 'wrong-pw-123' } } as never,
    );
    const logged: string[] = [];
    for (const level of ['log', 'warn', 'error'])
      listen<{ args: unknown[] }>(helper.getNode('bad'), `call:${level}`, (c) => logged.push(String(c.args[0])));
    const statuses: { fill?: string; text?: string }[] = [];
    listen<{ args: [{ fill?: string; text?: string }] }>(helper.getNode('h2'), 'call:status', (c) => statuses.push(c.args[0]));
    const out: Msg[] = [];
    listen<Msg>(helper.getNode('out'), 'input', (m) => out.push(m));
    const records = Array.from({ length: 10 }, (_, i) => reading(i));
    helper.getNode('h1').receive({ payload: records } as never);
    helper.getNode('h2').receive({ payload: records } as never);
    const ok = helper.getNode('ok') as unknown as ConfigApi;
    const bad = helper.getNode('bad') as unknown as ConfigApi;
    await waitFor(() => ok.written() === 10, 10_000, 20, 'written with the right password');
    helper.getNode('q').receive({ payload: { fromMs: T0, toMs: T0 + 10_000 } } as never);
    await waitFor(() => out.length === 1, 10_000, 20, 'history answer');
    expect(out[0].payload).to.deep.equal(records);
    await waitFor(() => statuses.some((s) => s.fill === 'yellow' && s.text === 'buffered 10'), 10_000, 20, 'yellow "buffered 10"');
    expect(bad.written()).to.equal(0);
    expect(bad.buffered()).to.equal(10);
    expect(logged.join('\n')).to.match(/401|authoriz/i);
    expect(logged.join('\n')).to.not.include('wrong-pw-123');
  });
});
