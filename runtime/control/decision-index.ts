/**
 * What a writer checks before it writes (issue 13, "only a gate can sign"): the command's signature
 * proves it was made with the key, but the key is not the authority. A command is written only if
 * the authenticated ledger the writer shares with its gate holds an approval for it: a 'decision'
 * record that approved the command's proposal (by the supervisors it needed, or by the auto-approval
 * policy; the record's `state` is 'approved'), for the same asset and tag, with the command's value
 * within the approved change (between where the setpoint stood, as the proposal and the decision
 * saw it, and the proposed value). The proposal id is the command's reference to its decision; the
 * writer names the decision record's seq in its write-intent.
 *
 * The records come from the ledger as the file ledger verified them at open (chain, every MAC, the
 * head checkpoint) and from appends made in this process since (onAppend): flow code holds no handle
 * on the ledger, and a line appended to the file behind the process's back makes readAll fail.
 * The index is kept per writer target (one asset/tag), so it is small: a proposal and at most one
 * approval per change of that setpoint.
 */
import type { Command, LedgerRecord, Proposal } from '../model/control.js';
import type { CommandTarget } from './command.js';
import type { Ledger } from './stores.js';

/** An approval the writer found for a proposal. */
export interface ApprovedChange {
  proposalId: string;
  /** seq of the decision record that made the change approved. */
  decisionSeq: number;
  /** Who approved it (user names; the policy's is `policy:auto-approval`). */
  approvedBy: string[];
  /** The approved range of values: where the setpoint stood (proposal, decision) to the proposed value. */
  lowValue: number;
  highValue: number;
}

export type DecisionCheck = { ok: true; approval: ApprovedChange } | { ok: false; reason: string };

interface ProposalSeen {
  currentValue: number;
  proposedValue: number;
  approvers: string[];
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export class DecisionIndex {
  private readonly proposals = new Map<string, ProposalSeen>();
  private readonly approved = new Map<string, ApprovedChange>();

  constructor(readonly target: CommandTarget) {}

  /** Take one ledger record into account (records of other setpoints are ignored). */
  note(rec: LedgerRecord): void {
    if (rec.asset !== this.target.asset || rec.tag !== this.target.tag || typeof rec.proposalId !== 'string') return;
    const d = rec.data as Record<string, unknown> | null;
    if (!d || typeof d !== 'object') return;
    if (rec.type === 'proposal') {
      const p = d as unknown as Proposal;
      if (p.id !== rec.proposalId || p.asset !== rec.asset || p.tag !== rec.tag) return;
      if (!finite(p.currentValue) || !finite(p.proposedValue) || this.proposals.has(p.id)) return;
      this.proposals.set(p.id, { currentValue: p.currentValue, proposedValue: p.proposedValue, approvers: [] });
      return;
    }
    if (rec.type !== 'decision' || d.verdict !== 'approve' || d.proposalId !== rec.proposalId) return;
    const p = this.proposals.get(rec.proposalId);
    if (!p) return; // an approval of a proposal this ledger never held approves nothing
    if (typeof d.user === 'string') p.approvers.push(d.user);
    if (d.state !== 'approved' || this.approved.has(rec.proposalId)) return;
    const from = finite(d.fromValue) ? [d.fromValue] : [];
    const ends = [p.currentValue, p.proposedValue, ...from];
    this.approved.set(rec.proposalId, {
      proposalId: rec.proposalId,
      decisionSeq: rec.seq,
      approvedBy: [...p.approvers],
      lowValue: Math.min(...ends),
      highValue: Math.max(...ends),
    });
  }

  approval(proposalId: string): ApprovedChange | undefined {
    return this.approved.get(proposalId);
  }

  /** Whether the ledger approves this command (its signature, expiry and target are checked elsewhere). */
  check(cmd: Command): DecisionCheck {
    if (cmd.asset !== this.target.asset || cmd.tag !== this.target.tag) {
      return { ok: false, reason: `command for ${cmd.asset}/${cmd.tag}, this writer writes ${this.target.asset}/${this.target.tag}` };
    }
    const a = this.approved.get(cmd.proposalId);
    if (!a) {
      const why = this.proposals.has(cmd.proposalId) ? 'holds the proposal but no approval of it' : 'holds no such proposal';
      return { ok: false, reason: `no approval of proposal ${cmd.proposalId} for ${cmd.asset}/${cmd.tag} in the ledger (it ${why})` };
    }
    if (!(cmd.value >= a.lowValue && cmd.value <= a.highValue)) {
      const range = `${a.lowValue}..${a.highValue}`;
      return { ok: false, reason: `value ${cmd.value} is outside the approved change ${range} (decision seq ${a.decisionSeq})` };
    }
    return { ok: true, approval: a };
  }
}

/**
 * An index kept current from `ledger`: subscribed before the ledger is read (nothing appended
 * meanwhile is missed), then every record read. A ledger that cannot tell of appends is read again
 * at each lookup (`refresh`).
 */
export interface OpenDecisionIndex {
  readonly index: DecisionIndex;
  refresh(): Promise<void>;
  close(): void;
}

export async function openDecisionIndex(ledger: Ledger, target: CommandTarget): Promise<OpenDecisionIndex> {
  let index = new DecisionIndex(target);
  const early: LedgerRecord[] = [];
  let ready = false;
  const off = ledger.onAppend?.((rec) => (ready ? index.note(rec) : early.push(rec)));
  const records = await ledger.readAll().catch((err) => {
    off?.();
    throw err;
  });
  for (const rec of records) index.note(rec);
  const lastSeq = records.length > 0 ? records[records.length - 1]!.seq : -1;
  for (const rec of early) if (rec.seq > lastSeq) index.note(rec);
  ready = true;
  return {
    get index() {
      return index;
    },
    refresh: async () => {
      if (off) return;
      const fresh = new DecisionIndex(target);
      for (const rec of await ledger.readAll()) fresh.note(rec);
      index = fresh;
    },
    close: () => off?.(),
  };
}
