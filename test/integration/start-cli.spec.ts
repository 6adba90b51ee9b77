/**
 * `twinloop start` as a newcomer meets it (the built CLI as a child process, free ports, a throw-away
 * home): started from a folder that holds someone else's flows.json it still runs its own demo; a
 * healthy start prints its banner and nothing that looks like an error; a port someone else holds
 * stops it with one line naming the variable that moves it.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { adminToken, brokerLogin, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { freePort, waitFor } from '../support/ports.js';

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
const ASSET = 'demo/plant1/extrusion/line1/extruder';
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const mode = (p: string) => statSync(p).mode & 0o777;
/** The secret-bearing files start must find in its home after a login (the rest of HOME_SECRET_FILES appear on use). */
const SECRETS = ['credential.key', 'signing.key', 'demo-users.json', '.sessions.json', '.config.runtime.json'];

/**
 * Every regular file and folder below `dir` with its permission bits, read in one lstat (symlinks
 * not followed: node_modules links the package). The running instance renames temp files (outbox
 * `*.tmp`) as we walk: one that is gone between readdir and lstat is skipped, not an error.
 */
function walk(dir: string, out: { path: string; mode: number }[] = []): { path: string; mode: number }[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let st;
    try {
      st = lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (st.isSymbolicLink()) continue;
    out.push({ path: p, mode: st.mode & 0o777 });
    if (st.isDirectory()) walk(p, out);
  }
  return out;
}

/** A login, then wait until Node-RED has written its sessions file (the token's store). */
async function loginAndSessions(tl: TwinloopProcess): Promise<void> {
  await adminToken(tl.url, 'admin', tl.logins.admin);
  const sessions = join(tl.home, '.sessions.json');
  await waitFor(() => existsSync(sessions) && readFileSync(sessions, 'utf8').includes('accessToken'), 30_000, 100, 'the sessions file');
}

describe('integration: twinloop start, as a newcomer runs it', function () {
  this.timeout(180_000);

  describe('started in a folder that holds a foreign flows.json (say ~/.node-red)', function () {
    const foreign = JSON.stringify([{ id: 'foreign-tab', type: 'tab', label: "somebody else's flow" }]);
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
      expect(JSON.parse(readFileSync(join(tl.home, 'flows.json'), 'utf8')).map((n: { id: string }) => n.id)).to.include(
        'demo-opcua-endpoint',
      );
    });

    it('a healthy start: the banner says what runs where, and no line looks like an error or a warning', async function () {
      // the demo is working end to end (OPC UA in, screened, out to the broker) before the log is read
      sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${tl.mqttPort}`, brokerLogin(tl.home));
      let readings = 0;
      sub.on('message', () => readings++);
      await sub.subscribeAsync(`${ASSET}/twin/reading/#`);
      await waitFor(() => readings > 0, 90_000, 100, 'a screened reading from the demo');
      const out = tl.output();
      for (const what of [
        'editor:',
        'MQTT:',
        'OPC UA:',
        'approvals:',
        'overview:',
        'user dir:',
        'logins',
        'admin',
        'supervisor',
        'Press Ctrl-C',
      ]) {
        expect(out).to.include(what);
      }
      const bad = out.split('\n').filter((l) => /error|warn|CVE|refuses/i.test(l));
      expect(bad, out).to.deep.equal([]);
    });

    it('a private home: the folder and all below it owner-only (0700 / 0600), tokens and keys included', async function () {
      await loginAndSessions(tl);
      expect(mode(tl.home)).to.equal(0o700);
      for (const f of SECRETS) expect(mode(join(tl.home, f)), f).to.equal(0o600);
      // everything else Node-RED, the simulator (its OPC UA private key) and the ledger wrote is born private too
      const open = walk(tl.home)
        .filter((f) => f.mode & 0o077)
        .map((f) => `${f.path} ${f.mode.toString(8)}`);
      expect(open).to.deep.equal([]);
      expect(
        walk(tl.home).some((f) => /pki.*private.*\.pem$/.test(f.path)),
        "the simulator's private key",
      ).to.equal(true);
    });

    it('keeps the credential secret it made in its home, readable by the owner only', function () {
      const key = join(tl.home, 'credential.key');
      expect(statSync(key).mode & 0o777).to.equal(0o600);
      expect(readFileSync(key, 'utf8').trim()).to.have.length.greaterThan(20);
      expect(tl.output()).to.not.include(readFileSync(key, 'utf8').trim());
    });
  });

  describe('a home left readable by others (an older version, a copy)', function () {
    let tl: TwinloopProcess;
    let home: string;
    after(async function () {
      if (tl) await tl.stop();
    });

    it('makes the secret files 0600 with one warning line each, names the fix for the folder, and logs nothing else', async function () {
      home = tmp('twinloop-home-');
      chmodSync(home, 0o755);
      writeFileSync(join(home, 'credential.key'), 'x'.repeat(43) + '\n', { mode: 0o644 });
      writeFileSync(join(home, '.sessions.json'), '{}', { mode: 0o644 });
      chmodSync(join(home, 'credential.key'), 0o644); // whatever the test's own umask
      chmodSync(join(home, '.sessions.json'), 0o644);
      tl = await startTwinloop([], {}, home);
      await loginAndSessions(tl);
      for (const f of ['credential.key', '.sessions.json']) expect(mode(join(home, f)), f).to.equal(0o600);
      expect(mode(home), "the folder is the owner's choice: reported, not changed").to.equal(0o755);
      const warnings = tl
        .output()
        .split('\n')
        .filter((l) => /error|warn|CVE|refuses/i.test(l));
      expect(warnings, tl.output()).to.deep.equal([
        `twinloop start: warning: ${home} is open to other users (mode 0755); to make it private: chmod 700 ${home}`,
        `twinloop start: warning: ${join(home, 'credential.key')} was readable by other users (mode 0644); made it 0600 ` +
          '(if others can log in to this machine, treat its secret as exposed)',
        `twinloop start: warning: ${join(home, '.sessions.json')} was readable by other users (mode 0644); made it 0600 ` +
          '(if others can log in to this machine, treat its secret as exposed)',
      ]);
      // the files Node-RED and TwinLoop write now are private, even in a folder open to others
      const open = walk(home)
        .filter((f) => f.mode & 0o077)
        .map((f) => f.path);
      expect(open).to.deep.equal([]);
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
    async function startWithBusy(
      variable: 'PORT' | 'MQTT_PORT' | 'OPCUA_PORT',
      args: string[] = [],
    ): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const env: Record<string, string> = {
        PORT: String(await freePort()),
        MQTT_PORT: String(await freePort()),
        OPCUA_PORT: String(await freePort()),
      };
      env[variable] = String(held);
      const child = spawn(process.execPath, [BIN, 'start', ...args], {
        env: { ...process.env, ...env, TWINLOOP_HOME: tmp('twinloop-home-') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      return { code, stdout, stderr };
    }

    for (const [variable, option, what, args] of [
      ['MQTT_PORT', '--mqtt-port', 'the MQTT broker', []],
      ['OPCUA_PORT', '--opcua-port', "the simulator's OPC UA server", []],
      ['PORT', '--port', 'the editor', ['--no-sim']],
    ] as const) {
      it(`${variable}: one line naming it, exit code 1, nothing started`, async function () {
        const r = await startWithBusy(variable, [...args]);
        expect(r.code, r.stdout + r.stderr).to.equal(1);
        expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
        expect(r.stderr.trim()).to.equal(
          `twinloop start: port ${held} for ${what} is in use: set ${variable} (or ${option}) to a free port`,
        );
        expect(r.stdout).to.not.include('TwinLoop is running');
      });
    }
  });
});
