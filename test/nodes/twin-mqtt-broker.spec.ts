import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { helper, nodeModule } from '../support/nr.js';
import { freePort, waitFor } from '../support/ports.js';
import { startAedes, type AedesBroker } from '../support/aedes.js';
import { tempDir } from '../support/mqtt-helpers.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const brokerNode = nodeModule('twin-mqtt-broker');
const inNode = nodeModule('twin-mqtt-in');
const outNode = nodeModule('twin-mqtt-out');

const logged = (id: string, level = 20): string =>
  (helper.log().args as any[][])
    .map((a) => a[0])
    .filter((e) => e.level === level && e.id === id)
    .map((e) => String(e.msg))
    .join('\n');
const allLog = (): string => JSON.stringify((helper.log().args as any[][]).map((a) => a[0]));

describe('twin-mqtt-broker (config node, aedes)', function () {
  let aedes: AedesBroker;
  let userDir: string;
  const clients: string[] = [];

  before(async function () {
    aedes = await startAedes();
  });
  after(async function () {
    await aedes.stop();
  });
  beforeEach(function (done) {
    clients.length = 0;
    aedes.broker.on('client', (c: any) => clients.push(c.id));
    userDir = tempDir('nr-mqtt-broker-');
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async function () {
    aedes.broker.removeAllListeners('client');
    aedes.broker.authenticate = (_c: any, _u: any, _p: any, cb: any) => cb(null, true);
    await aedes.start();
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  const users = [
    { id: 'in1', type: 'twin-mqtt-in', broker: 'b1', mode: 'json', pattern: 'a/{asset+}/{tag}', wires: [[]] },
    { id: 'in2', type: 'twin-mqtt-in', broker: 'b1', mode: 'number', pattern: 'b/{asset+}/{tag}', wires: [[]] },
    { id: 'out', type: 'twin-mqtt-out', broker: 'b1', prefix: 'x' },
  ];

  it('shares one mqtt.js client among all its users, with a stable client id from the node id', async function () {
    await helper.load(
      [brokerNode, inNode, outNode] as never,
      [{ id: 'b1', type: 'twin-mqtt-broker', url: aedes.url, reconnectPeriodMs: 100 }, ...users] as never,
    );
    const b = helper.getNode('b1') as any;
    await waitFor(() => b.link?.connected);
    await new Promise((r) => setTimeout(r, 100));
    expect(clients).to.deep.equal(['twinloop-b1']);
    // the outbox lives under <userDir>/twinloop/outbox/<id>
    expect(existsSync(join(userDir, 'twinloop', 'outbox', 'b1', 'meta.json'))).to.equal(true);
  });

  it('uses a configured client id and broadcasts the connection state to every user', async function () {
    await helper.load(
      [brokerNode, inNode, outNode] as never,
      [
        { id: 'b1', type: 'twin-mqtt-broker', url: aedes.url, clientId: 'line1-twin', reconnectPeriodMs: 50, maxReconnectPeriodMs: 200 },
        ...users,
      ] as never,
    );
    const b = helper.getNode('b1') as any;
    const seen: Record<string, any[]> = { in1: [], in2: [], out: [] };
    for (const id of Object.keys(seen)) {
      const n = helper.getNode(id) as any;
      const orig = n.status.bind(n);
      n.status = (s: any) => {
        seen[id].push(s);
        return orig(s);
      };
    }
    await waitFor(() => b.link?.connected);
    await waitFor(() => clients.includes('line1-twin'));
    await aedes.stop();
    await waitFor(() => Object.values(seen).every((list) => list.some((s) => s.fill !== 'green')), 10_000, 20, 'every user shows the loss');
    await aedes.start();
    await waitFor(
      () => Object.values(seen).every((list) => list.length > 0 && list[list.length - 1].fill === 'green'),
      10_000,
      20,
      'every user green again',
    );
  });

  it('backs off reconnects: each failed attempt doubles the wait up to the maximum', async function () {
    await helper.load(
      [brokerNode, inNode] as never,
      [{ id: 'b1', type: 'twin-mqtt-broker', url: aedes.url, reconnectPeriodMs: 20, maxReconnectPeriodMs: 160 }, users[0]] as never,
    );
    const b = helper.getNode('b1') as any;
    await waitFor(() => b.link?.connected);
    const periods: number[] = [];
    (b.link as any).client.on('reconnect', () => setImmediate(() => periods.push((b.link as any).client.options.reconnectPeriod)));
    await aedes.stop();
    await waitFor(() => periods.length >= 5, 10_000, 10, 'five reconnect attempts');
    expect(periods.slice(0, 5)).to.deep.equal([40, 80, 160, 160, 160]);
    await aedes.start();
    await waitFor(() => b.link.connected);
    expect((b.link as any).client.options.reconnectPeriod).to.equal(20);
  });

  it('passes username and password from credentials and never logs them', async function () {
    (aedes.broker as any).authenticate = (_c: any, user: string, pass: Buffer | undefined, cb: any) =>
      cb(null, user === 'plant' && pass?.toString() === 's3cret-PW');
    await helper.load(
      [brokerNode, inNode] as never,
      [{ id: 'b1', type: 'twin-mqtt-broker', url: aedes.url, reconnectPeriodMs: 50 }, users[0]] as never,
      { b1: { user: 'plant', password: 's3cret-PW' } } as never,
    );
    const b = helper.getNode('b1') as any;
    await waitFor(() => b.link?.connected);
    await helper.unload();
    // wrong password: refused, reported, and still not in any log line
    await helper.load(
      [brokerNode, inNode] as never,
      [{ id: 'b1', type: 'twin-mqtt-broker', url: aedes.url, reconnectPeriodMs: 50 }, users[0]] as never,
      { b1: { user: 'plant', password: 'wrong-PW-9' } } as never,
    );
    const b2 = helper.getNode('b1') as any;
    await waitFor(() => /Not authorized|Bad username or password/i.test(logged('b1', 40)), 10_000, 20, 'refusal logged');
    expect(b2.link.connected).to.equal(false);
    expect(allLog()).not.to.match(/s3cret-PW|wrong-PW-9/);
  });

  describe('TLS', function () {
    let dir: string;
    let tlsServer: TlsServer;
    let tlsBroker: Aedes;
    let port: number;
    before(async function () {
      dir = tempDir('mqtt-tls-');
      // node-opcua's PKI sets OPENSSL_CONF process-wide to a file in its (maybe deleted) temp PKI; not ours.
      const env = { ...process.env };
      delete env.OPENSSL_CONF;
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore', env },
      );
      tlsBroker = await Aedes.createBroker();
      port = await freePort();
      tlsServer = createTlsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        tlsBroker.handle as any,
      );
      await new Promise<void>((r) => tlsServer.listen(port, '127.0.0.1', () => r()));
    });
    after(async function () {
      if (!tlsServer) return;
      await new Promise<void>((r) => tlsBroker.close(() => r()));
      await new Promise<void>((r) => tlsServer.close(() => r()));
    });

    it('connects over mqtts:// when given the CA file', async function () {
      await helper.load(
        [brokerNode, inNode] as never,
        [
          {
            id: 'b1',
            type: 'twin-mqtt-broker',
            url: `mqtts://127.0.0.1:${port}`,
            tlsCaFile: join(dir, 'cert.pem'),
            rejectUnauthorized: true,
            reconnectPeriodMs: 50,
          },
          users[0],
        ] as never,
      );
      const b = helper.getNode('b1') as any;
      await waitFor(() => b.link?.connected);
    });

    it('refuses an unknown broker certificate when verifying', async function () {
      await helper.load(
        [brokerNode, inNode] as never,
        [
          { id: 'b1', type: 'twin-mqtt-broker', url: `mqtts://127.0.0.1:${port}`, rejectUnauthorized: true, reconnectPeriodMs: 50 },
          users[0],
        ] as never,
      );
      await waitFor(() => /self[- ]signed|certificate/i.test(logged('b1', 40)), 10_000, 20, 'certificate error logged');
      expect((helper.getNode('b1') as any).link.connected).to.equal(false);
    });
  });

  describe('config validation', function () {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['an http:// URL', { url: 'http://127.0.0.1:1883' }, /broker URL must start with/],
      ['an empty URL', { url: '' }, /broker URL/],
      ['protocol version 3', { url: 'mqtt://127.0.0.1:1', protocolVersion: 3 }, /protocolVersion/],
      [
        'a max reconnect below the first',
        { url: 'mqtt://127.0.0.1:1', reconnectPeriodMs: 1000, maxReconnectPeriodMs: 100 },
        /maxReconnectPeriodMs/,
      ],
      ['a negative keepalive', { url: 'mqtt://127.0.0.1:1', keepaliveS: -1 }, /keepaliveS/],
      ['an in-flight window of 0', { url: 'mqtt://127.0.0.1:1', inflightWindow: 0 }, /inflightWindow/],
      ['an outbox limit of 0', { url: 'mqtt://127.0.0.1:1', outboxMaxEntries: 0 }, /outboxMaxEntries/],
      ['an unreadable CA file', { url: 'mqtts://127.0.0.1:1', tlsCaFile: '/nonexistent/ca.pem' }, /cannot read TLS CA file/],
      ['a client certificate without key', { url: 'mqtts://127.0.0.1:1', tlsCertFile: __filename }, /needs its key/],
    ];
    for (const [what, cfg, reason] of cases) {
      it(`refuses ${what}: error logged, users red, publishing refused`, async function () {
        await helper.load(
          [brokerNode, inNode, outNode, catchNode] as never,
          [
            { id: 'b1', type: 'twin-mqtt-broker', ...cfg },
            users[2],
            { id: 'c', type: 'catch', scope: ['out'], uncaught: false, wires: [['errs']] },
            { id: 'errs', type: 'helper' },
          ] as never,
        );
        expect(logged('b1')).to.match(/configuration is invalid/);
        expect(logged('b1')).to.match(reason);
        const errs: any[] = [];
        (helper.getNode('errs') as any).on('input', (m: any) => errs.push(m));
        (helper.getNode('out') as any).receive({ payload: { asset: 'a', tag: 't', value: 1, tsMs: 1, quality: 'good', source: 'x' } });
        await waitFor(() => errs.length >= 1);
        expect(errs[0].error.code).to.equal('BAD_CONFIG');
        expect(clients).to.deep.equal([]);
      });
    }
  });
});
