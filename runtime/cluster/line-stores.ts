/**
 * The replicated stores of one line behind one NATS connection: its JetStream ledger
 * (jetstream-ledger.ts) and the shared used-command claims (kv-used-commands.ts). What a twin-ledger
 * configured for "NATS JetStream" hands the gate and the writers in place of the embedded files.
 *
 * The connection keeps reconnecting after it is up (a cluster elects leaders, servers restart); a
 * cluster that cannot be reached at open is an error at once, so the caller shows it instead of
 * waiting. While the servers are gone, an append is retried for `retryForMs` and then rejected; the
 * ledger handle is then fenced (its outcome is unknown) and refuses every later append, so nothing
 * acts on a ledger it could not write. A fresh open (after a redeploy) reads the stream again.
 */
import type { Ledger, UsedCommands } from '../control/stores.js';
import { connectNats } from './nats-connect.js';
import type { NatsConnection } from './nats-client.js';
import { openJetStreamLedger, type JetStreamLedger } from './jetstream-ledger.js';
import { openKvUsedCommands } from './kv-used-commands.js';
import { parseLineId } from './line-id.js';
import { parseReplicas } from './cluster-config.js';
import { ownerEntry } from './owned-stores.js';

export interface LineStoresOptions {
  /** nats:// (or tls://) URLs of the cluster's servers. */
  servers: string[];
  /** 'site/area/line' */
  line: string;
  /** Who claims command ids (an instance or node id), kept in the claim for people. */
  owner: string;
  /** Stream and bucket replicas (default 3; 1 for a single server). */
  replicas?: number;
  user?: string;
  password?: string;
  /** The twin-ledger's signing key: records get MACs, checked on open. */
  signingKey?: string;
  /** Keep trying an append or a claim this long across leader elections (default 30,000 ms). */
  retryForMs?: number;
  /** Give up the first connection after this long (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** PEM file of the CA of the servers' TLS certificates. */
  tlsCaFile?: string;
  /** Client name the servers show (monitoring). */
  name?: string;
}

export interface LineStores {
  ledger: JetStreamLedger & Ledger;
  usedCommands: UsedCommands;
  nc: NatsConnection;
  /** Close the stores, then the connection (waits for appends in flight). */
  close(): Promise<void>;
}

export async function openLineStores(opts: LineStoresOptions): Promise<LineStores> {
  const line = parseLineId(opts.line);
  const replicas = parseReplicas(opts.replicas);
  const nc = await connectNats(opts);
  const retry = opts.retryForMs !== undefined ? { retryForMs: opts.retryForMs } : {};
  let ledger: JetStreamLedger | undefined;
  try {
    const key = opts.signingKey !== undefined ? { signingKey: opts.signingKey } : {};
    ledger = await openJetStreamLedger({ nc, line, replicas, ...retry, ...key });
    const usedCommands = await openKvUsedCommands({ nc, owner: opts.owner, replicas, ...retry });
    const l = ledger;
    return {
      ledger: l,
      usedCommands,
      nc,
      async close() {
        await Promise.allSettled([l.close(), usedCommands.close()]);
        await nc.close();
      },
    };
  } catch (err) {
    await ledger?.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Open the stores as the line's new owner (`instance`, its lease just acquired): the stream is read
 * and verified, then the 'owner' record is appended before anything else. From that record on, the
 * former owner's handle is refused (LedgerFencedError) on its next append, whether or not the new
 * owner has decided anything yet. Rejects (stores closed) when the record cannot be appended.
 */
export async function openLineStoresAsOwner(opts: LineStoresOptions & { instance: string }): Promise<LineStores> {
  const s = await openLineStores(opts);
  try {
    await s.ledger.append(ownerEntry(s.ledger.line, opts.instance));
  } catch (err) {
    await s.close().catch(() => undefined);
    throw err;
  }
  return s;
}
