/**
 * Used command ids shared by every instance (the UsedCommands of stores.ts, in place of the
 * embedded file): a claim is a KV create() of the id's key in a replicated bucket. create() on a
 * key that was never written is the one compare-and-set that holds on nats-server 2.9.10 at R3
 * (measured: one winner in 1,000 of 1,000 three-way races); KV update(revision) does not, and is not
 * used. Keys are never deleted or expire: a command id stays used.
 *
 * A claim whose ack was lost (leader killed) is repeated; if the repeat finds the key taken, the
 * value there is compared with this claim's nonce, so a claim that landed is still reported won.
 *
 * has() is synchronous (the writer asks before it claims): it knows the ids claimed or refused
 * through this handle and those loaded at open; claim() is the authority across instances.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from './nats-client.js';
import { jetstream, JetStreamApiCodes, JetStreamApiError } from './nats-client.js';
import { Kvm, type KV } from './nats-client.js';
import { TwinError } from '../model/errors.js';
import type { UsedCommands } from '../control/stores.js';
import { encodeName } from './line-id.js';
import { retryTransient } from './expected-append.js';

export const USED_COMMANDS_BUCKET = 'twinloop_used_commands';

export interface KvUsedCommandsOptions {
  nc: NatsConnection;
  /** Who claims (an instance id), kept in the value for people. */
  owner: string;
  /** Bucket replicas (default 3; 1 for a single server). */
  replicas?: number;
  bucket?: string;
  /** Keep trying a claim this long across leader elections (default 30,000 ms). */
  retryForMs?: number;
  /** Load the ids already used at open, so has() knows them (default true). */
  preload?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isTaken = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export async function openKvUsedCommands(opts: KvUsedCommandsOptions): Promise<UsedCommands & { readonly bucket: string }> {
  const bucketName = opts.bucket ?? USED_COMMANDS_BUCKET;
  const bucketOpts = { replicas: opts.replicas ?? 3, history: 1, storage: 'file' as const };
  const kv: KV = await retryTransient(() => new Kvm(jetstream(opts.nc)).create(bucketName, bucketOpts), opts.retryForMs);
  const used = new Set<string>();
  if (opts.preload !== false) {
    await retryTransient(async () => {
      for await (const k of await kv.keys()) used.add(k);
    }, opts.retryForMs);
  }
  let closed = false;
  const retryForMs = opts.retryForMs ?? 30_000;

  async function claim(commandId: string): Promise<boolean> {
    if (closed) throw new TwinError('LEDGER', `used-commands bucket ${bucketName}: this handle is closed`);
    if (typeof commandId !== 'string' || commandId === '') throw new TwinError('BAD_PAYLOAD', 'command id must be a non-empty string');
    const key = encodeName(commandId);
    if (used.has(key)) return false;
    const nonce = randomUUID();
    const value = enc.encode(JSON.stringify({ id: commandId, owner: opts.owner, nonce, tsMs: Date.now() }));
    const until = Date.now() + retryForMs;
    let lastErr: unknown;
    for (let attempt = 0; Date.now() < until; attempt++) {
      if (attempt > 0) await sleep(Math.min(250, 25 * attempt));
      try {
        await kv.create(key, value);
        used.add(key);
        return true;
      } catch (err) {
        if (!isTaken(err)) {
          lastErr = err;
          continue;
        }
      }
      try {
        const e = await kv.get(key);
        if (!e) continue; // not readable yet: ask again
        used.add(key);
        return (JSON.parse(dec.decode(e.value)) as { nonce?: string }).nonce === nonce;
      } catch (err) {
        lastErr = err;
      }
    }
    const why = (lastErr as Error)?.message;
    const msg = `claim of command ${commandId}: no answer from ${bucketName} within ${retryForMs} ms (${why})`;
    throw new TwinError('LEDGER', msg, { cause: lastErr });
  }

  return {
    bucket: bucketName,
    claim,
    has: (id: string) => used.has(encodeName(id)),
    close: async () => {
      closed = true;
    },
  };
}
