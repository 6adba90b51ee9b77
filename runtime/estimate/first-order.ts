/**
 * First-order process driven by an input: x' = (gain·u − x)/tauS + w, e.g. a heater zone whose
 * temperature lags its setpoint u. Discretised exactly over each event-time step dt (u held
 * constant over the step, as a PLC setpoint is):
 *   a = e^(−dt/τ),  x⁻ = a·x + (1 − a)·gain·u,  q = levelVarPerS·τ/2·(1 − a²)
 * (the variance that continuous white noise of density levelVarPerS accumulates through the lag;
 * → levelVarPerS·dt for dt ≪ τ). With u unknown (no input reading yet) the level is held (a = 1)
 * and grows like a random walk; the step marks such estimates uncertain.
 */
import { kf1Predict, kf1Update, type Kf1 } from './kalman1d.js';
import type { ScalarParams, StateModel } from './model.js';

export interface FirstOrderParams extends ScalarParams {
  /** Steady-state gain from input to output (1 for a temperature following its setpoint). */
  gain: number;
  /** Time constant, seconds. */
  tauS: number;
}

/** The exact discretisation over dtS: [a, b] with x⁻ = a·x + b, and the step's process variance. */
export function firstOrderStep(p: FirstOrderParams, dtS: number, u: number): { a: number; b: number; q: number } {
  if (Number.isNaN(u)) return { a: 1, b: 0, q: p.levelVarPerS * dtS };
  const a = Math.exp(-dtS / p.tauS);
  return { a, b: (1 - a) * p.gain * u, q: p.levelVarPerS * (p.tauS / 2) * (1 - a * a) };
}

export class FirstOrder implements StateModel, Kf1 {
  readonly name: string = 'kalman/first-order';
  readonly dim = 1;
  x = 0;
  p = 0;
  s = NaN;
  k = NaN;
  hph = NaN;
  gainSq = NaN;
  qStep = 0;
  readonly params: FirstOrderParams;

  constructor(params: FirstOrderParams) {
    this.params = params;
  }

  init(z: number, r: number): void {
    this.x = z;
    this.p = r;
  }

  predict(dtS: number, u: number, qScale: number): void {
    const { levelVarPerS, tauS, gain } = this.params;
    let a = 1;
    let b = 0;
    let q = levelVarPerS * dtS;
    if (!Number.isNaN(u)) {
      a = Math.exp(-dtS / tauS);
      b = (1 - a) * gain * u;
      q = levelVarPerS * (tauS / 2) * (1 - a * a);
    }
    this.qStep = q;
    kf1Predict(this, a, b, q * qScale);
  }

  update(z: number, r: number): number {
    this.hph = this.p;
    const nu = kf1Update(this, z, r);
    this.gainSq = this.k * this.k;
    return nu;
  }

  value(): number {
    return this.x;
  }

  variance(): number {
    return this.p;
  }
}
