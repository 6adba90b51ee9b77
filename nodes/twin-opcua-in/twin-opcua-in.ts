/**
 * twin-opcua-in: monitors OPC UA variables through a shared twin-opcua-endpoint and emits one
 * Reading per sample (`msg.topic = asset/tag`). An input message reads every item once. With a
 * twin-cluster and a line, it monitors and reads only while this instance owns the line.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { validateMonitorSettings, type OpcuaMonitorSettings } from '../../runtime/ingest/opcua-config.js';
import type { ConnectionState, OpcuaConnection, OpcuaSample } from '../../runtime/ingest/opcua-session.js';
import { TwinError } from '../../runtime/model/errors.js';
import { readingTopic } from '../../runtime/model/reading.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import type { TwinOpcuaEndpointNode } from '../twin-opcua-endpoint/endpoint-api.js';
import { joinReplay } from '../shared/replay-source.js';
import { opcuaClaims, opcuaUnits } from '../../runtime/replay/claims.js';
import { parseLineId } from '../../runtime/cluster/line-id.js';
import type { TwinClusterNode } from '../twin-cluster/cluster-api.js';

interface TwinOpcuaInDef extends NodeDef {
  endpoint: string;
  items: unknown;
  samplingIntervalMs: unknown;
  deadband: unknown;
  reportTimestamps?: unknown;
  queueSize: unknown;
  maxFutureMs: unknown;
  /** Optional twin-cluster: monitor only while this instance owns `line`. */
  cluster?: string;
  /** 'site/area/line' the items belong to (with `cluster`). */
  line?: string;
}

/** How long a one-shot read waits for a session that is being (re)established. */
const READ_CONNECT_WAIT_MS = 5000;

export default function (RED: NodeAPI): void {
  function TwinOpcuaIn(this: Node, def: TwinOpcuaInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let settings: OpcuaMonitorSettings | undefined;
    let conn: OpcuaConnection | undefined;
    let configError: string | undefined;
    let cluster: TwinClusterNode | null = null;
    let line = '';

    try {
      settings = validateMonitorSettings(def);
      const clusterId = (def.cluster ?? '').trim();
      if (clusterId !== '') {
        cluster = RED.nodes.getNode(clusterId) as TwinClusterNode | null;
        if (!cluster) throw new TwinError('BAD_CONFIG', RED._('twin-opcua-in.errors.noCluster'));
        line = parseLineId((def.line ?? '').trim());
      }
      // twinloop replay: no session; the replay hub delivers this node's items from a file
      if (joinReplay(node, 'twin-opcua-in', opcuaClaims(settings.items), opcuaUnits(settings.items))) return;
      const ep = RED.nodes.getNode(def.endpoint) as TwinOpcuaEndpointNode | null;
      if (!ep || typeof ep.connection !== 'function') throw new TwinError('BAD_CONFIG', RED._('twin-opcua-in.errors.noEndpoint'));
      if (ep.configError) throw new TwinError('BAD_CONFIG', `${RED._('twin-opcua-in.errors.endpointInvalid')}: ${ep.configError}`);
      conn = ep.connection();
      // the writers on this endpoint re-read interlocks and inputs from these items (runtime/control/writer.ts)
      ep.items.set(node.id, settings.items);
      const e = ep;
      node.on('close', () => e.items.delete(node.id));
    } catch (err) {
      configError = (err as Error).message;
      node.error(`${RED._('twin-opcua-in.errors.config')}: ${configError}`);
      statusError(node, RED._('twin-opcua-in.status.configError'));
    }

    // One frozen origin per item, made once: which connection and nodeId each reading came from.
    const origins = new Map((settings?.items ?? []).map((it) => [it, Object.freeze({ connection: def.endpoint, item: it.nodeId })]));
    const toMsg = (s: Extract<OpcuaSample, { kind: 'reading' }>): NodeMessage => {
      s.reading.origin = origins.get(s.item);
      return { topic: readingTopic(s.reading), payload: s.reading, nodeId: s.item.nodeId } as NodeMessage;
    };

    const showState = (s: ConnectionState): void => {
      if (s.state === 'connected') statusOk(node, `${settings!.items.length} ${RED._('twin-opcua-in.status.items')}`);
      else if (s.state === 'connecting') statusWarn(node, RED._('twin-opcua-in.status.connecting'));
      else if (s.state === 'reconnecting') statusWarn(node, RED._('twin-opcua-in.status.reconnecting'));
      else if (s.state === 'error') statusError(node, s.errorKind ?? RED._('twin-opcua-in.status.error'));
    };

    let monitoring: Subscription | undefined;
    let stateSub: Subscription | undefined;
    const startMonitoring = (c: OpcuaConnection, st: OpcuaMonitorSettings): void => {
      if (monitoring) return;
      stateSub = c.state$.subscribe(showState);
      monitoring = c.monitor(st).subscribe((s) => {
        if (s.kind === 'reading') {
          node.send(toMsg(s));
        } else {
          // a value that cannot be a number: the mapping is wrong, tell the flow (Catch) and go on
          const msg = { topic: `${s.item.asset}/${s.item.tag}`, nodeId: s.item.nodeId, payload: undefined } as NodeMessage;
          node.error(s.error, msg);
          statusError(node, errorStatusText(s.error));
        }
      });
    };
    /** Unsubscribing deletes the monitored items on the server: a standby instance receives nothing. */
    const stopMonitoring = (): void => {
      monitoring?.unsubscribe();
      stateSub?.unsubscribe();
      monitoring = stateSub = undefined;
    };
    const standby = (): void => statusIdle(node, RED._('twin-opcua-in.status.standby'));
    let stopFollowing: (() => void) | undefined;

    if (conn && settings) {
      const c = conn;
      const st = settings;
      if (cluster) {
        // Only the line's owner monitors its items (and answers a read): two instances sampling the
        // same line would ingest, analyse and propose twice.
        standby();
        stopFollowing = cluster.follow(
          (l) => l === line && startMonitoring(c, st),
          (l) => {
            if (l !== line) return;
            stopMonitoring();
            standby();
          },
        );
      } else startMonitoring(c, st);
    }

    node.on(
      'input',
      (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void, done: (err?: Error) => void) => {
        if (!conn || !settings) {
          statusError(node, RED._('twin-opcua-in.status.configError'));
          done(new TwinError('BAD_CONFIG', `${RED._('twin-opcua-in.errors.config')}: ${configError ?? ''}`));
          return;
        }
        if (cluster && !cluster.owns(line)) {
          done(new TwinError('REFUSED', `${RED._('twin-opcua-in.errors.notOwner')} ${line}`));
          return;
        }
        const cmd = msg.topic;
        if (cmd !== undefined && cmd !== null && cmd !== '' && cmd !== 'read') {
          statusError(node, RED._('twin-opcua-in.status.badCommand'));
          const shown = typeof cmd === 'string' ? JSON.stringify(cmd.slice(0, 40)) : typeof cmd;
          done(
            new TwinError(
              'BAD_PAYLOAD',
              `${RED._('twin-opcua-in.errors.unknownCommand')} ${shown}: ${RED._('twin-opcua-in.errors.expectedRead')}`,
            ),
          );
          return;
        }
        const c = conn;
        const st = settings;
        c.whenConnected(READ_CONNECT_WAIT_MS)
          .then(() => c.read(st.items, st.maxFutureMs))
          .then((samples) => {
            const out: NodeMessage[] = [];
            const errors: TwinError[] = [];
            for (const s of samples) {
              if (s.kind === 'invalid') {
                errors.push(s.error);
                continue;
              }
              // one message per item, keeping the trigger's other properties (a correlation id, say)
              const m = RED.util.cloneMessage(msg) as NodeMessage & Record<string, unknown>;
              Object.assign(m, toMsg(s));
              out.push(m);
            }
            if (out.length) send([out]);
            if (errors.length) {
              statusError(node, errorStatusText(errors[0]));
              const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : '';
              done(new TwinError(errors[0].code, `${errors[0].message}${more}`));
            } else {
              showState(c.state);
              done();
            }
          })
          .catch((err: unknown) => {
            statusError(node, errorStatusText(err));
            done(err instanceof Error ? err : new TwinError('CONNECTION', String(err)));
          });
      },
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      stopFollowing?.();
      stopMonitoring();
      done();
    });
  }

  RED.nodes.registerType('twin-opcua-in', TwinOpcuaIn as never);
}
