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
 *
 * With a cluster (twin-cluster) and a line: it alarms only while this instance owns the line; on a
 * standby readings are taken and dropped (done()) and operator actions refused. Its state
 * (runtime/alarm/alarm-state.ts) goes to the cluster's KV (runtime/cluster/alarm-state-kv.ts) every
 * `snapshotS` seconds and when the line is released; the next owner restores it before its first
 * reading (readings that arrive meanwhile wait), so it neither learns the tags afresh nor ends and
 * re-raises an episode open at the handover. A snapshot it cannot read or that is refused: a warning,
 * and it learns afresh.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AnomalyAlarms } from '../../runtime/alarm/anomaly-alarms.js';
import { alarmLedgerEntry, isActionEvent } from '../../runtime/alarm/alarm-actions.js';
import { registerAlarmSource, unregisterAlarmSource, type AlarmActionRequest } from '../../runtime/alarm/alarm-registry.js';
import { MAX_SHELVE_MS, type AlarmEvent } from '../../runtime/alarm/types.js';
import { parseLineId } from '../../runtime/cluster/line-id.js';
import type { AlarmStateStore } from '../../runtime/cluster/alarm-state-kv.js';
import type { NatsConnection } from '../../runtime/cluster/nats-client.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { TwinClusterNode } from '../twin-cluster/cluster-api.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { inReplay } from '../shared/replay-source.js';
import { statusIdle, statusWarn } from '../shared/status.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';
import { configFromDef, ratesEveryMs, snapshotEveryMs, translator, type TwinAlarmDef } from './alarm-def.js';

const TICK_MS = 1000;
/** Readings held while a snapshot is restored (beyond: refused with an error, never dropped silently). */
const MAX_HELD = 10_000;
/** Longest wait for the last state save when the node closes. */
const CLOSE_WAIT_MS = 5_000;
/** Operator actions by topic: compared, not looked up in a Set (a reading's topic is often a new string, which a lookup hashes). */
const isCommand = (topic: unknown): topic is string => topic === 'ack' || topic === 'shelve' || topic === 'unshelve';

export default function (RED: NodeAPI): void {
  function TwinAlarmNode(this: Node, def: TwinAlarmDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);

    let alarms: AnomalyAlarms;
    let cfg: ReturnType<typeof configFromDef>;
    let getInput: (msg: NodeMessage) => unknown;
    let ratesMs: number;
    let maxShelveMs: number;
    const ledgerNode = def.ledger ? (RED.nodes.getNode(def.ledger) as TwinLedgerNode | null) : null;
    const clusterId = (def.cluster ?? '').trim();
    // under `twinloop replay` the cluster owns nothing: the node alarms as it would alone
    const cluster = clusterId !== '' && !inReplay() ? (RED.nodes.getNode(clusterId) as TwinClusterNode | null) : null;
    let line = '';
    let snapshotMs = 0;
    try {
      if (def.ledger && !ledgerNode) throw new TwinError('BAD_CONFIG', t('errors.noLedger'));
      if (clusterId !== '' && !inReplay()) {
        if (!cluster) throw new TwinError('BAD_CONFIG', t('errors.noCluster'));
        line = parseLineId((def.line ?? '').trim());
        snapshotMs = snapshotEveryMs(def);
      }
      cfg = configFromDef(def);
      alarms = new AnomalyAlarms(cfg);
      maxShelveMs = cfg.maxShelveMs ?? MAX_SHELVE_MS;
      getInput = messageGetter(RED.util, propertyPath(def.property));
      ratesMs = ratesEveryMs(def);
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    /** With a cluster: this instance owns the line; a restore in flight holds the readings. */
    let owned = cluster === null;
    let restoring = false;
    type Held = { msg: NodeMessageInFlow; send: Send; done: (err?: Error) => void };
    const held: Held[] = [];

    type Send = (m: Array<NodeMessage | NodeMessage[] | null>) => void;
    const status = new ThrottledStatus(node, () => {
      if (!owned) return { text: t('status.standby'), warn: true };
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
      if (!owned || restoring) return;
      try {
        const evs = alarms.tick();
        emit(evs, (m) => node.send(m));
        if (evs.some(isActionEvent)) record(evs, 'system').catch(recordFailed);
      } catch (err) {
        status.error(err);
        node.error(err);
      }
    }, TICK_MS);
    const sendRates = (): void => {
      if (owned && !restoring) node.send([null, { topic: 'alarm-rates', payload: alarms.rates() } as NodeMessage]);
    };
    const rates = ratesMs > 0 ? setInterval(sendRates, ratesMs) : undefined;

    const handle = (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void): void => {
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
    };
    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      if (owned && !restoring) return handle(msg, send, done);
      if (owned) {
        if (held.length >= MAX_HELD) return done(new TwinError('QUEUE', t('errors.heldFull', { line, max: MAX_HELD })));
        held.push({ msg, send, done });
        return;
      }
      // a standby: another instance alarms on this line; an operator action belongs there
      if (isCommand(msg.topic)) return done(new TwinError('REFUSED', t('errors.notOwner', { line })));
      done();
    });

    // The overview page acts through this handle (web/server/overview-api.ts): the user is the page's login.
    registerAlarmSource({
      id: node.id,
      name: def.name || t('defaultName'),
      maxShelveMs,
      recordedIn: ledgerNode ? (ledgerNode.ledgerPath ?? t('label.ledger')) : '',
      list: () => (owned ? alarms.list() : []),
      act: async (req) => {
        let evs: AlarmEvent[];
        try {
          if (!owned || restoring) throw new TwinError('REFUSED', t('errors.notOwner', { line }));
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

    let stopFollowing: (() => void) | undefined;
    /** Store operations (open, restore, save) one after another, so a restore reads the save before it. */
    let storeOps: Promise<unknown> = Promise.resolve();
    let nc: NatsConnection | undefined;
    let store: Promise<AlarmStateStore> | undefined;
    let saveTimer: NodeJS.Timeout | undefined;
    let saveFailing = false;
    const tooLarge = new Set<string>();
    /** Takeovers so far (a restore ends the holding of readings only if no later one began). */
    let generation = 0;
    const stateKey = (def.stateKey ?? '').trim() || node.id;
    const openStore = (): Promise<AlarmStateStore> =>
      (store ??= (async () => {
        const o = cluster!.natsOptions();
        if (!o) throw new TwinError('BAD_CONFIG', t('errors.noCluster'));
        // loaded only with a cluster: they carry the bundled NATS client
        const { connectNats } = await import('../../runtime/cluster/nats-connect.js');
        const { openAlarmStateKv } = await import('../../runtime/cluster/alarm-state-kv.js');
        nc = await connectNats({ ...o, name: `twinloop ${o.instance} twin-alarm ${node.id}` });
        return openAlarmStateKv({ nc, replicas: o.replicas });
      })().catch((err) => {
        store = undefined;
        throw err;
      }));
    const queue = <T>(op: () => Promise<T>): Promise<T> => {
      const p = storeOps.then(op);
      storeOps = p.catch(() => undefined);
      return p;
    };
    const save = (a: AnomalyAlarms): Promise<void> =>
      queue(async () => {
        const r = await (await openStore()).save(line, stateKey, a.snapshot());
        // said once per tag, not every period
        const fresh = r.skipped.filter((id) => !tooLarge.has(id));
        for (const id of fresh) tooLarge.add(id);
        if (fresh.length) node.warn(t('errors.snapshotTooLarge', { tags: fresh.slice(0, 5).join(', '), n: fresh.length }));
        saveFailing = false;
      }).catch((err: Error) => {
        // said once per run of failures (a cluster that is away fails every period)
        if (!saveFailing) node.warn(t('errors.snapshotSave', { line, error: err.message }));
        saveFailing = true;
      });
    const drainHeld = (): void => {
      for (const h of held.splice(0)) {
        if (owned) handle(h.msg, h.send, h.done);
        else h.done();
      }
    };
    if (cluster) {
      const standby = (): void => statusIdle(node, t('status.standby'));
      standby();
      stopFollowing = cluster.follow(
        (l) => {
          if (l !== line || owned) return;
          owned = true;
          const gen = ++generation;
          alarms = new AnomalyAlarms(cfg);
          if (snapshotMs <= 0) {
            status.changed();
            return;
          }
          restoring = true;
          statusWarn(node, t('status.restoring'));
          void queue(async () => {
            const r = await (await openStore()).load(line, stateKey);
            if (r.unreadable.length) node.warn(t('errors.snapshotUnreadable', { keys: r.unreadable.slice(0, 5).join(', ') }));
            if (r.snapshot === undefined) return 0;
            const fresh = new AnomalyAlarms(cfg);
            fresh.restore(r.snapshot);
            if (owned && gen === generation) alarms = fresh;
            return (r.snapshot as { tags: unknown[] }).tags.length;
          })
            .then(
              (n) => n > 0 && node.log(t('log.restored', { line, tags: n })),
              (err: Error) => node.warn(t('errors.snapshotRestore', { line, error: err.message })),
            )
            .finally(() => {
              // a later takeover's restore may be running: it ends the holding
              if (gen !== generation) return;
              restoring = false;
              drainHeld();
              if (owned) status.changed();
            });
          saveTimer = setInterval(() => {
            if (owned && !restoring) void save(alarms);
          }, snapshotMs);
        },
        (l) => {
          if (l !== line || !owned) return;
          owned = false;
          clearInterval(saveTimer);
          saveTimer = undefined;
          const last = alarms;
          // not while a restore is still running (what it holds is the last save, which stands)
          if (snapshotMs > 0 && !restoring) void save(last);
          alarms = new AnomalyAlarms(cfg);
          standby();
        },
      );
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      unregisterAlarmSource(node.id);
      clearInterval(tick);
      if (rates) clearInterval(rates);
      stopFollowing?.();
      clearInterval(saveTimer);
      status.close();
      // the line's last state, if it is still ours (a redeploy of this node alone keeps the line)
      if (cluster && owned && snapshotMs > 0 && !restoring) void save(alarms);
      owned = false;
      drainHeld();
      // the last save, but not past Node-RED's close timeout (15 s) when the cluster does not answer
      const waited = new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref());
      void Promise.race([storeOps, waited]).then(async () => {
        await nc?.close().catch(() => undefined);
        done();
      });
    });
  }
  RED.nodes.registerType('twin-alarm', TwinAlarmNode);
}
