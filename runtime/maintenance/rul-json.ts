/**
 * RUL models of every kind behind one door: fit ('rul-ols' regression, 'rul-similarity' trajectory
 * matching, 'rul-trend' degradation trend), write and read the model file, and estimate. The file
 * is the model's own JSON plus a `domain` (every training channel, its range, the longest training
 * life) so a live history can be checked against what the model has seen. JSON has no Infinity:
 * it is written as the string "Infinity" and read back (null in an open-ended band, as older files
 * have it, is read as Infinity too).
 */
import { TwinError } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import type { RulEstimate } from '../model/maintenance.js';
import type { SignalSpec, UnitHistory } from './health-index.js';
import { estimateRul, fitRulModel, type ResidualBand, type RulModel } from './rul-model.js';
import { estimateRulSimilarity, fitSimilarityModel, type SimilarityModel } from './rul-similarity.js';
import { estimateRulTrend, fitTrendModel, trendModelFromJson, type TrendModel } from './rul-trend.js';

export type RulMethod = 'similarity' | 'ols' | 'trend';
export const RUL_METHODS: readonly RulMethod[] = ['similarity', 'ols', 'trend'];
const KIND_OF: Record<RulMethod, AnyRulModel['kind']> = { similarity: 'rul-similarity', ols: 'rul-ols', trend: 'rul-trend' };

/** What the model was fitted on: every channel of the training rows, its range, the longest life. */
export interface RulDomain {
  channels: string[];
  min: number[];
  max: number[];
  /** longest first-row-to-failure span of a training unit */
  maxAgeMs: number;
  units: number;
}

export type AnyRulModel = (RulModel | SimilarityModel | TrendModel) & { domain?: RulDomain };

export interface RulFitAnyOptions {
  method: RulMethod;
  rulCapMs: number;
  seed?: number;
}

function domainOf(units: UnitHistory[]): RulDomain {
  const channels = units[0].channels;
  const min = channels.map(() => Infinity),
    max = channels.map(() => -Infinity);
  let maxAgeMs = 0;
  for (const u of units) {
    maxAgeMs = Math.max(maxAgeMs, u.tsMs[u.tsMs.length - 1] - u.tsMs[0]);
    for (const row of u.values) {
      for (let c = 0; c < row.length; c++) {
        if (row[c] < min[c]) min[c] = row[c];
        if (row[c] > max[c]) max[c] = row[c];
      }
    }
  }
  return { channels: [...channels], min, max, maxAgeMs, units: units.length };
}

/** Fit a model of the given method on run-to-failure histories (the last row of each is its failure). */
export function fitRulAny(units: UnitHistory[], o: RulFitAnyOptions): AnyRulModel {
  if (!RUL_METHODS.includes(o.method))
    throw new TwinError('BAD_CONFIG', `method must be one of ${RUL_METHODS.join(', ')}, got '${String(o.method)}'`);
  if (units.length === 0) throw new TwinError('BAD_PAYLOAD', 'no training units');
  const base = { rulCapMs: o.rulCapMs, ...(o.seed !== undefined ? { seed: o.seed } : {}) };
  const model: AnyRulModel =
    o.method === 'ols'
      ? fitRulModel(units, base)
      : o.method === 'similarity'
        ? fitSimilarityModel(units, base)
        : fitTrendModel(units, base);
  return { ...model, domain: domainOf(units) };
}

/** The model file's text: JSON with ±Infinity as strings. */
export function rulModelToJson(model: AnyRulModel): string {
  return JSON.stringify(model, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v), 1);
}

const bad = (source: string, what: string) => new TwinError('MODEL', `${source}: ${what}`);

function isNum(x: unknown): x is number {
  return typeof x === 'number' && !Number.isNaN(x);
}

function numbers(source: string, x: unknown, path: string, length?: number): void {
  if (!Array.isArray(x)) throw bad(source, `${path} is not an array`);
  if (length !== undefined && x.length !== length) throw bad(source, `${path} has ${x.length} entries, expected ${length}`);
  const i = x.findIndex((v) => !isNum(v));
  if (i >= 0) throw bad(source, `${path}[${i}] is not a number`);
}

function checkSignals(source: string, s: unknown, path: string): SignalSpec {
  const sig = s as SignalSpec;
  if (!sig || typeof sig !== 'object') throw bad(source, `${path} is missing`);
  if (!Array.isArray(sig.channels) || sig.channels.length === 0 || !sig.channels.every((c) => typeof c === 'string' && c !== '')) {
    throw bad(source, `${path}.channels must be a non-empty list of channel names`);
  }
  const k = sig.channels.length;
  numbers(source, sig.columns, `${path}.columns`, k);
  if (!sig.columns.every((c) => Number.isInteger(c) && c >= 0)) throw bad(source, `${path}.columns must be column indexes`);
  numbers(source, sig.mean, `${path}.mean`, k);
  numbers(source, sig.std, `${path}.std`, k);
  if (!sig.std.every((v) => v > 0)) throw bad(source, `${path}.std must be > 0`);
  if (!(Number.isInteger(sig.windowRows) && sig.windowRows >= 1)) throw bad(source, `${path}.windowRows must be an integer >= 1`);
  return sig;
}

/** Bands as written, with the open-ended last band (null, "Infinity" or missing) read as Infinity. */
function checkBands(source: string, b: unknown, path: string): ResidualBand[] {
  if (!Array.isArray(b) || b.length === 0) throw bad(source, `${path} must be a non-empty list of residual bands`);
  return b.map((band: Record<string, unknown>, i) => {
    if (!band || typeof band !== 'object') throw bad(source, `${path}[${i}] is not a band`);
    for (const f of ['q10Ms', 'q50Ms', 'q90Ms'])
      if (!isNum(band[f]) || !Number.isFinite(band[f])) throw bad(source, `${path}[${i}].${f} is not a finite number`);
    const last = i === b.length - 1;
    const upToMs = band.upToMs === null || band.upToMs === undefined ? (last ? Infinity : NaN) : band.upToMs;
    if (!isNum(upToMs)) throw bad(source, `${path}[${i}].upToMs is not a number`);
    return { ...(band as unknown as ResidualBand), upToMs: last ? Infinity : upToMs };
  });
}

function checkOls(source: string, m: RulModel, path: string): RulModel {
  const sig = checkSignals(source, m.signals, `${path}signals`);
  const k = sig.channels.length;
  numbers(source, m.coef, `${path}coef`, 3 * k + 2);
  numbers(source, m.calib, `${path}calib`);
  numbers(source, m.featureMin, `${path}featureMin`, 3 * k + 2);
  numbers(source, m.featureMax, `${path}featureMax`, 3 * k + 2);
  return { ...m, bands: checkBands(source, m.bands, `${path}bands`) };
}

function checkSimilarity(source: string, m: SimilarityModel): SimilarityModel {
  const sig = checkSignals(source, m.signals, 'signals');
  numbers(source, m.hiCoef, 'hiCoef', sig.channels.length + 1);
  if (!Array.isArray(m.library) || m.library.length === 0) throw bad(source, 'library must be a non-empty list of training trajectories');
  m.library.forEach((lib, i) => {
    numbers(source, lib?.hi, `library[${i}].hi`);
    numbers(source, lib.ageMs, `library[${i}].ageMs`, lib.hi.length);
    if (lib.hi.length < 2) throw bad(source, `library[${i}] has fewer than 2 rows`);
  });
  const o = m.options as unknown as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw bad(source, 'options is missing');
  for (const f of ['matchRows', 'neighbours'])
    if (!(Number.isInteger(o[f]) && (o[f] as number) >= 1)) throw bad(source, `options.${f} must be an integer >= 1`);
  if (!(isNum(o.blend) && o.blend >= 0 && o.blend <= 1)) throw bad(source, 'options.blend must be in [0, 1]');
  if (m.regression !== null && m.regression !== undefined) {
    if ((m.regression as { kind?: unknown }).kind !== 'rul-ols') throw bad(source, "regression must be a 'rul-ols' model or null");
  }
  const regression = m.regression ? checkOls(source, m.regression, 'regression.') : null;
  if (o.blend !== 0 && !regression) throw bad(source, 'options.blend > 0 needs a regression model');
  return { ...m, regression, bands: checkBands(source, m.bands, 'bands') };
}

function checkDomain(source: string, d: unknown): RulDomain | undefined {
  if (d === undefined) return undefined;
  const dom = d as RulDomain;
  if (!dom || !Array.isArray(dom.channels) || !dom.channels.every((c) => typeof c === 'string'))
    throw bad(source, 'domain.channels must be a list of channel names');
  numbers(source, dom.min, 'domain.min', dom.channels.length);
  numbers(source, dom.max, 'domain.max', dom.channels.length);
  if (!(isNum(dom.maxAgeMs) && dom.maxAgeMs >= 0)) throw bad(source, 'domain.maxAgeMs must be a number >= 0');
  return dom;
}

/** A model from parsed JSON, checked field by field; throws TwinError('MODEL') saying what is wrong. */
export function rulModelFromJson(json: unknown, source = 'model'): AnyRulModel {
  const m = json as AnyRulModel;
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad(source, 'not a JSON object');
  const kinds = Object.values(KIND_OF);
  if (!kinds.includes(m.kind))
    throw bad(source, `kind must be one of ${kinds.join(', ')}, got ${JSON.stringify((m as { kind?: unknown }).kind)}`);
  if (m.version !== 1) throw bad(source, `${m.kind} version ${JSON.stringify(m.version)} is not supported (1 is)`);
  if (!(isNum(m.rulCapMs) && m.rulCapMs > 0 && Number.isFinite(m.rulCapMs))) throw bad(source, 'rulCapMs must be a number > 0');
  const domain = checkDomain(source, m.domain);
  let out: AnyRulModel;
  if (m.kind === 'rul-ols') out = checkOls(source, m, '');
  else if (m.kind === 'rul-similarity') out = checkSimilarity(source, m);
  else {
    try {
      out = { ...trendModelFromJson(m), ...(domain ? { domain } : {}) };
    } catch (err) {
      throw bad(source, (err as Error).message);
    }
  }
  if (domain) {
    const sig = signalsOf(out);
    if (sig) {
      sig.channels.forEach((c, j) => {
        if (domain.channels[sig.columns[j]] !== c) throw bad(source, `signal '${c}' is not column ${sig.columns[j]} of domain.channels`);
      });
    }
  }
  return out;
}

/** Parse and check a model file's text. */
export function rulModelFromText(text: string, source = 'model'): AnyRulModel {
  let json: unknown;
  try {
    json = JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
  } catch (err) {
    throw bad(source, `not JSON (${(err as Error).message})`);
  }
  return rulModelFromJson(json, source);
}

function signalsOf(model: AnyRulModel): SignalSpec | undefined {
  const s = (model as { signals?: unknown }).signals as SignalSpec | undefined;
  return s && Array.isArray(s.channels) && Array.isArray(s.columns) ? s : undefined;
}

/** Every channel a history for this model has, in order (the model's training columns). */
export function modelChannels(model: AnyRulModel): string[] {
  if (model.domain) return model.domain.channels;
  const sig = signalsOf(model);
  if (!sig) throw new TwinError('MODEL', `${model.kind} model has neither a domain nor signals: no channel list`);
  const out = new Array<string>(Math.max(...sig.columns) + 1).fill('');
  sig.columns.forEach((col, j) => (out[col] = sig.channels[j]));
  return out;
}

/** The channels the estimate reads; a history row is complete once each of them has a value. */
export function requiredChannels(model: AnyRulModel): string[] {
  const sig = signalsOf(model);
  return sig ? [...sig.channels] : modelChannels(model).filter((c) => c !== '');
}

/**
 * The recent history the estimate rests on (its quality is the worst over these rows): a number of
 * rows, or a time span for a model whose window is in time (the trend model).
 */
export function modelWindow(model: AnyRulModel): { rows: number } | { ms: number } {
  if (model.kind === 'rul-similarity') return { rows: model.options.matchRows };
  if (model.kind === 'rul-ols') return { rows: model.signals.windowRows };
  const ms = (model as { windowMs?: unknown }).windowMs;
  return typeof ms === 'number' && ms > 0 ? { ms } : { rows: signalsOf(model)?.windowRows ?? 1 };
}

/**
 * RUL at the last row of a history since new (or since the asset's last renewal), by the model's
 * kind. On top of the kind's own checks: 'uncertain' when the asset is older than any training unit
 * lived or a channel at the last row lies outside its training range (an extrapolation).
 */
export function estimateRulAny(model: AnyRulModel, history: UnitHistory, inputQuality: Quality = 'good'): RulEstimate {
  const est =
    model.kind === 'rul-ols'
      ? estimateRul(model, history, inputQuality)
      : model.kind === 'rul-similarity'
        ? estimateRulSimilarity(model, history, inputQuality)
        : estimateRulTrend(model, history, inputQuality);
  const reasons: string[] = est.qualityReason ? [est.qualityReason] : [];
  const d = model.domain;
  if (d) {
    const n = history.values.length;
    const ageMs = history.tsMs[n - 1] - history.tsMs[0];
    if (ageMs > d.maxAgeMs) reasons.push(`asset age ${ageMs} ms is beyond the longest training life (${d.maxAgeMs} ms)`);
    const last = history.values[n - 1];
    for (const name of requiredChannels(model)) {
      const c = d.channels.indexOf(name);
      const hc = history.channels.indexOf(name);
      const v = last[hc];
      if (c >= 0 && hc >= 0 && (v < d.min[c] || v > d.max[c]))
        reasons.push(`${name} = ${v} outside the training range ${d.min[c]}..${d.max[c]}`);
    }
  }
  const out: RulEstimate = { ...est, model: model.kind };
  if (reasons.length > 0) {
    out.quality = worstQuality(est.quality, 'uncertain');
    out.qualityReason = reasons.join('; ');
  }
  return out;
}
