/**
 * twin-tariff-update: replaces the tariff in force of a twin-tariff config node with the definition
 * in msg.payload (config nodes have no input, so the update path is this node). The change is not
 * saved; the config node logs it and tells its users.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { TariffDef } from '../../runtime/energy/tariff.js';
import { TwinError } from '../../runtime/model/errors.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { statusError, statusOk } from '../shared/status.js';
import type { TwinTariffNode } from '../twin-tariff/tariff-api.js';

interface TwinTariffUpdateDef extends NodeDef {
  /** id of the twin-tariff config node */
  tariff: string;
}

export default function (RED: NodeAPI): void {
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-tariff-update');

  function TwinTariffUpdate(this: Node, def: TwinTariffUpdateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const target = RED.nodes.getNode(def.tariff) as TwinTariffNode | null;
    if (!target || typeof target.update !== 'function') {
      refuseInputs(node, t, t('errors.noTariff'));
      return;
    }

    const showInForce = (): void => {
      if (target.configError) statusError(node, t('status.badTariff'));
      else statusOk(node, t('status.version', { version: target.version().slice(0, 8) }));
    };
    showInForce();
    const unsubscribe = target.onChange(showInForce);

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      const refuse = (code: 'BAD_JSON' | 'BAD_CONFIG', reason: string): void => {
        statusError(node, t('status.refused'));
        done(new TwinError(code, t('errors.refused', { error: reason.replace(/^tariff: /, '') })));
      };
      let next: unknown = msg.payload;
      if (typeof next === 'string') {
        try {
          next = JSON.parse(next);
        } catch (err) {
          refuse('BAD_JSON', t('errors.json', { error: (err as Error).message }));
          return;
        }
      }
      const asked = (msg as { by?: unknown }).by;
      const by = typeof asked === 'string' && asked.trim() !== '' ? asked : `twin-tariff-update '${node.name || node.id}'`;
      try {
        target.update(next as TariffDef, by);
      } catch (err) {
        refuse('BAD_CONFIG', (err as Error).message);
        return;
      }
      // status follows through onChange
      const out = msg as NodeMessage;
      out.payload = { version: target.version(), by };
      send(out);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      unsubscribe();
      done();
    });
  }

  RED.nodes.registerType('twin-tariff-update', TwinTariffUpdate as never);
}
