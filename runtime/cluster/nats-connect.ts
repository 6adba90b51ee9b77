/**
 * How TwinLoop opens a NATS connection: the first connect fails at once when no server answers (a
 * node can say so), later losses reconnect forever (a plant network blips; leases and the ledger's
 * expected sequence keep a reconnected instance honest).
 */
import { TwinError } from '../model/errors.js';
import { connect, type NatsConnection } from './nats-client.js';

export interface NatsConnectOptions {
  servers: string[];
  connectTimeoutMs?: number;
  /** Shown by the server's monitoring, e.g. "twinloop <instance>". */
  name?: string;
  user?: string;
  password?: string;
  /** PEM file of the CA that signed the servers' certificates. */
  tlsCaFile?: string;
}

export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: opts.servers,
      timeout: opts.connectTimeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.user ? { user: opts.user, pass: opts.password ?? '' } : {}),
      ...(opts.tlsCaFile ? { tls: { caFile: opts.tlsCaFile } } : {}),
    });
  } catch (err) {
    throw new TwinError('CONNECTION', `cannot connect to NATS at ${opts.servers.join(',')}: ${(err as Error).message}`, { cause: err });
  }
}
