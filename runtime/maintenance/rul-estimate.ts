/**
 * RulEstimate record (issue 5). Defined here until it moves to runtime/model/ with the other
 * derived records. rulMs is the point forecast; P10/P90 bound where the true RUL fell in 80 % of
 * held-out cases with a similar forecast.
 */
import type { Quality } from '../model/quality.js';

export interface RulEstimate {
  asset: string;
  /** event time of the last reading the estimate rests on */
  tsMs: number;
  rulMs: number;
  rulP10Ms: number;
  rulP90Ms: number;
  /** 1 = as new, 0 = at failure (the model's fused indicator: capped RUL / cap) */
  healthIndex: number;
  quality: Quality;
  qualityReason?: string;
}
