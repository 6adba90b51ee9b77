// The used-commands store on a real file system: single use across concurrency and restarts,
// durability before claim() resolves, a torn last claim cut off, a damaged file refused.
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';
import type { UsedCommands } from '../../runtime/control/stores.js';

const ids = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);

describe('used-commands store (runtime/control/file-used-commands.ts)', function () {
  let dir: string;
  let path: string;
  const open: UsedCommands[] = [];
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'twinloop-used-'));
    path = join(dir, 'nested', 'ledger.jsonl.used');
  });
  afterEach(async function () {
    for (const u of open.splice(0)) await u.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const openStore = async (): Promise<UsedCommands> => {
    const u = await openUsedCommands(path);
    open.push(u);
    return u;
  };

  it('claims an id once: true, then false; the id is in the file when claim resolves', async function () {
    const u = await openStore();
    expect(u.has('c-1')).to.equal(false);
    expect(await u.claim('c-1')).to.equal(true);
    expect(ids(path)).to.deep.equal(['c-1']);
    expect(u.has('c-1')).to.equal(true);
    expect(await u.claim('c-1')).to.equal(false);
    expect(ids(path)).to.deep.equal(['c-1']);
  });

  it('concurrent claims of the same id: exactly one true', async function () {
    const u = await openStore();
    const other = await openStore(); // a second handle on the same path shares the instance
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? u : other).claim('same')));
    expect(results.filter((r) => r)).to.have.length(1);
    const mixed = await Promise.all(['a', 'b', 'a', 'c', 'b', 'a'].map((id) => u.claim(id)));
    expect(mixed).to.deep.equal([true, true, false, true, false, false]);
    expect(ids(path).sort()).to.deep.equal(['a', 'b', 'c', 'same']);
  });

  it('remembers claims across a close and reopen (a restart)', async function () {
    const u = await openUsedCommands(path);
    expect(await u.claim('before-restart')).to.equal(true);
    await u.close();
    const again = await openStore();
    expect(again.has('before-restart')).to.equal(true);
    expect(await again.claim('before-restart')).to.equal(false);
    expect(await again.claim('after-restart')).to.equal(true);
  });

  it('cuts a torn last claim (it never resolved) and appends cleanly after it', async function () {
    const u = await openUsedCommands(path);
    await u.claim('x');
    await u.claim('y');
    await u.close();
    appendFileSync(path, '{"id":"torn-cla');
    const again = await openStore();
    expect(again.has('x') && again.has('y')).to.equal(true);
    expect(again.has('torn-cla')).to.equal(false);
    expect(await again.claim('z')).to.equal(true);
    expect(ids(path)).to.deep.equal(['x', 'y', 'z']);
  });

  it('refuses to open a file with a damaged line before the end (an id may be lost)', async function () {
    writeFileSync(path.replace(/nested.*/, 'bad.used'), '{"id":"a"}\nnot json\n{"id":"b"}\n');
    let err: Error | undefined;
    await openUsedCommands(path.replace(/nested.*/, 'bad.used')).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/bad\.used: line 2 is not a claimed command id/);
  });

  it('rejects an empty or non-string id', async function () {
    const u = await openStore();
    for (const bad of ['', undefined, 42]) {
      let err: Error | undefined;
      await u.claim(bad as never).catch((e: Error) => (err = e));
      expect(err?.message, String(bad)).to.match(/non-empty string/);
    }
  });

  it('a closed handle refuses to claim', async function () {
    const u = await openUsedCommands(path);
    await u.close();
    let err: Error | undefined;
    await u.claim('late').catch((e: Error) => (err = e));
    expect(err?.message).to.match(/closed/);
  });
});
