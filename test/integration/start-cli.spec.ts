/**
 * `twinloop start` as a newcomer meets it (the built CLI as a child process, free ports, a throw-away
 * home): started from a folder that holds someone else's flows.json it still runs its own demo; a
 * healthy start prints its banner and nothing that looks like an error; a port someone else holds
 * stops it with one line naming the variable that moves it.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { freePort, waitFor } from '../support/ports.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
const ASSET = 'demo/plant1/extrusion/line1/extruder';
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('integration: twinloop start, as a newcomer runs it', function () {
  this.timeout(180_000);

  describe('started in a folder that holds a foreign flows.json (say ~/.node-red)', function () {
    const foreign = JSON.stringify([{ id: 'foreign-tab', type: 'tab', label: 'somebody else\'s flow' }]);
    let cwd: string;
    let tl: TwinloopProcess;
    let sub: mqtt.MqttClient | undefined;

    before(async function () {
      cwd = tmp('twinloop-cwd-');
      writeFileSync(join(cwd, 'flows.json'), foreign);
      tl = await startTwinloop([], {}, tmp('twinloop-home-'), cwd);
    });
    after(async function () {
      await sub?.endAsync();
      if (tl) await tl.stop();
    });

    it('runs its own demo flow from its home and leaves the foreign file alone', async function () {
      const token = await adminToken(tl.url, 'admin', tl.logins.admin);
      const res = await fetch(new URL('flows', tl.url), { headers: { authorization: `Bearer ${token}` } });
      const ids = ((await res.json()) as Array<{ id: string; type: string }>).map((n) => n.id);
      expect(ids).to.not.include('foreign-tab');
      expect(ids).to.include('demo-opcua-endpoint');
      expect(readFileSync(join(cwd, 'flows.json'), 'utf8')).to.equal(foreign);
      expect(JSON.parse(readFileSync(join(tl.home, 'flows.json'), 'utf8')).map((n: { id: string }) => n.id)).to.include('demo-opcua-endpoint');
    });

    it('a healthy start: the banner says what runs where, and no line looks like an error or a warning', async function () {
      // the demo is working end to end (OPC UA in, screened, out to the broker) before the log is read
      sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl.mqttPort}`);
      let readings = 0;
      sub.on('message', () => readings++);
      await sub.subscribeAsync(`${ASSET}/twin/reading/#`);
      await waitFor(() => readings > 0, 90_000, 100, 'a screened reading from the demo');
      const out = tl.output();
      for (const what of ['editor:', 'MQTT:', 'OPC UA:', 'approvals:', 'overview:', 'user dir:', 'logins', 'admin', 'supervisor', 'Press Ctrl-C']) {
        expect(out).to.include(what);
      }
      const bad = out.split('\n').filter((l) => /error|warn|CVE|refuses/i.test(l));
      expect(bad, out).to.deep.equal([]);
    });

    it('keeps the credential secret it made in its home, readable by the owner only', function () {
      const key = join(tl.home, 'credential.key');
      expect(statSync(key).mode & 0o777).to.equal(0o600);
      expect(readFileSync(key, 'utf8').trim()).to.have.length.greaterThan(20);
      expect(tl.output()).to.not.include(readFileSync(key, 'utf8').trim());
    });
  });

  describe('a port someone else holds', function () {
    let holder: Server;
    let held: number;
    beforeEach(async function () {
      held = await freePort();
      holder = createServer();
      await new Promise<void>((r) => holder.listen(held, '127.0.0.1', () => r()));
    });
    afterEach(async function () {
      await new Promise<void>((r) => holder.close(() => r()));
    });

    /** Start on free ports but `variable` = the held port; resolves with the exit code and output. */
    async function startWithBusy(variable: 'PORT' | 'MQTT_PORT' | 'OPCUA_PORT', args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const env: Record<string, string> = { PORT: String(await freePort()), MQTT_PORT: String(await freePort()), OPCUA_PORT: String(await freePort()) };
      env[variable] = String(held);
      const child = spawn(process.execPath, [BIN, 'start', ...args], { env: { ...process.env, ...env, TWINLOOP_HOME: tmp('twinloop-home-') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      return { code, stdout, stderr };
    }

    for (const [variable, option, what, args] of [
      ['MQTT_PORT', '--mqtt-port', 'the MQTT broker', []],
      ['OPCUA_PORT', '--opcua-port', 'the simulator\'s OPC UA server', []],
      ['PORT', '--port', 'the editor', ['--no-sim']],
    ] as const) {
      it(`${variable}: one line naming it, exit code 1, nothing started`, async function () {
        const r = await startWithBusy(variable, [...args]);
        expect(r.code, r.stdout + r.stderr).to.equal(1);
        expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
        expect(r.stderr.trim()).to.equal(`twinloop start: port ${held} for ${what} is in use: set ${variable} (or ${option}) to a free port`);
        expect(r.stdout).to.not.include('TwinLoop is running');
      });
    }
  });
});
