/**
 * The running demand block of one asset and the billing period's peak, with an alert BEFORE a block
 * closes above the peak.
 *
 * Blocks of blockMinutes are laid on the local clock of the tariff's zone (xx:00, xx:15, … for 15
 * minutes) and cut at a DST transition (a whole-hour shift keeps quarter hours aligned). A block's
 * average is its energy over the NOMINAL block length (missing data counts as zero), as bill.ts
 * and a utility's block meter do. The billing period is the local calendar month.
 *
 * Forecast of the block's end value (left-hold, as the integrator): the present power continues
 * for the rest of the block:
 *   forecastKw = (energy so far + presentKw × time left) / block length.
 * Without a present power (counter mode before two readings, after a bad reading) the average so far
 * continues, and the status says so (quality uncertain).
 * Alert: forecastKw > threshold × (1 + alertMarginFrac), threshold = max(billing peak so far,
 * alertFloorKw); the margin (default 2 %) keeps a steady load, whose blocks all come out within
 * noise of the peak, from alerting every other block. With no closed
 * block fully covered by data in the billing period (partial blocks understate their average) and
 * no floor there is no peak to protect, so no alert.
 * shedKw: the cut in power for the rest of the block that brings the block to the threshold:
 *   (forecastKw − threshold) × block length / time left. More than the present power means the
 *   peak can no longer be avoided.
 */
import type { DemandStatus } from '../model/energy.js';
import { TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';
import { localParts, nextLocalBoundaryMs, offsetMsAt } from '../time/zoned.js';
import { type Span, prorate } from './energy-integrator.js';

const MIN_MS = 60_000;
const H_MS = 3_600_000;

/** The instant of a local wall time (local midnight of a date + minutes) in a zone. */
export function localInstant(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wallMs = Date.UTC(year, month - 1, day) + minuteOfDay * MIN_MS;
  const guess = wallMs - offsetMsAt(wallMs, timeZone);
  return wallMs - offsetMsAt(guess, timeZone);
}

/** Local minutes 0, m, 2m, … < 1440 (m must divide 1440). */
export function clockMinutes(minutes: number): number[] {
  if (!Number.isInteger(minutes) || minutes <= 0 || 1440 % minutes !== 0) {
    throw new TwinError(
      'BAD_CONFIG',
      `a clock-aligned length must be a whole number of minutes dividing 1440 (5, 15, 30, 60, …), got ${minutes}`,
    );
  }
  const out: number[] = [];
  for (let m = 0; m <= 1440; m += minutes) out.push(m);
  return out;
}

/**
 * [startMs, endMs) of the clock-aligned block holding tsMs: the boundaries are the local minutes
 * in `boundaries` and DST transitions (as nextLocalBoundaryMs cuts).
 */
export function localBlock(
  tsMs: number,
  timeZone: string,
  minutes: number,
  boundaries: readonly number[],
): { startMs: number; endMs: number } {
  const lp = localParts(tsMs, timeZone);
  const intoMs = ((lp.minuteOfDay % minutes) * 60 + lp.second) * 1000 + (((tsMs % 1000) + 1000) % 1000);
  let startMs = tsMs - intoMs;
  if (offsetMsAt(startMs, timeZone) !== lp.offsetMs) {
    // A transition lies between: the block starts at it.
    let lo = startMs;
    let hi = tsMs;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetMsAt(mid, timeZone) === lp.offsetMs) hi = mid;
      else lo = mid;
    }
    startMs = hi;
  }
  return { startMs, endMs: nextLocalBoundaryMs(tsMs, timeZone, boundaries) };
}

/** [start, end) of the local calendar month holding tsMs. */
export function localMonth(tsMs: number, timeZone: string): { startMs: number; endMs: number } {
  const lp = localParts(tsMs, timeZone);
  const next = lp.month === 12 ? [lp.year + 1, 1] : [lp.year, lp.month + 1];
  return { startMs: localInstant(lp.year, lp.month, 1, 0, timeZone), endMs: localInstant(next[0], next[1], 1, 0, timeZone) };
}

export interface DemandConfig {
  timeZone: string;
  blockMinutes: number;
  /** no alert below this block average (kW); also the threshold early in a billing period */
  alertFloorKw?: number;
  /** the forecast must exceed the threshold by this fraction to alert; default 0.02 */
  alertMarginFrac?: number;
  /** the tariff's demand charge, to show the billing period's charge so far */
  demandChargeEurPerKw?: number;
}

interface Block {
  startMs: number;
  endMs: number;
  kwh: number;
  gapMs: number;
  /** time covered by spans, gaps included */
  spannedMs: number;
  /** the billing month it belongs to (looked up once: Intl calls are the costly part) */
  month: { startMs: number; endMs: number };
  reasons: Set<string>;
}

export class DemandTracker {
  private readonly boundaries: number[];
  private readonly blockMs: number;
  private block: Block | null = null;
  /** the tariff's demand charge (a tariff update changes it) */
  demandChargeEurPerKw: number;
  private billing: { startMs: number; endMs: number; peakKw: number; peakBlockStartMs: number | null } | null = null;

  constructor(private readonly cfg: DemandConfig) {
    this.boundaries = clockMinutes(cfg.blockMinutes);
    this.blockMs = cfg.blockMinutes * MIN_MS;
    this.demandChargeEurPerKw = cfg.demandChargeEurPerKw ?? 0;
    if (cfg.alertFloorKw !== undefined && !(cfg.alertFloorKw >= 0))
      throw new TwinError('BAD_CONFIG', `alert floor must be ≥ 0 kW, got ${cfg.alertFloorKw}`);
    if (cfg.alertMarginFrac !== undefined && !(cfg.alertMarginFrac >= 0))
      throw new TwinError('BAD_CONFIG', `alert margin must be ≥ 0, got ${cfg.alertMarginFrac}`);
  }

  /** Peak of the billing period so far (closed blocks), and where it was. */
  get billingPeak(): { kw: number; blockStartMs: number | null } {
    return { kw: this.billing?.peakKw ?? 0, blockStartMs: this.billing?.peakBlockStartMs ?? null };
  }

  /** Add an energy span (kWh); blocks it passes the end of are closed. Spans come in time order. */
  add(span: Span): void {
    let t = span.startMs;
    while (t < span.endMs) {
      const b = this.blockAt(t);
      const piece = prorate(span, b.startMs, b.endMs)!;
      b.spannedMs += piece.endMs - piece.startMs;
      if (piece.gap) b.gapMs += piece.endMs - piece.startMs;
      else b.kwh += piece.amount;
      if (piece.reason) b.reasons.add(piece.reason);
      t = piece.endMs;
    }
  }

  /** The block holding tsMs (closing the one before when tsMs is past its end). */
  private blockAt(tsMs: number): Block {
    if (this.block && tsMs < this.block.endMs) return this.block;
    if (this.block) this.close(this.block);
    const { startMs, endMs } = localBlock(tsMs, this.cfg.timeZone, this.cfg.blockMinutes, this.boundaries);
    const m =
      this.billing && startMs >= this.billing.startMs && startMs < this.billing.endMs
        ? this.billing
        : localMonth(startMs, this.cfg.timeZone);
    this.block = { startMs, endMs, kwh: 0, gapMs: 0, spannedMs: 0, reasons: new Set(), month: { startMs: m.startMs, endMs: m.endMs } };
    return this.block;
  }

  private close(b: Block): void {
    const kw = b.kwh / (this.blockMs / H_MS);
    if (!this.billing || b.startMs >= this.billing.endMs) this.billing = { ...b.month, peakKw: 0, peakBlockStartMs: null };
    // Only a block fully covered by data is a peak to protect: a partial one (the first after a
    // start, one with a gap) understates its average and would make the next ordinary block alert.
    if (b.gapMs > 0 || b.spannedMs < b.endMs - b.startMs) return;
    if (this.billing.peakBlockStartMs === null || kw > this.billing.peakKw) {
      this.billing.peakKw = kw;
      this.billing.peakBlockStartMs = b.startMs;
    }
  }

  /** The status at tsMs (the end of the last span added), with the present power if known. */
  status(asset: string, tsMs: number, presentKw: number | null): DemandStatus {
    const b = this.blockAt(tsMs);
    const month = b.month;
    const samePeriod = this.billing !== null && this.billing.startMs === month.startMs;
    const peakKw = samePeriod ? this.billing!.peakKw : 0;
    const havePeak = samePeriod && this.billing!.peakBlockStartMs !== null;
    const elapsedMs = tsMs - b.startMs;
    const leftMs = b.endMs - tsMs;
    const averageKwSoFar = elapsedMs > 0 ? b.kwh / (elapsedMs / H_MS) : 0;
    const kw = presentKw ?? averageKwSoFar;
    const forecastKw = (b.kwh + (kw * leftMs) / H_MS) / (this.blockMs / H_MS);
    const floor = this.cfg.alertFloorKw ?? 0;
    const thresholdKw = Math.max(peakKw, floor);
    const alert = (havePeak || floor > 0) && forecastKw > thresholdKw * (1 + (this.cfg.alertMarginFrac ?? 0.02));
    const reasons = [...b.reasons];
    if (presentKw === null) reasons.push('no present power: the average so far is assumed to continue');
    // Time of the block no span reached (before the first reading) has no data either.
    const gapMs = b.gapMs + Math.max(0, elapsedMs - b.spannedMs);
    if (gapMs > 0) reasons.push(`no data for ${Math.round(gapMs / 1000)} s of the block`);
    const quality: Quality = reasons.length ? 'uncertain' : 'good';
    return {
      asset,
      tsMs,
      blockStartMs: b.startMs,
      blockEndMs: b.endMs,
      averageKwSoFar,
      forecastKw,
      billingPeakKw: peakKw,
      alert,
      shedKw: alert ? ((forecastKw - thresholdKw) * this.blockMs) / leftMs : 0,
      thresholdKw,
      demandChargeEur: peakKw * this.demandChargeEurPerKw,
      billingPeriodStartMs: month.startMs,
      quality,
      ...(reasons.length ? { qualityReason: reasons.join('; ') } : {}),
    };
  }
}
