/**
 * The supervisors' page API with the real twin-approval node in maintenance mode, in a real embedded
 * Node-RED with adminAuth (a child process, test/support/approvals-server.ts; the flow deployed
 * through Node-RED's admin API): the API lists the maintenance gate and its proposal with what the
 * card shows, refuses decisions without a login, with a forged token, without the permission, with a
 * wrong password or without a reason, and records a supervisor's approval under their own name in
 * the ledger, after which the flow receives the signed MaintenanceOrder. Two approvers above the
 * gate's EUR threshold; no auto-approval on a maintenance gate.
 */
import { expect } from 'chai';
import { login, USERS } from '../support/approvals-gate.js';
import { waitFor } from '../support/ports.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';
import {
  deployMaintenanceFlow,
  M_GATE_ID,
  M_GATE_NAME,
  M_USERS,
  orders,
  postProposal,
  TWO_PERSON_ABOVE_EUR,
} from '../support/approvals-maintenance.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from '../support/maintenance-proposal.js';

async function call(
  red: ApprovalsServer,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${red.url}twinloop/approvals/api/${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

const pw = (u: string) => USERS.find((x) => x.username === u)!.password;

describe("integration: supervisors' page API with a maintenance-mode twin-approval", function () {
  this.timeout(90_000);
  let red: ApprovalsServer;
  const tokens: Record<string, string> = {};
  const view = async (id: string) =>
    (await call(red, 'GET', 'proposals', tokens.viewer)).body.proposals.find((v: any) => v.gateId === M_GATE_ID && v.proposal.id === id);
  const history = async () =>
    (await call(red, 'GET', 'history', tokens.viewer)).body.ledgers.find((l: any) => l.gates.some((g: any) => g.id === M_GATE_ID));
  async function propose(id: string, over: Parameters<typeof maintenanceProposal>[1] = {}) {
    const p = maintenanceProposal(id, over);
    expect((await postProposal(red.url, p)).status).to.equal(204);
    await waitFor(() => view(id), 10_000, 50, `proposal ${id} on the page`);
    return p;
  }

  before(async function () {
    red = await startApprovalsServer(M_USERS);
    await deployMaintenanceFlow(red.url);
    for (const u of USERS) tokens[u.username] = await login(red.url, u.username, u.password);
  });

  after(async function () {
    await red?.stop();
  });

  it('lists the maintenance gate and its proposal with the window, costs, risk, RUL and alternatives', async function () {
    const gates = (await call(red, 'GET', 'gates', tokens.viewer)).body.gates;
    expect(gates.find((g: any) => g.id === M_GATE_ID)).to.deep.equal({
      id: M_GATE_ID,
      kind: 'maintenance',
      name: M_GATE_NAME,
      asset: M_ASSET,
      twoPersonAboveEur: TWO_PERSON_ABOVE_EUR,
    });
    const p = await propose('list-1');
    const v = await view('list-1');
    expect(v).to.deep.include({ kind: 'maintenance', gateName: M_GATE_NAME, state: 'pending', requiredApprovals: 1, decisions: [] });
    expect(v.proposal).to.deep.equal(p);
    expect(v.envelope, 'no envelope on a maintenance card').to.equal(undefined);
    // read-only users look, nobody else
    expect((await call(red, 'GET', 'proposals', tokens.operator)).status).to.equal(403);
    expect((await call(red, 'GET', 'proposals')).status).to.equal(401);
  });

  it('refuses a decision without a login, with a forged token, without the permission, with a wrong password or no reason: nothing recorded', async function () {
    const p = await propose('refuse-1', { job: 'Replace heater band zone 2' });
    const body = { gateId: M_GATE_ID, proposalId: p.id, verdict: 'approve', reason: 'fits the plan', password: pw('supervisor') };
    expect((await call(red, 'POST', 'decide', undefined, { ...body, user: 'supervisor' })).status).to.equal(401);
    expect((await call(red, 'POST', 'decide', 'forged-token', body)).status).to.equal(401);
    const viewer = await call(red, 'POST', 'decide', tokens.viewer, { ...body, password: pw('viewer') });
    expect(viewer.status).to.equal(403);
    expect(viewer.body.error).to.include('twinloop.approve');
    expect((await call(red, 'POST', 'decide', tokens.operator, { ...body, password: 'op-pass' })).status).to.equal(403);
    const wrong = await call(red, 'POST', 'decide', tokens.supervisor, { ...body, password: 'wrong' });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.match(/wrong password/);
    expect((await call(red, 'POST', 'decide', tokens.supervisor, { ...body, reason: '  ' })).status).to.equal(400);
    expect((await view(p.id)).state).to.equal('pending');
    const h = await history();
    expect(h.records.filter((r: any) => r.proposalId === p.id).map((r: any) => r.type)).to.deep.equal(['proposal']);
    // a maintenance gate has no auto-approval to switch
    const policy = await call(red, 'POST', 'auto-approval', tokens.supervisor, {
      gateId: M_GATE_ID,
      enabled: false,
      reason: 'x',
      password: pw('supervisor'),
    });
    expect(policy.status).to.equal(409);
    expect(policy.body.error).to.match(/no auto-approval policy/);
  });

  it("records the supervisor's approval under the login's own name, and the flow receives the signed order", async function () {
    const p = await propose('approve-1', { job: 'Replace gearbox bearing (approve)' });
    const ok = await call(red, 'POST', 'decide', tokens.supervisor, {
      gateId: M_GATE_ID,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'Saturday stop fits',
      password: pw('supervisor'),
      user: 'viewer',
    });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect(ok.body).to.include({ ok: true, state: 'approved', user: 'supervisor', printedName: 'Dana Reyes (shift supervisor)' });
    const v = await view(p.id);
    expect(v.state).to.equal('approved');
    expect(v.decisions.map((d: any) => [d.user, d.printedName, d.meaning])).to.deep.equal([
      ['supervisor', 'Dana Reyes (shift supervisor)', 'Approved: I authorise this maintenance window'],
    ]);

    const h = await history();
    expect(h.verification).to.include({ ok: true, records: h.total });
    expect(h.gates.find((g: any) => g.id === M_GATE_ID)).to.deep.equal({
      id: M_GATE_ID,
      kind: 'maintenance',
      name: M_GATE_NAME,
      asset: M_ASSET,
    });
    const mine = h.records.filter((r: any) => r.proposalId === p.id).reverse();
    expect(mine.map((r: any) => r.type)).to.deep.equal(['proposal', 'decision', 'order']);
    expect(mine[1].data).to.include({ verdict: 'approve', user: 'supervisor', reason: 'Saturday stop fits', state: 'approved' });

    const got = (await waitFor(
      async () => (await orders(red.url)).find((o) => o.order.proposalId === p.id),
      10_000,
      50,
      'the order at the flow',
    ))!;
    expect(got.topic).to.equal(`${M_ASSET}/maintenance/order`);
    expect(got.replay).to.equal(false);
    expect(got.order).to.deep.equal(mine[2].data);
    expect(got.order).to.deep.include({
      asset: M_ASSET,
      job: p.job,
      startMs: p.window.startMs,
      endMs: p.window.endMs,
      timeZone: 'Europe/Berlin',
      approvedBy: ['supervisor'],
    });
    expect(got.order.signature).to.match(/^[0-9a-f]{64}$/);
    expect(v.order).to.deep.equal(got.order);
    // decided: a second decision is refused with the state
    const again = await call(red, 'POST', 'decide', tokens.supervisor2, {
      gateId: M_GATE_ID,
      proposalId: p.id,
      verdict: 'reject',
      reason: 'late',
      password: pw('supervisor2'),
    });
    expect(again.status).to.equal(409);
    expect(again.body.error).to.match(/is approved; it cannot be decided/);
  });

  it('needs two different supervisors above the EUR threshold; a rejection ends a proposal without an order', async function () {
    const big = await propose('two-1', {
      job: 'Rebuild gearbox',
      window: maintenanceWindow(Date.now() + 50 * 3_600_000, 8 * 3_600_000, { expectedCostEur: 12_400 }),
    });
    const dec = (user: string, verdict = 'approve') =>
      call(red, 'POST', 'decide', tokens[user], { gateId: M_GATE_ID, proposalId: big.id, verdict, reason: 'ok', password: pw(user) });
    expect((await view(big.id)).requiredApprovals).to.equal(2);
    expect((await dec('supervisor')).body.state).to.equal('pending');
    const twice = await dec('supervisor');
    expect(twice.status).to.equal(409);
    expect(twice.body.error).to.match(/different user/);
    expect((await dec('supervisor2')).body.state).to.equal('approved');
    const got = (await waitFor(async () => (await orders(red.url)).find((o) => o.order.proposalId === big.id), 10_000, 50, 'the order'))!;
    expect(got.order.approvedBy).to.deep.equal(['supervisor', 'supervisor2']);

    const no = await propose('reject-1', { job: 'Clean screen changer' });
    const r = await call(red, 'POST', 'decide', tokens.supervisor2, {
      gateId: M_GATE_ID,
      proposalId: no.id,
      verdict: 'reject',
      reason: 'not needed yet',
      password: pw('supervisor2'),
    });
    expect(r.body).to.include({ ok: true, state: 'rejected' });
    expect(await view(no.id)).to.include({ state: 'rejected', reason: 'rejected by supervisor2: not needed yet' });
    const decision = (await history()).records.find((x: any) => x.proposalId === no.id && x.type === 'decision');
    expect(decision.data.meaning).to.equal('Rejected: I do not authorise this maintenance window');
    expect((await orders(red.url)).some((o) => o.order.proposalId === no.id)).to.equal(false);
  });
});
