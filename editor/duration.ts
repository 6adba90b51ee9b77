/**
 * Durations in edit dialogs: a stored number in the field's base unit (most fields hold
 * milliseconds, so flows stay as they are) shown as a number and a unit a person reads.
 * Pure (no DOM): the editor script and the unit tests share it.
 */

export type DurationUnit = 'ms' | 's' | 'min' | 'h' | 'd';

export const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `${VAR}`: set from the environment when the flow starts (prebuilt flows use it). */
export const ENV_REF = /^\$\{\w+\}$/;

export interface Shown {
  /** what the number box shows: a number, or the stored text as it is (`${VAR}`, or not a number) */
  text: string;
  /** null: the value is not a number (the unit does not apply) */
  unit: DurationUnit | null;
}

/** Drop float noise (0.1 h × 3 600 000 = 360000.00000000006) without losing real fractions. */
function tidy(n: number): number {
  return Number(n.toPrecision(12));
}

/**
 * How to show a stored value: the largest offered unit that holds it as a whole number, else the
 * smallest offered unit (as a fraction); 0 and blank use `zeroUnit`.
 */
export function showDuration(stored: unknown, base: DurationUnit, units: readonly DurationUnit[], zeroUnit: DurationUnit): Shown {
  const raw = stored === undefined || stored === null ? '' : String(stored).trim();
  if (raw === '') return { text: '', unit: zeroUnit };
  const n = Number(raw);
  if (ENV_REF.test(raw) || !Number.isFinite(n)) return { text: raw, unit: null };
  if (n === 0) return { text: '0', unit: zeroUnit };
  const ms = n * UNIT_MS[base];
  const sorted = [...units].sort((a, b) => UNIT_MS[b] - UNIT_MS[a]);
  for (const u of sorted) {
    const v = tidy(ms / UNIT_MS[u]);
    if (Number.isInteger(v)) return { text: String(v), unit: u };
  }
  const smallest = sorted[sorted.length - 1];
  return { text: String(tidy(ms / UNIT_MS[smallest])), unit: smallest };
}

/**
 * What to store for what the person typed: the number in the base unit (a string, as Node-RED
 * stores a text box), `${VAR}` and blank unchanged, anything else as typed (the node's own
 * validator then marks it invalid).
 */
export function storeDuration(text: string, unit: DurationUnit, base: DurationUnit): string {
  const t = text.trim();
  if (t === '' || ENV_REF.test(t)) return t;
  const n = Number(t);
  if (!Number.isFinite(n)) return t;
  const v = tidy((n * UNIT_MS[unit]) / UNIT_MS[base]);
  return String(base === 'ms' ? Math.round(v) : v);
}
