/**
 * twin-ledger: the audit ledger and the command signing key of a closed loop (config node).
 * twin-approval and the writers that name it share one ledger file (opened on first use, shared
 * per path in the process), one used-commands store beside it, and one HMAC key. The key is a
 * Node-RED credential, an owner-only key file or an env var; it is never logged or put in a status
 * or error text. An env var is taken out of process.env at first read (ledger-api.ts, takeEnvSecret)
 * and never looked up through flow or global env, so flow code (`env.get`) cannot read the key. The
 * same key authenticates the ledger's records and its head checkpoint (ledger-auth.ts).
 *
 * Storage "jetstream": the ledger is the line's replicated stream and the claims a KV bucket
 * (runtime/cluster/line-stores.ts, loaded only then, with the bundled NATS client); NATS user and
 * password are credentials. A cluster that cannot be reached makes ledger() reject (the gate then
 * halts, a writer refuses); the connection is closed with the node.
 *
 * With a twin-cluster named, the stores follow the line's ownership (runtime/cluster/owned-stores.ts):
 * opened when this instance acquires the line, an 'owner' record appended first (it fences a former
 * owner that resumes after a pause), closed when the line is released; while another instance owns the
 * line, ledger() and usedCommands() reject (REFUSED, naming the line) and twin-approval stands by.
 */
import type { NodeAPI } from 'node-red';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import type { LineStores } from '../../runtime/cluster/line-stores.js';
import type { ReleaseReason } from '../../runtime/cluster/cluster-member.js';
import { OwnedStores } from '../../runtime/cluster/owned-stores.js';
import { parseLineId } from '../../runtime/cluster/line-id.js';
import { parseNatsServers, parseReplicas } from '../../runtime/cluster/cluster-config.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import type { TwinClusterNode } from '../twin-cluster/cluster-api.js';
import {
  resolveLedgerPath,
  resolveSigningKey,
  takeEnvSecret,
  type TwinLedgerCredentials,
  type TwinLedgerDef,
  type TwinLedgerNode,
} from './ledger-api.js';

/** Open a store once, on first use; forget a failed open so the next call tries again. */
function lazy<T extends { close(): Promise<void> }>(open: () => Promise<T>) {
  let p: Promise<T> | undefined;
  let closed = false;
  return {
    get(): Promise<T> {
      if (closed) return Promise.reject(new TwinError('BAD_CONFIG', 'twin-ledger is closed (flow stopped or redeployed)'));
      if (!p) {
        const attempt = open();
        p = attempt;
        attempt.catch(() => {
          if (p === attempt) p = undefined;
        });
      }
      return p;
    },
    async close(): Promise<void> {
      closed = true;
      const opened = await p?.catch(() => undefined);
      p = undefined;
      await opened?.close();
    },
  };
}

/** The conventional name (prebuilt flows, older `twinloop start`): out of flow code's reach before any flow starts. */
const DEFAULT_KEY_ENV = 'TWINLOOP_SIGNING_KEY';

/** The JetStream settings of a def, checked (servers, line id, replicas, wait in seconds). */
function clusterConfig(
  def: TwinLedgerDef,
  fromCluster: boolean,
): { servers: string[]; line: string; replicas: number; retryForMs: number } {
  const waitS = def.waitS === undefined || def.waitS === '' ? 30 : Number(def.waitS);
  if (!Number.isFinite(waitS) || waitS < 1 || waitS > 600) {
    throw new TwinError('BAD_CONFIG', `wait for the cluster must be 1–600 s (got ${String(def.waitS)})`);
  }
  return {
    // with a twin-cluster named, servers, replicas and credentials come from it when the ledger opens
    servers: fromCluster ? [] : parseNatsServers(def.servers),
    line: parseLineId((def.line ?? '').trim()),
    replicas: parseReplicas(def.replicas),
    retryForMs: waitS * 1000,
  };
}

export default function (RED: NodeAPI): void {
  takeEnvSecret(DEFAULT_KEY_ENV);
  function TwinLedger(this: TwinLedgerNode, def: TwinLedgerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-ledger');
    const creds = (this as unknown as { credentials?: TwinLedgerCredentials }).credentials ?? {};
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;

    const jetStream = def.storage === 'jetstream';
    const clusterId = (def.cluster ?? '').trim();
    // Node-RED starts a config node after the config nodes it names
    const clusterNode = jetStream && clusterId !== '' ? (RED.nodes.getNode(clusterId) as TwinClusterNode | null) : null;
    let pathError: string | undefined;
    let cluster: { servers: string[]; line: string; replicas: number; retryForMs: number } | undefined;
    try {
      if (jetStream && clusterId !== '' && !clusterNode) throw new TwinError('BAD_CONFIG', 'the twin-cluster named is missing');
      if (jetStream) cluster = clusterConfig(def, clusterId !== '');
      else node.ledgerPath = resolveLedgerPath(def.path, userDir, node.id);
    } catch (err) {
      pathError = (err as Error).message;
    }
    // process.env only: flow and global env live in the flow's JSON, which is no place for a key
    const { key, problem } = resolveSigningKey(creds.signingKey, def.signingKeyEnv, (name) => takeEnvSecret(name), def.signingKeyFile);
    node.configError = pathError ?? problem;
    if (node.configError) node.error(t('errors.config', { error: node.configError }));

    const notConfigured = (): Promise<never> => Promise.reject(new TwinError('BAD_CONFIG', t('errors.config', { error: pathError })));
    let ledger: { get(): Promise<Ledger>; close(): Promise<void> };
    let used: { get(): Promise<UsedCommands>; close(): Promise<void> };
    if (cluster) {
      const c = cluster;
      const openStores = async (): Promise<LineStores> => {
        if (pathError) return notConfigured();
        try {
          // the NATS client loads only for a JetStream ledger
          const { openLineStores, openLineStoresAsOwner } = await import('../../runtime/cluster/line-stores.js');
          const member = clusterNode?.natsOptions();
          if (clusterId !== '' && !member) throw new TwinError('BAD_CONFIG', 'the twin-cluster named is missing or invalid');
          const base = { ...c, name: `twinloop ${node.id}`, ...(key ? { signingKey: key } : {}) };
          if (!member) {
            const auth = creds.natsUser ? { user: creds.natsUser, password: creds.natsPassword ?? '' } : {};
            return await openLineStores({ ...base, owner: node.id, ...auth });
          }
          // the new owner's first record: a former owner's next append is refused from here on
          const s = await openLineStoresAsOwner({
            ...base,
            servers: member.servers,
            replicas: member.replicas,
            owner: member.instance,
            instance: member.instance,
            ...(member.user ? { user: member.user, password: member.password ?? '' } : {}),
            ...(member.tlsCaFile ? { tlsCaFile: member.tlsCaFile } : {}),
          });
          node.log(t('log.owner', { line: c.line, instance: member.instance }));
          return s;
        } catch (err) {
          node.error(t('errors.cluster', { line: c.line, error: (err as Error).message }));
          throw err;
        }
      };
      let stores: { get(): Promise<LineStores>; close(): Promise<void> };
      if (clusterNode) {
        const cn = clusterNode;
        // a twin-cluster named: open only while this instance owns the line (one writer per stream)
        const owned = new OwnedStores<LineStores>({
          line: c.line,
          open: openStores,
          close: async (s) => {
            await s.close(); // waits for appends in flight
            // a record refused because another instance took the line over: said once, for the operators
            if (s.ledger.fenced) node.warn(t('log.fenced', { line: c.line, error: s.ledger.fenced.message }));
          },
        });
        const followers = new Set<{ owned: () => void; released: (reason: ReleaseReason) => void }>();
        const unfollow = cn.follow(
          (line) => {
            if (line !== c.line) return;
            owned.owned();
            for (const f of followers) f.owned();
          },
          (line, reason) => {
            if (line !== c.line) return;
            // users stand down first (the gate closes), then the stores close
            for (const f of followers) f.released(reason);
            void owned.released();
          },
        );
        node.ownership = {
          line: c.line,
          owns: () => owned.owns(),
          follow(onOwned, onReleased) {
            const f = { owned: onOwned, released: onReleased };
            followers.add(f);
            if (owned.owns()) onOwned();
            return () => void followers.delete(f);
          },
        };
        stores = {
          get: () => owned.get(),
          close: () => {
            unfollow();
            followers.clear();
            return owned.stop();
          },
        };
      } else stores = lazy<LineStores>(openStores);
      ledger = { get: () => stores.get().then((s) => s.ledger), close: () => stores.close() };
      used = { get: () => stores.get().then((s) => s.usedCommands), close: async () => undefined };
    } else {
      ledger = lazy<Ledger>(() => (pathError ? notConfigured() : openFileLedger(node.ledgerPath!, key ? { signingKey: key } : {})));
      used = lazy<UsedCommands>(() => (pathError ? notConfigured() : openUsedCommands(`${node.ledgerPath!}.used`)));
    }
    node.ledger = () => ledger.get();
    node.usedCommands = () => used.get();
    node.signingKey = () => key;

    node.on('close', (_removed: boolean, done: () => void) => {
      Promise.all([ledger.close(), used.close()]).then(
        () => done(),
        (err) => {
          node.warn(`closing ${node.ledgerPath ?? cluster?.line}: ${(err as Error).message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('twin-ledger', TwinLedger as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      signingKey: { type: 'password' },
      natsUser: { type: 'text' },
      natsPassword: { type: 'password' },
    },
  });
}
