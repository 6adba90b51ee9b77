// twin-opcua-endpoint in a real Node-RED runtime against a real node-opcua server: config validation,
// the PKI folder, credentials, and the editor's browse endpoint.
import { expect } from 'chai';
import { join } from 'node:path';
import type { OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, type Recorder } from '../support/opcua-nr.js';
import { OpcuaTestServer } from '../support/opcua-server.js';
import { freePort, waitFor } from '../support/ports.js';

const endpointNode = nodeModule('twin-opcua-endpoint');

interface EndpointNode {
  configError?: string;
  pkiDir: string;
  connection(): OpcuaConnection | undefined;
}

describe('twin-opcua-endpoint (node, real OPC UA server)', function () {
  this.timeout(60_000);
  let server: OpcuaTestServer;
  let userDir: string;
  let rec: Recorder;

  before(async function () {
    server = await OpcuaTestServer.start({ users: [{ user: 'operator', password: 'pa55-word' }] });
  });
  after(async function () {
    await server?.stop();
  });
  beforeEach(function (done) {
    userDir = tempUserDir('nr-opcua-ep-');
    helper.settings({ userDir });
    rec = recordNodeCalls();
    helper.startServer(done);
  });
  afterEach(async function () {
    rec.restore();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const ep = (extra: Record<string, unknown> = {}) => ({
    id: 'ep',
    type: 'twin-opcua-endpoint',
    endpointUrl: server.endpointUrl,
    securityMode: 'SignAndEncrypt',
    securityPolicy: 'Basic256Sha256',
    authMode: 'username',
    acceptUnknownCertificates: true,
    ...extra,
  });
  const creds = { ep: { user: 'operator', password: 'pa55-word' } };

  it('keeps its PKI in <userDir>/twinloop/pki/opcua and connects with user/password credentials', async function () {
    await helper.load(endpointNode as never, [ep()], creds);
    const n = helper.getNode('ep') as unknown as EndpointNode;
    expect(n.configError).to.equal(undefined);
    expect(n.pkiDir).to.equal(join(userDir, 'twinloop', 'pki', 'opcua'));
    const conn = n.connection()!;
    await conn.whenConnected(30_000);
    expect(server.sessionCount()).to.equal(1);
    expect(n.connection()).to.equal(conn);
  });

  it('closes its session when the flow stops', async function () {
    await helper.load(endpointNode as never, [ep()], creds);
    const n = helper.getNode('ep') as unknown as EndpointNode;
    await n.connection()!.whenConnected(30_000);
    await helper.unload();
    await waitFor(() => server.sessionCount() === 0, 10_000, 25, 'session closed');
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a URL that is not opc.tcp', { endpointUrl: 'http://127.0.0.1:4840' }, /opc\.tcp/],
    ['an empty URL', { endpointUrl: '' }, /required/],
    ['a port out of range', { endpointUrl: 'opc.tcp://127.0.0.1:70000/x' }, /out of range/],
    ['mode None with a policy', { securityMode: 'None', securityPolicy: 'Basic256Sha256' }, /None needs security policy None/],
    ['Sign without a policy', { securityMode: 'Sign', securityPolicy: 'None' }, /needs a security policy/],
    ['an unknown policy', { securityPolicy: 'Basic128Rsa15' }, /security policy must be one of/],
    ['an unknown mode', { securityMode: 'Encrypt' }, /security mode must be one of/],
    ['an unknown auth mode', { authMode: 'kerberos' }, /anonymous or username/],
  ];
  for (const [what, cfg, re] of invalid) {
    it(`reports ${what} as a config error and connects to nothing`, async function () {
      await helper.load(endpointNode as never, [ep(cfg)], creds);
      const n = helper.getNode('ep') as unknown as EndpointNode;
      expect(n.configError).to.match(re);
      expect(n.connection()).to.equal(undefined);
      expect(
        rec
          .errors('ep')
          .map((e) => e.message)
          .join('\n'),
      ).to.match(re);
    });
  }

  it('requires a user name for user/password authentication, and never logs the password', async function () {
    await helper.load(endpointNode as never, [ep()], { ep: { user: '', password: 'pa55-word' } });
    const n = helper.getNode('ep') as unknown as EndpointNode;
    expect(n.configError).to.match(/user name is required/);
    const logged = JSON.stringify(rec.errors('ep')) + JSON.stringify(helper.log().args);
    expect(logged).not.to.contain('pa55-word');
  });

  it('keeps the password out of the logs when the server rejects it', async function () {
    await helper.load(endpointNode as never, [ep()], { ep: { user: 'operator', password: 'not-the-Pa55' } });
    const n = helper.getNode('ep') as unknown as EndpointNode;
    const conn = n.connection()!;
    await waitFor(() => conn.state.state === 'error', 30_000, 25, 'access denied');
    expect(conn.state.errorKind).to.equal('access denied');
    expect(JSON.stringify(helper.log().args) + JSON.stringify(conn.state)).not.to.contain('not-the-Pa55');
  });

  describe('browse endpoint', function () {
    it('lists the children of the Objects folder and of a device', async function () {
      await helper.load(endpointNode as never, [ep()], creds);
      const top = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'ep' }).expect(200);
      const dev = top.body.children.find((c: { browseName: string }) => c.browseName === 'TestDevice');
      expect(dev, JSON.stringify(top.body)).to.be.an('object');
      const res = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'ep', nodeId: dev.nodeId }).expect(200);
      const temp = res.body.children.find((c: { nodeId: string }) => c.nodeId === 'ns=1;s=Temperature');
      expect(temp).to.include({ nodeClass: 'Variable', browseName: 'Temperature' });
    });

    it('answers 400 without an endpoint id or with an invalid node id', async function () {
      await helper.load(endpointNode as never, [ep()], creds);
      const a = await helper.request().get('/twinloop/opcua/browse').expect(400);
      expect(a.body.error).to.be.a('string');
      const b = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'ep', nodeId: 'ns=x;q=!!' }).expect(400);
      expect(b.body.error).to.match(/not a valid OPC UA node id/);
    });

    it('answers 404 for an endpoint that is not deployed', async function () {
      await helper.load(endpointNode as never, [ep()], creds);
      const r = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'nope' }).expect(404);
      expect(r.body.error).to.match(/not deployed|notDeployed/);
    });

    it('answers 400 for an endpoint whose config is invalid', async function () {
      await helper.load(endpointNode as never, [ep({ endpointUrl: 'tcp://x' })], creds);
      const r = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'ep' }).expect(400);
      expect(r.body.error).to.be.a('string');
    });

    it('answers 503 with a message when the server is unreachable', async function () {
      const port = await freePort();
      await helper.load(
        endpointNode as never,
        [ep({ endpointUrl: `opc.tcp://127.0.0.1:${port}/none`, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous' })],
        {},
      );
      const r = await helper.request().get('/twinloop/opcua/browse').query({ endpoint: 'ep' }).expect(503);
      expect(r.body.error).to.match(/not reachable|notConnected|not connected/);
    });
  });
});
