/**
 * Money as people read it on every TwinLoop page and in every text a person reads (rationales,
 * ledger details): grouped, two decimals, the ISO code after the number — "4,613.93 EUR", "0.22 EUR".
 * One definition for Node (formatEur) and for the pages' browser scripts (EUR_CLIENT_JS), which are
 * strings: both use the same locale, options and suffix, and a unit test holds them to the same output.
 */
const LOCALE = 'en-US';
const OPTIONS = { minimumFractionDigits: 2, maximumFractionDigits: 2 } as const;
const SUFFIX = ' EUR';

export function formatEur(v: number): string {
  return Number.isFinite(v) ? v.toLocaleString(LOCALE, OPTIONS) + SUFFIX : '–';
}

/** The same formatter as a browser function `eur(v)`, inlined into the pages' scripts (no template literals inside). */
export const EUR_CLIENT_JS =
  `function eur(v) { return typeof v === 'number' && isFinite(v) ? ` +
  `v.toLocaleString(${JSON.stringify(LOCALE)}, ${JSON.stringify(OPTIONS)}) + ${JSON.stringify(SUFFIX)} : '–'; }`;
