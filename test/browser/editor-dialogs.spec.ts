/**
 * The edit dialogs a controls engineer fills in, in Debian's Chromium against a real `twinloop start`:
 * durations as a number and a unit (stored in the field's base unit, `${ENV}` kept), the tariff and
 * the production calendar drawn as a week grid with the runtime's errors inline.
 */
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium, loginToEditor } from '../support/browser.js';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

type FlowNode = Record<string, unknown> & { id: string; type: string };

describe('browser: TwinLoop edit dialogs (units, week previews, inline errors)', function () {
  this.timeout(180_000);
  let tl: TwinloopProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const shots = process.env.TWINLOOP_SCREENSHOT_DIR;

  async function openNode(id: string): Promise<void> {
    await page.evaluate((nodeId: string) => (window as any).RED.editor.edit((window as any).RED.nodes.node(nodeId)), id);
    await page.waitForSelector('#node-dialog-ok', { state: 'visible', timeout: 60_000 });
  }

  async function deployedFlows(): Promise<FlowNode[]> {
    return page.evaluate(
      () =>
        new Promise<FlowNode[]>((resolve, reject) => {
          const $ = (window as any).$;
          $.ajax({ url: 'flows', dataType: 'json' })
            .done((r: FlowNode[] | { flows: FlowNode[] }) => resolve(Array.isArray(r) ? r : r.flows))
            .fail((xhr: { status: number }) => reject(new Error(`GET flows: ${xhr.status}`)));
        }),
    );
  }

  /** Set the text of the tariff dialog's code editor, as a paste would. */
  async function setTariffText(text: string): Promise<void> {
    await page.evaluate((t: string) => {
      const w = window as any;
      const host = document.querySelector('#node-config-input-tariff-editor')!;
      const monacoEd = w.monaco?.editor.getEditors().find((e: any) => host.contains(e.getContainerDomNode()));
      if (monacoEd) monacoEd.setValue(t);
      else w.ace.edit(host).setValue(t, -1);
    }, text);
  }

  /** The titles ('period 07:00–20:00') of the spans drawn on row `index` of a week grid. */
  async function rowTitles(grid: string, index: number): Promise<(string | null)[]> {
    return page.evaluate(
      ([sel, i]) => {
        const row = document.querySelectorAll(`${sel} .twinloop-week-row`)[i as number];
        return [...row.querySelectorAll('.twinloop-week-span')].map((s) => s.getAttribute('title'));
      },
      [grid, index] as const,
    );
  }

  before(async function () {
    const chromiumPath = ensureDebianBinary('chromium', 'chromium');
    if (!chromiumPath) return this.skip();
    tl = await startTwinloop([], { DLG_SAMPLING_MS: '500' });
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon|Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    await loginToEditor(page, tl.url, 'admin', tl.logins.admin);
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        return RED?.nodes?.getType && RED.nodes.getType('twin-propose') && (window as any).TwinLoopEditor;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.waitForFunction(
      () => {
        const loader = document.querySelector('#red-ui-loader') as HTMLElement | null;
        return (!loader || loader.offsetParent === null) && (window as any).RED.nodes.node('demo-propose-zone3');
      },
      undefined,
      { timeout: 60_000 },
    );
  });

  after(async function () {
    await browser?.close();
    await tl?.stop();
  });

  it('serves the one editor script from the package resources folder', async function () {
    const status = await page.evaluate(async () => (await fetch('resources/@twinloop/node-red-twin/twinloop-editor.js')).status);
    expect(status).to.equal(200);
  });

  it('shows 3 600 000 ms as 1 h; 15 min typed in is deployed as 900000; a ${ENV} value stays as it is', async function () {
    await openNode('demo-propose-zone3');
    expect(await page.inputValue('#node-input-windowMs-value')).to.equal('1');
    expect(await page.inputValue('#node-input-windowMs-unit')).to.equal('h');
    expect(await page.inputValue('#node-input-proposalTtlMs-value')).to.equal('15');
    expect(await page.inputValue('#node-input-proposalTtlMs-unit')).to.equal('min');
    expect(await page.isVisible('#node-input-windowMs'), 'the raw ms box is hidden').to.equal(false);
    await page.fill('#node-input-windowMs-value', '15');
    await page.selectOption('#node-input-windowMs-unit', 'min');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached', timeout: 60_000 });

    // A new twin-opcua-in whose sampling interval comes from the environment, as in the prebuilt flows.
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.view.importNodes(
        [
          {
            id: 'dlg-opcua-in',
            type: 'twin-opcua-in',
            x: 300,
            y: 700,
            z: RED.workspaces.active(),
            name: 'env sampling',
            endpoint: 'demo-opcua-endpoint',
            samplingIntervalMs: '${DLG_SAMPLING_MS}',
            maxFutureMs: 5000,
            deadband: 0,
            queueSize: 1,
            items: [
              { nodeId: 'ns=1;s=extruder.zone1_temp', asset: 'demo/plant1/extrusion/line1/extruder', tag: 'zone1_temp', unit: 'degC' },
            ],
          },
        ],
        { generateIds: false, addFlow: false },
      );
    });
    await openNode('dlg-opcua-in');
    expect(await page.inputValue('#node-input-samplingIntervalMs-value')).to.equal('${DLG_SAMPLING_MS}');
    expect(await page.isVisible('#node-input-samplingIntervalMs-unit'), 'no unit beside ${ENV}').to.equal(false);
    expect((await page.getAttribute('#node-input-samplingIntervalMs-value', 'class')) ?? '').to.not.contain('input-error');
    expect(await page.inputValue('#node-input-maxFutureMs-value')).to.equal('5');
    expect(await page.inputValue('#node-input-maxFutureMs-unit')).to.equal('s');
    // A value that is no duration is marked on the box a person sees.
    await page.fill('#node-input-maxFutureMs-value', 'soon');
    await page.waitForSelector('#node-input-maxFutureMs-value.input-error', { timeout: 5000 });
    await page.fill('#node-input-maxFutureMs-value', '250');
    await page.selectOption('#node-input-maxFutureMs-unit', 'ms');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached', timeout: 60_000 });
    const validity = await page.evaluate(() => {
      const n = (window as any).RED.nodes.node('dlg-opcua-in');
      return { valid: n.valid, errors: n.validationErrors ?? [] };
    });
    expect(validity, 'the node with ${ENV} and 250 ms is valid').to.deep.equal({ valid: true, errors: [] });

    await page.click('#red-ui-header-button-deploy');
    const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
    await Promise.race([
      confirm
        .waitFor({ state: 'visible', timeout: 10_000 })
        .then(() => confirm.click())
        .catch(() => undefined),
      page.waitForFunction(() => !(window as any).RED.nodes.dirty(), undefined, { timeout: 10_000 }).catch(() => undefined),
    ]);
    await page.waitForFunction(() => !(window as any).RED.nodes.dirty(), undefined, { timeout: 30_000 });

    const flows = await deployedFlows();
    const propose = flows.find((n) => n.id === 'demo-propose-zone3')!;
    expect(propose.windowMs).to.equal('900000');
    expect(propose.proposalTtlMs, 'a field left alone keeps its value').to.equal(900000);
    const opcuaIn = flows.find((n) => n.id === 'dlg-opcua-in')!;
    expect(opcuaIn.samplingIntervalMs).to.equal('${DLG_SAMPLING_MS}');
    expect(opcuaIn.maxFutureMs).to.equal('250');
    expect(pageErrors).to.deep.equal([]);
  });

  it('twin-ledger shows the NATS JetStream fields only for that storage, and marks a bad line id', async function () {
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'twin-ledger', 'demo-ledger'));
    await page.waitForSelector('#node-config-input-storage', { state: 'visible', timeout: 60_000 });
    expect(await page.inputValue('#node-config-input-storage'), 'a flow without the field is a file ledger').to.equal('file');
    expect(await page.isVisible('#node-config-input-path')).to.equal(true);
    for (const f of ['servers', 'line', 'replicas', 'waitS', 'natsUser', 'natsPassword']) {
      expect(await page.isVisible(`#node-config-input-${f}`), `${f} hidden for a file`).to.equal(false);
    }
    await page.selectOption('#node-config-input-storage', 'jetstream');
    for (const f of ['servers', 'line', 'replicas', 'waitS', 'natsUser', 'natsPassword']) {
      expect(await page.isVisible(`#node-config-input-${f}`), `${f} shown for JetStream`).to.equal(true);
    }
    expect(await page.isVisible('#node-config-input-path'), 'the file path is hidden for JetStream').to.equal(false);
    expect(await page.getAttribute('#node-config-input-natsPassword', 'type')).to.equal('password');
    await page.fill('#node-config-input-servers', 'nats://127.0.0.1:4222');
    await page.fill('#node-config-input-line', 'site/line-without-area');
    await page.dispatchEvent('#node-config-input-line', 'change');
    await page.waitForSelector('#node-config-input-line.input-error', { timeout: 5000 });
    await page.fill('#node-config-input-line', 'plant1/extrusion/line1');
    await page.dispatchEvent('#node-config-input-line', 'change');
    await page.waitForFunction(() => !document.querySelector('#node-config-input-line')!.classList.contains('input-error'), undefined, {
      timeout: 5000,
    });
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#node-config-input-storage', { state: 'detached', timeout: 60_000 });
    expect(pageErrors).to.deep.equal([]);
  });

  it("the envelope's plant connection is a list of the OPC UA endpoints and MQTT brokers by name, the deployed one chosen", async function () {
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'twin-envelope', 'demo-envelope-zone3_sp'));
    await page.waitForSelector('#node-config-input-source', { state: 'visible', timeout: 60_000 });
    const options = await page.$$eval('#node-config-input-source option', (os) =>
      os.map((o) => [(o as HTMLOptionElement).value, o.textContent]),
    );
    expect(options).to.deep.include.members([
      ['demo-opcua-endpoint', 'OPC UA: plant simulator'],
      ['demo-broker', 'MQTT: site broker'],
    ]);
    expect(await page.inputValue('#node-config-input-source')).to.equal('demo-opcua-endpoint');
    expect(await page.textContent('label[for="node-config-input-source"]')).to.contain('Plant connection');
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#node-config-input-source', { state: 'detached', timeout: 60_000 });
    expect(pageErrors).to.deep.equal([]);
  });

  it('shows other base units the same way: minutes (maintenance job 360 min = 6 h), seconds (estimate τ 120 s = 2 min)', async function () {
    await openNode('demo-estimate');
    expect([await page.inputValue('#node-input-tauS-value'), await page.inputValue('#node-input-tauS-unit')]).to.deep.equal(['2', 'min']);
    expect([await page.inputValue('#node-input-maxGapMs-value'), await page.inputValue('#node-input-maxGapMs-unit')]).to.deep.equal([
      '5',
      'min',
    ]);
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-cancel', { state: 'detached', timeout: 60_000 });
  });

  it('draws the production calendar as a week of shifts and planned stops, and names a bad calendar beside it', async function () {
    await openNode('demo-maintenance');
    expect([
      await page.inputValue('#node-input-jobDurationMin-value'),
      await page.inputValue('#node-input-jobDurationMin-unit'),
    ]).to.deep.equal(['6', 'h']);
    await page.waitForFunction(() => document.querySelectorAll('#node-input-calendar-week .twinloop-week-row').length === 7, undefined, {
      timeout: 60_000,
    });
    const week = await page.evaluate(() =>
      [...document.querySelectorAll('#node-input-calendar-week .twinloop-week-row')].map((row) => ({
        day: row.firstElementChild!.textContent,
        shifts: [...row.querySelectorAll('.twinloop-week-span')].map((s) => s.getAttribute('data-key')),
        stops: row.querySelectorAll('.twinloop-week-stop').length,
      })),
    );
    expect(week.map((d) => d.day)).to.deep.equal(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    const calendar = JSON.parse(await page.inputValue('#node-input-calendar'));
    const firstShift: string = calendar.shifts[0].name;
    expect(week[0].shifts, 'Monday shows the shifts of the calendar').to.include(firstShift);
    expect(await page.isVisible('#node-input-calendar-error')).to.equal(false);
    if (shots) {
      mkdirSync(shots, { recursive: true });
      // the calendar text and the week drawn under it
      await page.locator('#node-input-calendar-week').scrollIntoViewIfNeeded();
      const top = (await page.locator('#node-input-calendar').boundingBox())!;
      const bottom = (await page.locator('#node-input-calendar-week').boundingBox())!;
      const y = Math.max(0, top.y - 10);
      await page.screenshot({
        path: join(shots, 'editor-calendar-week.png'),
        clip: { x: Math.max(0, bottom.x - 5), y, width: bottom.width + 10, height: bottom.y + bottom.height + 10 - y },
      });
    }

    const overlapping = { ...calendar, week: { ...calendar.week, mon: [firstShift, firstShift] } };
    await page.fill('#node-input-calendar', JSON.stringify(overlapping, null, 2));
    await page.waitForSelector('#node-input-calendar-error:visible', { timeout: 60_000 });
    expect(await page.textContent('#node-input-calendar-error')).to.contain(`week.mon lists shift '${firstShift}' twice`);
    await page.fill('#node-input-calendar', '{ "shifts": [');
    await page.waitForFunction(
      () => /not valid JSON/.test(document.querySelector('#node-input-calendar-error')!.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-cancel', { state: 'detached', timeout: 60_000 });
  });

  it('draws the tariff as a week of price periods per season, and names overlapping periods and bad JSON inline', async function () {
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'twin-tariff', '_ADD_'));
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible', timeout: 60_000 });
    await page.waitForFunction(() => document.querySelectorAll('#node-config-tariff-week .twinloop-week-row').length === 8, undefined, {
      timeout: 60_000,
    });
    const seasons = await page.$$eval('#node-config-tariff-seasons button', (bs) => bs.map((b) => b.textContent));
    expect(seasons).to.deep.equal(['winter', 'summer']);
    const monday = await rowTitles('#node-config-tariff-week', 0);
    expect(monday).to.deep.equal(['offpeak 00:00–07:00', 'peak-winter 07:00–20:00', 'offpeak 20:00–24:00']);
    const sunday = await rowTitles('#node-config-tariff-week', 6);
    expect(sunday).to.deep.equal(['weekend 00:00–24:00']);
    if (shots) await page.locator('#node-config-dialog-edit-form').screenshot({ path: join(shots, 'editor-tariff-week.png') });
    await page.click('#node-config-tariff-seasons button:nth-child(2)');
    const summerMonday = await rowTitles('#node-config-tariff-week', 0);
    expect(summerMonday).to.deep.equal(['offpeak 00:00–08:00', 'peak-summer 08:00–20:00', 'offpeak 20:00–24:00']);

    const tariff = {
      timeZone: 'Europe/Berlin',
      periods: [
        { name: 'peak', priceEurPerKwh: 0.3, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromHour: 8, toHour: 20 }] },
        { name: 'shoulder', priceEurPerKwh: 0.25, windows: [{ days: ['mon'], fromHour: 18, toHour: 22 }] },
        { name: 'offpeak', priceEurPerKwh: 0.2 },
      ],
      defaultPeriod: 'offpeak',
    };
    await setTariffText(JSON.stringify(tariff, null, 2));
    await page.waitForSelector('#node-config-tariff-error:visible', { timeout: 60_000 });
    const error = await page.textContent('#node-config-tariff-error');
    expect(error).to.contain("periods overlap: 'peak' window 1 and 'shoulder' window 1 both cover on mon 18:00–20:00");
    // the line link points at the period the runtime names first
    expect(await page.textContent('#node-config-tariff-error a')).to.equal('line 5:');
    if (shots) await page.locator('#node-config-dialog-edit-form').screenshot({ path: join(shots, 'editor-tariff-error.png') });

    await setTariffText('{ "timeZone": "Europe/Berlin", "periods": [ }');
    await page.waitForFunction(
      () => /not valid JSON/.test(document.querySelector('#node-config-tariff-error')!.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );

    tariff.periods[1].windows![0].fromHour = 20;
    await setTariffText(JSON.stringify(tariff, null, 2));
    await page.waitForSelector('#node-config-tariff-error', { state: 'hidden', timeout: 60_000 });
    const fixed = await rowTitles('#node-config-tariff-week', 0);
    expect(fixed).to.deep.equal(['offpeak 00:00–08:00', 'peak 08:00–20:00', 'shoulder 20:00–22:00', 'offpeak 22:00–24:00']);
    await page.click('#node-config-dialog-cancel');
    expect(pageErrors).to.deep.equal([]);
  });
});
