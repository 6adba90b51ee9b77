/**
 * Who holds each line now, read from the lines' lease streams (line-lease.ts) without writing
 * anything and without creating a stream: for people and tools watching a cluster (the cluster
 * demo's ownership table, the 3-instance spec). A line whose stream does not exist yet, or whose
 * last event is a release, has no holder. What an instance may act on is decided by its own lease,
 * never by this view.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from './nats-client.js';
import { leaseStreamName, leaseSubject } from './line-id.js';
import type { LeaseEvent } from './line-lease.js';

export interface LineHolder {
  line: string;
  /** The owner by the last lease event (undefined: never claimed, or released). */
  holder?: string;
  last?: LeaseEvent;
  /** Stream sequence of the last event (0: none). */
  seq: number;
}

export async function leaseHolders(jsm: JetStreamManager, lines: readonly string[]): Promise<LineHolder[]> {
  const dec = new TextDecoder();
  return Promise.all(
    lines.map(async (line): Promise<LineHolder> => {
      try {
        const m = await jsm.streams.getMessage(leaseStreamName(line), { last_by_subj: leaseSubject(line) });
        if (!m) return { line, seq: 0 };
        const last = JSON.parse(dec.decode(m.data)) as LeaseEvent;
        return { line, seq: m.seq, last, ...(last.kind !== 'release' ? { holder: last.owner } : {}) };
      } catch (err) {
        const none = [JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.NoMessageFound] as number[];
        if (err instanceof JetStreamApiError && none.includes(err.code)) return { line, seq: 0 };
        throw err;
      }
    }),
  );
}

/** Lines per holder, sorted by holder then line (released and unclaimed lines under ''). */
export function linesByHolder(view: readonly LineHolder[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of [...view].sort((a, b) => (a.holder ?? '').localeCompare(b.holder ?? '') || a.line.localeCompare(b.line))) {
    const k = v.holder ?? '';
    out.set(k, [...(out.get(k) ?? []), v.line]);
  }
  return out;
}
