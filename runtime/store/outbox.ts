/**
 * The outbound queue behind a narrow interface (ARCHITECTURE.md principle 9): a local file is the
 * embedded default (file-outbox.ts); a replicated store can take its place.
 *
 * Contract
 * - `enqueue` resolves only once the record is durable (fsync for the file store) and returns its
 *   sequence number: strictly increasing within one outbox, never reused, also across restarts.
 * - `peek(n)` returns the oldest `n` records not yet acknowledged, in order, without removing them.
 * - `ack(n)` removes the oldest `n` records (the caller delivered them).
 * - When `size()` has reached the limit, `enqueue` rejects with TwinError('QUEUE'): never drops.
 */
export interface OutboxEntry<T> {
  seq: number;
  record: T;
}

export interface Outbox<T> {
  /** Stable identity of this queue (survives restarts); receivers use it with `seq` to drop repeats. */
  readonly id: string;
  enqueue(record: T): Promise<number>;
  peek(n: number): Promise<OutboxEntry<T>[]>;
  ack(n: number): Promise<void>;
  size(): number;
  close(): Promise<void>;
}
