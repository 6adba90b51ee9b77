/**
 * twin-estimate's editor fields → runtime EstimateConfig, and the input check. Kept apart from the
 * node file, whose only export must be the registration function.
 */
import type { NodeDef } from 'node-red';
import { singleReadingInput, type Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { validateEstimateConfig, type EstimateConfig } from '../../runtime/estimate/config.js';
import { translator as sharedTranslator } from '../shared/i18n.js';

export interface TwinEstimateDef extends NodeDef {
  /** Message property the Reading is read from and the Estimate written to; blank = payload. */
  property?: string;
  output?: string;
  model?: string;
  measurementVar?: string | number;
  levelVarPerS?: string | number;
  slopeVarPerS3?: string | number;
  initialSlopeVarPerS2?: string | number;
  /** `tag=inputTag, …` (first-order, hybrid). */
  pairs?: string;
  gain?: string | number;
  tauS?: string | number;
  /** Hybrid physics; `first-order` is the one offered. */
  physics?: string;
  hybridWindow?: string | number;
  hybridRefitEvery?: string | number;
  hybridMinSamples?: string | number;
  rangeMarginFrac?: string | number;
  /** `tag[=R], …` (fusion). */
  sensors?: string;
  fusedTag?: string;
  adaptive?: string;
  adaptWindow?: string | number;
  nisWindow?: string | number;
  maxGapMs?: string | number;
  uncertainVarFactor?: string | number;
}

const NUMERIC = [
  'measurementVar',
  'levelVarPerS',
  'slopeVarPerS3',
  'initialSlopeVarPerS2',
  'gain',
  'tauS',
  'hybridWindow',
  'hybridRefitEvery',
  'hybridMinSamples',
  'rangeMarginFrac',
  'adaptWindow',
  'nisWindow',
  'maxGapMs',
  'uncertainVarFactor',
] as const;

function items(text: unknown, what: string): string[] {
  if (text === undefined || text === null) return [];
  if (typeof text !== 'string') throw new TwinError('BAD_CONFIG', `${what} must be text`);
  return text
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `zone1_temp=zone1_sp, zone2_temp=zone2_sp` → pairs. */
export function parsePairs(text: unknown): Array<{ tag: string; inputTag: string }> {
  return items(text, 'pairs').map((item) => {
    const m = /^([^=]+)=([^=]+)$/.exec(item);
    if (!m) throw new TwinError('BAD_CONFIG', `pairs: "${item}" is not tag=inputTag`);
    return { tag: m[1].trim(), inputTag: m[2].trim() };
  });
}

/** `tc_a=0.04, tc_b` → sensors (R blank = the node's measurement variance). */
export function parseSensors(text: unknown): Array<{ tag: string; measurementVar?: string }> {
  return items(text, 'sensors').map((item) => {
    const [tag, r, more] = item.split('=');
    if (more !== undefined) throw new TwinError('BAD_CONFIG', `sensors: "${item}" is not tag or tag=R`);
    return r === undefined || r.trim() === '' ? { tag: tag.trim() } : { tag: tag.trim(), measurementVar: r.trim() };
  });
}

/** The runtime config from the editor's fields (validation is the runtime's: validateEstimateConfig). */
export function configFromDef(def: TwinEstimateDef): EstimateConfig {
  const raw: Record<string, unknown> = { model: def.model || 'local-level', adaptive: def.adaptive || 'off' };
  for (const k of NUMERIC) if (def[k] !== undefined) raw[k] = def[k];
  if (raw.model === 'first-order' || raw.model === 'hybrid') raw.pairs = parsePairs(def.pairs);
  if (raw.model === 'hybrid' && (def.physics ?? 'first-order') !== 'first-order') {
    throw new TwinError('BAD_CONFIG', `physics must be first-order, not ${JSON.stringify(def.physics)}`);
  }
  if (raw.model === 'fusion') {
    raw.sensors = parseSensors(def.sensors);
    raw.fusedTag = def.fusedTag;
  }
  return validateEstimateConfig(raw);
}

/** Turn an input payload into a Reading or throw a TwinError that says what is wrong. */
export function readingFromPayload(payload: unknown): Reading {
  return singleReadingInput(payload, 'twin-estimate');
}

/** Localised text for twin-estimate (RED._, else its en-US catalogue: nodes/shared/i18n.ts). */
export function translator(i18n: (key: string, vars?: Record<string, unknown>) => string) {
  return sharedTranslator(i18n, 'twin-estimate');
}
