/**
 * The packed tarball installed the way Node-RED's palette manager installs a module (`npm install --save` in the
 * user directory), then loaded by a real Node-RED: 4.1.8 (the dev dependency) on this Node.js 20, and the latest
 * Node-RED 5 on Node.js 22 (the npm `node` package). Each must register every node type of package.json without
 * an error (Admin API GET /nodes) and list the examples in the Import menu. The install must not add a Node-RED of
 * its own. Needs the npm registry (CI has it); when it is unreachable the suite skips with one loud line.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { npmPack, ROOT, type PackResult } from '../support/npm-pack.js';
import { freePort, waitFor } from '../support/ports.js';

interface Pkg {
  name: string;
  version: string;
  'node-red': { nodes: Record<string, string> };
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;
const TYPES = Object.keys(pkg['node-red'].nodes);
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;

class RegistryUnreachable extends Error {}

/** `npm …` in `cwd`; a failure to reach the registry becomes RegistryUnreachable, any other failure an Error. */
function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status === 0) return out;
  if (NETWORK_ERROR.test(out)) throw new RegistryUnreachable(`npm ${args.join(' ')}: ${NETWORK_ERROR.exec(out)![1]}`);
  throw new Error(`npm ${args.join(' ')} exited with ${r.status}:\n${out}`);
}

/** A fresh user directory as Node-RED creates it, and the command its palette manager runs to install a module. */
function paletteInstall(userDir: string, tarball: string): void {
  mkdirSync(userDir, { recursive: true });
  const project = { name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true };
  writeFileSync(join(userDir, 'package.json'), JSON.stringify(project));
  const paletteFlags = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];
  npm(userDir, ['install', ...paletteFlags, '--prefer-offline', tarball]);
}

interface RunningNodeRed {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Node-RED's own launcher (red.js) under `nodeBin`, listening on 127.0.0.1 only, with `userDir`. */
async function startNodeRed(nodeBin: string, redJs: string, userDir: string): Promise<RunningNodeRed> {
  const port = await freePort();
  const settings = join(userDir, 'settings.js');
  writeFileSync(
    settings,
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: false,
      diagnostics: { enabled: false },
      telemetry: { enabled: false },
      editorTheme: { tours: false },
      externalModules: { autoInstall: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    })};\n`,
  );
  const child: ChildProcess = spawn(nodeBin, [redJs, '--settings', settings, '--userDir', userDir], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}/`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`Node-RED exited with ${child.exitCode}:\n${out}`);
        return (
          out.includes('Started flows') &&
          (await fetch(`${url}settings`).then(
            (r) => r.ok,
            () => false,
          ))
        );
      },
      120_000,
      100,
      'Node-RED started',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, output: () => out, stop };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  expect(res.status, url).to.equal(200);
  return (await res.json()) as T;
}

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  version: string;
  err?: unknown;
}

/** What the editor asks for when it opens: the node sets, their editor HTML, the Import menu. */
async function expectTwinLoopLoaded(red: RunningNodeRed, nodeRedMajor: number): Promise<void> {
  const settings = await getJson<{ version: string }>(`${red.url}settings`);
  expect(Number(settings.version.split('.')[0]), settings.version).to.equal(nodeRedMajor);
  process.stdout.write(`      Node-RED ${settings.version}\n`);

  const sets = (await getJson<NodeSet[]>(`${red.url}nodes`)).filter((s) => s.module === pkg.name);
  // A node file that throws on load or misses a module leaves `err` on its set (and logs an [error]).
  const problems = sets
    .filter((s) => s.err || !s.enabled || s.version !== pkg.version)
    .map((s) => `${s.id}: ${String(s.err ?? (s.enabled ? `version ${s.version}` : 'disabled'))}`);
  expect(problems, red.output()).to.deep.equal([]);
  expect(sets.flatMap((s) => s.types)).to.have.members(TYPES);
  expect(red.output()).not.to.include('[error]');

  const module = await getJson<{ version: string }>(`${red.url}nodes/${pkg.name}`);
  expect(module.version).to.equal(pkg.version);

  const html = await (await fetch(`${red.url}nodes`, { headers: { accept: 'text/html' } })).text();
  for (const type of TYPES) expect(html, type).to.include(`data-template-name="${type}"`);

  // Import → Examples → @twinloop/node-red-twin: one folder per examples/ folder that holds flows, no empty one.
  const examples = await getJson<Array<string | { fn: string }>>(`${red.url}library/examples/flows/${pkg.name}`);
  const folders = examples.filter((e): e is string => typeof e === 'string');
  expect(folders).to.include.members(['demo', 'analytics', 'maintenance', 'energy']);
  expect(folders).not.to.include('plant-sim');
  const demo = await getJson<Array<{ fn: string } | string>>(`${red.url}library/examples/flows/${pkg.name}/demo`);
  expect(demo).to.deep.include({ fn: 'demo-line' });
  const flow = await getJson<Array<{ type: string }>>(`${red.url}library/examples/flows/${pkg.name}/demo/demo-line`);
  expect(flow.map((n) => n.type)).to.include('twin-estimate');
}

describe('palette install of the packed tarball into a fresh Node-RED user directory', function () {
  this.timeout(600_000);
  let tmp: string;
  let pack: PackResult;
  let userDir: string;
  let unreachable = '';
  let red: RunningNodeRed | undefined;

  before(function () {
    if (!existsSync(join(ROOT, 'dist', 'nodes'))) throw new Error('dist/ is not built: run `npm run build` first');
    tmp = mkdtempSync(join(tmpdir(), 'twinloop-pack-'));
    pack = npmPack(tmp);
    userDir = join(tmp, 'node-red-4');
    try {
      paletteInstall(userDir, join(tmp, pack.filename));
      // Node-RED 5 gets its own user directory over the same installed tree (no native addons in it, so the Node.js
      // that ran npm does not matter): a link, as copying ~15,000 files costs more than the rest of the test.
      const userDir5 = join(tmp, 'node-red-5');
      mkdirSync(userDir5);
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(userDir, f), join(userDir5, f));
      symlinkSync(join(userDir, 'node_modules'), join(userDir5, 'node_modules'), 'dir');
    } catch (err) {
      if (!(err instanceof RegistryUnreachable)) throw err;
      unreachable = err.message;
    }
  });

  beforeEach(function () {
    if (!unreachable) return;
    if (process.env.CI) throw new Error(`CI must not skip: the npm registry is unreachable (${unreachable})`);
    process.stderr.write(`\n!!!!! SKIPPING package-install: the npm registry is unreachable (${unreachable}) !!!!!\n\n`);
    this.skip();
  });

  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs without a Node-RED of its own, and reports the tarball and install sizes', () => {
    const modules = join(userDir, 'node_modules');
    expect(existsSync(join(modules, 'node-red')), 'node_modules/node-red').to.equal(false);
    expect(existsSync(join(modules, '@node-red')), 'node_modules/@node-red').to.equal(false);
    const saved = JSON.parse(readFileSync(join(userDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(saved.dependencies).to.have.property(pkg.name);
    const lock = JSON.parse(readFileSync(join(userDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const packages = Object.keys(lock.packages).filter((p) => p !== '').length;
    const installedKb = Number(execFileSync('du', ['-sk', modules], { encoding: 'utf8' }).split('\t')[0]);
    process.stdout.write(
      `      tarball ${(pack.size / 1e3).toFixed(0)} kB, ${pack.entryCount} files, ${(pack.unpackedSize / 1e6).toFixed(2)} MB unpacked; ` +
        `palette install ${packages} packages, ${(installedKb / 1024).toFixed(0)} MiB (du -sk node_modules)\n`,
    );
  });

  it('loads in Node-RED 4.1.8 on this Node.js (20): every node type registered, the examples listed', async () => {
    const redJs = join(dirname(require.resolve('node-red/package.json', { paths: [ROOT] })), 'red.js');
    red = await startNodeRed(process.execPath, redJs, userDir);
    await expectTwinLoopLoaded(red, 4);
  });

  it('loads in the latest Node-RED 5 on Node.js 22: every node type registered, the examples listed', async function () {
    const nr5Dir = join(tmp, 'node-red-5-install');
    mkdirSync(nr5Dir);
    writeFileSync(join(nr5Dir, 'package.json'), '{"private":true}');
    let node22: string;
    try {
      npm(nr5Dir, ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline', 'node-red@5']);
      const npx = ['--prefer-offline', '-y', '-p', 'node@22', 'node', '-p', 'process.execPath'];
      const r = spawnSync('npx', npx, { cwd: nr5Dir, encoding: 'utf8' });
      if (r.status !== 0) {
        const out = `${r.stdout}\n${r.stderr}`;
        if (NETWORK_ERROR.test(out)) throw new RegistryUnreachable(`npx -p node@22: ${NETWORK_ERROR.exec(out)![1]}`);
        throw new Error(`npx -p node@22 exited with ${r.status}:\n${out}`);
      }
      node22 = r.stdout.trim();
    } catch (err) {
      if (!(err instanceof RegistryUnreachable)) throw err;
      if (process.env.CI) throw new Error(`CI must not skip: ${err.message}`);
      process.stderr.write(`\n!!!!! SKIPPING Node-RED 5 on Node.js 22: the npm registry is unreachable (${err.message}) !!!!!\n\n`);
      return this.skip();
    }
    expect(execFileSync(node22, ['--version'], { encoding: 'utf8' })).to.match(/^v22\./);
    red = await startNodeRed(node22, join(nr5Dir, 'node_modules', 'node-red', 'red.js'), join(tmp, 'node-red-5'));
    await expectTwinLoopLoaded(red, 5);
  });
});
