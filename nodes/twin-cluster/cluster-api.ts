/**
 * What a twin-cluster config node offers the nodes that name it (twin-mqtt-in, twin-ledger). Kept
 * apart from the node file so users import the types without registering anything.
 */
import type { Node, NodeDef } from 'node-red';
import type { ReleaseReason } from '../../runtime/cluster/cluster-member.js';

export interface TwinClusterDef extends NodeDef {
  /** nats:// or tls:// URLs, comma, space or new-line separated. */
  servers?: string;
  /** Blank: `<hostname>-<pid>`. */
  instance?: string;
  /** The lines this instance may own, 'site/area/line', one a line. */
  lines?: string;
  /** Lease in seconds (renewed every third of it). */
  ttlS?: number | string;
  replicas?: number | string;
  /** Lines above the even share an instance may hold. */
  slack?: number | string;
  /** PEM file of the CA of the servers' TLS certificates. */
  tlsCaFile?: string;
}

export interface TwinClusterCredentials {
  user?: string;
  password?: string;
}

export type ClusterState = 'connecting' | 'member' | 'error' | 'closed';

export interface TwinClusterNode extends Node {
  configError?: string;
  /** This instance owns the line now. */
  owns(line: string): boolean;
  /**
   * Follow ownership: `onOwned(line)` for every line owned now and each one acquired later,
   * `onReleased(line, reason)` when one is given up or lost. Returns the function that stops following.
   */
  follow(onOwned: (line: string) => void, onReleased: (line: string, reason: ReleaseReason) => void): () => void;
  /** State and a status text (< 20 characters) for the users' badges. */
  clusterStatus(): { state: ClusterState; text: string };
  /** Connection settings for a node that opens its own connection (twin-ledger); credentials stay in memory. */
  natsOptions():
    { servers: string[]; replicas: number; instance: string; user?: string; password?: string; tlsCaFile?: string } | undefined;
}
