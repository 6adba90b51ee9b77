/**
 * twin-influx-config validation and the API twin-historian and twin-history-in use (kept apart from
 * the node file, whose only export must be the Node-RED registration function).
 */
import type { Node, NodeDef } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { PRECISIONS, type InfluxPoint, type InfluxPrecision, type PointOptions } from '../../runtime/store/influx-points.js';
import type { HistoryRequest } from '../../runtime/store/influx-query.js';
import type { WriterState } from '../../runtime/store/influx-writer.js';

export interface TwinInfluxConfigDef extends NodeDef {
  url: string;
  database: string;
  retentionPolicy: string;
  precision: string;
  createDatabase: boolean;
  site: string;
  line: string;
  batchSize: number | string;
  flushMs: number | string;
  bufferMaxEntries: number | string;
  retryMinMs: number | string;
  retryMaxMs: number | string;
  timeoutMs: number | string;
}

export interface TwinInfluxCredentials {
  user?: string;
  password?: string;
}

export interface InfluxSettings {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  database: string;
  retentionPolicy: string;
  precision: InfluxPrecision;
  createDatabase: boolean;
  extraTags: Record<string, string>;
  batchSize: number;
  flushMs: number;
  bufferMaxEntries: number;
  retryMinMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  username?: string;
  password?: string;
}

/** What twin-historian and twin-history-in see of the config node. */
export interface TwinInfluxConfigApi extends Node {
  configError?: string;
  /** The validated settings without the credentials. */
  influx?: Omit<InfluxSettings, 'username' | 'password'>;
  /** `onChange` hears of every change of the writer's state or buffer (the user throttles its status). */
  register(user: Node, onChange: (state: WriterState | 'error', detail: string) => void): void;
  deregister(user: Node, done: () => void): void;
  pointOptions(): PointOptions;
  /** Resolves once the points are durable in the buffer. */
  write(points: InfluxPoint[]): Promise<void>;
  buffered(): number;
  written(): number;
  query(req: HistoryRequest): Promise<Record<string, unknown>[]>;
}

function int(v: unknown, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  return Number(v);
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Validate the config; returns the settings or throws BAD_CONFIG. */
export function influxSettings(def: Partial<TwinInfluxConfigDef>, creds: TwinInfluxCredentials): InfluxSettings {
  const raw = String(def.url ?? '').trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TwinError('BAD_CONFIG', `InfluxDB URL must look like http://host:8086, not '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TwinError('BAD_CONFIG', `InfluxDB URL must start with http:// or https://, not '${raw}'`);
  if (url.username || url.password)
    throw new TwinError('BAD_CONFIG', 'put the InfluxDB user and password in the credentials, not in the URL');
  const database = String(def.database ?? '').trim();
  if (!NAME.test(database)) throw new TwinError('BAD_CONFIG', `database must be 1 to 64 letters, digits, _ . or -, not '${database}'`);
  const retentionPolicy = String(def.retentionPolicy ?? '').trim();
  if (retentionPolicy && !NAME.test(retentionPolicy))
    throw new TwinError('BAD_CONFIG', `retention policy must be letters, digits, _ . or -, not '${retentionPolicy}'`);
  const precision = (String(def.precision ?? '').trim() || 'ms') as InfluxPrecision;
  if (!PRECISIONS.includes(precision))
    throw new TwinError('BAD_CONFIG', `precision must be one of ${PRECISIONS.join(', ')}, not '${precision}'`);
  const numbers = {
    batchSize: int(def.batchSize, 1000),
    flushMs: int(def.flushMs, 1000),
    bufferMaxEntries: int(def.bufferMaxEntries, 1_000_000),
    retryMinMs: int(def.retryMinMs, 500),
    retryMaxMs: int(def.retryMaxMs, 30_000),
    timeoutMs: int(def.timeoutMs, 10_000),
  };
  for (const [k, v] of Object.entries(numbers)) {
    if (!Number.isInteger(v) || v < (k === 'flushMs' ? 0 : 1))
      throw new TwinError('BAD_CONFIG', `${k} must be a whole number ≥ ${k === 'flushMs' ? 0 : 1}, not ${String(v)}`);
  }
  if (numbers.batchSize > 100_000)
    throw new TwinError('BAD_CONFIG', 'batchSize must be at most 100000 (InfluxDB advises 5000 to 10000 points per write)');
  if (numbers.retryMaxMs < numbers.retryMinMs) throw new TwinError('BAD_CONFIG', 'retryMaxMs must not be below retryMinMs');
  const extraTags: Record<string, string> = {};
  for (const k of ['site', 'line'] as const) {
    const v = String(def[k] ?? '').trim();
    if (/[\n\r\t]/.test(v)) throw new TwinError('BAD_CONFIG', `${k} must not contain a line break or tab`);
    if (v) extraTags[k] = v;
  }
  return {
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 8086,
    path: url.pathname.replace(/\/+$/, ''),
    database,
    retentionPolicy,
    precision,
    createDatabase: def.createDatabase !== false,
    extraTags,
    ...numbers,
    username: creds.user || undefined,
    password: creds.password || undefined,
  };
}
