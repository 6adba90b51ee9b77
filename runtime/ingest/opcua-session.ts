/**
 * Shared OPC UA client sessions (ARCHITECTURE.md principle 6): one client and one session per endpoint
 * configuration, acquired and released by every user, with monitored items exposed as RxJS
 * Observables of Readings.
 *
 * Connection life cycle:
 * - the first connection is tried by us with an exponential back-off on the wall clock (a server
 *   that is down, a rejected certificate or a wrong password is reported and retried);
 * - once the session exists, node-opcua's own reconnection takes over (same back-off bounds): it
 *   reactivates the session or, after a server restart, creates a new one and recreates every
 *   subscription and monitored item exactly once from the client's records;
 * - when the link is lost every monitored tag gets one bad reading ('BadConnectionClosed') that marks
 *   the gap; readings resume with the next sample after the repair.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttributeIds,
  BrowseDirection,
  DataType,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  MessageSecurityMode,
  NodeClass,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import { BehaviorSubject, Observable, type Subscriber } from 'rxjs';
import { TwinError } from '../model/errors.js';
import type { Reading } from '../model/reading.js';
import type { OpcuaEndpointSettings, OpcuaItem, OpcuaMonitorSettings } from './opcua-config.js';
import { dataValueToReading, gapReading } from './opcua-reading.js';

export type ConnectionStateName = 'connecting' | 'connected' | 'reconnecting' | 'error' | 'closed';

export interface ConnectionState {
  state: ConnectionStateName;
  /** Why the last attempt failed (no secrets), e.g. 'BadUserAccessDenied'. */
  error?: string;
  /** Short kind of the error for a status line: 'access denied', 'cert untrusted', 'unreachable'. */
  errorKind?: string;
  /** Next attempt in ms (while retrying). */
  retryInMs?: number;
}

/** What a monitor emits: a reading, or an item whose value cannot be a Reading (mapping error). */
export type OpcuaSample = { kind: 'reading'; item: OpcuaItem; reading: Reading } | { kind: 'invalid'; item: OpcuaItem; error: TwinError };

export interface BrowseEntry {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
}

/** A read or write answered with a status other than Good; `statusName` is e.g. 'BadOutOfRange'. */
export class OpcuaStatusError extends Error {
  constructor(
    readonly statusName: string,
    message: string,
  ) {
    super(message);
    this.name = 'OpcuaStatusError';
  }
}

/** Reason of the bad readings that mark a lost connection. */
export const CONNECTION_LOST_REASON = 'BadConnectionClosed';

const DEFAULT_INITIAL_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 30_000;
/** Items per CreateMonitoredItems request (node-opcua's server default limit is 10,000). */
const ITEMS_PER_CALL = 1000;

function sleep(ms: number, signal: { cancelled: boolean; wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

/** Exponential back-off with ±10 % jitter: initial·2^attempt, capped. */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** Classify a connection error for the status line (never includes credentials). */
export function classifyError(err: unknown): { error: string; errorKind: string } {
  const msg = String((err as Error)?.message ?? err);
  const firstLine = msg.split('\n')[0].slice(0, 200);
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid/.test(msg)) {
    const code = /(Bad(UserAccessDenied|IdentityToken\w+|UserSignatureInvalid))/.exec(msg)?.[1] ?? 'BadUserAccessDenied';
    return { error: `${code}: user name or password rejected by the server`, errorKind: 'access denied' };
  }
  if (/ANONYMOUS user token policy/i.test(msg)) {
    return { error: 'the server does not accept anonymous sessions: configure a user and password', errorKind: 'access denied' };
  }
  if (/user token policy/i.test(msg)) return { error: firstLine, errorKind: 'access denied' };
  if (/BadCertificate|certificate verification failed/i.test(msg)) {
    const code = /(BadCertificate\w*)/.exec(msg)?.[1] ?? 'BadCertificateUntrusted';
    return { error: `${code}: server certificate not trusted (see <pki>/rejected)`, errorKind: 'cert untrusted' };
  }
  if (/ECONNREFUSED|cannot be established|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|aborted/i.test(msg)) {
    return { error: firstLine, errorKind: 'unreachable' };
  }
  if (/endpoint|SecurityPolicy|security mode/i.test(msg)) return { error: firstLine, errorKind: 'no endpoint' };
  return { error: firstLine, errorKind: 'error' };
}

// One certificate manager per PKI folder and trust setting; the first connection through a folder
// creates the client's own certificate, so connects through a not-yet-initialised folder are serialised.
const certificateManagers = new Map<string, { cm: OPCUACertificateManager; users: number; ready: Promise<void> }>();
const pkiLocks = new Map<string, Promise<unknown>>();

function acquireCertificateManager(pkiDir: string, accept: boolean): { key: string; cm: OPCUACertificateManager; ready: Promise<void> } {
  const key = `${pkiDir}|${accept}`;
  let e = certificateManagers.get(key);
  if (!e) {
    mkdirSync(pkiDir, { recursive: true });
    const cm = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: accept });
    e = { cm, users: 0, ready: cm.initialize() };
    certificateManagers.set(key, e);
  }
  e.users++;
  return { key, cm: e.cm, ready: e.ready };
}

async function releaseCertificateManager(key: string): Promise<void> {
  const e = certificateManagers.get(key);
  if (!e || --e.users > 0) return;
  certificateManagers.delete(key);
  await e.cm.dispose().catch(() => undefined);
}

async function withPkiLock<T>(pkiDir: string, fn: () => Promise<T>): Promise<T> {
  if (existsSync(join(pkiDir, 'own', 'certs', 'client_certificate.pem'))) return fn();
  const prev = pkiLocks.get(pkiDir) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(fn);
  pkiLocks.set(pkiDir, run);
  try {
    return await run;
  } finally {
    if (pkiLocks.get(pkiDir) === run) pkiLocks.delete(pkiDir);
  }
}

/** One monitored set of items (one OPC UA subscription) of one user. */
class Monitor {
  subscription?: ClientSubscription;
  private starting?: Promise<void>;
  stopped = false;
  private readonly lastValue = new Map<number, number>();
  private readonly gapMarked = new Set<number>();

  constructor(
    readonly settings: OpcuaMonitorSettings,
    private readonly out: Subscriber<OpcuaSample>,
  ) {}

  get publishingIntervalMs(): number {
    return Math.max(100, Math.min(this.settings.samplingIntervalMs || 100, 1000));
  }

  start(session: ClientSession): Promise<void> {
    if (this.stopped || this.subscription) return Promise.resolve();
    // node-opcua asserts when a subscription it is still creating outlives its session: a stop or a
    // close waits for the creation in flight
    this.starting ??= this.create(session).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async create(session: ClientSession): Promise<void> {
    const sub = await session.createSubscription2({
      requestedPublishingInterval: this.publishingIntervalMs,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 60,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    if (this.stopped) {
      await sub.terminate().catch(() => undefined);
      return;
    }
    this.subscription = sub;
    sub.on('terminated', () => {
      if (this.subscription === sub) this.subscription = undefined;
    });
    const { items, samplingIntervalMs, deadband, reportTimestamps, queueSize } = this.settings;
    const trigger = reportTimestamps ? DataChangeTrigger.StatusValueTimestamp : DataChangeTrigger.StatusValue;
    const filter =
      deadband > 0 || reportTimestamps
        ? new DataChangeFilter({ trigger, deadbandType: deadband > 0 ? DeadbandType.Absolute : DeadbandType.None, deadbandValue: deadband })
        : null;
    for (let from = 0; from < items.length; from += ITEMS_PER_CALL) {
      const chunk = items.slice(from, from + ITEMS_PER_CALL);
      const group = await sub.monitorItems(
        chunk.map((it) => ({ nodeId: it.nodeId, attributeId: AttributeIds.Value })),
        { samplingInterval: samplingIntervalMs, queueSize, discardOldest: true, filter },
        TimestampsToReturn.Both,
      );
      group.on('changed', (_mi: ClientMonitoredItemBase, dv: DataValue, index: number) => this.onDataValue(from + index, dv));
      // items the server refused (unknown node id, filter not supported) are bad from the start
      group.monitoredItems.forEach((mi, i) => {
        if (mi.statusCode && mi.statusCode.value >>> 30 >= 2) this.onDataValue(from + i, { statusCode: mi.statusCode } as DataValue);
      });
    }
  }

  onDataValue(index: number, dv: DataValue): void {
    if (this.stopped) return;
    const item = this.settings.items[index];
    if (!item) return;
    this.gapMarked.delete(index);
    try {
      const reading = dataValueToReading(dv, item, {
        nowMs: Date.now(),
        maxFutureMs: this.settings.maxFutureMs,
        lastValue: this.lastValue.get(index),
      });
      if (reading.quality !== 'bad') this.lastValue.set(index, reading.value);
      this.out.next({ kind: 'reading', item, reading });
    } catch (err) {
      this.out.next({ kind: 'invalid', item, error: err instanceof TwinError ? err : new TwinError('NOT_NUMERIC', String(err)) });
    }
  }

  /** One bad reading per item marks the gap (once per loss). */
  markGap(reason: string): void {
    if (this.stopped) return;
    const now = Date.now();
    this.settings.items.forEach((item, i) => {
      if (this.gapMarked.has(i)) return;
      this.gapMarked.add(i);
      this.out.next({ kind: 'reading', item, reading: gapReading(item, now, reason, this.lastValue.get(i)) });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    const sub = this.subscription;
    this.subscription = undefined;
    if (sub) await sub.terminate().catch(() => undefined);
  }
}

/** One shared client + session for one endpoint configuration. */
export class OpcuaConnection {
  readonly state$ = new BehaviorSubject<ConnectionState>({ state: 'connecting' });
  private client?: OPCUAClient;
  private session?: ClientSession;
  private readonly monitors = new Set<Monitor>();
  /** Monitors being stopped: closing the session waits for them. */
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;
  private readonly wake: { cancelled: boolean; wake?: () => void } = { cancelled: false };
  private cm?: { key: string; cm: OPCUACertificateManager; ready: Promise<void> };
  /** Successful session creations (a restart repaired by node-opcua does not count). */
  connectCount = 0;

  constructor(
    readonly key: string,
    readonly settings: OpcuaEndpointSettings,
  ) {}

  get state(): ConnectionState {
    return this.state$.value;
  }

  get isConnected(): boolean {
    return this.state.state === 'connected' && !!this.session;
  }

  /** @internal started by the manager on first acquire */
  start(): void {
    void this.connectLoop();
  }

  private setState(s: ConnectionState): void {
    if (this.closed && s.state !== 'closed') return;
    this.state$.next(s);
  }

  private async connectLoop(): Promise<void> {
    const initial = this.settings.reconnectInitialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
    const max = this.settings.reconnectMaxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        if (this.closed) return;
        const delay = backoffDelayMs(attempt, initial, max);
        const { error, errorKind } = classifyError(err);
        // an unreachable server is an expected condition (keep trying); refused credentials or
        // certificates need a person
        this.setState({ state: errorKind === 'unreachable' ? 'reconnecting' : 'error', error, errorKind, retryInMs: delay });
        await sleep(delay, this.wake);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const s = this.settings;
    this.cm ??= acquireCertificateManager(s.pkiDir, s.acceptUnknownCertificates);
    await this.cm.ready;
    const client = OPCUAClient.create({
      applicationName: 'TwinLoop',
      endpointMustExist: false,
      securityMode: MessageSecurityMode[s.securityMode],
      securityPolicy: SecurityPolicy[s.securityPolicy],
      clientCertificateManager: this.cm.cm,
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      // the first connection is retried by connectLoop; see the switch after createSession
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    });
    this.client = client;
    try {
      await withPkiLock(s.pkiDir, () => client.connect(s.endpointUrl));
      if (this.closed) throw new Error('closed');
      const identity: UserIdentityInfo =
        s.user !== undefined
          ? { type: UserTokenType.UserName, userName: s.user, password: s.password ?? '' }
          : { type: UserTokenType.Anonymous };
      const session = await client.createSession(identity);
      if (this.closed) {
        await session.close().catch(() => undefined);
        throw new Error('closed');
      }
      this.session = session;
    } catch (err) {
      this.client = undefined;
      await client.disconnect().catch(() => undefined);
      throw err;
    }
    // from now on node-opcua repairs the link itself (session reactivation or a new session with its
    // subscriptions recreated), with an exponential back-off between these bounds
    (client as unknown as { connectionStrategy: object }).connectionStrategy = {
      maxRetry: -1,
      initialDelay: s.reconnectInitialDelayMs ?? DEFAULT_INITIAL_DELAY_MS,
      maxDelay: s.reconnectMaxDelayMs ?? DEFAULT_MAX_DELAY_MS,
      randomisationFactor: 0.1,
    };
    client.on('connection_lost', () => {
      if (this.closed || this.client !== client) return;
      this.setState({ state: 'reconnecting', error: 'connection lost', errorKind: 'unreachable' });
      for (const m of this.monitors) m.markGap(CONNECTION_LOST_REASON);
    });
    client.on('connection_reestablished', () => {
      if (this.closed || this.client !== client) return;
      this.setState({ state: 'connected' });
      // node-opcua recreated what it knew; a monitor whose subscription it could not keep starts again
      for (const m of this.monitors) if (!m.subscription) void this.startMonitor(m);
    });
    client.on('close', (err?: Error | null) => {
      // only after a failed repair (we disconnect with the listener removed): start over
      if (this.closed || this.client !== client || !err) return;
      this.dropClient();
      void this.connectLoop();
    });
    this.connectCount++;
    this.setState({ state: 'connected' });
    for (const m of this.monitors) void this.startMonitor(m);
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    this.session = undefined;
    for (const m of this.monitors) {
      m.markGap(CONNECTION_LOST_REASON);
      m.subscription = undefined;
    }
    if (client) {
      client.removeAllListeners();
      void client.disconnect().catch(() => undefined);
    }
  }

  private async startMonitor(m: Monitor): Promise<void> {
    const session = this.session;
    if (!session || m.stopped) return;
    try {
      await m.start(session);
    } catch (err) {
      // the link broke while creating: the items come with the next connection or repair
      if (!this.closed && this.isConnected && this.session === session) {
        const { error } = classifyError(err);
        this.setState({ state: 'connected', error: `subscription failed: ${error}` });
      }
    }
  }

  /** Monitor items: readings flow while subscribed; unsubscribing deletes the OPC UA subscription. */
  monitor(settings: OpcuaMonitorSettings): Observable<OpcuaSample> {
    return new Observable<OpcuaSample>((subscriber) => {
      const m = new Monitor(settings, subscriber);
      this.monitors.add(m);
      if (this.isConnected) void this.startMonitor(m);
      return () => {
        this.monitors.delete(m);
        const p = m.stop().finally(() => this.stopping.delete(p));
        this.stopping.add(p);
      };
    });
  }

  /** Resolve when connected (rejects after timeoutMs or when closed). */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        const st = this.state;
        reject(new TwinError('CONNECTION', `not connected to ${this.settings.endpointUrl}${st.error ? `: ${st.error}` : ''}`));
      }, timeoutMs);
      const sub = this.state$.subscribe((s) => {
        if (s.state === 'connected' && this.session) {
          clearTimeout(timer);
          queueMicrotask(() => sub.unsubscribe());
          resolve();
        } else if (s.state === 'closed') {
          clearTimeout(timer);
          queueMicrotask(() => sub.unsubscribe());
          reject(new TwinError('CONNECTION', 'connection closed'));
        }
      });
    });
  }

  private requireSession(): ClientSession {
    if (!this.session || !this.isConnected) {
      const st = this.state;
      throw new TwinError('CONNECTION', `not connected to ${this.settings.endpointUrl} (${st.state}${st.error ? `: ${st.error}` : ''})`);
    }
    return this.session;
  }

  /** One-shot read of items' values (fresh from the device: maxAge 0). */
  async read(items: OpcuaItem[], maxFutureMs: number): Promise<OpcuaSample[]> {
    const session = this.requireSession();
    const dvs = await session.read(
      items.map((it) => ({ nodeId: it.nodeId, attributeId: AttributeIds.Value })),
      0,
    );
    const now = Date.now();
    return items.map((item, i): OpcuaSample => {
      try {
        return { kind: 'reading', item, reading: dataValueToReading(dvs[i], item, { nowMs: now, maxFutureMs }) };
      } catch (err) {
        return { kind: 'invalid', item, error: err as TwinError };
      }
    });
  }

  /**
   * One variable's present value as a number (fresh from the device: maxAge 0), for the setpoint
   * writers. A status that is not Good, or a value that is not a number, throws OpcuaStatusError.
   */
  async readValue(nodeId: string): Promise<{ value: number; sourceTsMs?: number }> {
    const session = this.requireSession();
    const dv = await session.read({ nodeId, attributeId: AttributeIds.Value }, 0);
    if (!dv.statusCode.isGood()) throw new OpcuaStatusError(dv.statusCode.name, `read ${nodeId}: ${dv.statusCode.name}`);
    const v = dv.value?.value as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new OpcuaStatusError('BadTypeMismatch', `read ${nodeId}: not a finite number (${typeof v})`);
    return { value: v, ...(dv.sourceTimestamp ? { sourceTsMs: dv.sourceTimestamp.getTime() } : {}) };
  }

  /**
   * Write one Double to a variable's Value. A status other than Good (the PLC's BadOutOfRange, say)
   * throws OpcuaStatusError named after the status.
   */
  async writeValue(nodeId: string, value: number): Promise<void> {
    const session = this.requireSession();
    const status = await session.write({
      nodeId,
      attributeId: AttributeIds.Value,
      value: { value: { dataType: DataType.Double, value } },
    });
    if (!status.isGood()) throw new OpcuaStatusError(status.name, `write ${nodeId} = ${value}: ${status.name}`);
  }

  /** Children of a node (hierarchical references), for the editor's browser. */
  async browse(nodeId = 'ObjectsFolder'): Promise<BrowseEntry[]> {
    const session = this.requireSession();
    const result = await session.browse({
      nodeId,
      browseDirection: BrowseDirection.Forward,
      referenceTypeId: 'HierarchicalReferences',
      includeSubtypes: true,
      nodeClassMask: NodeClass.Object | NodeClass.Variable,
      resultMask: 63,
    });
    if (result.statusCode.value >>> 30 >= 2) throw new TwinError('BAD_PAYLOAD', `cannot browse ${nodeId}: ${result.statusCode.name}`);
    return (result.references ?? []).map((r) => ({
      nodeId: r.nodeId.toString(),
      browseName: r.browseName.name ?? r.browseName.toString(),
      displayName: r.displayName.text ?? r.browseName.toString(),
      nodeClass: NodeClass[r.nodeClass] ?? String(r.nodeClass),
    }));
  }

  /** @internal closed by the manager when the last user releases it */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake.wake?.();
    const monitors = [...this.monitors];
    this.monitors.clear();
    await Promise.all([...monitors.map((m) => m.stop()), ...this.stopping]);
    const client = this.client;
    const session = this.session;
    this.client = undefined;
    this.session = undefined;
    if (client) {
      client.removeAllListeners();
      if (session) await session.close(true).catch(() => undefined);
      await client.disconnect().catch(() => undefined);
    }
    if (this.cm) await releaseCertificateManager(this.cm.key);
    this.state$.next({ state: 'closed' });
    this.state$.complete();
  }
}

/** Connections keyed by their endpoint configuration, shared through acquire/release. */
export class OpcuaSessionManager {
  private readonly entries = new Map<string, { conn: OpcuaConnection; users: number }>();

  static keyOf(s: OpcuaEndpointSettings): string {
    // the password only as a hash: the key is kept in memory and could show up in a debugger
    const pw = s.password === undefined ? '' : createHash('sha256').update(s.password).digest('hex');
    return JSON.stringify([s.endpointUrl, s.securityMode, s.securityPolicy, s.user ?? '', pw, s.pkiDir, s.acceptUnknownCertificates]);
  }

  acquire(settings: OpcuaEndpointSettings): OpcuaConnection {
    const key = OpcuaSessionManager.keyOf(settings);
    let e = this.entries.get(key);
    if (!e) {
      e = { conn: new OpcuaConnection(key, settings), users: 0 };
      this.entries.set(key, e);
      e.conn.start();
    }
    e.users++;
    return e.conn;
  }

  async release(conn: OpcuaConnection): Promise<void> {
    const e = this.entries.get(conn.key);
    if (!e || e.conn !== conn) return;
    if (--e.users > 0) return;
    this.entries.delete(conn.key);
    await conn.close();
  }

  /** Number of live connections (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }
}

/** The process-wide manager the Node-RED nodes share. */
export const opcuaSessions = new OpcuaSessionManager();
