/**
 * Rebuild a gate's state from the ledger (on start). The ledger is the truth: states come from the
 * gate's own records as written (a decision record carries the state it led to), write results from
 * the writers' records (or the gate's, when the writer used another ledger). Nothing is decided
 * here; the machine's start() then re-sends what was issued and not yet settled and catches up with time.
 *
 * A shared ledger may hold other gates' records: only this gate's count (a setpoint gate's: its
 * asset and tag; a maintenance gate's: its asset, no tag, `kind: 'maintenance'` in the proposal).
 * A record's kind is setpoint unless its data says otherwise (ledgers from before kinds existed).
 * The kind restores its own record types (gate-setpoint.ts: commands, results, policy switches,
 * with every command's signature checked; gate-maintenance.ts: orders).
 *
 * Nothing recorded is trusted blindly: the file ledger has already checked every record's MAC.
 */
import type { Decision, LedgerRecord, Proposal, ProposalState } from '../model/control.js';
import type { BaseProposal } from './gate-kind.js';
import { GateMachine } from './gate-machine.js';
import { FINAL_STATES, newChange, type AnyGateConfig, type Change, type GateState } from './gate-state.js';

export function restoreGateState<P extends BaseProposal = Proposal>(config: AnyGateConfig, records: readonly LedgerRecord[]): GateState<P> {
  // The machine's rules, over the state being rebuilt (nothing runs: start() is not called).
  const { rules, state } = new GateMachine<P>(config);
  const mine = records.filter((r) => r.asset === rules.asset && r.tag === rules.tag);

  const setState = (c: Change<P>, s: unknown, reason: unknown, tsMs: number): void => {
    if (typeof s !== 'string') return;
    c.state = s as ProposalState;
    if (typeof reason === 'string') c.reason = reason;
    if (FINAL_STATES.has(c.state)) c.endedTsMs = tsMs;
  };

  for (const rec of mine) {
    const data = rec.data as Record<string, unknown>;
    const c = rec.proposalId !== undefined ? state.changes.get(rec.proposalId) : undefined;
    switch (rec.type) {
      case 'proposal': {
        const p = rules.restoredProposal(rec.data);
        if (p && !state.changes.has(p.id)) state.changes.set(p.id, newChange(p));
        break;
      }
      case 'decision': {
        if (!c || data === null || typeof data !== 'object') break;
        const { state: s, requiredApprovals, envelopeCheck: _check, fromValue: _from, kind: _kind, ...decision } = data;
        c.decisions.push(decision as unknown as Decision);
        if (typeof requiredApprovals === 'number') c.requiredApprovals = Math.max(c.requiredApprovals, requiredApprovals);
        setState(
          c,
          s,
          (decision as { verdict?: string }).verdict === 'reject'
            ? `rejected by ${String(decision.user)}: ${String(decision.reason)}`
            : undefined,
          rec.tsMs,
        );
        break;
      }
      case 'superseded':
      case 'blocked':
      case 'expired': {
        if (!c || data === null || typeof data !== 'object') break;
        if (typeof data.commandId === 'string' && state.inflight?.id === data.commandId) {
          state.inflight = undefined;
          const cmd = c.commands.find((x) => x.id === data.commandId);
          if (cmd) state.lastChangeTsMs = Math.max(state.lastChangeTsMs ?? -Infinity, cmd.expiresTsMs);
        }
        setState(c, data.state ?? rec.type, data.reason, rec.tsMs);
        break;
      }
      default:
        rules.restoreRecord?.(state, rec, c);
    }
  }
  // Required approvals are only ever raised: keep what the decisions recorded.
  return state;
}
