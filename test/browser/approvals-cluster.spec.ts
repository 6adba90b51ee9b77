/**
 * One approvals view in Debian's Chromium: two cluster instances (Node-RED with adminAuth and a
 * twin-cluster each, test/support/approvals-server.ts) on a real nats-server. A supervisor on A's
 * page sees B's gate marked with instance B and its line, signs an approval there and B's gate
 * decides it; with the dialog open for a second proposal, B lets the gate go (a takeover with no
 * new owner yet): signing is refused in the dialog with the takeover message and nothing is decided.
 * A third line, held by a member that serves no gates, is shown in the takeover banner.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { ClusterMember } from '../../runtime/cluster/cluster-member.js';
import { launchChromium } from '../support/browser.js';
import { ensureDebianBinary } from '../support/debian.js';
import { login, USERS } from '../support/approvals-gate.js';
import { startApprovalsServer, type ApprovalsServer } from '../support/approvals-server.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { waitFor } from '../support/ports.js';
import type { Proposal } from '../../runtime/model/control.js';

const L1 = 'spec/oneview-page/line1';
const L2 = 'spec/oneview-page/line2';
/** Held by Z, a member that serves no gates: the page shows it as being taken over. */
const L3 = 'spec/oneview-page/line3';
const SUPERVISOR = USERS[0];

describe('browser: the approvals page of one instance decides a gate another instance serves', function () {
  this.timeout(120_000);
  let nats: NatsCluster | undefined;
  let a: ApprovalsServer | undefined;
  let b: ApprovalsServer | undefined;
  let z: ClusterMember | undefined;
  let browser: Browser | undefined;
  const errors: string[] = [];

  const clusterFlow = (instance: string) => [
    {
      id: 'cluster',
      type: 'twin-cluster',
      servers: nats!.servers.join(' '),
      instance,
      lines: `${L1}\n${L2}\n${L3}`,
      ttlS: 2,
      replicas: 1,
      slack: 0,
    },
  ];

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    const natsBin = ensureDebianBinary('nats-server', 'nats-server');
    if (!chromium || !natsBin) return this.skip();
    nats = await startNatsCluster(natsBin, 1);
    z = await ClusterMember.start({ servers: nats.servers, instance: 'Z', lines: [L3], ttlMs: 2000, replicas: 1, slack: 0 });
    await waitFor(() => z!.owns(L3), 10_000, 50, 'Z owns line 3');
    [a, b] = await Promise.all([
      startApprovalsServer(USERS, { flow: clusterFlow('A') }),
      startApprovalsServer(USERS, { flow: clusterFlow('B') }),
    ]);
    browser = await launchChromium(chromium);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop(), z?.stop({ release: true })]);
    await nats?.stop();
  });

  it("shows B's gate on A's page with its instance, decides it on B, and refuses in the dialog while nobody serves it", async () => {
    const token = await login(a!.url, SUPERVISOR.username, SUPERVISOR.password);
    const api = (path: string) =>
      fetch(`${a!.url}twinloop/approvals/api/${path}`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.json() as Promise<any>,
      );
    let owners: Record<string, string> = {};
    await waitFor(
      async () => {
        owners = (await api('gates')).cluster?.owners ?? {};
        return owners[L1] !== undefined && owners[L2] !== undefined && owners[L1] !== owners[L2];
      },
      30_000,
      100,
      'one line each',
    );
    const lineB = owners[L1] === 'B' ? L1 : L2;
    await b!.rpc('openGate', 'gB', null, lineB);
    const first: Proposal = await b!.rpc('addProposal', 'gB', { tag: 'barrel_temp_sp' });
    const second: Proposal = await b!.rpc('addProposal', 'gB', { tag: 'screw_speed_sp', unit: 'rpm', currentValue: 62, proposedValue: 64 });

    const page: Page = await (await browser!.newContext({ viewport: { width: 1500, height: 1000 } })).newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await page.goto(`${a!.url}twinloop/approvals`);
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill(SUPERVISOR.username);
    await form.getByLabel('Password').fill(SUPERVISOR.password);
    await form.getByRole('button', { name: 'Log in' }).click();

    const gate = page.getByRole('group', { name: 'Gate Extruder setpoints (test gate gB)' });
    await gate.waitFor();
    expect(await gate.innerText()).to.include(`on instance B (line ${lineB})`);
    expect(await page.locator('#takeover').innerText()).to.equal(
      `Takeover in progress: no instance serves line ${L3} now. Its gates are not shown, and a decision on them is refused ` +
        '(not queued) until an owner serves them again.',
    );

    const card = (p: Proposal) => page.getByRole('article', { name: `Proposal ${p.asset} / ${p.tag}` });
    const sign = async (p: Proposal) => {
      await card(p).getByRole('button', { name: 'Approve' }).click();
      const dialog = page.getByRole('dialog', { name: 'Approve setpoint change' });
      await dialog.waitFor();
      await dialog.getByLabel('Reason').fill('Energy per kg down, quality holds');
      await dialog.getByLabel('Password').fill(SUPERVISOR.password);
      return dialog;
    };

    const d1 = await sign(first);
    await d1.getByRole('button', { name: 'Sign and approve' }).click();
    await d1.waitFor({ state: 'hidden' });
    const calls = await b!.rpc('calls', 'gB');
    expect(calls.decideCalls.map((c) => [c.proposalId, c.user, c.printedName])).to.deep.equal([
      [first.id, SUPERVISOR.username, SUPERVISOR.printedName],
    ]);
    await card(first).locator('.state', { hasText: 'approved' }).waitFor();

    // the dialog is open when B lets the gate go: the signature is refused there, nothing queued
    const d2 = await sign(second);
    await b!.rpc('unregisterGate', 'gB');
    await d2.getByRole('button', { name: 'Sign and approve' }).click();
    await d2.getByRole('alert').filter({ hasText: 'no instance serves gate gB now' }).waitFor();
    expect(await d2.getByRole('alert').innerText()).to.include('nothing was decided');
    expect((await b!.rpc('calls', 'gB')).decideCalls).to.have.length(1);
    expect(await b!.rpc('state', 'gB', second.id)).to.equal('pending');
    expect(errors).to.deep.equal([]);
  });
});
