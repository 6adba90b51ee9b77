/**
 * The supervisors' page API in a real embedded Node-RED with adminAuth: who gets in (401 / 403),
 * who may decide, the electronic signature (password again, reason, user from the login only),
 * the history with the ledger's chain status, and no decisions at all without adminAuth.
 * The gate is test/support/approvals-gate.ts (a real GateHandle over a real file ledger), in a
 * Node-RED child process (test/support/approvals-server.ts).
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Proposal } from '../../runtime/model/control.js';
import { ENVELOPE, fromPlant, login, makeProposal, REAL_GATE_ID, USERS } from '../support/approvals-gate.js';
import { waitFor } from '../support/ports.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';

const pageApi = require(
  join(__dirname, '..', '..', 'dist', 'web', 'server', 'approvals-api.js'),
) as typeof import('../../web/server/approvals-api.js');

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

/**
 * POST without fetch: a server may answer 413 and close before the whole body is sent, which
 * fetch reports as a write error instead of the answer.
 */
function postRaw(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err) => (/ECONNRESET|EPIPE/.test(String((err as NodeJS.ErrnoException).code)) ? undefined : reject(err)));
    req.end(body);
  });
}

const pw = (u: string) => USERS.find((x) => x.username === u)!.password;

describe("integration: supervisors' page API with adminAuth", function () {
  this.timeout(60_000);
  let red: ApprovalsServer;
  const tokens: Record<string, string> = {};
  const G = 'gate-a';
  const add = (over: Partial<Proposal> = {}) => red.rpc('addProposal', G, over);
  const decideCalls = async () => (await red.rpc('calls', G)).decideCalls;
  const policyCalls = async () => (await red.rpc('calls', G)).policyCalls;
  const stateOf = (id: string) => red.rpc('state', G, id);

  before(async function () {
    red = await startApprovalsServer(USERS);
    // changes above 5 degC need two approvers
    await red.rpc('openGate', G, 5);
    for (const u of USERS) tokens[u.username] = await login(red.url, u.username, u.password);
  });

  after(async function () {
    await red?.stop();
  });

  it('serves the page without a token, self-contained, under a strict content security policy', async function () {
    const res = await fetch(`${red.url}twinloop/approvals`);
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.include('<title>TwinLoop approvals</title>');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce, csp).to.be.a('string');
    expect(html).to.include(`<script nonce="${nonce}">`);
    expect(csp).to.include("default-src 'none'");
    // nothing loaded from elsewhere: no src/href attributes pointing at another host
    expect(html).to.not.match(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    // a new nonce per response
    const again = (await fetch(`${red.url}twinloop/approvals`)).headers.get('content-security-policy');
    expect(again).to.not.equal(csp);
  });

  it('answers every API call without credentials, or with a forged token, with 401', async function () {
    for (const path of ['me', 'gates', 'proposals', 'history']) {
      expect((await call(red, 'GET', path)).status, `GET ${path}`).to.equal(401);
      expect((await call(red, 'GET', path, 'not-a-real-token')).status, `GET ${path} forged`).to.equal(401);
    }
    const p = await add();
    const r = await call(red, 'POST', 'decide', undefined, {
      gateId: G,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'x',
      password: pw('supervisor'),
      user: 'supervisor',
    });
    expect(r.status).to.equal(401);
    expect(
      (await call(red, 'POST', 'auto-approval', undefined, { gateId: G, enabled: false, reason: 'x', password: 'x' })).status,
    ).to.equal(401);
    expect(await decideCalls()).to.deep.equal([]);
    expect(await stateOf(p.id)).to.equal('pending');
  });

  it('lets a read-only user look (200) but not decide or switch the policy (403)', async function () {
    const p = await add();
    const me = await call(red, 'GET', 'me', tokens.viewer);
    expect(me.status).to.equal(200);
    expect(me.body).to.deep.equal({ adminAuth: true, username: 'viewer', printedName: 'viewer', canApprove: false });
    const list = await call(red, 'GET', 'proposals', tokens.viewer);
    expect(list.status).to.equal(200);
    const mine = list.body.proposals.find((v: any) => v.proposal.id === p.id);
    expect(mine.gateId).to.equal(G);
    expect(mine.state).to.equal('pending');
    expect(mine.proposal.proposedValue).to.equal(p.proposedValue);
    expect(mine.trend.setpoint.length).to.be.greaterThan(0);
    expect((await call(red, 'GET', 'gates', tokens.viewer)).status).to.equal(200);
    expect((await call(red, 'GET', 'history', tokens.viewer)).status).to.equal(200);

    const decide = await call(red, 'POST', 'decide', tokens.viewer, {
      gateId: G,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'looks fine',
      password: pw('viewer'),
    });
    expect(decide.status).to.equal(403);
    expect(decide.body.error).to.include('twinloop.approve');
    const policy = await call(red, 'POST', 'auto-approval', tokens.viewer, {
      gateId: G,
      enabled: false,
      reason: 'x',
      password: pw('viewer'),
    });
    expect(policy.status).to.equal(403);
    expect(await decideCalls()).to.deep.equal([]);
    expect(await policyCalls()).to.deep.equal([]);
  });

  it('keeps out a logged-in user with neither permission (403 on every call)', async function () {
    for (const path of ['me', 'gates', 'proposals', 'history']) {
      const r = await call(red, 'GET', path, tokens.operator);
      expect(r.status, `GET ${path}`).to.equal(403);
      expect(JSON.stringify(r.body)).to.not.include('barrel');
    }
  });

  it('refuses a wrong or missing password (401) and an empty reason (400) without deciding', async function () {
    const p = await add();
    const base = { gateId: G, proposalId: p.id, verdict: 'approve' };
    const wrong = await call(red, 'POST', 'decide', tokens.supervisor, { ...base, reason: 'energy', password: 'not-my-password' });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.match(/wrong password/);
    // logged (who, what), without the password
    await waitFor(() => /wrong password from supervisor signing approve/.test(red.output()), 10_000, 50, 'the warning in the log');
    expect(red.output()).to.not.include('not-my-password');
    expect((await call(red, 'POST', 'decide', tokens.supervisor, { ...base, reason: 'energy' })).status).to.equal(401);
    const empty = await call(red, 'POST', 'decide', tokens.supervisor, { ...base, reason: '   ', password: pw('supervisor') });
    expect(empty.status).to.equal(400);
    expect(empty.body.error).to.match(/reason/);
    expect(
      (await call(red, 'POST', 'decide', tokens.supervisor, { ...base, verdict: 'maybe', reason: 'r', password: pw('supervisor') })).status,
    ).to.equal(400);
    expect(await decideCalls()).to.deep.equal([]);
    expect(await stateOf(p.id)).to.equal('pending');
  });

  it('answers a 6 MB body before login with a one-line 413: no stack, no server path', async function () {
    // over Node-RED's apiMaxLength (5 MB): body-parser refuses it in Node-RED's middleware, before our routes and the login;
    // the login throttle in front of auth/token refuses it past its own 16 KB
    const big = JSON.stringify({ gateId: G, proposalId: 'x', verdict: 'approve', reason: 'r'.repeat(6 * 1024 * 1024) });
    for (const path of ['twinloop/approvals/api/decide', 'auth/token']) {
      const { status, text } = await postRaw(`${red.url}${path}`, big);
      expect(status, text.slice(0, 300)).to.equal(413);
      expect(text.length, text).to.be.lessThan(200);
      expect(JSON.parse(text))
        .to.have.property('error')
        .that.matches(/^(the request body is larger than 5242880 bytes|invalid_request)$/);
      expect(text).to.not.match(/node_modules|\bat |\//);
    }
    // and a body that is not JSON: 400 in one line, not body-parser's stack
    const res = await fetch(`${red.url}twinloop/approvals/api/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"gateId":',
    });
    const text = await res.text();
    expect(res.status).to.equal(400);
    expect(JSON.parse(text)).to.deep.equal({ error: 'the request body is not valid JSON' });
  });

  it('refuses a reason over 1,000 characters (400 naming the limit): nothing decided, nothing in the ledger', async function () {
    const p = await add();
    const ledgerFile = await red.rpc('ledgerLocation', G);
    const before = readFileSync(ledgerFile, 'utf8');
    const base = { gateId: G, proposalId: p.id, verdict: 'approve', password: pw('supervisor') };
    const huge = await call(red, 'POST', 'decide', tokens.supervisor, { ...base, reason: 'x'.repeat(4 * 1024 * 1024) });
    expect(huge.status).to.equal(400);
    expect(huge.body).to.deep.equal({ error: 'the reason is longer than 1000 characters' });
    const justOver = await call(red, 'POST', 'auto-approval', tokens.supervisor, {
      gateId: G,
      enabled: false,
      reason: 'y'.repeat(1001),
      password: pw('supervisor'),
    });
    expect(justOver.status).to.equal(400);
    expect(await decideCalls()).to.deep.equal([]);
    expect(await policyCalls()).to.deep.equal([]);
    expect(await stateOf(p.id)).to.equal('pending');
    expect(readFileSync(ledgerFile, 'utf8')).to.equal(before);
    // the page's textarea stops typing at the same limit
    expect(await (await fetch(`${red.url}twinloop/approvals`)).text()).to.include('<textarea id="sign-reason" maxlength="1000">');
  });

  it('records a decision under the logged-in user and printed name, never a name from the request body', async function () {
    const p = await add();
    const r = await call(red, 'POST', 'decide', tokens.supervisor, {
      gateId: G,
      proposalId: p.id,
      verdict: 'approve',
      reason: '  cuts energy, quality holds  ',
      password: pw('supervisor'),
      user: 'viewer',
      printedName: 'Someone Else',
    });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body).to.deep.equal({ ok: true, state: 'approved', user: 'supervisor', printedName: 'Dana Reyes (shift supervisor)' });
    const calls = await decideCalls();
    expect(calls).to.have.length(1);
    expect(calls[0]).to.deep.equal({
      proposalId: p.id,
      verdict: 'approve',
      user: 'supervisor',
      printedName: 'Dana Reyes (shift supervisor)',
      reason: 'cuts energy, quality holds',
      meaning: 'Approved: I authorise this setpoint change',
    });
    expect(await stateOf(p.id)).to.equal('approved');

    // a decided proposal cannot be decided again: the gate's refusal comes back as 409
    const again = await call(red, 'POST', 'decide', tokens.supervisor2, {
      gateId: G,
      proposalId: p.id,
      verdict: 'reject',
      reason: 'late',
      password: pw('supervisor2'),
    });
    expect(again.status).to.equal(409);
    expect(again.body.error).to.include('approved');
    // an unknown gate is 404
    expect(
      (
        await call(red, 'POST', 'decide', tokens.supervisor2, {
          gateId: 'nope',
          proposalId: p.id,
          verdict: 'reject',
          reason: 'r',
          password: pw('supervisor2'),
        })
      ).status,
    ).to.equal(404);
  });

  it('passes the two-person rule through: one approval leaves it pending, the same user twice is refused, a second user approves', async function () {
    const p = await add({ proposedValue: 209 });
    const body = {
      gateId: G,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'big step, agreed',
      meaning: 'Approved: first of two signatures',
    };
    const first = await call(red, 'POST', 'decide', tokens.supervisor, { ...body, password: pw('supervisor') });
    expect(first.body).to.include({ ok: true, state: 'pending' });
    const view = (await call(red, 'GET', 'proposals', tokens.viewer)).body.proposals.find((v: any) => v.proposal.id === p.id);
    expect(view.requiredApprovals).to.equal(2);
    expect(view.decisions.map((d: any) => [d.user, d.meaning])).to.deep.equal([['supervisor', 'Approved: first of two signatures']]);
    expect((await call(red, 'POST', 'decide', tokens.supervisor, { ...body, password: pw('supervisor') })).status).to.equal(409);
    const second = await call(red, 'POST', 'decide', tokens.supervisor2, { ...body, password: pw('supervisor2') });
    expect(second.body).to.include({ ok: true, state: 'approved', user: 'supervisor2' });
  });

  it('switches auto-approval only with approve permission, a reason and the password', async function () {
    expect(
      (await call(red, 'POST', 'auto-approval', tokens.supervisor, { gateId: G, enabled: false, reason: '', password: pw('supervisor') }))
        .status,
    ).to.equal(400);
    expect(
      (await call(red, 'POST', 'auto-approval', tokens.supervisor, { gateId: G, enabled: false, reason: 'trial over', password: 'wrong' }))
        .status,
    ).to.equal(401);
    expect((await red.rpc('calls', G)).autoApproval.enabled).to.equal(true);
    const r = await call(red, 'POST', 'auto-approval', tokens.supervisor, {
      gateId: G,
      enabled: false,
      reason: 'trial over',
      password: pw('supervisor'),
    });
    expect(r.status).to.equal(200);
    expect(r.body.autoApproval).to.deep.equal({ enabled: false, configured: true, maxStep: 1 });
    expect(await policyCalls()).to.deep.equal([{ enabled: false, user: 'supervisor', reason: 'trial over' }]);
    const gates = await call(red, 'GET', 'gates', tokens.viewer);
    expect(gates.body.gates.find((g: any) => g.id === G).autoApproval.enabled).to.equal(false);
  });

  it('locks a user out of signing after repeated wrong passwords (429), even with the right one', async function () {
    const p = await add();
    const body = { gateId: G, proposalId: p.id, verdict: 'reject', reason: 'no' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call(red, 'POST', 'decide', tokens.supervisor2, { ...body, password: `guess-${i}` })).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
    const right = await call(red, 'POST', 'decide', tokens.supervisor2, { ...body, password: pw('supervisor2') });
    expect(right.status).to.equal(429);
    expect(await stateOf(p.id)).to.equal('pending');
    // another user is not affected
    expect((await call(red, 'POST', 'decide', tokens.supervisor, { ...body, password: pw('supervisor') })).status).to.equal(200);
  });

  it('lists the ledger with the chain verified, and shows a broken chain when a record is edited', async function () {
    const h = await call(red, 'GET', 'history', tokens.viewer);
    expect(h.status).to.equal(200);
    const mine = h.body.ledgers.find((l: any) => l.gates.some((g: any) => g.id === G));
    expect(mine.verification).to.include({ ok: true, records: mine.total });
    const decisions = mine.records.filter((r: any) => r.type === 'decision');
    expect(decisions.length).to.be.greaterThan(0);
    expect(decisions.map((r: any) => r.data.user)).to.include('supervisor');
    // newest first
    expect(mine.records[0].seq).to.equal(mine.total - 1);

    // edit the first decision's reason in the file: the page must report the chain broken there
    const ledgerFile = await red.rpc('ledgerLocation', G);
    const lines = readFileSync(ledgerFile, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"decision"'));
    const rec = JSON.parse(lines[i]);
    rec.data.reason = 'edited afterwards';
    lines[i] = JSON.stringify(rec);
    writeFileSync(ledgerFile, lines.join('\n'));
    const after = (await call(red, 'GET', 'history', tokens.viewer)).body.ledgers.find((l: any) => l.gates.some((g: any) => g.id === G));
    expect(after.verification.ok).to.equal(false);
    expect(after.verification.firstBad.seq).to.equal(rec.seq);
  });
});

describe("integration: supervisors' page API with the real twin-approval node", function () {
  this.timeout(60_000);
  let red: ApprovalsServer;
  const tokens: Record<string, string> = {};
  const post = (payload: unknown) =>
    fetch(`${red.url}api/test/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

  before(async function () {
    red = await startApprovalsServer(USERS, { realGate: true });
    for (const u of ['supervisor', 'viewer']) tokens[u] = await login(red.url, u, pw(u));
    await waitFor(
      async () => (await call(red, 'GET', 'gates', tokens.viewer)).body.gates.some((g: any) => g.id === REAL_GATE_ID),
      30_000,
      100,
      'twin-approval registered',
    );
  });

  after(async function () {
    await red?.stop();
  });

  it("shows the gate's proposal and records the supervisor's signed approval in its ledger", async function () {
    const gates = (await call(red, 'GET', 'gates', tokens.viewer)).body.gates;
    const g = gates.find((x: any) => x.id === REAL_GATE_ID);
    expect(g).to.include({ name: 'Barrel temperature (real gate)', asset: ENVELOPE.asset, tag: ENVELOPE.tag, twoPersonAboveStep: null });
    // no policy configured on the real gate: the page shows no switch (not the old maxStep-0 convention)
    expect(g.autoApproval).to.deep.equal({ enabled: false, configured: false, maxStep: 0 });

    // a fresh reading of the setpoint (the envelope rests on it), then the proposal, as a flow sends them
    const nowMs = Date.now();
    expect(
      (
        await post(
          fromPlant({ asset: ENVELOPE.asset, tag: ENVELOPE.tag, value: 215, unit: 'degC', tsMs: nowMs, quality: 'good', source: 'test' }),
        )
      ).status,
    ).to.equal(204);
    const p = makeProposal({ currentValue: 215, proposedValue: 212 });
    expect((await post(p)).status).to.equal(204);
    const view = await waitFor(
      async () =>
        (await call(red, 'GET', 'proposals', tokens.viewer)).body.proposals.find(
          (v: any) => v.gateId === REAL_GATE_ID && v.proposal.id === p.id,
        ),
      10_000,
      50,
      'the proposal in the page',
    );
    expect(view.state).to.equal('pending');
    expect(view.requiredApprovals).to.equal(1);
    expect(view.envelope.ok, JSON.stringify(view.envelope)).to.equal(true);
    expect(view.trend.setpoint.map((x: any) => x.value)).to.include(215);

    expect(
      (
        await call(red, 'POST', 'decide', tokens.viewer, {
          gateId: REAL_GATE_ID,
          proposalId: p.id,
          verdict: 'approve',
          reason: 'r',
          password: pw('viewer'),
        })
      ).status,
    ).to.equal(403);
    expect(
      (
        await call(red, 'POST', 'decide', tokens.supervisor, {
          gateId: REAL_GATE_ID,
          proposalId: p.id,
          verdict: 'approve',
          reason: 'r',
          password: 'wrong',
        })
      ).status,
    ).to.equal(401);
    // a meaning longer than the gate records is refused, not cut (what is recorded is what was signed)
    const long = await call(red, 'POST', 'decide', tokens.supervisor, {
      gateId: REAL_GATE_ID,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'r',
      meaning: 'x'.repeat(201),
      password: pw('supervisor'),
    });
    expect(long.status, JSON.stringify(long.body)).to.equal(409);
    expect(long.body.error).to.match(/longer than 200/);
    // the supervisor edited the prefilled meaning: the ledger must hold the meaning signed with
    const meaning = 'Approved: I authorise lowering zone 3 to 212 degC for this shift';
    const ok = await call(red, 'POST', 'decide', tokens.supervisor, {
      gateId: REAL_GATE_ID,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'cuts energy per kg',
      meaning: `  ${meaning} `,
      password: pw('supervisor'),
      user: 'viewer',
    });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect(ok.body.state).to.not.equal('pending');

    const h = (await call(red, 'GET', 'history', tokens.viewer)).body.ledgers.find((l: any) =>
      l.gates.some((g: any) => g.id === REAL_GATE_ID),
    );
    expect(h.verification).to.include({ ok: true, records: h.total });
    const decisions = h.records.filter((r: any) => r.type === 'decision' && r.proposalId === p.id);
    expect(decisions).to.have.length(1);
    expect(decisions[0].data).to.include({
      verdict: 'approve',
      user: 'supervisor',
      printedName: 'Dana Reyes (shift supervisor)',
      reason: 'cuts energy per kg',
      meaning,
    });
    // only the decision the gate accepted is in the ledger: the refused attempts left nothing
    expect(h.records.filter((r: any) => r.type === 'decision')).to.have.length(1);

    // switching the (unconfigured) policy off is allowed and recorded with the signer's reason; on is refused
    const on = await call(red, 'POST', 'auto-approval', tokens.supervisor, {
      gateId: REAL_GATE_ID,
      enabled: true,
      reason: 'try it',
      password: pw('supervisor'),
    });
    expect(on.status).to.equal(409);
    expect(on.body.error).to.match(/not configured/);
    const off = await call(red, 'POST', 'auto-approval', tokens.supervisor, {
      gateId: REAL_GATE_ID,
      enabled: false,
      reason: 'audit: confirm it stays off',
      password: pw('supervisor'),
    });
    expect(off.status, JSON.stringify(off.body)).to.equal(200);
    expect(off.body.autoApproval).to.deep.equal({ enabled: false, configured: false, maxStep: 0 });
    const h2 = (await call(red, 'GET', 'history', tokens.viewer)).body.ledgers.find((l: any) =>
      l.gates.some((g: any) => g.id === REAL_GATE_ID),
    );
    const policies = h2.records.filter((r: any) => r.type === 'policy');
    expect(policies).to.have.length(1);
    expect(policies[0].data).to.include({ enabled: false, user: 'supervisor', reason: 'audit: confirm it stays off' });
  });
});

describe("integration: supervisors' page API without adminAuth", function () {
  this.timeout(60_000);
  let red: ApprovalsServer;
  const G = 'gate-b';
  const add = (over: Partial<Proposal> = {}) => red.rpc('addProposal', G, over);
  const decideCalls = async () => (await red.rpc('calls', G)).decideCalls;
  const policyCalls = async () => (await red.rpc('calls', G)).policyCalls;
  const stateOf = (id: string) => red.rpc('state', G, id);

  before(async function () {
    red = await startApprovalsServer(undefined);
    await red.rpc('openGate', G, null);
  });

  after(async function () {
    await red?.stop();
  });

  it('shows proposals (the editor is open too) but refuses every decision with 403 and says why', async function () {
    const p = await add();
    const me = await call(red, 'GET', 'me');
    expect(me.body).to.deep.equal({ adminAuth: false, username: null, printedName: null, canApprove: false });
    const list = await call(red, 'GET', 'proposals');
    expect(list.status).to.equal(200);
    expect(list.body.proposals.some((v: any) => v.proposal.id === p.id)).to.equal(true);
    const r = await call(red, 'POST', 'decide', undefined, {
      gateId: G,
      proposalId: p.id,
      verdict: 'approve',
      reason: 'ok',
      password: 'x',
      user: 'admin',
    });
    expect(r.status).to.equal(403);
    expect(r.body.error).to.match(/adminAuth/);
    expect(
      (await call(red, 'POST', 'auto-approval', undefined, { gateId: G, enabled: false, reason: 'ok', password: 'x' })).status,
    ).to.equal(403);
    expect(await decideCalls()).to.deep.equal([]);
    expect(await policyCalls()).to.deep.equal([]);
    expect(await stateOf(p.id)).to.equal('pending');
  });
});

describe("supervisors' page: writer names", function () {
  it('names the writers of write and read-back records by their node names, leaving out ids with no known name', function () {
    const rec = (seq: number, type: string, data: Record<string, unknown>) =>
      ({ seq, tsMs: seq, type, data, prevHash: '', hash: '' }) as any;
    const records = [
      rec(5, 'readback', { writer: 'w1', readBackOk: true }),
      rec(4, 'write', { writer: 'w1', outcome: 'written' }),
      rec(3, 'write', { writer: 'w2', outcome: 'written' }),
      rec(2, 'write', { writer: 'gone', outcome: 'failed' }),
      rec(1, 'decision', { user: 'supervisor' }),
      rec(0, 'proposal', { id: 'p' }),
    ];
    const asked: string[] = [];
    const names: Record<string, string> = { w1: 'write zone3_sp', w2: 'write zone2_sp' };
    const out = pageApi.writerNames(records, (id) => (asked.push(id), names[id]));
    expect(out).to.deep.equal({ w1: 'write zone3_sp', w2: 'write zone2_sp' });
    // each id looked up once; records without a writer are not looked up
    expect(asked).to.deep.equal(['w1', 'w2', 'gone']);
  });
});
