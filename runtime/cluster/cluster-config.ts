/**
 * Checks of a cluster configuration as a config node gives it (text from the edit dialog), without
 * the NATS client, so a node can check its settings without loading the client.
 */
import { TwinError } from '../model/errors.js';

/** "nats://a:4222, nats://b:4222" (commas, spaces or new lines) → checked URLs; throws a BAD_CONFIG naming the bad one. */
export function parseNatsServers(text: unknown): string[] {
  if (typeof text !== 'string') throw new TwinError('BAD_CONFIG', 'NATS servers must be a list of nats:// URLs');
  const list = text.split(/[\s,]+/).filter((s) => s !== '');
  if (list.length === 0) throw new TwinError('BAD_CONFIG', 'no NATS servers: give at least one nats://host:port');
  for (const s of list) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new TwinError('BAD_CONFIG', `NATS server '${s}' is not a URL (nats://host:port)`);
    }
    if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new TwinError('BAD_CONFIG', `NATS server '${s}' is not nats:// or tls://`);
    // credentials belong in the node's credentials, never in the flow's JSON
    if (u.username || u.password) {
      throw new TwinError('BAD_CONFIG', 'a NATS server URL must not hold a user or password (give them as credentials)');
    }
  }
  return list;
}

/** Replicas: 1, 3 or 5 (an even count adds no fault tolerance). */
export function parseReplicas(v: unknown): number {
  const n = v === undefined || v === '' ? 3 : Number(v);
  if (![1, 3, 5].includes(n)) throw new TwinError('BAD_CONFIG', `replicas must be 1, 3 or 5 (got ${String(v)})`);
  return n;
}
