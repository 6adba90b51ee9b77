/**
 * What one plant connection knows about the readings taken through it, for the setpoint writers'
 * re-read at write time (runtime/control/writer.ts):
 *  - SourceItems: which item of the connection each asset/tag is read from, as the ingest nodes
 *    using the connection configured it (OPC UA: twin-opcua-in items → nodeId). The writer reads
 *    exactly those items through the same session, so nothing a flow sends can stand in for them.
 *  - LatestReadings: the latest reading of the wanted asset/tags received on the connection (MQTT,
 *    which cannot be asked: the writer takes what the broker delivered last).
 * Both stay bounded: by the configured items, and by the keys writers want.
 */
import { GATE_MAX_FUTURE_MS, readingTopic, supersedes, type Reading, type ReadingOrigin } from '../model/reading.js';

export class SourceItems<I extends { asset: string; tag: string }> {
  private readonly byOwner = new Map<string, readonly I[]>();

  /** The items an ingest node (`owner`, its node id) reads through the connection; replaces its earlier ones. */
  set(owner: string, items: readonly I[]): void {
    this.byOwner.set(owner, items);
  }

  delete(owner: string): void {
    this.byOwner.delete(owner);
  }

  /**
   * The one item `key` (`asset/tag`) is read from, or why there is none: no ingest node on this
   * connection reads it, or two read it from different items (`same` says whether two are one).
   */
  resolve(key: string, same: (a: I, b: I) => boolean): { item: I } | { error: string } {
    let found: I | undefined;
    for (const items of this.byOwner.values()) {
      for (const it of items) {
        if (readingTopic(it) !== key) continue;
        if (found && !same(found, it)) return { error: 'read from two different items on this connection' };
        found ??= it;
      }
    }
    return found ? { item: found } : { error: 'not read by any ingest node on this connection' };
  }
}

export class LatestReadings {
  private readonly wanted = new Map<string, number>();
  private readonly latest = new Map<string, Reading>();

  /** Keep the latest reading of these keys from now on; call the returned function to stop. */
  want(keys: Iterable<string>): () => void {
    const list = [...keys];
    for (const k of list) this.wanted.set(k, (this.wanted.get(k) ?? 0) + 1);
    return () => {
      for (const k of list) {
        const n = (this.wanted.get(k) ?? 1) - 1;
        if (n > 0) this.wanted.set(k, n);
        else {
          this.wanted.delete(k);
          this.latest.delete(k);
        }
      }
    };
  }

  /**
   * A reading received on the connection at `nowMs` (cheap for a key nobody wants: one map lookup).
   * One dated more than GATE_MAX_FUTURE_MS ahead is not kept, as at the gate: it would hide the
   * readings after it.
   */
  note(r: Reading, nowMs: number): void {
    const key = readingTopic(r);
    if (!this.wanted.has(key) || r.tsMs - nowMs > GATE_MAX_FUTURE_MS) return;
    if (supersedes(this.latest.get(key), r)) this.latest.set(key, r);
  }

  get(key: string): Reading | undefined {
    return this.latest.get(key);
  }

  /** The connection's link dropped: what was received before says nothing about the plant now. */
  clear(): void {
    this.latest.clear();
  }
}

/**
 * One frozen ReadingOrigin per item of a connection, made once and reused for every reading of it
 * (no allocation per reading). Bounded: a flood of new topics clears the cache rather than growing it.
 */
export class OriginCache {
  private readonly map = new Map<string, ReadingOrigin>();

  constructor(
    private readonly connection: string,
    private readonly maxItems = 10_000,
  ) {}

  of(item: string): ReadingOrigin {
    let o = this.map.get(item);
    if (o === undefined) {
      if (this.map.size >= this.maxItems) this.map.clear();
      o = Object.freeze({ connection: this.connection, item });
      this.map.set(item, o);
    }
    return o;
  }
}
