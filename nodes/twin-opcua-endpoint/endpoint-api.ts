/**
 * What a twin-opcua-endpoint config node offers the nodes that use it, and where its PKI lives.
 * Kept apart from the node file so twin-opcua-in can import the types without registering anything.
 */
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeDef } from 'node-red';
import type { OpcuaItem } from '../../runtime/ingest/opcua-config.js';
import type { OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import type { SourceItems } from '../../runtime/ingest/source-items.js';

export interface TwinOpcuaEndpointDef extends NodeDef {
  endpointUrl: string;
  securityMode: string;
  securityPolicy: string;
  authMode: string;
  acceptUnknownCertificates: boolean;
}

export interface TwinOpcuaEndpointCredentials {
  user?: string;
  password?: string;
}

export interface TwinOpcuaEndpointNode extends Node {
  /** Set when the configuration is invalid: the node then connects to nothing. */
  configError?: string;
  /** node-opcua PKI root of this endpoint (own/, trusted/certs/, rejected/). */
  pkiDir: string;
  /** The shared connection, acquired on first use and released when this node closes. */
  connection(): OpcuaConnection | undefined;
  /** The items the twin-opcua-in nodes on this endpoint read (asset/tag → nodeId), for the writers' re-read. */
  items: SourceItems<OpcuaItem>;
}

/**
 * `<userDir>/twinloop/pki/opcua`, else `$TWINLOOP_HOME/pki/opcua`, else a folder in the temp dir
 * (a Node-RED without a user directory, such as an embedded test runtime).
 */
export function opcuaPkiDir(userDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (userDir) return join(userDir, 'twinloop', 'pki', 'opcua');
  if (env.TWINLOOP_HOME) return join(env.TWINLOOP_HOME, 'pki', 'opcua');
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry: keep the generic name */
  }
  return join(tmpdir(), `twinloop-${user}`, 'pki', 'opcua');
}
