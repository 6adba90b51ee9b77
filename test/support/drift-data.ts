/**
 * Test data for the drift detector specs: River's reference streams (test/fixtures/river, BSD-3-Clause,
 * SOURCE.md beside them) and seeded synthetic streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng as rng } from '../../bench/prng.js';
import { fixtureDir } from './reference-data.js';
export { rng };

export const RIVER_DATA_DIR = fixtureDir('river');

/** One value per line after an `x` header. */
export function riverStream(name: string): number[] {
  const lines = readFileSync(join(RIVER_DATA_DIR, `${name}.csv`), 'utf8')
    .trim()
    .split('\n');
  if (lines[0].trim() !== 'x') throw new Error(`${name}.csv: expected header 'x', got ${lines[0]}`);
  return lines.slice(1).map((l, i) => {
    const v = Number(l);
    if (!Number.isFinite(v)) throw new Error(`${name}.csv line ${i + 2}: not a number: ${l}`);
    return v;
  });
}

export interface RiverCase {
  drift?: number[];
  warning_first?: number[];
  src: string;
  [k: string]: unknown;
}

export function riverExpected(): Record<string, Record<string, RiverCase>> {
  const all = JSON.parse(readFileSync(join(RIVER_DATA_DIR, 'expected.json'), 'utf8')) as Record<string, unknown>;
  delete all._note;
  return all as Record<string, Record<string, RiverCase>>;
}

/** The cases whose indices were printed by River itself (docstring or River's own test). */
export function isVerified(c: RiverCase): boolean {
  return /^river_(doc|test_old)/.test(c.src) && !/NOT re-derived|unverified|prototype/i.test(c.src);
}

/** Indices at which `step` returned true. */
export function driftIndices<S>(state: S, step: (s: S, x: number, t?: number) => boolean, xs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) if (step(state, xs[i], i)) out.push(i);
  return out;
}

/** Seeded normal samples (Box–Muller). */
export function gaussian(seed: number): (mean: number, sd: number) => number {
  const u = rng(seed);
  return (mean, sd) => {
    const u1 = u() || 1e-12;
    return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u());
  };
}

/** `n` samples of N(mean, sd). */
export function normals(seed: number, n: number, mean: number, sd: number): number[] {
  const g = gaussian(seed);
  return Array.from({ length: n }, () => g(mean, sd));
}
