/**
 * The live overview with the demo running, in Debian's Chromium: the real `twinloop start`
 * (simulator, demo flow), plus one tab deployed through Node-RED's admin API that feeds every record
 * the demo publishes (core `mqtt in` on `<asset>/twin/#`, parsed JSON, against the embedded broker)
 * into a twin-overview node. A supervisor logs in on /twinloop/overview; the charts must draw the
 * demo's data: reading and estimate lines with the ±2σ band, the RUL with its P10–P90 interval, the
 * ranked maintenance windows with the chosen one, the energy cost per interval and the demand block,
 * and the pending maintenance proposal with a link to the approvals page. Every time chart shares one
 * time range; readings (setpoints too) are drawn as steps; pointing at a chart gives each chart's values
 * at that time; a drag zooms every chart, Reset zoom goes back to live; the proposal's money reads as on
 * the approvals page. With TWINLOOP_SCREENSHOT_DIR set it saves overview.png there (the README's screenshot).
 */
import { expect } from 'chai';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { ensureDebianBinary } from '../support/debian.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/ports.js';
import { adminToken, startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';

const ASSET = 'demo/plant1/extrusion/line1/extruder';
const SHOTS = process.env.TWINLOOP_SCREENSHOT_DIR;
/** The demo flow's own overview node (scripts/make-demo-flow.py). */
const NODE_ID = 'demo-overview';
/** The RUL, the ranked windows and the first 15-minute energy interval come from the simulator's data within ~90 s. */
const DATA_WAIT_MS = 150_000;

interface Data {
  node: string | null;
  series: Array<{ kind: string; tag: string; points: Array<{ tsMs: number; last: number }> }>;
  assets: Array<{ asset: string; windows?: unknown[]; energy?: Array<{ scope: string }>; demand?: unknown }>;
  proposals: Array<{ kind: string; asset: string }>;
}

describe('browser: the live overview of the running demo', function () {
  this.timeout(400_000);
  let tl: TwinloopProcess | undefined;
  let browser: Browser | undefined;
  let token: string;
  const errors: string[] = [];

  /** `tok` '' = no Authorization header. */
  const data = async (tok: string = token): Promise<{ status: number; body: Data }> => {
    const res = await fetch(`${tl!.url}twinloop/overview/api/data?node=${NODE_ID}`, {
      headers: tok ? { authorization: `Bearer ${tok}` } : {},
    });
    return { status: res.status, body: (res.status === 200 ? await res.json() : { error: await res.text() }) as Data };
  };

  before(async function () {
    const chromium = ensureDebianBinary('chromium', 'chromium');
    if (!chromium) return this.skip();
    tl = await startTwinloop();
    token = await adminToken(tl.url, 'admin', tl.logins.admin);
    await waitFor(async () => (await data()).body.node === NODE_ID, 30_000, 200, 'the twin-overview node to register');
    browser = await launchChromium(chromium);
  });

  after(async function () {
    await browser?.close();
    if (tl) await tl.stop();
    if (tl) rmSync(tl.home, { recursive: true, force: true });
  });

  it('refuses the API without a login', async function () {
    expect((await data('')).status).to.equal(401);
    expect((await data('not-a-token')).status).to.equal(401);
  });

  it("draws the demo's readings, estimates, RUL, maintenance windows, energy cost, demand block and pending proposal", async function () {
    // Wait in the API for everything the page must show, so that the browser checks below are about drawing.
    const d = await waitFor(
      async () => {
        const { body } = await data();
        const a = body.assets.find((x) => x.asset === ASSET);
        const has = (kind: string, tag?: string) =>
          body.series.some((s) => s.kind === kind && (tag === undefined || s.tag === tag) && s.points.length >= 2);
        return has('reading', 'zone1_temp') &&
          has('estimate', 'zone1_temp') &&
          has('rul') &&
          a?.windows?.length &&
          a.energy?.some((c) => c.scope === 'interval') &&
          a.demand &&
          body.proposals.some((p) => p.kind === 'maintenance' && p.asset === ASSET)
          ? body
          : undefined;
      },
      DATA_WAIT_MS,
      1000,
      'readings, estimates, RUL, windows, an energy interval, the demand block and the maintenance proposal in the overview API',
    );

    const ctx = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    const page: Page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${tl!.url}twinloop/overview?node=${NODE_ID}`);
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill('supervisor');
    await form.getByLabel('Password').fill(tl!.logins.supervisor);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Readings and estimates' }).waitFor();
    await page.locator('#who').getByText('logged in as supervisor', { exact: true }).waitFor();

    // A zone temperature: the reading and the Kalman estimate with its ±2σ band, as lines with many points.
    const zone1 = page.getByRole('img', { name: /^zone1_temp, \d\d:\d\d–\d\d:\d\d: / });
    await zone1.waitFor();
    await waitFor(
      async () => ((await zone1.locator('path[data-series="reading"]').getAttribute('d')) ?? '').split('L').length > 10,
      60_000,
      500,
      'a zone1_temp line of more than 10 points',
    );
    const label = (await zone1.getAttribute('aria-label'))!;
    const m =
      /^zone1_temp, \d\d:\d\d–\d\d:\d\d: reading (\d+\.\d+) degC, estimate (\d+\.\d+) degC ± (\d+\.\d+) \(2σ\), (\d+) drift events?$/.exec(
        label,
      );
    expect(m, label).to.not.equal(null);
    expect(Number(m![1])).to.be.within(100, 300);
    expect(Number(m![2])).to.be.within(100, 300);
    expect(Number(m![3])).to.be.above(0);
    expect(Math.abs(Number(m![1]) - Number(m![2])), 'the estimate follows the reading').to.be.below(10);
    await expectPath(zone1, 'estimate', 3);
    await expectPath(zone1, 'estimate-band', 3);
    expect(await zone1.locator('g[data-series="drift"]').count(), 'drift marks = drift events named').to.equal(Number(m![4]));
    // every tag the demo publishes readings of has its chart
    for (const tag of ['melt_pressure', 'motor_power', 'vibration']) {
      expect(
        await page.getByRole('img', { name: new RegExp(`^${tag}, \\d\\d:\\d\\d–\\d\\d:\\d\\d: reading \\d+\\.\\d+ \\S+`) }).count(),
        tag,
      ).to.equal(1);
    }
    // drift events the demo found are marked on the chart of their tag
    for (const e of (d as unknown as { drift?: Array<{ tag: string }> }).drift ?? []) {
      expect(
        await page
          .getByRole('img', { name: new RegExp(`^${e.tag}, \\d`) })
          .locator('g[data-series="drift"]')
          .count(),
        `drift on ${e.tag}`,
      ).to.be.at.least(1);
    }

    // RUL of the bearing with its P10–P90 interval.
    const rul = page.getByRole('img', { name: new RegExp(`^Remaining useful life of ${ASSET}: `) });
    const rl = /: (\d+\.\d) d \(P10 (\d+\.\d) d – P90 (\d+\.\d) d\)/.exec((await rul.getAttribute('aria-label'))!);
    expect(rl, 'RUL label').to.not.equal(null);
    const [p50, p10, p90] = [Number(rl![1]), Number(rl![2]), Number(rl![3])];
    expect(p10).to.be.at.most(p50);
    expect(p90).to.be.at.least(p50);
    expect(p50).to.be.within(2, 14);
    await expectPath(rul, 'rul-interval', 1);
    expect(await rul.locator('path[data-series="rul"]').count()).to.equal(1);

    // The ranked windows on the timeline, the chosen one highlighted (the one proposed on the approvals page).
    const windows = page.getByRole('img', { name: new RegExp(`^Maintenance windows for ${ASSET}: `) });
    const wl = (await windows.getAttribute('aria-label'))!;
    expect(wl).to.match(
      /: \d+ ranked; (proposed|recommended): #\d+ \d{4}-\d\d-\d\d \d\d:\d\d to \d\d:\d\d Europe\/Berlin, expected [\d,]+\.\d\d EUR( now, [\d,]+\.\d\d EUR when proposed)?$/,
    );
    const bars = await windows.locator('rect[data-rank]').count();
    expect(bars).to.be.at.least(1);
    expect(wl).to.include(`: ${bars} ranked;`);
    expect(await windows.locator('rect[data-chosen="true"]').count()).to.equal(1);

    // Energy cost per 15-minute interval, with cost per kg, and the demand block.
    const energy = page.getByRole('img', { name: new RegExp(`^Energy cost per interval for ${ASSET}: `) });
    expect(await energy.getAttribute('aria-label')).to.match(
      /: last 15 min interval to \d\d:\d\d [\d,]+\.\d\d EUR \(\d+(\.\d+)? kWh, [\d,]+\.\d\d EUR per kg\), \d+ intervals? shown$/,
    );
    expect(await energy.locator('rect[data-series="energy-cost"]').count()).to.be.at.least(1);
    const demand = page.getByRole('img', { name: new RegExp(`^Demand block \\d\\d:\\d\\d–\\d\\d:\\d\\d for ${ASSET}: `) });
    expect(await demand.getAttribute('aria-label')).to.match(
      /average so far \d+(\.\d+)? kW, forecast \d+(\.\d+)? kW, billing peak \d+(\.\d+)? kW; (no alert|ALERT: shed \d+(\.\d+)? kW)$/,
    );

    // The pending maintenance proposal, with the way to decide it.
    const proposal = page.locator('#proposals li[data-kind="maintenance"]').first();
    expect(await proposal.innerText()).to.match(
      /gearbox bearing replacement on demo\/plant1\/extrusion\/line1\/extruder: \d{4}-\d\d-\d\d \d\d:\d\d–\d\d:\d\d Europe\/Berlin/,
    );
    expect(await proposal.getByRole('link', { name: 'decide on the approvals page' }).getAttribute('href')).to.equal('/twinloop/approvals');

    // One time axis: every time chart (trends, RUL, energy) shows the same range, at most the 60-minute window.
    const range = async (): Promise<Array<[number, number]>> =>
      page
        .locator('svg.chart[data-x0]')
        .evaluateAll((gs) => gs.map((g) => [Number(g.getAttribute('data-x0')), Number(g.getAttribute('data-x1'))] as [number, number]));
    const live = await range();
    expect(live.length, 'time charts: 11 trends, RUL, energy').to.be.at.least(13);
    expect(new Set(live.map((r) => r.join('-'))).size, `one range for all: ${JSON.stringify(live)}`).to.equal(1);
    expect(live[0][1] - live[0][0]).to.be.within(60_000, 3_600_000);

    // Readings, setpoints among them, are drawn as steps: a value holds until the next one (horizontal runs,
    // vertical jumps, never a slope), with one jump per change of value. Whether the demo's setpoints changed
    // while the overview listened depends on when its OPC UA session met the commissioning step test, so the
    // jumps are counted against the API's buckets; zone1_temp changes value all the time.
    const segments = async (tag: string) => {
      const chart = page.getByRole('img', { name: new RegExp(`^${tag}, `) });
      const d = (await chart.locator('path[data-series="reading"]').getAttribute('d')) ?? '';
      const xy = d
        .slice(1)
        .split('L')
        .map((p) => p.split(' ').map(Number));
      return xy.slice(1).map((b, i) => ({ dx: b[0] - xy[i][0], dy: b[1] - xy[i][1] }));
    };
    const temp = await segments('zone1_temp');
    expect(temp.filter((g) => g.dx === 0 && g.dy !== 0).length, 'jumps in the zone1_temp line').to.be.at.least(3);
    for (const g of temp) expect(g.dx === 0 || g.dy === 0, `zone1_temp segment ${JSON.stringify(g)}`).to.equal(true);
    const api = (await data()).body;
    for (const tag of ['zone1_sp', 'zone2_sp', 'zone3_sp']) {
      const values = api.series.find((x) => x.kind === 'reading' && x.tag === tag)!.points.map((b) => b.last);
      const changes = values.filter((v, i) => i > 0 && v !== values[i - 1]).length;
      const sp = await segments(tag);
      for (const g of sp) expect(g.dx === 0 || g.dy === 0, `${tag} segment ${JSON.stringify(g)}`).to.equal(true);
      expect(sp.filter((g) => g.dx === 0 && Math.abs(g.dy) > 0.5).length, `${tag} jumps for ${JSON.stringify(values)}`).to.equal(changes);
    }

    // Pointing at a chart: every chart's readout says its values at that moment.
    // (charts are redrawn every poll: the box of the one in place now)
    const boxOf = (l: Locator) => waitFor(async () => (await l.boundingBox()) ?? undefined, 10_000, 50, 'the chart on screen');
    let box = (await boxOf(zone1))!;
    // near the right edge: the shared axis may reach back to an energy interval older than the readings
    await zone1.hover({ position: { x: box.width * 0.9, y: box.height * 0.5 } });
    const figure = (tag: string) => page.locator('figure').filter({ has: page.getByRole('img', { name: new RegExp(`^${tag}, `) }) });
    const readout = figure('zone1_temp').locator('.readout');
    // a redraw between the hover and the check may replace the chart under a still mouse: point again
    let nudge = 0;
    await waitFor(
      async () => {
        if (/reading/.test(await readout.innerText())) return true;
        const b = await zone1.boundingBox();
        if (b) await zone1.hover({ position: { x: b.width * (nudge++ % 2 ? 0.88 : 0.92), y: b.height * 0.5 } });
        return /reading/.test(await readout.innerText());
      },
      20_000,
      250,
      'the zone1_temp readout',
    );
    const rt = (await readout.innerText()).trim();
    const rm = /^(\d\d:\d\d:\d\d) · reading (\d+\.\d) degC · estimate (\d+\.\d) degC ± \d+\.\d+$/.exec(rt);
    expect(rm, rt).to.not.equal(null);
    // the value is the one the API holds for that moment: the bucket in force at the cursor's time
    const tMs = Number(await readout.getAttribute('data-t'));
    const buckets = (await data()).body.series.find((s) => s.kind === 'reading' && s.tag === 'zone1_temp')!.points;
    const inForce = buckets.filter((b) => b.tsMs <= tMs).pop()!;
    expect(rm![2], `reading at ${new Date(tMs).toISOString()}`).to.equal(inForce.last.toFixed(1));
    const other = (await figure('motor_power').locator('.readout').innerText()).trim();
    expect(other, 'the same moment on another chart').to.match(new RegExp(`^${rm![1]} · reading \\d+\\.\\d+ kW$`));
    const cursors = page.locator('svg.chart line[data-series="cursor"][visibility="visible"]');
    expect(await cursors.count(), 'a cursor on every time chart').to.equal(live.length);

    if (SHOTS) {
      // the whole page in the window, so that the screenshot keeps the cursor and its readouts
      mkdirSync(SHOTS, { recursive: true });
      await page.setViewportSize({ width: 1600, height: await page.evaluate(() => document.documentElement.scrollHeight) });
      await zone1.hover({ position: { x: box.width * 0.75, y: box.height * 0.5 } });
      await page.screenshot({ path: join(SHOTS, 'overview.png') });
      await page.setViewportSize({ width: 1600, height: 1000 });
    }

    // Dragging across one chart zooms them all to the dragged span; Reset zoom goes back to the live range.
    await zone1.hover({ position: { x: box.width * 0.55, y: box.height * 0.5 } });
    box = (await boxOf(zone1))!;
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.85, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    const zoomed = await range();
    expect(new Set(zoomed.map((r) => r.join('-'))).size, `one range for all: ${JSON.stringify(zoomed)}`).to.equal(1);
    const [z0, z1] = zoomed[0];
    expect(z1 - z0, 'a third of the plot width').to.be.within((live[0][1] - live[0][0]) * 0.25, (live[0][1] - live[0][0]) * 0.42);
    expect(z0).to.be.above(live[0][0]);
    expect(await page.locator('#range').innerText()).to.match(/\(zoomed\)$/);
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    const back = await range();
    expect(back[0][1], 'live again: the newest record at the right').to.be.at.least(live[0][1]);
    expect(back[0][1] - back[0][0]).to.be.above(z1 - z0);
    expect(await page.getByRole('button', { name: 'Reset zoom' }).isDisabled()).to.equal(true);

    // Money reads the same on both pages: the proposal's expected cost here and on the approvals page.
    const expected = /expected (\d{1,3}(?:,\d{3})*\.\d\d EUR)/.exec(await proposal.innerText());
    expect(expected, 'expected cost on the overview').to.not.equal(null);
    const wl2 = (await windows.getAttribute('aria-label'))!;
    const costThen = 'the chosen window names the cost at proposal time';
    if (/: \d+ ranked; proposed:/.test(wl2))
      expect(wl2, costThen).to.match(new RegExp(`expected (${expected![1]}$|[\\d,]+\\.\\d\\d EUR now, ${expected![1]} when proposed$)`));
    const id = (await proposal.getAttribute('data-proposal-id'))!;
    await page.goto(`${tl!.url}twinloop/approvals`);
    const card = page.locator(`article[data-proposal-id="${id}"]`);
    await card.waitFor();
    const [cost, parts] = await card.evaluate((a) => {
      const dt = [...a.querySelectorAll('dt')].find((d) => d.textContent === 'Expected cost')!;
      return [...dt.nextElementSibling!.querySelectorAll('.line')].map((x) => x.textContent ?? '');
    });
    expect(cost, 'the approvals page and the overview say the same amount').to.equal(expected![1]);
    const money = '[\\d,]+\\.\\d\\d EUR';
    expect(parts).to.match(new RegExp(`^job ${money} \\+ downtime ${money} \\+ expected failure ${money} \\+ energy ${money}$`));

    expect(errors).to.deep.equal([]);
    await ctx.close();
  });
});

/** A path of the chart with at least `min` line segments. */
async function expectPath(chart: Locator, series: string, min: number): Promise<void> {
  const d = (await chart.locator(`path[data-series="${series}"]`).getAttribute('d')) ?? '';
  expect(d.split('L').length - 1, `${series} segments in "${d.slice(0, 80)}…"`).to.be.at.least(min);
}
