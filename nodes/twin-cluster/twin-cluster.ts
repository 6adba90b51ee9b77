/**
 * twin-cluster: this Node-RED instance as a member of a TwinLoop cluster (config node). One NATS
 * connection and one LineOwner (runtime/cluster/cluster-member.ts, loaded only when such a node
 * exists, with the bundled NATS client): it claims at most its share of the listed lines by TTL
 * leases, renews them and takes over lines whose owner went silent for a lease. Nodes that act for a
 * line (twin-mqtt-in with a line) follow 'owned' / 'released'. A clean stop (redeploy, shutdown)
 * gives its lines up at once; a crash leaves them to run out after one lease. Under `twinloop replay`
 * it connects to nothing and owns no line.
 */
import { hostname } from 'node:os';
import type { NodeAPI } from 'node-red';
import { parseClusterSettings, type ClusterSettings } from '../../runtime/cluster/cluster-config.js';
import type { ClusterMember, ReleaseReason } from '../../runtime/cluster/cluster-member.js';
import type { GateService } from '../../runtime/cluster/gate-service.js';
import { clearRemoteGates, setRemoteGates } from '../../runtime/cluster/remote-gates.js';
import { translator } from '../shared/i18n.js';
import { inReplay } from '../shared/replay-source.js';
import type { ClusterState, TwinClusterCredentials, TwinClusterDef, TwinClusterNode } from './cluster-api.js';

export default function (RED: NodeAPI): void {
  function TwinCluster(this: TwinClusterNode, def: TwinClusterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-cluster');
    const creds = (this as unknown as { credentials?: TwinClusterCredentials }).credentials ?? {};
    const followers = new Set<{ owned: (line: string) => void; released: (line: string, reason: ReleaseReason) => void }>();
    let settings: ClusterSettings | undefined;
    let member: ClusterMember | undefined;
    let gates: GateService | undefined;
    let state: ClusterState = 'connecting';
    let closed = false;
    let retry: NodeJS.Timeout | undefined;

    try {
      settings = parseClusterSettings(def, { hostname: hostname(), pid: process.pid });
    } catch (err) {
      node.configError = (err as Error).message;
      state = 'error';
      node.error(t('errors.config', { error: node.configError }));
    }

    node.owns = (line) => member?.owns(line) ?? false;
    node.follow = (owned, released) => {
      const f = { owned, released };
      followers.add(f);
      for (const line of member?.lines() ?? []) owned(line);
      return () => followers.delete(f);
    };
    node.clusterStatus = () => {
      if (state === 'error') return { state, text: node.configError ? t('status.config') : t('status.unreachable') };
      if (state === 'member' && member) return { state, text: member.statusText() };
      return { state, text: t(`status.${state}`) };
    };
    node.natsOptions = () =>
      settings && {
        servers: settings.servers,
        replicas: settings.replicas,
        instance: settings.instance,
        ...(creds.user ? { user: creds.user, password: creds.password ?? '' } : {}),
        ...(settings.tlsCaFile ? { tlsCaFile: settings.tlsCaFile } : {}),
      };

    const start = async (s: ClusterSettings): Promise<void> => {
      try {
        const { ClusterMember } = await import('../../runtime/cluster/cluster-member.js');
        const m = await ClusterMember.start({ ...s, ...(creds.user ? { user: creds.user, password: creds.password ?? '' } : {}) });
        if (closed) {
          await m.stop({ release: true });
          return;
        }
        member = m;
        state = 'member';
        node.log(t('log.member', { instance: s.instance, lines: s.lines.length }));
        // one approvals view: this instance's gates served to the others, theirs shown on this instance's pages
        const { GateService } = await import('../../runtime/cluster/gate-service.js');
        gates = GateService.start({
          nc: m.nc,
          instance: s.instance,
          lines: s.lines,
          owns: (line) => m.owns(line),
          ownedLines: () => m.lines(),
          log: (level, text) => (level === 'warn' ? node.warn(`[gates] ${text}`) : node.log(`[gates] ${text}`)),
        });
        setRemoteGates(gates);
        m.on('owned', (line) => {
          node.log(t('log.owned', { line }));
          for (const f of followers) f.owned(line);
          gates?.sync();
        });
        m.on('released', (line, reason) => {
          node.log(t('log.released', { line, reason }));
          for (const f of followers) f.released(line, reason);
          gates?.sync();
        });
      } catch (err) {
        if (closed) return;
        state = 'error';
        // a warning, not an error: it retries, as the MQTT and OPC UA connections do; the message names
        // servers only, credentials never reach it
        node.warn(t('errors.connect', { error: (err as Error).message }));
        retry = setTimeout(
          () => {
            state = 'connecting';
            void start(s);
          },
          Math.min(30_000, s.ttlMs),
        );
      }
    };
    // `twinloop replay` must never join the plant's cluster (it would hold leases of live lines)
    if (inReplay()) state = 'closed';
    else if (settings) void start(settings);

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearTimeout(retry);
      state = 'closed';
      const m = member;
      member = undefined;
      if (gates) {
        clearRemoteGates(gates);
        gates.stop();
        gates = undefined;
      }
      if (!m) return done();
      // followers hear 'released' (reason 'stopped') before the leases go
      m.stop({ release: true }).then(
        () => done(),
        (err) => {
          node.warn(`closing cluster membership: ${(err as Error).message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('twin-cluster', TwinCluster as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
    },
  });
}
