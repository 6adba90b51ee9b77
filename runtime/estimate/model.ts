/**
 * What the estimation step (step.ts) needs from a state model. A model owns its state (mean and
 * covariance) and measures one scalar quantity H·x. Implementations mutate in place and expose
 * the by-products of the last update as fields, so the per-reading path allocates nothing.
 */
export interface StateModel {
  /** Model name carried in every Estimate, e.g. `kalman/local-level`. */
  readonly name: string;
  /** State dimension. */
  readonly dim: number;
  /** Start from one measurement z of variance r (slope-like states start diffuse). */
  init(z: number, r: number): void;
  /**
   * Propagate over dtS ≥ 0 seconds of event time with input u (NaN when the model has none or
   * it is not known yet); `qScale` multiplies the process noise (adaptive Q, 1 otherwise).
   */
  predict(dtS: number, u: number, qScale: number): void;
  /** Measurement update with z of variance r (Joseph form); returns the innovation z − H·x⁻. */
  update(z: number, r: number): number;
  /** Innovation variance S of the last update. */
  s: number;
  /** H·P⁻·Hᵀ of the last update (S − r). */
  hph: number;
  /** ‖K‖² of the last update (for innovation-based Q estimation). */
  gainSq: number;
  /** Trace of the unscaled process noise Q added by the last predict. */
  qStep: number;
  /** H·x and its variance H·P·Hᵀ. */
  value(): number;
  variance(): number;
  /** Named components and covariance of multi-state models (undefined for scalar ones). */
  state?(): Record<string, number>;
  covariance?(): number[][];
}

/** Scalar state models share this: the state is the measured quantity itself. */
export interface ScalarParams {
  /** Random-walk variance added to the level per second of event time (unit²/s). */
  levelVarPerS: number;
}
