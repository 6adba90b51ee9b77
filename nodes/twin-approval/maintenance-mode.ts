/**
 * twin-approval in maintenance mode: the maintenance gate (runtime/maintenance/maintenance-gate.ts)
 * in a flow. The input takes MaintenanceProposals (twin-maintenance). Output 1: signed
 * MaintenanceOrders for a CMMS or work-order flow (`msg.replay` true when re-sent unchanged after a
 * restart); output 2: state events `{ proposalId, state, reason?, record }`, each after its ledger
 * record is durable. Supervisors decide on the same page as for setpoint changes, through the
 * MaintenanceGateHandle registered here.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { TwinError } from '../../runtime/model/errors.js';
import { MaintenanceGate, assertMaintenanceProposal } from '../../runtime/maintenance/maintenance-gate.js';
import { registerGate, unregisterGate, type MaintenanceGateHandle } from '../../runtime/control/gate-registry.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';
import { alarmedMaintenanceHandle } from '../../runtime/control/gate-alarm.js';
import { alarmOf, LEDGER_REMEDY } from '../../runtime/control/ledger-auth.js';
import { refuseInputs } from '../shared/adapter.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { maintenanceConfigFromDef, type TwinApprovalDef } from './approval-config.js';

type Done = (err?: Error) => void;
type Translate = (key: string, vars?: Record<string, unknown>) => string;

export function runMaintenanceGate(node: Node, def: TwinApprovalDef, ledgerNode: TwinLedgerNode | null, t: Translate): void {
  let config;
  try {
    config = maintenanceConfigFromDef(def, ledgerNode);
  } catch (err) {
    refuseInputs(node, t, (err as Error).message);
    return;
  }
  const { asset } = config;
  let gate: MaintenanceGate | undefined;
  let startError: Error | undefined;
  let closed = false;
  const subs: Subscription[] = [];
  // Messages that arrive while the ledger is read on start wait, in order (nothing is dropped).
  const waiting: Array<[NodeMessageInFlow, Done]> = [];

  const showState = (): void => {
    if (!gate) return;
    if (gate.halted) return statusError(node, t('status.halted'));
    const s = gate.summary();
    if (s.pending > 0) statusWarn(node, t('status.pending', { count: s.pending }));
    else if (s.approved > 0) statusOk(node, t('status.ordered', { count: s.approved }));
    else statusIdle(node, t('status.idle'));
  };

  const handle = (msg: NodeMessageInFlow, done: Done): void => {
    if (startError || !gate) {
      done(new TwinError('BAD_CONFIG', t('errors.notStarted', { error: startError?.message ?? '' })));
      return;
    }
    const fail = (err: Error): void => {
      statusError(node, errorStatusText(err));
      done(err);
    };
    try {
      assertMaintenanceProposal(msg.payload);
    } catch (err) {
      return fail(new TwinError('BAD_PAYLOAD', t('errors.maintenancePayload', { error: (err as Error).message })));
    }
    const proposal = msg.payload;
    gate.proposal(proposal).then((out) => {
      if (!out.ok) return fail(new TwinError('BAD_PAYLOAD', out.error ?? 'refused'));
      if (out.duplicateOf) node.log(t('log.alreadyDecided', { id: proposal.id, of: out.duplicateOf, state: out.state }));
      showState();
      done();
    }, done);
  };

  node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: Done) => {
    if (!gate && !startError) waiting.push([msg, done]);
    else handle(msg, done);
  });

  statusIdle(node, t('status.starting'));
  ledgerNode!
    .ledger()
    .then(async (ledger) => {
      const g = await MaintenanceGate.open({ config, ledger });
      if (closed) return g.close();
      subs.push(
        g.orders$.subscribe(({ order, replay }) => {
          const m: NodeMessage & { replay?: boolean } = { topic: `${asset}/maintenance/order`, payload: order };
          if (replay) m.replay = true;
          node.send([m, null]);
        }),
        g.events$.subscribe((ev) => {
          node.send([null, { topic: `${asset}/maintenance/approval`, payload: ev }]);
          showState();
        }),
        g.errors$.subscribe((err) => {
          node.error(t('errors.halted', { error: err.message }));
          showState();
        }),
      );
      gate = g;
      const handleOf: MaintenanceGateHandle = {
        kind: 'maintenance',
        id: node.id,
        name: def.name || `${asset} maintenance`,
        asset,
        twoPersonAboveEur: config.twoPersonAboveEur,
        views: () => g.views(),
        decide: (req) => g.decide(req).finally(showState),
        ledgerRecords: () => ledger.readAll(),
        ledgerLocation: ledger.location,
      };
      await g.start(); // an order restored from the ledger may leave at once: outputs are wired above
      if (closed) return; // closed while starting: the close handler has closed the gate
      registerGate(handleOf);
      showState();
    })
    .catch((err: Error) => {
      startError = err;
      node.error(t('errors.start', { error: err.message }));
      statusError(node, t('status.halted'));
      if (closed) return;
      const location = ledgerNode?.ledgerPath ?? '';
      registerGate(
        alarmedMaintenanceHandle(
          { id: node.id, name: def.name || `${asset} maintenance`, asset, twoPersonAboveEur: config.twoPersonAboveEur, ledgerLocation: location },
          alarmOf(err, LEDGER_REMEDY(location)),
        ),
      );
    })
    .finally(() => {
      for (const [msg, done] of waiting.splice(0)) handle(msg, done);
    });

  node.on('close', (_removed: boolean, done: () => void) => {
    closed = true;
    unregisterGate(node.id);
    for (const s of subs) s.unsubscribe();
    gate?.close();
    done();
  });
}
