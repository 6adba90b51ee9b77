/**
 * CONTRACT STUB (helper B fills it in): degradation-trend RUL with ml-regression. A health indicator
 * from one or several degradation signals, its trend over the asset's recent history fitted by
 * linear, exponential or Theil-Sen regression (robust where outliers are likely), extrapolated to the
 * failure threshold learned from run-to-failure history; P10/P90 from out-of-fold residuals.
 */
import type { Quality } from '../model/quality.js';
import type { RulEstimate } from '../model/maintenance.js';
import type { UnitHistory } from './health-index.js';

export type TrendMethod = 'linear' | 'exponential' | 'theil-sen';

export interface TrendFitOptions {
  /** trend method; 'auto' picks the one with the lowest out-of-fold RMSE */
  method?: TrendMethod | 'auto';
  /** channels that make the health indicator (default: all that trend with time to failure) */
  signals?: string[];
  /** RUL cap, as for the other models (early-life wear is not observable) */
  rulCapMs: number;
  seed?: number;
}

export interface TrendModel {
  kind: 'rul-trend';
  version: 1;
  rulCapMs: number;
  method: TrendMethod;
  [key: string]: unknown;
}

export function fitTrendModel(_units: UnitHistory[], _options: TrendFitOptions): TrendModel {
  throw new Error('rul-trend: not implemented yet');
}

export function estimateRulTrend(_model: TrendModel, _history: UnitHistory, _inputQuality: Quality = 'good'): RulEstimate {
  throw new Error('rul-trend: not implemented yet');
}
