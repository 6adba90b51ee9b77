import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The project root (where package.json is). */
export const ROOT = join(__dirname, '..', '..');

export interface PackResult {
  filename: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}

/**
 * `npm pack --json` of the project as it stands (dist/ must be built): the file list and sizes npm publishes.
 * `--ignore-scripts`: the build is the caller's business, so a `prepare`/`prepack` script does not rebuild here.
 * With `destination` it writes the tarball there; without, it is a dry run.
 */
export function npmPack(destination?: string): PackResult {
  const args = ['pack', '--json', '--ignore-scripts', ...(destination ? ['--pack-destination', destination] : ['--dry-run'])];
  const out = execFileSync('npm', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as PackResult[])[0];
}
