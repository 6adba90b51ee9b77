/**
 * twin-drift's editor fields → the engine config, and the localised-text helper. Kept apart from the
 * node file, whose only export must be the registration function.
 */
import type { NodeDef } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { DEFAULT_METHOD, type DriftEngineConfig, type RelatedRule } from '../../runtime/drift/drift-engine.js';
import { translator as sharedTranslator } from '../shared/i18n.js';
import { tagList } from '../../runtime/model/tag-pattern.js';

export const MULTIVARIATE_METHOD = 'hotelling-t2+spe';

export interface TwinDriftDef extends NodeDef {
  /** Message property the Reading is read from; blank = payload. */
  property?: string;
  /** Univariate registry name, or `hotelling-t2+spe`. */
  method?: string;
  /** The selected method's parameters; blank/absent keys take the method's defaults. Strings from the editor are converted. */
  params?: Record<string, unknown>;
  /** Watched tags: names or `asset/tag` globs, separated by commas or new lines; blank = every tag. */
  watch?: string;
  /** Related tags per flagged tag: `{ match, tags: 'a, b' }` rows. */
  related?: { match?: string; tags?: string | string[] }[];
  classify?: boolean;
  uncertain?: string;
  scoreEvery?: string | number;
  scoreMinChange?: string | number;
  historySamples?: string | number;
  classifyAfterSamples?: string | number;
  resetAfterGapMs?: string | number;
  /** twin-screen's stuck/spike flags → sensor-fault events (absent = on, for flows saved before it existed). */
  screenFlags?: boolean;
  spikeEventHoldOffSamples?: string | number;
}

/** Keys of the multivariate config that the editor shows under the method (the rest keep their defaults). */
const MV_KEYS = [
  'asset',
  'tags',
  'referenceRows',
  'referenceStartMs',
  'referenceEndMs',
  'alpha',
  'consecutive',
  'statistics',
  'maxAgeMs',
  'varianceFraction',
  'classifyAfterRows',
  'historyRows',
];

/** An editor value: '' → absent, numeric text → number, 'true'/'false' → boolean, else the text. */
function editorValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (s === '') return undefined;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Number(s);
  return s;
}

function optNumber(v: unknown, name: string): number | undefined {
  const x = editorValue(v);
  if (x === undefined || x === null) return undefined;
  if (typeof x !== 'number') throw new TwinError('BAD_CONFIG', `${name} must be a number, got ${JSON.stringify(v)}`);
  return x;
}

/** The engine config from the node's settings (validation is the engine's and the runtime's). */
export function configFromDef(def: TwinDriftDef): Partial<DriftEngineConfig> {
  const method = def.method || DEFAULT_METHOD;
  const rawParams = def.params ?? {};
  if (typeof rawParams !== 'object' || Array.isArray(rawParams)) throw new TwinError('BAD_CONFIG', 'method parameters must be an object');
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawParams)) {
    const x = editorValue(v);
    if (x !== undefined) params[k] = x;
  }
  if (def.related !== undefined && !Array.isArray(def.related)) throw new TwinError('BAD_CONFIG', 'related tags must be a list of rules');
  const related: RelatedRule[] = (def.related ?? [])
    .filter((r) => r && String(r.match ?? '').trim() !== '')
    .map((r) => ({ match: String(r.match).trim(), tags: tagList(r.tags) }));
  const base: Partial<DriftEngineConfig> = {
    watch: tagList(def.watch),
    related,
    classify: def.classify === undefined ? true : def.classify,
    uncertain: (def.uncertain || 'skip') as DriftEngineConfig['uncertain'],
    scoreEvery: optNumber(def.scoreEvery, 'scoreEvery'),
    scoreMinChange: optNumber(def.scoreMinChange, 'scoreMinChange'),
    historySamples: optNumber(def.historySamples, 'historySamples'),
    classifyAfterSamples: optNumber(def.classifyAfterSamples, 'classifyAfterSamples'),
    resetAfterGapMs: optNumber(def.resetAfterGapMs, 'resetAfterGapMs'),
    screenFlags: def.screenFlags === undefined ? true : def.screenFlags,
    spikeEventHoldOffSamples: optNumber(def.spikeEventHoldOffSamples, 'spikeEventHoldOffSamples'),
  };
  if (method === MULTIVARIATE_METHOD) {
    const mv: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) {
      if (!MV_KEYS.includes(k))
        throw new TwinError('BAD_CONFIG', `${MULTIVARIATE_METHOD}: unknown parameter '${k}' (known: ${MV_KEYS.join(', ')})`);
      mv[k] = k === 'tags' ? tagList(v) : k === 'asset' ? String(v) : v;
    }
    return { ...base, mode: 'multivariate', method, params: {}, mv };
  }
  return { ...base, mode: 'univariate', method, params };
}

/** Localised text for twin-drift (RED._, else its en-US catalogue: nodes/shared/i18n.ts). */
export function translator(i18n: (key: string, vars?: Record<string, unknown>) => string) {
  return sharedTranslator(i18n, 'twin-drift');
}
