/**
 * twin-alarm: anomaly detection and alarm management on Readings. Thin adapter over
 * runtime/alarm/anomaly-alarms.ts (per-tag AnomalyDetector → AlarmManager): output 1 one message per
 * AlarmEvent (`<asset>/<tag>/alarm`), output 2 the alarm-rate figures every N minutes (if set).
 * Operator actions (acknowledge, shelve, unshelve) come as control messages (topic ack | shelve |
 * unshelve) or from the overview page through the handle the node registers
 * (runtime/alarm/alarm-registry.ts). Every action event (the system's too: shelving expired,
 * chattering) is logged and, with a twin-ledger configured, appended to the audit ledger; a control
 * message is done once its record is durable. A 1 s timer advances the alarm clock so off-delays
 * and shelve expiry happen with no new reading.
 * Bad input → done(err) + red status; the node keeps its state and goes on.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AnomalyAlarms } from '../../runtime/alarm/anomaly-alarms.js';
import { alarmLedgerEntry, isActionEvent } from '../../runtime/alarm/alarm-actions.js';
import { registerAlarmSource, unregisterAlarmSource, type AlarmActionRequest } from '../../runtime/alarm/alarm-registry.js';
import { MAX_SHELVE_MS, type AlarmEvent } from '../../runtime/alarm/types.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';
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
    let maxShelveMs: number;
    const ledgerNode = def.ledger ? (RED.nodes.getNode(def.ledger) as TwinLedgerNode | null) : null;
    try {
      if (def.ledger && !ledgerNode) throw new TwinError('BAD_CONFIG', t('errors.noLedger'));
      const cfg = configFromDef(def);
      alarms = new AnomalyAlarms(cfg);
      maxShelveMs = cfg.maxShelveMs ?? MAX_SHELVE_MS;
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

    /**
     * Log every action event and append it to the ledger (if any), in order; resolves once durable.
     * `via`: a person's action from the page or a control message, or the system's own (a timer or a
     * reading brought it about: shelving expired, chattering).
     */
    const record = async (evs: AlarmEvent[], via: AlarmActionRequest['via'] | 'system'): Promise<void> => {
      const actions = evs.filter(isActionEvent);
      for (const ev of actions) {
        node.log(t('log.action', { kind: ev.kind, id: ev.alarmId, user: ev.action.user, reason: ev.action.reason || '-', via }));
      }
      if (!ledgerNode || actions.length === 0) return;
      const ledger = await ledgerNode.ledger();
      for (const ev of actions) await ledger.append(alarmLedgerEntry(ev, via));
    };
    const recordFailed = (err: unknown): TwinError => {
      const e = new TwinError('LEDGER', t('errors.notRecorded', { error: (err as Error)?.message ?? String(err) }));
      node.error(e.message);
      status.error(e);
      return e;
    };

    const tick = setInterval(() => {
      try {
        const evs = alarms.tick();
        emit(evs, (m) => node.send(m));
        if (evs.some(isActionEvent)) record(evs, 'system').catch(recordFailed);
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
      const command = isCommand(msg.topic);
      try {
        evs = command ? alarms.command(msg.topic as string, msg.payload) : alarms.push(getInput(msg));
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      emit(evs, send);
      if (command)
        return void record(evs, 'message').then(
          () => done(),
          (err) => done(recordFailed(err)),
        );
      // the system's own actions a reading brings about (chattering, a shelving that expired): recorded, not awaited
      if (evs.length > 0 && evs.some(isActionEvent)) record(evs, 'system').catch(recordFailed);
      done();
    });

    // The overview page acts through this handle (web/server/overview-api.ts): the user is the page's login.
    registerAlarmSource({
      id: node.id,
      name: def.name || t('defaultName'),
      maxShelveMs,
      recordedIn: ledgerNode ? (ledgerNode.ledgerPath ?? t('label.ledger')) : '',
      list: () => alarms.list(),
      act: async (req) => {
        let evs: AlarmEvent[];
        try {
          const until = req.action === 'shelve' && req.durationMs !== undefined ? Date.now() + req.durationMs : undefined;
          const payload = { id: req.alarmId, user: req.user, reason: req.reason, ...(until !== undefined ? { untilTsMs: until } : {}) };
          evs = alarms.command(req.action, payload);
        } catch (err) {
          return { ok: false, events: [], error: (err as Error).message };
        }
        emit(evs, (m) => node.send(m));
        try {
          await record(evs, req.via);
        } catch (err) {
          return { ok: false, events: evs, error: recordFailed(err).message, notRecorded: true };
        }
        return { ok: true, events: evs };
      },
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      unregisterAlarmSource(node.id);
      clearInterval(tick);
      if (rates) clearInterval(rates);
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-alarm', TwinAlarmNode);
}
