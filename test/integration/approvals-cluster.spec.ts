/**
 * One approvals view across a cluster (issue 16): two TwinLoop instances, each a real Node-RED with
 * adminAuth in its own process (test/support/approvals-server.ts) and a real twin-cluster node, on a
 * real nats-server. Each instance's pages list both instances' gates, a decision posted to A for a
 * gate B serves is decided by B's gate (once, as the user who signed on A), and with nobody serving
 * the gate (B let its line go, then B stopped) A refuses at once with the takeover message and
 * nothing is decided.
 *
 * The gates are test/support/approvals-gate.ts TestGates (real GateHandles over file ledgers)
 * registered with a line, as twin-approval will register its gate only while its instance owns the
 * line; "B let its line go" is that gate's unregistration. A third line is held by a member that
 * serves no gates: the pages list it as served by nobody (the takeover state).
 */
import { expect } from 'chai';
import { ClusterMember } from '../../runtime/cluster/cluster-member.js';
import { DEFAULT_MEANING } from '../../runtime/control/gate-registry.js';
import { login, USERS } from '../support/approvals-gate.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { waitFor } from '../support/ports.js';

const L1 = 'spec/oneview/line1';
const L2 = 'spec/oneview/line2';
/** Held by Z, a member that serves no gates (as an instance in the middle of a takeover, or an older version). */
const L3 = 'spec/oneview/line3';
const SUPERVISOR = USERS[0];

async function call(
  red: ApprovalsServer,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${red.url}twinloop/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('integration: one approvals view across two cluster instances (real nats-server, two Node-RED processes)', function () {
  this.timeout(120_000);
  const bin = ensureDebianBinary('nats-server', 'nats-server');
  let nats: NatsCluster;
  let a: ApprovalsServer | undefined;
  let b: ApprovalsServer | undefined;
  let z: ClusterMember | undefined;

  const clusterFlow = (instance: string) => [
    {
      id: 'cluster',
      type: 'twin-cluster',
      servers: nats.servers.join(' '),
      instance,
      lines: `${L1}\n${L2}\n${L3}`,
      ttlS: 2,
      replicas: 1,
      slack: 0,
    },
  ];

  before(async function () {
    if (!bin) this.skip();
    nats = await startNatsCluster(bin!, 1);
    // Z holds L3 before A and B join; three members, three lines: one each
    z = await ClusterMember.start({ servers: nats.servers, instance: 'Z', lines: [L3], ttlMs: 2000, replicas: 1, slack: 0 });
    await waitFor(() => z!.owns(L3), 10_000, 50, 'Z owns line 3');
    [a, b] = await Promise.all([
      startApprovalsServer(USERS, { flow: clusterFlow('A') }),
      startApprovalsServer(USERS, { flow: clusterFlow('B') }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), z?.stop({ release: true })]);
    await nats?.stop();
  });

  it("lists B's gate on A, sends A's decision to B's gate once with the signer, refuses while nobody serves the gate", async () => {
    const tokenA = await login(a!.url, SUPERVISOR.username, SUPERVISOR.password);
    const tokenB = await login(b!.url, SUPERVISOR.username, SUPERVISOR.password);
    let owners: Record<string, string> = {};
    await waitFor(
      async () => {
        const c = (await call(a!, 'GET', 'approvals/api/gates', tokenA)).body?.cluster;
        owners = c?.owners ?? {};
        return owners[L1] !== undefined && owners[L2] !== undefined && owners[L1] !== owners[L2];
      },
      30_000,
      100,
      'one line each',
    );
    const lineB = owners[L1] === 'B' ? L1 : L2;
    const lineA = lineB === L1 ? L2 : L1;
    // Z owns L3 (its lease) but serves no gates: to the pages no instance serves it now
    expect(z!.owns(L3)).to.equal(true);
    const cluster = (await call(a!, 'GET', 'approvals/api/gates', tokenA)).body.cluster;
    expect(cluster).to.deep.equal({ instance: 'A', instances: ['A', 'B'], owners: { [L1]: owners[L1], [L2]: owners[L2] }, unowned: [L3] });

    await b!.rpc('openGate', 'gB', null, lineB);
    await a!.rpc('openGate', 'gA', null, lineA);
    const p1 = await b!.rpc('addProposal', 'gB', {});
    const p2 = await b!.rpc('addProposal', 'gB', { id: 'p-after-takeover' });

    // each page lists both gates, each marked with the instance serving it
    const gatesOf = async (red: ApprovalsServer, token: string) =>
      ((await call(red, 'GET', 'approvals/api/gates', token)).body?.gates ?? []) as Array<Record<string, unknown>>;
    await waitFor(async () => (await gatesOf(a!, tokenA)).some((g) => g.id === 'gB'), 10_000, 100, "B's gate on A's page");
    const listedOnA = await gatesOf(a!, tokenA);
    expect(listedOnA.find((g) => g.id === 'gB')).to.include({ instance: 'B', line: lineB, remote: true, kind: 'setpoint' });
    expect(listedOnA.find((g) => g.id === 'gA')).to.include({ instance: 'A', line: lineA });
    expect(listedOnA.find((g) => g.id === 'gA')).to.not.have.property('remote');
    await waitFor(async () => (await gatesOf(b!, tokenB)).some((g) => g.id === 'gA'), 10_000, 100, "A's gate on B's page");
    expect((await gatesOf(b!, tokenB)).find((g) => g.id === 'gA')).to.include({ instance: 'A', remote: true });

    const proposals = (await call(a!, 'GET', 'approvals/api/proposals', tokenA)).body.proposals as Array<any>;
    expect(proposals.find((v) => v.proposal.id === p1.id)).to.include({ gateId: 'gB', kind: 'setpoint', state: 'pending' });
    const overview = (await call(a!, 'GET', 'overview/api/data', tokenA)).body;
    expect(overview.proposals.find((q: { id: string }) => q.id === p1.id)).to.include({
      instance: 'B',
      gateName: 'Extruder setpoints (test gate gB)',
    });

    // a decision on A for B's gate: decided by B's gate, once, as the user A authenticated
    const reason = 'Energy per kg down, melt within limits';
    const decided = await call(a!, 'POST', 'approvals/api/decide', tokenA, {
      gateId: 'gB',
      proposalId: p1.id,
      verdict: 'approve',
      reason,
      password: SUPERVISOR.password,
    });
    expect(decided.status, JSON.stringify(decided.body)).to.equal(200);
    expect(decided.body).to.include({ ok: true, state: 'approved', user: SUPERVISOR.username });
    const onB = await b!.rpc('calls', 'gB');
    expect(onB.decideCalls).to.have.length(1);
    expect(onB.decideCalls[0]).to.deep.include({
      proposalId: p1.id,
      verdict: 'approve',
      user: SUPERVISOR.username,
      printedName: SUPERVISOR.printedName,
      reason,
      meaning: DEFAULT_MEANING.approve,
    });
    expect(onB.decideCalls[0]).to.not.have.property('password');
    expect(await b!.rpc('state', 'gB', p1.id)).to.equal('approved');
    const onA = await a!.rpc('calls', 'gB').then(
      () => 'A has the gate',
      (err: Error) => err.message,
    );
    expect(onA, 'A itself decided nothing: it has no such gate').to.match(/no test gate gB/);

    // the same for the auto-approval switch
    const policy = await call(a!, 'POST', 'approvals/api/auto-approval', tokenA, {
      gateId: 'gB',
      enabled: false,
      reason: 'Start-up after maintenance',
      password: SUPERVISOR.password,
    });
    expect(policy.status, JSON.stringify(policy.body)).to.equal(200);
    expect(policy.body.autoApproval).to.include({ enabled: false });
    expect((await b!.rpc('calls', 'gB')).policyCalls).to.deep.equal([
      { enabled: false, user: SUPERVISOR.username, reason: 'Start-up after maintenance' },
    ]);

    // B lets the line go (its gate unregisters) and nobody else serves the gate: refused, not queued
    await b!.rpc('unregisterGate', 'gB');
    const refused = await call(a!, 'POST', 'approvals/api/decide', tokenA, {
      gateId: 'gB',
      proposalId: p2.id,
      verdict: 'approve',
      reason,
      password: SUPERVISOR.password,
    });
    expect(refused.status).to.equal(503);
    expect(refused.body.takeover).to.equal(true);
    expect(refused.body.error).to.match(/no instance serves gate gB now .*taken over.*nothing was decided/);
    expect((await b!.rpc('calls', 'gB')).decideCalls).to.have.length(1);
    expect(await b!.rpc('state', 'gB', p2.id)).to.equal('pending');
    await waitFor(async () => !(await gatesOf(a!, tokenA)).some((g) => g.id === 'gB'), 10_000, 100, "B's gate off A's page");

    // B stopped altogether (A takes its line over): still refused at once
    await b!.stop();
    b = undefined;
    const again = await call(a!, 'POST', 'approvals/api/decide', tokenA, {
      gateId: 'gB',
      proposalId: p2.id,
      verdict: 'reject',
      reason,
      password: SUPERVISOR.password,
    });
    expect(again.status).to.equal(503);
    expect(again.body.error).to.match(/no instance serves gate gB now/);
  });
});
