/**
 * twin-estimate: state estimation per asset and tag (Kalman filters, fusion, hybrid physics +
 * regression). Thin adapter around the runtime step `estimateStep` (runtime/estimate/step.ts),
 * called directly (no stream in between: a node's input is already one reading at a time); each
 * accepted reading gives at most one Estimate on the same message; a rejected one gives done(err)
 * and a red status.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Reading } from '../../runtime/model/reading.js';
import type { EstimateConfig } from '../../runtime/estimate/config.js';
import { estimateStep, estimatorInit } from '../../runtime/estimate/step.js';
import { configFromDef, readingFromPayload, translator, type TwinEstimateDef } from './estimate-def.js';
import { statusIdle } from '../shared/status.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { messageGetter, messageSetter, propertyPath } from '../shared/typed-property.js';

export default function (RED: NodeAPI): void {
  function TwinEstimateNode(this: Node, def: TwinEstimateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);

    let config: EstimateConfig;
    let getInput: (msg: NodeMessage) => unknown;
    let setOutput: (msg: NodeMessage, v: unknown) => void;
    try {
      config = configFromDef(def);
      getInput = messageGetter(RED.util, propertyPath(def.property));
      setOutput = messageSetter(RED.util, propertyPath(def.output));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    let total = 0;
    let uncertain = 0;
    let uncertainSinceStatus = 0;
    const status = new ThrottledStatus(node, () => {
      const warn = uncertainSinceStatus > 0;
      uncertainSinceStatus = 0;
      return { text: t('status.counts', { total: compactCount(total), uncertain: compactCount(uncertain) }), warn };
    });
    statusIdle(node, t('status.ready'));

    const state = estimatorInit(config);

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      let reading: Reading;
      try {
        reading = readingFromPayload(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      const o = estimateStep(state, reading);
      if (o.error) {
        status.error(o.error);
        done(o.error);
        return;
      }
      if (o.estimate) {
        const e = o.estimate;
        total++;
        if (e.quality !== 'good') {
          uncertain++;
          uncertainSinceStatus++;
        }
        const out = msg as NodeMessage;
        out.topic = `${e.asset}/${e.tag}`;
        setOutput(out, e);
        send(out);
        status.changed();
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-estimate', TwinEstimateNode);
}
