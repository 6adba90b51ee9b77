// The writer's check that the ledger approves a command (runtime/control/decision-index.ts), on the
// records a gate really writes: proposal, decision(s) with the state they led to, other setpoints.
import { expect } from 'chai';
import { signCommand, type UnsignedCommand } from '../../runtime/control/command.js';
import { DecisionIndex, openDecisionIndex } from '../../runtime/control/decision-index.js';
import { MemoryLedger } from '../support/control-memory-ledger.js';

const KEY = 'unit-signing-key-0123456789abcdef';
const T = { asset: 'a/line1', tag: 'zone2_sp' };

const cmd = (over: Partial<UnsignedCommand> = {}) =>
  signCommand(KEY, {
    proposalId: 'p1',
    ...T,
    value: 207,
    step: 1,
    steps: 1,
    fromValue: 205,
    issuedTsMs: 1,
    expiresTsMs: 2,
    envelopeVersion: 'v',
    ...over,
  });

async function gateRecords(
  l: MemoryLedger,
  id: string,
  decisions: Array<{ user: string; state: string; verdict?: string; fromValue?: number }>,
  over: Partial<typeof T> = {},
) {
  const head = { ...T, ...over, proposalId: id };
  await l.append({ type: 'proposal', ...head, data: { id, ...T, ...over, currentValue: 205, proposedValue: 209 } });
  for (const d of decisions) {
    await l.append({
      type: 'decision',
      ...head,
      data: {
        proposalId: id,
        verdict: d.verdict ?? 'approve',
        user: d.user,
        state: d.state,
        tsMs: 1,
        ...(d.fromValue !== undefined ? { fromValue: d.fromValue } : {}),
      },
    });
  }
}

describe('control: the ledger approval a writer requires (decision index)', function () {
  it('refuses a command whose proposal the ledger never held (the editor attack: proposalId never-approved)', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'supervisor', state: 'approved' }]);
    const d = await openDecisionIndex(l, T);
    const r = d.index.check(cmd({ proposalId: 'never-approved' }));
    expect(r).to.deep.equal({
      ok: false,
      reason: `no approval of proposal never-approved for ${T.asset}/${T.tag} in the ledger (it holds no such proposal)`,
    });
  });

  it('accepts a command of an approved proposal within the approved change, naming the decision record', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'supervisor', state: 'approved' }]);
    const d = await openDecisionIndex(l, T);
    const r = d.index.check(cmd({ value: 207 }));
    expect(r.ok).to.equal(true);
    expect(r.ok && r.approval).to.deep.equal({
      proposalId: 'p1',
      decisionSeq: 1,
      approvedBy: ['supervisor'],
      lowValue: 205,
      highValue: 209,
    });
  });

  it('a first of two approvals is not yet an approval; the second is (both approvers named)', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'supervisor', state: 'pending' }]);
    const d = await openDecisionIndex(l, T);
    expect(d.index.check(cmd())).to.deep.include({ ok: false });
    expect((d.index.check(cmd()) as { reason: string }).reason).to.match(/holds the proposal but no approval of it/);
    // appended while the index is open: seen through onAppend? MemoryLedger cannot tell, refresh reads again
    await l.append({
      type: 'decision',
      ...T,
      proposalId: 'p1',
      data: { proposalId: 'p1', verdict: 'approve', user: 'supervisor2', state: 'approved' },
    });
    await d.refresh();
    const r = d.index.check(cmd());
    expect(r.ok && r.approval.approvedBy).to.deep.equal(['supervisor', 'supervisor2']);
  });

  it('a rejection, or an approval of another setpoint, approves nothing here', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'supervisor', state: 'rejected', verdict: 'reject' }]);
    await gateRecords(l, 'p2', [{ user: 'supervisor', state: 'approved' }], { tag: 'zone3_sp' });
    const d = await openDecisionIndex(l, T);
    expect(d.index.check(cmd()).ok).to.equal(false);
    expect(d.index.check(cmd({ proposalId: 'p2' })).ok).to.equal(false);
  });

  it('the auto-approval policy approves like a person', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'policy:auto-approval', state: 'approved' }]);
    expect((await openDecisionIndex(l, T)).index.check(cmd()).ok).to.equal(true);
  });

  it('a value beyond the approved change is refused; where the setpoint stood at the decision widens it', async function () {
    const l = new MemoryLedger();
    await gateRecords(l, 'p1', [{ user: 'supervisor', state: 'approved', fromValue: 201 }]);
    const { index } = await openDecisionIndex(l, T);
    expect(index.check(cmd({ value: 211 }))).to.deep.equal({
      ok: false,
      reason: 'value 211 is outside the approved change 201..209 (decision seq 1)',
    });
    expect(index.check(cmd({ value: 200.9 })).ok).to.equal(false);
    expect(index.check(cmd({ value: 203 })).ok).to.equal(true);
    expect(index.check(cmd({ value: 209 })).ok).to.equal(true);
  });

  it('a decision without its proposal record, or naming another proposal than its record, approves nothing', function () {
    const index = new DecisionIndex(T);
    index.note({
      seq: 0,
      tsMs: 1,
      type: 'decision',
      ...T,
      proposalId: 'p1',
      data: { proposalId: 'p1', verdict: 'approve', user: 'x', state: 'approved' },
      prevHash: '',
      hash: '',
    });
    expect(index.approval('p1')).to.equal(undefined);
    index.note({
      seq: 1,
      tsMs: 1,
      type: 'proposal',
      ...T,
      proposalId: 'p1',
      data: { id: 'p1', ...T, currentValue: 205, proposedValue: 207 },
      prevHash: '',
      hash: '',
    });
    index.note({
      seq: 2,
      tsMs: 1,
      type: 'decision',
      ...T,
      proposalId: 'p1',
      data: { proposalId: 'p9', verdict: 'approve', user: 'x', state: 'approved' },
      prevHash: '',
      hash: '',
    });
    expect(index.approval('p1')).to.equal(undefined);
  });
});
