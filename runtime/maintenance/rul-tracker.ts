/**
 * Live RUL per asset: Readings (one per asset and channel) are assembled into history rows, and a
 * completed row gives a RulEstimate from the asset's history since new or since its last renewal.
 *
 * Rows: by default the readings that share a tsMs form one row (a replay of a historian export or
 * of C-MAPSS cycles); the row is complete once every channel the model reads has a value at that
 * time, or, when a later reading arrives first, with the missing channels held from the previous
 * row (the row is then 'uncertain'). With `rowIntervalMs` (live data, tags sampled at their own
 * pace) each channel's latest value is held and one row is taken at the end of every interval.
 *
 * Quality: the estimate's input quality is the worst quality of the rows its window rests on, so
 * an uncertain or bad reading degrades the estimates while it is in the model's window.
 */
import { TwinError } from '../model/errors.js';
import { worstQuality, type Quality } from '../model/quality.js';
import type { Reading } from '../model/reading.js';
import type { RulEstimate } from '../model/maintenance.js';
import { estimateRulAny, modelChannels, modelWindow, requiredChannels, type AnyRulModel } from './rul-json.js';

export interface RulTrackerOptions {
  /** one row per interval, with the latest value of every channel held (undefined: rows by shared tsMs) */
  rowIntervalMs?: number;
  /** an estimate every N completed rows (default 1) */
  emitEveryRows?: number;
  /** rows kept per asset; beyond it the oldest go, except the first (the asset's age is from it) */
  maxHistoryRows?: number;
}

/** A held value older than this many intervals makes the row uncertain (the sensor went quiet). */
const STALE_INTERVALS = 3;

interface Held {
  value: number;
  tsMs: number;
  quality: Quality;
  reason?: string;
}

interface AssetState {
  tsMs: number[];
  values: number[][];
  quality: Quality[];
  reason: (string | undefined)[];
  held: (Held | undefined)[];
  /** latest reading time of the asset (no reading may go before it) */
  lastTsMs: number;
  /** rows by shared tsMs: the row being filled and the channels it has */
  pendingTsMs?: number;
  pendingHas: Set<number>;
  /** rows by interval: end of the interval being filled */
  bucketEndMs?: number;
  rows: number;
}

export interface RulTrackerResult {
  estimates: RulEstimate[];
  /** a row that could not be built (a channel the model reads has had no value yet) */
  dropped?: string;
}

export class RulTracker {
  readonly channels: string[];
  readonly required: string[];
  private readonly requiredIdx: number[];
  private readonly isRequired: boolean[];
  private readonly window: { rows: number } | { ms: number };
  private readonly emitEvery: number;
  private readonly maxRows: number;
  private readonly assets = new Map<string, AssetState>();

  constructor(
    private readonly model: AnyRulModel,
    private readonly o: RulTrackerOptions = {},
  ) {
    this.channels = modelChannels(model);
    this.required = requiredChannels(model);
    this.requiredIdx = this.required.map((c) => this.channels.indexOf(c));
    this.isRequired = this.channels.map((_, i) => this.requiredIdx.includes(i));
    this.window = modelWindow(model);
    this.emitEvery = o.emitEveryRows ?? 1;
    this.maxRows = o.maxHistoryRows ?? 100_000;
    if (o.rowIntervalMs !== undefined && !(o.rowIntervalMs > 0))
      throw new TwinError('BAD_CONFIG', `rowIntervalMs must be > 0, got ${o.rowIntervalMs}`);
    if (!(Number.isInteger(this.emitEvery) && this.emitEvery >= 1))
      throw new TwinError('BAD_CONFIG', `emitEveryRows must be an integer >= 1, got ${o.emitEveryRows}`);
    if (!(Number.isInteger(this.maxRows) && this.maxRows >= 2))
      throw new TwinError('BAD_CONFIG', `maxHistoryRows must be an integer >= 2, got ${o.maxHistoryRows}`);
  }

  /** Assets with history. */
  get assetCount(): number {
    return this.assets.size;
  }

  /** Forget an asset's history (it was renewed: after the maintenance job it is as new). */
  reset(asset: string): boolean {
    return this.assets.delete(asset);
  }

  /** Take one reading; throws TwinError on a reading the model cannot use (nothing is changed then). */
  push(r: Reading): RulTrackerResult {
    const c = this.channels.indexOf(r.tag);
    if (c < 0 || r.tag === '') {
      throw new TwinError(
        'BAD_PAYLOAD',
        `unknown channel '${r.tag}' for asset ${r.asset}: the model knows ${this.channels.filter((x) => x !== '').join(', ')}`,
      );
    }
    if (!Number.isFinite(r.value)) throw new TwinError('NOT_FINITE', `${r.asset}/${r.tag}: value is not finite: ${r.value}`);
    let st = this.assets.get(r.asset);
    if (st && r.tsMs < st.lastTsMs) {
      throw new TwinError(
        'OUT_OF_ORDER',
        `${r.asset}/${r.tag} at ${new Date(r.tsMs).toISOString()} is before the asset's last reading (${new Date(st.lastTsMs).toISOString()})`,
      );
    }
    const lastRow = st && st.tsMs.length > 0 ? st.tsMs[st.tsMs.length - 1] : undefined;
    if (this.o.rowIntervalMs === undefined && this.isRequired[c] && r.tsMs === lastRow) {
      throw new TwinError('OUT_OF_ORDER', `${r.asset}/${r.tag}: the row at ${new Date(r.tsMs).toISOString()} is already complete`);
    }
    if (!st) {
      st = {
        tsMs: [],
        values: [],
        quality: [],
        reason: [],
        held: this.channels.map(() => undefined),
        lastTsMs: r.tsMs,
        pendingHas: new Set(),
        rows: 0,
      };
      this.assets.set(r.asset, st);
    }
    st.lastTsMs = r.tsMs;
    const out: RulTrackerResult = { estimates: [] };
    if (!this.isRequired[c]) return out; // a training channel the model does not read
    const held: Held = {
      value: r.value,
      tsMs: r.tsMs,
      quality: r.quality,
      ...(r.quality !== 'good' ? { reason: `${r.tag} ${r.quality}${r.qualityReason ? ` (${r.qualityReason})` : ''}` } : {}),
    };
    if (this.o.rowIntervalMs === undefined) {
      if (st.pendingTsMs !== undefined && r.tsMs > st.pendingTsMs) this.closePending(r.asset, st, out);
      st.pendingTsMs = r.tsMs;
      st.pendingHas.add(c);
      st.held[c] = held;
      if (st.pendingHas.size === this.requiredIdx.length) this.closePending(r.asset, st, out);
    } else {
      const I = this.o.rowIntervalMs;
      st.bucketEndMs ??= Math.floor(r.tsMs / I) * I + I;
      // the rows of every interval that ended before this reading, with the values held then; of a
      // long silence only the rows the history can keep, and one estimate at its end
      const behind = Math.floor((r.tsMs - st.bucketEndMs) / I);
      if (behind > this.maxRows) st.bucketEndMs += (behind - this.maxRows) * I;
      while (r.tsMs >= st.bucketEndMs) {
        this.addHeldRow(r.asset, st, st.bucketEndMs, r.tsMs < st.bucketEndMs + I, out);
        st.bucketEndMs += I;
      }
      st.held[c] = held;
    }
    return out;
  }

  /** Rows by shared tsMs: complete the pending row (missing channels held from before). */
  private closePending(asset: string, st: AssetState, out: RulTrackerResult): void {
    const tsMs = st.pendingTsMs!;
    const missing = this.requiredIdx.filter((i) => !st.pendingHas.has(i));
    st.pendingTsMs = undefined;
    st.pendingHas = new Set();
    if (missing.some((i) => st.held[i] === undefined)) {
      out.dropped = `${asset}: row at ${new Date(tsMs).toISOString()} left out: no value yet for ${missing
        .filter((i) => st.held[i] === undefined)
        .map((i) => this.channels[i])
        .join(', ')}`;
      return;
    }
    this.addRow(
      asset,
      st,
      tsMs,
      missing.length > 0 ? `held ${missing.map((i) => this.channels[i]).join(', ')} from an earlier row` : undefined,
      true,
      out,
    );
  }

  /** Rows by interval: a row of the held values, once every channel has had one. */
  private addHeldRow(asset: string, st: AssetState, tsMs: number, last: boolean, out: RulTrackerResult): void {
    if (this.requiredIdx.some((i) => st.held[i] === undefined)) return; // not every channel seen yet
    const stale = this.requiredIdx.filter((i) => st.held[i]!.tsMs < tsMs - STALE_INTERVALS * this.o.rowIntervalMs!);
    this.addRow(
      asset,
      st,
      tsMs,
      stale.length > 0 ? `no reading of ${stale.map((i) => this.channels[i]).join(', ')} for over ${STALE_INTERVALS} intervals` : undefined,
      last,
      out,
    );
  }

  /** `canEmit`: false for the rows inside a silence (only its last row may give an estimate). */
  private addRow(
    asset: string,
    st: AssetState,
    tsMs: number,
    heldReason: string | undefined,
    canEmit: boolean,
    out: RulTrackerResult,
  ): void {
    const row = new Array<number>(this.channels.length).fill(NaN);
    let q: Quality = heldReason ? 'uncertain' : 'good';
    const reasons = heldReason ? [heldReason] : [];
    for (const i of this.requiredIdx) {
      const h = st.held[i]!;
      row[i] = h.value;
      q = worstQuality(q, h.quality);
      if (h.reason) reasons.push(h.reason);
    }
    st.tsMs.push(tsMs);
    st.values.push(row);
    st.quality.push(q);
    st.reason.push(reasons.length ? reasons.join(', ') : undefined);
    if (st.tsMs.length > this.maxRows) {
      // drop a tenth at once (amortised), never the first row nor the new one
      const drop = st.tsMs.length - Math.max(2, Math.floor(this.maxRows * 0.9));
      for (const a of [st.tsMs, st.values, st.quality, st.reason] as unknown[][]) a.splice(1, drop);
    }
    st.rows++;
    if (canEmit && st.rows % this.emitEvery === 0) out.estimates.push(this.estimate(asset, st));
  }

  private estimate(asset: string, st: AssetState): RulEstimate {
    const n = st.tsMs.length;
    let from = 'rows' in this.window ? Math.max(0, n - this.window.rows) : n - 1;
    if ('ms' in this.window) while (from > 0 && st.tsMs[from - 1] >= st.tsMs[n - 1] - this.window.ms) from--;
    let q: Quality = 'good';
    let why: string | undefined;
    for (let i = from; i < n; i++) {
      q = worstQuality(q, st.quality[i]);
      why = st.reason[i] ?? why; // the latest reason: the one a person can still act on
    }
    const est = estimateRulAny(this.model, { asset, channels: this.channels, tsMs: st.tsMs, values: st.values }, q);
    if (why) est.qualityReason = est.qualityReason ? `${why}; ${est.qualityReason}` : why;
    return est;
  }
}
