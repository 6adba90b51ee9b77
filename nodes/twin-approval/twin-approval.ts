/**
 * twin-approval: the approval gate (runtime/control/gate.ts) in a flow, of one setpoint or, with
 * `mode: maintenance`, of one asset's maintenance windows: one gate core, the kind set by the config.
 * Setpoint: the input takes Proposals, Readings (the envelope's inputs and the page's trend),
 * WriteResults wired back from the writers, and `topic: auto-approval` switches; output 1: signed
 * Commands for the writers. Maintenance: the input takes MaintenanceProposals (twin-maintenance);
 * output 1: signed MaintenanceOrders for a CMMS or work-order flow (`msg.replay` true when re-sent
 * unchanged after a restart). Output 2: state events `{ proposalId, state, reason?, record }`, each
 * after its ledger record is durable. Supervisors decide through the page (web/server/approvals-api.ts),
 * which reaches this node through the handle it registers.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { TwinError } from '../../runtime/model/errors.js';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import type { MaintenanceProposal } from '../../runtime/model/maintenance.js';
import { Gate } from '../../runtime/control/gate.js';
import { parseGateMessage, type GateMessage } from '../../runtime/control/gate-input.js';
import { assertMaintenanceProposal } from '../../runtime/control/gate-maintenance.js';
import type { BaseProposal } from '../../runtime/control/gate-kind.js';
import {
  registerGate,
  unregisterGate,
  type DecisionOutcome,
  type GateFacts,
  type GateHandle,
  type MaintenanceView,
  type ProposalView,
} from '../../runtime/control/gate-registry.js';
import { isMaintenanceConfig, type AnyGateConfig } from '../../runtime/control/gate-state.js';
import type { TwinEnvelopeNode } from '../twin-envelope/envelope-api.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { registerApprovalsPage } from '../../web/server/approvals-api.js';
import { approvalMode, gateConfigFromDef, maintenanceConfigFromDef, type TwinApprovalDef } from './approval-config.js';
import { alarmedGateHandle } from '../../runtime/control/gate-alarm.js';
import { alarmOf, LEDGER_REMEDY } from '../../runtime/control/ledger-auth.js';

type Send = (m: Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;
/** Readings kept while standing by (distinct tags; the envelope's inputs are far fewer). */
const MAX_STANDBY_READINGS = 200;

export default function (RED: NodeAPI): void {
  registerApprovalsPage(RED);
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-approval');

  function TwinApproval(this: Node, def: TwinApprovalDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const ledgerNode = RED.nodes.getNode(def.ledger) as TwinLedgerNode | null;

    let config: AnyGateConfig;
    try {
      config =
        approvalMode(def) === 'maintenance'
          ? maintenanceConfigFromDef(def, ledgerNode)
          : gateConfigFromDef(def, RED.nodes.getNode(def.envelope) as TwinEnvelopeNode | null, ledgerNode);
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const maintenance = isMaintenanceConfig(config) ? config : undefined;
    const setpoint = isMaintenanceConfig(config) ? undefined : config;
    const asset = maintenance ? maintenance.asset : setpoint!.envelope.asset;
    // setpoint: `asset/tag` (commands), maintenance: `asset/maintenance` (orders on `…/order`); events on `…/approval`
    const topic = maintenance ? `${asset}/maintenance` : `${asset}/${setpoint!.envelope.tag}`;
    const name = def.name || (maintenance ? `${asset} maintenance` : topic);
    const kpiTag = typeof def.kpiTag === 'string' && def.kpiTag.trim() !== '' ? def.kpiTag.trim() : undefined;
    // What the supervisors' page shows of this gate, running or refusing to act.
    // in a cluster, the line the gate follows (the pages show it; other instances are served it only while owned)
    const line = ledgerNode?.ownership ? { line: ledgerNode.ownership.line } : {};
    const facts = (ledgerLocation: string): GateFacts =>
      maintenance
        ? { kind: 'maintenance', id: node.id, name, asset, ledgerLocation, ...line, twoPersonAboveEur: maintenance.twoPersonAboveEur }
        : {
            kind: 'setpoint',
            id: node.id,
            name,
            asset,
            ledgerLocation,
            ...line,
            tag: setpoint!.envelope.tag,
            envelope: setpoint!.envelope,
            envelopeVersion: setpoint!.envelopeVersion,
            twoPersonAboveStep: setpoint!.twoPersonAboveStep,
          };

    let gate: Gate<BaseProposal> | undefined;
    let startError: Error | undefined;
    let closed = false;
    // A ledger that follows its line's ownership (twin-cluster): the gate runs only on the line's owner.
    const ownership = ledgerNode?.ownership;
    let standby = ownership !== undefined;
    /** Counts gate starts and stops: a start that finishes after its ownership ended does nothing. */
    let epoch = 0;
    const subs: Subscription[] = [];
    // Messages that arrive while the ledger is read on start wait, in order (nothing is dropped).
    const waiting: Array<[NodeMessageInFlow, Send, Done]> = [];

    const showState = (): void => {
      if (!gate) return;
      if (gate.halted) return statusError(node, t('status.halted'));
      const s = gate.summary();
      if (s.executing) statusOk(node, t('status.ramp', { step: s.executing.step, steps: s.executing.steps }));
      else if (s.pending > 0) statusWarn(node, t('status.pending', { count: s.pending }));
      else if (s.approved) statusOk(node, t('status.ordered', { count: s.approved }));
      else statusIdle(node, t('status.idle'));
    };

    const ignoredWarned = new Set<string>();
    const handle = (msg: NodeMessageInFlow, _send: Send, done: Done): void => {
      if (standby) return refuseOnStandby(msg, done);
      if (startError || !gate) {
        done(new TwinError('BAD_CONFIG', t('errors.notStarted', { error: startError?.message ?? '' })));
        return;
      }
      let m: GateMessage | { kind: 'proposal'; proposal: MaintenanceProposal };
      try {
        m = maintenance ? maintenanceMessage(msg.payload) : setpointMessage(msg);
      } catch (err) {
        statusError(node, errorStatusText(err));
        done(err as Error);
        return;
      }
      let p: Promise<DecisionOutcome>;
      switch (m.kind) {
        case 'proposal':
          p = gate.proposal(m.proposal);
          break;
        case 'reading':
          p = gate.reading(m.reading);
          break;
        case 'result':
          p = gate.result(m.result);
          break;
        case 'policy': {
          // A flow is not a logged-in person: the record says so. msg.reason, when given, is recorded.
          const who = (msg as { user?: unknown }).user;
          const why = (msg as { reason?: unknown }).reason;
          p = gate.setAutoApproval(
            m.enabled,
            `flow:${typeof who === 'string' && who !== '' ? who : node.id}`,
            typeof why === 'string' ? why : undefined,
          );
          break;
        }
      }
      p.then((out) => {
        if (out.ignored && m.kind === 'reading') {
          // once per input tag (bounded by the envelope's inputs): a flow wired from the wrong connection
          const key = readingTopic(m.reading);
          if (!ignoredWarned.has(key)) {
            ignoredWarned.add(key);
            node.warn(out.ignored);
          }
        }
        if (out.ok) {
          if (out.duplicateOf && m.kind === 'proposal')
            node.log(t('log.alreadyDecided', { id: m.proposal.id, of: out.duplicateOf, state: out.state }));
          showState();
          done();
        } else {
          // a ledger that failed halts the gate: the status says so, not "bad payload"
          const code = gate?.halted ? 'LEDGER' : out.refused ? 'REFUSED' : 'BAD_PAYLOAD';
          const err = new TwinError(code, out.error ?? 'refused');
          if (gate?.halted) showState();
          else statusError(node, errorStatusText(err));
          done(err);
        }
      }, done);
    };

    /** A maintenance gate takes MaintenanceProposals only. */
    const maintenanceMessage = (payload: unknown): { kind: 'proposal'; proposal: MaintenanceProposal } => {
      try {
        assertMaintenanceProposal(payload);
      } catch (err) {
        throw new TwinError('BAD_PAYLOAD', t('errors.maintenancePayload', { error: (err as Error).message }));
      }
      return { kind: 'proposal', proposal: payload };
    };
    const setpointMessage = (msg: NodeMessageInFlow): GateMessage => {
      if ((msg.payload as { kind?: unknown } | null)?.kind === 'maintenance')
        throw new TwinError('BAD_PAYLOAD', t('errors.maintenanceInSetpointMode'));
      return parseGateMessage(msg, Date.now());
    };

    // The latest reading per tag seen while standing by, handed to the gate when it opens: a tag that
    // rarely changes (a mode, an alarm) is then known at once after a takeover. The gate judges their age.
    const standbyReadings = new Map<string, Reading>();
    /**
     * Another instance owns the line: its gate decides. A proposal is refused (done(err), no queueing: the
     * owner's gate gets the same proposal from its own flow), a reading is kept for a takeover (no error).
     */
    const refuseOnStandby = (msg: NodeMessageInFlow, done: Done): void => {
      if (!maintenance) {
        try {
          const m = setpointMessage(msg);
          if (m.kind === 'reading') {
            const key = readingTopic(m.reading);
            if (standbyReadings.has(key) || standbyReadings.size < MAX_STANDBY_READINGS) {
              standbyReadings.delete(key);
              standbyReadings.set(key, m.reading);
            }
            return done();
          }
        } catch (err) {
          return done(err as Error);
        }
      }
      done(new TwinError('REFUSED', t('errors.standby', { line: ownership?.line ?? '' })));
    };

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      if (!standby && !gate && !startError) waiting.push([msg, send, done]);
      else handle(msg, send, done);
    });

    /** Stop the gate (the line was released or the node closes): off the page, outputs unwired, closed. */
    const stopGate = (): void => {
      epoch++;
      unregisterGate(node.id);
      for (const sub of subs.splice(0)) sub.unsubscribe();
      gate?.close();
      gate = undefined;
      startError = undefined;
    };

    const start = (): void => {
      if (gate || startError) stopGate(); // owned twice without a release in between: one gate only
      const mine = ++epoch;
      const stale = () => closed || mine !== epoch;
      standby = false;
      statusIdle(node, t('status.starting'));
      // with ownership: the ledger opened for this ownership, its 'owner' record appended
      ledgerNode!
        .ledger()
        .then(async (ledger) => {
          if (stale()) return;
          const g = (maintenance
            ? await Gate.open({ config: maintenance, ledger })
            : await Gate.open({ config: setpoint!, ledger, ...(kpiTag ? { kpiTag } : {}) })) as unknown as Gate<BaseProposal>;
          if (stale()) return g.close();
          subs.push(
            g.commands$.subscribe(({ command }) => node.send([{ topic, payload: command }, null])),
            g.orders$.subscribe(({ order, replay }) => {
              const m: NodeMessage & { replay?: boolean } = { topic: `${topic}/order`, payload: order };
              if (replay) m.replay = true;
              node.send([m, null]);
            }),
            g.events$.subscribe((ev) => {
              node.send([null, { topic: `${topic}/approval`, payload: ev }]);
              showState();
            }),
            g.errors$.subscribe((err) => {
              node.error(t('errors.halted', { error: err.message }));
              showState();
            }),
          );
          gate = g;
          const shown = facts(ledger.location);
          const calls = {
            decide: (req: Parameters<typeof g.decide>[0]) => g.decide(req).finally(showState),
            ledgerRecords: () => ledger.readAll(),
          };
          const handleOf: GateHandle =
            shown.kind === 'maintenance'
              ? { ...shown, ...calls, views: () => g.views() as unknown as MaintenanceView[] }
              : {
                  ...shown,
                  ...calls,
                  autoApproval: () => {
                    const { enabled: configured, maxStep } = setpoint!.autoApproval;
                    return { enabled: g.autoApprovalOn(), configured, maxStep };
                  },
                  views: () => g.views() as unknown as ProposalView[],
                  setAutoApproval: (enabled: boolean, user: string, reason?: string) =>
                    g.setAutoApproval(enabled, user, reason).finally(showState),
                };
          await g.start(); // a command or order restored from the ledger may leave at once: outputs are wired above
          if (stale()) return; // closed or released while starting: stopGate has closed the gate
          for (const r of standbyReadings.values()) void g.reading(r);
          standbyReadings.clear();
          registerGate(handleOf);
          showState();
        })
        .catch((err: Error) => {
          if (stale()) return; // released while opening (the ledger refuses): nothing to show
          startError = err;
          node.error(t('errors.start', { error: err.message }));
          statusError(node, t('status.halted'));
          // Listed on the page with the alarm (why, what to do), refusing every decision: not only in the log.
          const location = ledgerNode?.ledgerPath ?? '';
          const alarm = alarmOf(err, LEDGER_REMEDY(location));
          registerGate(alarmedGateHandle(facts(location), alarm));
        })
        .finally(() => {
          if (!closed && mine === epoch) for (const [msg, send, done] of waiting.splice(0)) handle(msg, send, done);
        });
    };

    /** The line went to another instance (or this one stops): the gate stands by. */
    const standBy = (): void => {
      stopGate();
      standby = true;
      statusIdle(node, t('status.standby'));
      // messages that waited for the gate to open: the owner's to handle now
      for (const [msg, send, done] of waiting.splice(0)) handle(msg, send, done);
    };

    let unfollow: (() => void) | undefined;
    if (ownership) {
      statusIdle(node, t('status.standby'));
      unfollow = ownership.follow(start, (reason) => {
        node.log(t('log.standby', { line: ownership.line, reason }));
        standBy();
      });
    } else start();

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      unfollow?.();
      stopGate();
      done();
    });
  }

  RED.nodes.registerType('twin-approval', TwinApproval as never);
}
