import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helper, nodeModule } from '../support/nr.js';
import { feedRig, loadNodeRig, nodeRedPerSpec, type NodeRig, type Outputs } from '../support/node-rig.js';
import { waitFor } from '../support/ports.js';
import { gauss } from '../support/drift-mv-data.js';
import { alarmReading, meltReadings, runaway } from '../support/alarm-data.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import type { RateFigures } from '../../runtime/alarm/rates.js';

const alarmNode = nodeModule('twin-alarm');
const ledgerNode = nodeModule('twin-ledger');
// The registry the BUILT node registers in (dist/), not a second copy of the module loaded from source.
type Registry = typeof import('../../runtime/alarm/alarm-registry.js');
const registry = require(join(__dirname, '..', '..', 'dist', 'runtime', 'alarm', 'alarm-registry.js')) as Registry;
const KEY = 'test-signing-key-0123456789abcdef';

const ASSET = 'acme/plant1/line1/extruder';
const ID = `${ASSET}/melt_temp`;

type Rig = NodeRig & Outputs<{ events: AlarmEvent; rates: RateFigures }>;

const rd = (tag: string, i: number, value: unknown, extra: Record<string, unknown> = {}) => alarmReading(ASSET, tag, i, value, extra);
const melt = (from: number, to: number) => meltReadings(ASSET, from, to);

/** `ledgerPath`: with a real twin-ledger (id 'led') the alarm node records its actions in. */
function load(cfg: Record<string, unknown>, ledgerPath?: string): Promise<Rig> {
  return loadNodeRig<{ events: AlarmEvent; rates: RateFigures }>({
    modules: [alarmNode, ledgerNode],
    node: { id: 'a', type: 'twin-alarm', name: 'alarm', ...(ledgerPath ? { ledger: 'led' } : {}), ...cfg },
    outputs: ['events', 'rates'],
    flow: ledgerPath ? [{ id: 'led', type: 'twin-ledger', path: ledgerPath }] : [],
    credentials: ledgerPath ? { led: { signingKey: KEY } } : {},
  });
}

const readings = (rs: Record<string, unknown>[]) => rs.map((payload) => ({ payload }));

const shown = (rig: Rig, kind: string) => rig.events.filter((m) => m.payload.kind === kind && m.payload.annunciated);
const lastStatus = (rig: Rig) => rig.statuses[rig.statuses.length - 1];

describe('twin-alarm node', function () {
  this.timeout(60_000);
  nodeRedPerSpec();

  it('an excursion is one alarm episode: raised once after the on-delay, cleared once, on <asset>/<tag>/alarm', async function () {
    const rig = await load({});
    await feedRig(rig, readings(melt(0, 1100)));
    expect(rig.caught).to.have.length(0);
    const raised = shown(rig, 'raised');
    const cleared = rig.events.filter((m) => m.payload.kind === 'cleared');
    expect(raised).to.have.length(1);
    expect(cleared).to.have.length(1);
    expect(raised[0].topic).to.equal(`${ID}/alarm`);
    // moderate → medium, one step up: the runaway is far beyond the threshold (p below its square)
    expect(raised[0].payload).to.include({ alarmId: ID, state: 'unack-active', priority: 'high' });
    expect(cleared[0].payload.episodeId).to.equal(raised[0].payload.episodeId);
    expect(cleared[0].payload.state).to.equal('unack-rtn');
    // a tag with no model (a Reading): the learned baseline, on its 120 s on-delay
    expect(raised[0].payload.tsMs - raised[0].payload.startTsMs!).to.be.at.least(120_000);
    expect(raised[0].payload.cause).to.include({ method: 'learned-baseline' });
    // returned but not acknowledged: the status says so
    await waitFor(() => lastStatus(rig).text === '0 active, 1 unack', 30_000, 20, 'status shows the unacknowledged alarm');
    expect(lastStatus(rig).fill).to.equal('yellow');
  });

  it('ack by message changes the state and records the user', async function () {
    const rig = await load({});
    await feedRig(rig, readings(melt(0, 770)));
    expect(shown(rig, 'raised')).to.have.length(1);
    await feedRig(rig, [{ topic: 'ack', payload: { id: ID, user: 'ana', reason: 'checking the heater' } }]);
    const acked = rig.events.filter((m) => m.payload.kind === 'acked');
    expect(acked).to.have.length(1);
    expect(acked[0].payload.state).to.equal('ack-active');
    expect(acked[0].payload.action).to.include({ user: 'ana', reason: 'checking the heater' });
    await feedRig(rig, readings(melt(770, 1100)));
    const cleared = rig.events.filter((m) => m.payload.kind === 'cleared');
    expect(cleared.map((m) => m.payload.state)).to.deep.equal(['normal']);
    await waitFor(() => lastStatus(rig).text === 'no alarms', 30_000, 20, 'status back to no alarms');
  });

  it('a shelved alarm is not annunciated; unshelve records who', async function () {
    const rig = await load({});
    await feedRig(rig, readings(melt(0, 500)));
    const untilTsMs = Date.now() + 3_600_000;
    await feedRig(rig, [{ topic: 'shelve', payload: { id: ID, user: 'ben', reason: 'sensor recalibration', untilTsMs } }]);
    const shelved = rig.events.filter((m) => m.payload.kind === 'shelved');
    expect(shelved).to.have.length(1);
    expect(shelved[0].payload.action?.user).to.equal('ben');
    await feedRig(rig, readings(melt(500, 1100)));
    expect(shown(rig, 'raised')).to.have.length(0);
    await feedRig(rig, [{ topic: 'unshelve', payload: { id: ID, user: 'ben', reason: 'done' } }]);
    const un = rig.events.filter((m) => m.payload.kind === 'unshelved');
    expect(un).to.have.length(1);
    expect(un[0].payload).to.include({ state: 'normal' });
  });

  describe('recorded in the ledger', function () {
    let dir: string;
    beforeEach(function () {
      dir = mkdtempSync(join(tmpdir(), 'twinloop-alarm-ledger-'));
    });
    afterEach(async function () {
      // stop the node first: its 1 s timer may still append (an expiry, a fresh annunciation's action)
      await helper.unload();
      rmSync(dir, { recursive: true, force: true });
    });
    const alarmRecords = (path: string) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'alarm');

    it('ack and shelve by message are appended before the message is done; raised and cleared are not', async function () {
      const path = join(dir, 'ledger.jsonl');
      const rig = await load({}, path);
      await feedRig(rig, readings(melt(0, 770)));
      await feedRig(rig, [{ topic: 'ack', payload: { id: ID, user: 'ana', reason: 'checking the heater' } }]);
      // done() came after the append: the record is in the file now
      let recs = alarmRecords(path);
      expect(recs.map((r) => [r.data.kind, r.data.user, r.data.reason, r.data.via, r.asset, r.tag])).to.deep.equal([
        ['acked', 'ana', 'checking the heater', 'message', ASSET, 'melt_temp'],
      ]);
      const until = Date.now() + 2 * 3_600_000;
      await feedRig(rig, [{ topic: 'shelve', payload: { id: ID, user: 'ben', reason: 'sensor swap', untilTsMs: until } }]);
      recs = alarmRecords(path);
      expect(recs).to.have.length(2);
      expect(recs[1].data).to.include({ kind: 'shelved', user: 'ben', reason: 'sensor swap', state: 'shelved', via: 'message' });
      expect(recs[1].data.untilTsMs - recs[1].data.tsMs).to.be.within(2 * 3_600_000 - 5000, 2 * 3_600_000);
      expect(rig.caught).to.have.length(0);
    });

    it('the overview page acts through the registered handle, as the logged-in user; closing unregisters it', async function () {
      const path = join(dir, 'ledger.jsonl');
      const rig = await load({ maxShelveMs: 4 * 3_600_000 }, path);
      await feedRig(rig, readings(melt(0, 770)));
      const h = registry.findAlarmSource('a')!;
      expect(h).to.include({ name: 'alarm', maxShelveMs: 4 * 3_600_000, recordedIn: path });
      expect(h.list().map((v) => [v.alarmId, v.state])).to.deep.equal([[ID, 'unack-active']]);
      const out = await h.act({ action: 'ack', alarmId: ID, user: 'dana', reason: '', via: 'page' });
      expect(out.ok).to.equal(true);
      expect(out.events.map((e) => [e.kind, e.state, e.action?.user])).to.deep.equal([['acked', 'ack-active', 'dana']]);
      const shelve = { action: 'shelve' as const, alarmId: ID, user: 'dana', reason: 'valve work', durationMs: 3_600_000 };
      const shelved = await h.act({ ...shelve, via: 'page' });
      expect(shelved.events[0]).to.include({ kind: 'shelved', state: 'shelved' });
      const unknown = await h.act({ action: 'ack', alarmId: 'no/such/alarm', user: 'dana', reason: '', via: 'page' });
      expect(unknown).to.deep.equal({ ok: false, events: [], error: 'no alarm "no/such/alarm"' });
      expect(alarmRecords(path).map((r) => [r.data.kind, r.data.user, r.data.via])).to.deep.equal([
        ['acked', 'dana', 'page'],
        ['shelved', 'dana', 'page'],
      ]);
      // the page's actions go out on output 1 like a message's
      expect(rig.events.filter((m) => m.payload.action?.user === 'dana').map((m) => m.payload.kind)).to.deep.equal(['acked', 'shelved']);
      await helper.unload();
      expect(registry.findAlarmSource('a')).to.equal(undefined);
    });

    it("a shelving that expires returns the alarm by itself, recorded as the system's", async function () {
      const path = join(dir, 'ledger.jsonl');
      const rig = await load({}, path);
      await feedRig(rig, readings(melt(0, 770)));
      await feedRig(rig, [{ topic: 'shelve', payload: { id: ID, user: 'ben', reason: 'one moment', untilTsMs: Date.now() + 1500 } }]);
      // the node's 1 s timer moves the alarm clock on: the shelving ends with no new reading
      await waitFor(() => alarmRecords(path).length === 2, 20_000, 50, 'the expiry recorded');
      const [, expired] = alarmRecords(path);
      expect(expired.data).to.include({ kind: 'unshelved', user: 'system', reason: 'shelving expired', via: 'system' });
      // the condition still stands: annunciated afresh
      await waitFor(() => shown(rig, 'raised').length === 2, 10_000, 20, 'raised again');
      expect(rig.events.filter((m) => m.payload.kind === 'unshelved').map((m) => m.payload.action?.user)).to.deep.equal(['system']);
    });

    it('a ledger node that is missing is a configuration error', async function () {
      const rig = await load({ ledger: 'gone' });
      expect(rig.errors.map(String).join('\n')).to.match(/twin-ledger node is missing/);
      expect(lastStatus(rig)).to.include({ fill: 'red', text: 'bad config' });
    });
  });

  it('a line-stop root suppresses its children: one annunciated alarm, not one per tag', async function () {
    const stop = `${ASSET}/line_stop`;
    const rig = await load({ roots: [{ id: stop, children: `${ASSET}/zone*` }] });
    const gs = [gauss(1), gauss(2), gauss(3)];
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const stopped = i >= 590 && i < 800;
      batch.push(rd('line_stop', i, stopped ? 1 : 0));
      for (let k = 0; k < 3; k++) batch.push(rd(`zone${k}_temp`, i, 200 + gs[k]() - (stopped && i >= 600 ? runaway(i - 600) : 0)));
    }
    await feedRig(rig, readings(batch));
    expect(rig.caught).to.have.length(0);
    expect(shown(rig, 'raised').map((m) => m.payload.alarmId)).to.deep.equal([stop]);
    const recorded = rig.events.filter((m) => m.payload.kind === 'raised' && !m.payload.annunciated);
    expect(recorded.length).to.be.greaterThan(0);
    for (const m of recorded) expect(m.payload.suppressedBy).to.equal(stop);
  });

  it('bad input and bad commands end with an error and a red status; the node goes on', async function () {
    const rig = await load({});
    await feedRig(rig, [{ payload: 'garbage' }]);
    expect(rig.caught).to.have.length(1);
    await waitFor(() => lastStatus(rig).fill === 'red', 10_000, 10, 'red status');
    await feedRig(rig, [
      { topic: 'ack', payload: { id: ID } },
      { topic: 'shelve', payload: { id: ID, user: 'x', reason: 'y', untilTsMs: 'soon' } },
    ]);
    expect(rig.caught).to.have.length(3);
    const before = rig.completed;
    await feedRig(rig, readings(melt(0, 1100)));
    expect(rig.completed - before).to.equal(1100);
    expect(shown(rig, 'raised')).to.have.length(1);
  });

  it('refuses an invalid config: node.error, red status, inputs refused', async function () {
    const rig = await load({ onDelayMs: 'soon' });
    expect(rig.errors.map(String).join('\n')).to.match(/on-delay/);
    expect(lastStatus(rig)).to.include({ fill: 'red', text: 'bad config' });
    await feedRig(rig, readings(melt(0, 1)));
    expect(rig.caught[0].error?.message).to.match(/not alarming/);
  });

  it('sends the alarm-rate figures on output 2 when a period is set', async function () {
    const rig = await load({ ratesEveryMs: 200 });
    await feedRig(rig, readings(melt(0, 1100)));
    // the figures after the readings count the one annunciated alarm, on the tag's ISA-95 line
    const after = rig.rates.length;
    await waitFor(() => rig.rates.length > after, 30_000, 20, 'rate figures');
    const last = rig.rates[rig.rates.length - 1];
    expect(last.topic).to.equal('alarm-rates');
    expect(last.payload.total.count).to.equal(1);
    expect(last.payload.lines.map((l) => [l.line, l.count])).to.deep.equal([['acme/plant1/line1', 1]]);
  });
});
