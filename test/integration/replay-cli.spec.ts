// `twinloop replay` as a person runs it: the built CLI as a child process over a CSV made by the
// plant simulator (with an injected spike fault), flows with twin-mqtt-in / twin-opcua-in →
// twin-screen, and config nodes pointing at TCP listeners that count connection attempts.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHeadless, rowsToCsv } from '../../examples/plant-sim/engine.js';
import { Screener } from '../../runtime/ingest/screen/screener.js';
import { configFromDef, type TwinScreenDef } from '../../nodes/twin-screen/screen-def.js';
import type { Reading } from '../../runtime/model/reading.js';
import { freePort } from '../support/ports.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
const START_MS = Date.parse('2026-01-05T08:00:00Z');
const ROWS_S = 300;
const FAULT_AT_MS = 150_000;
const ASSET = 'demo/plant1/extrusion/line1/extruder';
const SCREEN = { spikeWindow: '10', spikeK: '4' };

interface Line {
  nodeId: string;
  nodeType: string;
  port: number;
  topic: string;
  payload: Reading;
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function replay(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'replay', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

/** A TCP listener that stands for a broker / OPC UA server and counts who tries to connect. */
async function countingListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const port = await freePort();
  let n = 0;
  const srv: Server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  return { port, connections: () => n, close: () => new Promise((r) => srv.close(() => r())) };
}

/** What twin-screen must give for this input sequence: the node's Screener, fed synchronously (no stale timer can fire). */
function screened(inputs: Reading[], def: Partial<TwinScreenDef>): Reading[] {
  const out: Reading[] = [];
  const screener = new Screener(configFromDef(def as TwinScreenDef), (r) => out.push(r));
  for (const r of inputs) out.push(screener.step({ ...r }));
  screener.close();
  return JSON.parse(JSON.stringify(out)) as Reading[]; // as the JSON lines carry it (no undefined fields)
}

describe('twinloop replay (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let csv: string;
  let expected: Reading[];
  let broker: Awaited<ReturnType<typeof countingListener>>;
  let opcua: Awaited<ReturnType<typeof countingListener>>;
  let mqttFlow: string;
  let opcuaFlow: string;
  const OPCUA_TAGS = ['zone1_temp', 'zone2_temp', 'vibration'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-replay-cli-'));
    broker = await countingListener();
    opcua = await countingListener();
    const rows = runHeadless({ seed: 11, startTsMs: START_MS }, ROWS_S * 1000, [{ atMs: FAULT_AT_MS, command: 'spike zone1_temp 40 0.3' }]);
    csv = join(dir, 'extruder.csv');
    writeFileSync(csv, rowsToCsv(rows));
    // The readings the file holds, read here independently of the replay code.
    const [header, ...lines] = readFileSync(csv, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expected = [];
    for (const cells of lines) {
      header.forEach((tag, i) => {
        if (i === 0 || cells[i] === '') return;
        expected.push({ asset: ASSET, tag, value: Number(cells[i]), tsMs: Number(cells[0]), quality: 'good', source: 'replay' });
      });
    }
    mqttFlow = join(dir, 'mqtt-flow.json');
    writeFileSync(
      mqttFlow,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'replay' },
        { id: 'brk', type: 'twin-mqtt-broker', url: `mqtt://127.0.0.1:${broker.port}`, reconnectPeriodMs: '50' },
        {
          id: 'in',
          type: 'twin-mqtt-in',
          z: 'tab',
          name: 'extruder',
          broker: 'brk',
          mode: 'json',
          pattern: `${ASSET}/{tag}`,
          assetTemplate: ASSET,
          wires: [['scr']],
        },
        { id: 'scr', type: 'twin-screen', z: 'tab', ...SCREEN, wires: [['out', 'dbg']] },
        { id: 'out', type: 'twin-mqtt-out', z: 'tab', broker: 'brk', wires: [] },
        { id: 'dbg', type: 'debug', z: 'tab', active: false, wires: [] },
      ]),
    );
    opcuaFlow = join(dir, 'opcua-flow.json');
    writeFileSync(
      opcuaFlow,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'replay' },
        {
          id: 'ep',
          type: 'twin-opcua-endpoint',
          endpointUrl: `opc.tcp://127.0.0.1:${opcua.port}/UA/X`,
          securityMode: 'None',
          securityPolicy: 'None',
          authMode: 'anonymous',
        },
        {
          id: 'oin',
          type: 'twin-opcua-in',
          z: 'tab',
          endpoint: 'ep',
          items: OPCUA_TAGS.map((tag) => ({
            nodeId: `ns=1;s=extruder.${tag}`,
            asset: ASSET,
            tag,
            unit: tag === 'vibration' ? 'mm/s' : 'degC',
          })),
          wires: [['scr']],
        },
        { id: 'scr', type: 'twin-screen', z: 'tab', ...SCREEN, flaggedOutput: true, wires: [[], []] },
      ]),
    );
  });

  after(async () => {
    await broker?.close();
    await opcua?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help explains the options and the routing rule', async () => {
    const r = await replay(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: twinloop replay --flow FLOW\.json --input DATA\.csv/);
    for (const opt of ['--out', '--time-column', '--asset-column', '--asset', '--delimiter', '--skip-column'])
      expect(r.stdout).to.include(opt);
    expect(r.stdout).to.match(/twin-opcua-in gets the readings whose asset and tag are\s+one of its items/);
  });

  it('twin-mqtt-in → twin-screen: every reading in time order, screened as the screen does, no connection opened', async () => {
    const r = await replay(['--flow', mqttFlow, '--input', csv, '--time-column', 'tsMs', '--asset', ASSET]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = parse(r.stdout);
    const fromIn = lines.filter((l) => l.nodeId === 'in');
    expect(fromIn.map((l) => l.payload)).to.deep.equal(expected);
    expect(
      fromIn.every((l) => l.nodeType === 'twin-mqtt-in' && l.port === 0 && l.topic === `${l.payload.asset}/${l.payload.tag}`),
    ).to.equal(true);
    for (let i = 1; i < lines.length; i++) expect(lines[i].payload.tsMs).to.be.at.least(lines[i - 1].payload.tsMs - 0);
    const fromScreen = lines.filter((l) => l.nodeId === 'scr');
    expect(fromScreen.map((l) => l.payload)).to.deep.equal(screened(expected, SCREEN));
    // the injected fault shows: zone1_temp spikes flagged mostly after it began (the halves are equally long)
    const spikes = fromScreen.filter((l) => l.payload.tag === 'zone1_temp' && l.payload.qualityReason === 'spike');
    const after = spikes.filter((l) => l.payload.tsMs >= START_MS + FAULT_AT_MS).length;
    expect(after, `spikes flagged before/after the fault: ${spikes.length - after}/${after}`).to.be.greaterThan(
      3 * (spikes.length - after),
    );
    expect(lines.some((l) => l.nodeType === 'twin-mqtt-out')).to.equal(false);
    expect(r.stderr).to.match(/disabled: twin-mqtt-out \(out\) \(a replay writes to no broker/);
    expect(r.stderr).to.match(/301 rows \(\d+ readings\) in [\d.]+ s/);
    expect(broker.connections()).to.equal(0);
  });

  it('twin-opcua-in → twin-screen: only its items, with their units; the flagged output too; no session opened', async () => {
    const out = join(dir, 'opcua.jsonl');
    const r = await replay(['--flow', opcuaFlow, '--input', csv, '--time-column', 'tsMs', '--asset', ASSET, '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    const lines = parse(readFileSync(out, 'utf8'));
    const mine = expected.filter((e) => OPCUA_TAGS.includes(e.tag)).map((e) => ({ ...e, unit: e.tag === 'vibration' ? 'mm/s' : 'degC' }));
    expect(lines.filter((l) => l.nodeId === 'oin').map((l) => l.payload)).to.deep.equal(mine);
    const port0 = lines.filter((l) => l.nodeId === 'scr' && l.port === 0).map((l) => l.payload);
    expect(port0).to.deep.equal(screened(mine, SCREEN));
    const flagged = lines.filter((l) => l.nodeId === 'scr' && l.port === 1).map((l) => l.payload);
    expect(flagged).to.deep.equal(port0.filter((p) => p.quality !== 'good'));
    expect(flagged.some((p) => p.tag === 'zone1_temp' && p.qualityReason === 'spike')).to.equal(true);
    expect(opcua.connections()).to.equal(0);
  });

  it('is deterministic, and replays a shuffled file in time order with the same result', async () => {
    const shuffled = join(dir, 'shuffled.csv');
    const [head, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
    // a fixed permutation (no randomness in tests): odd rows reversed, then even rows
    const perm = [...rows.filter((_, i) => i % 2 === 1).reverse(), ...rows.filter((_, i) => i % 2 === 0)];
    writeFileSync(shuffled, [head, ...perm].join('\r\n') + '\r\n');
    const args = ['--flow', mqttFlow, '--time-column', 'tsMs', '--asset', ASSET];
    const [a, b, c] = await Promise.all([
      replay([...args, '--input', csv]),
      replay([...args, '--input', csv]),
      replay([...args, '--input', shuffled]),
    ]);
    expect([a.code, b.code, c.code]).to.deep.equal([0, 0, 0]);
    expect(a.stdout.length).to.be.greaterThan(0);
    expect(b.stdout).to.equal(a.stdout);
    expect(c.stdout).to.equal(a.stdout);
    expect(c.stderr).to.match(/is not in time order: replaying it sorted by time/);
  });

  it("gives a node that names none of the file's tags every reading (asset from the file name)", async () => {
    const r = await replay(['--flow', opcuaFlow, '--input', csv, '--time-column', 'tsMs']);
    expect(r.code, r.stderr).to.equal(0);
    const fromIn = parse(r.stdout).filter((l) => l.nodeId === 'oin');
    expect(fromIn).to.have.length(expected.length);
    expect(fromIn.every((l) => l.payload.asset === 'extruder')).to.equal(true);
  });

  describe('bad input: a non-zero exit and a message that says where', () => {
    const fail = async (args: string[], message: RegExp) => {
      const r = await replay(args);
      expect(r.code, r.stderr).to.not.equal(0);
      expect(r.stderr).to.match(message);
      expect(r.stdout).to.equal('');
    };
    const data = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it('a flow that is not JSON, or names an unknown node type', async () => {
      await fail(['--flow', data('bad.json', '[{"id":'), '--input', csv], /^twinloop replay: .*bad\.json: the flow is not JSON/);
      const unknown = data(
        'unknown.json',
        JSON.stringify([
          { id: 'brk', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:1' },
          { id: 'in', type: 'twin-mqtt-in', broker: 'brk', wires: [['x']] },
          { id: 'x', type: 'twin-teleport', name: 'beam', wires: [] },
        ]),
      );
      await fail(
        ['--flow', unknown, '--input', csv, '--time-column', 'tsMs'],
        /unknown node type 'twin-teleport' \(twin-teleport "beam" \(x\)\)/,
      );
    });

    it('a node with an invalid configuration', async () => {
      const badScreen = data(
        'badscreen.json',
        JSON.stringify([
          { id: 'brk', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:1' },
          { id: 'in', type: 'twin-mqtt-in', broker: 'brk', wires: [['s']] },
          { id: 's', type: 'twin-screen', spikeK: 'lots', wires: [[]] },
        ]),
      );
      await fail(['--flow', badScreen, '--input', csv, '--time-column', 'tsMs'], /twin-screen \(s\): .*spikeK/);
    });

    it('a missing file, a bad time at line N, a non-numeric cell in column C', async () => {
      await fail(['--flow', join(dir, 'nope.json'), '--input', csv], /cannot read the flow .*nope\.json: ENOENT/);
      await fail(['--flow', mqttFlow, '--input', join(dir, 'nope.csv')], /cannot read the input .*nope\.csv: no such file/);
      const badTime = data('badtime.csv', 'timestamp,zone1_temp\n2026-01-05T08:00:00Z,190\n2026-01-05T08:00:01Z,191\nsoon,192\n');
      await fail(
        ['--flow', mqttFlow, '--input', badTime],
        /badtime\.csv: line 4, column "timestamp": not an ISO-8601 time or epoch milliseconds: "soon"/,
      );
      const badCell = data('badcell.csv', 'timestamp;zone1_temp;melt_pressure\n2026-01-05T08:00:00Z;190;"17O"\n');
      await fail(
        ['--flow', mqttFlow, '--input', badCell, '--delimiter', ';'],
        /badcell\.csv: line 2, column "melt_pressure": not a number: "17O"/,
      );
      await fail(['--flow', mqttFlow], /--input FILE is required \(see twinloop replay --help\)/);
      await fail(['--flow', mqttFlow, '--input', csv, '--delimiter', ';;'], /--delimiter must be one character/);
    });
  });
});
