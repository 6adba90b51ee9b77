// The README's replay recipe run as written (its shell block, from the package directory), and the
// flows a plant has — the demo flow and the prebuilt flows with their ${…} site variables — replayed
// with nothing to connect to: connection settings get placeholders, what the replay needs is named.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'bin', 'twinloop.js');
const CSV = join(ROOT, 'examples', 'replay', 'extruder-spike.csv');
const ASSET = 'demo/plant1/extrusion/line1/extruder';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // only PATH and HOME: no site variable leaks in from the test's own environment
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const notes = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('twinloop replay: '));

describe('integration: the replay recipe and replays of the demo and prebuilt flows', function () {
  this.timeout(300_000);
  const events = join(ROOT, 'events.jsonl');
  after(() => rmSync(events, { force: true }));

  it('the README recipe runs as written and prints what it says', async function () {
    // the block sits in a list item: indented by two spaces
    const block = /^ *```sh\n( *export ASSET=demo\/plant1[\s\S]*?)^ *```/m
      .exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1]
      ?.replace(/^ {2}/gm, '');
    expect(block, 'the replay recipe in README.md').to.be.a('string');
    rmSync(events, { force: true });
    const r = await run('sh', ['-e', '-c', block!]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('5');
    const lines = notes(r.stderr);
    expect(lines.find((l) => l.includes('disabled:')))
      .to.include('twin-historian')
      .and.include('twin-mqtt-out');
    expect(lines).to.include(
      'twinloop replay: OPCUA_ENDPOINT, OPCUA_SAMPLING_MS, OPCUA_SECURITY_MODE, OPCUA_SECURITY_POLICY not set: placeholders in the connection settings (a replay connects to nothing)',
    );
    expect(lines[lines.length - 1]).to.match(
      /^twinloop replay: 901 rows \(8109 readings\) in [\d.]+ s, \d+ rows\/s; 20681 messages written to events\.jsonl$/,
    );
    const out = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            nodeId: string;
            port: number;
            payload: { tag: string; kind?: string; quality?: string; alarmId?: string; cause?: { kind: string; method: string } };
          },
      );
    const faults = out.filter((m) => m.nodeId === 'tl-line-drift' && m.port === 0);
    expect(faults.map((m) => [m.payload.tag, m.payload.kind])).to.deep.equal(Array(4).fill(['zone1_temp', 'sensor-fault']));
    // the zone temperatures reach twin-alarm as estimates: scored on the twin's residual, not on a learned baseline
    const alarms = out.filter((m) => m.nodeId === 'tl-line-alarm' && m.port === 0).map((m) => m.payload);
    expect(alarms.map((a) => [a.kind, a.alarmId, a.cause?.kind, a.cause?.method])).to.deep.equal([
      ['raised', `${ASSET}/zone1_temp`, 'sensor-fault', 'twin-residual'],
    ]);
    const flagged = out.filter((m) => m.nodeId === 'tl-line-screen' && m.port === 1);
    expect(flagged).to.have.length(169);
    expect(flagged.every((m) => m.payload.tag === 'zone1_temp' && m.payload.quality === 'uncertain')).to.equal(true);
  });

  it('a flow whose replay path needs an unset variable stops with one line naming it and the nodes', async function () {
    const r = await run(process.execPath, [BIN, 'replay', '--flow', 'flows/maintenance-energy.json', '--input', CSV, '--asset', ASSET]);
    expect(r.code).to.not.equal(0);
    expect(r.stdout).to.equal('');
    expect(notes(r.stderr)).to.deep.equal([
      'twinloop replay: flows/maintenance-energy.json: the replay needs ASSET (used by twin-opcua-in "line (OPC UA)" (tl-maint-opcua-in)); ' +
        'RUL_MODEL (used by twin-rul "bearing RUL" (tl-maint-rul)): set them in the command\'s environment, e.g. ASSET=… RUL_MODEL=… twinloop replay …',
    ]);
  });

  it('the demo flow replays with its model path set: RUL estimates and a window; the gate, writers and broker are cut', async function () {
    const missing = await run(process.execPath, [
      BIN,
      'replay',
      '--flow',
      'examples/demo/demo-line.json',
      '--input',
      CSV,
      '--asset',
      ASSET,
    ]);
    expect(missing.code).to.not.equal(0);
    expect(notes(missing.stderr).join('\n')).to.match(
      /the replay needs TWINLOOP_BEARING_MODEL \(used by twin-rul "bearing RUL" \(demo-rul\)\)/,
    );

    const r = await run(process.execPath, [BIN, 'replay', '--flow', 'examples/demo/demo-line.json', '--input', CSV, '--asset', ASSET], {
      TWINLOOP_BEARING_MODEL: join(ROOT, 'models', 'bearing-rul-model.json'),
    });
    expect(r.code, r.stderr).to.equal(0);
    const disabled = notes(r.stderr).find((l) => l.includes('disabled:'))!;
    for (const id of ['demo-approval-zone3_sp', 'demo-write-zone3_sp', 'demo-maint-approval', 'demo-mqtt-out'])
      expect(disabled).to.include(`(${id})`);
    expect(notes(r.stderr)).to.include(
      'twinloop replay: TWINLOOP_MQTT_PASSWORD_FILE, TWINLOOP_MQTT_URL, TWINLOOP_MQTT_USER, TWINLOOP_OPCUA_ENDPOINT not set: ' +
        'placeholders in the connection settings (a replay connects to nothing)',
    );
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { nodeType: string; nodeId: string; port: number });
    expect(out.filter((m) => m.nodeType === 'twin-rul').length).to.be.above(0);
    expect(out.filter((m) => m.nodeId === 'demo-maintenance' && m.port === 1)).to.have.length(1); // the proposal, recorded, not decided
    expect(out.some((m) => m.nodeType === 'twin-approval' || m.nodeType === 'twin-opcua-write')).to.equal(false);
  });

  it("the editor's replay example is refused with why", async function () {
    const r = await run(process.execPath, [BIN, 'replay', '--flow', 'examples/replay/replay-csv.json', '--input', CSV]);
    expect(r.code).to.not.equal(0);
    expect(notes(r.stderr).join('\n')).to.match(/no active ingestion node .* is run from the editor\)$/);
    expect(existsSync(join(ROOT, 'replay-csv.jsonl'))).to.equal(false);
  });
});
