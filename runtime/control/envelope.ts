/**
 * The control envelope of one setpoint: validation of its configuration, its version hash, and the
 * check of a change (or of one ramp step) against it. The check collects every violation, each with
 * a sentence a supervisor can read, because a page that shows only the first reason hides the rest.
 */
import { createHash } from 'node:crypto';
import type { EnvelopeCheck, EnvelopeConfig, EnvelopeViolation, EnvelopeViolationCode, InterlockCondition } from '../model/control.js';
import { badConfig, TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';
import { GATE_MAX_FUTURE_MS, type Reading } from '../model/reading.js';
import { canonicalJson } from './canonical.js';
import { MAX_RAMP_STEPS, planRamp } from './ramp.js';

export interface ChangeRequest {
  fromValue: number;
  toValue: number;
  /** wall clock of the last change written to this setpoint (undefined = none known) */
  lastChangeTsMs?: number;
  nowMs: number;
  /** latest reading per readingKey(asset, tag): the setpoint itself, interlock tags, inputTags */
  readings: ReadonlyMap<string, Reading>;
  /** 'change': a whole approved change (may exceed maxStep when env.ramp); 'step': one write */
  scope: 'change' | 'step';
}

export const INTERLOCK_OPS: ReadonlyArray<InterlockCondition['op']> = ['==', '!=', '<', '<=', '>', '>='];

export function readingKey(asset: string, tag: string): string {
  return `${asset}/${tag}`;
}

/** Key of an inputTags entry: a bare tag belongs to the envelope's asset, `asset/tag` is a full path. */
export function inputTagKey(env: Pick<EnvelopeConfig, 'asset'>, ref: string): string {
  return ref.includes('/') ? ref : readingKey(env.asset, ref);
}

export function interlockKey(env: Pick<EnvelopeConfig, 'asset'>, il: InterlockCondition): string {
  return readingKey(il.asset ?? env.asset, il.tag);
}

/**
 * Whether a reading may count for this envelope: it was received from the envelope's source
 * connection. Without a source (pure tests) every reading counts.
 */
export function fromEnvelopeSource(env: Pick<EnvelopeConfig, 'source'>, r: Pick<Reading, 'origin'>): boolean {
  return env.source === undefined || r.origin?.connection === env.source;
}

/** Every reading the check needs (setpoint, interlock tags, inputTags): what a reading cache should keep. */
export function envelopeInputKeys(env: EnvelopeConfig): Set<string> {
  const keys = new Set<string>([readingKey(env.asset, env.tag)]);
  for (const il of env.interlocks) keys.add(interlockKey(env, il));
  for (const ref of env.inputTags) keys.add(inputTagKey(env, ref));
  return keys;
}

/** Hex SHA-256 of the canonical JSON, first 16 characters: key order never matters, any value does. */
export function envelopeVersion(env: EnvelopeConfig): string {
  return createHash('sha256').update(canonicalJson(env)).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Validation: raw editor / JSON config → EnvelopeConfig. Only the EnvelopeConfig fields are kept,
// so a node's name or position in the editor never changes the version hash.

function text(raw: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const v = raw[field];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (required) badConfig(`envelope ${field}: is required`);
    return undefined;
  }
  if (typeof v !== 'string') badConfig(`envelope ${field}: must be text, not ${typeof v}`);
  return v.trim();
}

/** A number that may arrive as a string from the editor. */
function num(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  if (v === undefined || v === null || v === '') badConfig(`envelope ${field}: is required`);
  badConfig(`envelope ${field}: must be a number, not ${JSON.stringify(v)}`);
}

function bool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  badConfig(`envelope ${field}: must be true or false, not ${JSON.stringify(v)}`);
}

/** Split `a/b/tag` into asset `a/b` and tag `tag`; a bare tag keeps the given asset. */
function splitRef(ref: string): { asset?: string; tag: string } {
  const i = ref.lastIndexOf('/');
  return i < 0 ? { tag: ref } : { asset: ref.slice(0, i), tag: ref.slice(i + 1) };
}

function interlocks(v: unknown): InterlockCondition[] {
  if (v === undefined || v === null || v === '') return [];
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v) as unknown;
    } catch {
      badConfig('envelope interlocks: is not a JSON list');
    }
  }
  if (!Array.isArray(list)) badConfig('envelope interlocks: must be a list');
  return list.map((item, i): InterlockCondition => {
    const f = `interlocks[${i}]`;
    if (item === null || typeof item !== 'object') badConfig(`envelope ${f}: must be an object {tag, op, value}`);
    const o = item as Record<string, unknown>;
    const tagRaw = typeof o.tag === 'string' ? o.tag.trim() : '';
    if (tagRaw === '') badConfig(`envelope ${f}.tag: is required`);
    const ref = splitRef(tagRaw);
    if (ref.tag === '' || ref.asset === '') badConfig(`envelope ${f}.tag: "${tagRaw}" is not a tag or asset/tag`);
    const assetRaw = typeof o.asset === 'string' && o.asset.trim() !== '' ? o.asset.trim() : undefined;
    if (assetRaw !== undefined && ref.asset !== undefined) badConfig(`envelope ${f}.tag: gives an asset and so does asset`);
    const op = typeof o.op === 'string' ? o.op.trim() : o.op;
    if (!INTERLOCK_OPS.includes(op as InterlockCondition['op'])) {
      badConfig(`envelope ${f}.op: must be one of ${INTERLOCK_OPS.join(' ')}, not ${JSON.stringify(o.op)}`);
    }
    const out: InterlockCondition = { tag: ref.tag, op: op as InterlockCondition['op'], value: num(o.value, `${f}.value`) };
    const asset = assetRaw ?? ref.asset;
    if (asset !== undefined) out.asset = asset;
    return out;
  });
}

function inputTags(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  let list: unknown[];
  if (typeof v === 'string') list = v.split(',');
  else if (Array.isArray(v)) list = v;
  else badConfig('envelope inputTags: must be a comma-separated list of tags');
  const tags = list.map((t, i) => {
    if (typeof t !== 'string') badConfig(`envelope inputTags[${i}]: must be text`);
    return t.trim();
  });
  // A trailing comma in the editor is harmless; an empty tag in the middle is a typo worth naming.
  if (typeof v === 'string' && tags.length > 0 && tags[tags.length - 1] === '') tags.pop();
  if (tags.length === 1 && tags[0] === '') return [];
  tags.forEach((t, i) => {
    if (t === '' || t.startsWith('/') || t.endsWith('/')) badConfig(`envelope inputTags[${i}]: "${t}" is not a tag or asset/tag`);
  });
  return tags;
}

export function validateEnvelope(raw: Record<string, unknown>): EnvelopeConfig {
  if (raw === null || typeof raw !== 'object') throw new TwinError('BAD_CONFIG', 'envelope config must be an object');
  const asset = text(raw, 'asset', true)!;
  if (asset.startsWith('/') || asset.endsWith('/')) badConfig(`envelope asset: "${asset}" must not start or end with "/"`);
  const tag = text(raw, 'tag', true)!;
  if (tag.includes('/')) badConfig(`envelope tag: "${tag}" must be a tag name without "/" (the asset goes in asset)`);
  const unit = text(raw, 'unit', false);
  const lowLimit = num(raw.lowLimit, 'lowLimit');
  const highLimit = num(raw.highLimit, 'highLimit');
  if (!(lowLimit < highLimit)) badConfig(`envelope lowLimit: ${lowLimit} must be below highLimit ${highLimit}`);
  const maxStep = num(raw.maxStep, 'maxStep');
  if (!(maxStep > 0)) badConfig(`envelope maxStep: must be > 0, not ${maxStep}`);
  const rateUpPerMin = num(raw.rateUpPerMin, 'rateUpPerMin');
  if (!(rateUpPerMin > 0)) badConfig(`envelope rateUpPerMin: must be > 0, not ${rateUpPerMin}`);
  const rateDownPerMin = num(raw.rateDownPerMin, 'rateDownPerMin');
  if (!(rateDownPerMin > 0)) badConfig(`envelope rateDownPerMin: must be > 0, not ${rateDownPerMin}`);
  const minDwellMs = num(raw.minDwellMs, 'minDwellMs');
  if (!(minDwellMs >= 0)) badConfig(`envelope minDwellMs: must be ≥ 0, not ${minDwellMs}`);
  const maxInputAgeMs = num(raw.maxInputAgeMs, 'maxInputAgeMs');
  if (!(maxInputAgeMs > 0)) badConfig(`envelope maxInputAgeMs: must be > 0, not ${maxInputAgeMs}`);
  // Missing → 'good': the strict choice.
  const q = raw.minQuality === undefined || raw.minQuality === null || raw.minQuality === '' ? 'good' : raw.minQuality;
  if (q !== 'good' && q !== 'uncertain') badConfig(`envelope minQuality: must be good or uncertain, not ${JSON.stringify(q)}`);
  const env: EnvelopeConfig = {
    asset,
    tag,
    lowLimit,
    highLimit,
    maxStep,
    rateUpPerMin,
    rateDownPerMin,
    minDwellMs,
    interlocks: interlocks(raw.interlocks),
    inputTags: inputTags(raw.inputTags),
    maxInputAgeMs,
    minQuality: q,
    // Missing → false: a change larger than maxStep is refused rather than ramped.
    ramp: bool(raw.ramp, 'ramp', false),
  };
  if (unit !== undefined) env.unit = unit;
  const source = text(raw, 'source', false);
  if (source !== undefined) env.source = source;
  return env;
}

// ---------------------------------------------------------------------------------------------
// The check.

const QUALITY_RANK: Record<Quality, number> = { good: 2, uncertain: 1, bad: 0 };

/** Relative tolerance on step sizes (float32 plant values); see checkStepAndPace. */
export const STEP_SLACK_REL = 1e-6;

/** Numbers for people: up to 10 significant digits, no float noise (0.1 + 0.2 → 0.3). */
export function fmtNumber(v: number): string {
  return String(Number(v.toPrecision(10)));
}

/** Durations for people: ms, s, min or h. */
export function fmtDuration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1_000) return `${fmtNumber(Math.round(ms))} ms`;
  if (a < 600_000) return `${fmtNumber(Math.round(ms / 100) / 10)} s`;
  if (a < 7_200_000) return `${fmtNumber(Math.round(ms / 6_000) / 10)} min`;
  return `${fmtNumber(Math.round(ms / 360_000) / 10)} h`;
}

function holds(actual: number, op: InterlockCondition['op'], value: number): boolean {
  switch (op) {
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
  }
}

export function checkEnvelope(env: EnvelopeConfig, req: ChangeRequest): EnvelopeCheck {
  const violations: EnvelopeViolation[] = [];
  const add = (code: EnvelopeViolationCode, tag: string, message: string) => violations.push({ code, tag, message: `${tag}: ${message}` });
  const u = env.unit ? ` ${env.unit}` : '';
  const { fromValue, toValue, nowMs } = req;

  if (!Number.isFinite(fromValue) || !Number.isFinite(toValue)) {
    // NaN compares false with everything: without this, a NaN target would pass the limits.
    add('BAD_INPUT', env.tag, `change ${String(fromValue)} → ${String(toValue)} is not between finite numbers`);
  } else {
    if (toValue > env.highLimit) add('ABOVE_HIGH', env.tag, `${fmtNumber(toValue)}${u} above the high limit ${fmtNumber(env.highLimit)}`);
    if (toValue < env.lowLimit) add('BELOW_LOW', env.tag, `${fmtNumber(toValue)}${u} below the low limit ${fmtNumber(env.lowLimit)}`);
    checkStepAndPace(env, req, add, u);
  }

  // Inputs: each reading once for freshness and quality, however many rules use it.
  const needed = new Map<string, string>(); // key → why it is needed, for the MISSING message
  needed.set(readingKey(env.asset, env.tag), 'the setpoint');
  for (const il of env.interlocks) if (!needed.has(interlockKey(env, il))) needed.set(interlockKey(env, il), 'an interlock');
  for (const ref of env.inputTags) if (!needed.has(inputTagKey(env, ref))) needed.set(inputTagKey(env, ref), 'a decision input');
  for (const [key, why] of needed) {
    const r = req.readings.get(key);
    const name = shortName(env, key);
    if (!r) {
      add('MISSING_INPUT', name, `no reading (needed as ${why})`);
      continue;
    }
    const ageMs = nowMs - r.tsMs;
    if (ageMs > env.maxInputAgeMs) add('STALE_INPUT', name, `reading ${fmtDuration(ageMs)} old (limit ${fmtDuration(env.maxInputAgeMs)})`);
    else if (-ageMs > GATE_MAX_FUTURE_MS) add('STALE_INPUT', name, `reading time ${fmtDuration(-ageMs)} in the future (clock wrong?)`);
    if (QUALITY_RANK[r.quality] === undefined || QUALITY_RANK[r.quality] < QUALITY_RANK[env.minQuality]) {
      const why2 = r.qualityReason ? `, ${r.qualityReason}` : '';
      add('BAD_INPUT', name, `reading quality ${r.quality}${why2} (needs ${env.minQuality === 'good' ? 'good' : 'good or uncertain'})`);
    }
  }
  for (const il of env.interlocks) {
    const r = req.readings.get(interlockKey(env, il));
    if (!r) continue; // reported as MISSING_INPUT above
    if (!holds(r.value, il.op, il.value)) {
      const name = shortName(env, interlockKey(env, il));
      add('INTERLOCK', name, `interlock ${name} ${il.op} ${fmtNumber(il.value)} does not hold (${fmtNumber(r.value)})`);
    }
  }

  return { ok: violations.length === 0, version: envelopeVersion(env), checkedTsMs: nowMs, violations };
}

/** Step size, dwell and rate. For a ramped change, pacing is checked for its first step. */
function checkStepAndPace(
  env: EnvelopeConfig,
  req: ChangeRequest,
  add: (code: EnvelopeViolationCode, tag: string, message: string) => void,
  u: string,
): void {
  const { fromValue, toValue } = req;
  const size = Math.abs(toValue - fromValue);
  if (size === 0) return; // nothing will be written: no step, no pacing
  // A writer's fromValue is read from the plant, often a float32: 250 comes back as 249.9999939.
  // One part per million of the values is forgiven on the step size (never on the limits), or a
  // planned step of exactly maxStep would be refused for rounding.
  const slack = STEP_SLACK_REL * Math.max(1, Math.abs(fromValue), Math.abs(toValue));
  let firstValue = toValue;
  if (size - slack > env.maxStep) {
    if (req.scope === 'step' || !env.ramp) {
      const off = req.scope === 'change' ? ' and ramping is off' : '';
      add(
        'STEP_TOO_LARGE',
        env.tag,
        `step of ${fmtNumber(size)}${u} (${fmtNumber(fromValue)} → ${fmtNumber(toValue)}) is larger than the largest single step ${fmtNumber(env.maxStep)}${off}`,
      );
    } else {
      try {
        firstValue = planRamp(env, fromValue, toValue, 0)[0]!.value;
      } catch {
        // planRamp refuses plans longer than MAX_RAMP_STEPS
        add(
          'STEP_TOO_LARGE',
          env.tag,
          `change of ${fmtNumber(size)}${u} would need more than ${MAX_RAMP_STEPS} ramp steps of ${fmtNumber(env.maxStep)}`,
        );
      }
    }
  }
  if (req.lastChangeTsMs === undefined) return;
  const sinceMs = req.nowMs - req.lastChangeTsMs;
  if (sinceMs < env.minDwellMs) {
    add('DWELL', env.tag, `last change ${fmtDuration(sinceMs)} ago, the minimum dwell is ${fmtDuration(env.minDwellMs)}`);
  }
  const stepSize = Math.abs(firstValue - fromValue);
  const up = firstValue > fromValue;
  const rate = up ? env.rateUpPerMin : env.rateDownPerMin;
  // requiredGapMs without the dwell (reported on its own above), with the same slack as the step size
  const rateMs = (Math.max(0, stepSize - slack) / rate) * 60_000;
  if (sinceMs < rateMs) {
    add(
      up ? 'RATE_UP' : 'RATE_DOWN',
      env.tag,
      `${up ? 'raising' : 'lowering'} by ${fmtNumber(stepSize)}${u} needs ${fmtDuration(rateMs)} at ${fmtNumber(rate)}${u}/min ${up ? 'up' : 'down'}; last change ${fmtDuration(sinceMs)} ago`,
    );
  }
}

/** `tag` for the envelope's own asset, `asset/tag` for another. */
function shortName(env: EnvelopeConfig, key: string): string {
  const own = env.asset + '/';
  return key.startsWith(own) && !key.slice(own.length).includes('/') ? key.slice(own.length) : key;
}
