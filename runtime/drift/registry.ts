/**
 * Detectors by name, so a node (or a flow's config) can pick a method with a string.
 * Univariate detectors are registered here; other detectors (multivariate ones with a vector
 * input, say) register themselves with `registerDetector` under their own name.
 */
import { TwinError } from '../model/errors.js';
import { adwinDetector } from './adwin.js';
import { cusumDetector } from './cusum.js';
import type { AnyDetector } from './detector.js';
import { ewmaDetector } from './ewma.js';
import { pageHinkleyDetector } from './page-hinkley.js';
import { shewhartDetector } from './shewhart.js';
import { ddmDetector } from './binary/ddm.js';
import { eddmDetector } from './binary/eddm.js';
import { hddmADetector } from './binary/hddm-a.js';
import { hddmWDetector } from './binary/hddm-w.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- detectors of any input type share the registry
const registry = new Map<string, AnyDetector<any>>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- detectors of any input type share the registry
export function registerDetector(d: AnyDetector<any>): void {
  const known = registry.get(d.name);
  if (known !== undefined && known !== d) throw new TwinError('BAD_CONFIG', `a different detector is already registered as '${d.name}'`);
  registry.set(d.name, d);
}

for (const d of [pageHinkleyDetector, cusumDetector, adwinDetector, ewmaDetector, shewhartDetector]) registerDetector(d);
// Binary (0/1: error / failure) detectors.
for (const d of [ddmDetector, eddmDetector, hddmADetector, hddmWDetector]) registerDetector(d);

/** Read-only view: name → { init, step, defaults, describe, ... }. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- detectors of any input type share the registry
export const detectorRegistry: ReadonlyMap<string, AnyDetector<any>> = registry;

export function detectorNames(): string[] {
  return [...registry.keys()];
}

/** The detector registered as `name`, or TwinError BAD_CONFIG listing the known names. */
export function getDetector<X = number>(name: unknown): AnyDetector<X> {
  const d = typeof name === 'string' ? registry.get(name) : undefined;
  if (d === undefined) {
    throw new TwinError('BAD_CONFIG', `unknown drift method ${JSON.stringify(name)} (known: ${detectorNames().join(', ')})`);
  }
  return d as AnyDetector<X>;
}
