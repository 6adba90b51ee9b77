/**
 * twin-alarm's state snapshots (runtime/alarm/alarm-state.ts) in a replicated KV bucket, so the
 * instance that takes a line over starts from what its last owner had learned instead of learning
 * afresh. Keys per line and node (`<line>.<node>.meta`, `<line>.<node>.t.<asset/tag>`, names encoded as
 * line-id.ts does): one value per tag, so no value grows with the tag count (a learned-baseline tag
 * is ≈ 30 KB of JSON; NATS refuses a message over max_payload, 1 MB by default). A tag whose entry
 * exceeds `maxValueBytes` is not written (reported in `skipped`: its new owner learns it afresh).
 *
 * Plain put, last writer wins: only the line's owner writes its keys, and compare-and-set by revision
 * (update) does not hold on nats-server 2.9.10 (nats-server issue 4320). A save writes only the tags
 * whose entry changed since the last save through this handle. It is not atomic across keys: a
 * takeover during a save reads some tags from it and some from the one before (each tag whole).
 */
import { createHash } from 'node:crypto';
import type { AlarmsSnapshot } from '../alarm/alarm-state.js';
import { TwinError } from '../model/errors.js';
import { retryTransient } from './expected-append.js';
import { encodeName, parseLineId } from './line-id.js';
import { jetstream, Kvm, type KV, type NatsConnection } from './nats-client.js';

export const ALARM_STATE_BUCKET = 'twinloop_state';
/** Below NATS's default max_payload (1 MiB), with room for the headers. */
export const MAX_STATE_VALUE_BYTES = 1_000_000;

export interface AlarmStateKvOptions {
  nc: NatsConnection;
  /** Bucket replicas (the cluster's; default 3, 1 for a single server). */
  replicas?: number;
  bucket?: string;
  /** Keep trying to open the bucket this long across leader elections (default 30,000 ms). */
  retryForMs?: number;
  maxValueBytes?: number;
}

export interface SaveResult {
  /** Tag entries written (changed since the last save), and their bytes. */
  written: number;
  bytes: number;
  /** Largest tag entry, bytes. */
  largestBytes: number;
  /** Tag ids not written: their entry is larger than maxValueBytes. */
  skipped: string[];
}

export interface LoadResult {
  /** The entries as stored (untrusted: AnomalyAlarms.restore checks them); undefined when the line has none. */
  snapshot: unknown;
  /** Keys whose value was too large or not JSON (left out). */
  unreadable: string[];
}

export interface AlarmStateStore {
  readonly bucket: string;
  save(line: string, nodeId: string, snapshot: AlarmsSnapshot): Promise<SaveResult>;
  load(line: string, nodeId: string): Promise<LoadResult>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function openAlarmStateKv(opts: AlarmStateKvOptions): Promise<AlarmStateStore> {
  const bucket = opts.bucket ?? ALARM_STATE_BUCKET;
  const maxValueBytes = opts.maxValueBytes ?? MAX_STATE_VALUE_BYTES;
  const kv: KV = await retryTransient(
    () => new Kvm(jetstream(opts.nc)).create(bucket, { replicas: opts.replicas ?? 3, history: 1, storage: 'file' }),
    opts.retryForMs,
  );
  /** Digest of each key's last value written through this handle (a tag that did not change is not written again). */
  const written = new Map<string, string>();
  const prefix = (line: string, nodeId: string): string => {
    if (typeof nodeId !== 'string' || nodeId === '') throw new TwinError('BAD_CONFIG', 'a node id is needed for its state');
    return `${encodeName(parseLineId(line))}.${encodeName(nodeId)}`;
  };

  return {
    bucket,
    async save(line, nodeId, snapshot) {
      const p = prefix(line, nodeId);
      const out: SaveResult = { written: 0, bytes: 0, largestBytes: 0, skipped: [] };
      const entries: Array<[string, Uint8Array]> = [[`${p}.meta`, enc.encode(JSON.stringify(snapshot.meta))]];
      for (const t of snapshot.tags) {
        const id = `${t.asset}/${t.tag}`;
        const value = enc.encode(JSON.stringify(t));
        out.largestBytes = Math.max(out.largestBytes, value.length);
        if (value.length > maxValueBytes) out.skipped.push(id);
        else entries.push([`${p}.t.${encodeName(id)}`, value]);
      }
      for (const [key, value] of entries) {
        const digest = createHash('sha256').update(value).digest('base64');
        if (written.get(key) === digest) continue;
        await kv.put(key, value);
        written.set(key, digest);
        out.written++;
        out.bytes += value.length;
      }
      return out;
    },
    async load(line, nodeId) {
      const p = prefix(line, nodeId);
      const keys: string[] = [];
      for await (const k of await kv.keys(`${p}.>`)) keys.push(k);
      const unreadable: string[] = [];
      let meta: unknown;
      const tags: unknown[] = [];
      for (const key of keys.sort()) {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') continue;
        let v: unknown;
        try {
          if (e.value.length > maxValueBytes) throw new Error('too large');
          v = JSON.parse(dec.decode(e.value));
        } catch {
          unreadable.push(key);
          continue;
        }
        if (key === `${p}.meta`) meta = v;
        else if (key.startsWith(`${p}.t.`)) tags.push(v);
      }
      return { snapshot: meta === undefined ? undefined : { meta, tags }, unreadable };
    },
  };
}
