/**
 * twin-opcua-endpoint: the shared OPC UA connection (config node). Every twin-opcua-in that names
 * it uses one client and one session (runtime/ingest/opcua-session.ts); it also serves the editor's
 * address-space browser.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { validateEndpointSettings, validateNodeId } from '../../runtime/ingest/opcua-config.js';
import { opcuaSessions, type OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import { SourceItems } from '../../runtime/ingest/source-items.js';
import { opcuaPkiDir, type TwinOpcuaEndpointCredentials, type TwinOpcuaEndpointDef, type TwinOpcuaEndpointNode } from './endpoint-api.js';

/** How long the browser waits for a session that is still being established. */
const BROWSE_CONNECT_WAIT_MS = 3000;

export default function (RED: NodeAPI): void {
  function TwinOpcuaEndpoint(this: TwinOpcuaEndpointNode, def: TwinOpcuaEndpointDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds = ((node as unknown as { credentials?: TwinOpcuaEndpointCredentials }).credentials ?? {}) as TwinOpcuaEndpointCredentials;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
    node.pkiDir = opcuaPkiDir(userDir);
    node.items = new SourceItems();
    let settings: ReturnType<typeof validateEndpointSettings> | undefined;
    let conn: OpcuaConnection | undefined;
    let closed = false;

    try {
      settings = validateEndpointSettings({ ...def, user: creds.user, password: creds.password, pkiDir: node.pkiDir });
    } catch (err) {
      node.configError = (err as Error).message;
      // the message names the field, never a credential
      node.error(`${RED._('twin-opcua-endpoint.errors.config')}: ${node.configError}`);
    }

    node.connection = () => {
      if (!settings || closed) return undefined;
      conn ??= opcuaSessions.acquire(settings);
      return conn;
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      const c = conn;
      conn = undefined;
      if (!c) {
        done();
        return;
      }
      opcuaSessions.release(c).then(done, (err: unknown) => {
        node.warn(`closing ${def.endpointUrl}: ${(err as Error).message}`);
        done();
      });
    });
  }

  RED.nodes.registerType(
    'twin-opcua-endpoint',
    TwinOpcuaEndpoint as never,
    {
      credentials: { user: { type: 'text' }, password: { type: 'password' } },
    } as never,
  );

  // The editor's address-space browser: children of a node, through the deployed endpoint's session.
  RED.httpAdmin.get('/twinloop/opcua/browse', RED.auth.needsPermission('twin-opcua-endpoint.read'), (req: Request, res: Response) => {
    void browse(req, res);
  });

  async function browse(req: Request, res: Response): Promise<void> {
    const id = typeof req.query.endpoint === 'string' ? req.query.endpoint : '';
    const rawNodeId = typeof req.query.nodeId === 'string' && req.query.nodeId !== '' ? req.query.nodeId : 'ObjectsFolder';
    if (!id) {
      res.status(400).json({ error: RED._('twin-opcua-endpoint.browse.noEndpoint') });
      return;
    }
    const ep = RED.nodes.getNode(id) as TwinOpcuaEndpointNode | null;
    if (!ep || typeof ep.connection !== 'function') {
      res.status(404).json({ error: RED._('twin-opcua-endpoint.browse.notDeployed') });
      return;
    }
    if (ep.configError) {
      res.status(400).json({ error: `${RED._('twin-opcua-endpoint.errors.config')}: ${ep.configError}` });
      return;
    }
    let nodeId: string;
    try {
      nodeId = rawNodeId === 'ObjectsFolder' ? 'i=85' : validateNodeId(rawNodeId);
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
      return;
    }
    const conn = ep.connection();
    if (!conn) {
      res.status(503).json({ error: `${RED._('twin-opcua-endpoint.browse.notConnected')}: closed` });
      return;
    }
    try {
      await conn.whenConnected(BROWSE_CONNECT_WAIT_MS);
    } catch (err) {
      res.status(503).json({ error: `${RED._('twin-opcua-endpoint.browse.notConnected')}: ${(err as Error).message}` });
      return;
    }
    try {
      const children = await conn.browse(nodeId);
      res.json({ nodeId, children });
    } catch (err) {
      res.status(502).json({ error: (err as Error).message });
    }
  }
}
