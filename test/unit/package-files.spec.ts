/**
 * What `npm pack` publishes (run on the built dist/): everything Node-RED and the `twinloop` command load at
 * run time, nothing they do not (benchmarks, TypeScript sources, source maps), and a README whose links and
 * images resolve on the npm page, where only the packed files exist beside it.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { npmPack, ROOT, type PackResult } from '../support/npm-pack.js';

interface Pkg {
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  'node-red': { version: string; nodes: Record<string, string> };
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;
/** A link to a file of the repository on GitHub (page or raw), capturing its path. */
const REPO_FILE_URL =
  /^https:\/\/(?:github\.com\/twinloop\/node-red-twin\/(?:blob|raw)|raw\.githubusercontent\.com\/twinloop\/node-red-twin)\/main\/([^?#]+)/;

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = posix.join(dir, f);
    return statSync(join(ROOT, p)).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Link and image targets in markdown: `[text](target)`, `![alt](target)`, `[ref]: target`, `src="…"`, `href="…"`. */
function markdownTargets(md: string): string[] {
  const text = md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]);
  for (const m of text.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)) targets.push(m[1]);
  return targets;
}

describe('the npm package (npm pack of the built dist/)', function () {
  this.timeout(60_000);
  let pack: PackResult;
  let packed: Set<string>;

  before(function () {
    if (!existsSync(join(ROOT, 'dist', 'nodes'))) throw new Error('dist/ is not built: run `npm run build` first');
    pack = npmPack();
    packed = new Set(pack.files.map((f) => f.path));
  });

  it('does not depend on node-red: a palette install uses the Node-RED that loads it', () => {
    expect(pkg.peerDependencies ?? {}).not.to.have.property('node-red');
    expect(pkg.dependencies ?? {}).not.to.have.property('node-red');
    expect(pkg['node-red'].version).to.match(/^>=\d+\.\d+\.\d+$/);
  });

  it('ships every node registered in package.json with its editor HTML and en-US catalogue', () => {
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const dir = posix.dirname(js);
      expect(packed, js).to.include(js);
      expect(packed, `${type}.html`).to.include(`${dir}/${type}.html`);
      expect(packed, `${type} locale`).to.include(`${dir}/locales/en-US/${type}.json`);
      for (const src of existsSync(join(ROOT, 'nodes', type, 'icons')) ? filesUnder(`nodes/${type}/icons`) : []) {
        expect(packed, src).to.include(`dist/${src}`);
      }
    }
  });

  it('ships the command, the plant simulator it starts, the models, the prebuilt flows and the Import-menu examples', () => {
    for (const bin of Object.values(pkg.bin)) expect(packed).to.include(posix.normalize(bin));
    expect(packed).to.include('dist/examples/plant-sim/index.js');
    const wanted = [...filesUnder('models'), ...filesUnder('flows'), ...filesUnder('examples').filter((f) => f.endsWith('.json'))];
    for (const f of wanted.filter((f) => !f.startsWith('examples/plant-sim/'))) expect(packed, f).to.include(f);
  });

  it('every relative require() in a packed .js finds a packed file', () => {
    const missing: string[] = [];
    for (const f of packed) {
      if (!f.endsWith('.js')) continue;
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/\brequire\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) {
        const target = posix.normalize(posix.join(posix.dirname(f), m[1]));
        const candidates = [target, `${target}.js`, `${target}/index.js`];
        if (!candidates.some((c) => packed.has(c))) missing.push(`${f} → ${m[1]}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('leaves out benchmarks, TypeScript sources, source maps and tests', () => {
    const unwantedPrefixes = ['dist/bench/', 'test/', 'examples/plant-sim/'];
    const unwanted = [...packed].filter((f) => unwantedPrefixes.some((p) => f.startsWith(p)) || f.endsWith('.map') || /\.tsx?$/.test(f));
    expect(unwanted).to.deep.equal([]);
  });

  it('every folder of examples/ holds a flow (Node-RED lists each folder in the Import menu, empty or not)', () => {
    const dirs = new Set([...packed].filter((f) => f.startsWith('examples/')).map((f) => posix.dirname(f)));
    for (const d of dirs)
      expect(
        [...packed].some((f) => f.startsWith(`${d}/`) && f.endsWith('.json')),
        d,
      ).to.equal(true);
  });

  it('README links and images resolve on the npm page: relative ones to packed files, absolute ones to files of the repository', () => {
    for (const readme of [...packed].filter((f) => /(^|\/)README\.md$/i.test(f))) {
      const targets = markdownTargets(readFileSync(join(ROOT, readme), 'utf8'));
      if (readme === 'README.md') expect(targets.length).to.be.greaterThan(5);
      for (const t of targets) {
        if (t.startsWith('#') || t.startsWith('mailto:')) continue;
        const repoFile = REPO_FILE_URL.exec(t);
        if (repoFile) {
          // Points at main on GitHub: the file must exist in the repository, or the link rots.
          expect(existsSync(join(ROOT, decodeURIComponent(repoFile[1]))), `${readme}: ${t}`).to.equal(true);
        } else if (!/^[a-z][a-z0-9+.-]*:/i.test(t)) {
          const path = posix.normalize(posix.join(posix.dirname(readme), decodeURIComponent(t.split(/[?#]/)[0])));
          const isDir = [...packed].some((f) => f.startsWith(`${path.replace(/\/$/, '')}/`));
          expect(packed.has(path) || isDir, `${readme}: ${t} is not in the package`).to.equal(true);
        }
      }
    }
  });

  it('reads links the way the check above relies on', () => {
    const md = '![a](docs/a.png) [b](b.md "t") `[x](not-a-link)`\n```\n[y](neither)\n```\n[r]: ref.md\n<img src="i.svg">';
    expect(markdownTargets(md)).to.have.members(['docs/a.png', 'b.md', 'ref.md', 'i.svg']);
  });
});
