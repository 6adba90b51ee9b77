// `twinloop start --cluster` against a NATS cluster that asks for a login (a real 3-node Debian
// nats-server cluster with an `authorization` block): a wrong password stops the start with one line
// (exit 1) before anything runs; the right one, from TWINLOOP_NATS_USER / TWINLOOP_NATS_PASSWORD,
// reaches the generated flow's twin-cluster as its encrypted credentials (the instance claims the
// line), and is in no file of the home in clear.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { leaseHolders } from '../../runtime/cluster/lease-view.js';
import { jetstreamManager } from '../../runtime/cluster/nats-client.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { freePort, waitFor } from '../support/ports.js';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
const LINE = 'auth/area/line1';
const PASSWORD = 'nats-Pw-7f3e91c2';

describe('twinloop start --cluster with a NATS login', function () {
  this.timeout(120_000);
  const natsBin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let tl: TwinloopProcess | undefined;

  before(async function () {
    if (!natsBin) this.skip();
    nats = await startNatsCluster(natsBin!, 3, {
      extraConfig: `authorization { user: svc, password: "${PASSWORD}" }`,
      user: 'svc',
      password: PASSWORD,
    });
  });
  after(async () => {
    await tl?.stop();
    await nats?.stop();
  });

  const args = () => ['--cluster', nats.servers.join(','), '--lines', LINE, '--mqtt-url', 'mqtt://127.0.0.1:9', '--instance', 'auth1'];

  it('a wrong password: one line naming the servers, exit 1, nothing started', async () => {
    const child = spawn(process.execPath, [BIN, 'start', ...args()], {
      env: {
        ...process.env,
        PORT: String(await freePort()),
        TWINLOOP_HOME: mkdtempSync(join(tmpdir(), 'tl-auth-')),
        TWINLOOP_NATS_USER: 'svc',
        TWINLOOP_NATS_PASSWORD: 'wrong',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, err).to.equal(1);
    expect(err.trim().split('\n'), err).to.have.length(1);
    expect(err).to.match(/^twinloop start: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
    expect(err + out).to.not.include('wrong');
    expect(out).to.not.include('is running');
  });

  it('the right login reaches twin-cluster (the line is claimed) and is stored encrypted only', async () => {
    tl = await startTwinloop(args(), { TWINLOOP_NATS_USER: 'svc', TWINLOOP_NATS_PASSWORD: PASSWORD, TWINLOOP_DEMO_USERS: '0' });
    expect(tl.output()).to.include('TwinLoop cluster instance auth1 is running.');
    const nc = await nats.connect();
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => (await leaseHolders(jsm, [LINE]).catch(() => undefined))?.[0]?.holder === 'auth1',
        60_000,
        250,
        'the line claimed by auth1',
      );
    } finally {
      await nc.close();
    }
    // node_modules links the package itself
    const files = readdirSync(tl.home, { recursive: true, encoding: 'utf8' })
      .filter((f) => !f.startsWith('node_modules'))
      .map((f) => join(tl!.home, f))
      .filter((f) => statSync(f).isFile());
    expect(files.some((f) => f.endsWith('cluster-flows_cred.json'))).to.equal(true);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).to.not.include(PASSWORD);
    expect(tl.output()).to.not.include(PASSWORD);
  });
});
