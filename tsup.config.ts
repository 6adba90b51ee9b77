import { defineConfig } from 'tsup';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// Each source file becomes one CommonJS file in dist/ at the same relative path (bundle: false),
// so module-level state (shared connections in config nodes) exists once, as Node-RED expects.
const entry = [
  'runtime/**/*.ts',
  '!runtime/cluster/nats-client.ts', // bundled with the NATS client below
  'nodes/**/*.ts',
  'web/server/**/*.ts',
  'bin/**/*.ts',
  'examples/plant-sim/**/*.ts',
  'bench/**/*.ts',
];

/** Copy every node's editor HTML, locales and icons beside its compiled .js. */
function copyNodeAssets(): void {
  for (const type of readdirSync('nodes')) {
    const src = join('nodes', type);
    const dst = join('dist', 'nodes', type);
    for (const name of readdirSync(src)) {
      if (name.endsWith('.html') || name === 'locales' || name === 'icons') {
        cpSync(join(src, name), join(dst, name), { recursive: true });
      }
    }
  }
  if (existsSync('examples/plant-sim/assets')) {
    cpSync('examples/plant-sim/assets', 'dist/examples/plant-sim/assets', { recursive: true });
  }
}

export default defineConfig([
  {
    entry,
    format: ['cjs'],
    bundle: false,
    cjsInterop: true,
    // Two fixes to esbuild's CommonJS exports, at the end of each file:
    // - esbuild exports through getters (ES live bindings), so every call into another file of ours
    //   ran one or two getter calls first, a measurable part of a node's per-message cost. Once the file
    //   has run, its exports are copied to plain properties (nothing exports a `let`, so nothing is lost;
    //   a file that required this one in a cycle keeps the getters, which still work).
    // - cjsInterop only acts when bundling; Node-RED `require`s a node file and calls the result, so a
    //   module whose only export is a default function exports that function itself.
    footer: {
      js: [
        'if (module.exports && module.exports.__esModule === true) {',
        "  const plain = Object.defineProperty({}, '__esModule', { value: true });",
        '  for (const key of Object.keys(module.exports)) plain[key] = module.exports[key];',
        '  module.exports = plain;',
        '}',
        "if (module.exports && typeof module.exports.default === 'function' && Object.keys(module.exports).length === 1) module.exports = module.exports.default;",
      ].join('\n'),
    },
    target: 'node20',
    platform: 'node',
    // Maps serve development and tests; the package leaves them out (`files` in package.json): they were half its size,
    // and a user's stack trace already names the dist/ file, which is the unminified source minus types, one file each.
    sourcemap: true,
    clean: false, // several builds may run side by side during development; `npm run clean` empties dist/
    splitting: false,
    outDir: 'dist',
    outExtension: () => ({ js: '.js' }),
    onSuccess: async () => copyNodeAssets(),
  },
  {
    // The NATS client (nats.js 3.x), bundled into one CommonJS file: the installed package carries it, since
    // Node-RED's palette install (--engine-strict) refuses @nats-io/nuid's engines (node >= 22) on Node 20.
    entry: { 'runtime/cluster/nats-client': 'runtime/cluster/nats-client.ts' },
    format: ['cjs'],
    bundle: true,
    noExternal: [/^@nats-io\//, 'tweetnacl'],
    banner: {
      js:
        '/*! Bundles nats.js 3.x (@nats-io/transport-node, nats-core, jetstream, kv, nkeys, nuid), Copyright The NATS Authors, ' +
        'Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0), and tweetnacl (public domain, Unlicense). */',
    },
    target: 'node20',
    platform: 'node',
    sourcemap: false,
    clean: false,
    outDir: 'dist',
    outExtension: () => ({ js: '.js' }),
  },
  {
    // The supervisors' pages' browser scripts (web/client/): one IIFE per page in dist/web/client/, which the
    // page shells in web/server/ inline under their nonce (web/server/client-script.ts).
    entry: { 'web/client/approvals': 'web/client/approvals.ts', 'web/client/overview': 'web/client/overview.ts' },
    format: ['iife'],
    bundle: true,
    platform: 'browser',
    target: 'es2019',
    sourcemap: false,
    clean: false,
    outDir: 'dist',
    outExtension: () => ({ js: '.js' }),
  },
  {
    // The edit dialogs' widgets (editor/): one browser script in resources/, which Node-RED serves to the
    // editor at resources/@twinloop/node-red-twin/twinloop-editor.js.
    entry: { 'twinloop-editor': 'editor/index.ts' },
    format: ['iife'],
    bundle: true,
    platform: 'browser',
    target: 'es2019',
    sourcemap: false,
    clean: false,
    outDir: 'resources',
    outExtension: () => ({ js: '.js' }),
  },
]);
