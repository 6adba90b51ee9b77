/** The cluster's gate messages (runtime/cluster/gate-wire.ts): subjects, the checks of untrusted messages, and the merged listing. */
import { expect } from 'chai';
import { gateSummary, gateViews } from '../../runtime/control/gate-summary.js';
import {
  MAX_GATES_PER_REPLY,
  gateSubject,
  mergeListings,
  parseAutoApprovalMessage,
  parseDecideMessage,
  parseListReply,
  parseOutcomeReply,
  type ListReply,
} from '../../runtime/cluster/gate-wire.js';
import { memoryGate } from '../support/gate-handles.js';

const L1 = 'acme/p1/l1';
const L2 = 'acme/p1/l2';

function reply(instance: string, lines: string[], gates: Array<ReturnType<typeof memoryGate>>): ListReply {
  return {
    v: 1,
    instance,
    lines,
    gates: gates.map((g) => ({ summary: gateSummary(g), views: gateViews(g), ...(g.line ? { line: g.line } : {}) })),
  };
}

/** What arrives over the wire: JSON, not the objects themselves. */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('cluster gate messages (gate-wire)', () => {
  it('puts any gate id into one subject token, distinct ids into distinct subjects', () => {
    expect(gateSubject('a1b2.c3', 'decide')).to.equal(`twinloop.gates.${Buffer.from('a1b2.c3').toString('hex')}.decide`);
    expect(gateSubject('a b*>', 'auto-approval').split('.')).to.have.length(4);
    expect(gateSubject('ab', 'decide')).to.not.equal(gateSubject('a.b', 'decide'));
  });

  it('takes a decision message field by field: extra fields (a password) never pass, bad ones are refused', () => {
    const good = { v: 1, proposalId: 'p1', verdict: 'approve', user: 'dana', printedName: 'Dana R', reason: 'ok', from: 'A' };
    const m = parseDecideMessage({ ...good, password: 'secret', meaning: 'Approved: yes' });
    expect(m).to.deep.equal({ ok: { ...good, meaning: 'Approved: yes' } });
    expect(parseDecideMessage({ ...good, v: 2 })).to.have.property('error');
    expect(parseDecideMessage({ ...good, verdict: 'maybe' })).to.deep.equal({ error: 'verdict must be "approve" or "reject"' });
    expect(parseDecideMessage({ ...good, user: '' })).to.have.property('error');
    expect(parseDecideMessage({ ...good, reason: 'x'.repeat(1001) }))
      .to.have.property('error')
      .that.matches(/1000/);
    expect(parseDecideMessage({ ...good, meaning: 'x'.repeat(201) }))
      .to.have.property('error')
      .that.matches(/200/);
    expect(parseDecideMessage({ ...good, from: undefined })).to.have.property('error');
    expect(parseDecideMessage([good])).to.have.property('error');
    expect(parseAutoApprovalMessage({ v: 1, enabled: 'no', user: 'u', reason: 'r', from: 'A' })).to.have.property('error');
    expect(parseAutoApprovalMessage({ v: 1, enabled: false, user: 'u', reason: 'r', from: 'A', extra: 1 })).to.deep.equal({
      ok: { v: 1, enabled: false, user: 'u', reason: 'r', from: 'A' },
    });
  });

  it("takes an owner's answer only when well formed, its error text bounded", () => {
    expect(parseOutcomeReply({ v: 1, instance: 'B', ok: true, state: 'approved' })).to.deep.equal({
      ok: { v: 1, instance: 'B', ok: true, state: 'approved' },
    });
    const long = parseOutcomeReply({ v: 1, instance: 'B', ok: false, error: 'e'.repeat(5000) });
    expect('ok' in long && long.ok.error).to.have.length(2000);
    expect(parseOutcomeReply({ v: 1, ok: true })).to.deep.equal({ error: 'the answer names no instance' });
    expect(parseOutcomeReply({ v: 1, instance: 'B', ok: 'yes' })).to.have.property('error');
    expect(parseOutcomeReply({ v: 1, instance: 'B', ok: true, autoApproval: { enabled: 1 } })).to.have.property('error');
  });

  it('takes a list reply, leaving out (and naming) a gate or view that is not well formed', () => {
    const good = wire(reply('B', [L2], [memoryGate('g1', { line: L2, proposals: ['p1', 'p2'] }), memoryGate('g2')])) as any;
    const parsed = parseListReply(good);
    expect('ok' in parsed && parsed.ok.gates.map((g) => [g.summary.id, g.line, g.views.length])).to.deep.equal([
      ['g1', L2, 2],
      ['g2', undefined, 0],
    ]);
    expect(parsed).to.not.have.property('dropped');

    const bad = wire(good) as any;
    bad.gates[1].summary.kind = 'teleport';
    bad.gates[0].views[0].gateId = 'someone-else';
    bad.gates[0].views[1].trend.kpi = [{ tsMs: 'x', value: 1 }];
    const p = parseListReply(bad);
    expect('ok' in p && p.ok.gates.map((g) => [g.summary.id, g.views.length])).to.deep.equal([['g1', 0]]);
    expect(p.dropped).to.deep.equal([
      'instance B: gate g1: a view of another gate',
      'instance B: gate g1: a bad trend',
      'instance B: a gate with an unknown kind',
    ]);

    expect(parseListReply({ ...good, v: 0 })).to.have.property('error');
    expect(parseListReply({ ...good, instance: '' })).to.have.property('error');
    expect(parseListReply({ ...good, lines: [3] })).to.have.property('error');
    const tooMany = { ...good, gates: Array.from({ length: MAX_GATES_PER_REPLY + 1 }, () => good.gates[1]) };
    expect(parseListReply(tooMany))
      .to.have.property('error')
      .that.matches(/more than 200/);
  });

  it("merges replies: own gates stay local, a gate served twice is shown from its line's owner, lines nobody owns are listed", () => {
    const a = reply('A', [L1], [memoryGate('mine', { line: L1 })]);
    // a handover caught mid-way: AA (first by name) still lists g (its line is B's now), B already serves it
    const b = reply('B', [L2], [memoryGate('g', { line: L2, proposals: ['p'] })]);
    const c = reply('AA', [], [memoryGate('g', { line: L2 }), memoryGate('mine')]);
    const m = mergeListings('A', [c, b, a], new Set(['mine']), [L1, L2, 'acme/p1/l3']);
    expect(m.gates.map((g) => [g.summary.id, g.instance, g.views.length])).to.deep.equal([['g', 'B', 1]]);
    expect(m.owners).to.deep.equal({ [L1]: 'A', [L2]: 'B' });
    expect(m.unowned).to.deep.equal(['acme/p1/l3']);
    expect(m.instances).to.deep.equal(['A', 'AA', 'B']);
    // without the owner's reply, the stale one is still shown (from AA), not hidden
    expect(mergeListings('A', [c, a], new Set(['mine']), [L1, L2]).gates.map((g) => g.instance)).to.deep.equal(['AA']);
    expect(mergeListings('A', [c, a], new Set(['mine']), [L1, L2]).unowned).to.deep.equal([L2]);
  });
});
