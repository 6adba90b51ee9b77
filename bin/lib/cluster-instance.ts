/**
 * `twinloop start --cluster`: the settings of one cluster instance, checked, handed to Node-RED
 * through the environment its flow names (cluster-flow.ts), and the flow file it runs.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseLineList, parseNatsServers } from '../../runtime/cluster/cluster-config.js';
import { encodeName } from '../../runtime/cluster/line-id.js';
import { UsageError, numberOption } from '../commands/usage.js';
import { CLUSTER_ENV, clusterFlow } from './cluster-flow.js';

export interface ClusterOptionText {
  cluster?: string;
  lines?: string;
  'mqtt-url'?: string;
  instance?: string;
  'lease-s'?: string;
  'nats-ca'?: string;
  flow?: string;
}

export interface ClusterInstance {
  servers: string[];
  lines: string[];
  instance: string;
  leaseS: number;
  mqttUrl: string;
  natsCaFile?: string;
  /** The site's own flow (--flow), absolute; undefined: the generated one. */
  siteFlow?: string;
}

/** Checked settings from the options, then the environment; throws a UsageError naming what is wrong. */
export function clusterInstance(values: ClusterOptionText, env: NodeJS.ProcessEnv, pid = process.pid): ClusterInstance {
  const servers = parseNatsServers(values.cluster);
  const linesText = values.lines ?? env[CLUSTER_ENV.lines];
  if (!linesText) throw new UsageError('--cluster needs --lines (or TWINLOOP_LINES): the site/area/line ids this instance may own');
  const lines = parseLineList(linesText);
  const mqttUrl = values['mqtt-url'] ?? env[CLUSTER_ENV.mqttUrl];
  if (!mqttUrl) throw new UsageError("--cluster needs --mqtt-url (or TWINLOOP_MQTT_URL): the site's MQTT broker");
  let u: URL;
  try {
    u = new URL(mqttUrl);
  } catch {
    throw new UsageError(`--mqtt-url '${mqttUrl}' is not a URL (mqtt://host:port)`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol))
    throw new UsageError(`--mqtt-url '${mqttUrl}' is not mqtt://, mqtts://, ws:// or wss://`);
  if (u.username || u.password)
    throw new UsageError('--mqtt-url must not hold a user or password: set TWINLOOP_MQTT_USER and TWINLOOP_MQTT_PASSWORD_FILE');
  const instance = (values.instance ?? env[CLUSTER_ENV.instance] ?? '').trim() || `${hostname()}-${pid}`;
  if (instance.length > 100) throw new UsageError('--instance is longer than 100 characters');
  const leaseS = numberOption(values['lease-s'] ?? env[CLUSTER_ENV.leaseS] ?? '10', 'lease-s', (n) => n >= 1 && n <= 600, '1–600 seconds')!;
  const natsCaFile = values['nats-ca'] ?? env[CLUSTER_ENV.natsCa] ?? '';
  if (natsCaFile !== '' && !existsSync(natsCaFile)) throw new UsageError(`--nats-ca ${natsCaFile}: no such file`);
  let siteFlow: string | undefined;
  if (values.flow !== undefined) {
    siteFlow = resolve(values.flow);
    if (!existsSync(siteFlow)) throw new UsageError(`--flow ${siteFlow}: no such file`);
  }
  return {
    servers,
    lines,
    instance,
    leaseS,
    mqttUrl,
    ...(natsCaFile !== '' ? { natsCaFile: resolve(natsCaFile) } : {}),
    ...(siteFlow ? { siteFlow } : {}),
  };
}

/** This instance's own MQTT client id (its outbox session): never a line's (`twinloop-<line>` holds `_2f`). */
export function instanceClientId(instance: string): string {
  const id = `twinloop-instance-${encodeName(instance)}`;
  return id.length <= 64 ? id : `twinloop-instance-${createHash('sha256').update(instance).digest('hex').slice(0, 40)}`;
}

/** The variables the flow names, set in this process's environment (Node-RED reads them at flow start). */
export function setClusterEnv(c: ClusterInstance, env: NodeJS.ProcessEnv): void {
  env[CLUSTER_ENV.servers] = c.servers.join(',');
  env[CLUSTER_ENV.instance] = c.instance;
  env[CLUSTER_ENV.lines] = c.lines.join(',');
  env[CLUSTER_ENV.leaseS] = String(c.leaseS);
  env[CLUSTER_ENV.natsCa] = c.natsCaFile ?? '';
  env[CLUSTER_ENV.mqttUrl] = c.mqttUrl;
  env[CLUSTER_ENV.mqttClientId] = instanceClientId(c.instance);
}

/** Node-RED's credentials file format (aes-256-ctr under sha256 of the credential secret, IV first, in hex). */
function encryptCredentials(secret: string, creds: unknown): { $: string } {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64') };
}

/**
 * The flow file to run: the site's own, or the generated one written to `<home>/cluster-flows.json`
 * with the NATS login (TWINLOOP_NATS_USER / TWINLOOP_NATS_PASSWORD) as the twin-cluster's
 * credentials, encrypted beside it as Node-RED keeps credentials.
 */
export function clusterFlowFile(c: ClusterInstance, home: string, credentialSecret: string, env: NodeJS.ProcessEnv): string {
  if (c.siteFlow) return c.siteFlow;
  const flowFile = join(home, 'cluster-flows.json');
  writeFileSync(flowFile, JSON.stringify(clusterFlow(c.lines.join('\n')), null, 2) + '\n', { mode: 0o600 });
  const credFile = join(home, 'cluster-flows_cred.json');
  if (env.TWINLOOP_NATS_USER) {
    const creds = { 'cluster-lines-cluster': { user: env.TWINLOOP_NATS_USER, password: env.TWINLOOP_NATS_PASSWORD ?? '' } };
    writeFileSync(credFile, JSON.stringify(encryptCredentials(credentialSecret, creds)) + '\n', { mode: 0o600 });
  } else rmSync(credFile, { force: true });
  return flowFile;
}
