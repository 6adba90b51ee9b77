// Issue 13 (5): logins to the embedded Node-RED of `twinloop start` (a real `twinloop start --no-sim`
// child process, with its real /auth/token) cannot be used to lock a supervisor out. Wrong
// passwords are throttled by source address; Node-RED's own lock on a user name never sees them.
// Sources differ by client address (127.0.0.x: all loopback on Linux).
import { expect } from 'chai';
import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

function login(url: string, from: string, username: string, password: string): Promise<{ status: number; body: any; retryAfter?: string }> {
  const body = new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }).toString();
  const u = new URL('auth/token', url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body: json, retryAfter: res.headers['retry-after'] as string | undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('integration: logins cannot lock a supervisor out (embedded Node-RED, /auth/token)', function () {
  this.timeout(240_000);
  // a child process: Node-RED cannot be started twice in one process (other specs start it in this one)
  let red: TwinloopProcess;
  let PASSWORD: string;

  before(async function () {
    red = await startTwinloop(['--no-sim']);
    PASSWORD = red.logins.supervisor;
    expect(PASSWORD, red.output()).to.be.a('string');
  });
  after(async function () {
    await red?.stop();
    if (red) rmSync(red.home, { recursive: true, force: true });
  });

  it('six wrong logins from one address: that address is slowed down (429 + Retry-After); the supervisor logs in from another', async function () {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await login(red.url, '127.0.0.2', 'supervisor', `wrong-${i}`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter ??= r.retryAfter;
    }
    // three free failures (typos), then the attacker waits; no password is checked while it waits
    expect(statuses).to.deep.equal([403, 403, 403, 429, 429, 429]);
    expect(Number(retryAfter)).to.be.greaterThan(0);
    const ok = await login(red.url, '127.0.0.1', 'supervisor', PASSWORD);
    expect(ok.status).to.equal(200);
    expect(ok.body.access_token).to.be.a('string');
  });

  it("wrong passwords from many addresses never reach Node-RED's 5-per-name lock: the right password still logs in", async function () {
    for (let i = 3; i < 11; i++) expect((await login(red.url, `127.0.0.${i}`, 'supervisor', 'nope')).status).to.equal(403);
    const ok = await login(red.url, '127.0.0.1', 'supervisor', PASSWORD);
    expect(ok.status).to.equal(200);
    expect(ok.body.access_token).to.be.a('string');
  });
});
