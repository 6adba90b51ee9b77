/**
 * Money as people read it on every TwinLoop page and in every text a person reads (rationales,
 * ledger details): grouped, two decimals, the ISO code after the number — "4,613.93 EUR", "0.22 EUR".
 * One definition for Node and for the pages' browser scripts (web/client/ bundles this module).
 */
const LOCALE = 'en-US';
const OPTIONS = { minimumFractionDigits: 2, maximumFractionDigits: 2 } as const;
const SUFFIX = ' EUR';

export function formatEur(v: number): string {
  return Number.isFinite(v) ? v.toLocaleString(LOCALE, OPTIONS) + SUFFIX : '–';
}
