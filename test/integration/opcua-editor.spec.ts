/**
 * The twin-opcua-in edit dialog in Debian's Chromium against a real Node-RED (child process) and a
 * real OPC UA server: the browser lists the address space and adds items; an unreachable server and
 * an endpoint that is not deployed give a message, never a page error.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { ensureDebianBinary } from '../support/debian.js';
import { tempUserDir } from '../support/opcua-nr.js';
import { OpcuaTestServer } from '../support/opcua-server.js';
import { freePort, waitFor } from '../support/ports.js';

const ROOT = join(__dirname, '..', '..');

function otherNodeFiles(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.entries(pkg['node-red'].nodes)
    .filter(([type]) => !type.startsWith('twin-opcua-'))
    .map(([, file]) => basename(file));
}

describe('twin-opcua-in editor: address-space browser (Chromium, Node-RED, real server)', function () {
  this.timeout(120_000);
  let server: OpcuaTestServer;
  let nr: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  const pageErrors: string[] = [];

  before(async function () {
    const chromiumPath = ensureDebianBinary('chromium', 'chromium');
    if (!chromiumPath) return this.skip();
    server = await OpcuaTestServer.start();
    const userDir = tempUserDir('nr-opcua-editor-');
    const port = await freePort();
    const deadPort = await freePort();
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify({
        uiPort: port,
        uiHost: '127.0.0.1',
        flowFile: 'flows.json',
        credentialSecret: false,
        // only the two OPC UA node types of the installed package (the others are not under test here)
        nodesExcludes: otherNodeFiles(),
        logging: { console: { level: 'warn' } },
        editorTheme: { tours: false, projects: { enabled: false } },
        telemetry: { enabled: false, updateNotification: false },
        diagnostics: { enabled: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
      })};\n`,
    );
    // installed as Node-RED installs a package: <userDir>/node_modules/@twinloop/node-red-twin
    mkdirSync(join(userDir, 'node_modules', '@twinloop'), { recursive: true });
    symlinkSync(ROOT, join(userDir, 'node_modules', '@twinloop', 'node-red-twin'), 'dir');
    const item = { nodeId: 'ns=1;s=Pressure', asset: 'plant/line1/dev', tag: 'pressure', unit: 'bar' };
    writeFileSync(
      join(userDir, 'flows.json'),
      JSON.stringify([
        { id: 'tab1', type: 'tab', label: 'OPC UA' },
        {
          id: 'ep1',
          type: 'twin-opcua-endpoint',
          name: 'test server',
          endpointUrl: server.endpointUrl,
          securityMode: 'None',
          securityPolicy: 'None',
          authMode: 'anonymous',
          acceptUnknownCertificates: false,
        },
        {
          id: 'ep2',
          type: 'twin-opcua-endpoint',
          name: 'nobody home',
          endpointUrl: `opc.tcp://127.0.0.1:${deadPort}/none`,
          securityMode: 'None',
          securityPolicy: 'None',
          authMode: 'anonymous',
          acceptUnknownCertificates: false,
        },
        {
          id: 'in1',
          type: 'twin-opcua-in',
          z: 'tab1',
          x: 200,
          y: 100,
          endpoint: 'ep1',
          items: [item],
          samplingIntervalMs: 1000,
          deadband: 0,
          queueSize: 1,
          maxFutureMs: 5000,
          defaultAsset: 'plant/line1/dev',
          wires: [[]],
        },
        {
          id: 'in2',
          type: 'twin-opcua-in',
          z: 'tab1',
          x: 200,
          y: 200,
          endpoint: 'ep2',
          items: [item],
          samplingIntervalMs: 1000,
          deadband: 0,
          queueSize: 1,
          maxFutureMs: 5000,
          wires: [[]],
        },
      ]),
    );
    nr = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
      {
        cwd: userDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    nr.stdout?.on('data', (d) => (log += d));
    nr.stderr?.on('data', (d) => (log += d));
    url = `http://127.0.0.1:${port}/`;
    await waitFor(async () => (await fetch(url + 'settings').catch(() => undefined))?.ok, 60_000, 200, 'Node-RED up').catch((e) => {
      throw new Error(`${(e as Error).message}\n${log.slice(-2000)}`);
    });

    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      // a failed browse is an HTTP error the dialog handles; the browser still logs the response
      if (m.type() === 'error' && !/favicon|Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        return RED?.nodes?.node && RED.nodes.node('in1') && RED.nodes.getType('twin-opcua-in');
      },
      undefined,
      { timeout: 60_000 },
    );
  });

  after(async function () {
    await browser?.close();
    if (nr && nr.exitCode === null) {
      const exited = new Promise((r) => nr!.once('exit', r));
      nr.kill('SIGTERM');
      await exited;
    }
    await server?.stop();
  });

  async function openDialog(id: string): Promise<void> {
    await page.evaluate((nodeId: string) => (window as any).RED.editor.edit((window as any).RED.nodes.node(nodeId)), id);
    await page.waitForSelector('#twin-opcua-in-browse', { state: 'visible', timeout: 15_000 });
  }
  async function cancelDialog(): Promise<void> {
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#twin-opcua-in-browse', { state: 'detached', timeout: 15_000 });
  }
  const itemNodeIds = () =>
    page.$$eval('#node-input-items-container .twin-opcua-item-nodeId', (els) => els.map((e) => (e as HTMLInputElement).value));

  it('browses the server, opens a folder and adds a variable as an item', async function () {
    const before = pageErrors.length;
    await openDialog('in1');
    expect(await itemNodeIds()).to.deep.equal(['ns=1;s=Pressure']);
    await page.click('#twin-opcua-in-browse');
    const device = page.locator('.twin-opcua-in-browse-row', { hasText: 'TestDevice' });
    await device.waitFor({ timeout: 20_000 });
    await device.click();
    const temp = page.locator('.twin-opcua-in-browse-row', { hasText: 'ns=1;s=Temperature' });
    await temp.waitFor({ timeout: 20_000 });
    await temp.locator('.twin-opcua-in-add').click();
    expect(await itemNodeIds()).to.deep.equal(['ns=1;s=Pressure', 'ns=1;s=Temperature']);
    // (no helper functions inside page callbacks: tsx would wrap them in a __name() the page lacks)
    const added = {
      asset: await page.locator('#node-input-items-container .twin-opcua-item-asset').last().inputValue(),
      tag: await page.locator('#node-input-items-container .twin-opcua-item-tag').last().inputValue(),
    };
    expect(added).to.deep.equal({ asset: 'plant/line1/dev', tag: 'Temperature' });
    // back up to the Objects folder
    await page.click('#twin-opcua-in-up');
    await page.locator('.twin-opcua-in-browse-row', { hasText: 'TestDevice' }).waitFor({ timeout: 20_000 });
    await cancelDialog();
    expect(pageErrors.slice(before)).to.deep.equal([]);
  });

  it('shows a message, not a page error, when the server is unreachable', async function () {
    const before = pageErrors.length;
    await openDialog('in2');
    await page.click('#twin-opcua-in-browse');
    await page.waitForFunction(
      () => /Cannot browse/.test(document.querySelector('#twin-opcua-in-browse-message')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
    const text = await page.textContent('#twin-opcua-in-browse-message');
    expect(text).to.match(/not reachable/);
    expect(await page.$$('.twin-opcua-in-browse-row')).to.have.length(0);
    await cancelDialog();
    expect(pageErrors.slice(before)).to.deep.equal([]);
  });

  it('shows a message, not a page error, when the endpoint is not deployed', async function () {
    const before = pageErrors.length;
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.view.importNodes(
        [
          {
            id: 'ep3',
            type: 'twin-opcua-endpoint',
            endpointUrl: 'opc.tcp://127.0.0.1:4840/x',
            securityMode: 'None',
            securityPolicy: 'None',
            authMode: 'anonymous',
          },
          { id: 'in3', type: 'twin-opcua-in', z: RED.workspaces.active(), x: 400, y: 300, endpoint: 'ep3', items: [], wires: [[]] },
        ],
        { generateIds: false, addFlow: false },
      );
    });
    await openDialog('in3');
    await page.click('#twin-opcua-in-browse');
    await page.waitForFunction(
      () => /Cannot browse/.test(document.querySelector('#twin-opcua-in-browse-message')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
    expect(await page.textContent('#twin-opcua-in-browse-message')).to.match(/not deployed/);
    await cancelDialog();
    expect(pageErrors.slice(before)).to.deep.equal([]);
  });
});
