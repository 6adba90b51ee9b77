/**
 * Acknowledge and shelve on the overview page, in Debian's Chromium. A real Node-RED (child process,
 * test/support/alarm-server.ts) runs a real twin-alarm with its defaults and a real twin-ledger; the
 * spec posts readings in which melt_temp runs away, so the node raises one alarm, and a drift event
 * on the same tag to the twin-overview. An operator (twinloop.ack) logs in, sees the alarm on
 * /twinloop/overview with the drift detector's classification, acknowledges it: the state changes,
 * and the ledger holds the action under the operator's login. The operator is offered no Shelve, and
 * the server refuses a shelve the operator sends anyway, and any action from a viewer. A supervisor
 * (twinloop.shelve) shelves it for 2 hours with a reason: it shows as shelved, by whom and until
 * when, and the ledger holds it with the reason and the end. Out-of-bounds shelving is refused.
 * Unshelving brings the alarm back, annunciated afresh (its condition still stands).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium } from '../support/browser.js';
import { login } from '../support/approvals-gate.js';
import { ALARM_NODE_ID, ALARM_USERS, startAlarmServer, type AlarmServer } from '../support/alarm-server.js';
import { ALARM_T0, meltReadings } from '../support/alarm-data.js';
import { waitFor } from '../support/ports.js';

const ASSET = 'acme/plant1/line1/extruder';
const ALARM_ID = `${ASSET}/melt_temp`;
const pw = (u: string) => ALARM_USERS.find((x) => x.username === u)!.password;

interface Row {
  alarmId: string;
  state: string;
  ackedBy?: { user: string };
  shelvedBy?: { user: string; reason: string };
}

describe('browser: acknowledge and shelve alarms on the overview page', function () {
  this.timeout(180_000);
  let srv: AlarmServer | undefined;
  let browser: Browser | undefined;
  const tokens: Record<string, string> = {};
  const errors: string[] = [];

  const api = async (user: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[user]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) };
    const res = await fetch(`${srv!.url}twinloop/overview/api/${path}`, init);
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const alarm = async (): Promise<Row | undefined> =>
    ((await api('viewer', 'data')).body.alarms as Row[]).find((a) => a.alarmId === ALARM_ID);
  /** The ledger's alarm records (the file the twin-ledger writes, one JSON record a line). */
  const ledger = (): Array<{ type: string; asset: string; tag: string; data: Record<string, any> }> => {
    let text = '';
    try {
      text = readFileSync(srv!.ledgerFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'alarm');
  };

  async function open(user: string): Promise<Page> {
    const ctx = await browser!.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon|status of 40[139]/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${srv!.url}twinloop/overview`);
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill(user);
    await form.getByLabel('Password').fill(pw(user));
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#who').getByText(`logged in as ${user}`, { exact: true }).waitFor();
    return page;
  }
  const row = (page: Page) => page.locator(`#alarms li[data-alarm-id="${ALARM_ID}"]`);

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    if (!chromium) return this.skip();
    srv = await startAlarmServer();
    for (const u of ALARM_USERS) tokens[u.username] = await login(srv.url, u.username, u.password);
    const registered = async () =>
      ((await api('viewer', 'data')).body.alarmSources ?? []).some((s: { id: string }) => s.id === ALARM_NODE_ID);
    await waitFor(registered, 30_000, 100, 'twin-alarm registered');
    // 770 readings at 1 Hz event time: the runaway's condition holds from reading ~636 on; the 120 s on-delay raises it by 770
    const res = await fetch(`${srv.url}api/test/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(meltReadings(ASSET, 0, 770)),
    });
    expect(res.status).to.equal(204);
    await waitFor(async () => (await alarm())?.state === 'unack-active', 30_000, 200, 'the melt_temp alarm raised');
    // twin-drift's verdict on the same tag around the alarm's start, as the overview receives it
    const related = [
      { tag: 'melt_pressure', change: 0.1, changeSigma: 0.2, moved: false },
      { tag: 'zone3_temp', change: 0, changeSigma: 0, moved: false },
    ];
    const drift = {
      asset: ASSET,
      tag: 'melt_temp',
      tsMs: ALARM_T0 + 660_000,
      startTsMs: ALARM_T0 + 630_000,
      kind: 'sensor-fault',
      faultType: 'drift',
      method: 'adwin',
      direction: 'up',
      magnitude: 9.5,
      quality: 'good',
      evidence: { related },
    };
    const json = { 'content-type': 'application/json' };
    const rec = await fetch(`${srv.url}api/test/overview`, { method: 'POST', headers: json, body: JSON.stringify(drift) });
    expect(rec.status).to.equal(204);
    browser = await launchChromium(chromium);
  });

  after(async function () {
    await browser?.close();
    await srv?.stop();
  });

  afterEach(function () {
    expect(errors, errors.join('\n')).to.deep.equal([]);
  });

  it('refuses the alarm API without a login', async function () {
    const res = await fetch(`${srv!.url}twinloop/overview/api/alarm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sourceId: ALARM_NODE_ID, alarmId: ALARM_ID, action: 'ack' }),
    });
    expect(res.status).to.equal(401);
  });

  it('an operator sees the alarm and acknowledges it; the ledger records who', async function () {
    const page = await open('operator');
    const r = row(page);
    await r.waitFor();
    expect(await r.getAttribute('data-state')).to.equal('unack-active');
    expect(await r.getAttribute('data-priority')).to.match(/^(medium|high)$/);
    expect(await r.locator('.state').textContent()).to.equal('active, unacknowledged');
    const message = /^melt_temp: unusual for its own history \(score (\d+\.\d|≥ 100), 1 = threshold\)$/;
    expect(await r.locator('.msg').textContent()).to.match(message);
    expect(await r.textContent()).to.match(/since \d\d:\d\d:\d\d/);
    // the drift detector's classification of the same tag, with its evidence
    await r.locator('.cls').waitFor();
    expect(await r.locator('.cls').textContent()).to.match(
      /^Likely: sensor fault \(drift\) \(drift adwin at \d\d:\d\d:\d\d\); did not move: melt_pressure, zone3_temp$/,
    );
    expect(await page.locator('#alarm-rights').textContent()).to.contain('you may acknowledge.');
    // an operator is offered no shelving
    expect(await r.getByRole('button', { name: /^Shelve/ }).count()).to.equal(0);

    await r.getByRole('button', { name: 'Acknowledge melt_temp' }).click();
    await page.locator('#alarm-result').getByText('Acknowledged melt_temp as operator.').waitFor();
    await waitFor(async () => (await r.getAttribute('data-state')) === 'ack-active', 10_000, 100, 'the row to show ack-active');
    expect(await r.locator('.state').textContent()).to.equal('active, acknowledged');
    expect(await r.textContent()).to.match(/acknowledged by operator at \d\d:\d\d:\d\d/);
    expect(await r.getByRole('button', { name: 'Acknowledge melt_temp' }).count(), 'nothing left to acknowledge').to.equal(0);

    const a = (await alarm())!;
    expect(a.state).to.equal('ack-active');
    expect(a.ackedBy!.user).to.equal('operator');
    const recs = ledger();
    expect(recs.map((x) => [x.data.kind, x.data.user, x.data.via, x.asset, x.tag])).to.deep.equal([
      ['acked', 'operator', 'page', ASSET, 'melt_temp'],
    ]);
    expect(recs[0].data.episodeId).to.equal(`${ALARM_ID}#1`);
    expect(recs[0].data.state).to.equal('ack-active');
    await page.context().close();
  });

  it('the server refuses shelving by an operator and any action by a viewer, whatever the page shows', async function () {
    const shelve = { sourceId: ALARM_NODE_ID, alarmId: ALARM_ID, action: 'shelve', durationMs: 3_600_000, reason: 'trying' };
    const op = await api('operator', 'alarm', shelve);
    expect(op.status).to.equal(403);
    expect(op.body.error).to.equal('user operator may not shelve or unshelve alarms: that needs the permission twinloop.shelve');
    const v = await api('viewer', 'alarm', { sourceId: ALARM_NODE_ID, alarmId: ALARM_ID, action: 'ack' });
    expect(v.status).to.equal(403);
    expect(v.body.error).to.equal('user viewer may not acknowledge alarms: that needs the permission twinloop.ack');
    // a viewer's page offers no buttons at all
    const page = await open('viewer');
    await row(page).waitFor();
    expect(await row(page).getByRole('button').count()).to.equal(0);
    expect(await page.locator('#alarm-rights').textContent()).to.contain('you may look only.');
    await page.context().close();
    expect((await alarm())!.state, 'nothing changed').to.equal('ack-active');
    expect(ledger()).to.have.length(1);
  });

  it('refuses shelving beyond the longest time, without a reason, or as a form post', async function () {
    const base = { sourceId: ALARM_NODE_ID, alarmId: ALARM_ID, action: 'shelve' };
    const long = await api('supervisor', 'alarm', { ...base, durationMs: 13 * 3_600_000, reason: 'weekend' });
    expect(long.status).to.equal(400);
    expect(long.body.error).to.equal('shelve for at most 12 h (shelving is time-limited)');
    const noReason = await api('supervisor', 'alarm', { ...base, durationMs: 3_600_000, reason: '  ' });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error).to.equal('a reason is required to shelve (it is recorded)');
    const form = await fetch(`${srv!.url}twinloop/overview/api/alarm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.supervisor}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `sourceId=${ALARM_NODE_ID}&alarmId=${encodeURIComponent(ALARM_ID)}&action=shelve&durationMs=3600000&reason=x`,
    });
    expect(form.status).to.equal(415);
    expect((await alarm())!.state).to.equal('ack-active');
    expect(ledger()).to.have.length(1);
  });

  it('a supervisor shelves it for 2 hours with a reason; it shows shelved and the ledger records it', async function () {
    const page = await open('supervisor');
    const r = row(page);
    await r.waitFor();
    expect(await page.locator('#alarm-rights').textContent()).to.contain('you may acknowledge, shelve and unshelve.');
    await r.getByRole('button', { name: 'Shelve melt_temp…' }).click();
    const form = r.getByRole('form', { name: 'Shelve melt_temp' });
    expect(await form.textContent()).to.contain('at most 12 h');
    // the page checks the bound too before it sends anything
    await form.getByLabel('Shelve for').fill('13');
    await form.getByLabel('Reason').fill('sensor being replaced');
    await form.getByRole('button', { name: 'Shelve', exact: true }).click();
    await page.locator('#alarm-error').getByText('Shelve for at most 12 h: shelving is time-limited.').waitFor();
    expect(ledger()).to.have.length(1);

    await form.getByLabel('Shelve for').fill('2');
    expect(await form.getByLabel('Unit').inputValue()).to.equal('3600000');
    const before = Date.now();
    await form.getByRole('button', { name: 'Shelve', exact: true }).click();
    await page.locator('#alarm-result').getByText('Shelved for 2 h: melt_temp as supervisor.').waitFor();
    await waitFor(async () => (await r.getAttribute('data-state')) === 'shelved', 10_000, 100, 'the row to show shelved');
    expect(await r.locator('.state').textContent()).to.equal('shelved');
    expect(await r.textContent()).to.match(/shelved by supervisor until \d\d:\d\d:\d\d: sensor being replaced/);
    expect(await r.getByRole('button', { name: 'Unshelve melt_temp…' }).count()).to.equal(1);

    const a = (await alarm())!;
    expect(a.state).to.equal('shelved');
    expect(a.shelvedBy).to.include({ user: 'supervisor', reason: 'sensor being replaced' });
    const recs = ledger();
    expect(recs).to.have.length(2);
    const s = recs[1].data;
    expect([s.kind, s.user, s.reason, s.via, s.state]).to.deep.equal(['shelved', 'supervisor', 'sensor being replaced', 'page', 'shelved']);
    // the end is 2 h after the action on the alarm clock (the page's duration, not a wall epoch it sent)
    expect(s.untilTsMs - s.tsMs).to.be.within(2 * 3_600_000 - (Date.now() - before) - 1000, 2 * 3_600_000);

    // unshelved with a reason: the condition still stands, so it annunciates afresh
    await r.getByRole('button', { name: 'Unshelve melt_temp…' }).click();
    const un = r.getByRole('form', { name: 'Unshelve melt_temp' });
    await un.getByLabel('Reason').fill('sensor replaced');
    await un.getByRole('button', { name: 'Unshelve', exact: true }).click();
    await waitFor(async () => (await r.getAttribute('data-state')) === 'unack-active', 10_000, 100, 'the row to show unack-active again');
    const last = ledger()[2].data;
    expect([last.kind, last.user, last.reason, last.via]).to.deep.equal(['unshelved', 'supervisor', 'sensor replaced', 'page']);
    await page.context().close();
  });
});
