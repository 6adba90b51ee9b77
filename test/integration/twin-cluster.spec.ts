// twin-cluster in a real Node-RED runtime (node-red-node-test-helper) on a real single-node Debian
// nats-server: two instances (two config nodes) share two lines one each, follow() reports what they
// own, a clean close gives the lines up to the other at once, a twin-ledger takes its servers from a
// twin-cluster and is open only for the line its instance owns, and a bad configuration is refused with a reason.
import { expect } from 'chai';
import type { TwinClusterNode } from '../../nodes/twin-cluster/cluster-api.js';
import type { TwinLedgerNode } from '../../nodes/twin-ledger/ledger-api.js';
import { ledgerStreamName } from '../../runtime/cluster/line-id.js';
import { ClusterMember } from '../../runtime/cluster/cluster-member.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { helper, nodeModule } from '../support/nr.js';
import { tempDir } from '../support/mqtt-helpers.js';
import { waitFor } from '../support/ports.js';
import { recordNodeCalls } from '../support/opcua-nr.js';
import { OpcuaTestServer } from '../support/opcua-server.js';

const L1 = 'spec/cluster/line1';
const L2 = 'spec/cluster/line2';
const KEY = 'twin-cluster-spec-key-0123456789';
type Sink = { on(event: 'input', f: (m: { payload: { value: number } }) => void): void };

describe('twin-cluster (node, real nats-server)', function () {
  this.timeout(60_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 1);
  });
  after(async () => nats?.stop());
  beforeEach(function (done) {
    helper.settings({ userDir: tempDir('nr-cluster-') });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const cluster = (id: string, instance: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'twin-cluster',
    servers: nats.servers.join(' '),
    instance,
    lines: `${L1}\n${L2}`,
    ttlS: 2,
    replicas: 1,
    slack: 0,
    ...extra,
  });

  it('two instances own one line each, follow() tells, a clean close hands the lines over, twin-ledger uses the cluster', async () => {
    const flow = [
      cluster('cA', 'A'),
      cluster('cB', 'B'),
      { id: 'l1', type: 'twin-ledger', storage: 'jetstream', cluster: 'cA', line: L1, waitS: 10 },
      { id: 'l2', type: 'twin-ledger', storage: 'jetstream', cluster: 'cA', line: L2, waitS: 10 },
    ];
    const creds = { l1: { signingKey: KEY }, l2: { signingKey: KEY } };
    await helper.load([nodeModule('twin-cluster'), nodeModule('twin-ledger')] as never, flow, creds as never);
    const a = helper.getNode('cA') as unknown as TwinClusterNode;
    const b = helper.getNode('cB') as unknown as TwinClusterNode;
    const events: string[] = [];
    b.follow(
      (line) => events.push(`owned ${line}`),
      (line, reason) => events.push(`released ${line} ${reason}`),
    );
    await waitFor(() => [L1, L2].every((l) => a.owns(l) !== b.owns(l)) && a.owns(L1) !== a.owns(L2), 20_000, 50, 'one line each');
    expect(a.clusterStatus()).to.deep.equal({ state: 'member', text: '1/2 lines' });
    const bLine = b.owns(L1) ? L1 : L2;
    const other = bLine === L1 ? L2 : L1;
    // B may have claimed both lines before A's membership counted, then shed one: owned, released 'shed'
    expect(events.filter((e) => e.includes(bLine))).to.deep.equal([`owned ${bLine}`]);
    const otherEvents = events.filter((e) => e.includes(other));
    if (otherEvents.length > 0) expect(otherEvents).to.deep.equal([`owned ${other}`, `released ${other} shed`]);
    const mark = events.length;
    expect(a.natsOptions()).to.deep.equal({ servers: nats.servers, replicas: 1, instance: 'A' });

    // A's ledgers follow A's lines: the one of the line A owns is open, its first record A's 'owner' record;
    // the other refuses, naming its line
    const aLine = a.owns(L1) ? L1 : L2;
    const ledgerNode = (line: string) => helper.getNode(line === L1 ? 'l1' : 'l2') as unknown as TwinLedgerNode;
    expect(ledgerNode(aLine).ownership?.owns()).to.equal(true);
    const ledger = await ledgerNode(aLine).ledger();
    expect(ledger.location).to.equal(`nats:${ledgerStreamName(aLine)}`);
    const recs = await ledger.readAll();
    expect(recs.at(-1)).to.include({ type: 'owner' });
    expect(recs.at(-1)!.data).to.deep.equal({ line: aLine, instance: 'A', reason: 'lease acquired' });
    expect((await ledger.append({ type: 'proposal', asset: 'a', tag: 't', data: { n: 1 } })).seq).to.equal(recs.length);
    const refused = await ledgerNode(bLine)
      .ledger()
      .catch((e: Error & { code?: string }) => e);
    expect((refused as { code?: string }).code).to.equal('REFUSED');
    expect((refused as Error).message)
      .to.contain(bLine)
      .and.contain('another instance');
    expect(ledgerNode(bLine).ownership?.owns()).to.equal(false);

    // a redeploy or shutdown: A releases its line at once, B (now alone) takes both
    await (helper.getNode('cA') as unknown as { close(removed: boolean): Promise<void> }).close(true);
    await waitFor(() => b.owns(L1) && b.owns(L2), 10_000, 50, 'B owns both lines');
    expect(events.slice(mark)).to.deep.equal([`owned ${other}`]);
    // A's ledger closed with A's line: the handle refuses, the node refuses
    const late = await ledger.append({ type: 'proposal', asset: 'a', tag: 't', data: { n: 2 } }).catch((e: Error) => e);
    expect((late as Error).message).to.match(/handle is closed/);
    expect(
      (
        (await ledgerNode(aLine)
          .ledger()
          .catch((e: Error) => e)) as { code?: string }
      ).code,
    ).to.equal('REFUSED');
  });

  it('a bad configuration is refused with its reason, and such a node owns nothing', async () => {
    await helper.load([nodeModule('twin-cluster')] as never, [cluster('bad', 'X', { lines: `${L1}\nplant/line2` })]);
    const n = helper.getNode('bad') as unknown as TwinClusterNode;
    expect(n.configError).to.match(/plant\/line2/);
    expect(n.clusterStatus()).to.deep.equal({ state: 'error', text: 'config error' });
    expect(n.owns(L1)).to.equal(false);
    expect(n.natsOptions()).to.equal(undefined);
  });

  it('twin-mqtt-in with a cluster refuses a line that is no site/area/line, in red', async () => {
    const flow = [
      cluster('c', 'X'),
      { id: 'b', type: 'twin-mqtt-broker', url: 'mqtt://127.0.0.1:9', protocolVersion: 5 },
      { id: 'in', type: 'twin-mqtt-in', broker: 'b', cluster: 'c', line: 'line1', mode: 'number', pattern: '{asset}/{tag}', wires: [[]] },
    ];
    const recorder = recordNodeCalls();
    try {
      await helper.load(['twin-cluster', 'twin-mqtt-broker', 'twin-mqtt-in'].map(nodeModule) as never, flow);
      expect(
        recorder
          .errors('in')
          .map((e) => e.message)
          .join('\n'),
      ).to.match(/line id 'line1' is not "site\/area\/line"/);
      expect(recorder.lastStatus('in')).to.include({ fill: 'red', text: 'config error' });
    } finally {
      recorder.restore();
    }
  });

  it('twin-opcua-in with a cluster: only the owner of the line monitors and reads; on a handover the other node takes over', async () => {
    const server = await OpcuaTestServer.start();
    const recorder = recordNodeCalls();
    try {
      const opcIn = (id: string, c: string, sink: string) => ({
        id,
        type: 'twin-opcua-in',
        endpoint: 'ep',
        cluster: c,
        line: L1,
        items: [{ nodeId: 'ns=1;s=Temperature', asset: `${L1}/dev`, tag: 'temperature' }],
        samplingIntervalMs: 0,
        deadband: 0,
        queueSize: 10,
        maxFutureMs: 5000,
        wires: [[sink]],
      });
      const flow = [
        cluster('cA', 'A', { lines: L1 }),
        cluster('cB', 'B', { lines: L1 }),
        {
          id: 'ep',
          type: 'twin-opcua-endpoint',
          endpointUrl: server.endpointUrl,
          securityMode: 'None',
          securityPolicy: 'None',
          authMode: 'anonymous',
        },
        opcIn('inA', 'cA', 'sinkA'),
        opcIn('inB', 'cB', 'sinkB'),
        { id: 'sinkA', type: 'helper' },
        { id: 'sinkB', type: 'helper' },
      ];
      await helper.load(['twin-cluster', 'twin-opcua-endpoint', 'twin-opcua-in'].map(nodeModule) as never, flow);
      const a = helper.getNode('cA') as unknown as TwinClusterNode;
      const b = helper.getNode('cB') as unknown as TwinClusterNode;
      const got: Record<string, number[]> = { A: [], B: [] };
      (helper.getNode('sinkA') as unknown as Sink).on('input', (m) => got.A.push(m.payload.value));
      (helper.getNode('sinkB') as unknown as Sink).on('input', (m) => got.B.push(m.payload.value));
      await waitFor(() => a.owns(L1) !== b.owns(L1), 20_000, 50, 'one owner of the line');
      const [owner, standby] = a.owns(L1) ? ['A', 'B'] : ['B', 'A'];
      // the owner's node monitors: a new value reaches it, and only it
      await waitFor(
        () => {
          server.setValue('Temperature', 61.5);
          return got[owner].includes(61.5);
        },
        20_000,
        200,
        "the owner's reading",
      );
      expect(got[standby], 'the standby instance ingests nothing').to.deep.equal([]);
      expect(recorder.lastStatus(`in${standby}`), 'standby: grey').to.include({ fill: 'grey', shape: 'ring' });
      // a read request on the standby is refused, naming the line
      const standbyIn = helper.getNode(`in${standby}`) as unknown as { receive(m: object): void };
      standbyIn.receive({ topic: 'read' });
      await waitFor(() => recorder.errors(`in${standby}`).length > 0, 5_000, 20, 'the refused read');
      expect(recorder.errors(`in${standby}`)[0].message).to.include(L1);

      // the owner's cluster node closes (a redeploy): the other instance takes the line and its node monitors
      await (helper.getNode(`c${owner}`) as unknown as { close(removed: boolean): Promise<void> }).close(true);
      const next = owner === 'A' ? b : a;
      await waitFor(() => next.owns(L1), 10_000, 50, 'the handover');
      const before = got[owner].length;
      await waitFor(
        () => {
          server.setValue('Temperature', 62.5);
          return got[standby].includes(62.5);
        },
        20_000,
        200,
        "the new owner's reading",
      );
      expect(got[owner].length, 'the old owner stopped monitoring').to.equal(before);
    } finally {
      recorder.restore();
      await helper.unload();
      await server.stop();
    }
  });

  it('ClusterMember: a lease run out on its own clock is released as lost; a late renewal that succeeded owns it again', async () => {
    let jumpMs = 0;
    const nowMs = () => performance.now() + jumpMs;
    const line = 'spec/clock/line1';
    const m = await ClusterMember.start({
      servers: nats.servers,
      instance: 'clock',
      lines: [line],
      ttlMs: 3000,
      replicas: 1,
      slack: 0,
      bucket: 'twinloop_members_clock',
      nowMs,
    });
    const events: string[] = [];
    m.on('owned', (l) => events.push(`owned ${l}`));
    m.on('released', (l, reason) => events.push(`released ${l} ${reason}`));
    try {
      await waitFor(() => m.owns(line), 20_000, 20, 'the line owned');
      jumpMs += 10_000; // this instance's clock passes the lease (as after a pause) before any renewal
      m.check();
      expect(m.owns(line)).to.equal(false);
      expect(events).to.deep.equal([`owned ${line}`, `released ${line} lost`]);
      // nobody else claimed the line, so the next renewal succeeds and the line is owned again
      await waitFor(() => m.owns(line), 10_000, 20, 'owned again after the renewal');
      expect(events).to.deep.equal([`owned ${line}`, `released ${line} lost`, `owned ${line}`]);
    } finally {
      await m.stop({ release: true });
    }
    expect(events.at(-1)).to.equal(`released ${line} stopped`);
  });
});
