/**
 * P(the asset fails before t) from a RulEstimate's P10 / P50 / P90, in event time from its tsMs.
 *
 * Form: a split (two-piece) log-normal. ln RUL is normal around ln P50 with one spread below the
 * median, fitted through P10, and another above, fitted through P90:
 *   F(t) = Φ((ln Δ − ln P50) / σ),  Δ = t − tsMs,  σ = σlo = ln(P50/P10)/z90 below P50,
 *                                                  σ = σhi = ln(P90/P50)/z90 above,
 * z90 = Φ⁻¹(0.9) ≈ 1.2816. Why this form:
 * - it passes exactly through the three quantiles the model gives (a single log-normal cannot when
 *   they are not symmetric in log time, and RUL intervals often are not);
 * - RUL is positive and right-skewed, as lifetimes are (log-normal is a standard life model);
 * - its tails are smooth and never exactly 0 or 1: interpolating linearly between the quantiles
 *   would say "no risk at all before P10 − ε", and the ranking would then happily wait right up to
 *   that point. F rises monotonically, so waiting longer never looks safer.
 * A P10 ≤ 0 (the model gives ≥ 10 % that the asset is at end of life now) is read as P50 / 100:
 * 10 % of the failures come in the first hundredth of the median life. A P50 ≤ 0 means failure
 * is due: F = 1 for every t after tsMs.
 */
import { TwinError } from '../model/errors.js';
import type { RulEstimate } from '../model/maintenance.js';
import { normalCdf } from '../stats/index.js';

const Z90 = 1.2815515655446004;

export interface FailureDistribution {
  /** event time the estimate applies at */
  tsMs: number;
  p10Ms: number;
  p50Ms: number;
  p90Ms: number;
  /** log-spread below and above the median; 0 = a sharp edge at P50 */
  sigmaLo: number;
  sigmaHi: number;
}

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number') throw new TwinError('BAD_PAYLOAD', `RulEstimate.${what} must be a number, got ${JSON.stringify(x)}`);
  if (!Number.isFinite(x)) throw new TwinError('NOT_FINITE', `RulEstimate.${what} is not finite: ${x}`);
  return x;
}

/** The distribution of a RUL estimate; throws BAD_PAYLOAD / NOT_FINITE for quantiles out of order. */
export function failureDistribution(rul: Pick<RulEstimate, 'tsMs' | 'rulMs' | 'rulP10Ms' | 'rulP90Ms'>): FailureDistribution {
  const tsMs = finite(rul.tsMs, 'tsMs');
  const p50Ms = finite(rul.rulMs, 'rulMs');
  const p10Raw = finite(rul.rulP10Ms, 'rulP10Ms');
  const p90Ms = finite(rul.rulP90Ms, 'rulP90Ms');
  if (p10Raw > p90Ms) throw new TwinError('BAD_PAYLOAD', `RulEstimate: rulP10Ms ${p10Raw} is above rulP90Ms ${p90Ms}`);
  if (p50Ms < p10Raw || p50Ms > p90Ms)
    throw new TwinError('BAD_PAYLOAD', `RulEstimate: rulMs ${p50Ms} is outside rulP10Ms..rulP90Ms (${p10Raw}..${p90Ms})`);
  if (p50Ms <= 0) return { tsMs, p10Ms: 0, p50Ms: 0, p90Ms: Math.max(p90Ms, 0), sigmaLo: 0, sigmaHi: 0 };
  const p10Ms = p10Raw > 0 ? p10Raw : p50Ms / 100;
  return { tsMs, p10Ms, p50Ms, p90Ms, sigmaLo: Math.log(p50Ms / p10Ms) / Z90, sigmaHi: Math.log(p90Ms / p50Ms) / Z90 };
}

/** P(failure before tMs); 0 at or before tsMs (the asset runs then). */
export function failureProbabilityBefore(d: FailureDistribution, tMs: number): number {
  const dtMs = tMs - d.tsMs;
  if (dtMs <= 0) return 0;
  if (d.p50Ms <= 0) return 1;
  const z = Math.log(dtMs / d.p50Ms);
  if (z === 0) return 0.5;
  const sigma = z < 0 ? d.sigmaLo : d.sigmaHi;
  if (sigma === 0) return z < 0 ? 0 : 1;
  return normalCdf(z / sigma);
}
