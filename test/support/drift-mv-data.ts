import { prng } from '../../bench/prng.js';
export { prng };
/** Seeded synthetic data for the multivariate drift specs (PCA, T², Q, operator, classifier). */

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
export function gauss(seed: number): () => number {
  const u = prng(seed);
  return () => {
    const u1 = Math.max(u(), 1e-12);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u());
  };
}

/**
 * Rows of four correlated tags driven by one latent process variable s, plus one independent tag:
 * flow = 10 + s, pressure = 5 + 0.5 s, power = 20 + 2 s (all with small noise), vibration ~ N(1, 0.1²).
 */
export const MV_TAGS = ['flow', 'pressure', 'power', 'vibration'];
export function correlatedRows(n: number, seed: number, shift = 0): number[][] {
  const g = gauss(seed);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = g() + shift;
    rows.push([10 + s + 0.1 * g(), 5 + 0.5 * s + 0.05 * g(), 20 + 2 * s + 0.2 * g(), 1 + 0.1 * g()]);
  }
  return rows;
}
