/**
 * twin-opcua-write: writes signed setpoint commands from twin-approval to one OPC UA variable
 * through the shared session of a twin-opcua-endpoint, and reads each write back. The checks
 * (signature, expiry, target, single use, envelope step vs the plant's present value) and the
 * ledger records live in runtime/control/writer.ts; this adapter supplies the OPC UA transport.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { validateNodeId } from '../../runtime/ingest/opcua-config.js';
import type { OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import { TwinError } from '../../runtime/model/errors.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { statusIdle, statusWarn } from '../shared/status.js';
import { attachWriterInput, validateWriterCommon, type WriterCommonDef } from '../shared/writer-adapter.js';
import type { TwinOpcuaEndpointNode } from '../twin-opcua-endpoint/endpoint-api.js';
import { opcuaTransport } from './opcua-transport.js';

interface TwinOpcuaWriteDef extends NodeDef, WriterCommonDef {
  endpoint: string;
  nodeId: string;
}

export default function (RED: NodeAPI): void {
  function TwinOpcuaWrite(this: Node, def: TwinOpcuaWriteDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-opcua-write');
    let conn: OpcuaConnection | undefined;
    try {
      const nodeId = validateNodeId(def.nodeId);
      const ep = RED.nodes.getNode(def.endpoint) as TwinOpcuaEndpointNode | null;
      if (!ep || typeof ep.connection !== 'function') throw new TwinError('BAD_CONFIG', t('errors.noEndpoint'));
      if (ep.configError) throw new TwinError('BAD_CONFIG', t('errors.endpointInvalid', { error: ep.configError }));
      const cfg = validateWriterCommon(RED, def, def.endpoint, t);
      conn = ep.connection();
      if (!conn) throw new TwinError('BAD_CONFIG', t('errors.endpointInvalid', { error: 'closed' }));
      attachWriterInput(node, cfg, opcuaTransport(conn, nodeId, cfg.readBackTimeoutMs, { connection: def.endpoint, items: ep.items }), t);
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const sub = conn.state$.subscribe((s) => {
      if (s.state === 'connected') statusIdle(node, t('status.ready'));
      else if (s.state === 'connecting' || s.state === 'reconnecting') statusWarn(node, t(`status.${s.state}`));
      else if (s.state === 'error') statusWarn(node, s.errorKind ?? 'error');
    });
    node.on('close', (_removed: boolean, done: () => void) => {
      sub.unsubscribe();
      done();
    });
  }

  RED.nodes.registerType('twin-opcua-write', TwinOpcuaWrite as never);
}
