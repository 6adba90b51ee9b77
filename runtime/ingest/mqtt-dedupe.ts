/**
 * Drop repeats of messages published through a TwinLoop outbox.
 *
 * QoS 1 is at-least-once: after a broker or publisher restart the same message can arrive twice.
 * twin-mqtt-out stamps each message with MQTT v5 user properties `twinloop-src` (the outbox's id)
 * and `twinloop-seq` (its sequence number in that outbox, strictly increasing, delivered in order),
 * so a receiver remembers the highest sequence seen per source, plus any sequences below it that
 * have not arrived yet (normally none: an outbox delivers in order).
 */
export const SRC_PROPERTY = 'twinloop-src';
export const SEQ_PROPERTY = 'twinloop-seq';

export type UserProperties = Record<string, string | string[]> | undefined;

/** The (src, seq) stamp of a message, or undefined when it carries none. */
export function outboxStamp(props: UserProperties): { src: string; seq: number } | undefined {
  if (!props) return undefined;
  const src = first(props[SRC_PROPERTY]);
  const seqText = first(props[SEQ_PROPERTY]);
  if (!src || seqText === undefined || !/^\d+$/.test(seqText)) return undefined;
  return { src, seq: Number(seqText) };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Per source: the highest sequence seen and the sequences below it not seen yet. */
interface SourceState {
  hwm: number;
  missing: Set<number>;
}

/** Snapshot entry: the highest sequence, or that plus the sequences still missing below it. */
export type DedupeSnapshot = Record<string, number | { h: number; m: number[] }>;

/** Missing sequences remembered per source; beyond this the oldest are forgotten (then treated as seen). */
const MAX_MISSING = 10_000;

export class OutboxDedupe {
  private readonly sources = new Map<string, SourceState>();
  /** Repeats dropped so far (for status and tests). */
  duplicates = 0;

  /** Restore what a previous run saw (see `snapshot`), so a restart does not forget it. */
  constructor(snapshot?: DedupeSnapshot) {
    for (const [src, v] of Object.entries(snapshot ?? {})) {
      if (typeof v === 'number' && Number.isInteger(v)) this.sources.set(src, { hwm: v, missing: new Set() });
      else if (v && typeof v === 'object' && Number.isInteger(v.h)) {
        this.sources.set(src, { hwm: v.h, missing: new Set((v.m ?? []).filter((x) => Number.isInteger(x) && x < v.h)) });
      }
    }
  }

  /** What was seen per source, for saving across restarts. */
  snapshot(): DedupeSnapshot {
    const out: DedupeSnapshot = {};
    for (const [src, st] of this.sources) out[src] = st.missing.size ? { h: st.hwm, m: [...st.missing] } : st.hwm;
    return out;
  }

  /**
   * True when the message is new (and remember it); false for a repeat. Unstamped → always new.
   * Usually messages of one source arrive in order; one that overtook another (possible when the
   * broker refused a message with several in flight) leaves a gap, and the late one is still new.
   */
  accept(props: UserProperties): boolean {
    const s = outboxStamp(props);
    if (!s) return true;
    const st = this.sources.get(s.src);
    if (!st) {
      this.sources.set(s.src, { hwm: s.seq, missing: new Set() });
      return true;
    }
    if (s.seq > st.hwm) {
      for (let k = Math.max(st.hwm + 1, s.seq - MAX_MISSING); k < s.seq; k++) st.missing.add(k);
      if (st.missing.size > MAX_MISSING) {
        const drop = [...st.missing].sort((a, b) => a - b).slice(0, st.missing.size - MAX_MISSING);
        for (const k of drop) st.missing.delete(k);
      }
      st.hwm = s.seq;
      return true;
    }
    if (st.missing.delete(s.seq)) return true;
    this.duplicates++;
    return false;
  }
}
