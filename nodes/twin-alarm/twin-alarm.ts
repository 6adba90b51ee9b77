/**
 * twin-alarm: anomaly detection and alarm management on Readings. Thin adapter over
 * runtime/alarm/anomaly-alarms.ts (per-tag AnomalyDetector → AlarmManager): output 1 one message per
 * AlarmEvent (`<asset>/<tag>/alarm`), output 2 the alarm-rate figures every N minutes (if set).
 * Control messages (topic ack | shelve | unshelve) are operator actions. A 1 s timer advances the
 * alarm clock so off-delays and shelve expiry happen with no new reading.
 * Bad input → done(err) + red status; the node keeps its state and goes on.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AnomalyAlarms } from '../../runtime/alarm/anomaly-alarms.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { statusIdle } from '../shared/status.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';
import { configFromDef, ratesEveryMs, translator, type TwinAlarmDef } from './alarm-def.js';

const TICK_MS = 1000;
/** Operator actions by topic: compared, not looked up in a Set (a reading's topic is often a new string, which a lookup hashes). */
const isCommand = (topic: unknown): topic is string => topic === 'ack' || topic === 'shelve' || topic === 'unshelve';

export default function (RED: NodeAPI): void {
  function TwinAlarmNode(this: Node, def: TwinAlarmDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);

    let alarms: AnomalyAlarms;
    let getInput: (msg: NodeMessage) => unknown;
    let ratesMs: number;
    try {
      alarms = new AnomalyAlarms(configFromDef(def));
      getInput = messageGetter(RED.util, propertyPath(def.property));
      ratesMs = ratesEveryMs(def);
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    const status = new ThrottledStatus(node, () => {
      let active = 0;
      let unack = 0;
      for (const a of alarms.list()) {
        if (a.state === 'unack-active' || a.state === 'ack-active') active++;
        if (a.state === 'unack-active' || a.state === 'unack-rtn') unack++;
      }
      if (active === 0 && unack === 0) return { text: t('status.quiet'), warn: false };
      return { text: t('status.alarms', { active: compactCount(active), unack: compactCount(unack) }), warn: true };
    });
    statusIdle(node, t('status.quiet'));

    const toMessages = (evs: AlarmEvent[]): NodeMessage[] => evs.map((e) => ({ topic: `${e.alarmId}/alarm`, payload: e }) as NodeMessage);
    const emit = (evs: AlarmEvent[], send: (m: Array<NodeMessage | NodeMessage[] | null>) => void): void => {
      if (!evs.length) return;
      const msgs = toMessages(evs);
      send([msgs.length === 1 ? msgs[0] : msgs, null]);
      status.changed();
    };

    const tick = setInterval(() => {
      try {
        emit(alarms.tick(), (m) => node.send(m));
      } catch (err) {
        status.error(err);
        node.error(err);
      }
    }, TICK_MS);
    const sendRates = (): void => node.send([null, { topic: 'alarm-rates', payload: alarms.rates() } as NodeMessage]);
    const rates = ratesMs > 0 ? setInterval(sendRates, ratesMs) : undefined;

    type Send = (m: Array<NodeMessage | NodeMessage[] | null>) => void;
    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      let evs: AlarmEvent[];
      try {
        evs = isCommand(msg.topic) ? alarms.command(msg.topic, msg.payload) : alarms.push(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      emit(evs, send);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(tick);
      if (rates) clearInterval(rates);
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-alarm', TwinAlarmNode);
}
