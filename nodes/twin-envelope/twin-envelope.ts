/**
 * twin-envelope: the bounded control envelope of one setpoint (config node). It validates its
 * configuration once, at deploy, and hands the validated, frozen EnvelopeConfig and its version hash
 * to the approval gate and the writers that reference it. An invalid configuration gives no
 * envelope at all (envelope() → undefined), so its users refuse to work rather than guess.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import type { EnvelopeConfig } from '../../runtime/model/control.js';
import { envelopeVersion, validateEnvelope } from '../../runtime/control/envelope.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import type { TwinEnvelopeNode } from './envelope-api.js';

/** Frozen all the way down: a user that mutated the envelope would run under a version nobody checked. */
function deepFreeze(env: EnvelopeConfig): EnvelopeConfig {
  for (const il of env.interlocks) Object.freeze(il);
  Object.freeze(env.interlocks);
  Object.freeze(env.inputTags);
  return Object.freeze(env);
}

export default function (RED: NodeAPI): void {
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-envelope');

  function TwinEnvelope(this: TwinEnvelopeNode, def: NodeDef & Record<string, unknown>): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let env: EnvelopeConfig | undefined;
    let version = '';
    try {
      // a node's envelope always names its source: without one any reading anywhere would count
      if (typeof def.source !== 'string' || def.source.trim() === '') throw new TwinError('BAD_CONFIG', t('errors.noSource'));
      env = deepFreeze(validateEnvelope(def));
      version = envelopeVersion(env);
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(t('errors.config', { error: node.configError }));
    }
    node.envelope = () => env;
    node.version = () => version;
  }

  RED.nodes.registerType('twin-envelope', TwinEnvelope as never);

  // The editor shows the version hash of the deployed envelope (what decisions record).
  RED.httpAdmin.get('/twinloop/envelope/:id', RED.auth.needsPermission('twin-envelope.read'), (req: Request, res: Response) => {
    const n = RED.nodes.getNode(String(req.params.id)) as TwinEnvelopeNode | null;
    if (!n || (n as unknown as { type?: string }).type !== 'twin-envelope' || typeof n.version !== 'function') {
      res.status(404).json({ error: t('editor.notDeployed') });
      return;
    }
    res.json(n.configError ? { configError: n.configError } : { version: n.version() });
  });
}
