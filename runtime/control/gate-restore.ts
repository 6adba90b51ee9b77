/**
 * Rebuild a gate's state from the ledger (on start). The ledger is the truth: states come from the
 * gate's own records as written (a decision record carries the state it led to), write results from
 * the writers' records (or the gate's, when the writer used another ledger). Nothing is decided
 * here; the machine's start() then re-emits an unanswered command unchanged and catches up with time.
 *
 * A shared ledger may hold other setpoints' records: only this gate's asset/tag count. A writer's
 * 'write-intent' records are not results: a command with an intent and no result is still in flight
 * (re-sent on start; the writer settles it from the plant).
 *
 * Nothing recorded is trusted blindly: the file ledger has already checked every record's MAC, and
 * here every command of this gate must carry a valid signature under the gate's key. One that does
 * not stops the restore (LedgerAlarmError): the gate then refuses to act and the page shows why.
 */
import type { Command, Decision, LedgerRecord, Proposal, ProposalState, WriteResult } from '../model/control.js';
import { applyResult, noteWrite } from './gate-machine.js';
import { FINAL_STATES, emptyGateState, type Change, type GateConfig, type GateState } from './gate-state.js';
import { jsonMacMatches } from './json-mac.js';
import { LedgerAlarmError } from './ledger-auth.js';

function isResult(data: unknown): data is WriteResult {
  const d = data as Partial<WriteResult> | null;
  return !!d && typeof d.commandId === 'string' && (d.outcome === 'written' || d.outcome === 'refused' || d.outcome === 'failed' || d.outcome === 'unknown');
}

export function restoreGateState(config: GateConfig, records: readonly LedgerRecord[]): GateState {
  const { asset, tag } = config.envelope;
  const state = emptyGateState(config);
  const mine = records.filter((r) => r.asset === asset && r.tag === tag);


  const setState = (c: Change, s: unknown, reason: unknown, tsMs: number): void => {
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
        const p = rec.data as Proposal;
        if (!state.changes.has(p.id)) state.changes.set(p.id, { proposal: p, state: 'pending', decisions: [], requiredApprovals: 1, commands: [], results: new Map() });
        break;
      }
      case 'decision': {
        if (!c) break;
        const { state: s, requiredApprovals, envelopeCheck: _check, fromValue: _from, ...decision } = data;
        c.decisions.push(decision as unknown as Decision);
        if (typeof requiredApprovals === 'number') c.requiredApprovals = Math.max(c.requiredApprovals, requiredApprovals);
        setState(c, s, (decision as { verdict?: string }).verdict === 'reject' ? `rejected by ${String(decision.user)}: ${String(decision.reason)}` : undefined, rec.tsMs);
        break;
      }
      case 'command': {
        const cmd = rec.data as Command;
        if (!jsonMacMatches(config.signingKey, cmd)) {
          throw new LedgerAlarmError({
            reason: `the ledger's command record seq ${rec.seq} does not carry a valid signature under this gate's key: it was not issued by this gate`,
            remedy:
              'The gate refuses to act on this ledger. Keep the file as evidence and run `twinloop ledger verify` on it; restore the ledger ' +
              'from a backup you trust, or move it and its .head aside to start a new one. If the signing key was changed, put the old key back.',
            firstBad: { seq: rec.seq, line: rec.seq + 1, reason: 'command signature does not verify' },
          });
        }
        if (!c) break;
        c.commands.push(cmd);
        state.commandOwner.set(cmd.id, c.proposal.id);
        state.inflight = cmd;
        break;
      }
      case 'superseded':
      case 'blocked':
      case 'expired': {
        if (!c) break;
        if (typeof data.commandId === 'string' && state.inflight?.id === data.commandId) {
          state.inflight = undefined;
          const cmd = c.commands.find((x) => x.id === data.commandId);
          if (cmd) state.lastChangeTsMs = Math.max(state.lastChangeTsMs ?? -Infinity, cmd.expiresTsMs);
        }
        setState(c, data.state ?? rec.type, data.reason, rec.tsMs);
        break;
      }
      case 'write':
      case 'readback':
      case 'refused': {
        if (isResult(rec.data)) {
          const r = rec.data;
          const owner = state.changes.get(state.commandOwner.get(r.commandId) ?? '');
          const cmd = owner?.commands.find((x) => x.id === r.commandId);
          if (!owner || !cmd) break;
          // A writer records 'write' (written, read-back pending) and then 'readback' for one command: the
          // first is news about the plant, not yet the result the writer sends on. As live, the first
          // final result decides; anything later only moves dwell and the known setpoint.
          const final = r.outcome !== 'written' || r.readBackOk !== undefined || (rec.data as { receivedByGate?: boolean }).receivedByGate === true;
          if (final && !owner.results.has(r.commandId)) applyResult(state, owner, cmd, r, rec.tsMs);
          else noteWrite(state, cmd, r, rec.tsMs);
        } else if (c && typeof data.state === 'string' && !isResult(rec.data)) {
          setState(c, data.state, data.reason, rec.tsMs); // the gate's own closing record
        }
        break;
      }
      case 'policy':
        if (data.policy === 'auto-approval' && typeof data.enabled === 'boolean') state.autoApprovalOn = data.enabled && config.autoApproval.enabled;
        break;
    }
  }
  // Required approvals are only ever raised: keep what the decisions recorded.
  return state;
}
