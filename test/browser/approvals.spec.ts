/**
 * The supervisors' page in Debian's Chromium: a supervisor logs in, sees a pending proposal, signs
 * an approval (a wrong password first: refused in the dialog), and finds the decision under their
 * name in the history with the ledger chain verified; a second supervisor rejects another proposal;
 * a viewer sees proposals without Approve/Reject; the editor's own token is reused when present.
 * Node-RED runs in a child process (test/support/approvals-server.ts) with the real twin-approval
 * node (its own twin-envelope and twin-ledger) beside a test gate that shows the rarer sights: a
 * failing envelope check, the two-person rule, a proposal about to expire.
 * With TWINLOOP_SCREENSHOT_DIR set it saves approvals-test.png and approvals-test-history.png there
 * (the README's approvals.png / approvals-history.png come from the demo spec).
 */
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium } from '../support/browser.js';
import { fromPlant, login, makeProposal, REAL_GATE_ID, USERS } from '../support/approvals-gate.js';
import { waitFor } from '../support/ports.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';
import type { Proposal } from '../../runtime/model/control.js';

const pw = (u: string) => USERS.find((x) => x.username === u)!.password;
const G = 'line1-barrel';
const ASSET = 'demo/plant1/extrusion/line1/extruder';
const WHO = 'Dana Reyes (shift supervisor) — login supervisor';
/** 24-hour time, with the date only when it is not today (the browser's time zone). */
const TIME = /^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d$/;

describe("browser: the supervisors' approvals page", function () {
  this.timeout(120_000);
  let srv: ApprovalsServer | undefined;
  let browser: Browser | undefined;
  let url: string;
  let barrel: Proposal;
  let speed: Proposal;
  /** Decision records in the real gate's ledger, read through the page's API. */
  let ledgerDecisions: () => Promise<Array<{ proposalId: string; data: Record<string, unknown> }>>;
  /** Where the real gate's ledger file is, as the history API reports it. */
  let realLedgerLocation: () => Promise<string>;
  const errors: string[] = [];

  /** A fresh browser profile per user: nothing shared but the server. */
  async function open(ctxInit?: (ctx: BrowserContext) => Promise<void>): Promise<Page> {
    const ctx = await browser!.newContext({ viewport: { width: 1500, height: 1000 } });
    if (ctxInit) await ctxInit(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    // a CSP violation or a failed script shows up here
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon|status of 40[139]/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    return page;
  }

  async function logIn(page: Page, user: string): Promise<void> {
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill(user);
    await form.getByLabel('Password').fill(pw(user));
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('tab', { name: 'Pending' }).waitFor();
  }

  const card = (page: Page, p: Proposal) => page.getByRole('article', { name: `Proposal ${p.asset} / ${p.tag}` });

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    if (!chromium) return this.skip();
    srv = await startApprovalsServer(USERS, { realGate: true });
    url = `${srv.url}twinloop/approvals`;
    await srv.rpc('openGate', G, 5);
    // The real twin-approval node gets 30 min of setpoint and KPI readings, then a proposal, as a flow sends them.
    const viewer = await login(srv.url, 'viewer', pw('viewer'));
    const api = (path: string) =>
      fetch(`${srv!.url}twinloop/approvals/api/${path}`, { headers: { authorization: `Bearer ${viewer}` } }).then(
        (r) => r.json() as Promise<any>,
      );
    await waitFor(async () => (await api('gates')).gates.some((g: any) => g.id === REAL_GATE_ID), 30_000, 100, 'twin-approval registered');
    const post = (payload: unknown) =>
      fetch(`${srv!.url}api/test/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    const t0 = Date.now() - 30 * 60_000;
    for (let i = 0; i <= 30; i++) {
      const tsMs = t0 + i * 60_000;
      await post(
        fromPlant({ asset: ASSET, tag: 'barrel_temp_sp', value: i < 12 ? 218 : 215, unit: 'degC', tsMs, quality: 'good', source: 'test' }),
      );
      await post({
        asset: ASSET,
        tag: 'energy_per_kg',
        value: (i < 12 ? 0.431 : 0.42) + 0.003 * Math.sin(i / 2),
        unit: 'kWh/kg',
        tsMs,
        quality: 'good',
        source: 'test',
      });
    }
    barrel = makeProposal({
      asset: ASSET,
      tag: 'barrel_temp_sp',
      currentValue: 215,
      proposedValue: 211,
      // the confidence interval of the mean change beside the prediction interval of one value
      predictedEffect: {
        kpiTag: 'energy_per_kg',
        kpiUnit: 'kWh/kg',
        currentKpi: 0.42,
        predictedKpi: 0.395,
        lowKpi: 0.385,
        highKpi: 0.405,
        intervalPct: 90,
        changeLowKpi: -0.031,
        changeHighKpi: -0.019,
      },
    });
    await post(barrel);
    await waitFor(
      async () => (await api('proposals')).proposals.some((v: any) => v.proposal.id === barrel.id),
      10_000,
      50,
      'the proposal at the gate',
    );
    ledgerDecisions = async () =>
      (await api('history')).ledgers
        .find((l: any) => l.gates.some((g: any) => g.id === REAL_GATE_ID))
        .records.filter((r: any) => r.type === 'decision');
    realLedgerLocation = async () =>
      (await api('history')).ledgers.find((l: any) => l.gates.some((g: any) => g.id === REAL_GATE_ID)).ledgerLocation;
    // a second setpoint: a big step (two approvers), expiring soon, with a stale input
    speed = await srv.rpc(
      'addProposal',
      G,
      {
        asset: ASSET,
        tag: 'screw_speed_sp',
        unit: 'rpm',
        currentValue: 62,
        proposedValue: 70,
        rationale: 'A faster screw raises throughput; the model predicts energy per kg stays flat.',
        predictedEffect: {
          kpiTag: 'throughput',
          kpiUnit: 'kg/h',
          currentKpi: 118,
          predictedKpi: 126,
          lowKpi: 121,
          highKpi: 131,
          intervalPct: 90,
        },
        fitRange: { fromTsMs: Date.now() - 3_600_000, toTsMs: Date.now(), setpointMin: 55, setpointMax: 72 },
        expiresTsMs: Date.now() + 100_000,
      },
      { ok: false, violations: [{ code: 'STALE_INPUT', message: 'melt_temp is 14 s old (limit 10 s)', tag: 'melt_temp' }] },
    );
    browser = await launchChromium(chromium);
  });

  after(async function () {
    await browser?.close();
    await srv?.stop();
  });

  it('lets a supervisor approve with reason and password, and shows the decision in the history under that user', async function () {
    const page = await open();
    await logIn(page, 'supervisor');
    expect(await page.locator('#who').innerText()).to.equal(WHO);

    const c = card(page, barrel);
    await c.waitFor();
    const text = await c.innerText();
    // values as they are: no padding zeros
    expect(await c.getByLabel('Change').innerText()).to.match(/^215\s*→\s*211 degC\s+\(−4\)$/);
    expect(text).to.include('energy_per_kg: 0.42 → 0.395 kWh/kg (90 % interval 0.385 – 0.405)');
    expect(text).to.include('mean change −0.025 kWh/kg (90 % CI −0.031 to −0.019)');
    // a proposal without the mean change's interval shows no such line
    expect(await card(page, speed).innerText()).to.not.include('mean change');
    expect(text).to.include('within the envelope');
    expect(text).to.include('0 of 1 needed');
    expect(await c.getByRole('img').count()).to.equal(1); // the chart
    // the other proposal shows its failing envelope check and the two-person rule
    const s = await card(page, speed).innerText();
    expect(s).to.include('STALE_INPUT').and.include('0 of 2 needed (two-person rule)');
    expect(await page.getByRole('group', { name: `Gate Extruder setpoints (test gate ${G})` }).innerText()).to.include(
      'two approvers above 5 degC',
    );
    // 1500 px wide: the two pending cards share the row instead of one card using half of it
    const [a, b] = await Promise.all([c.boundingBox(), card(page, speed).boundingBox()]);
    expect(Math.abs(a!.y - b!.y), 'two cards in one row').to.be.below(1);
    expect(a!.width + b!.width, 'the row filled').to.be.above(1350);

    if (process.env.TWINLOOP_SCREENSHOT_DIR) {
      mkdirSync(process.env.TWINLOOP_SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(process.env.TWINLOOP_SCREENSHOT_DIR, 'approvals-test.png'), fullPage: true });
    }

    await c.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve setpoint change' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Meaning of the signature').inputValue()).to.equal('Approved: I authorise this setpoint change');
    await dialog.getByLabel('Reason').fill('Energy per kg down, quality holds');
    await dialog.getByLabel('Password').fill('not my password');
    await dialog.getByRole('button', { name: 'Sign and approve' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'wrong password' }).waitFor();
    expect(await ledgerDecisions()).to.deep.equal([]);

    // the supervisor keeps the prefilled meaning's sense but edits it: the ledger holds what was signed
    const meaning = 'Approved: I authorise 211 degC on zone 3 for this shift';
    await dialog.getByLabel('Meaning of the signature').fill(meaning);
    await dialog.getByLabel('Password').fill(pw('supervisor'));
    await dialog.getByRole('button', { name: 'Sign and approve' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // the real gate's ledger holds the decision under the logged-in user
    const decisions = await ledgerDecisions();
    expect(decisions).to.have.length(1);
    expect(decisions[0].proposalId).to.equal(barrel.id);
    expect(decisions[0].data).to.include({
      verdict: 'approve',
      user: 'supervisor',
      printedName: 'Dana Reyes (shift supervisor)',
      reason: 'Energy per kg down, quality holds',
      meaning,
    });
    // the card leaves the pending list, without Approve/Reject
    await c.locator('.state', { hasText: /approved|done|failed|blocked/ }).waitFor();
    expect(await c.getByRole('button', { name: 'Approve' }).count()).to.equal(0);

    await page.getByRole('tab', { name: 'History' }).click();
    const ledger = page.getByRole('table', { name: 'Ledger of Barrel temperature (real gate)' });
    const row = ledger.getByRole('row').filter({ hasText: 'decision: approve' });
    await row.waitFor();
    expect(await row.innerText())
      .to.include(WHO)
      .and.include('Energy per kg down, quality holds')
      .and.include(meaning);
    expect(await row.getByRole('cell').first().innerText()).to.match(TIME);
    // the ledger's file name in the status line, the full path on hover
    const location = await realLedgerLocation();
    const chain = page
      .getByRole('region', { name: 'History of Barrel temperature (real gate)' })
      .getByText(/Ledger chain verified: \d+ records intact/);
    expect(await chain.count()).to.equal(1);
    expect(await chain.innerText())
      .to.include(`(${basename(location)})`)
      .and.not.include(location);
    expect(await chain.locator('[title]').getAttribute('title')).to.equal(location);
    if (process.env.TWINLOOP_SCREENSHOT_DIR)
      await page.screenshot({ path: join(process.env.TWINLOOP_SCREENSHOT_DIR, 'approvals-test-history.png') });
    expect(errors).to.deep.equal([]);
  });

  it('lets a second supervisor reject another proposal', async function () {
    const page = await open();
    await logIn(page, 'supervisor2');
    const c = card(page, speed);
    await c.getByRole('button', { name: 'Reject' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject setpoint change' });
    expect(await dialog.getByLabel('Meaning of the signature').inputValue()).to.match(/^Rejected: /);
    // an empty reason is refused in the page
    await dialog.getByLabel('Password').fill(pw('supervisor2'));
    await dialog.getByRole('button', { name: 'Sign and reject' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'reason' }).waitFor();
    await dialog.getByLabel('Reason').fill('Melt temperature reading is stale');
    await dialog.getByLabel('Password').fill(pw('supervisor2'));
    await dialog.getByRole('button', { name: 'Sign and reject' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await c.locator('.state', { hasText: 'rejected' }).waitFor();
    // the signer on the card: printed name and login, at a 24-hour time
    const by = await c.locator('dt:text-is("Rejected by") + dd').innerText();
    expect(by).to.match(
      /^Sam Okafor \(process engineer\) — login supervisor2, (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d: Melt temperature reading is stale$/,
    );
    expect(await srv!.rpc('state', G, speed.id)).to.equal('rejected');
    const last = (await srv!.rpc('calls', G)).decideCalls.at(-1)!;
    expect(last).to.include({ proposalId: speed.id, verdict: 'reject', user: 'supervisor2', printedName: 'Sam Okafor (process engineer)' });
    expect(errors).to.deep.equal([]);
  });

  it('shows a viewer the proposals but no Approve or Reject, and the policy switch disabled', async function () {
    const pending = await srv!.rpc('addProposal', G, { asset: ASSET, tag: 'zone2_temp_sp', currentValue: 200, proposedValue: 198 });
    const page = await open();
    await logIn(page, 'viewer');
    const c = card(page, pending);
    await c.waitFor();
    expect(await c.getByRole('button').count()).to.equal(0);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).to.equal(0);
    expect(await page.getByText(/Read only/).count()).to.be.greaterThan(0);
    const switches = page.getByRole('switch', { name: /^Auto-approval for / });
    // the test gate has a policy band; the real gate has none configured (no switch)
    expect(await switches.count()).to.equal(1);
    expect(
      await page.getByRole('group', { name: 'Gate Barrel temperature (real gate)' }).getByText('Auto-approval: not configured').count(),
    ).to.equal(1);
    for (const sw of await switches.all()) expect(await sw.isDisabled()).to.equal(true);
    // a narrow screen: one column, nothing wider than the window
    await page.setViewportSize({ width: 700, height: 1000 });
    const ended = page.locator('#ended article');
    expect(await ended.count()).to.be.at.least(2);
    const [a, b] = [await ended.nth(0).boundingBox(), await ended.nth(1).boundingBox()];
    expect(Math.abs(a!.x - b!.x), 'one column').to.be.below(1);
    expect(b!.y).to.be.at.least(a!.y + a!.height);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(700);
    expect(errors).to.deep.equal([]);
  });

  it('says that approvals need adminAuth, and offers no decisions, when Node-RED has no logins', async function () {
    const open2 = await startApprovalsServer(undefined);
    try {
      await open2.rpc('openGate', 'open-gate', null);
      const p = await open2.rpc('addProposal', 'open-gate', { asset: ASSET, tag: 'barrel_temp_sp' });
      const ctx = await browser!.newContext();
      const page = await ctx.newPage();
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
      await page.goto(`${open2.url}twinloop/approvals`);
      await card(page, p).waitFor();
      expect(await page.getByRole('status').filter({ hasText: 'Approvals need Node-RED adminAuth' }).count()).to.equal(1);
      expect(await page.getByRole('button', { name: 'Approve' }).count()).to.equal(0);
      expect(await page.getByLabel('Username').isVisible()).to.equal(false);
      await ctx.close();
    } finally {
      await open2.stop();
    }
    expect(errors).to.deep.equal([]);
  });

  it("reuses the editor's login (localStorage auth-tokens) instead of asking again", async function () {
    const token = await login(srv!.url, 'supervisor', pw('supervisor'));
    const page = await open(async (ctx) => {
      await ctx.addInitScript((t: string) => localStorage.setItem('auth-tokens', JSON.stringify({ access_token: t })), token);
    });
    await page.getByRole('tab', { name: 'Pending' }).waitFor();
    expect(await page.getByLabel('Username').isVisible()).to.equal(false);
    expect(await page.locator('#who').innerText()).to.equal(WHO);
    expect(errors).to.deep.equal([]);
  });

  it('shows a gate whose ledger does not verify as an alarm with what to do, and offers no decisions on it (issue 13)', async function () {
    const reason = 'refusing to append to a broken ledger: line 6 (seq 5): no MAC: not written by the ledger with its key';
    await srv!.rpc(
      'openAlarmedGate',
      'alarmed',
      'Zone 2 (forged ledger)',
      reason,
      'Keep the file as evidence and run `twinloop ledger verify`.',
    );
    const page = await open();
    await logIn(page, 'supervisor');
    const alarm = page.getByRole('alert', { name: 'Alarm: gate Zone 2 (forged ledger)' });
    await alarm.waitFor();
    const text = await alarm.innerText();
    expect(text).to.include('Gate Zone 2 (forged ledger) refuses to act');
    expect(text).to.include(reason);
    expect(text).to.match(/What to do: Keep the file as evidence/);
    expect(await alarm.getByRole('button').count()).to.equal(0);
    // the other gates are still listed
    expect(await page.getByRole('group', { name: 'Gate Barrel temperature (real gate)' }).count()).to.equal(1);
    expect(errors).to.deep.equal([]);
  });
});
