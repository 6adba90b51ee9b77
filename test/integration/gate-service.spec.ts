/**
 * The cluster's gate service (runtime/cluster/gate-service.ts) on a real nats-server: two or three
 * services in this process, each with its own registry (test/support/gate-handles.ts) as separate
 * instances have. What the approvals pages rely on: a remote decision reaches the serving gate once,
 * even while two instances briefly serve the same gate; a gate whose line is not owned is not
 * served; a member's malformed answer is refused, not shown; an oversized list is cut to fit.
 */
import { expect } from 'chai';
import { connectNats } from '../../runtime/cluster/nats-connect.js';
import type { NatsConnection } from '../../runtime/cluster/nats-client.js';
import { GateService } from '../../runtime/cluster/gate-service.js';
import { GATES_LIST_SUBJECT, gateSubject } from '../../runtime/cluster/gate-wire.js';
import { DEFAULT_MEANING } from '../../runtime/control/gate-registry.js';
import { ensureDebianBinary } from '../support/debian.js';
import { memoryGate, memoryRegistry } from '../support/gate-handles.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';

const L1 = 'spec/gates/line1';
const L2 = 'spec/gates/line2';
const L3 = 'spec/gates/line3';

describe('cluster gate service (real nats-server)', function () {
  this.timeout(60_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  const open: Array<{ svc: GateService; nc: NatsConnection }> = [];

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 1);
  });
  afterEach(async () => {
    for (const { svc, nc } of open.splice(0)) {
      svc.stop();
      await nc.close();
    }
  });
  after(async () => nats?.stop());

  /** One simulated instance: its own connection, registry and owned lines. */
  async function instance(name: string, owned: string[]) {
    const nc = await connectNats({ servers: nats.servers });
    const registry = memoryRegistry();
    const svc = GateService.start({
      nc,
      instance: name,
      lines: [L1, L2, L3],
      owns: (l) => owned.includes(l),
      ownedLines: () => [...owned],
      registry,
      listCacheMs: 0,
    });
    open.push({ svc, nc });
    return { svc, registry, nc };
  }

  const request = { proposalId: 'p1', verdict: 'approve' as const, user: 'dana', printedName: 'Dana R', reason: 'fine' };

  it("lists the other instance's gates with their lines and owners, and decides through the owner", async () => {
    const x = await instance('X', [L1]);
    const y = await instance('Y', [L2]);
    const g = memoryGate('node.1', { line: L2, proposals: ['p1'] });
    y.registry.add(g);
    x.registry.add(memoryGate('x-own', { line: L1 }));

    const listing = await x.svc.list();
    expect(listing.gates.map((r) => [r.summary.id, r.instance, r.line, r.views.length])).to.deep.equal([['node.1', 'Y', L2, 1]]);
    expect(listing.owners).to.deep.equal({ [L1]: 'X', [L2]: 'Y' });
    expect(listing.unowned).to.deep.equal([L3]);
    expect(listing.problems).to.deep.equal([]);

    const sent = await x.svc.decide('node.1', request);
    expect(sent).to.deep.equal({ answered: true, instance: 'Y', outcome: { ok: true, state: 'approved' } });
    // the owner fills the standard meaning for its gate's kind when the signer kept none
    expect(g.decideCalls).to.deep.equal([{ ...request, meaning: DEFAULT_MEANING.approve }]);

    const again = await x.svc.decide('node.1', request);
    expect(again).to.deep.include({ answered: true, instance: 'Y' });
    expect(again.answered && again.outcome).to.deep.include({ ok: false });

    const policy = await x.svc.setAutoApproval('node.1', false, 'dana', 'start-up');
    expect(policy).to.deep.include({ answered: true, autoApproval: { enabled: false, configured: true, maxStep: 1 } });
    expect(g.policyCalls).to.deep.equal([{ enabled: false, user: 'dana', reason: 'start-up' }]);
  });

  it('refuses at once when nobody serves the gate: unregistered, or its line not owned here', async () => {
    const x = await instance('X', [L1]);
    const y = await instance('Y', [L2]);
    const g = memoryGate('g', { line: L2, proposals: ['p1'] });
    y.registry.add(g);
    y.registry.remove('g');
    const gone = await x.svc.decide('g', request);
    expect(gone).to.deep.include({ answered: false, why: 'no-owner' });
    // registered on Y for a line Y does not own (released, not yet unregistered): not served, not listed
    const stale = memoryGate('stale', { line: L1, proposals: ['p1'] });
    y.registry.add(stale);
    expect(await x.svc.decide('stale', request)).to.deep.include({ answered: false, why: 'no-owner' });
    expect(stale.decideCalls).to.deep.equal([]);
    expect(g.decideCalls).to.deep.equal([]);
    expect((await x.svc.list()).gates).to.deep.equal([]);
  });

  it('a gate two instances serve during a handover is decided by one of them, once per request', async () => {
    const y = await instance('Y', [L2]);
    const z = await instance('Z', [L2]);
    const x = await instance('X', []);
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const gy = memoryGate('both', { line: L2, proposals: ids });
    const gz = memoryGate('both', { line: L2, proposals: ids });
    y.registry.add(gy);
    z.registry.add(gz);
    const outcomes = await Promise.all(ids.map((proposalId) => x.svc.decide('both', { ...request, proposalId })));
    expect(outcomes.every((o) => o.answered && o.outcome.ok)).to.equal(true);
    expect(gy.decideCalls.length + gz.decideCalls.length).to.equal(ids.length);
    expect(new Set([...gy.decideCalls, ...gz.decideCalls].map((c) => c.proposalId)).size).to.equal(ids.length);
  });

  it("refuses a member's malformed answers and keeps a list under the size limit", async () => {
    const x = await instance('X', [L1]);
    const rogue = await connectNats({ servers: nats.servers });
    try {
      rogue.subscribe(gateSubject('odd', 'decide'), { callback: (_e, m) => void m.respond('{"v":1,"ok":true}') });
      rogue.subscribe(GATES_LIST_SUBJECT, { callback: (_e, m) => void m.respond('not json') });
      await rogue.flush();
      const odd = await x.svc.decide('odd', request);
      expect(odd).to.deep.include({ answered: false, why: 'no-answer' });
      expect(!odd.answered && odd.error).to.match(/not understood \(the answer names no instance\)/);
      expect((await x.svc.list()).problems).to.deep.equal(['a gate list that is not JSON was not taken']);
    } finally {
      await rogue.close();
    }

    // 100 proposals with 240-point trends: over the server's 1 MB, sent without the trends
    const y = await instance('Y', [L2]);
    const ids = Array.from({ length: 100 }, (_, i) => `big-${i}`);
    y.registry.add(memoryGate('big', { line: L2, proposals: ids, trendPoints: 240 }));
    expect(y.svc.listReply().length).to.be.at.most(1024 * 1024);
    const big = (await x.svc.list()).gates.find((g) => g.summary.id === 'big')!;
    expect(big.views).to.have.length(100);
    expect(big.views.every((v) => v.kind === 'setpoint' && v.trend.setpoint.length === 0)).to.equal(true);
  });
});
