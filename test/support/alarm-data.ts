/** Readings that raise one alarm episode with twin-alarm's defaults (the node spec and the overview's alarm spec). */
import { gauss } from './drift-mv-data.js';

/** Event time of reading 0: a fixed day, so nothing depends on today's date. */
export const ALARM_T0 = Date.UTC(2026, 0, 1);
export const ALARM_STEP_MS = 1000;

export function alarmReading(asset: string, tag: string, i: number, value: unknown, extra: Record<string, unknown> = {}) {
  return { asset, tag, value, tsMs: ALARM_T0 + i * ALARM_STEP_MS, quality: 'good', source: 'test', ...extra };
}

/** A runaway above normal (3·1.08^k, k seconds into it). */
export const runaway = (k: number): number => 3 * Math.pow(1.08, k);

/**
 * 1 Hz melt_temp readings from..to (exclusive): noise σ 1 around 50, the runaway for 200 s from
 * reading 600: longer than a learned-baseline tag's 120 s on-delay.
 */
export function meltReadings(asset: string, from: number, to: number): Record<string, unknown>[] {
  const g = gauss(1);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < to; i++) {
    const v = 50 + g() + (i >= 600 && i < 800 ? runaway(i - 600) : 0);
    if (i >= from) out.push(alarmReading(asset, 'melt_temp', i, v));
  }
  return out;
}
