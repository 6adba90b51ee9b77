/**
 * Where specs find reference data. Copies kept in the repository (test/fixtures/<name>, licenses
 * beside them) are always used, so a fresh clone and CI run the same tests. SKAB (GPL-3.0) is never
 * copied: its specs read ../shared/data/skab beside the project (TWINLOOP_SKAB_DIR overrides) and
 * skip with one line naming the folder when it is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A folder of test/fixtures (river, cmapss). */
export function fixtureDir(name: 'river' | 'cmapss'): string {
  return join(ROOT, 'test', 'fixtures', name);
}

/** C-MAPSS FD001 training set (100 engines). */
export const CMAPSS_FD001 = join(fixtureDir('cmapss'), 'train_FD001.txt');

/**
 * In a `before` hook: when `path` is missing, print one line naming it and skip the suite
 * (its tests are reported as pending, not failed).
 */
export function skipUnlessPresent(ctx: Mocha.Context, path: string, what: string, folder = path): void {
  if (existsSync(path)) return;
  process.stdout.write(`      SKIPPED: ${what} not found in ${folder}\n`);
  ctx.skip();
}
