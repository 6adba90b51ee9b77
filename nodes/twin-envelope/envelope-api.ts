/**
 * What the twin-envelope config node offers the nodes that reference it (twin-approval, the
 * writers). Import the type only: `import type { TwinEnvelopeNode } from '../twin-envelope/envelope-api.js'`
 * and get the node with `RED.nodes.getNode(config.envelope) as TwinEnvelopeNode | null`.
 */
import type { Node } from 'node-red';
import type { EnvelopeConfig } from '../../runtime/model/control.js';

export interface TwinEnvelopeNode extends Node {
  /** Why the configuration was refused (undefined when valid). A node that uses the envelope must refuse to work while set. */
  configError?: string;
  /** The validated envelope, or undefined when the configuration is invalid. */
  envelope(): EnvelopeConfig | undefined;
  /** Version hash of the envelope (envelopeVersion), '' when the configuration is invalid. */
  version(): string;
}

/**
 * The envelope of a referenced config node, or the reason there is none (missing node or invalid
 * config), so that every user refuses in the same words.
 */
export function envelopeOf(node: TwinEnvelopeNode | null | undefined): { env: EnvelopeConfig; version: string } | { error: string } {
  if (!node) return { error: 'no envelope configured' };
  const env = node.envelope();
  if (!env) return { error: node.configError ?? 'envelope configuration invalid' };
  return { env, version: node.version() };
}
