/**
 * The sentences a supervisor reads on a proposal: what to change, the predicted effect with its
 * interval, what the constraint is predicted to do, and what the model rests on. Numbers are shown
 * to the precision the model can support (the KPI's residual error), not to 15 digits.
 */
import type { PredictedEffect } from '../model/control.js';
import type { ProposerConfig } from './propose-config.js';

/** Decimals that show a value to about a tenth of its uncertainty. */
export function decimalsFor(uncertainty: number, value: number): number {
  const ref = uncertainty > 0 ? uncertainty : Math.abs(value) / 1000;
  if (!(ref > 0)) return 2;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(ref)) + 1));
}

export function spDecimals(resolution: number): number {
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9)));
}

function withUnit(text: string, unit?: string): string {
  return unit ? `${text} ${unit}` : text;
}

export interface RationaleInput {
  cfg: ProposerConfig;
  currentValue: number;
  proposedValue: number;
  spUnit?: string;
  effect: PredictedEffect;
  /** Residual standard errors of the KPI and constraint models (for the display precision). */
  kpiRmse: number;
  constraintRmse?: number;
  /** The current setpoint is predicted to break the constraint: the change restores it. */
  restoring?: boolean;
  n: number;
  r2: number;
  spMin: number;
  spMax: number;
}

export function rationale(x: RationaleInput): string {
  const { cfg, effect } = x;
  const sd = spDecimals(cfg.spResolution);
  const verb = x.proposedValue < x.currentValue ? 'Lower' : 'Raise';
  const kd = decimalsFor(x.kpiRmse, effect.predictedKpi);
  const k = (v: number) => v.toFixed(kd);
  const interval = `${effect.intervalPct} % PI ${k(effect.lowKpi)}–${k(effect.highKpi)}`;
  const change = `${k(effect.currentKpi)} → ${withUnit(k(effect.predictedKpi), effect.kpiUnit)}`;
  let what: string;
  if (cfg.mode === 'target') {
    what = `predicted ${cfg.kpiTag} ${change} (target ${k(cfg.kpiTarget!)}, ${interval})`;
  } else {
    const pct = effect.currentKpi !== 0 ? ((effect.predictedKpi - effect.currentKpi) / Math.abs(effect.currentKpi)) * 100 : undefined;
    const shown = pct === undefined ? '' : ` ${pct < 0 ? '−' : '+'}${Math.abs(pct).toFixed(1)} %`;
    what = `predicted ${cfg.kpiTag}${shown} (${change}, ${interval})`;
  }
  if (effect.changeLowKpi !== undefined && effect.changeHighKpi !== undefined) {
    const signed = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(kd)}`;
    what += `; mean change ${signed(effect.predictedKpi - effect.currentKpi)} (${effect.intervalPct} % CI ${signed(effect.changeLowKpi)} to ${signed(effect.changeHighKpi)})`;
  }
  let s = `${verb} ${cfg.setpointTag} from ${x.currentValue.toFixed(sd)} to ${withUnit(x.proposedValue.toFixed(sd), x.spUnit)}: ${what}`;
  const c = effect.others?.[0];
  if (c) {
    const cd = decimalsFor(x.constraintRmse ?? 0, c.predictedKpi);
    const bounds = [
      cfg.constraintMin !== undefined ? `≥ ${cfg.constraintMin}` : undefined,
      cfg.constraintMax !== undefined ? `≤ ${cfg.constraintMax}` : undefined,
    ]
      .filter(Boolean)
      .join(' and ');
    s += `${x.restoring ? ` to bring ${c.kpiTag} back ${bounds} (now predicted ${c.currentKpi.toFixed(cd)}; predicted` : ` while ${c.kpiTag} stays ${bounds} (predicted`} ${withUnit(c.predictedKpi.toFixed(cd), c.kpiUnit)}, ${c.intervalPct} % PI ${c.lowKpi.toFixed(cd)}–${c.highKpi.toFixed(cd)})`;
  }
  s += `. Model: ${cfg.model} fit of ${x.n} samples over ${x.spMin.toFixed(sd)}–${withUnit(x.spMax.toFixed(sd), x.spUnit)}, r² ${x.r2.toFixed(2)}.`;
  return s;
}
