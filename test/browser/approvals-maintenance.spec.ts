/**
 * A maintenance proposal on the supervisors' page in Debian's Chromium: the real twin-approval node
 * in maintenance mode (deployed through Node-RED's admin API into the approvals server, a child
 * process) gets a MaintenanceProposal as a flow sends it; a supervisor logs in, sees the card (the
 * window in the plant's local time and zone, expected cost with its parts, P(failure before the
 * window), RUL P10/P50/P90, the runner-up, the rationale, the time left), signs an approval, and the
 * signed MaintenanceOrder comes out of the node's output 1 into the flow; the History tab shows the
 * decision under the supervisor's name and the order, with the ledger chain verified. A viewer sees
 * the card without Approve/Reject.
 * With TWINLOOP_SCREENSHOT_DIR set it saves approvals-maintenance-test.png there.
 */
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium } from '../support/browser.js';
import { USERS } from '../support/approvals-gate.js';
import { waitFor } from '../support/ports.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';
import { deployMaintenanceFlow, M_GATE_NAME, M_USERS, orders, postProposal } from '../support/approvals-maintenance.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from '../support/maintenance-proposal.js';
import type { MaintenanceProposal } from '../../runtime/model/maintenance.js';

const pw = (u: string) => USERS.find((x) => x.username === u)!.password;
const WHO = 'Dana Reyes (shift supervisor) — login supervisor';
const HOUR_MS = 3_600_000;

describe("browser: a maintenance proposal on the supervisors' page", function () {
  this.timeout(120_000);
  let srv: ApprovalsServer | undefined;
  let browser: Browser | undefined;
  let url: string;
  let p: MaintenanceProposal;
  const errors: string[] = [];

  async function open(): Promise<Page> {
    const ctx = await browser!.newContext({ viewport: { width: 1500, height: 1000 } });
    const page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
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

  const card = (page: Page) => page.getByRole('article', { name: `Maintenance proposal ${M_ASSET}: ${p.job}` });

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    if (!chromium) return this.skip();
    srv = await startApprovalsServer(M_USERS);
    url = `${srv.url}twinloop/approvals`;
    await deployMaintenanceFlow(srv.url);
    // a window at least two days out, at 08:00 UTC (a 4-hour window then never crosses midnight in
    // Berlin, whatever the time the spec runs at), the runner-up a day earlier
    const start = Math.ceil((Date.now() + 40 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS + 8 * HOUR_MS;
    p = maintenanceProposal('browser-m1', {
      window: maintenanceWindow(start),
      alternatives: [
        maintenanceWindow(start - 24 * HOUR_MS, 4 * HOUR_MS, {
          rank: 2,
          expectedCostEur: 3100,
          costParts: { jobEur: 1200, downtimeEur: 1800, expectedFailureEur: 70, energyEur: 30 },
          failureProbability: 0.007,
          productionLossMinutes: 240,
          why: 'A day earlier: lower risk, 4 h of production lost.',
        }),
      ],
    });
    expect((await postProposal(srv.url, p)).status).to.equal(204);
    browser = await launchChromium(chromium);
  });

  after(async function () {
    await browser?.close();
    await srv?.stop();
  });

  it('shows the card, a supervisor approves it with reason and password, and the signed order comes out of the node', async function () {
    const page = await open();
    await logIn(page, 'supervisor');
    const c = card(page);
    await c.waitFor();
    const text = await c.innerText();
    // the window in the plant's zone, read off the proposal's own local ISO times
    const [sDate, sTime] = [p.window.startLocal.slice(0, 10), p.window.startLocal.slice(11, 16)];
    const eTime = p.window.endLocal.slice(11, 16);
    expect(await c.getByLabel('Window', { exact: true }).innerText()).to.match(
      new RegExp(`^\\w{3} ${sDate} ${sTime} – ${eTime} Europe/Berlin \\(GMT[+−-]\\d+\\)$`),
    );
    expect(text).to.include(`Maintenance: ${p.job}`).and.include('pending');
    expect(text).to.include(M_ASSET);
    expect(text).to.include('1,850.00 EUR');
    expect(text).to.include('job 1,200.00 EUR + downtime 0.00 EUR + expected failure 610.00 EUR + energy 40.00 EUR');
    expect(text).to.include('6.1 %');
    expect(text).to.include('P10 4 d · P50 9 d · P90 15 d');
    expect(text).to.include(p.rationale);
    expect(text).to.include(p.window.why);
    expect(text).to.include('0 of 1 needed');
    const alt = await c.getByRole('list', { name: 'Alternative windows' }).innerText();
    const a = p.alternatives[0]!;
    expect(alt).to.match(
      new RegExp(
        `^#2 \\w{3} ${a.startLocal.slice(0, 10)} ${a.startLocal.slice(11, 16)} – ${a.endLocal.slice(11, 16)} Europe/Berlin \\(GMT[+−-]\\d+\\): 3,100\\.00 EUR, P\\(failure before\\) 0\\.7 % — ${a.why}$`,
      ),
    );
    expect(await c.locator('.expiry').innerText()).to.match(/^\d+ min \d+ s left$/);
    // the gate appears beside the setpoint gates, with its approver rule
    expect(await page.getByRole('group', { name: `Gate ${M_GATE_NAME}` }).innerText()).to.include('two approvers above 5,000.00 EUR');
    if (process.env.TWINLOOP_SCREENSHOT_DIR) {
      mkdirSync(process.env.TWINLOOP_SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(process.env.TWINLOOP_SCREENSHOT_DIR, 'approvals-maintenance-test.png'), fullPage: true });
    }

    await c.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve maintenance window' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Meaning of the signature').inputValue()).to.equal('Approved: I authorise this maintenance window');
    expect(await dialog.locator('#sign-summary').innerText())
      .to.include(`${M_ASSET}: ${p.job}, `)
      .and.include('expected cost 1,850.00 EUR');
    await dialog.getByLabel('Reason').fill('Saturday planned stop, parts in stock');
    await dialog.getByLabel('Password').fill('not my password');
    await dialog.getByRole('button', { name: 'Sign and approve' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'wrong password' }).waitFor();
    expect(await orders(srv!.url)).to.deep.equal([]);
    await dialog.getByLabel('Password').fill(pw('supervisor'));
    await dialog.getByRole('button', { name: 'Sign and approve' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // the order out of twin-approval's output 1, signed, approved by the logged-in supervisor
    const got = (await waitFor(
      async () => (await orders(srv!.url)).find((o) => o.order.proposalId === p.id),
      10_000,
      50,
      'the order at the flow',
    ))!;
    expect(got.order).to.deep.include({
      asset: M_ASSET,
      job: p.job,
      startMs: p.window.startMs,
      endMs: p.window.endMs,
      timeZone: 'Europe/Berlin',
      approvedBy: ['supervisor'],
    });
    expect(got.order.signature).to.match(/^[0-9a-f]{64}$/);
    // the card: approved, by whom, the order, no more buttons
    await c.locator('.state', { hasText: 'approved' }).waitFor();
    const after = await c.innerText();
    expect(after).to.include(WHO).and.include('Saturday planned stop, parts in stock');
    expect(after).to.include(`signed, id ${got.order.id}`);
    expect(await c.getByRole('button', { name: 'Approve' }).count()).to.equal(0);

    await page.getByRole('tab', { name: 'History' }).click();
    const ledger = page.getByRole('table', { name: `Ledger of ${M_GATE_NAME}` });
    const decision = ledger.getByRole('row').filter({ hasText: 'decision: approve' });
    await decision.waitFor();
    expect(await decision.innerText())
      .to.include(WHO)
      .and.include('Approved: I authorise this maintenance window')
      .and.include(`${M_ASSET} / maintenance`);
    const order = ledger.getByRole('row').filter({ hasText: 'maintenance order' });
    expect(await order.innerText())
      .to.include(got.order.id)
      .and.include('approved by supervisor');
    expect(await ledger.getByRole('row').filter({ hasText: 'maintenance proposal' }).innerText())
      .to.include(p.job)
      .and.include('1,850.00 EUR');
    expect(
      await page
        .getByRole('region', { name: `History of ${M_GATE_NAME}` })
        .getByText(/Ledger chain verified: 3 records intact/)
        .count(),
    ).to.equal(1);
    expect(errors).to.deep.equal([]);
  });

  it('shows a viewer the decided card without Approve/Reject', async function () {
    const page = await open();
    await logIn(page, 'viewer');
    const c = card(page);
    await c.waitFor();
    expect(await c.innerText()).to.include('approved');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).to.equal(0);
    expect(errors).to.deep.equal([]);
  });
});
