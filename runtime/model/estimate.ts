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
  /** Measurement minus prediction at this update (undefined for a pure prediction). */
  innovation?: number;
  /** Normalised innovation squared of this update; ~χ²(1) when the model fits. */
  nis?: number;
  /** Which model produced it, e.g. `kalman/local-level`, `hybrid/first-order+ols`. */
  model: string;
  /** Never better than the inputs it rests on; `uncertain` when the model stops fitting the data. */
  quality: Quality;
  qualityReason?: string;
}
