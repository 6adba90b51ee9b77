/**
 * What a gate leaves in the ledger when a change is approved (a 'proposal' record, then a 'decision'
 * whose state is 'approved'), for specs that send signed commands to a writer without a gate: the
 * writer writes only commands whose proposal the ledger shows approved (runtime/control/decision-index.ts).
 * The default range is wide, so that these specs still reach the writer's own checks (limits, step).
 */
import type { Ledger } from '../../runtime/control/stores.js';

export interface ApprovalFixture {
  proposalId: string;
  asset: string;
  tag: string;
  currentValue?: number;
  proposedValue?: number;
  user?: string;
}

export async function recordApproval(ledger: Ledger, a: ApprovalFixture): Promise<number> {
  const currentValue = a.currentValue ?? -1e9;
  const proposedValue = a.proposedValue ?? 1e9;
  const head = { asset: a.asset, tag: a.tag, proposalId: a.proposalId };
  await ledger.append({
    type: 'proposal',
    ...head,
    data: { id: a.proposalId, asset: a.asset, tag: a.tag, currentValue, proposedValue, expiresTsMs: Date.now() + 3_600_000 },
  });
  const rec = await ledger.append({
    type: 'decision',
    ...head,
    data: {
      proposalId: a.proposalId,
      verdict: 'approve',
      user: a.user ?? 'supervisor',
      reason: 'fixture',
      tsMs: Date.now(),
      state: 'approved',
      requiredApprovals: 1,
    },
  });
  return rec.seq;
}

/**
 * The same through a twin-ledger config node of a Node-RED test flow (its shared ledger); nothing
 * when the node cannot open its ledger (specs of a misconfigured ledger).
 */
export async function approveInLedger(ledgerNode: unknown, a: ApprovalFixture): Promise<void> {
  const n = ledgerNode as { configError?: string; ledger?: () => Promise<Ledger> } | null;
  if (!n || n.configError || typeof n.ledger !== 'function') return;
  const ledger = await n.ledger().catch(() => undefined);
  if (ledger) await recordApproval(ledger, a);
}
