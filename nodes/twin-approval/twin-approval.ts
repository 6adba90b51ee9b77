/**
 * twin-approval: the approval gate of one setpoint (runtime/control/gate.ts) in a flow, or, with
 * `mode: maintenance`, of one asset's maintenance windows (maintenance-mode.ts). One input
 * takes Proposals, Readings (the envelope's inputs and the page's trend), WriteResults wired back
 * from the writers, and `topic: auto-approval` switches. Output 1: signed Commands for the writers;
 * output 2: state events `{ proposalId, state, reason?, record }`, each after its ledger record is
 * durable. Supervisors decide through the page (web/server/approvals-api.ts), which reaches this node
 * through the GateHandle it registers.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { TwinError } from '../../runtime/model/errors.js';
import { readingTopic } from '../../runtime/model/reading.js';
import { Gate } from '../../runtime/control/gate.js';
import { parseGateMessage } from '../../runtime/control/gate-input.js';
import { registerGate, unregisterGate, type DecisionOutcome, type GateHandle } from '../../runtime/control/gate-registry.js';
import type { GateConfig } from '../../runtime/control/gate-state.js';
import type { TwinEnvelopeNode } from '../twin-envelope/envelope-api.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { registerApprovalsPage } from '../../web/server/approvals-api.js';
import { approvalMode, gateConfigFromDef, type TwinApprovalDef } from './approval-config.js';
import { runMaintenanceGate } from './maintenance-mode.js';
import { alarmedGateHandle } from '../../runtime/control/gate-alarm.js';
import { alarmOf, LEDGER_REMEDY } from '../../runtime/control/ledger-auth.js';

type Send = (m: Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;

export default function (RED: NodeAPI): void {
  registerApprovalsPage(RED);
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-approval');

  function TwinApproval(this: Node, def: TwinApprovalDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const ledgerNode = RED.nodes.getNode(def.ledger) as TwinLedgerNode | null;

    let config: GateConfig;
    try {
      if (approvalMode(def) === 'maintenance') return runMaintenanceGate(node, def, ledgerNode, t);
      config = gateConfigFromDef(def, RED.nodes.getNode(def.envelope) as TwinEnvelopeNode | null, ledgerNode);
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const { asset, tag } = config.envelope;
    const topic = `${asset}/${tag}`;
    const kpiTag = typeof def.kpiTag === 'string' && def.kpiTag.trim() !== '' ? def.kpiTag.trim() : undefined;

    let gate: Gate | undefined;
    let startError: Error | undefined;
    let closed = false;
    const subs: Subscription[] = [];
    // Messages that arrive while the ledger is read on start wait, in order (nothing is dropped).
    const waiting: Array<[NodeMessageInFlow, Send, Done]> = [];

    const showState = (): void => {
      if (!gate) return;
      if (gate.halted) return statusError(node, t('status.halted'));
      const s = gate.summary();
      if (s.executing) statusOk(node, t('status.ramp', { step: s.executing.step, steps: s.executing.steps }));
      else if (s.pending > 0) statusWarn(node, t('status.pending', { count: s.pending }));
      else statusIdle(node, t('status.idle'));
    };

    const ignoredWarned = new Set<string>();
    const handle = (msg: NodeMessageInFlow, _send: Send, done: Done): void => {
      if (startError || !gate) {
        done(new TwinError('BAD_CONFIG', t('errors.notStarted', { error: startError?.message ?? '' })));
        return;
      }
      let m;
      try {
        if ((msg.payload as { kind?: unknown } | null)?.kind === 'maintenance') throw new TwinError('BAD_PAYLOAD', t('errors.maintenanceInSetpointMode'));
        m = parseGateMessage(msg, Date.now());
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
          p = gate.setAutoApproval(m.enabled, `flow:${typeof who === 'string' && who !== '' ? who : node.id}`, typeof why === 'string' ? why : undefined);
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
          if (out.duplicateOf && m.kind === 'proposal') node.log(t('log.alreadyDecided', { id: m.proposal.id, of: out.duplicateOf, state: out.state }));
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

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      if (!gate && !startError) waiting.push([msg, send, done]);
      else handle(msg, send, done);
    });

    statusIdle(node, t('status.starting'));
    ledgerNode!
      .ledger()
      .then(async (ledger) => {
        const g = await Gate.open({ config, ledger, ...(kpiTag ? { kpiTag } : {}) });
        if (closed) return g.close();
        subs.push(
          g.commands$.subscribe(({ command }) => node.send([{ topic, payload: command }, null])),
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
        const handleOf: GateHandle = {
          id: node.id,
          name: def.name || topic,
          asset,
          tag,
          envelope: config.envelope,
          envelopeVersion: config.envelopeVersion,
          twoPersonAboveStep: config.twoPersonAboveStep,
          autoApproval: () => ({ enabled: g.autoApprovalOn(), configured: config.autoApproval.enabled, maxStep: config.autoApproval.maxStep }),
          views: () => g.views(),
          decide: (req) => g.decide(req).finally(showState),
          setAutoApproval: (enabled, user, reason) => g.setAutoApproval(enabled, user, reason).finally(showState),
          ledgerRecords: () => ledger.readAll(),
          ledgerLocation: ledger.location,
        };
        g.start(); // a command restored from the ledger may leave at once: outputs are wired above
        registerGate(handleOf);
        showState();
      })
      .catch((err: Error) => {
        startError = err;
        node.error(t('errors.start', { error: err.message }));
        statusError(node, t('status.halted'));
        // Listed on the page with the alarm (why, what to do), refusing every decision: not only in the log.
        if (closed) return;
        const location = ledgerNode?.ledgerPath ?? '';
        registerGate(
          alarmedGateHandle(
            { id: node.id, name: def.name || topic, asset, tag, envelope: config.envelope, envelopeVersion: config.envelopeVersion,
              twoPersonAboveStep: config.twoPersonAboveStep, ledgerLocation: location },
            alarmOf(err, LEDGER_REMEDY(location)),
          ),
        );
      })
      .finally(() => {
        for (const [msg, send, done] of waiting.splice(0)) handle(msg, send, done);
      });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      unregisterGate(node.id);
      for (const s of subs) s.unsubscribe();
      gate?.close();
      done();
    });
  }

  RED.nodes.registerType('twin-approval', TwinApproval as never);
}
