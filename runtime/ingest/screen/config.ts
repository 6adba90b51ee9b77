/**
 * Screening configuration: defaults for every tag, per-tag overrides (first match wins), and its
 * validation. Every check is off until configured, except the timestamp checks (duplicate,
 * out-of-order, future), which need no tuning: a check that fires on a healthy signal teaches
 * people to ignore quality.
 */
import { badConfig } from '../../model/errors.js';
import { DEFAULT_MAX_FUTURE_MS } from '../../model/reading.js';
import type { CheckName, FlagSeverity } from './flag.js';
import type { RangeConfig } from './range.js';
import type { RateConfig } from './rate.js';
import type { StuckConfig } from './stuck.js';
import type { SpikeConfig } from './spike.js';
import type { StaleConfig } from './stale.js';
import type { OrderConfig } from './order.js';
import { compileTagPattern } from '../../model/tag-pattern.js';

/** The checks whose severity can be configured ('invalid' is always bad). */
export type ConfigurableCheck = Exclude<CheckName, 'invalid'>;
export type SeverityTable = Record<ConfigurableCheck, FlagSeverity>;

/** Everything that can differ between tags. */
export interface TagChecks extends RangeConfig, RateConfig, StuckConfig, SpikeConfig, StaleConfig, OrderConfig {
  severity: SeverityTable;
}

/** One row of the overrides table: a pattern and the settings that differ for matching tags. */
export interface TagOverride extends Partial<Omit<TagChecks, 'severity'>> {
  /** Tag name, or glob on `asset/tag` (see glob.ts). */
  match: string;
  severity?: Partial<SeverityTable>;
}

export interface ScreenConfig extends TagChecks {
  overrides: TagOverride[];
  /** Most tags tracked at once; beyond that the longest-tracked tag's state is dropped (it restarts). */
  maxTags: number;
}

/**
 * Default severities: a value that cannot be right (out of range) or a reading that cannot be
 * placed in time (duplicate, out-of-order, future, stale) is bad; a statistical suspicion (rate,
 * stuck, spike) is uncertain, since a real process can do each of those.
 */
export const DEFAULT_SEVERITY: Readonly<SeverityTable> = Object.freeze({
  range: 'bad',
  rate: 'uncertain',
  stuck: 'uncertain',
  spike: 'uncertain',
  duplicate: 'bad',
  outOfOrder: 'bad',
  future: 'bad',
  stale: 'bad',
});

export const DEFAULT_SCREEN_CONFIG: Readonly<ScreenConfig> = Object.freeze({
  lowLimit: undefined,
  highLimit: undefined,
  maxRatePerS: undefined,
  stuckTolerance: 0,
  stuckSamples: 0,
  stuckWindowMs: 0,
  spikeWindow: 0,
  spikeK: 3,
  spikeMinDelta: 0,
  staleAfterMs: 0,
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
  severity: DEFAULT_SEVERITY,
  overrides: [],
  maxTags: 100_000,
});

/** Largest spike window: the step is O(window), and a huge window only delays detection. */
export const MAX_SPIKE_WINDOW = 1001;
/** setTimeout's limit (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The numeric settings of a screen, as an editor or a flow gives them. */
export const NUMERIC_KEYS = [
  'lowLimit',
  'highLimit',
  'maxRatePerS',
  'stuckTolerance',
  'stuckSamples',
  'stuckWindowMs',
  'spikeWindow',
  'spikeK',
  'spikeMinDelta',
  'staleAfterMs',
  'maxFutureMs',
] as const;
type NumericKey = (typeof NUMERIC_KEYS)[number];
const OPTIONAL_KEYS: ReadonlySet<string> = new Set(['lowLimit', 'highLimit', 'maxRatePerS']);
const SEVERITY_KEYS = Object.keys(DEFAULT_SEVERITY) as ConfigurableCheck[];

/** A number from a number or a numeric string; blank (undefined, null, '') is `undefined`. */
function readNumber(raw: unknown, name: string, where: string): number | undefined {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return undefined;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(v)) {
    const shown = typeof raw === 'string' ? JSON.stringify(raw.slice(0, 40)) : String(raw);
    badConfig(`${where}${name} must be a finite number, not ${shown}`);
  }
  return v;
}

function checkNumber(name: NumericKey, v: number, where: string): void {
  const int = (lo: number, hi: number, extra = ''): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) badConfig(`${where}${name} must be an integer from ${lo} to ${hi}${extra}, not ${v}`);
  };
  switch (name) {
    case 'maxRatePerS':
    case 'spikeK':
      if (!(v > 0)) badConfig(`${where}${name} must be greater than 0, not ${v}`);
      break;
    case 'stuckTolerance':
    case 'spikeMinDelta':
    case 'stuckWindowMs':
    case 'maxFutureMs':
      if (v < 0) badConfig(`${where}${name} must be 0 or more, not ${v}`);
      break;
    case 'stuckSamples':
      if (v !== 0) int(2, 1e9, ' (or 0 = off)');
      break;
    case 'spikeWindow':
      if (v !== 0) int(3, MAX_SPIKE_WINDOW, ' (or 0 = off)');
      break;
    case 'staleAfterMs':
      if (v !== 0) int(1, MAX_TIMER_MS, ' (or 0 = off)');
      break;
    default:
      break; // lowLimit / highLimit: any finite number
  }
}

function readSeverity(raw: unknown, where: string): Partial<SeverityTable> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) badConfig(`${where}severity must be an object of check → "bad" | "uncertain"`);
  const out: Partial<SeverityTable> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!SEVERITY_KEYS.includes(k as ConfigurableCheck))
      badConfig(`${where}unknown check in severity: ${k} (known: ${SEVERITY_KEYS.join(', ')})`);
    if (v === undefined || v === '') continue;
    if (v !== 'bad' && v !== 'uncertain') badConfig(`${where}severity.${k} must be "bad" or "uncertain", not ${JSON.stringify(v)}`);
    out[k as ConfigurableCheck] = v;
  }
  return out;
}

/** Read the numeric fields present in `raw` (unknown keys are refused so a typo is not ignored). */
function readFields(raw: Record<string, unknown>, where: string, allowed: ReadonlySet<string>): Partial<TagChecks> {
  const out: Partial<TagChecks> & Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) badConfig(`${where}unknown setting ${JSON.stringify(key)}`);
  }
  for (const key of NUMERIC_KEYS) {
    if (!(key in raw)) continue;
    const v = readNumber(raw[key], key, where);
    if (v === undefined) {
      if (OPTIONAL_KEYS.has(key)) out[key] = undefined;
      continue;
    }
    checkNumber(key, v, where);
    out[key] = v;
  }
  return out;
}

function checkLimits(c: TagChecks, where: string): void {
  if (c.lowLimit !== undefined && c.highLimit !== undefined && !(c.lowLimit < c.highLimit)) {
    badConfig(`${where}lowLimit (${c.lowLimit}) must be below highLimit (${c.highLimit})`);
  }
}

const TOP_KEYS = new Set<string>([...NUMERIC_KEYS, 'severity', 'overrides', 'maxTags']);
const OVERRIDE_KEYS = new Set<string>([...NUMERIC_KEYS, 'severity', 'match']);
/** Longest override pattern (they are compiled to regular expressions). */
const MAX_PATTERN_CHARS = 512;

/**
 * Validate a (partial) screening config and fill in the defaults. Numbers may be given as numeric
 * strings (editor fields), blank means "not set". Throws TwinError BAD_CONFIG naming the field.
 */
export function validateScreenConfig(raw: unknown): ScreenConfig {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) badConfig('screen config must be an object');
  const r = raw as Record<string, unknown>;
  const base: TagChecks = {
    ...DEFAULT_SCREEN_CONFIG,
    ...readFields(r, '', TOP_KEYS),
    severity: { ...DEFAULT_SEVERITY, ...readSeverity(r.severity, '') },
  };
  checkLimits(base, '');

  const maxTags = readNumber(r.maxTags, 'maxTags', '') ?? DEFAULT_SCREEN_CONFIG.maxTags;
  if (!Number.isInteger(maxTags) || maxTags < 1) badConfig(`maxTags must be a positive integer, not ${maxTags}`);

  const rawOverrides = r.overrides ?? [];
  if (!Array.isArray(rawOverrides)) badConfig('overrides must be a list');
  const overrides: TagOverride[] = rawOverrides.map((o: unknown, i: number) => {
    const where = `override ${i + 1}: `;
    if (!o || typeof o !== 'object' || Array.isArray(o)) badConfig(`${where}must be an object`);
    const ro = o as Record<string, unknown>;
    if (typeof ro.match !== 'string' || ro.match.trim() === '') badConfig(`${where}match must be a tag name or an asset/tag pattern`);
    if (ro.match.length > MAX_PATTERN_CHARS) badConfig(`${where}match is longer than ${MAX_PATTERN_CHARS} characters`);
    const ov: TagOverride = { ...readFields(ro, where, OVERRIDE_KEYS), match: ro.match.trim() };
    const sev = readSeverity(ro.severity, where);
    if (Object.keys(sev).length > 0) ov.severity = sev;
    checkLimits(resolveTagChecks(base, ov), where + `(${ov.match}) `);
    return ov;
  });
  return { ...base, overrides, maxTags };
}

/** A tag's effective settings: the defaults with the override's fields on top. */
export function resolveTagChecks(base: TagChecks, ov: TagOverride | undefined): TagChecks {
  if (!ov) return base;
  const out: TagChecks & Record<string, unknown> = { ...base, severity: { ...base.severity, ...ov.severity } };
  for (const key of NUMERIC_KEYS) if (key in ov) (out as Record<string, unknown>)[key] = ov[key];
  return out;
}

/** Overrides compiled once: `resolve(asset, tag)` gives the first matching row's settings. */
export function compileOverrides(config: ScreenConfig): (asset: string, tag: string) => TagChecks {
  const rows = config.overrides.map((ov) => ({ test: compileTagPattern(ov.match), checks: resolveTagChecks(config, ov) }));
  const base = resolveTagChecks(config, undefined);
  return (asset, tag) => {
    for (const row of rows) if (row.test(asset, tag)) return row.checks;
    return base;
  };
}
