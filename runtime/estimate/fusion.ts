/**
 * Fusion of several sensors that measure the same quantity with different noise (say two
 * thermocouples in one zone). One local-level state per asset (tag = `fusedTag`); each sensor is a
 * measurement channel with its own R (and, with adaptive R on, its own adapted R), applied
 * sequentially in event time as its readings arrive: a scalar Kalman update with R_i weighs each
 * sensor by its precision, and two simultaneous readings give the inverse-variance weighted mean
 *   x = (z₁/R₁ + z₂/R₂) / (1/R₁ + 1/R₂),  P = 1/(1/R₁ + 1/R₂)
 * (the sequential form of the joint update, exact for independent sensor noise). A bad sensor
 * reading is skipped (the others carry the estimate); readings of one sensor must be in order,
 * readings of different sensors may share a timestamp.
 *
 * The routing and channels live in step.ts; this file gives the closed form used to check it.
 */
export function inverseVarianceMean(zs: number[], rs: number[]): { value: number; variance: number } {
  let w = 0;
  let wz = 0;
  for (let i = 0; i < zs.length; i++) {
    w += 1 / rs[i];
    wz += zs[i] / rs[i];
  }
  return { value: wz / w, variance: 1 / w };
}
