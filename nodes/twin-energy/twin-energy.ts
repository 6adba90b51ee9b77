/**
 * twin-energy: energy, cost, demand and the ISO 50006 baseline per asset, under the tariff of a
 * twin-tariff config node. Thin adapter over EnergyEngine (runtime/energy/energy-engine.ts): output 1 EnergyCost
 * records (interval, shift, batch), output 2 DemandStatus, output 3 EnergyBaselinePoint.
 * A bad reading gives done(err) and a red status and changes nothing; without a usable tariff the
 * node refuses every input.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { TwinTariffNode } from '../twin-tariff/tariff-api.js';
import { EnergyEngine } from '../../runtime/energy/energy-engine.js';
import { engineConfigFromDef } from '../../runtime/energy/energy-config.js';
import { translator } from '../shared/i18n.js';
import { statusIdle } from '../shared/status.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';

interface TwinEnergyDef extends NodeDef {
  tariff?: string;
  [key: string]: unknown;
}

export default function (RED: NodeAPI): void {
  function TwinEnergyNode(this: Node, def: TwinEnergyDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-energy');

    const tariffNode = def.tariff ? (RED.nodes.getNode(def.tariff) as TwinTariffNode | null) : null;
    const tariff = tariffNode?.tariff?.() ?? null;
    let engine: EnergyEngine;
    let getInput: (msg: NodeMessage) => unknown;
    try {
      getInput = messageGetter(RED.util, propertyPath(def.property));
      if (!tariffNode) throw new Error(t('errors.noTariff'));
      if (!tariff) throw new Error(t('errors.badTariff', { error: tariffNode.configError ?? 'no tariff' }));
      engine = new EnergyEngine(engineConfigFromDef(def), tariff, tariffNode.version());
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const unsubscribe = tariffNode!.onChange((next) => engine.setTariff(next, tariffNode!.version()));

    let records = 0;
    let shedKw: number | null = null;
    const status = new ThrottledStatus(node, () =>
      shedKw !== null
        ? { text: t('status.alert', { kw: Math.ceil(shedKw) }), warn: true }
        : { text: t('status.counts', { records: compactCount(records) }), warn: false },
    );
    statusIdle(node, t('status.ready'));

    node.on('input', (msg: NodeMessageInFlow, send: (m: Array<NodeMessage[] | null>) => void, done: (err?: Error) => void) => {
      let out;
      try {
        out = engine.push(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      if (out.warning) node.warn(out.warning);
      const costs = out.costs.map((c) => ({ topic: `${c.asset}/energy/${c.scope}`, payload: c }));
      const demand = out.demand ? [{ topic: `${out.demand.asset}/demand`, payload: out.demand }] : [];
      const baseline = out.baseline.map((b) => ({ topic: `${b.asset}/enpi`, payload: b }));
      if (costs.length || demand.length || baseline.length) {
        records += costs.length;
        if (out.demand) shedKw = out.demand.alert ? out.demand.shedKw : null;
        send([costs.length ? costs : null, demand.length ? demand : null, baseline.length ? baseline : null]);
        status.changed();
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      unsubscribe();
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-energy', TwinEnergyNode);
}
