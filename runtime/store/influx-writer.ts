/**
 * Writes points to InfluxDB through a durable outbox (outbox.ts; FileOutbox is the embedded default),
 * so nothing accepted is lost while the database is down or Node-RED restarts.
 *
 * - `enqueue` resolves once the points are durable in the outbox.
 * - One delivery loop writes the oldest points in batches of up to `batchSize`, a partial batch once
 *   it has waited `flushMs`; a batch is acknowledged in the outbox only after InfluxDB answered 2xx,
 *   so batches go in order and none is skipped.
 * - A failed write (database down, 5xx, timeout, auth, unknown database) is retried with back-off
 *   from `retryMinMs` doubling to `retryMaxMs`. A write that succeeded but whose answer was lost is
 *   written again: InfluxDB keys a point by measurement + tags + timestamp, so the repeat overwrites
 *   the same point instead of adding one (at-least-once delivery, exactly-once storage).
 * - A batch InfluxDB refuses as malformed (HTTP 400: type conflict, unparsable point) would block the
 *   queue for ever: its points are retried one by one, and a point refused on its own is appended
 *   (fsynced) to `rejectedFile` and reported through 'rejected': never silently dropped.
 * - After `close()` nothing is acknowledged any more: a write in flight is written again by the next run.
 * - Recording a batch's removal from the outbox (an fsync) overlaps the next write; still one write
 *   in flight at a time.
 */
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { TwinError } from '../model/errors.js';
import type { InfluxPoint } from './influx-points.js';
import type { Outbox } from './outbox.js';

export interface InfluxWriterOptions {
  outbox: Outbox<InfluxPoint>;
  /** Write one batch; rejects on failure. */
  send(points: InfluxPoint[]): Promise<void>;
  batchSize: number;
  flushMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** JSON-lines file that keeps points InfluxDB refused as malformed. */
  rejectedFile: string;
}

export type WriterState = 'idle' | 'writing' | 'retrying' | 'closed';

/** True for an answer that repeating the same write cannot change (HTTP 400). */
export function isRefusedWrite(err: unknown): boolean {
  return (err as { res?: { statusCode?: number } })?.res?.statusCode === 400;
}

export class InfluxWriter extends EventEmitter {
  state: WriterState = 'idle';
  lastError?: Error;
  /** Points acknowledged by InfluxDB since start. */
  written = 0;
  rejected = 0;
  private running = false;
  private sending = false;
  private closed = false;
  private retryMs = 0;
  /** Points still to be written one by one after a refused batch. */
  private isolate = 0;
  private pendingSinceMs = 0;
  /** Ends the current sleep: `wake` when a full batch is waiting, `closeWake` on close. */
  private wake?: () => void;
  private closeWake?: () => void;
  /** Points written (or rejected) but whose removal from the outbox is still being recorded. */
  private acking = 0;
  /** Highest seq handed to InfluxDB (or rejected): the next batch starts after it. */
  private lastSentSeq = 0;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly opts: InfluxWriterOptions) {
    super();
    for (const [k, v] of Object.entries({
      batchSize: opts.batchSize,
      flushMs: opts.flushMs,
      retryMinMs: opts.retryMinMs,
      retryMaxMs: opts.retryMaxMs,
    })) {
      if (!Number.isInteger(v) || v < (k === 'flushMs' ? 0 : 1))
        throw new TwinError('BAD_CONFIG', `${k} must be a whole number ≥ ${k === 'flushMs' ? 0 : 1}, not ${v}`);
    }
    if (opts.retryMaxMs < opts.retryMinMs) throw new TwinError('BAD_CONFIG', 'retryMaxMs must not be below retryMinMs');
  }

  /** Points buffered (durable, not yet acknowledged by InfluxDB). */
  size(): number {
    return this.opts.outbox.size();
  }

  /** Start writing what a previous run left in the outbox. */
  start(): void {
    this.kick();
  }

  /**
   * Make the points durable, in order; resolves when all are, rejects (QUEUE) naming how many were
   * refused when the outbox is full or closed; those accepted are written regardless.
   */
  async enqueue(points: InfluxPoint[]): Promise<void> {
    if (this.closed) throw new TwinError('QUEUE', 'historian is closed');
    if (points.length === 0) return;
    if (this.size() === 0) this.pendingSinceMs = Date.now();
    const results = await Promise.allSettled(points.map((p) => this.opts.outbox.enqueue(p)));
    if (this.unsent() >= this.opts.batchSize) this.wake?.();
    this.kick();
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused.length > 0) {
      const why = (refused[0].reason as Error).message;
      throw new TwinError('QUEUE', refused.length === points.length ? why : `${refused.length} of ${points.length} points refused: ${why}`);
    }
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.loopDone = this.loop()
      .catch((err: unknown) => {
        // An outbox that failed to read (a replicated store, say): try again later, never crash.
        if (this.closed) return;
        this.setState('retrying', err as Error);
        this.emit('writeError', err);
        setTimeout(() => this.kick(), this.opts.retryMaxMs).unref();
      })
      .finally(() => {
        this.running = false;
      });
  }

  private setState(s: WriterState, err?: Error): void {
    this.lastError = err;
    if (this.state === s && !err) return;
    this.state = s;
    this.emit('state', s, err);
  }

  private sleep(ms: number, wakeOnFull: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = wakeOnFull ? done : undefined;
      this.closeWake = done;
    });
  }

  /**
   * Remove the oldest `n` entries from the outbox without waiting: recording the removal (an fsync)
   * overlaps the next write. Acks stay in order (the outbox chains them); the next batch is told by
   * seq, not by position, so it never depends on when an ack lands. A lost ack means a rewrite, which
   * InfluxDB absorbs.
   */
  private ackBehind(n: number, lastSeq: number): void {
    this.lastSentSeq = lastSeq;
    this.acking += n;
    this.opts.outbox.ack(n).then(
      () => {
        this.acking -= n;
        // The loop may have stopped while this ack was counted twice (in size and in acking).
        if (this.unsent() > 0) this.kick();
      },
      (err: unknown) => {
        this.acking -= n;
        if (!this.closed) this.emit('writeError', err);
      },
    );
  }

  private unsent(): number {
    return this.opts.outbox.size() - this.acking;
  }

  private async loop(): Promise<void> {
    const ob = this.opts.outbox;
    while (!this.closed && this.unsent() > 0) {
      const want = this.isolate > 0 || this.retryMs > 0 ? 1 : this.opts.batchSize;
      if (want > 1 && this.unsent() < want) {
        const waitMs = this.pendingSinceMs + this.opts.flushMs - Date.now();
        if (waitMs > 0) {
          await this.sleep(waitMs, true);
          continue;
        }
      }
      const entries = (await ob.peek(this.acking + want)).filter((e) => e.seq > this.lastSentSeq).slice(0, want);
      if (entries.length === 0) {
        // Enqueued but not yet fsynced: look again shortly.
        await this.sleep(5, true);
        continue;
      }
      const points = entries.map((e) => e.record);
      const lastSeq = entries[entries.length - 1].seq;
      this.setState('writing');
      let failure: Error | undefined;
      this.sending = true;
      try {
        await this.opts.send(points);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.sending = false;
      }
      if (this.closed) return;
      if (failure && isRefusedWrite(failure)) {
        if (points.length > 1) {
          this.isolate = points.length;
          continue;
        }
        try {
          await this.reject(points, failure);
          this.ackBehind(1, lastSeq);
          this.isolate = Math.max(0, this.isolate - 1);
          continue;
        } catch (err) {
          // Cannot keep it aside: it stays first in the outbox (blocking, loudly) and is retried.
          failure = new TwinError('QUEUE', `cannot keep a refused point in ${this.opts.rejectedFile}: ${(err as Error).message}`);
        }
      }
      if (failure) {
        // Down or refusing for now: wait, then try the head alone until it goes through.
        this.retryMs = Math.min(this.opts.retryMaxMs, Math.max(this.opts.retryMinMs, this.retryMs * 2));
        this.setState('retrying', failure);
        this.emit('writeError', failure);
        await this.sleep(this.retryMs, false);
        continue;
      }
      this.ackBehind(points.length, lastSeq);
      this.isolate = Math.max(0, this.isolate - points.length);
      this.retryMs = 0;
      this.written += points.length;
      this.pendingSinceMs = Date.now();
      this.emit('written', points.length);
    }
    if (!this.closed) this.setState('idle');
  }

  private async reject(points: InfluxPoint[], err: Error): Promise<void> {
    const lines = points.map((p) => JSON.stringify({ error: err.message, point: p }) + '\n').join('');
    const fh = await fsp.open(this.opts.rejectedFile, 'a');
    try {
      await fh.appendFile(lines);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.rejected += points.length;
    this.emit('rejected', points, err);
  }

  /** Stop writing (a write in flight is not waited for) and close the outbox. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeWake?.();
    this.setState('closed');
    // A loop inside `send` touches the outbox no more once it sees `closed`; otherwise let it finish
    // what it is doing (a rejected point) first. The outbox waits for acks under way.
    if (!this.sending) await this.loopDone.catch(() => undefined);
    await this.opts.outbox.close();
  }
}
