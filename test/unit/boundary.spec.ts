/**
 * The house rules of ARCHITECTURE.md ("Layers", "Adding a node"), checked on the source tree:
 *  - runtime/ never imports nodes/, web/, bin/, examples/, scripts/, bench/ or node-red;
 *  - nodes/ never imports bin/, examples/, scripts/ or bench/;
 *  - web/server/ (the supervisors' pages: routes, page shells) never imports nodes/, bin/, examples/, scripts/ or bench/,
 *    and node-red for types only;
 *  - web/client/ (browser code, bundled into the pages) imports web/client/ and runtime/ only: no
 *    web/server/, nodes/, node-red or Node built-ins (a browser has none of them);
 *  - a node folder holds its adapter only: <type>.ts, <type>.html, locales/, icons/, and the
 *    sibling adapter files listed below, each with its role. Logic goes to runtime/.
 *  - a node file's only value export is its registration function (the build relies on it).
 * A new sibling file fails here until it is added to ADAPTER_FILES with its role.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/** Files beside a node's <type>.ts that are adapter code too, by role. */
const ADAPTER_FILES: Record<string, string> = {
  // editor fields → the validated runtime config
  'twin-approval/approval-config.ts': 'config',
  'twin-alarm/alarm-def.ts': 'config',
  'twin-drift/drift-def.ts': 'config',
  'twin-estimate/estimate-def.ts': 'config',
  'twin-maintenance/maintenance-def.ts': 'config',
  'twin-screen/screen-def.ts': 'config',
  // what a config node offers the nodes that reference it
  'twin-cluster/cluster-api.ts': 'config-node face',
  'twin-envelope/envelope-api.ts': 'config-node face',
  'twin-influx-config/influx-config.ts': 'config-node face',
  'twin-ledger/ledger-api.ts': 'config-node face',
  'twin-mqtt-broker/broker-config.ts': 'config-node face',
  'twin-opcua-endpoint/endpoint-api.ts': 'config-node face',
  'twin-tariff/tariff-api.ts': 'config-node face',
  // a writer's side of a connection (runtime/control/writer.ts's WriterTransport)
  'twin-opcua-write/opcua-transport.ts': 'transport',
  'twin-mqtt-write/mqtt-transport.ts':
    'transport (subscriptions, publishes, waits; what is sent and read back: runtime/control/mqtt-readback.ts)',
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const rel = (p: string) => relative(ROOT, p).split(sep).join('/');
const tsFiles = (top: string) => walk(join(ROOT, top)).filter((p) => p.endsWith('.ts'));

/** Module specifiers of import/export-from, require() and import() (comments included: a false alarm there is cheap). */
function specifiers(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const re of [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\brequire\(\s*'([^']+)'\s*\)/g, /\bimport\(\s*'([^']+)'\s*\)/g]) {
    for (const m of src.matchAll(re)) out.push(m[1]);
  }
  return out;
}

/** Where a relative specifier points, from the repository root ('' for a package). */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? rel(resolve(dirname(file), spec)) : '';
}

function violations(top: string, forbiddenDirs: string[], forbiddenPackage?: RegExp): string[] {
  const bad: string[] = [];
  for (const f of tsFiles(top)) {
    for (const spec of specifiers(f)) {
      const t = target(f, spec);
      if (forbiddenDirs.some((d) => t.startsWith(`${d}/`)) || (forbiddenPackage && !spec.startsWith('.') && forbiddenPackage.test(spec))) {
        bad.push(`${rel(f)} imports ${spec}`);
      }
    }
  }
  return bad;
}

describe('architecture: layers and node folders', () => {
  it('runtime/ imports no adapter, web app, command, example, script or bench, and not node-red', () => {
    expect(violations('runtime', ['nodes', 'web', 'bin', 'examples', 'scripts', 'bench'], /^(node-red|@node-red\/)/)).to.deep.equal([]);
  });

  it('web/server/ imports no adapter, command, example, script or bench, and node-red for types only', () => {
    expect(violations('web/server', ['nodes', 'web/client', 'bin', 'examples', 'scripts', 'bench'])).to.deep.equal([]);
    const valueImport = /^import\s+(?!type\b)[^;]*from\s+'(node-red|@node-red\/[^']*)'/m;
    const valueImports = tsFiles('web/server').filter((f) => valueImport.test(readFileSync(f, 'utf8')));
    expect(valueImports.map(rel)).to.deep.equal([]);
  });

  it('nodes/ imports no command, example, script or bench', () => {
    expect(violations('nodes', ['bin', 'examples', 'scripts', 'bench'])).to.deep.equal([]);
  });

  it('web/client/ imports no server code, adapter, command, node-red or Node built-in', () => {
    const serverSide = /^(node-red|@node-red\/|node:|express$)/;
    expect(violations('web/client', ['web/server', 'nodes', 'bin', 'examples', 'scripts', 'bench'], serverSide)).to.deep.equal([]);
    const outside = tsFiles('web/client').flatMap((f) =>
      specifiers(f)
        .filter((s) => !s.startsWith('.'))
        .map((s) => `${rel(f)} imports ${s}`),
    );
    expect(outside, 'the pages bundle no package').to.deep.equal([]);
  });

  it('the check sees a forbidden import (so an empty list above means something)', () => {
    const f = join(ROOT, 'runtime', 'x', 'y.ts');
    expect(target(f, '../../nodes/twin-drift/twin-drift.js')).to.equal('nodes/twin-drift/twin-drift.js');
    expect(specifiers(join(ROOT, 'nodes', 'twin-drift', 'twin-drift.ts'))).to.include('../../runtime/drift/drift-engine.js');
  });

  it('a node folder holds <type>.ts, <type>.html, locales/, icons/ and listed adapter files only', () => {
    const unexpected: string[] = [];
    const seen = new Set<string>();
    for (const type of readdirSync(join(ROOT, 'nodes'))) {
      if (type === 'shared') continue; // helpers several adapters share
      for (const f of walk(join(ROOT, 'nodes', type))) {
        const inFolder = rel(f).slice(`nodes/${type}/`.length);
        if (inFolder === `${type}.ts` || inFolder === `${type}.html` || /^(locales|icons)\//.test(inFolder)) continue;
        const listed = Object.keys(ADAPTER_FILES).find(
          (k) => `${type}/${inFolder}` === k || (k.endsWith('/') && `${type}/${inFolder}`.startsWith(k)),
        );
        if (listed) seen.add(listed);
        else unexpected.push(rel(f));
      }
    }
    expect(unexpected, 'logic goes to runtime/; an adapter file needs a line in ADAPTER_FILES').to.deep.equal([]);
    expect(
      Object.keys(ADAPTER_FILES).filter((k) => !seen.has(k)),
      'listed files that no longer exist',
    ).to.deep.equal([]);
  });

  it("a node file's only value export is its registration function", () => {
    const bad: string[] = [];
    for (const type of readdirSync(join(ROOT, 'nodes')).filter((t) => t !== 'shared')) {
      const file = join(ROOT, 'nodes', type, `${type}.ts`);
      const src = readFileSync(file, 'utf8');
      const exports = src.match(/^export\s+(?!default function\b|interface\b|type\b)\S+.*$/gm) ?? [];
      if (exports.length > 0 || !/^export default function\b/m.test(src))
        bad.push(`${rel(file)}: ${exports.join(' | ') || 'no default function'}`);
    }
    expect(bad).to.deep.equal([]);
  });
});
