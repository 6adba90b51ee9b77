/**
 * twin-historian, twin-history-in and twin-influx-config in a real Node-RED runtime: bad inputs and bad
 * configs. The database URL points at a port nobody listens on, so accepted points stay in the buffer,
 * which the status shows (the real InfluxDB is in test/integration/historian-influx.spec.ts).
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { freePort, waitFor } from '../support/ports.js';
import { bufferedOnDisk, estimate, reading } from '../support/influx-records.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const configNode = nodeModule('twin-influx-config');
const historianNode = nodeModule('twin-historian');
const historyInNode = nodeModule('twin-history-in');

type Msg = NodeMessage & { error?: { message: string } };
type Status = { fill?: string; text?: string };
interface Rig {
  node: Node;
  caught: Msg[];
  completed: Msg[];
  statuses: Status[];
  errors: unknown[];
  userDir: string;
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

describe('twin-historian / twin-history-in (node, database unreachable)', function () {
  let url: string;
  let userDir: string;

  beforeEach(function (done) {
    helper.startServer(done);
  });
  beforeEach(async function () {
    url = `http://127.0.0.1:${await freePort()}`;
    userDir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'nr-historian-'));
    helper.settings({ userDir });
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  async function load(
    type: 'twin-historian' | 'twin-history-in',
    cfg: Record<string, unknown>,
    influx: Record<string, unknown> = {},
  ): Promise<Rig> {
    const flow = [
      { id: 'db', type: 'twin-influx-config', url, database: 'twin', retryMinMs: 50, retryMaxMs: 200, timeoutMs: 1000, ...influx },
      { id: 'n', type, influx: 'db', ...cfg, wires: type === 'twin-history-in' ? [['o']] : [] },
      { id: 'o', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['n'], uncaught: false, wires: [['k']] },
      { id: 'k', type: 'helper' },
      { id: 'd', type: 'complete', scope: ['n'], uncaught: false, wires: [['dn']] },
      { id: 'dn', type: 'helper' },
    ];
    await helper.load([configNode, historianNode, historyInNode, catchNode, completeNode] as never, flow, {
      db: { user: 'writer', password: 's3cret' },
    });
    const rig: Rig = { node: helper.getNode('n'), caught: [], completed: [], statuses: [], errors: [], userDir };
    listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
    listen<Msg>(helper.getNode('dn'), 'input', (m) => rig.completed.push(m));
    listen<{ args: [Status] }>(rig.node, 'call:status', (c) => rig.statuses.push(c.args[0]));
    listen<{ args: unknown[] }>(rig.node, 'call:error', (c) => rig.errors.push(c.args[0]));
    return rig;
  }

  const bufferDir = () => join(userDir, 'twinloop', 'influx-buffer', 'db');

  const badPayloads: [string, unknown, RegExp][] = [
    ['no payload', undefined, /must be an object/],
    ['a string', 'hello', /must be an object/],
    ['a number', 42, /must be an object/],
    ['an unknown shape', { asset: 'a', tsMs: 1, foo: 2 }, /cannot tell the record kind/],
    ['a reading without asset', { ...reading(0), asset: '' }, /asset must be a non-empty string/],
    ['a reading with a text time', { ...reading(0), tsMs: 'now' }, /tsMs must be epoch milliseconds/],
    ['a bad quality', { ...reading(0), quality: 'fine' }, /quality must be good, uncertain or bad/],
    ['an infinite number in an estimate', { ...estimate, nis: Infinity }, /nis is not finite/],
    ['a line break in a tag', { ...reading(0), tag: 'a\nb' }, /line break/],
    [
      'an array with one bad record',
      [reading(0), reading(1), { ...reading(2), asset: 7 }],
      /record 2 of 3: record.asset must be a non-empty string/,
    ],
  ];
  for (const [what, payload, re] of badPayloads) {
    it(`refuses ${what} (Catch, red status), buffers nothing of it, and keeps storing`, async function () {
      const rig = await load('twin-historian', {});
      rig.node.receive({ payload } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'caught error');
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
      expect(bufferedOnDisk(bufferDir())).to.equal(0);
      // The node still works: a good record is made durable and the message completes.
      rig.node.receive({ payload: reading(9) } as never);
      await waitFor(() => rig.completed.length === 1, 5000, 10, 'completion');
      expect(bufferedOnDisk(bufferDir())).to.equal(1);
      expect(rig.caught).to.have.length(1);
    });
  }

  it('buffers records and arrays while the database is away, and says so in a yellow status', async function () {
    const rig = await load('twin-historian', {});
    rig.node.receive({ payload: [reading(0), reading(1), estimate] } as never);
    rig.node.receive({ payload: reading(2) } as never);
    await waitFor(() => rig.completed.length === 2, 5000, 10, 'completions');
    expect(bufferedOnDisk(bufferDir())).to.equal(4);
    await waitFor(() => rig.statuses.some((s) => s.fill === 'yellow' && s.text === 'buffered 4'), 5000, 20, 'yellow "buffered 4"');
    expect(rig.caught).to.deep.equal([]);
  });

  it('takes the measurement from the node config, else msg.kind; a bad msg.kind is refused', async function () {
    const rig = await load('twin-historian', {});
    rig.node.receive({ payload: reading(0), kind: 'raw-readings' } as never);
    rig.node.receive({ payload: reading(1), kind: 'no spaces please' } as never);
    await waitFor(() => rig.completed.length === 1 && rig.caught.length === 1, 5000, 10, 'one stored, one refused');
    expect(rig.caught[0].error?.message).to.match(/measurement 'no spaces please'/);
    const seg = readdirSync(bufferDir()).find((f) => f.startsWith('seg-'))!;
    expect(JSON.parse(readFileSync(join(bufferDir(), seg), 'utf8').split('\n')[0]).r.measurement).to.equal('raw-readings');
  });

  it('keeps credentials out of the buffer and the flow, and never logs them', async function () {
    const rig = await load('twin-historian', {});
    rig.node.receive({ payload: reading(0) } as never);
    await waitFor(() => rig.completed.length === 1, 5000, 10, 'completion');
    const db = helper.getNode('db') as unknown as { credentials: { user: string; password: string } };
    expect(db.credentials).to.deep.equal({ user: 'writer', password: 's3cret' });
    const seg = readdirSync(bufferDir()).find((f) => f.startsWith('seg-'))!;
    expect(readFileSync(join(bufferDir(), seg), 'utf8')).to.not.include('s3cret');
    expect(JSON.stringify(rig.errors)).to.not.include('s3cret');
  });

  const badConfigs: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['a measurement with a space', { measurement: 'my readings' }, {}, /measurement 'my readings'/],
    ['no config node', { influx: '' }, {}, /no twin-influx-config selected/],
  ];
  for (const [what, cfg, influx, re] of badConfigs) {
    it(`config validation: ${what} → node error, red status, inputs refused (BAD_CONFIG)`, async function () {
      const rig = await load('twin-historian', cfg, influx);
      await waitFor(() => rig.errors.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config')).to.equal(true);
      rig.node.receive({ payload: reading(0) } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'refusal');
      expect(rig.caught[0].error?.message).to.match(/not storing: the node's configuration is invalid/);
    });
  }

  const badInflux: [string, Record<string, unknown>, RegExp][] = [
    ['a URL without http', { url: 'influx://x:8086' }, /must start with http/],
    ['credentials in the URL', { url: 'http://u:p@127.0.0.1:8086' }, /credentials, not in the URL/],
    ['an empty database', { database: '' }, /database must be/],
    ['an unknown precision', { precision: 'h' }, /precision must be one of n, u, ms, s/],
    ['a batch of 0', { batchSize: 0 }, /batchSize must be a whole number ≥ 1/],
    ['retry max below min', { retryMinMs: 500, retryMaxMs: 100 }, /retryMaxMs must not be below retryMinMs/],
  ];
  for (const [what, influx, re] of badInflux) {
    it(`twin-influx-config validation: ${what} → historians refuse inputs with the reason`, async function () {
      const rig = await load('twin-historian', {}, influx);
      await waitFor(() => rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad config'), 5000, 10, 'red status');
      rig.node.receive({ payload: reading(0) } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'refusal');
      expect(rig.caught[0].error?.message).to.match(re);
    });
  }

  const badRequests: [string, unknown, RegExp][] = [
    ['no measurement', { fromMs: 1, toMs: 2 }, /measurement \(or kind\) is required/],
    ['no range', { measurement: 'reading' }, /fromMs is required/],
    ['an inverted range', { measurement: 'reading', fromMs: 10, toMs: 5 }, /toMs \(5\) must be after fromMs \(10\)/],
    ['a text range', { measurement: 'reading', fromMs: 'monday', toMs: 5 }, /fromMs is not a valid time/],
    ['a bad limit', { measurement: 'reading', fromMs: 1, toMs: 5, limit: -1 }, /limit must be a whole number/],
    ['a quote in the measurement', { measurement: 'reading"', fromMs: 1, toMs: 5 }, /measurement 'reading"'/],
  ];
  for (const [what, payload, re] of badRequests) {
    it(`twin-history-in refuses ${what} (Catch, red status) and keeps running`, async function () {
      const rig = await load('twin-history-in', { measurement: '' });
      rig.node.receive({ payload } as never);
      await waitFor(() => rig.caught.length === 1, 5000, 10, 'caught error');
      expect(rig.caught[0].error?.message).to.match(re);
      expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
      // A good request reaches the (absent) database: a CONNECTION error, not a crash.
      rig.node.receive({ payload: { measurement: 'reading', fromMs: 1, toMs: 5 } } as never);
      await waitFor(() => rig.caught.length === 2, 5000, 10, 'connection error');
      expect(rig.caught[1].error?.message).to.match(/InfluxDB query failed/);
    });
  }

  it('twin-history-in config validation: a bad output mode and a negative range are refused', async function () {
    for (const [cfg, re] of [
      [{ output: 'csv' }, /output must be 'each' or 'array'/],
      [{ rangeMs: -5 }, /rangeMs must be a whole number/],
    ] as const) {
      const rig = await load('twin-history-in', cfg);
      await waitFor(() => rig.errors.length > 0, 5000, 10, 'config error');
      expect(String(rig.errors[0])).to.match(re);
      await helper.unload();
    }
  });
});
