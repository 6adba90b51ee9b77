// Fault test through Node-RED: the OPC UA server is shut down in the middle of a subscription and
// restarted on the same port. Two twin-opcua-in nodes share one endpoint.
import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, waitUntil as waitFor, type NodeLike, type Recorder } from '../support/opcua-nr.js';
import { OpcuaTestServer } from '../support/opcua-server.js';

const endpointNode = nodeModule('twin-opcua-endpoint');
const inNode = nodeModule('twin-opcua-in');
const ASSET = 'plant/line1/press';

type Msg = { topic: string; payload: Reading };

describe('OPC UA server restart during a subscription (Node-RED, real server)', function () {
  this.timeout(90_000);
  let server: OpcuaTestServer;
  let rec: Recorder;

  beforeEach(function (done) {
    helper.settings({ userDir: tempUserDir('nr-opcua-restart-') });
    rec = recordNodeCalls();
    OpcuaTestServer.start({ users: [{ user: 'op', password: 'restart-pw' }] }).then((s) => {
      server = s;
      helper.startServer(done);
    }, done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await server?.stop();
  });

  const item = (name: string) => ({ nodeId: `ns=1;s=${name}`, asset: ASSET, tag: name.toLowerCase() });

  for (const security of [
    { securityMode: 'None', securityPolicy: 'None' },
    { securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss' },
  ]) {
    it(`marks the gap with one bad reading per tag, resumes, and recreates each monitored item once (${security.securityMode})`, async function () {
      const flow = [
        {
          id: 'ep',
          type: 'twin-opcua-endpoint',
          endpointUrl: server.endpointUrl,
          ...security,
          authMode: 'username',
          acceptUnknownCertificates: true,
        },
        {
          id: 'in1',
          type: 'twin-opcua-in',
          endpoint: 'ep',
          items: [item('Temperature'), item('Pressure')],
          samplingIntervalMs: 0,
          queueSize: 10,
          deadband: 0,
          wires: [['out']],
        },
        {
          id: 'in2',
          type: 'twin-opcua-in',
          endpoint: 'ep',
          items: [item('Counter')],
          samplingIntervalMs: 0,
          queueSize: 10,
          deadband: 0,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([endpointNode, inNode] as never, flow as never, { ep: { user: 'op', password: 'restart-pw' } });
      const out: Msg[] = [];
      (helper.getNode('out') as unknown as NodeLike).on('input', (m: never) => out.push(m));
      const of = (tag: string, from = 0) =>
        out
          .slice(from)
          .filter((m) => m.payload.tag === tag)
          .map((m) => m.payload);

      await waitFor(() => server.monitoredItemCount() === 3, 30_000, 25, 'three monitored items');
      server.setValue('Temperature', 70);
      await waitFor(() => of('temperature').some((r) => r.value === 70), 10_000, 25, 'live reading');
      expect(server.sessionCount()).to.equal(1);
      const lastGood = of('temperature').at(-1)!.value;

      // the server goes away mid-subscription
      await server.stop();
      await waitFor(
        () => ['temperature', 'pressure', 'counter'].every((t) => of(t).some((r) => r.quality === 'bad')),
        15_000,
        25,
        'gap readings',
      );
      await waitFor(
        () => rec.lastStatus('in1')?.fill === 'yellow' && rec.lastStatus('in2')?.fill === 'yellow',
        10_000,
        25,
        'reconnecting status',
      );
      const gapAt = out.length;
      // a while without a server: still exactly one gap reading per tag (no repeat per retry)
      await new Promise((r) => setTimeout(r, 2500));
      for (const tag of ['temperature', 'pressure', 'counter']) {
        const bad = of(tag).filter((r) => r.quality === 'bad');
        expect(bad, tag).to.have.length(1);
        expect(bad[0].qualityReason).to.equal('BadConnectionClosed');
      }
      expect(of('temperature').find((r) => r.quality === 'bad')!.value).to.equal(lastGood);
      expect(out.length).to.equal(gapAt);

      // back on the same port
      await server.restart();
      server.setValue('Temperature', 71.5);
      server.setValue('Counter', 5);
      await waitFor(
        () => of('temperature', gapAt).some((r) => r.value === 71.5 && r.quality === 'good'),
        30_000,
        25,
        'temperature resumes',
      );
      await waitFor(() => of('counter', gapAt).some((r) => r.value === 5 && r.quality === 'good'), 10_000, 25, 'counter resumes');
      await waitFor(() => rec.lastStatus('in1')?.fill === 'green' && rec.lastStatus('in2')?.fill === 'green', 10_000, 25, 'green again');

      // the new server holds exactly one monitored item per configured node id, in one session
      await new Promise((r) => setTimeout(r, 1000));
      expect(Object.fromEntries(server.monitoredItemsByNodeId())).to.deep.equal({
        'ns=1;s=Temperature': 1,
        'ns=1;s=Pressure': 1,
        'ns=1;s=Counter': 1,
      });
      expect(server.sessionCount()).to.equal(1);
      expect(server.subscriptionCount()).to.equal(2);
    });
  }

  it('shows a red "access denied" status on the nodes when the password is wrong', async function () {
    const flow = [
      {
        id: 'ep',
        type: 'twin-opcua-endpoint',
        endpointUrl: server.endpointUrl,
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        authMode: 'username',
        acceptUnknownCertificates: true,
      },
      {
        id: 'in1',
        type: 'twin-opcua-in',
        endpoint: 'ep',
        items: [item('Temperature')],
        samplingIntervalMs: 0,
        queueSize: 1,
        deadband: 0,
        wires: [[]],
      },
    ];
    await helper.load([endpointNode, inNode] as never, flow as never, { ep: { user: 'op', password: 'wrong' } });
    const st = await waitFor(() => (rec.lastStatus('in1')?.fill === 'red' ? rec.lastStatus('in1') : undefined), 30_000, 25, 'red status');
    expect(st).to.deep.equal({ fill: 'red', shape: 'ring', text: 'access denied' });
    expect(server.sessionCount()).to.equal(0);
  });
});
