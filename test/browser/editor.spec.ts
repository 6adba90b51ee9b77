/**
 * The Node-RED editor of `twinloop start`, in Debian's Chromium: every TwinLoop node is in the
 * palette (or, for config nodes, registered), and opening each node's edit dialog raises no page error.
 */
import { expect } from 'chai';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium, loginToEditor } from '../support/browser.js';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const TYPES: string[] = Object.keys(pkg['node-red'].nodes);

describe('browser: the Node-RED editor with TwinLoop', function () {
  this.timeout(180_000);
  let tl: TwinloopProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    const chromiumPath = ensureDebianBinary('chromium', 'chromium');
    if (!chromiumPath) return this.skip();
    tl = await startTwinloop();
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon|Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    await loginToEditor(page, tl.url, 'admin', tl.logins.admin);
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        return RED?.nodes?.getType && RED.nodes.getType('inject') && document.querySelector('.red-ui-palette-node');
      },
      undefined,
      { timeout: 60_000 },
    );
    // The editor adds the deployed demo flow to the workspace after the palette: wait until it is drawn.
    await page.waitForFunction(
      () => {
        const loader = document.querySelector('#red-ui-loader') as HTMLElement | null;
        return (
          (!loader || loader.offsetParent === null) &&
          document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-group').length > 0
        );
      },
      undefined,
      { timeout: 60_000 },
    );
  });

  after(async function () {
    await browser?.close();
    await tl?.stop();
  });

  it('registers every TwinLoop node type and shows the flow nodes in the twinloop palette category', async function () {
    const found = await page.evaluate((types: string[]) => {
      const RED = (window as any).RED;
      return types.map((t) => {
        const def = RED.nodes.getType(t);
        return {
          type: t,
          registered: !!def,
          category: def?.category,
          inPalette: !!document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`),
        };
      });
    }, TYPES);
    for (const f of found) {
      expect(f.registered, `${f.type} registered in the editor`).to.equal(true);
      if (f.category === 'config') continue;
      expect(f.category, `${f.type} category`).to.equal('twinloop');
      expect(f.inPalette, `${f.type} in the palette`).to.equal(true);
    }
    expect(found.filter((f) => f.category !== 'config').length).to.be.greaterThan(0);
  });

  it('draws the demo flow, whose TwinLoop nodes report a green (working) status', async function () {
    const demoTypes = await page.evaluate(() => {
      const types = new Set<string>();
      (window as any).RED.nodes.eachNode((n: any) => {
        if (String(n.type).startsWith('twin-')) types.add(n.type);
      });
      return [...types].sort();
    });
    expect(demoTypes).to.include.members(['twin-mqtt-in', 'twin-mqtt-out', 'twin-opcua-in', 'twin-screen', 'twin-estimate', 'twin-drift']);
    // No red triangles: every TwinLoop node of the demo is valid (the editor accepts `${ENV}` values as such).
    const invalid = await page.evaluate(() => {
      const RED = (window as any).RED;
      const ids = [
        'demo-opcua-endpoint',
        'demo-broker',
        'demo-opcua-in',
        'demo-screen-opcua',
        'demo-mqtt-out',
        'demo-mqtt-in-json',
        'demo-mqtt-in-spb',
        'demo-estimate',
        'demo-drift',
        'demo-mqtt-out-analytics',
      ];
      return ids.filter((id) => RED.nodes.node(id)?.valid !== true);
    });
    expect(invalid, 'demo nodes the editor marks invalid').to.deep.equal([]);
    // Statuses arrive over the editor's comms once the nodes connect to the simulator and the broker.
    await page.waitForFunction(
      () => {
        const ids = ['demo-opcua-in', 'demo-mqtt-in-json', 'demo-screen-opcua'];
        return ids.every((id) => (window as any).RED.nodes.node(id)?.status?.fill === 'green');
      },
      undefined,
      { timeout: 60_000 },
    );
    if (process.env.TWINLOOP_SCREENSHOT_DIR) {
      await page.waitForTimeout(3000);
      mkdirSync(process.env.TWINLOOP_SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(process.env.TWINLOOP_SCREENSHOT_DIR, 'editor-demo.png') });
    }
  });

  it("twin-reading: each field is a typedInput with today's defaults; Done saves the types picked", async function () {
    await page.evaluate(() => {
      const RED = (window as any).RED;
      // as the palette makes it: every property at its editor default
      const defaults = RED.nodes.getType('twin-reading').defaults;
      const fresh = Object.fromEntries(Object.keys(defaults).map((k) => [k, defaults[k].value]));
      Object.assign(fresh, { id: RED.nodes.id(), type: 'twin-reading', x: 300, y: 400, z: RED.workspaces.active() });
      const imported = RED.view.importNodes([fresh], { generateIds: true, addFlow: false });
      const node = imported?.nodes?.[0] ?? RED.nodes.filterNodes({ type: 'twin-reading' }).pop();
      (window as any).__reading = node;
      RED.editor.edit(node);
    });
    await page.waitForSelector('#node-dialog-ok', { state: 'visible', timeout: 15_000 });
    await page.waitForSelector('#node-input-time + .red-ui-typedInput-container', { state: 'attached', timeout: 15_000 });
    await page.waitForTimeout(500);
    const opened = await page.evaluate(() => {
      const $ = (window as any).$;
      // no named helper: tsx would wrap it in __name(), which the page does not have
      return Object.fromEntries(
        ['value', 'asset', 'tag', 'time', 'quality', 'output'].map((id) => [
          id,
          [String($(`#node-input-${id}`).typedInput('type')), String($(`#node-input-${id}`).typedInput('value'))],
        ]),
      );
    });
    expect(opened).to.deep.equal({
      value: ['msg', 'payload'],
      asset: ['str', ''],
      tag: ['msg', 'topic'],
      time: ['date', ''],
      quality: ['str', ''],
      output: ['msg', 'payload'],
    });
    await page.evaluate(() => {
      const $ = (window as any).$;
      $('#node-input-asset').typedInput('value', 'acme/plant1/line1/extruder');
      $('#node-input-tag').typedInput('type', 'jsonata');
      $('#node-input-tag').typedInput('value', '$split(topic, "/")[-1]');
      $('#node-input-time').typedInput('type', 'msg');
      $('#node-input-time').typedInput('value', 'sourceTimestamp');
    });
    await page.click('#node-dialog-ok');
    await page.waitForTimeout(300);
    const saved = await page.evaluate(() => {
      const n = (window as any).__reading;
      return [n.asset, n.assetType, n.tag, n.tagType, n.time, n.timeType, n.valueType].map(String);
    });
    expect(saved).to.deep.equal([
      'acme/plant1/line1/extruder',
      'str',
      '$split(topic, "/")[-1]',
      'jsonata',
      'sourceTimestamp',
      'msg',
      'msg',
    ]);
    expect(pageErrors).to.deep.equal([]);
  });

  it('twin-alarm: durations in units (settling 10 min, on-delay 30 s, … shelving 1 h … 12 h); Done saves ms, the known inputs and the rows', async function () {
    await page.evaluate(() => {
      const RED = (window as any).RED;
      const defaults = RED.nodes.getType('twin-alarm').defaults;
      const fresh = Object.fromEntries(Object.keys(defaults).map((k) => [k, defaults[k].value]));
      Object.assign(fresh, { id: RED.nodes.id(), type: 'twin-alarm', x: 300, y: 500, z: RED.workspaces.active() });
      const imported = RED.view.importNodes([fresh], { generateIds: true, addFlow: false });
      const node = imported?.nodes?.[0] ?? RED.nodes.filterNodes({ type: 'twin-alarm' }).pop();
      (window as any).__alarm = node;
      RED.editor.edit(node);
    });
    await page.waitForSelector('#node-dialog-ok', { state: 'visible', timeout: 15_000 });
    await page.waitForSelector('#node-input-onDelayMs-value', { state: 'attached', timeout: 15_000 });
    await page.waitForTimeout(500);
    const shown = await page.evaluate(() => {
      const $ = (window as any).$;
      const durations = [
        'settleMs',
        'onDelayMs',
        'baselineOnDelayMs',
        'offDelayMs',
        'chatterWindowMs',
        'releaseMs',
        'defaultShelveMs',
        'maxShelveMs',
      ];
      return [
        ...durations.map((f) => `${$(`#node-input-${f}-value`).val()} ${$(`#node-input-${f}-unit`).val()}`),
        $('#node-input-knownInputs').val(),
        $('#node-input-groupConsequential').prop('checked'),
      ];
    });
    expect(shown).to.deep.equal([
      '10 min',
      '30 s',
      '2 min',
      '1 min',
      '1 min',
      '10 min',
      '1 h',
      '12 h',
      '*_sp, *_SP, *.SP, *_setpoint, *Setpoint',
      true,
    ]);
    await page.evaluate(() => {
      const $ = (window as any).$;
      $('#node-input-onDelayMs-value').val('45').trigger('input');
      $('#node-input-settleMs-value').val('5').trigger('input');
      $('#node-input-knownInputs').val('*_sp, recipe_id');
      $('#node-input-groupConsequential').prop('checked', false);
      $('#node-input-roots-container').editableList('addItem', { id: 'acme/p1/line1/line_stop', children: 'acme/p1/line1/*' });
      $('#node-input-consequences-container').editableList('addItem', { id: 'acme/p1/line1/extruder/melt_temp', consequence: 'severe' });
    });
    await page.click('#node-dialog-ok');
    await page.waitForTimeout(300);
    const saved = await page.evaluate(() => {
      const n = (window as any).__alarm;
      return {
        onDelayMs: String(n.onDelayMs),
        settleMs: String(n.settleMs),
        knownInputs: n.knownInputs,
        groupConsequential: n.groupConsequential,
        roots: n.roots,
        consequences: n.consequences,
      };
    });
    expect(saved).to.deep.equal({
      onDelayMs: '45000',
      settleMs: '300000',
      knownInputs: '*_sp, recipe_id',
      groupConsequential: false,
      roots: [{ id: 'acme/p1/line1/line_stop', children: 'acme/p1/line1/*' }],
      consequences: [{ id: 'acme/p1/line1/extruder/melt_temp', consequence: 'severe' }],
    });
    expect(pageErrors).to.deep.equal([]);
  });

  for (const type of TYPES) {
    it(`opens and cancels the edit dialog of ${type} without a page error`, async function () {
      const before = pageErrors.length;
      const isConfig = await page.evaluate((t: string) => (window as any).RED.nodes.getType(t).category === 'config', type);
      if (isConfig) {
        await page.evaluate((t: string) => (window as any).RED.editor.editConfig('', t, '_ADD_'), type);
        await page.waitForSelector('#node-config-dialog-cancel', { state: 'visible', timeout: 15_000 });
        await page.waitForTimeout(500);
        await page.click('#node-config-dialog-cancel');
      } else {
        await page.evaluate((t: string) => {
          const RED = (window as any).RED;
          const [node] =
            RED.view.importNodes([{ id: RED.nodes.id(), type: t, x: 300, y: 300, z: RED.workspaces.active() }], {
              generateIds: true,
              addFlow: false,
            }).nodes ?? [];
          RED.editor.edit(node ?? RED.nodes.filterNodes({ type: t }).pop());
        }, type);
        await page.waitForSelector('#node-dialog-cancel', { state: 'visible', timeout: 15_000 });
        await page.waitForTimeout(500);
        await page.click('#node-dialog-cancel');
      }
      await page.waitForTimeout(200);
      expect(pageErrors.slice(before), `page errors while editing ${type}`).to.deep.equal([]);
    });
  }
});
