/**
 * A fixed-capacity ring of timed rows (event time + `width` values), the newest overwriting the
 * oldest: the per-tag and per-group histories of the drift stage, kept in two typed arrays with no
 * allocation per sample. While it fills, entries occupy slots 0 … length − 1 in arrival order.
 */
import { decF64, decInt, decRecord, encF64 } from '../model/state-codec.js';

export interface TimedValue {
  tsMs: number;
  value: number;
}

export interface TimedRingSnapshot {
  tsMs: string;
  values: string;
  length: number;
  next: number;
}

export class TimedRing {
  readonly tsMs: Float64Array;
  /** Row-major: the values of slot k are values[k·width … k·width + width − 1]. */
  readonly values: Float64Array;
  /** Entries held (≤ capacity). */
  length = 0;
  private next = 0;

  constructor(
    readonly capacity: number,
    readonly width = 1,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && Number.isInteger(width) && width >= 1)) {
      throw new RangeError(`TimedRing: capacity and width must be integers ≥ 1, got ${capacity}, ${width}`);
    }
    this.tsMs = new Float64Array(capacity);
    this.values = new Float64Array(capacity * width);
  }

  /** Add one entry: a number for width 1, else a row of `width` values. */
  push(tsMs: number, row: number | ArrayLike<number>): void {
    this.tsMs[this.next] = tsMs;
    if (typeof row === 'number') this.values[this.next * this.width] = row;
    else this.values.set(row, this.next * this.width);
    this.next = (this.next + 1) % this.capacity;
    if (this.length < this.capacity) this.length++;
  }

  /** The storage slot of the i-th oldest entry (0 = oldest). */
  slot(i: number): number {
    return (this.next - this.length + this.capacity + i) % this.capacity;
  }

  /** Event time of the oldest entry; Infinity when empty. */
  oldestTsMs(): number {
    return this.length > 0 ? this.tsMs[this.slot(0)] : Infinity;
  }

  snapshot(): TimedRingSnapshot {
    return { tsMs: encF64(this.tsMs), values: encF64(this.values), length: this.length, next: this.next };
  }

  /** Untrusted (checked first, then applied): the capacity and width are this ring's. */
  restore(v: unknown): void {
    const s = decRecord(v, 'ring');
    const tsMs = decF64(s.tsMs, 'ring.tsMs', this.capacity);
    const values = decF64(s.values, 'ring.values', this.capacity * this.width);
    const length = decInt(s.length, 'ring.length', 0, this.capacity);
    const next = decInt(s.next, 'ring.next', 0, this.capacity - 1);
    this.tsMs.set(tsMs);
    this.values.set(values);
    this.length = length;
    this.next = next;
  }

  /** Oldest first: the entries at or after `fromTsMs`, one column of them. */
  window(fromTsMs = -Infinity, column = 0): TimedValue[] {
    const out: TimedValue[] = [];
    for (let i = 0; i < this.length; i++) {
      const at = this.slot(i);
      if (this.tsMs[at] >= fromTsMs) out.push({ tsMs: this.tsMs[at], value: this.values[at * this.width + column] });
    }
    return out;
  }
}
