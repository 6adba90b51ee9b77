/**
 * Configuration of the setpoint proposer, validated once (the node's editor hands over strings;
 * blank optional fields are absent). Every refusal names the field.
 */
import { badConfig } from '../model/errors.js';
import type { ResponseShape } from './response-model.js';

export type ProposeMode = 'target' | 'minimise' | 'maximise';

export interface ProposerConfig {
  asset: string;
  setpointTag: string;
  kpiTag: string;
  mode: ProposeMode;
  /** Required in mode 'target', KPI units. */
  kpiTarget?: number;
  /** A second KPI that must stay within constraintMin..constraintMax (its prediction interval must). */
  constraintTag?: string;
  constraintMin?: number;
  constraintMax?: number;
  /** Other inputs of the model (same asset), held at their latest values when predicting. */
  inputTags: string[];
  model: ResponseShape;
  /** Event-time length of the history the model is fitted on. */
  windowMs: number;
  /** Event time between two refits. */
  refitIntervalMs: number;
  minSamples: number;
  /** Smallest predicted KPI gain worth a proposal, KPI units. */
  deadband: number;
  /** Smallest difference of proposed value that replaces an open proposal, setpoint units. */
  minChange: number;
  /** Wall-clock life of a proposal (approval window for people). */
  proposalTtlMs: number;
  /** The setpoint's own hard limits (optional): the search never leaves them. */
  spLowLimit?: number;
  spHighLimit?: number;
  /** KPI samples this long after a setpoint change are skipped: the process has not settled. */
  settleMs: number;
  /** Coverage of the prediction intervals, percent. */
  intervalPct: number;
  /** Proposed values are multiples of this, setpoint units. */
  spResolution: number;
  /** Above this share of bad samples in the window the proposer stays quiet. */
  maxBadPct: number;
}

export const PROPOSER_DEFAULTS = {
  mode: 'minimise' as ProposeMode,
  model: 'quadratic' as ResponseShape,
  windowMs: 3_600_000,
  refitIntervalMs: 60_000,
  minSamples: 60,
  deadband: 0,
  minChange: 1,
  proposalTtlMs: 900_000,
  settleMs: 0,
  intervalPct: 90,
  spResolution: 0.1,
  maxBadPct: 20,
};

function optNumber(raw: Record<string, unknown>, field: string): number | undefined {
  const v = raw[field];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(x)) badConfig(`${field} must be a number, got ${JSON.stringify(v)}`);
  return x;
}

function num(raw: Record<string, unknown>, field: keyof typeof PROPOSER_DEFAULTS, check: (x: number) => boolean, why: string): number {
  const x = optNumber(raw, field) ?? (PROPOSER_DEFAULTS[field] as number);
  if (!check(x)) badConfig(`${field} ${why}, got ${x}`);
  return x;
}

function name(raw: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const v = raw[field];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (required) badConfig(`${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') badConfig(`${field} must be a string`);
  return v.trim();
}

export function validateProposerConfig(raw: Record<string, unknown>): ProposerConfig {
  const asset = name(raw, 'asset', true)!;
  const setpointTag = name(raw, 'setpointTag', true)!;
  const kpiTag = name(raw, 'kpiTag', true)!;
  if (kpiTag === setpointTag) badConfig('kpiTag must differ from setpointTag');

  const mode = (name(raw, 'mode', false) ?? PROPOSER_DEFAULTS.mode) as ProposeMode;
  if (!['target', 'minimise', 'maximise'].includes(mode)) badConfig(`mode must be target, minimise or maximise, got ${mode}`);
  const kpiTarget = optNumber(raw, 'kpiTarget');
  if (mode === 'target' && kpiTarget === undefined) badConfig(`kpiTarget is required in mode 'target'`);

  const constraintTag = name(raw, 'constraintTag', false);
  const constraintMin = optNumber(raw, 'constraintMin');
  const constraintMax = optNumber(raw, 'constraintMax');
  if (constraintTag !== undefined) {
    if (constraintTag === kpiTag || constraintTag === setpointTag) badConfig('constraintTag must differ from kpiTag and setpointTag');
    if (constraintMin === undefined && constraintMax === undefined)
      badConfig('constraintMin or constraintMax is required with a constraintTag');
    if (constraintMin !== undefined && constraintMax !== undefined && !(constraintMin < constraintMax))
      badConfig('constraintMin must be below constraintMax');
  } else if (constraintMin !== undefined || constraintMax !== undefined) {
    badConfig('constraintTag is required with constraintMin or constraintMax');
  }

  let inputTags: string[] = [];
  const rawInputs = raw.inputTags;
  if (Array.isArray(rawInputs)) inputTags = rawInputs.map(String);
  else if (typeof rawInputs === 'string') inputTags = rawInputs.split(',');
  else if (rawInputs !== undefined && rawInputs !== null) badConfig('inputTags must be a list of tag names');
  inputTags = inputTags.map((s) => s.trim()).filter((s) => s !== '');
  for (const t of inputTags) {
    if (t === kpiTag || t === setpointTag || t === constraintTag)
      badConfig(`inputTags must not repeat the setpoint, KPI or constraint tag (${t})`);
  }
  if (new Set(inputTags).size !== inputTags.length) badConfig('inputTags lists a tag twice');

  const model = (name(raw, 'model', false) ?? PROPOSER_DEFAULTS.model) as ResponseShape;
  if (model !== 'linear' && model !== 'quadratic') badConfig(`model must be linear or quadratic, got ${String(model)}`);

  const spLowLimit = optNumber(raw, 'spLowLimit');
  const spHighLimit = optNumber(raw, 'spHighLimit');
  if (spLowLimit !== undefined && spHighLimit !== undefined && !(spLowLimit < spHighLimit)) {
    badConfig('spLowLimit must be below spHighLimit');
  }

  const minSamples = num(raw, 'minSamples', (x) => Number.isInteger(x) && x >= 5, 'must be an integer ≥ 5');
  return {
    asset,
    setpointTag,
    kpiTag,
    mode,
    kpiTarget: mode === 'target' ? kpiTarget : undefined,
    constraintTag,
    constraintMin: constraintTag !== undefined ? constraintMin : undefined,
    constraintMax: constraintTag !== undefined ? constraintMax : undefined,
    inputTags,
    model,
    windowMs: num(raw, 'windowMs', (x) => x > 0, 'must be > 0'),
    refitIntervalMs: num(raw, 'refitIntervalMs', (x) => x >= 0, 'must be ≥ 0'),
    minSamples,
    deadband: num(raw, 'deadband', (x) => x >= 0, 'must be ≥ 0'),
    minChange: num(raw, 'minChange', (x) => x > 0, 'must be > 0'),
    proposalTtlMs: num(raw, 'proposalTtlMs', (x) => x > 0, 'must be > 0'),
    spLowLimit,
    spHighLimit,
    settleMs: num(raw, 'settleMs', (x) => x >= 0, 'must be ≥ 0'),
    intervalPct: num(raw, 'intervalPct', (x) => x >= 50 && x < 100, 'must be in 50..<100'),
    spResolution: num(raw, 'spResolution', (x) => x > 0, 'must be > 0'),
    maxBadPct: num(raw, 'maxBadPct', (x) => x >= 0 && x <= 100, 'must be in 0..100'),
  };
}
