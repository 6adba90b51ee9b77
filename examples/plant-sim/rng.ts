/**
 * Seeded PRNG (mulberry32): 32 bits of state kept as a plain number inside the model state, so a
 * model step stays a pure function and a run is reproducible from (seed, startTsMs, options).
 * Not for cryptography.
 */

/** Derive the initial 32-bit state from any integer seed (splitmix-style scramble of the seed). */
export function seedRng(seed: number): number {
  let z = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** One uniform draw in [0, 1) and the next state. */
export function nextUniform(state: number): [number, number] {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, s];
}

/** Mutable cursor over the state for use inside one model step; `state` is read back at the end. */
export class Rng {
  constructor(public state: number) {}

  uniform(): number {
    const [u, s] = nextUniform(this.state);
    this.state = s;
    return u;
  }

  /** Standard normal draw (Box–Muller; one of the pair is discarded to keep the state simple). */
  normal(): number {
    let u = this.uniform();
    if (u < 1e-12) u = 1e-12;
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
