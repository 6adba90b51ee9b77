/**
 * twin-drift: drift and fault detection on Readings. Thin adapter over the runtime detectors
 * (runtime/drift/) composed in runtime/drift/drift-engine.ts: output 1 the classified DriftEvents
 * (`<asset>/<tag>/drift`), output 2 the continuous AnomalyScores (`<asset>/<tag>/score`).
 * Bad input → done(err) + red status; the node keeps its state and goes on.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { AnomalyScore, DriftEvent } from '../../runtime/model/drift.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { configFromDef, translator, type TwinDriftDef } from './drift-def.js';
import { DriftEngine } from '../../runtime/drift/drift-engine.js';
import { refuseInputs, wiredOutputs } from '../shared/adapter.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';

const eventMessage = (e: DriftEvent): NodeMessage => ({ topic: `${e.asset}/${e.tag}/drift`, payload: e }) as NodeMessage;
const NOTHING: never[] = [];
const scoreTopic = (s: AnomalyScore): string => `${s.asset}/${s.tag}/score`;
const scoreMessage = (s: AnomalyScore): NodeMessage => ({ topic: scoreTopic(s), payload: s }) as NodeMessage;

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
    // What the status was made from: translating a text costs more than screening a reading, so
    // only when one of these changed (compared as they are: no key string built per message).
    let shownEvent: DriftEvent | undefined;
    let shownFitted: boolean | undefined;
    let shownCount = -1;
    const refresh = (): void => {
      const e: DriftEvent | undefined = engine.lastEvent;
      if (e === shownEvent && engine.mvFitted === shownFitted && engine.watchedCount === shownCount && !showingError) return;
      shownEvent = e;
      shownFitted = engine.mvFitted;
      shownCount = engine.watchedCount;
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
    const [eventsWired = false, scoresWired = false] = wiredOutputs(node);

    node.on(
      'input',
      (msg: NodeMessageInFlow, send: (m: Array<NodeMessage | NodeMessage[] | null>) => void, done: (err?: Error) => void) => {
        let res;
        try {
          res = engine.push(getInput(msg));
        } catch (err) {
          showingError = true;
          statusError(node, errorStatusText(err));
          done(err as Error);
          return;
        }
        // Most readings give nothing to send: no arrays or messages made for them, nor for an output with no wire.
        const events = eventsWired ? res.events : NOTHING;
        const scores = scoresWired ? res.scores : NOTHING;
        if (events.length === 0 && scores.length === 1) {
          // The usual case, a score alone: it goes on the message that brought the reading (as a
          // node passes a message on; a new one would cost Node-RED a message id).
          const out = msg as NodeMessage;
          out.topic = scoreTopic(scores[0]);
          out.payload = scores[0];
          send([null, out]);
        } else if (events.length || scores.length) {
          send([
            events.length === 0 ? null : events.length === 1 ? eventMessage(events[0]) : events.map(eventMessage),
            scores.length === 0 ? null : scores.length === 1 ? scoreMessage(scores[0]) : scores.map(scoreMessage),
          ]);
        }
        refresh();
        done();
      },
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      done();
    });
  }
  RED.nodes.registerType('twin-drift', TwinDriftNode);
}
