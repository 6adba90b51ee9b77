// twin-overview in a real Node-RED runtime: records of every kind in, bad inputs refused (to a Catch
// node, red status, the node goes on, nothing kept is lost), the page's JSON API (what the store
// holds, only changes since a cursor, a new store after a redeploy, the pending proposal of a real
// maintenance-mode twin-approval), config validation; and, against `twinloop start` with Node-RED's
// adminAuth, the API's refusals: no token, a bad token, a token without the read permission.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import { tempUserDir } from '../support/opcua-nr.js';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from '../support/maintenance-proposal.js';
import type { OverviewDelta } from '../../runtime/overview/series-store.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const overviewNode = nodeModule('twin-overview');
const ledgerNode = nodeModule('twin-ledger');
const approvalNode = nodeModule('twin-approval');

const A = M_ASSET;
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
type Msg = NodeMessage & { payload: unknown; error?: { message: string } };
type Data = OverviewDelta & {
  node: string | null;
  epoch: string;
  full: boolean;
  nodes: Array<{ id: string; name: string }>;
  proposals: Array<Record<string, unknown>>;
};

const reading = (tag: string, value: number, tsMs: number) => ({
  asset: A,
  tag,
  value,
  unit: 'degC',
  tsMs,
  quality: 'good',
  source: 'test',
});
const estimate = (tag: string, value: number, tsMs: number) => ({
  asset: A,
  tag,
  value,
  variance: 0.25,
  unit: 'degC',
  tsMs,
  model: 'kalman/first-order',
  quality: 'good',
});

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

describe('twin-overview (node)', function () {
  let dir: string;
  let loads = 0;

  beforeEach(function (done) {
    dir = tempUserDir('nr-overview-');
    helper.settings({ userDir: dir });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(cfg: Record<string, unknown> = {}, extra: unknown[] = []) {
    const flow = [
      { id: 'o', type: 'twin-overview', name: 'line overview', ...cfg },
      { id: 'c', type: 'catch', scope: ['o'], uncaught: false, wires: [['k']] },
      { id: 'k', type: 'helper' },
      ...extra,
    ];
    await helper.load(
      [overviewNode, catchNode, ledgerNode, approvalNode] as never,
      flow as never,
      { [`led${loads}`]: { signingKey: 'test-signing-key-0123456789abcdef' } } as never,
    );
    const rig = {
      node: helper.getNode('o'),
      caught: [] as Msg[],
      statuses: [] as Array<{ fill?: string; text?: string }>,
      errors: [] as unknown[],
    };
    listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
    listen<{ fill?: string; text?: string }>(rig.node, 'call:status', (c) =>
      rig.statuses.push((c as unknown as { args: [{ fill?: string; text?: string }] }).args[0]),
    );
    listen<unknown>(rig.node, 'call:error', (c) => rig.errors.push(c));
    return rig;
  }
  const data = async (query = ''): Promise<Data> => {
    const res = await helper.request().get(`/twinloop/overview/api/data${query}`).expect(200);
    return res.body as Data;
  };

  it('refuses what is not a record with a clear error and a red status, ignores other kinds, and keeps what it has', async function () {
    const rig = await load();
    rig.node.receive({ payload: reading('zone1_temp', 200, T0) } as never);
    for (const bad of [42, 'hello', null, [maintenanceWindow(T0)], { ...reading('zone1_temp', 1, T0), tsMs: 'noon' }])
      rig.node.receive({ payload: bad } as never);
    rig.node.receive({ payload: { asset: A, tag: 'zone1_temp', tsMs: T0, method: 'adwin', score: 0.2, quality: 'good' } } as never); // an anomaly score: not drawn
    rig.node.receive({ payload: reading('zone1_temp', 201, T0 + 1000) } as never);
    await waitFor(() => rig.caught.length >= 5, 5000, 10, 'five errors caught');
    const messages = rig.caught.map((m) => m.error!.message.replace(/^TwinError: /, ''));
    expect(messages).to.deep.equal([
      'payload is a number, not a TwinLoop record',
      'payload is a string, not a TwinLoop record',
      'payload is null, not a TwinLoop record',
      'payload is an array of 1; the overview takes one record per message (split it first)',
      'reading record: tsMs must be epoch milliseconds',
    ]);
    expect(rig.statuses.some((s) => s.fill === 'red' && s.text === 'bad payload')).to.equal(true);
    const d = (await waitFor(
      async () => {
        const x = await data();
        return x.series[0]?.points[0]?.n === 2 ? x : undefined;
      },
      5000,
      20,
      'both good readings in the store',
    ))!;
    expect(d.series).to.have.length(1);
    expect(d.series[0]).to.include({ kind: 'reading', asset: A, tag: 'zone1_temp', unit: 'degC' });
    expect(d.series[0].points[0]).to.include({ min: 200, max: 201, last: 201 });
    await waitFor(() => rig.statuses.at(-1)?.fill === 'green', 5000, 20, 'a green status again');
    expect(rig.statuses.at(-1)!.text).to.equal('1 ser, 2 rec');
  });

  it('serves every kind through the API, only changes since a cursor, and a fresh start after a redeploy', async function () {
    const rig = await load({ windowMin: 10, pointsPerSeries: 20 });
    const send = (payload: unknown) => rig.node.receive({ payload } as never);
    for (let i = 0; i < 120; i++) {
      send(reading('zone1_temp', 200 + (i % 3), T0 + i * 5000));
      send(estimate('zone1_temp', 201, T0 + i * 5000));
    }
    send({
      asset: A,
      tag: 'zone1_temp',
      tsMs: T0 + 300_000,
      startTsMs: T0 + 290_000,
      kind: 'process-change',
      method: 'adwin',
      direction: 'up',
      magnitude: 2,
      evidence: {},
      quality: 'good',
    });
    send({
      asset: A,
      tsMs: T0,
      rulMs: 9 * 86_400_000,
      rulP10Ms: 5 * 86_400_000,
      rulP90Ms: 12 * 86_400_000,
      healthIndex: 0.4,
      quality: 'good',
    });
    send(maintenanceWindow(T0 + 86_400_000, undefined, { tsMs: T0, rank: 2 }));
    send(maintenanceWindow(T0 + 48 * 3_600_000, undefined, { tsMs: T0, rank: 1 }));
    send({
      asset: A,
      tsMs: T0 + 900_000,
      scope: 'interval',
      startMs: T0,
      endMs: T0 + 900_000,
      energyKwh: 12,
      costEur: 2.4,
      energyKwhByPeriod: { peak: 12 },
      co2Kg: 4.6,
      gapMs: 0,
      quality: 'good',
    });
    send({
      asset: A,
      tsMs: T0 + 60_000,
      blockStartMs: T0,
      blockEndMs: T0 + 900_000,
      averageKwSoFar: 40,
      forecastKw: 48,
      billingPeakKw: 45,
      alert: true,
      shedKw: 3,
      quality: 'good',
    });
    const d = (await waitFor(
      async () => {
        const x = await data();
        return x.assets[0]?.demand ? x : undefined;
      },
      5000,
      20,
      'every record in the store',
    ))!;
    expect(d).to.include({ node: 'o', full: true, windowMs: 600_000 });
    expect(d.nodes).to.deep.equal([{ id: 'o', name: 'line overview' }]);
    const reads = d.series.find((s) => s.kind === 'reading')!;
    expect(reads.points).to.have.length(20); // 10 min at 30 s buckets, of 595 s of data
    expect(reads.points.every((p) => p.n === 6 && p.min === 200 && p.max === 202)).to.equal(true);
    const est = d.series.find((s) => s.kind === 'estimate')!;
    expect(est.points[0]).to.include({ last: 201, lo: 200, hi: 202 });
    expect(d.series.find((s) => s.kind === 'rul')!.points[0]).to.include({ last: 9 * 86_400_000, lo: 5 * 86_400_000, hi: 12 * 86_400_000 });
    expect(d.drift!.map((e) => e.tag)).to.deep.equal(['zone1_temp']);
    expect(d.assets[0].windows!.map((w) => w.rank)).to.deep.equal([1, 2]);
    expect(d.assets[0].energy!.map((c) => c.costEur)).to.deep.equal([2.4]);
    expect(d.assets[0].demand).to.include({ forecastKw: 48, alert: true });

    // a poll with the cursor: only the bucket that changed
    send(reading('zone1_temp', 205, T0 + 119 * 5000 + 1000));
    const next = (await waitFor(
      async () => {
        const x = await data(`?node=o&epoch=${d.epoch}&since=${d.rev}`);
        return x.rev > d.rev ? x : undefined;
      },
      5000,
      20,
      'the change',
    ))!;
    expect(next.full).to.equal(false);
    expect(next.series.map((s) => [s.kind, s.points.length])).to.deep.equal([['reading', 1]]);
    expect(next.series[0].points[0]).to.include({ max: 205, last: 205 });
    expect(next.assets).to.deep.equal([]);
    expect(next.drift).to.equal(undefined);
    // the redeployed node has a new, empty store: a page holding the old cursor starts afresh
    await helper.unload();
    await load();
    const after = await data(`?node=o&epoch=${d.epoch}&since=${next.rev}`);
    expect(after).to.include({ node: 'o', full: true, rev: 0 });
    expect(after.epoch).to.not.equal(d.epoch);
    expect(after.series).to.deep.equal([]);
  });

  it('lists the proposal a maintenance gate holds, and no node after the flow is gone', async function () {
    const led = `led${++loads}`;
    const rig = await load({}, [
      { id: led, type: 'twin-ledger', path: join(dir, 'ledger.jsonl') },
      {
        id: 'g',
        type: 'twin-approval',
        name: 'extruder maintenance',
        mode: 'maintenance',
        asset: A,
        twoPersonAboveEur: '5000',
        ledger: led,
        wires: [[], []],
      },
    ]);
    expect(rig.errors).to.deep.equal([]);
    const p = maintenanceProposal('m1');
    helper.getNode('g').receive({ payload: p } as never);
    const d = (await waitFor(
      async () => {
        const x = await data();
        return x.proposals.length ? x : undefined;
      },
      10_000,
      50,
      'the pending proposal',
    ))!;
    expect(d.proposals).to.deep.equal([
      {
        kind: 'maintenance',
        id: 'm1',
        gateName: 'extruder maintenance',
        asset: A,
        job: p.job,
        window: {
          startMs: p.window.startMs,
          endMs: p.window.endMs,
          startLocal: p.window.startLocal,
          endLocal: p.window.endLocal,
          timeZone: p.window.timeZone,
          expectedCostEur: p.window.expectedCostEur,
        },
        rulMs: p.rul.rulMs,
        approvals: 0,
        requiredApprovals: 1,
        expiresTsMs: p.expiresTsMs,
      },
    ]);
    await helper.unload();
    const gone = await data();
    expect(gone).to.include({ node: null });
    expect(gone.nodes).to.deep.equal([]);
  });

  it('refuses a bad configuration and every input with the reason', async function () {
    const rig = await load({ windowMin: 'an hour' });
    rig.node.receive({ payload: reading('zone1_temp', 200, T0) } as never);
    await waitFor(() => rig.caught.length === 1, 5000, 10, 'the refusal');
    expect(rig.caught[0].error!.message).to.match(/configuration is invalid \(windowMin must be a number, got 'an hour'\)/);
    expect(rig.statuses.at(-1)).to.include({ fill: 'red', text: 'bad config' });
    expect((await data()).node).to.equal(null);
  });

  it('serves the page itself without a token, self-contained under a strict content security policy', async function () {
    await load();
    const res = await helper.request().get('/twinloop/overview').expect(200);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.headers['content-security-policy']).to.match(/default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+'/);
    // nothing to fetch from anywhere (the only URL is the SVG namespace, which is a name, not a fetch)
    expect(res.text).to.not.match(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org\/2000\/svg['"])/);
  });
});

describe('twin-overview API behind Node-RED adminAuth (twinloop start)', function () {
  this.timeout(120_000);
  let tl: TwinloopProcess;
  let home: string;

  before(async function () {
    home = mkdtempSync(join(tmpdir(), 'twinloop-overview-auth-'));
    writeFileSync(
      join(home, 'flows.json'),
      JSON.stringify([
        { id: 't', type: 'tab', label: 'overview' },
        { id: 'o', type: 'twin-overview', z: 't', name: 'auth test', wires: [] },
      ]),
    );
    tl = await startTwinloop(['--no-sim'], {}, home);
  });
  after(async function () {
    await tl?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const get = (token?: string) =>
    fetch(`${tl.url}twinloop/overview/api/data`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  async function scopedToken(username: string, scope: string): Promise<string> {
    const res = await fetch(`${tl.url}auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope, username, password: tl.logins[username] }),
    });
    expect(res.status, `token for ${username} with scope ${scope}`).to.equal(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('refuses no token and a bad token (401), and a token without the read permission (403)', async function () {
    expect((await get()).status).to.equal(401);
    expect((await get('not-a-token')).status).to.equal(401);
    const narrow = await get(await scopedToken('admin', 'flows.read'));
    expect(narrow.status).to.equal(403);
    expect(await narrow.json()).to.deep.equal({ error: 'user admin does not have the permission twinloop.read' });
  });

  it('lets a read-only viewer and a supervisor look', async function () {
    for (const user of ['viewer', 'supervisor']) {
      const res = await get(await adminToken(tl.url, user, tl.logins[user]));
      expect(res.status, user).to.equal(200);
      expect(await res.json()).to.deep.include({ node: 'o', username: user, nodes: [{ id: 'o', name: 'auth test' }] });
    }
  });
});
