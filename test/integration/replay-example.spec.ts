// The Import-menu example examples/replay/replay-csv.json in a real Node-RED (embedded as
// `twinloop start` runs it): the upload page, a replay of the sample CSV with its spike fault, a
// bad file, and the same quality counts as `twinloop replay` gives for the same data.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedNodeRed } from '../../bin/lib/embedded-node-red.js';
import { freePort, waitFor } from '../support/ports.js';

const ROOT = join(__dirname, '..', '..');
const SAMPLE = join(ROOT, 'examples', 'replay', 'extruder-spike.csv');
const ASSET = 'demo/plant1/extrusion/line1/extruder';

interface Summary {
  readings: number;
  byQuality: Record<string, number>;
  byReason: Record<string, number>;
  firstFlagged: Array<{ tag: string; tsMs: number; qualityReason: string }>;
}

async function upload(url: string, name: string, text: string): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/csv' }), name);
  form.append('asset', ASSET);
  const res = await fetch(url, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}

describe('replay example (Import menu): a CSV through twin-screen in the editor', function () {
  this.timeout(90_000);
  let home: string;
  let red: EmbeddedNodeRed;
  let page: string;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'twinloop-replay-example-'));
    copyFileSync(join(ROOT, 'examples', 'replay', 'replay-csv.json'), join(home, 'flows.json'));
    // the built module: it finds the package root from its own place in dist/
    const { startNodeRed } = require(
      join(ROOT, 'dist', 'bin', 'lib', 'embedded-node-red.js'),
    ) as typeof import('../../bin/lib/embedded-node-red.js');
    red = await startNodeRed({ userDir: home, port: await freePort(), host: '127.0.0.1', logLevel: 'error' });
    page = `${red.url}api/twinloop/replay`;
    // RED.start resolves before the flows run: wait for the page's route
    await waitFor(async () => (await fetch(page)).status === 200, 30_000, 100, 'the replay page');
  });

  after(async () => {
    await red?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("is offered in the editor's Import menu (the examples library)", async () => {
    const res = await fetch(`${red.url}library/examples/flows/@twinloop/node-red-twin/replay/replay-csv`);
    expect(res.status).to.equal(200);
    const served = (await res.json()) as Array<{ id: string; type: string }>;
    const file = JSON.parse(readFileSync(join(ROOT, 'examples', 'replay', 'replay-csv.json'), 'utf8')) as Array<{ id: string }>;
    expect(served.map((n) => n.id)).to.deep.equal(file.map((n) => n.id));
    expect(served.some((n) => n.type === 'comment') && served.some((n) => n.type === 'twin-screen')).to.equal(true);
  });

  it('serves the upload page', async () => {
    const res = await fetch(page);
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.match(/<input type="file" name="file"/);
  });

  it('replays the sample: every cell screened, the spike fault flagged after it began, as the CLI does', async () => {
    const text = readFileSync(SAMPLE, 'utf8');
    const [header, ...rows] = text
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const cells = rows.reduce((n, r) => n + r.slice(1).filter((c) => c !== '').length, 0);
    const r = await upload(page, 'extruder-spike.csv', text);
    expect(r.status).to.equal(200);
    const s = r.body as Summary;
    expect(s.readings).to.equal(cells);
    expect(s.byReason.spike).to.be.greaterThan(0);
    expect(s.firstFlagged.length).to.equal(Math.min(20, cells - (s.byQuality.good ?? 0)));
    expect(header[0]).to.equal('timestamp');

    // the command line over the same data, same screen settings: the same quality counts
    const dir = mkdtempSync(join(tmpdir(), 'twinloop-replay-example-cli-'));
    try {
      const flow = join(dir, 'flow.json');
      writeFileSync(
        flow,
        JSON.stringify([
          { id: 'brk', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:1' },
          { id: 'in', type: 'twin-mqtt-in', broker: 'brk', wires: [['scr']] },
          { id: 'scr', type: 'twin-screen', spikeWindow: '10', spikeK: '4', wires: [[]] },
        ]),
      );
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [join(ROOT, 'dist', 'bin', 'twinloop.js'), 'replay', '--flow', flow, '--input', SAMPLE, '--asset', ASSET],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let o = '';
        let e = '';
        child.stdout.on('data', (d) => (o += d));
        child.stderr.on('data', (d) => (e += d));
        child.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`exit ${code}: ${e}`))));
      });
      const counts: Record<string, number> = { good: 0, uncertain: 0, bad: 0 };
      const reasons: Record<string, number> = {};
      const faultMs = Date.parse('2026-01-05T08:07:30Z');
      const z1Spikes = { before: 0, after: 0 };
      for (const l of out.trim().split('\n')) {
        const m = JSON.parse(l) as { nodeId: string; payload: { quality: string; qualityReason?: string; tag: string; tsMs: number } };
        if (m.nodeId !== 'scr') continue;
        counts[m.payload.quality]++;
        if (m.payload.quality !== 'good')
          reasons[m.payload.qualityReason ?? 'unknown'] = (reasons[m.payload.qualityReason ?? 'unknown'] ?? 0) + 1;
        if (m.payload.tag === 'zone1_temp' && m.payload.qualityReason === 'spike')
          z1Spikes[m.payload.tsMs >= faultMs ? 'after' : 'before']++;
      }
      expect(counts).to.deep.equal({ good: s.byQuality.good ?? 0, uncertain: s.byQuality.uncertain ?? 0, bad: s.byQuality.bad ?? 0 });
      expect(reasons).to.deep.equal(s.byReason);
      // the sample's fault shows: zone1_temp spikes mostly after it began (the halves are equally long)
      expect(z1Spikes.after, JSON.stringify(z1Spikes)).to.be.greaterThan(3 * z1Spikes.before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a bad file with the line and column', async () => {
    const bad = 'timestamp,zone1_temp,vibration\n2026-01-05T08:00:00Z,190,1.2\n2026-01-05T08:00:01Z,191,loud\n';
    const r = await upload(page, 'bad.csv', bad);
    expect(r.status).to.equal(400);
    expect((r.body as { error: string }).error).to.equal('line 3, column "vibration": not a number: "loud"');
    const badTime = 'timestamp,zone1_temp\nlater,190\n';
    const r2 = await upload(page, 'bad.csv', badTime);
    expect(r2.status).to.equal(400);
    expect((r2.body as { error: string }).error).to.match(/^line 2, column "timestamp": not an ISO-8601 time/);
  });
});
