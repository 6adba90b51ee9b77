import { prng } from '../../bench/prng.js';
export { prng };
// Seeded random numbers for the estimation specs and benchmark: the same data every run.

/** Standard normal samples (Box–Muller) from a seeded uniform source. */
export function gaussian(seed: number): () => number {
  const u = prng(seed);
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}
