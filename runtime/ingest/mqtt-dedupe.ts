/**
 * Drop repeats of messages published through a TwinLoop outbox.
 *
 * QoS 1 is at-least-once: after a broker or publisher restart the same message can arrive twice.
 * twin-mqtt-out stamps each message with MQTT v5 user properties `twinloop-src` (the outbox's id)
 * and `twinloop-seq` (its sequence number in that outbox, strictly increasing, delivered in order),
 * so a receiver only has to remember the highest sequence seen per source.
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

export class OutboxDedupe {
  private readonly highest = new Map<string, number>();

  /** Restore what a previous run saw (see `snapshot`), so a restart does not forget it. */
  constructor(snapshot?: Record<string, number>) {
    for (const [src, seq] of Object.entries(snapshot ?? {})) if (Number.isInteger(seq)) this.highest.set(src, seq);
  }

  /** The highest sequence seen per source, for saving across restarts. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.highest);
  }

  /** Repeats dropped so far (for status and tests). */
  duplicates = 0;

  /** True when the message is new (and remember it); false for a repeat. Unstamped → always new. */
  accept(props: UserProperties): boolean {
    const s = outboxStamp(props);
    if (!s) return true;
    const h = this.highest.get(s.src);
    if (h !== undefined && s.seq <= h) {
      this.duplicates++;
      return false;
    }
    this.highest.set(s.src, s.seq);
    return true;
  }
}
