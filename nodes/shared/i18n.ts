/**
 * Message lookup for every TwinLoop node: Node-RED's RED._ when it knows the key, else the node's
 * own en-US catalogue, so a runtime without the catalogue registered (node-red-node-test-helper's
 * RED._ returns the key) still gets readable errors and status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../../runtime/model/errors.js';

type Catalogue = Record<string, unknown>;
const cache = new Map<string, Catalogue>();

function catalogue(type: string): Catalogue {
  let c = cache.get(type);
  if (!c) {
    try {
      const file: unknown = JSON.parse(readFileSync(join(__dirname, '..', type, 'locales', 'en-US', `${type}.json`), 'utf8'));
      const own = isRecord(file) ? file[type] : undefined;
      c = isRecord(own) ? own : {};
    } catch {
      c = {};
    }
    cache.set(type, c);
  }
  return c;
}

export function translator(redT: (key: string, vars?: Record<string, unknown>) => string, type: string) {
  return (key: string, vars: Record<string, unknown> = {}): string => {
    const full = `${type}.${key}`;
    const t = redT(full, vars);
    if (t && t !== full) return t;
    let v: unknown = catalogue(type);
    for (const k of key.split('.')) v = (v as Catalogue | undefined)?.[k];
    if (typeof v !== 'string') return full;
    return v.replace(/__([A-Za-z0-9_]+)__/g, (m, n: string) => (n in vars ? String(vars[n]) : m));
  };
}
