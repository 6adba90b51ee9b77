/**
 * Canonical JSON: object keys sorted, no whitespace, undefined members left out. Hashes and
 * signatures are computed over this form so that key order (or a re-serialisation by another
 * runtime) never changes them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',') + ']';
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(JSON.stringify(key) + ':' + canonicalJson(obj[key]));
  }
  return '{' + parts.join(',') + '}';
}
