import { resolveNodeId } from 'node-opcua';
import { badConfig } from '../model/errors.js';
import { DEFAULT_MAX_FUTURE_MS } from '../model/reading.js';

/**
 * Validation of the OPC UA endpoint and item configuration, shared by the Node-RED nodes and the
 * runtime. Every problem is a TwinError('BAD_CONFIG') whose message names the field.
 */
export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type OpcuaSecurityMode = (typeof SECURITY_MODES)[number];

export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type OpcuaSecurityPolicy = (typeof SECURITY_POLICIES)[number];

export interface OpcuaEndpointSettings {
  endpointUrl: string;
  securityMode: OpcuaSecurityMode;
  securityPolicy: OpcuaSecurityPolicy;
  /** Absent = anonymous. */
  user?: string;
  password?: string;
  /** node-opcua PKI root (own/, trusted/, rejected/). */
  pkiDir: string;
  /** Trust a server certificate never seen before (off by default: copy it to trusted/certs). */
  acceptUnknownCertificates: boolean;
  /** Reconnect back-off, wall clock: first delay, doubled up to the max. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
}

export interface OpcuaItem {
  nodeId: string;
  asset: string;
  tag: string;
  unit?: string;
}

export interface OpcuaMonitorSettings {
  items: OpcuaItem[];
  samplingIntervalMs: number;
  /** Absolute deadband in the value's unit; 0 = every change. */
  deadband: number;
  /**
   * Also report when only the source timestamp changes (DataChangeTrigger StatusValueTimestamp), so
   * a constant value (a mode, an alarm, a setpoint between writes) keeps arriving with fresh
   * timestamps from a server that refreshes them — what a freshness check (the control envelope's
   * maxInputAgeMs) needs. Off: only changes of value or status are reported.
   */
  reportTimestamps?: boolean;
  queueSize: number;
  /** A source timestamp further ahead of the wall clock than this is bad; 0 disables the check. */
  maxFutureMs: number;
}

const URL_RE = /^opc\.tcp:\/\/([^\s/:?#]+|\[[0-9a-fA-F:.]+\])(:(\d{1,5}))?(\/[^\s]*)?$/;

export function validateEndpointUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') badConfig('endpoint URL is required (opc.tcp://host:port/path)');
  const u = url.trim();
  const m = URL_RE.exec(u);
  if (!m) badConfig(`endpoint URL must look like opc.tcp://host:port/path, not ${JSON.stringify(u.slice(0, 60))}`);
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) badConfig(`endpoint URL port ${port} is out of range 1..65535`);
  }
  return u;
}

/** The security mode and policy must agree: None with None, Sign/SignAndEncrypt with a real policy. */
export function validateSecurity(mode: unknown, policy: unknown): { securityMode: OpcuaSecurityMode; securityPolicy: OpcuaSecurityPolicy } {
  const m = (mode === undefined || mode === '' ? 'None' : mode) as OpcuaSecurityMode;
  if (!SECURITY_MODES.includes(m)) badConfig(`security mode must be one of ${SECURITY_MODES.join(', ')}, not ${String(mode)}`);
  const p = (policy === undefined || policy === '' ? (m === 'None' ? 'None' : undefined) : policy) as OpcuaSecurityPolicy | undefined;
  if (p === undefined || !SECURITY_POLICIES.includes(p)) {
    badConfig(`security policy must be one of ${SECURITY_POLICIES.join(', ')}, not ${String(policy)}`);
  }
  if (m === 'None' && p !== 'None') badConfig(`security mode None needs security policy None, not ${p}`);
  if (m !== 'None' && p === 'None') badConfig(`security mode ${m} needs a security policy (${SECURITY_POLICIES.slice(1).join(', ')})`);
  return { securityMode: m, securityPolicy: p };
}

/** Raw endpoint config (from the editor) → settings, or BAD_CONFIG. */
export function validateEndpointSettings(raw: {
  endpointUrl?: unknown;
  securityMode?: unknown;
  securityPolicy?: unknown;
  authMode?: unknown;
  user?: unknown;
  password?: unknown;
  pkiDir: string;
  acceptUnknownCertificates?: unknown;
}): OpcuaEndpointSettings {
  const endpointUrl = validateEndpointUrl(raw.endpointUrl);
  const sec = validateSecurity(raw.securityMode, raw.securityPolicy);
  const authMode = raw.authMode === undefined || raw.authMode === '' ? 'anonymous' : raw.authMode;
  if (authMode !== 'anonymous' && authMode !== 'username')
    badConfig(`authentication must be anonymous or username, not ${String(authMode)}`);
  const settings: OpcuaEndpointSettings = {
    endpointUrl,
    ...sec,
    pkiDir: raw.pkiDir,
    acceptUnknownCertificates: raw.acceptUnknownCertificates === true || raw.acceptUnknownCertificates === 'true',
  };
  if (authMode === 'username') {
    if (typeof raw.user !== 'string' || raw.user.trim() === '') badConfig('user name is required for user/password authentication');
    settings.user = raw.user;
    settings.password = typeof raw.password === 'string' ? raw.password : '';
  }
  return settings;
}

/** Parse a node id string with node-opcua; BAD_CONFIG when it is not one. */
export function validateNodeId(nodeId: unknown, where = 'nodeId'): string {
  if (typeof nodeId !== 'string' || nodeId.trim() === '') badConfig(`${where} is required (e.g. ns=1;s=Temperature)`);
  try {
    return resolveNodeId(nodeId.trim()).toString();
  } catch (err) {
    badConfig(`${where} ${JSON.stringify(nodeId.slice(0, 60))} is not a valid OPC UA node id: ${(err as Error).message}`);
  }
}

function num(raw: unknown, dflt: number): number {
  if (raw === undefined || raw === null || raw === '') return dflt;
  return typeof raw === 'number' ? raw : Number(raw);
}

export function validateMonitorSettings(raw: {
  items?: unknown;
  samplingIntervalMs?: unknown;
  deadband?: unknown;
  reportTimestamps?: unknown;
  queueSize?: unknown;
  maxFutureMs?: unknown;
}): OpcuaMonitorSettings {
  if (!Array.isArray(raw.items) || raw.items.length === 0) badConfig('at least one item (node id → asset/tag) is required');
  const seenNodes = new Set<string>();
  const seenTopics = new Set<string>();
  const items = raw.items.map((it: unknown, i: number): OpcuaItem => {
    const where = `item ${i + 1}`;
    const x = (it ?? {}) as Record<string, unknown>;
    const nodeId = validateNodeId(x.nodeId, `${where}: nodeId`);
    const asset = typeof x.asset === 'string' ? x.asset.trim() : '';
    const tag = typeof x.tag === 'string' ? x.tag.trim() : '';
    if (!asset) badConfig(`${where} (${nodeId}): asset is required`);
    if (!tag) badConfig(`${where} (${nodeId}): tag is required`);
    if (tag.includes('/')) badConfig(`${where} (${nodeId}): tag must not contain '/' (put levels in the asset path)`);
    if (seenNodes.has(nodeId)) badConfig(`${where}: node id ${nodeId} is listed twice`);
    const topic = `${asset}/${tag}`;
    if (seenTopics.has(topic)) badConfig(`${where}: ${topic} is mapped twice`);
    seenNodes.add(nodeId);
    seenTopics.add(topic);
    const unit = typeof x.unit === 'string' && x.unit.trim() !== '' ? x.unit.trim() : undefined;
    return unit ? { nodeId, asset, tag, unit } : { nodeId, asset, tag };
  });
  const samplingIntervalMs = num(raw.samplingIntervalMs, 1000);
  if (!Number.isFinite(samplingIntervalMs) || samplingIntervalMs < 0)
    badConfig(`sampling interval must be a number of ms >= 0, not ${String(raw.samplingIntervalMs)}`);
  const deadband = num(raw.deadband, 0);
  if (!Number.isFinite(deadband) || deadband < 0) badConfig(`deadband must be a number >= 0, not ${String(raw.deadband)}`);
  const queueSize = num(raw.queueSize, 1);
  if (!Number.isInteger(queueSize) || queueSize < 1) badConfig(`queue size must be a whole number >= 1, not ${String(raw.queueSize)}`);
  const maxFutureMs = num(raw.maxFutureMs, DEFAULT_MAX_FUTURE_MS);
  if (!Number.isFinite(maxFutureMs) || maxFutureMs < 0) badConfig(`max future must be a number of ms >= 0, not ${String(raw.maxFutureMs)}`);
  const reportTimestamps = raw.reportTimestamps === true || raw.reportTimestamps === 'true';
  return { items, samplingIntervalMs, deadband, reportTimestamps, queueSize, maxFutureMs };
}
