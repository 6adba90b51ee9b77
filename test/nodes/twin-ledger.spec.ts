// twin-ledger (config node) in a real Node-RED runtime: where the ledger goes, the signing key from
// a credential or an env var, a missing / short key, sharing, closing, and a broken ledger refused.
// The key must never reach a log line.
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { helper, nodeModule } from '../support/nr.js';
import { tempUserDir } from '../support/opcua-nr.js';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import { resolveLedgerPath, resolveSigningKey, type TwinLedgerNode } from '../../nodes/twin-ledger/ledger-api.js';

const ledgerNode = nodeModule('twin-ledger');
const functionNode = require('@node-red/nodes/core/function/10-function.js');
const NodeClass = require('@node-red/runtime/lib/nodes/Node.js') as { prototype: Record<string, (...a: unknown[]) => unknown> };

const KEY = 'correct-horse-battery-staple-42';
const ENV = 'TWINLOOP_TEST_LEDGER_KEY';

/** Everything logged through any node's log/warn/error, and whatever reaches stdout/stderr. */
function captureLogs(): { text: () => string; errors: (id: string) => string[]; restore: () => void } {
  const lines: Array<{ id: string; level: string; text: string }> = [];
  const saved: Record<string, (...a: unknown[]) => unknown> = {};
  for (const level of ['log', 'warn', 'error', 'debug', 'trace']) {
    saved[level] = NodeClass.prototype[level];
    NodeClass.prototype[level] = function (this: { id: string }, m: unknown, ...rest: unknown[]) {
      lines.push({ id: this.id, level, text: String((m as Error)?.message ?? m) });
      return saved[level].call(this, m, ...rest);
    };
  }
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let raw = '';
  process.stdout.write = ((c: unknown, ...a: unknown[]) => (
    (raw += String(c)),
    (out as (...x: unknown[]) => boolean)(c, ...a)
  )) as typeof process.stdout.write;
  process.stderr.write = ((c: unknown, ...a: unknown[]) => (
    (raw += String(c)),
    (err as (...x: unknown[]) => boolean)(c, ...a)
  )) as typeof process.stderr.write;
  return {
    text: () => lines.map((l) => l.text).join('\n') + raw,
    errors: (id) => lines.filter((l) => l.id === id && l.level === 'error').map((l) => l.text),
    restore: () => {
      for (const [level, fn] of Object.entries(saved)) NodeClass.prototype[level] = fn;
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

describe('twin-ledger (config node)', function () {
  let userDir: string;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(function (done) {
    userDir = tempUserDir('nr-ledger-');
    helper.settings({ userDir });
    logs = captureLogs();
    helper.startServer(done);
  });
  afterEach(async function () {
    logs.restore();
    delete process.env[ENV];
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    rmSync(userDir, { recursive: true, force: true });
  });

  const load = async (defs: Array<Record<string, unknown>>, creds: Record<string, Record<string, string>> = {}): Promise<void> => {
    await helper.load(ledgerNode as never, defs.map((d) => ({ type: 'twin-ledger', ...d })) as never, creds);
  };
  const get = (id: string): TwinLedgerNode => helper.getNode(id) as unknown as TwinLedgerNode;

  it('takes the key from its credential and keeps the ledger in <userDir>/twinloop/ledger/<id>.jsonl', async function () {
    await load([{ id: 'led1' }], { led1: { signingKey: KEY } });
    const n = get('led1');
    expect(n.configError).to.equal(undefined);
    expect(n.signingKey()).to.equal(KEY);
    const path = join(userDir, 'twinloop', 'ledger', 'led1.jsonl');
    expect(n.ledgerPath).to.equal(path);
    const ledger = await n.ledger();
    expect(await n.ledger()).to.equal(ledger); // opened once, shared
    expect(ledger.location).to.equal(path);
    const rec = await ledger.append({ type: 'policy', data: { enabled: false, user: 'alice' } });
    expect(JSON.parse(readFileSync(path, 'utf8').trim())).to.deep.equal(rec);
    const used = await n.usedCommands();
    expect(await used.claim('cmd-1')).to.equal(true);
    expect(existsSync(`${path}.used`)).to.equal(true);
    expect(logs.text()).to.not.include(KEY);
  });

  it('takes the key from the named env var when the credential is empty; the credential wins when both are set', async function () {
    process.env[ENV] = 'k'.repeat(20);
    await load(
      [
        { id: 'fromEnv', signingKeyEnv: ENV },
        { id: 'both', signingKeyEnv: ENV },
      ],
      { both: { signingKey: KEY } },
    );
    expect(get('fromEnv').configError).to.equal(undefined);
    expect(get('fromEnv').signingKey()).to.equal('k'.repeat(20));
    expect(get('both').signingKey()).to.equal(KEY);
  });

  it("takes an env var key out of the environment: a function node's env.get gets nothing, a redeploy still finds the key", async function () {
    const name = `${ENV}_TAKEN`;
    process.env[name] = 'e'.repeat(24);
    const flow = [
      { id: 'tab', type: 'tab', label: 't' },
      { id: 'led', type: 'twin-ledger', z: 'tab', signingKeyEnv: name },
      // the editor's attack of issue 13: read the key the way any flow code can
      {
        id: 'fn',
        type: 'function',
        z: 'tab',
        func: `msg.payload = { key: env.get(${JSON.stringify(name)}) ?? null, proc: typeof process }; return msg;`,
        wires: [['out']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
    ];
    await helper.load([ledgerNode, functionNode] as never, flow as never);
    expect(get('led').signingKey()).to.equal('e'.repeat(24));
    expect(process.env[name]).to.equal(undefined);
    const got = new Promise<{ key: unknown; proc: string }>((r) =>
      (helper.getNode('out') as unknown as { on(e: string, f: (m: { payload: never }) => void): void }).on('input', (m) => r(m.payload)),
    );
    (helper.getNode('fn') as unknown as { receive(m: unknown): void }).receive({ payload: 1 });
    expect(await got).to.deep.equal({ key: null, proc: 'undefined' });
    // redeployed: the variable is gone from the environment, the node still has its key
    await helper.unload();
    await helper.load(ledgerNode as never, [{ id: 'led2', type: 'twin-ledger', signingKeyEnv: name }] as never);
    expect(get('led2').signingKey()).to.equal('e'.repeat(24));
  });

  it('takes the key from an owner-only key file; a file others may read, a missing one or a relative path is a config error', async function () {
    const good = join(userDir, 'good.key');
    const open = join(userDir, 'open.key');
    writeFileSync(good, `${KEY}\n`, { mode: 0o600 });
    writeFileSync(open, `${KEY}\n`, { mode: 0o600 });
    chmodSync(open, 0o640);
    await load([
      { id: 'file', signingKeyFile: good },
      { id: 'open', signingKeyFile: open },
      { id: 'missing', signingKeyFile: join(userDir, 'none.key') },
      { id: 'rel', signingKeyFile: 'good.key' },
    ]);
    expect(get('file').configError).to.equal(undefined);
    expect(get('file').signingKey()).to.equal(KEY);
    expect(get('open').signingKey()).to.equal(undefined);
    expect(get('open').configError).to.equal(
      `signing key file ${open} is open to other users (mode 0640): make it owner-only with chmod 600 ${open}`,
    );
    expect(get('missing').configError).to.match(/none\.key does not exist/);
    expect(get('rel').configError).to.match(/must be an absolute path/);
    expect(logs.text()).to.not.include(KEY);
  });

  it('without a key: signingKey() is undefined, configError says why, node.error is raised; the ledger still opens', async function () {
    await load([{ id: 'none' }, { id: 'unset', signingKeyEnv: `${ENV}_UNSET` }]);
    const none = get('none');
    expect(none.signingKey()).to.equal(undefined);
    expect(none.configError).to.match(/no signing key/);
    expect(logs.errors('none').join('\n')).to.match(/invalid twin-ledger configuration: no signing key/);
    expect(get('unset').configError).to.match(new RegExp(`env var ${ENV}_UNSET is not set`));
    expect((await none.ledger()).location).to.equal(join(userDir, 'twinloop', 'ledger', 'none.jsonl'));
  });

  it(`a key shorter than 16 characters is refused without being logged`, async function () {
    const short = 'sh0rt-s3cret';
    process.env[`${ENV}_SHORT`] = 'another-short';
    await load([{ id: 'short' }, { id: 'shortEnv', signingKeyEnv: `${ENV}_SHORT` }], { short: { signingKey: short } });
    expect(get('short').signingKey()).to.equal(undefined);
    expect(get('short').configError).to.match(/too short \(12 characters, at least 16 needed\)/);
    expect(get('shortEnv').configError).to.match(new RegExp(`from env var ${ENV}_SHORT is too short`));
    expect(logs.text()).to.not.include(short);
    expect(logs.text()).to.not.include('another-short');
  });

  it('an invalid env var name is a config error', async function () {
    await load([{ id: 'badEnv', signingKeyEnv: 'NOT-A-NAME' }], { badEnv: { signingKey: KEY } });
    expect(get('badEnv').configError).to.match(/not a valid variable name/);
  });

  it('resolves a relative path against the user directory and uses an absolute one as it is; two nodes on one file share one chain', async function () {
    const abs = join(userDir, 'elsewhere', 'audit.jsonl');
    await load(
      [
        { id: 'rel', path: 'audit/line1.jsonl' },
        { id: 'abs1', path: abs },
        { id: 'abs2', path: abs },
      ],
      { rel: { signingKey: KEY }, abs1: { signingKey: KEY }, abs2: { signingKey: KEY } },
    );
    expect(get('rel').ledgerPath).to.equal(join(userDir, 'audit', 'line1.jsonl'));
    const [a, b] = [await get('abs1').ledger(), await get('abs2').ledger()];
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).append({ type: 'decision', data: i })));
    expect(await verifyLedgerFile(abs)).to.include({ ok: true, records: 10 });
  });

  it('releases the ledger on close: a later open continues the chain, and ledger() after close rejects', async function () {
    await load([{ id: 'c' }], { c: { signingKey: KEY } });
    const n = get('c');
    await (await n.ledger()).append({ type: 'proposal', data: 1 });
    await helper.unload();
    let err: Error | undefined;
    await n.ledger().catch((e: Error) => (err = e));
    expect(err?.message).to.match(/closed/);
    const again = await openFileLedger(n.ledgerPath!, { signingKey: KEY });
    expect((await again.append({ type: 'decision', data: 2 })).seq).to.equal(1);
    await again.close();
    expect(await verifyLedgerFile(n.ledgerPath!)).to.include({ ok: true, records: 2 });
  });

  it('a broken ledger file is refused with the first bad line named (and can be retried once fixed)', async function () {
    const path = join(userDir, 'broken.jsonl');
    writeFileSync(path, 'not a record\n');
    await load([{ id: 'b', path }], { b: { signingKey: KEY } });
    let err: Error | undefined;
    await get('b')
      .ledger()
      .catch((e: Error) => (err = e));
    expect(err?.message).to.match(/refusing to append.*line 1 \(seq 0\): bad JSON/);
    writeFileSync(path, '');
    expect((await (await get('b').ledger()).append({ type: 'proposal', data: 0 })).seq).to.equal(0);
  });

  describe('path and key rules (ledger-api.ts)', function () {
    it('falls back to $TWINLOOP_HOME/ledger without a user directory, and refuses a relative path with neither', function () {
      expect(resolveLedgerPath('', undefined, 'a1.b2', { TWINLOOP_HOME: '/srv/twin' })).to.equal('/srv/twin/ledger/a1.b2.jsonl');
      expect(resolveLedgerPath('', '/u', 'id/../x', {})).to.equal('/u/twinloop/ledger/id_.._x.jsonl');
      expect(() => resolveLedgerPath('', undefined, 'x', {})).to.throw(/give an absolute path/);
      expect(() => resolveLedgerPath('rel.jsonl', undefined, 'x', {})).to.throw(/relative/);
      expect(resolveLedgerPath('/abs/l.jsonl', undefined, 'x', {})).to.equal('/abs/l.jsonl');
    });
    it('never puts the key in a problem text', function () {
      const r = resolveSigningKey('tiny-key', undefined, () => undefined);
      expect(r.key).to.equal(undefined);
      expect(r.problem).to.not.include('tiny-key');
    });
  });
});
