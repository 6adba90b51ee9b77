/**
 * Hysteresis for maintenance recommendations: estimates move a little with every reading, and a
 * supervisor must not see the proposed window hop between Saturday and Tuesday as they do.
 *
 * The standing window (the one last proposed) is kept, re-costed under the new estimate, unless
 * - it is no longer feasible (it has started, its risk is above the limit, it now takes production
 *   that is not allowed), or
 * - the new best window is cheaper than it by MORE than both absoluteMarginEur and
 *   relativeMargin × its re-costed expected cost.
 * Only then is a new proposal emitted (superseding the standing one).
 */
import { TwinError } from '../model/errors.js';
import type { MaintenanceWindow } from '../model/maintenance.js';
import type { Reevaluated } from './window-ranking.js';
import { formatEur } from '../model/money.js';

export interface StabilityOptions {
  /** fraction of the standing window's expected cost a new one must save, e.g. 0.1 */
  relativeMargin: number;
  /** euros a new window must save, e.g. 200 */
  absoluteMarginEur: number;
}

export interface StabilityDecision {
  /** true: propose `window` (new or changed materially) */
  emit: boolean;
  /** what stands after this decision: the new best, the standing one re-costed, or null */
  window: MaintenanceWindow | null;
  reason: string;
}

export function validateStabilityOptions(o: StabilityOptions): StabilityOptions {
  for (const k of ['relativeMargin', 'absoluteMarginEur'] as const) {
    const v = o?.[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TwinError('BAD_CONFIG', `maintenance stability: ${k} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  }
  return o;
}

const sameSpan = (a: MaintenanceWindow, b: MaintenanceWindow): boolean => a.startMs === b.startMs && a.endMs === b.endMs;

/**
 * standing: the window last proposed (null: none yet); standingNow: it re-costed by
 * evaluateWindow under the new estimate; best: rank 1 of the new ranking (null: none feasible).
 */
export function decideRecommendation(
  standing: MaintenanceWindow | null,
  standingNow: Reevaluated | null,
  best: MaintenanceWindow | null,
  opts: StabilityOptions,
): StabilityDecision {
  validateStabilityOptions(opts);
  if (!standing || !standingNow) {
    return best
      ? { emit: true, window: best, reason: 'first recommendation' }
      : { emit: false, window: null, reason: 'no feasible window' };
  }
  if (!standingNow.window) {
    return best
      ? { emit: true, window: best, reason: `${standingNow.infeasible}: replaced` }
      : { emit: false, window: null, reason: `${standingNow.infeasible}, and no other window is feasible` };
  }
  const now = standingNow.window;
  if (!best || sameSpan(best, standing)) return { emit: false, window: now, reason: 'standing window is still the best' };
  const savingEur = now.expectedCostEur - best.expectedCostEur;
  const neededEur = Math.max(opts.absoluteMarginEur, opts.relativeMargin * now.expectedCostEur);
  const saving = `${formatEur(savingEur)} (${now.expectedCostEur > 0 ? ((100 * savingEur) / now.expectedCostEur).toFixed(1) : '∞'} %)`;
  if (savingEur <= 0) return { emit: false, window: now, reason: 'kept: no other window is cheaper' };
  if (savingEur > neededEur)
    return {
      emit: true,
      window: best,
      reason: `a new window saves ${saving} of expected cost, more than the margin ${formatEur(neededEur)}`,
    };
  return { emit: false, window: now, reason: `kept: the best alternative saves ${saving}, within the margin ${formatEur(neededEur)}` };
}
