/**
 * The contract every drift detector in runtime/drift/ implements (ARCHITECTURE.md principle 7): a state
 * object, an init, and a step function. The step MUTATES the state it is given (no allocation per
 * sample, so a detector can take a million readings per second); its result depends only on
 * (state, x, t) — no hidden globals, no clock. `t` is an opaque label (step.ts passes the
 * reading's event time) that a detector records at its change-point candidates, so it can say
 * when a change began without keeping the stream.
 *
 * Univariate detectors take X = number; multivariate ones (Hotelling T², SPE) can register with
 * their own X (a vector) — the registry and this interface are generic in X.
 */
import { TwinError } from '../model/errors.js';

export type DriftMode = 'up' | 'down' | 'both';

/** A detector's best estimate of the change it has just flagged. */
export interface ChangeEstimate {
  /** 0-based index, counted from the detector's last reset, of the first sample of the new regime. */
  startIndex: number;
  /** The label `t` given with that sample (event time, epoch ms, from step.ts). */
  startT: number;
  direction: 'up' | 'down' | 'both';
  /** Mean of the samples before / after the estimated start (NaN where the method has none). */
  meanBefore: number;
  meanAfter: number;
}

export interface Detector<P extends object, S, X = number> {
  /** Registry name, e.g. `page-hinkley`. Used as `DriftEvent.method`. */
  readonly name: string;
  /** Default parameters (River's defaults for the ported detectors). */
  readonly defaults: Readonly<P>;
  /** One line for the editor and docs. */
  readonly describe: string;
  /** Merge `raw` over the defaults and validate; throws TwinError BAD_CONFIG naming the key. */
  params(raw?: unknown): P;
  init(params: P): S;
  /** Feed one sample; MUTATES `state`. Returns true when this sample raised a drift. Assumes finite x. */
  step(state: S, x: X, t?: number): boolean;
  /** The detector's current test statistic and the threshold it is compared against. */
  statistic(state: S): number;
  threshold(state: S): number;
  /** statistic / threshold, so that `>= 1` means "at the alarm level" (0 while warming up). */
  score(state: S): number;
  /** The change estimate; meaningful right after `step` returned true. */
  change(state: S): ChangeEstimate;
  /** Samples seen since the last reset. */
  count(state: S): number;
  /** Detectors with a warning zone (DDM, EDDM, HDDM): true while the last sample was in it. */
  warning?(state: S): boolean;
}

/** Any detector, for the registry and the generic step (step.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each detector has its own params and state types
export type AnyDetector<X = number> = Detector<any, any, X>;

/** `statistic / threshold` with the degenerate threshold (zero spread) mapped to 0 or 1. */
export function ratio(statistic: number, threshold: number): number {
  if (threshold > 0) return statistic / threshold;
  return statistic > 0 ? 1 : 0;
}

// ---- parameter validation helpers (shared by the detector files) ----

export function paramObject(raw: unknown, name: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TwinError('BAD_CONFIG', `${name}: parameters must be an object`);
  return raw as Record<string, unknown>;
}

export function numParam(
  o: Record<string, unknown>,
  key: string,
  dflt: number,
  name: string,
  ok: (v: number) => boolean,
  rule: string,
): number {
  const v = o[key] === undefined ? dflt : o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new TwinError('BAD_CONFIG', `${name}: ${key} must be ${rule}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function intParam(o: Record<string, unknown>, key: string, dflt: number, name: string, min: number): number {
  return numParam(o, key, dflt, name, (v) => Number.isInteger(v) && v >= min, `an integer ≥ ${min}`);
}

export function modeParam(o: Record<string, unknown>, dflt: DriftMode, name: string): DriftMode {
  const v = o.mode === undefined ? dflt : o.mode;
  if (v !== 'up' && v !== 'down' && v !== 'both') {
    throw new TwinError('BAD_CONFIG', `${name}: mode must be 'up', 'down' or 'both', got ${JSON.stringify(v)}`);
  }
  return v;
}

export function boolParam(o: Record<string, unknown>, key: string, dflt: boolean, name: string): boolean {
  const v = o[key] === undefined ? dflt : o[key];
  if (typeof v !== 'boolean') throw new TwinError('BAD_CONFIG', `${name}: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Reject keys a detector does not know (a typo must not silently fall back to a default). */
export function noUnknownKeys(o: Record<string, unknown>, known: readonly string[], name: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new TwinError('BAD_CONFIG', `${name}: unknown parameter '${k}' (known: ${known.join(', ')})`);
  }
}
