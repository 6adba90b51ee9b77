/**
 * twin-screen: quality screening of Readings (range, rate, stuck, spike, duplicate/out-of-order/
 * future timestamps, stale). Thin adapter: a Subject fed by the input, piped through the runtime
 * operator `screenReadings` (runtime/ingest/screen/); each input goes out once, screened, and a
 * silent tag produces one `stale` reading of its own.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Subject, asyncScheduler, type Subscription } from 'rxjs';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import type { ScreenConfig } from '../../runtime/ingest/screen/config.js';
import { screenReadings } from '../../runtime/ingest/screen/operator.js';
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

    /** The message being screened right now (the operator answers synchronously); none for stale readings. */
    let current: { msg: NodeMessageInFlow; send: (m: NodeMessage | Array<NodeMessage | null>) => void } | undefined;
    const input = new Subject<Reading>();
    const sub: Subscription = input.pipe(screenReadings(config, asyncScheduler)).subscribe((r) => {
      const bad = r.quality !== 'good';
      total++;
      if (bad) {
        notGood++;
        notGoodSinceStatus++;
      }
      let msg: NodeMessage;
      let send: (m: NodeMessage | Array<NodeMessage | null>) => void;
      if (current) {
        msg = current.msg;
        send = current.send;
        current = undefined;
        setOutput(msg, r);
        if (typeof msg.topic !== 'string' || msg.topic === '') msg.topic = readingTopic(r);
      } else {
        msg = { topic: readingTopic(r) }; // a stale reading: nobody's input
        setOutput(msg, r);
        send = (m) => node.send(m);
      }
      send(two ? [msg, bad ? msg : null] : msg);
      status.changed();
    });

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      let reading: Reading;
      try {
        reading = readingFromPayload(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      current = { msg, send };
      try {
        input.next(reading);
      } finally {
        current = undefined;
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      sub.unsubscribe();
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-screen', TwinScreenNode);
}
