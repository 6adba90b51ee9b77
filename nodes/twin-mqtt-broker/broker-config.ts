/**
 * twin-mqtt-broker config validation and the API that twin-mqtt-in/out use (kept apart from the
 * node file, whose only export must be the Node-RED registration function).
 */
import type { Node, NodeDef } from 'node-red';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinkState, MessageHandler, MqttLink, OutboundMessage } from '../../runtime/ingest/mqtt-link.js';
import { TwinError } from '../../runtime/model/errors.js';
import { readSecretFile, unresolvedEnv } from '../shared/secret-file.js';
import type { LatestReadings } from '../../runtime/ingest/source-items.js';

export interface TwinMqttBrokerDef extends NodeDef {
  url: string;
  clientId: string;
  cleanSession: boolean;
  sessionExpiryS: number | string;
  keepaliveS: number | string;
  protocolVersion: number | string;
  tlsCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  rejectUnauthorized: boolean;
  reconnectPeriodMs: number | string;
  maxReconnectPeriodMs: number | string;
  outboxMaxEntries: number | string;
  inflightWindow: number | string;
  /** User name when the credential is empty (no secret; may be `${ENV}`). */
  username?: string;
  /** Owner-only file holding the password, when the credential is empty (may be `${ENV}`, a path). */
  passwordFile?: string;
}

export interface TwinMqttBrokerCredentials {
  user?: string;
  password?: string;
  passphrase?: string;
}

/** What twin-mqtt-in/out see of the config node. */
export interface TwinMqttBrokerApi extends Node {
  configError?: string;
  link?: MqttLink;
  register(user: Node, onState: (state: LinkState | 'error', text: string) => void): void;
  deregister(user: Node, done: () => void): void;
  subscribe(filter: string, qos: 0 | 1 | 2, handler: MessageHandler): (unsubscribe?: boolean) => void;
  enqueue(msg: OutboundMessage): Promise<number>;
  publishDirect(topic: string, payload: Buffer | string, qos?: 0 | 1 | 2): Promise<void>;
  queueSize(): number;
  /**
   * A separate connection with this broker's settings but its own client id and a persistent session
   * (clean = false, session expiry ≥ 1 h, no outbox), not started: twin-mqtt-in's per-line session in a cluster.
   * `will`: what the broker publishes when that connection dies (the line's Sparkplug STATE offline).
   */
  openLink?(clientId: string, will?: OutboundMessage): MqttLink;
  /** Latest readings received through this broker by twin-mqtt-in (only the keys writers want). */
  latest: LatestReadings;
}

function int(v: unknown, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  return Number(v);
}

/** Validate the config; returns the link options or throws BAD_CONFIG. */
export function brokerOptions(def: TwinMqttBrokerDef, creds: TwinMqttBrokerCredentials) {
  const url = String(def.url ?? '').trim();
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(url)) {
    throw new TwinError('BAD_CONFIG', `broker URL must start with mqtt://, mqtts://, ws:// or wss:// and name a host, not '${url}'`);
  }
  const numbers = {
    sessionExpiryS: int(def.sessionExpiryS, 3600),
    keepaliveS: int(def.keepaliveS, 60),
    reconnectPeriodMs: int(def.reconnectPeriodMs, 1000),
    maxReconnectPeriodMs: int(def.maxReconnectPeriodMs, 30_000),
    outboxMaxEntries: int(def.outboxMaxEntries, 100_000),
    inflightWindow: int(def.inflightWindow, 10),
  };
  for (const [k, v] of Object.entries(numbers)) {
    if (!Number.isInteger(v) || v < 0) throw new TwinError('BAD_CONFIG', `${k} must be a whole number ≥ 0, not ${String(v)}`);
  }
  if (numbers.reconnectPeriodMs < 10) throw new TwinError('BAD_CONFIG', 'reconnectPeriodMs must be at least 10');
  if (numbers.maxReconnectPeriodMs < numbers.reconnectPeriodMs)
    throw new TwinError('BAD_CONFIG', 'maxReconnectPeriodMs must not be below reconnectPeriodMs');
  if (numbers.outboxMaxEntries < 1) throw new TwinError('BAD_CONFIG', 'outboxMaxEntries must be at least 1');
  if (numbers.inflightWindow < 1 || numbers.inflightWindow > 1000)
    throw new TwinError('BAD_CONFIG', 'inflightWindow must be between 1 and 1000');
  const protocolVersion = int(def.protocolVersion, 5);
  if (protocolVersion !== 4 && protocolVersion !== 5)
    throw new TwinError('BAD_CONFIG', `protocolVersion must be 4 (MQTT 3.1.1) or 5, not ${protocolVersion}`);
  const clientId = String(def.clientId ?? '').trim() || `twinloop-${def.id}`;
  if (clientId.length > 128) throw new TwinError('BAD_CONFIG', 'clientId is longer than 128 characters');
  const readPem = (path: string, what: string): Buffer | undefined => {
    if (!path || !path.trim()) return undefined;
    try {
      return readFileSync(path.trim());
    } catch (err) {
      throw new TwinError(
        'BAD_CONFIG',
        `cannot read TLS ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const secure = /^(mqtts|wss|ssl):/.test(url);
  const ca = readPem(def.tlsCaFile, 'CA');
  const cert = readPem(def.tlsCertFile, 'certificate');
  const key = readPem(def.tlsKeyFile, 'key');
  if (!!cert !== !!key) throw new TwinError('BAD_CONFIG', 'a TLS client certificate needs its key, and a key its certificate');
  const tls =
    secure || ca || cert
      ? { ca, cert, key, passphrase: creds.passphrase || undefined, rejectUnauthorized: def.rejectUnauthorized !== false }
      : undefined;
  return {
    url,
    clientId,
    clean: def.cleanSession === true,
    protocolVersion: protocolVersion as 4 | 5,
    sessionExpiryS: numbers.sessionExpiryS,
    keepaliveS: numbers.keepaliveS,
    reconnectPeriodMs: numbers.reconnectPeriodMs,
    maxReconnectPeriodMs: numbers.maxReconnectPeriodMs,
    connectTimeoutMs: 10_000,
    inflightWindow: numbers.inflightWindow,
    outboxMaxEntries: numbers.outboxMaxEntries,
    username: creds.user || (unresolvedEnv(def.username) ? '' : (def.username ?? '').trim()) || undefined,
    password: creds.password || passwordFromFile(def.passwordFile),
    tls,
  };
}

/** The password in the owner-only file `path` names (blank or an unresolved `${ENV}`: none); a bad file is a config error. */
function passwordFromFile(path: string | undefined): string | undefined {
  if (!path || !path.trim() || unresolvedEnv(path)) return undefined;
  const r = readSecretFile(path.trim(), 'MQTT password');
  if (r.problem !== undefined) throw new TwinError('BAD_CONFIG', r.problem);
  return r.secret;
}

/** `<userDir>/twinloop/<kind>/<id>`; without a userDir, under TWINLOOP_HOME or the temp dir. */
export function dataPath(userDir: string | undefined, kind: string, id: string): string {
  const base = userDir || process.env.TWINLOOP_HOME || join(tmpdir(), 'twinloop-home');
  return join(base, 'twinloop', kind, id.replace(/[^A-Za-z0-9_.-]/g, '_'));
}

/** `<userDir>/twinloop/outbox/<id>`; without a userDir, under TWINLOOP_HOME or the temp dir. */
export function outboxDir(userDir: string | undefined, id: string): string {
  return dataPath(userDir, 'outbox', id);
}
