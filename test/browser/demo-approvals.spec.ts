/**
 * The demo, end to end, in Debian's Chromium: the real `twinloop start` (simulator with its
 * commissioning step test, the demo flow's closed loop), nothing injected. twin-propose proposes
 * raising zone3_sp from what the simulated line showed it; a supervisor logs in on the approvals
 * page and approves it with reason and password; the new setpoint is read back from the
 * simulator over OPC UA (our own client); the ledger holds the decision under that user, then the
 * gate's commands and the writer's writes and read-backs, and `twinloop ledger verify` passes; the
 * History tab shows it. A second supervisor rejects the zone2_sp proposal: recorded under their
 * name, nothing written. With TWINLOOP_SCREENSHOT_DIR set it saves approvals.png and
 * approvals-history.png there (the README's screenshots).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeIds, OPCUACertificateManager, OPCUAClient, type ClientSession } from 'node-opcua';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/ports.js';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { cliVerify } from '../support/crash-loop.js';
import type { Decision, LedgerRecord, Proposal } from '../../runtime/model/control.js';
import type { MaintenanceOrder, MaintenanceProposal } from '../../runtime/model/maintenance.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const PRINTED = { supervisor: 'Dana Reyes (shift supervisor)', supervisor2: 'Sam Okafor (process engineer)' };
const SHOTS = process.env.TWINLOOP_SCREENSHOT_DIR;
/** The proposals come from the simulated line's data: the step test runs in the first ~45 s. */
const PROPOSAL_WAIT_MS = 120_000;

/** What the page's fmt() shows for a setpoint: the value as it is, at most 6 significant digits, no padding zeros. */
const fmt1 = (v: number) => String(Number(v.toPrecision(6))).replace(/^-/, '−');
/** 24-hour time, with the date only when it is not today (the browser's time zone). */
const TIME = /^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d$/;
const who = (user: 'supervisor' | 'supervisor2') => `${PRINTED[user]} — login ${user}`;

describe('browser: the demo line, approved and rejected on the approvals page', function () {
  this.timeout(300_000);
  let tl: TwinloopProcess | undefined;
  let browser: Browser | undefined;
  let pki: string | undefined;
  let client: OPCUAClient | undefined;
  let session: ClientSession | undefined;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  let ledgerFile: string;

  const readLedger = (): LedgerRecord[] =>
    existsSync(ledgerFile)
      ? readFileSync(ledgerFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as LedgerRecord)
      : [];
  const ofProposal = (id: string) => readLedger().filter((r) => r.proposalId === id);

  async function readSetpoint(tag: string): Promise<number> {
    const dv = await session!.read({ nodeId: `ns=1;s=extruder.${tag}`, attributeId: AttributeIds.Value });
    expect(dv.statusCode.isGood(), `read ${tag}: ${dv.statusCode.toString()}`).to.equal(true);
    return dv.value.value as number;
  }

  async function open(viewport = { width: 1600, height: 1000 }): Promise<Page> {
    const ctx = await browser!.newContext({ viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${tl!.url}twinloop/approvals`);
    return page;
  }

  async function logIn(page: Page, user: 'supervisor' | 'supervisor2'): Promise<void> {
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill(user);
    await form.getByLabel('Password').fill(tl!.logins[user]);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('tab', { name: 'Pending' }).waitFor();
    expect(await page.locator('#who').innerText()).to.equal(who(user));
  }

  /** The pending card of a setpoint (ended cards of the same setpoint live in another list). */
  const pendingCard = (page: Page, tag: string): Locator =>
    page.locator('#proposals').getByRole('article', { name: `Proposal ${ASSET} / ${tag}` });

  /**
   * Wait for the pending proposal of `tag` whose envelope check passes, and return it as the
   * ledger recorded it (the proposal record the gate wrote when it arrived).
   */
  async function pendingProposal(page: Page, tag: string): Promise<{ card: Locator; proposal: Proposal }> {
    const card = pendingCard(page, tag);
    await card.filter({ hasText: 'within the envelope' }).waitFor({ timeout: PROPOSAL_WAIT_MS });
    const id = await card.getAttribute('data-proposal-id');
    expect(id, 'the card names its proposal').to.be.a('string');
    const rec = ofProposal(id!).find((r) => r.type === 'proposal');
    expect(rec, `proposal ${id} in the ledger`).to.not.equal(undefined);
    return { card, proposal: rec!.data as Proposal };
  }

  /** The card shows what the twin proposed: change, rationale, predicted effect with its interval, envelope, chart. */
  async function expectCardShows(card: Locator, p: Proposal): Promise<void> {
    const change = await card.getByLabel('Change').innerText();
    expect(change).to.match(new RegExp(`^${fmt1(p.currentValue)}\\s*→\\s*${fmt1(p.proposedValue)} degC`));
    const text = await card.innerText();
    expect(p.rationale.trim()).to.not.equal('');
    expect(text).to.include(p.rationale);
    const e = p.predictedEffect;
    expect(e.kpiTag).to.equal('energy_per_kg');
    expect(e.lowKpi).to.be.at.most(e.predictedKpi);
    expect(e.highKpi).to.be.at.least(e.predictedKpi);
    expect(text).to.match(/Predicted effect\s+energy_per_kg: [\d.]+ → [\d.]+ kWh\/kg \(90 % interval [\d.]+ – [\d.]+\)/);
    // the confidence interval of the mean change beside it, when the proposer gives one
    if (e.changeLowKpi !== undefined && e.changeHighKpi !== undefined) {
      expect(e.changeLowKpi).to.be.at.most(e.changeHighKpi);
      expect(text).to.match(/\nmean change [+−±][\d.]+(e[+-]?\d+)? kWh\/kg \(90 % CI −?[\d.]+(e[+-]?\d+)? to −?[\d.]+(e[+-]?\d+)?\)/);
    } else {
      expect(text).to.not.include('mean change');
    }
    expect(text).to.match(/Envelope check\s+within the envelope \(version [0-9a-f]+\)/);
    expect(text).to.include('0 of 1 needed');
    // the chart: recent history of the setpoint and the KPI, with data in both panels
    const chart = card.getByRole('img');
    expect(await chart.count()).to.equal(1);
    expect(await chart.getAttribute('aria-label')).to.match(
      new RegExp(`^Last \\d+ min of ${p.tag} and energy_per_kg; proposed ${fmt1(p.proposedValue)} degC`),
    );
    const lines = await chart.locator('path[stroke="#333"]').count();
    expect(lines, 'a setpoint line and a KPI line').to.equal(2);
    expect(await card.getByRole('button', { name: 'Approve' }).isEnabled()).to.equal(true);
  }

  async function sign(page: Page, card: Locator, verdict: 'Approve' | 'Reject', reason: string, password: string): Promise<void> {
    await card.getByRole('button', { name: verdict }).click();
    const dialog = page.getByRole('dialog', { name: `${verdict} setpoint change` });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Meaning of the signature').inputValue()).to.match(
      verdict === 'Approve' ? /^Approved: / : /^Rejected: /,
    );
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByLabel('Password').fill(password);
    await dialog.getByRole('button', { name: `Sign and ${verdict.toLowerCase()}` }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    if (!chromium) return this.skip();
    tl = await startTwinloop();
    ledgerFile = join(tl.home, 'twinloop', 'ledger', 'demo-ledger.jsonl');
    expect(tl.logins).to.have.keys('admin', 'operator', 'supervisor', 'supervisor2', 'viewer');
    pki = mkdtempSync(join(tmpdir(), 'twinloop-demo-e2e-pki-'));
    const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
    client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 3 } });
    await client.connect(`opc.tcp://127.0.0.1:${tl.opcuaPort}/UA/TwinLoopSim`);
    session = await client.createSession();
    browser = await launchChromium(chromium);
  });

  after(async function () {
    for (const ctx of contexts) await ctx.close().catch(() => undefined);
    await browser?.close();
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    if (tl) await tl.stop();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  it('a supervisor approves the zone3_sp proposal; the simulator takes the new setpoint; the ledger and the History tab show it under that user', async function () {
    const page = await open();
    await logIn(page, 'supervisor');
    const { card, proposal: p } = await pendingProposal(page, 'zone3_sp');
    // the step test moved zone 3 between 215 and 219 degC: the twin proposes a hotter zone, within what it has seen
    expect(p).to.include({ asset: ASSET, tag: 'zone3_sp', unit: 'degC', currentValue: 215 });
    expect(p.proposedValue).to.be.above(215).and.at.most(p.fitRange.setpointMax);
    expect(p.proposedValue).to.be.at.most(219);
    await expectCardShows(card, p);
    expect(await readSetpoint('zone3_sp')).to.equal(215);

    const reason = 'Step test shows lower energy per kg at a hotter zone 3; quality holds';
    await sign(page, card, 'Approve', reason, tl!.logins.supervisor);

    // the ramp (at most 2 degC a step, 20 s dwell) reaches the simulator; every value seen lies on the way
    const seen: number[] = [];
    await waitFor(
      async () => {
        const v = await readSetpoint('zone3_sp');
        if (seen.at(-1) !== v) seen.push(v);
        return Math.abs(v - p.proposedValue) < 1e-3;
      },
      120_000,
      250,
      `zone3_sp read back from the simulator as ${p.proposedValue}`,
    );
    for (let i = 1; i < seen.length; i++) expect(seen[i], `ramp ${seen.join(' → ')}`).to.be.above(seen[i - 1]);
    expect(
      seen.every((v) => v >= 215 && v <= p.proposedValue + 1e-3),
      `ramp ${seen.join(' → ')}`,
    ).to.equal(true);

    // the ledger: the decision under the logged-in user, then the gate's commands and the writer's writes and read-backs
    const records = await waitFor(
      () => {
        const rs = ofProposal(p.id);
        const last = rs.filter((r) => r.type === 'readback').at(-1)?.data as { readBackValue?: number } | undefined;
        return last && Math.abs((last.readBackValue ?? NaN) - p.proposedValue) < 1e-3 ? rs : undefined;
      },
      30_000,
      200,
      'the final read-back in the ledger',
    );
    const decisions = records!.filter((r) => r.type === 'decision');
    expect(decisions).to.have.length(1);
    const d = decisions[0].data as Decision;
    expect(d).to.include({ verdict: 'approve', user: 'supervisor', printedName: PRINTED.supervisor, reason });
    expect(d.meaning).to.match(/^Approved: /);
    const after = records!.filter((r) => r.seq > decisions[0].seq);
    const commands = after.filter((r) => r.type === 'command');
    const writes = after.filter((r) => r.type === 'write');
    const readbacks = after.filter((r) => r.type === 'readback');
    expect(commands.length, 'one command per ramp step').to.be.at.least(1);
    expect((commands.at(-1)!.data as { value: number }).value).to.be.closeTo(p.proposedValue, 1e-6);
    expect(writes.map((r) => (r.data as { outcome: string }).outcome)).to.deep.equal(commands.map(() => 'written'));
    expect(readbacks.map((r) => (r.data as { readBackOk: boolean }).readBackOk)).to.deep.equal(commands.map(() => true));
    const readValues = readbacks.map((r) => (r.data as { readBackValue: number }).readBackValue);
    for (let i = 1; i < readValues.length; i++)
      expect(readValues[i], `read-backs ${readValues.join(' → ')}`).to.be.above(readValues[i - 1]);
    expect(readValues.at(-1)).to.be.closeTo(p.proposedValue, 1e-3);
    // what our own client saw on the way is what the writer read back
    for (const v of seen.slice(1)) expect(readValues, `read-backs ${readValues.join(', ')} hold ${v}`).to.include(v);
    expect(records!.find((r) => r.type === 'proposal')!.seq).to.be.below(decisions[0].seq);

    const verify = cliVerify(ledgerFile);
    expect(verify.status, `ledger verify: ${verify.out}`).to.equal(0);

    // the card leaves the pending list; the History tab shows the decision under that user, chain verified
    await page
      .locator('#ended')
      .getByRole('article', { name: `Proposal ${ASSET} / zone3_sp` })
      .filter({ hasText: 'Dana Reyes' })
      .waitFor();
    expect(await page.locator(`#proposals [data-proposal-id="${p.id}"]`).count()).to.equal(0);
    await page.getByRole('tab', { name: 'History' }).click();
    const history = page.getByRole('region', { name: /^History of .*approve zone3_sp/ });
    const row = history.getByRole('row').filter({ hasText: 'decision: approve' }).filter({ hasText: 'zone3_sp' });
    await row.waitFor();
    expect(await row.innerText())
      .to.include(who('supervisor'))
      .and.include(reason);
    expect(await row.getByRole('cell').first().innerText()).to.match(TIME);
    const chain = history.getByText(/Ledger chain verified: \d+ records intact \(demo-ledger\.jsonl\)$/);
    await chain.waitFor();
    expect(await chain.locator('[title]').getAttribute('title')).to.equal(ledgerFile);
    // the writer by its node's name in the demo flow, not its id
    const readback = history
      .getByRole('row')
      .filter({ hasText: 'read-back' })
      .filter({ hasText: `ok: ${fmt1(p.proposedValue)}` });
    expect(await readback.count()).to.be.at.least(1);
    expect(await readback.first().getByRole('cell').nth(3).innerText()).to.equal('write zone3_sp');
    // the writer's write-ahead records, when it keeps them, read as such
    if (records!.some((r) => r.type === 'write-intent')) {
      const intent = history
        .getByRole('row')
        .filter({ hasText: 'write intent' })
        .filter({ hasText: `about to write ${fmt1(p.proposedValue)}` });
      expect(await intent.first().getByRole('cell').nth(3).innerText()).to.equal('write zone3_sp');
    }
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'approvals-history.png') });
    }

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('form', { name: 'Log in' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Pending' }).isVisible()).to.equal(false);
    expect(errors).to.deep.equal([]);
  });

  it('a second supervisor rejects the zone2_sp proposal: recorded under their name, nothing written', async function () {
    const page = await open();
    await logIn(page, 'supervisor2');
    const { card, proposal: p } = await pendingProposal(page, 'zone2_sp');
    expect(p).to.include({ asset: ASSET, tag: 'zone2_sp', unit: 'degC', currentValue: 205 });
    expect(p.proposedValue).to.be.above(205).and.at.most(p.fitRange.setpointMax);
    await expectCardShows(card, p);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'approvals.png') });
    }

    const reason = 'Zone 2 stays at 205 degC until zone 3 has settled at its new setpoint';
    await sign(page, card, 'Reject', reason, tl!.logins.supervisor2);
    await page.locator('#ended').locator(`[data-proposal-id="${p.id}"]`).filter({ hasText: 'rejected' }).waitFor();

    const records = await waitFor(
      () => {
        const rs = ofProposal(p.id);
        return rs.some((r) => r.type === 'decision') ? rs : undefined;
      },
      10_000,
      100,
      'the reject decision in the ledger',
    );
    const decisions = records!.filter((r) => r.type === 'decision');
    expect(decisions).to.have.length(1);
    const d = decisions[0].data as Decision;
    expect(d).to.include({ verdict: 'reject', user: 'supervisor2', printedName: PRINTED.supervisor2, reason });
    expect(d.meaning).to.match(/^Rejected: /);
    expect(records!.filter((r) => ['command', 'write', 'readback'].includes(r.type))).to.deep.equal([]);
    expect(await readSetpoint('zone2_sp')).to.equal(205);

    const verify = cliVerify(ledgerFile);
    expect(verify.status, `ledger verify: ${verify.out}`).to.equal(0);
    expect(errors).to.deep.equal([]);
  });

  it('the bearing replacement window the twin chose from the wear is on the page; a supervisor approves it and a signed order is ledgered', async function () {
    const page = await open();
    await logIn(page, 'supervisor');
    const card = page.locator('#proposals').getByRole('article', { name: `Maintenance proposal ${ASSET}: gearbox bearing replacement` });
    await card.waitFor({ timeout: PROPOSAL_WAIT_MS });
    const id = await card.getAttribute('data-proposal-id');
    const rec = ofProposal(id!).find((r) => r.type === 'proposal');
    expect(rec, `maintenance proposal ${id} in the ledger`).to.not.equal(undefined);
    const p = rec!.data as MaintenanceProposal;
    // from the simulator's part-worn bearing through the shipped model: days left, with an interval
    expect(p.rul.rulP10Ms).to.be.at.most(p.rul.rulMs);
    expect(p.rul.rulP90Ms).to.be.at.least(p.rul.rulMs);
    expect(p.rul.rulMs / 86_400_000).to.be.within(2, 14);
    expect(p.window.timeZone).to.equal('Europe/Berlin');
    expect(p.window.endMs - p.window.startMs).to.equal(360 * 60_000);
    expect(p.window.startMs).to.be.above(Date.now());
    const text = await card.innerText();
    expect(text).to.include(p.window.why);
    expect(await card.getByLabel('Window', { exact: true }).innerText()).to.match(/Europe\/Berlin/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'approvals-maintenance.png') });

    await card.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve maintenance window' });
    await dialog.getByLabel('Reason').fill('Bearing parts in stock; window fits the plan');
    await dialog.getByLabel('Password').fill(tl!.logins.supervisor);
    await dialog.getByRole('button', { name: 'Sign and approve' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const records = await waitFor(
      () => {
        const rs = ofProposal(id!);
        return rs.some((r) => r.type === 'order') ? rs : undefined;
      },
      10_000,
      100,
      'the signed maintenance order in the ledger',
    );
    const decision = records!.find((r) => r.type === 'decision')!.data as Decision;
    expect(decision).to.include({ verdict: 'approve', user: 'supervisor', printedName: PRINTED.supervisor });
    const order = records!.find((r) => r.type === 'order')!.data as MaintenanceOrder;
    expect(order).to.include({ proposalId: id, asset: ASSET, startMs: p.window.startMs, endMs: p.window.endMs });
    expect(order.signature).to.match(/^[0-9a-f]{64}$/);
    const verify = cliVerify(ledgerFile);
    expect(verify.status, `ledger verify: ${verify.out}`).to.equal(0);
    expect(errors).to.deep.equal([]);
  });
});
