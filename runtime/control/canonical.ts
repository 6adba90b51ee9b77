/**
 * Canonical JSON: object keys sorted, no whitespace, undefined object members left out. Hashes and
 * signatures are computed over this form so that key order (or a re-serialisation by another
 * runtime) never changes them.
 *
 * Only plain JSON values are accepted: null, booleans, finite numbers, strings, arrays and plain
 * objects. Anything JSON.stringify would change silently (a Date → string via toJSON or `{}`, a Map
 * or Set → `{}`, a class instance → its own fields, a function or undefined in an array → null, a
 * BigInt → a throw deep inside) throws a TypeError naming where it sits, so a hash never covers a
 * value other than the one the caller meant.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function refuse(path: string, what: string): never {
  throw new TypeError(
    `canonical JSON: ${path} is ${what}; only plain JSON values (null, boolean, finite number, string, array, plain object)`,
  );
}

/** A plain object of any realm (Node-RED function nodes run in their own vm context): its prototype is a root. */
function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function encode(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `the non-finite number ${value}`);
      return JSON.stringify(value);
    case 'undefined':
      return refuse(path, 'undefined');
    case 'bigint':
      return refuse(path, 'a BigInt');
    case 'function':
      return refuse(path, 'a function');
    case 'symbol':
      return refuse(path, 'a symbol');
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return '[' + value.map((v, i) => encode(v, `${path}[${i}]`)).join(',') + ']';
  const obj = value as Record<string, unknown>;
  if (!isPlainObject(obj)) {
    refuse(path, `a ${Object.prototype.toString.call(obj).slice(8, -1)} (${obj.constructor?.name ?? 'no constructor'})`);
  }
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(JSON.stringify(key) + ':' + encode(obj[key], `${path}.${key}`));
  }
  return '{' + parts.join(',') + '}';
}
