/**
 * Runs the Node-RED Flow Library's package checks (`node-red-dev validate`, pinned to 0.1.6) on this
 * package and fails on any warning, so they can run where catalogue.nodered.org is unreachable:
 *
 *   npm run build && npx tsx scripts/validate-package.ts
 *
 * node-red-dev fetches the Flow Library catalogue for two checks (P08 similar package names, N01 node
 * type names unique across the catalogue) and aborts the whole run when that host cannot be reached.
 * scripts/node-red-dev-catalogue-standin.cjs answers that one URL with an empty catalogue (and says
 * so), so P08 and N01 are NOT checked here; every other check runs as published, against the real npm
 * registry (P06/P07 compatibility, D02 incompatible packages, D03 outdated dependencies).
 * node-red-dev is not a dependency of this package: npx fetches it into its own cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const STANDIN = join(__dirname, 'node-red-dev-catalogue-standin.cjs');
const NODE_RED_DEV = 'node-red-dev@0.1.6';

// The node checks read each node's .html beside its registered .js, i.e. the build in dist/.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const unbuilt = Object.values(pkg['node-red'].nodes).filter((js) => !existsSync(join(ROOT, js.replace(/\.js$/, '.html'))));
if (unbuilt.length > 0) {
  console.error(`not built: ${unbuilt.join(', ')} (run npm run build first)`);
  process.exit(2);
}

// through a shell so that stdout and stderr (oclif's warnings) stay in the order they were printed
const run = spawnSync('sh', ['-c', `npx -y ${NODE_RED_DEV} validate 2>&1`], {
  cwd: ROOT,
  encoding: 'utf8',
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(STANDIN)}`.trim() },
});
const output = run.stdout ?? '';
process.stdout.write(output);
if (run.status !== 0) {
  console.error(`node-red-dev exited with ${run.status ?? run.signal}`);
  process.exit(2);
}

// oclif prints a warning as " ›   Warning: …" wrapped over " ›   …" lines; node-red-dev prints an
// unreadable node definition as "Unable to parse  <file>" (that node then escapes the node checks).
const problems: string[] = [];
for (const line of output.split('\n')) {
  const warning = /^\s*›\s+Warning: (.*)$/.exec(line);
  const continued = /^\s*›\s+(.*)$/.exec(line);
  if (warning) problems.push(warning[1].trim());
  else if (continued && problems.length > 0) problems[problems.length - 1] += ` ${continued[1].trim()}`;
  else if (/^Unable to parse/.test(line)) problems.push(line.trim().replace(/\s+/g, ' '));
}
const passed = output.split('\n').filter((l) => l.startsWith('✅')).length;
console.log(`\n${passed} checks passed, ${problems.length} problem(s); P08 and N01 not checked (catalogue unreachable: empty stand-in)`);
for (const p of problems) console.log(`  - ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
