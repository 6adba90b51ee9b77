/**
 * EnergyCost records of one asset per clock interval, per shift and per batch, from energy spans
 * (energy-integrator.ts) under a tariff.
 *
 * - Intervals of intervalMinutes sit on the local clock of the tariff's zone (cut at a DST
 *   transition); shifts start at local times (a shift runs until the next shift's start, past
 *   midnight when it must); a batch runs from its start mark to its end mark.
 * - A span is cut where an interval, a shift or a price period ends and its energy prorated by time
 *   (exact: a span's energy is even over it). A record closes when the energy data passes its end,
 *   so a reading exactly on the boundary closes it.
 * - costEur is the ENERGY charge only: each piece priced at its period's price under the tariff in
 *   force for its interval, summed unrounded and rounded once to the cent at the end of the record
 *   (bill.ts roundToCent). The demand charge depends on the billing period's peak, so it is shown in
 *   the demand status and billed in the bill (billFromCosts → computeBill), never spread over
 *   intervals; fixed fees and the power-factor penalty are billing-period items too.
 * - A new tariff (setTariff) applies from the next interval.
 * - gapMs: time of the record not covered by energy data (gaps beyond the max gap, resets, time
 *   before the first reading).
 *   quality: bad with no data at all, uncertain with gaps or uncertain spans, else good.
 * - Secondary quantities (reactive kvarh, units produced) are held until the energy data reaches
 *   their time, then prorated the same way; a part older than the open records (late data) goes to
 *   the open records rather than being lost.
 * - energyKwhPerUnit and costEurPerUnit come from the unrounded energy cost (rates, not amounts,
 *   so they are not rounded).
 */
import type { EnergyCost, EnergyCostScope } from '../model/energy.js';
import { TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';
import { type Bill, computeBill, roundToCent } from './bill.js';
import { type Span, prorate } from './energy-integrator.js';
import { clockMinutes, localBlock, localInstant } from './demand-tracker.js';
import { type PeriodSegment, type Tariff, splitByPeriod } from './tariff.js';
import { localParts, nextLocalBoundaryMs } from '../time/zoned.js';

export interface ShiftDef {
  name: string;
  /** local start, minutes after midnight */
  startMinute: number;
}

/** `06:00 early, 14:00 late, 22:00 night` → shifts (sorted); throws BAD_CONFIG. */
export function parseShifts(text: string): ShiftDef[] {
  const items = text
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = items.map((item) => {
    const m = /^(\d{1,2}):(\d{2})\s+(\S.*)$/.exec(item);
    const h = m ? Number(m[1]) : NaN;
    const min = m ? Number(m[2]) : NaN;
    if (!m || h > 23 || min > 59) throw new TwinError('BAD_CONFIG', `shift "${item}" is not "HH:MM name" (e.g. "06:00 early")`);
    return { name: m[3].trim(), startMinute: h * 60 + min };
  });
  out.sort((a, b) => a.startMinute - b.startMinute);
  for (let i = 1; i < out.length; i++) {
    if (out[i].startMinute === out[i - 1].startMinute)
      throw new TwinError('BAD_CONFIG', `shifts '${out[i - 1].name}' and '${out[i].name}' start at the same time`);
  }
  return out;
}

export interface RollupConfig {
  asset: string;
  intervalMinutes: number;
  shifts?: ShiftDef[];
  unitName?: string;
  /** whether units are counted (then every record carries units) */
  units?: boolean;
  /** whether reactive energy is measured (then every record carries reactiveKvarh) */
  reactive?: boolean;
}

interface Bucket {
  scope: EnergyCostScope;
  label?: string;
  startMs: number;
  endMs: number;
  energyKwh: number;
  costEur: number;
  co2Kg: number;
  byPeriod: Record<string, number>;
  reactiveKvarh: number;
  units: number;
  spannedMs: number;
  gapMs: number;
  uncertain: boolean;
  reasons: Set<string>;
  tariffVersion: string;
}

type Secondary = 'reactive' | 'units';

/** Caches the price segment last looked up (splitByPeriod costs Intl calls; readings come seconds apart). */
class PeriodCursor {
  private seg: PeriodSegment | null = null;
  constructor(readonly tariff: Tariff) {}
  split(startMs: number, endMs: number): PeriodSegment[] {
    const seg = this.seg;
    if (seg && startMs >= seg.startMs && endMs <= seg.endMs) return [{ startMs, endMs, period: seg.period }];
    const segs = splitByPeriod(this.tariff, startMs, endMs);
    const last = segs[segs.length - 1];
    // Extend the last piece to where its period really ends, so the next call hits the cache.
    this.seg = {
      startMs: last.startMs,
      endMs: nextLocalBoundaryMs(last.startMs, this.tariff.timeZone, this.tariff.boundaryMinutes),
      period: last.period,
    };
    return segs;
  }
}

const MAX_HELD = 10_000;

export class CostRollup {
  private readonly intervalBoundaries: number[];
  private cursor: PeriodCursor;
  private version: string;
  private pending: { tariff: Tariff; version: string } | null = null;
  private interval: Bucket | null = null;
  private shift: Bucket | null = null;
  private batch: Bucket | null = null;
  /** end of the energy data so far */
  private energyMs: number | null = null;
  private held: Array<{ kind: Secondary; span: Span }> = [];

  constructor(
    private readonly cfg: RollupConfig,
    tariff: Tariff,
    version: string,
  ) {
    this.intervalBoundaries = clockMinutes(cfg.intervalMinutes);
    this.cursor = new PeriodCursor(tariff);
    this.version = version;
  }

  get tariff(): Tariff {
    return this.cursor.tariff;
  }

  /** A new tariff, in force from the next interval. */
  setTariff(tariff: Tariff, version: string): void {
    this.pending = { tariff, version };
  }

  /** Energy (kWh) span; returns the records it closes, in time order (intervals before shifts before batches at one instant). */
  addEnergy(span: Span): EnergyCost[] {
    const out: EnergyCost[] = [];
    let t = span.startMs;
    this.open(t);
    this.release(t); // what came while no record was open (late data) goes to the one open now
    while (t < span.endMs) {
      const cut = Math.min(span.endMs, this.interval!.endMs, this.shift?.endMs ?? Infinity, this.batch?.endMs ?? Infinity);
      const piece = prorate(span, t, cut)!;
      this.addPiece(piece);
      this.energyMs = cut;
      this.release(cut);
      t = cut;
      this.closeAt(cut, out);
      if (t < span.endMs) this.open(t);
    }
    return out;
  }

  /** Reactive energy (kvarh) or units produced over a span; applied once the energy data reaches it. */
  addSecondary(kind: Secondary, span: Span): void {
    this.held.push({ kind, span });
    if (this.held.length > MAX_HELD) {
      // Energy data has stopped: credit the oldest to the open records rather than grow without bound.
      const h = this.held.shift()!;
      this.credit(h.kind, h.span);
    }
    if (this.energyMs !== null) this.release(this.energyMs);
  }

  /**
   * Start a batch at tsMs (ending one that is running there); returns the records that closes.
   * A mark older than the energy data (it arrived after the energy reading of its instant) takes
   * effect where the energy data is: energy already recorded cannot be moved between records.
   */
  startBatch(label: string, tsMs: number): EnergyCost[] {
    const out = this.endBatch(tsMs);
    this.batch = this.bucket('batch', this.markMs(tsMs), Infinity, label);
    return out;
  }

  /** End the running batch at tsMs; its record comes when the energy data reaches tsMs (at once if it has). */
  endBatch(tsMs: number): EnergyCost[] {
    const out: EnergyCost[] = [];
    if (!this.batch) return out;
    this.batch.endMs = Math.max(this.markMs(tsMs), this.batch.startMs);
    if (this.energyMs !== null && this.energyMs >= this.batch.endMs) {
      out.push(this.record(this.batch));
      this.batch = null;
    }
    return out;
  }

  private markMs(tsMs: number): number {
    return Math.max(tsMs, this.energyMs ?? tsMs);
  }

  /** Open interval and shift records at t when none is open there. */
  private open(t: number): void {
    if (!this.interval || t >= this.interval.endMs) {
      if (this.pending) {
        this.cursor = new PeriodCursor(this.pending.tariff);
        this.version = this.pending.version;
        this.pending = null;
      }
      const b = localBlock(t, this.tariff.timeZone, this.cfg.intervalMinutes, this.intervalBoundaries);
      this.interval = this.bucket('interval', b.startMs, b.endMs);
    }
    if (this.cfg.shifts?.length && (!this.shift || t >= this.shift.endMs)) {
      const s = shiftAt(t, this.tariff.timeZone, this.cfg.shifts);
      this.shift = this.bucket('shift', s.startMs, s.endMs, s.name);
    }
  }

  private bucket(scope: EnergyCostScope, startMs: number, endMs: number, label?: string): Bucket {
    return {
      scope,
      label,
      startMs,
      endMs,
      energyKwh: 0,
      costEur: 0,
      co2Kg: 0,
      byPeriod: Object.fromEntries(this.tariff.periods.map((p) => [p.name, 0])),
      reactiveKvarh: 0,
      units: 0,
      spannedMs: 0,
      gapMs: 0,
      uncertain: false,
      reasons: new Set(),
      tariffVersion: this.version,
    };
  }

  private buckets(): Bucket[] {
    return [this.interval, this.shift, this.batch].filter((b): b is Bucket => b !== null);
  }

  /** A piece inside the open interval and shift (the batch takes the part inside its window). */
  private addPiece(piece: Span): void {
    let costEur = 0;
    const byPeriod: Record<string, number> = {};
    if (!piece.gap && piece.amount > 0) {
      const len = piece.endMs - piece.startMs;
      for (const seg of this.cursor.split(piece.startMs, piece.endMs)) {
        const kwh = (piece.amount * (seg.endMs - seg.startMs)) / len;
        byPeriod[seg.period.name] = (byPeriod[seg.period.name] ?? 0) + kwh;
        costEur += kwh * seg.period.priceEurPerKwh;
      }
    }
    for (const b of this.buckets()) {
      const part = b.scope === 'batch' ? prorate(piece, b.startMs, b.endMs) : piece;
      if (!part) continue;
      const f = part === piece ? 1 : (part.endMs - part.startMs) / (piece.endMs - piece.startMs);
      b.spannedMs += part.endMs - part.startMs;
      if (part.gap) b.gapMs += part.endMs - part.startMs;
      b.energyKwh += part.amount;
      b.costEur += costEur * f;
      b.co2Kg += part.amount * this.tariff.co2KgPerKwh;
      for (const [name, kwh] of Object.entries(byPeriod)) b.byPeriod[name] = (b.byPeriod[name] ?? 0) + kwh * f;
      if (part.quality !== 'good') b.uncertain = true;
      if (part.reason) b.reasons.add(part.reason);
    }
  }

  /** Apply the held secondary quantities up to `upToMs`. */
  private release(upToMs: number): void {
    if (this.held.length === 0 || !this.interval) return;
    const keep: typeof this.held = [];
    for (const h of this.held) {
      if (h.span.startMs >= upToMs) {
        keep.push(h);
        continue;
      }
      this.credit(h.kind, prorate(h.span, -Infinity, upToMs)!);
      const rest = prorate(h.span, upToMs, Infinity);
      if (rest) keep.push({ kind: h.kind, span: rest });
    }
    this.held = keep;
  }

  private credit(kind: Secondary, span: Span): void {
    for (const b of this.buckets()) {
      const part = b.scope === 'batch' ? prorate(span, b.startMs, b.endMs) : span;
      if (!part) continue;
      if (kind === 'reactive') b.reactiveKvarh += part.amount;
      else b.units += part.amount;
      if (part.quality !== 'good' || part.gap) b.uncertain = true;
      if (part.reason) b.reasons.add(part.reason);
    }
  }

  private closeAt(t: number, out: EnergyCost[]): void {
    if (this.interval && t >= this.interval.endMs) {
      out.push(this.record(this.interval));
      this.interval = null;
    }
    if (this.shift && t >= this.shift.endMs) {
      out.push(this.record(this.shift));
      this.shift = null;
    }
    if (this.batch && t >= this.batch.endMs) {
      out.push(this.record(this.batch));
      this.batch = null;
    }
  }

  private record(b: Bucket): EnergyCost {
    const lengthMs = b.endMs - b.startMs;
    const gapMs = b.gapMs + Math.max(0, lengthMs - b.spannedMs);
    const reasons = [...b.reasons];
    if (gapMs > 0) reasons.unshift(`no data for ${Math.round(gapMs / 1000)} s`);
    const quality: Quality = b.spannedMs === b.gapMs ? 'bad' : gapMs > 0 || b.uncertain ? 'uncertain' : 'good';
    const rec: EnergyCost = {
      asset: this.cfg.asset,
      tsMs: b.endMs,
      scope: b.scope,
      ...(b.label !== undefined ? { label: b.label } : {}),
      startMs: b.startMs,
      endMs: b.endMs,
      energyKwh: b.energyKwh,
      costEur: roundToCent(b.costEur),
      energyKwhByPeriod: b.byPeriod,
      co2Kg: b.co2Kg,
      gapMs,
      quality,
      tariffVersion: b.tariffVersion,
    };
    if (this.cfg.reactive) rec.reactiveKvarh = b.reactiveKvarh;
    if (this.cfg.units) {
      rec.units = b.units;
      if (this.cfg.unitName) rec.unitName = this.cfg.unitName;
      if (b.units > 0) {
        rec.energyKwhPerUnit = b.energyKwh / b.units;
        rec.costEurPerUnit = b.costEur / b.units;
      }
    }
    if (reasons.length) rec.qualityReason = reasons.join('; ');
    return rec;
  }
}

/** The shift in force at tsMs: its name and [start, end) (to the next shift's start). */
export function shiftAt(tsMs: number, timeZone: string, shifts: readonly ShiftDef[]): { name: string; startMs: number; endMs: number } {
  const lp = localParts(tsMs, timeZone);
  let i = shifts.length - 1;
  for (let k = 0; k < shifts.length; k++) if (shifts[k].startMinute <= lp.minuteOfDay) i = k;
  // Before the day's first start, the shift began the day before.
  const dayBefore = shifts[0].startMinute > lp.minuteOfDay;
  const d = new Date(Date.UTC(lp.year, lp.month - 1, lp.day - (dayBefore ? 1 : 0)));
  const startMs = localInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), shifts[i].startMinute, timeZone);
  const starts = shifts.map((s) => s.startMinute);
  let endMs = tsMs;
  do endMs = nextLocalBoundaryMs(endMs, timeZone, starts);
  while (!starts.includes(localParts(endMs, timeZone).minuteOfDay) || localParts(endMs, timeZone).second !== 0);
  return { name: shifts[i].name, startMs, endMs };
}

/** The bill of a billing period from interval records (demand charge, power-factor penalty, fixed fee included). */
export function billFromCosts(tariff: Tariff, period: { startMs: number; endMs: number }, intervals: readonly EnergyCost[]): Bill {
  return computeBill(
    tariff,
    period,
    intervals
      .filter((r) => r.scope === 'interval')
      .map((r) => ({
        startMs: r.startMs,
        endMs: r.endMs,
        energyKwh: r.energyKwh,
        ...(r.reactiveKvarh !== undefined ? { reactiveKvarh: r.reactiveKvarh } : {}),
      })),
  );
}
