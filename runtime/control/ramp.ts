/**
 * Ramp planning: an approved change larger than the envelope's largest single step is carried out
 * as equal steps, each at most maxStep, spaced so that every step on its own passes the envelope's
 * dwell and rate rules. The spacing rule (requiredGapMs) lives here; checkEnvelope applies the same
 * rule (with a tolerance of a part per million on the step size, never more strict), so a plan made
 * here is never refused for its step sizes or pacing by the check at write time.
 */
import type { EnvelopeConfig } from '../model/control.js';

export interface RampStep {
  value: number;
  /** Wall-clock time (ms) the step is due. */
  atMs: number;
}

/** A plan longer than this is refused (a maxStep tiny against the change is a configuration error). */
export const MAX_RAMP_STEPS = 10_000;

type Pacing = Pick<EnvelopeConfig, 'minDwellMs' | 'rateUpPerMin' | 'rateDownPerMin'>;

/**
 * The least time that must pass after a change before a change from fromValue to toValue:
 * max(minDwellMs, |Δ| / rate · 60000), with the rate of the direction (up or down). 0 for no change.
 */
export function requiredGapMs(env: Pacing, fromValue: number, toValue: number): number {
  const delta = toValue - fromValue;
  if (delta === 0) return 0;
  const ratePerMin = delta > 0 ? env.rateUpPerMin : env.rateDownPerMin;
  return Math.max(env.minDwellMs, (Math.abs(delta) / ratePerMin) * 60_000);
}

/**
 * Equal steps from fromValue to toValue of at most env.maxStep. The first step is due at startMs
 * (the caller has checked dwell against the previous change); each later one after requiredGapMs
 * of the step before it, rounded up to whole milliseconds so integer clocks never fall short.
 * The last value is exactly toValue (no accumulated floating-point drift). No change → [].
 */
export function planRamp(
  env: Pick<EnvelopeConfig, 'maxStep' | 'minDwellMs' | 'rateUpPerMin' | 'rateDownPerMin'>,
  fromValue: number,
  toValue: number,
  startMs: number,
): RampStep[] {
  if (!Number.isFinite(fromValue) || !Number.isFinite(toValue)) throw new RangeError('planRamp: values must be finite');
  if (!(env.maxStep > 0)) throw new RangeError('planRamp: maxStep must be > 0');
  const delta = toValue - fromValue;
  if (delta === 0) return [];
  // Floating-point: from + Δ·i/n can land a hair beyond maxStep from its neighbour when Δ is an
  // exact multiple of maxStep; one more step then leaves room for the rounding.
  for (let n = Math.max(1, Math.ceil(Math.abs(delta) / env.maxStep)); ; n++) {
    if (n > MAX_RAMP_STEPS) throw new RangeError(`planRamp: ${n} steps needed, at most ${MAX_RAMP_STEPS}`);
    const values: number[] = [];
    for (let i = 1; i < n; i++) values.push(fromValue + (delta * i) / n);
    values.push(toValue);
    let prev = fromValue;
    let fits = true;
    for (const v of values) {
      if (Math.abs(v - prev) > env.maxStep) fits = false;
      prev = v;
    }
    if (!fits) continue;
    const steps: RampStep[] = [];
    let atMs = startMs;
    prev = fromValue;
    for (const v of values) {
      if (steps.length > 0) atMs += Math.ceil(requiredGapMs(env, prev, v));
      steps.push({ value: v, atMs });
      prev = v;
    }
    return steps;
  }
}
