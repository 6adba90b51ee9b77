/**
 * Quality travels with every value (ARCHITECTURE.md). The order matters: a derived value is never
 * better than the worst input it rests on.
 */
export type Quality = 'good' | 'uncertain' | 'bad';

const RANK: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };

export function isQuality(x: unknown): x is Quality {
  return x === 'good' || x === 'uncertain' || x === 'bad';
}

/** The worse of the given qualities ('good' for none). */
export function worstQuality(...qs: Quality[]): Quality {
  let worst: Quality = 'good';
  for (const q of qs) if (RANK[q] > RANK[worst]) worst = q;
  return worst;
}

/** True when `a` is strictly worse than `b`. */
export function isWorse(a: Quality, b: Quality): boolean {
  return RANK[a] > RANK[b];
}

/**
 * Map a free-form quality field from a payload (MQTT JSON, historian) to the model.
 * Accepts the model's own words, OPC-style words and numeric OPC DA codes (192 = good).
 */
export function parseQuality(x: unknown): Quality | undefined {
  if (typeof x === 'string') {
    const s = x.trim().toLowerCase();
    if (s === 'good' || s === 'ok') return 'good';
    if (s === 'uncertain') return 'uncertain';
    if (s === 'bad') return 'bad';
    return undefined;
  }
  if (typeof x === 'number' && Number.isInteger(x)) {
    // OPC DA quality byte: 0xC0 good, 0x40 uncertain, 0x00 bad.
    const q = x & 0xc0;
    return q === 0xc0 ? 'good' : q === 0x40 ? 'uncertain' : 'bad';
  }
  if (typeof x === 'boolean') return x ? 'good' : 'bad';
  return undefined;
}
