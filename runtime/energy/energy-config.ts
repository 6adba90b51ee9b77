/**
 * twin-energy's editor fields (strings from the form) → the energy engine's config, checked: pure
 * validation, so it lives beside the engine and is unit-tested without Node-RED.
 */
import { parseShifts } from './cost-rollup.js';
import type { EnergyEngineConfig } from './energy-engine.js';
import { TwinError } from '../model/errors.js';

/** Editor fields (strings from the form) → config; throws BAD_CONFIG naming the field. */
export function engineConfigFromDef(def: Record<string, unknown>): EnergyEngineConfig {
  const text = (k: string): string => (def[k] === undefined || def[k] === null ? '' : String(def[k]).trim());
  const num = (k: string, fallback: number | undefined, ok: (n: number) => boolean, want: string): number | undefined => {
    const s = text(k);
    if (s === '') return fallback;
    const n = Number(s);
    if (!Number.isFinite(n) || !ok(n)) throw new TwinError('BAD_CONFIG', `${k} must be ${want}, got ${JSON.stringify(def[k])}`);
    return n;
  };
  const mode = text('mode') || 'power';
  if (mode !== 'power' && mode !== 'counter')
    throw new TwinError('BAD_CONFIG', `mode must be 'power' or 'counter', got ${JSON.stringify(def.mode)}`);
  const energyTag = mode === 'power' ? text('powerTag') : text('counterTag');
  if (!energyTag) throw new TwinError('BAD_CONFIG', `${mode === 'power' ? 'powerTag' : 'counterTag'} is required in ${mode} mode`);
  const positive = (n: number) => n > 0;
  const wholeMinutes = (n: number) => Number.isInteger(n) && n > 0 && 1440 % n === 0;
  const cfg: EnergyEngineConfig = {
    mode,
    energyTag,
    counterModulusKwh: num('counterModulusKwh', undefined, positive, 'a number > 0 (blank = no rollover)'),
    reactiveTag: text('reactiveTag') || undefined,
    unitsTag: text('unitsTag') || undefined,
    unitsModulus: num('unitsModulus', undefined, positive, 'a number > 0 (blank = no rollover)'),
    unitName: text('unitName') || undefined,
    batchTag: text('batchTag') || undefined,
    intervalMinutes: num('intervalMin', 15, wholeMinutes, 'whole minutes dividing a day (5, 15, 30, 60, …)')!,
    demandBlockMinutes: num('demandBlockMin', undefined, wholeMinutes, "whole minutes dividing a day (blank = the tariff's)"),
    alertFloorKw: num('alertFloorKw', 0, (n) => n >= 0, 'a number ≥ 0')!,
    alertMarginPct: num('alertMarginPct', 2, (n) => n >= 0, 'a percentage ≥ 0')!,
    maxGapMs: num('maxGapMs', 300_000, positive, 'a number of ms > 0')!,
    demandEveryMs: num('demandEveryMs', 60_000, (n) => n >= 0, 'a number of ms ≥ 0')!,
    shifts: parseShifts(text('shifts')),
  };
  const variables = text('baselineVars')
    .split(/[,;\s]+/)
    .filter((s) => s !== '');
  const periods = num('baselinePeriods', 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0 (0 = no baseline)')!;
  if (periods > 0) {
    if (cfg.shifts.length === 0) throw new TwinError('BAD_CONFIG', 'the baseline compares shifts: give shifts (e.g. "00:00 day" for days)');
    if (variables.length === 0) throw new TwinError('BAD_CONFIG', 'the baseline needs at least one variable (units and/or tag names)');
    if (variables.includes('units') && !cfg.unitsTag) throw new TwinError('BAD_CONFIG', "baseline variable 'units' needs a units tag");
    cfg.baseline = { variables, baselinePeriods: periods };
  }
  return cfg;
}
