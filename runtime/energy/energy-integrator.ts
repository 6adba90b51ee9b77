/**
 * Energy from the readings of one asset's tag: a rate (power kW, reactive power kvar) or a counter
 * (energy kWh, reactive kvarh, units produced). Each accepted reading closes the span since the
 * previous one and returns it; the caller prorates spans into intervals, price periods and blocks
 * (`prorate`), which is exact because a span's quantity is spread evenly over it.
 *
 * Rate: LEFT-HOLD (sample and hold). A value holds until the next reading, so the span
 * [previous tsMs, tsMs) gets previous value × duration. This is what report-by-exception sources
 * (OPC UA deadband, MQTT on change) mean by a value, and it makes the spread over a span exactly even;
 * the trapezoid would assume a ramp the source never reported. A span longer than maxGapMs is not
 * integrated: it is returned as a gap (no quantity, its time counted as unknown). A bad-quality
 * reading's value is not used: the span after it is a gap. An uncertain one gives an uncertain span.
 *
 * Counter: the increase between two readings, spread evenly over the span. When the counter falls:
 *  - ROLLOVER: with a modulus M, previous ≥ (1 − band)·M and value < band·M (band 10 %): the increase
 *    is M − previous + value;
 *  - RESET (meter replaced or zeroed): the value falls to at most resetFraction (10 %) of the
 *    previous one: the quantity across the reset is not known, the span is a gap marked 'counter reset'
 *    and the reset is counted;
 *  - otherwise the counter went backwards: a TwinError('BAD_PAYLOAD'), nothing applied.
 * A counter span longer than maxGapMs keeps its increase (the counter knows the total) but is
 * marked uncertain: how it was spread in time is a guess. A bad-quality counter reading is ignored.
 * A counter's present rate is its increase over the last rateWindowMs (60 s): over one reading a
 * counter's resolution would dominate (0.001 kWh a second is ±3.6 kW).
 */
import { TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';

export type IntegratorMode = 'rate' | 'counter';

export interface IntegratorConfig {
  mode: IntegratorMode;
  /** what is measured, for messages: 'power', 'energy counter', 'units counter' */
  what: string;
  unit: string;
  /** longest span integrated (rate) or trusted (counter); default 300 000 */
  maxGapMs?: number;
  /** counter modulus (the value it rolls over at); absent = never rolls over */
  modulus?: number;
  /** counter: the window its present rate is measured over; default 60 000 */
  rateWindowMs?: number;
}

export interface Span {
  startMs: number;
  endMs: number;
  /** quantity over the span (kWh, kvarh, units); 0 for a gap */
  amount: number;
  /** true when the quantity over the span is not known (not integrated) */
  gap: boolean;
  quality: Quality;
  reason?: string;
  /** the counter was reset at the end of this span */
  reset?: boolean;
}

export interface TimedValue {
  tsMs: number;
  value: number;
  quality: Quality;
  qualityReason?: string;
}

const ROLLOVER_BAND = 0.1;
const RESET_FRACTION = 0.1;
export const DEFAULT_MAX_GAP_MS = 300_000;

const fmt = (x: number): string => String(Math.round(x * 1e6) / 1e6);

export class EnergyIntegrator {
  private last: TimedValue | null = null;
  /** ts of the last applied reading of any quality (order check) */
  private lastTsMs = -Infinity;
  resets = 0;
  rollovers = 0;
  /** The rate now (kW for power; the last span's average for a counter); null before two readings or after a bad one. */
  rate: number | null = null;
  private readonly maxGapMs: number;
  /** counter: (tsMs, increase since the first reading) over the rate window, oldest first */
  private history: Array<{ tsMs: number; total: number }> = [];

  constructor(private readonly cfg: IntegratorConfig) {
    this.maxGapMs = cfg.maxGapMs ?? DEFAULT_MAX_GAP_MS;
    if (!(this.maxGapMs > 0)) throw new TwinError('BAD_CONFIG', `maxGapMs must be > 0, got ${cfg.maxGapMs}`);
    if (cfg.modulus !== undefined && !(cfg.modulus > 0 && Number.isFinite(cfg.modulus))) {
      throw new TwinError('BAD_CONFIG', `${cfg.what} modulus must be a finite number > 0, got ${cfg.modulus}`);
    }
  }

  /** Every refusal happens here, before any state changes. */
  private check(r: TimedValue): void {
    if (!Number.isFinite(r.value)) throw new TwinError('NOT_FINITE', `${this.cfg.what} is not finite: ${r.value}`);
    if (r.tsMs <= this.lastTsMs) {
      throw new TwinError(
        'OUT_OF_ORDER',
        `${this.cfg.what} reading at ${new Date(r.tsMs).toISOString()} is not after the last one (${new Date(this.lastTsMs).toISOString()}); not applied`,
      );
    }
    if (r.quality === 'bad') return;
    if (r.value < 0) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `negative ${this.cfg.what} ${fmt(r.value)} ${this.cfg.unit} at ${new Date(r.tsMs).toISOString()} (export/generation is not supported); not applied`,
      );
    }
    if (
      this.cfg.mode === 'counter' &&
      this.last &&
      r.value < this.last.value &&
      this.counterDrop(this.last.value, r.value) === 'backwards'
    ) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `${this.cfg.what} went backwards from ${fmt(this.last.value)} to ${fmt(r.value)} ${this.cfg.unit} (−${fmt(this.last.value - r.value)}) at ${new Date(r.tsMs).toISOString()}: not a rollover${this.cfg.modulus ? ` at ${fmt(this.cfg.modulus)}` : ''} nor a reset to near zero; not applied`,
      );
    }
  }

  /** Apply a reading; returns the span it closes (none for the first reading or a skipped one). */
  push(r: TimedValue): Span | null {
    this.check(r);
    this.lastTsMs = r.tsMs;
    return this.cfg.mode === 'rate' ? this.pushRate(r) : this.pushCounter(r);
  }

  private pushRate(r: TimedValue): Span | null {
    const prev = this.last;
    this.last = r.quality === 'bad' ? null : r;
    this.rate = this.last ? r.value : null;
    if (!prev) return null;
    const durMs = r.tsMs - prev.tsMs;
    if (durMs > this.maxGapMs) {
      return {
        startMs: prev.tsMs,
        endMs: r.tsMs,
        amount: 0,
        gap: true,
        quality: 'bad',
        reason: `${this.cfg.what} gap ${fmt(durMs / 1000)} s > max gap`,
      };
    }
    const span: Span = { startMs: prev.tsMs, endMs: r.tsMs, amount: (prev.value * durMs) / 3_600_000, gap: false, quality: prev.quality };
    if (prev.quality !== 'good') span.reason = `${this.cfg.what} ${prev.qualityReason ?? prev.quality}`;
    return span;
  }

  /** Bad readings never reach here as `last`; returns the kind of a fall from prev to value. */
  private counterDrop(prev: number, value: number): 'rollover' | 'reset' | 'backwards' {
    const m = this.cfg.modulus;
    if (m !== undefined && prev >= (1 - ROLLOVER_BAND) * m && value < ROLLOVER_BAND * m) return 'rollover';
    if (value <= RESET_FRACTION * prev) return 'reset';
    return 'backwards';
  }

  private pushCounter(r: TimedValue): Span | null {
    if (r.quality === 'bad') return null;
    const prev = this.last;
    this.last = r;
    if (!prev) {
      this.history = [{ tsMs: r.tsMs, total: 0 }];
      return null;
    }
    const durMs = r.tsMs - prev.tsMs;
    const quality: Quality = prev.quality === 'good' && r.quality === 'good' ? 'good' : 'uncertain';
    const reasons: string[] = [];
    if (quality !== 'good') reasons.push(`${this.cfg.what} ${r.qualityReason ?? prev.qualityReason ?? 'uncertain'}`);
    let amount = r.value - prev.value;
    if (amount < 0) {
      if (this.counterDrop(prev.value, r.value) === 'rollover') {
        amount = this.cfg.modulus! - prev.value + r.value;
        this.rollovers++;
      } else {
        this.resets++;
        this.rate = null;
        this.history = [{ tsMs: r.tsMs, total: 0 }];
        return {
          startMs: prev.tsMs,
          endMs: r.tsMs,
          amount: 0,
          gap: true,
          quality: 'bad',
          reason: `${this.cfg.what} reset from ${fmt(prev.value)} to ${fmt(r.value)} ${this.cfg.unit}: energy across it unknown`,
          reset: true,
        };
      }
    }
    this.trackRate(r.tsMs, amount);
    if (durMs > this.maxGapMs) {
      reasons.push(`${this.cfg.what} gap ${fmt(durMs / 1000)} s: spread evenly`);
      return { startMs: prev.tsMs, endMs: r.tsMs, amount, gap: false, quality: 'uncertain', reason: reasons.join('; ') };
    }
    return { startMs: prev.tsMs, endMs: r.tsMs, amount, gap: false, quality, ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
  }

  private trackRate(tsMs: number, amount: number): void {
    const h = this.history;
    h.push({ tsMs, total: h[h.length - 1].total + amount });
    const fromMs = tsMs - (this.cfg.rateWindowMs ?? 60_000);
    while (h.length > 2 && h[1].tsMs <= fromMs) h.shift();
    this.rate = ((h[h.length - 1].total - h[0].total) * 3_600_000) / (tsMs - h[0].tsMs);
  }
}

/** The part of a span inside [fromMs, toMs), its quantity prorated by time; null when they do not overlap. */
export function prorate(span: Span, fromMs: number, toMs: number): Span | null {
  const s = Math.max(span.startMs, fromMs);
  const e = Math.min(span.endMs, toMs);
  if (e <= s) return null;
  if (s === span.startMs && e === span.endMs) return span;
  return { ...span, startMs: s, endMs: e, amount: (span.amount * (e - s)) / (span.endMs - span.startMs) };
}
