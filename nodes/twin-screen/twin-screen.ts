/**
 * twin-screen: quality screening of Readings (range, rate, stuck, spike, duplicate/out-of-order/
 * future timestamps, stale). Thin adapter around the runtime `Screener`
 * (runtime/ingest/screen/screener.ts), called directly: each input goes out once, screened, on the
 * same message, and a silent tag produces one `stale` reading of its own.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import type { ScreenConfig } from '../../runtime/ingest/screen/config.js';
import { Screener } from '../../runtime/ingest/screen/screener.js';
import { configFromDef, readingFromPayload, translator, type TwinScreenDef } from './screen-def.js';
import { statusIdle } from '../shared/status.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { messageGetter, messageSetter, propertyPath } from '../shared/typed-property.js';

export default function (RED: NodeAPI): void {
  function TwinScreenNode(this: Node, def: TwinScreenDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);
    const two = def.flaggedOutput === true;

    let config: ScreenConfig;
    let getInput: (msg: NodeMessage) => unknown;
    let setOutput: (msg: NodeMessage, v: unknown) => void;
    // Screened in place: a clean reading is returned as it came, and then there is nothing to write.
    const inPlace = propertyPath(def.property) === propertyPath(def.output);
    try {
      config = configFromDef(def);
      getInput = messageGetter(RED.util, propertyPath(def.property));
      setOutput = messageSetter(RED.util, propertyPath(def.output));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    let total = 0;
    let notGood = 0;
    let notGoodSinceStatus = 0;
    const status = new ThrottledStatus(node, () => {
      const warn = notGoodSinceStatus > 0;
      notGoodSinceStatus = 0;
      return { text: t('status.counts', { total: compactCount(total), flagged: compactCount(notGood) }), warn };
    });
    statusIdle(node, t('status.ready'));

    /** Count a screened reading and send it on `msg` (the first output; also the second when flagged). */
    const emit = (r: Reading, msg: NodeMessage, send: (m: NodeMessage | Array<NodeMessage | null>) => void, written = false): void => {
      const bad = r.quality !== 'good';
      total++;
      if (bad) {
        notGood++;
        notGoodSinceStatus++;
      }
      if (!written) setOutput(msg, r);
      send(two ? [msg, bad ? msg : null] : msg);
      status.changed();
    };
    // a stale reading is nobody's input: a message of its own
    const screener = new Screener(config, (r) => emit(r, { topic: readingTopic(r) }, (m) => node.send(m)));

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      let reading: Reading;
      try {
        reading = readingFromPayload(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      const r = screener.step(reading);
      if (typeof msg.topic !== 'string' || msg.topic === '') msg.topic = readingTopic(r);
      emit(r, msg, send, inPlace && r === reading);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      screener.close();
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-screen', TwinScreenNode);
}
