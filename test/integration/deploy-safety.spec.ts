/**
 * `twinloop deploy` against small local HTTP servers standing in for a hostile or broken Node-RED:
 * a redirect to another origin must not carry the password or token there, a server that never
 * answers must not hang the deploy, and the deployer's own environment must not reach the target.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { runDeploy } from '../support/deploy-cli.js';

const PASSWORD = 'deployer-Pa55-must-stay-home';
const TOKEN = 'deployer-token-must-stay-home';

const run = runDeploy;

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

/** An HTTP server on a free port that records every request and answers with `handler`. */
async function server(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; srv: Server }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handler(req, res);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, seen, srv };
}

function close(srv: Server): Promise<void> {
  srv.closeAllConnections();
  return new Promise((resolve) => srv.close(() => resolve()));
}

describe('twinloop deploy (integration: redirects, timeouts, what reaches the target)', function () {
  this.timeout(60_000);
  let dir: string;
  const servers: Server[] = [];

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-deploy-safety-'));
    writeFileSync(
      join(dir, 'flow.json'),
      JSON.stringify([
        { id: 't', type: 'tab', label: 'x' },
        { id: 'c', type: 'change', z: 't', rules: [{ to: '${SITE}' }] },
      ]),
    );
    writeFileSync(join(dir, 'site.env'), 'SITE=plant7\n');
  });

  afterEach(async function () {
    await Promise.all(servers.splice(0).map(close));
  });

  async function attacker(): Promise<{ url: string; seen: Seen[] }> {
    const other = await server((_req, res) => res.end('{"access_token":"x"}'));
    servers.push(other.srv);
    return other;
  }

  it('a 307 to another origin on login: not followed, the password reaches only the first server', async function () {
    const other = await attacker();
    const first = await server((req, res) => {
      res.writeHead(307, { Location: new URL(req.url ?? '/', other.url).href }).end();
    });
    servers.push(first.srv);
    const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', first.url, '--user', 'admin'], {
      NODE_RED_PASSWORD: PASSWORD,
    });
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(
      `twinloop deploy: POST ${first.url}auth/token answered 307, a redirect to ${other.url}auth/token: ` +
        'not followed (deploy sends credentials); give the right --url\n',
    );
    expect(first.seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(['POST /auth/token']);
    expect(first.seen[0]!.body).to.include(PASSWORD);
    expect(other.seen).to.deep.equal([]);
  });

  it('a 307 to another origin with a token: not followed, the token reaches only the first server', async function () {
    const other = await attacker();
    const first = await server((req, res) => {
      res.writeHead(307, { Location: new URL(req.url ?? '/', other.url).href }).end();
    });
    servers.push(first.srv);
    const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', first.url, '--token', TOKEN]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/answered 307, a redirect to .*: not followed/);
    expect(first.seen.map((s) => s.authorization)).to.deep.equal([`Bearer ${TOKEN}`]);
    expect(other.seen).to.deep.equal([]);
  });

  it('a server that never answers: gives up after --timeout-s with one line naming the URL', async function () {
    const silent = await server(() => {
      // accepts the request and never answers
    });
    servers.push(silent.srv);
    const args = [join(dir, 'flow.json'), '--env', join(dir, 'site.env'), '--url', silent.url, '--token', TOKEN, '--timeout-s', '2'];
    const r = await run(args);
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(`twinloop deploy: no answer from GET ${silent.url}nodes within 2 s (--timeout-s)\n`);
    expect(silent.seen).to.have.length(1);
  });

  it('a flow naming HOME and NODE_RED_PASSWORD: missing unless the site file sets them, nothing sent', async function () {
    const target = await attacker();
    writeFileSync(
      join(dir, 'leaky.json'),
      JSON.stringify([
        { id: 't', type: 'tab', label: 'x' },
        { id: 'c', type: 'change', z: 't', rules: [{ to: '${HOME}' }, { to: '${SITE}' }] },
        { id: 'b', type: 'twin-mqtt-broker', url: 'mqtt://h', credentials: { password: '${NODE_RED_PASSWORD}' } },
      ]),
    );
    const r = await run([join(dir, 'leaky.json'), '--env', join(dir, 'site.env'), '--url', target.url, '--user', 'admin'], {
      NODE_RED_PASSWORD: PASSWORD,
      HOME: '/home/deployer',
    });
    expect(r.code).to.equal(2);
    expect(r.err).to.equal(
      `twinloop deploy: ${join(dir, 'leaky.json')} needs 2 variable(s) that ${join(dir, 'site.env')} does not set:\n` +
        '  HOME\n  NODE_RED_PASSWORD\n',
    );
    expect(target.seen).to.deep.equal([]);
  });

  it('a malformed site file or a bad --timeout-s is refused, naming the line, nothing sent', async function () {
    const target = await attacker();
    const cases: Array<[string, string]> = [
      ['SITE=plant7\nDB_PASSWORD="abc\n', 'site-bad.env:2: unbalanced double quote in the value of DB_PASSWORD'],
      ['SITE=plant7\n# again\nSITE=plant8\n', 'site-bad.env:3: SITE is set again (first on line 1)'],
    ];
    for (const [text, reason] of cases) {
      writeFileSync(join(dir, 'site-bad.env'), text);
      const r = await run([join(dir, 'flow.json'), '--env', join(dir, 'site-bad.env'), '--url', target.url, '--token', TOKEN]);
      expect(r.code).to.equal(2);
      expect(r.err).to.include(reason);
      expect(r.err.trim().split('\n')).to.have.length(1);
    }
    const zero = await run([
      join(dir, 'flow.json'),
      '--env',
      join(dir, 'site.env'),
      '--url',
      target.url,
      '--token',
      TOKEN,
      '--timeout-s',
      '0',
    ]);
    expect(zero.code).to.equal(2);
    expect(zero.err).to.match(/--timeout-s must be seconds, above 0/);
    expect(target.seen).to.deep.equal([]);
  });
});
