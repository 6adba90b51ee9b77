/**
 * Configuration of the estimator (operator `estimate` and node twin-estimate), validated once at
 * construction: a bad value throws TwinError BAD_CONFIG naming the field.
 */
import { badConfig } from '../model/errors.js';

export const MODEL_KINDS = ['local-level', 'local-trend', 'first-order', 'fusion', 'hybrid'] as const;
export type EstimateModelKind = (typeof MODEL_KINDS)[number];
export const ADAPTIVE_MODES = ['off', 'R', 'Q', 'RQ'] as const;
export type AdaptiveMode = (typeof ADAPTIVE_MODES)[number];

/** A measured tag and the tag of the input that drives it (first-order, hybrid). */
export interface InputPair {
  tag: string;
  inputTag: string;
}
/** One sensor of a fused quantity and its measurement variance. */
export interface FusionSensor {
  tag: string;
  measurementVar: number;
}

export interface EstimateConfig {
  model: EstimateModelKind;
  /** Initial measurement variance R (unit²); per-sensor values override it in fusion. */
  measurementVar: number;
  /** Random-walk variance added to the level per second (unit²/s). */
  levelVarPerS: number;
  /** Local trend: white-noise acceleration density (unit²/s³). */
  slopeVarPerS3: number;
  /** Local trend: prior slope variance at (re)initialisation ((unit/s)²). */
  initialSlopeVarPerS2: number;
  /** First-order / hybrid: steady-state gain and time constant. */
  gain: number;
  tauS: number;
  /** First-order / hybrid: which tag is driven by which input tag (same asset). */
  pairs: InputPair[];
  /** Fusion: the sensors and the tag name of the fused estimate. */
  sensors: FusionSensor[];
  fusedTag: string;
  /** Hybrid residual regression. */
  hybridWindow: number;
  hybridRefitEvery: number;
  hybridMinSamples: number;
  rangeMarginFrac: number;
  rangeMarginAbs: number;
  /** Innovation-based adaptation of R (and Q), window in accepted good readings. */
  adaptive: AdaptiveMode;
  adaptWindow: number;
  /** Adapted R stays within [R0/f, R0·f], the Q scale within [1/f, f]. */
  adaptBoundFactor: number;
  /** Window of the NIS consistency check in readings (0 = off) and its one-sided confidence. */
  nisWindow: number;
  nisConfidence: number;
  /** A gap longer than this (event time) re-initialises the state (0 = never). */
  maxGapMs: number;
  /** An `uncertain` reading is applied with R multiplied by this. */
  uncertainVarFactor: number;
  /** At most this many tracked estimates; the oldest-created is dropped beyond it. */
  maxTags: number;
}

export const DEFAULTS: Readonly<Omit<EstimateConfig, 'model' | 'pairs' | 'sensors' | 'fusedTag'>> = {
  measurementVar: 1,
  levelVarPerS: 0.01,
  slopeVarPerS3: 1e-4,
  initialSlopeVarPerS2: 1,
  gain: 1,
  tauS: 60,
  hybridWindow: 200,
  hybridRefitEvery: 20,
  hybridMinSamples: 30,
  rangeMarginFrac: 0.1,
  rangeMarginAbs: 0,
  adaptive: 'off',
  adaptWindow: 50,
  adaptBoundFactor: 100,
  nisWindow: 20,
  nisConfidence: 0.99,
  maxGapMs: 300_000,
  uncertainVarFactor: 10,
  maxTags: 100_000,
};

function num(raw: Record<string, unknown>, key: keyof typeof DEFAULTS, check: (v: number) => boolean, rule: string): number {
  const v0 = raw[key];
  if (v0 === undefined || v0 === null || (typeof v0 === 'string' && v0.trim() === '')) return DEFAULTS[key] as number;
  const v = typeof v0 === 'string' ? Number(v0.trim()) : v0;
  if (typeof v !== 'number' || !Number.isFinite(v)) badConfig(`${key} must be a number, not ${JSON.stringify(v0)}`);
  if (!check(v)) badConfig(`${key} must be ${rule}, not ${v}`);
  return v;
}

const positive = (v: number) => v > 0;
const nonNegative = (v: number) => v >= 0;
const intAtLeast = (min: number) => (v: number) => Number.isInteger(v) && v >= min;
const TAG_RE = /^[^/+#\s][^/+#]*$/;

function tagName(v: unknown, what: string): string {
  if (typeof v !== 'string' || !TAG_RE.test(v.trim())) badConfig(`${what} must be a tag name (no '/', '+', '#'), not ${JSON.stringify(v)}`);
  return v.trim();
}

export function validateEstimateConfig(input: unknown): EstimateConfig {
  if (!input || typeof input !== 'object') badConfig('config must be an object');
  const raw = input as Record<string, unknown>;
  const model = raw.model ?? 'local-level';
  if (!MODEL_KINDS.includes(model as EstimateModelKind))
    badConfig(`model must be one of ${MODEL_KINDS.join(', ')}, not ${JSON.stringify(model)}`);
  const adaptive = raw.adaptive === undefined || raw.adaptive === '' ? DEFAULTS.adaptive : raw.adaptive;
  if (!ADAPTIVE_MODES.includes(adaptive as AdaptiveMode))
    badConfig(`adaptive must be one of ${ADAPTIVE_MODES.join(', ')}, not ${JSON.stringify(adaptive)}`);

  const measurementVar = num(raw, 'measurementVar', positive, '> 0');
  const cfg: EstimateConfig = {
    model: model as EstimateModelKind,
    measurementVar,
    levelVarPerS: num(raw, 'levelVarPerS', nonNegative, '≥ 0'),
    slopeVarPerS3: num(raw, 'slopeVarPerS3', nonNegative, '≥ 0'),
    initialSlopeVarPerS2: num(raw, 'initialSlopeVarPerS2', positive, '> 0'),
    gain: num(raw, 'gain', (v) => v !== 0, 'non-zero'),
    tauS: num(raw, 'tauS', positive, '> 0'),
    pairs: [],
    sensors: [],
    fusedTag: '',
    hybridWindow: num(raw, 'hybridWindow', intAtLeast(4), 'an integer ≥ 4'),
    hybridRefitEvery: num(raw, 'hybridRefitEvery', intAtLeast(1), 'an integer ≥ 1'),
    hybridMinSamples: num(raw, 'hybridMinSamples', intAtLeast(4), 'an integer ≥ 4'),
    rangeMarginFrac: num(raw, 'rangeMarginFrac', nonNegative, '≥ 0'),
    rangeMarginAbs: num(raw, 'rangeMarginAbs', nonNegative, '≥ 0'),
    adaptive: adaptive as AdaptiveMode,
    adaptWindow: num(raw, 'adaptWindow', intAtLeast(2), 'an integer ≥ 2'),
    adaptBoundFactor: num(raw, 'adaptBoundFactor', (v) => v >= 1, '≥ 1'),
    nisWindow: num(raw, 'nisWindow', (v) => v === 0 || (Number.isInteger(v) && v >= 3), '0 (off) or an integer ≥ 3'),
    nisConfidence: num(raw, 'nisConfidence', (v) => v > 0.5 && v < 1, 'in (0.5, 1)'),
    maxGapMs: num(raw, 'maxGapMs', nonNegative, '≥ 0 (0 = off)'),
    uncertainVarFactor: num(raw, 'uncertainVarFactor', (v) => v >= 1, '≥ 1'),
    maxTags: num(raw, 'maxTags', intAtLeast(1), 'an integer ≥ 1'),
  };
  if (cfg.hybridMinSamples > cfg.hybridWindow)
    badConfig(`hybridMinSamples (${cfg.hybridMinSamples}) must not exceed hybridWindow (${cfg.hybridWindow})`);

  if (cfg.model === 'first-order' || cfg.model === 'hybrid') {
    if (!Array.isArray(raw.pairs) || raw.pairs.length === 0) {
      badConfig(`${cfg.model} needs at least one pair of measured tag and input tag`);
    }
    const seen = new Set<string>();
    cfg.pairs = (raw.pairs as unknown[]).map((p, i) => {
      const o = (p ?? {}) as Record<string, unknown>;
      const tag = tagName(o.tag, `pairs[${i}].tag`);
      const inputTag = tagName(o.inputTag, `pairs[${i}].inputTag`);
      if (tag === inputTag) badConfig(`pairs[${i}]: a tag cannot be its own input (${tag})`);
      if (seen.has(tag)) badConfig(`pairs[${i}]: ${tag} is listed twice`);
      seen.add(tag);
      return { tag, inputTag };
    });
    for (const p of cfg.pairs) if (seen.has(p.inputTag)) badConfig(`${p.inputTag} is both a measured tag and an input`);
  }
  if (cfg.model === 'fusion') {
    if (!Array.isArray(raw.sensors) || raw.sensors.length < 2) badConfig('fusion needs at least two sensors');
    const seen = new Set<string>();
    cfg.sensors = (raw.sensors as unknown[]).map((s, i) => {
      const o = (s ?? {}) as Record<string, unknown>;
      const tag = tagName(o.tag, `sensors[${i}].tag`);
      if (seen.has(tag)) badConfig(`sensors[${i}]: ${tag} is listed twice`);
      seen.add(tag);
      const rv = o.measurementVar === undefined || o.measurementVar === '' ? measurementVar : Number(o.measurementVar);
      if (!Number.isFinite(rv) || rv <= 0)
        badConfig(`sensors[${i}].measurementVar must be a number > 0, not ${JSON.stringify(o.measurementVar)}`);
      return { tag, measurementVar: rv };
    });
    cfg.fusedTag = tagName(raw.fusedTag, 'fusedTag');
    if (seen.has(cfg.fusedTag)) badConfig(`fusedTag ${cfg.fusedTag} must differ from the sensor tags`);
  }
  return cfg;
}
