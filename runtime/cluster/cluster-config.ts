/**
 * Checks of a cluster configuration as a config node gives it (text from the edit dialog), without
 * the NATS client, so a node can check its settings without loading the client.
 */
import { createHash } from 'node:crypto';
import { TwinError } from '../model/errors.js';
import { encodeName, parseLineId } from './line-id.js';

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

/** The lines an instance may own: 'site/area/line' ids, one a line or comma separated, checked and without repeats. */
export function parseLineList(text: unknown): string[] {
  if (text !== undefined && typeof text !== 'string') throw new TwinError('BAD_CONFIG', 'lines must be a list of site/area/line ids');
  const out: string[] = [];
  for (const raw of (text ?? '').split(/[\n,]+/)) {
    const id = raw.trim();
    if (id === '') continue;
    parseLineId(id);
    if (!out.includes(id)) out.push(id);
  }
  if (out.length === 0) throw new TwinError('BAD_CONFIG', 'no lines: give at least one site/area/line this instance may own');
  return out;
}

/** What a twin-cluster config node gives, as its edit dialog stores it (text). */
export interface ClusterDefText {
  servers?: unknown;
  instance?: unknown;
  lines?: unknown;
  ttlS?: unknown;
  replicas?: unknown;
  slack?: unknown;
  tlsCaFile?: unknown;
}

export interface ClusterSettings {
  servers: string[];
  /** This instance's name in leases and membership (unique per running instance). */
  instance: string;
  lines: string[];
  ttlMs: number;
  replicas: number;
  slack: number;
  /** PEM file of the CA that signed the servers' certificates (TLS); undefined: plain or system CAs. */
  tlsCaFile?: string;
}

/** Checked cluster settings; a blank instance name becomes `<host>-<pid>` (unique per process run). */
export function parseClusterSettings(def: ClusterDefText, host: { hostname: string; pid: number }): ClusterSettings {
  const instance = typeof def.instance === 'string' && def.instance.trim() !== '' ? def.instance.trim() : `${host.hostname}-${host.pid}`;
  if (instance.length > 100) throw new TwinError('BAD_CONFIG', 'instance name is longer than 100 characters');
  const ttlS = def.ttlS === undefined || def.ttlS === '' ? 10 : Number(def.ttlS);
  if (!Number.isFinite(ttlS) || ttlS < 1 || ttlS > 600)
    throw new TwinError('BAD_CONFIG', `lease must be 1–600 s (got ${String(def.ttlS)})`);
  const slack = def.slack === undefined || def.slack === '' ? 1 : Number(def.slack);
  if (!Number.isInteger(slack) || slack < 0 || slack > 100)
    throw new TwinError('BAD_CONFIG', `slack must be a whole number 0–100 (got ${String(def.slack)})`);
  const ca = typeof def.tlsCaFile === 'string' ? def.tlsCaFile.trim() : '';
  return {
    servers: parseNatsServers(def.servers),
    instance,
    lines: parseLineList(def.lines),
    ttlMs: ttlS * 1000,
    replicas: parseReplicas(def.replicas),
    slack,
    ...(ca !== '' ? { tlsCaFile: ca } : {}),
  };
}

/**
 * The MQTT client id of a line's persistent session: the same on every instance, so the broker keeps
 * one session per line (queued while no instance owns it) and hands it to whoever connects next.
 * Letters and digits of the line are kept, every other byte as _xx (line-id.ts), so two lines never
 * share a session; a long id is cut to a hash (brokers may cap the length).
 */
export function lineClientId(line: string): string {
  const id = `twinloop-${encodeName(parseLineId(line))}`;
  return id.length <= 64 ? id : `twinloop-${createHash('sha256').update(line).digest('hex').slice(0, 40)}`;
}
