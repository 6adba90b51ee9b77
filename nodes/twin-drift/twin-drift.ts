/**
 * twin-drift: drift and fault detection on Readings. Thin adapter over the runtime detectors
 * (runtime/drift/) composed in runtime/drift/drift-engine.ts: output 1 the classified DriftEvents
 * (`<asset>/<tag>/drift`), output 2 the continuous AnomalyScores (`<asset>/<tag>/score`).
 * Bad input → done(err) + red status; the node keeps its state and goes on.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { DriftEvent } from '../../runtime/model/drift.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { configFromDef, translator, type TwinDriftDef } from './drift-def.js';
import { DriftEngine } from '../../runtime/drift/drift-engine.js';
import { refuseInputs } from '../shared/adapter.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';

export default function (RED: NodeAPI): void {
  function TwinDriftNode(this: Node, def: TwinDriftDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);

    let engine: DriftEngine;
    let getInput: (msg: NodeMessage) => unknown;
    try {
      engine = new DriftEngine(configFromDef(def));
      getInput = messageGetter(RED.util, propertyPath(def.property));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    let shown = '';
    let showingError = false;
    let shownKey = '';
    const refresh = (): void => {
      const e: DriftEvent | undefined = engine.lastEvent;
      // Translating a status text costs more than screening a reading: only when it can change.
      const key = `${e?.tsMs}|${e?.asset}|${e?.tag}|${e?.kind}|${engine.mvFitted}|${engine.watchedCount}`;
      if (key === shownKey && !showingError) return;
      shownKey = key;
      let text: string;
      let warn = false;
      if (e) {
        text = t('status.event', { kind: t(`kind.${e.kind}`), tag: e.tag });
        warn = true;
      } else if (engine.mvFitted === false) text = t('status.learning');
      else text = t('status.watching', { count: engine.watchedCount });
      if (text === shown && !showingError) return; // one status call per change, not per message
      shown = text;
      showingError = false;
      if (warn) statusWarn(node, text);
      else statusOk(node, text);
    };
    statusIdle(node, t('status.watching', { count: engine.watchedCount }));

    node.on('input', (msg: NodeMessageInFlow, send: (m: Array<NodeMessage | NodeMessage[] | null>) => void, done: (err?: Error) => void) => {
      let res;
      try {
        res = engine.push(getInput(msg));
      } catch (err) {
        showingError = true;
        statusError(node, errorStatusText(err));
        done(err as Error);
        return;
      }
      const events = res.events.map((e) => ({ topic: `${e.asset}/${e.tag}/drift`, payload: e }) as NodeMessage);
      const scores = res.scores.map((s) => ({ topic: `${s.asset}/${s.tag}/score`, payload: s }) as NodeMessage);
      if (events.length || scores.length) {
        send([events.length === 1 ? events[0] : events.length ? events : null, scores.length === 1 ? scores[0] : scores.length ? scores : null]);
      }
      refresh();
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      done();
    });
  }
  RED.nodes.registerType('twin-drift', TwinDriftNode);
}
