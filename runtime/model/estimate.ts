import { TwinError } from './errors.js';
import type { Quality } from './quality.js';

/**
 * The estimated (hidden) state of one tag of one asset at one event time, with its uncertainty.
 * Emitted by twin-estimate; consumed by drift detection, forecasting and proposals.
 */
export interface Estimate {
  asset: string;
  tag: string;
  /** Event time of the measurement this estimate was updated with (or predicted to), epoch ms. */
  tsMs: number;
  /** The estimate of the measured quantity (the filter's output H·x). */
  value: number;
  /** Variance of `value` (same unit squared). */
  variance: number;
  unit?: string;
  /** Named state components for multi-state models, e.g. `{ level, slopePerS }`. */
  state?: Record<string, number>;
  /** Full state covariance, row-major, for multi-state models. */
  covariance?: number[][];
  /**
   * The one-step-ahead prediction of the measurement (H·x⁻, with the known inputs, e.g. a setpoint,
   * up to this reading): what the twin expected the sensor to read. Set with `innovation`; the
   * measured value is `predicted + innovation`.
   */
  predicted?: number;
  /** Measurement minus prediction at this update (undefined for a pure prediction). */
  innovation?: number;
  /**
   * Variance S = H·P⁻·Hᵀ + R of the innovation under the model (same unit squared): the twin's own
   * uncertainty about this reading before it came. innovation / √S is ~N(0, 1) when the model fits.
   */
  innovationVar?: number;
  /** Normalised innovation squared of this update; ~χ²(1) when the model fits. */
  nis?: number;
  /** Which model produced it, e.g. `kalman/local-level`, `hybrid/first-order+ols`. */
  model: string;
  /** Never better than the inputs it rests on; `uncertain` when the model stops fitting the data. */
  quality: Quality;
  qualityReason?: string;
}

/** An Estimate has `model` and `variance`; anything else must be a Reading. */
export function isEstimateLike(x: unknown): boolean {
  return !!x && typeof x === 'object' && 'model' in x && 'variance' in x;
}

/** Runtime check that an unknown value is a well-formed Estimate (for node inputs). */
export function assertEstimate(x: unknown): asserts x is Estimate {
  const e = x as Partial<Estimate>;
  if (typeof e.asset !== 'string' || e.asset === '') throw new TwinError('BAD_PAYLOAD', 'Estimate.asset must be a non-empty string');
  if (typeof e.tag !== 'string' || e.tag === '') throw new TwinError('BAD_PAYLOAD', 'Estimate.tag must be a non-empty string');
  if (typeof e.value !== 'number') throw new TwinError('NOT_NUMERIC', `Estimate.value is not a number: ${typeof e.value}`);
  if (!Number.isFinite(e.value)) throw new TwinError('NOT_FINITE', `Estimate.value is not finite: ${e.value}`);
  if (typeof e.tsMs !== 'number' || !Number.isFinite(e.tsMs))
    throw new TwinError('BAD_TIMESTAMP', 'Estimate.tsMs must be epoch milliseconds');
  if (e.quality !== 'good' && e.quality !== 'uncertain' && e.quality !== 'bad') {
    throw new TwinError('BAD_PAYLOAD', `Estimate.quality must be good, uncertain or bad, not ${String(e.quality)}`);
  }
}
