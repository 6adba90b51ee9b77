import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';
import type { Reading } from '../../runtime/model/reading.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const screenNode = nodeModule('twin-screen');

type Msg = NodeMessage & { payload: Reading; error?: { message: string; source?: { id: string } } };
interface Rig {
  screen: Node;
  out: Msg[];
  flagged: Msg[];
  caught: Msg[];
  statuses: Array<{ fill?: string; shape?: string; text?: string }>;
  errors: unknown[];
}

const T0 = Date.now() - 60_000;

/** Node events the typings do not list (helper's `call:*` spies, helper nodes' `input`). */
function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}
function rd(value: unknown, tsMs: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: 'plant1/line1/extruder', tag: 'melt_temp', value, tsMs, quality: 'good', source: 'test', ...extra };
}

/** Load twin-screen (config `cfg`) wired to collectors, plus a Catch node for its errors. */
function load(cfg: Record<string, unknown>): Promise<Rig> {
  const two = cfg.flaggedOutput === true;
  const flow = [
    { id: 's', type: 'twin-screen', name: 'screen', ...cfg, wires: two ? [['o'], ['f']] : [['o']] },
    { id: 'o', type: 'helper' },
    { id: 'f', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['s'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
  ];
  return new Promise((resolve, reject) => {
    helper
      .load([screenNode, catchNode] as never, flow, () => {
        const rig: Rig = { screen: helper.getNode('s'), out: [], flagged: [], caught: [], statuses: [], errors: [] };
        listen<Msg>(helper.getNode('o'), 'input', (m) => rig.out.push(m));
        listen<Msg>(helper.getNode('f'), 'input', (m) => rig.flagged.push(m));
        listen<Msg>(helper.getNode('k'), 'input', (m) => rig.caught.push(m));
        listen<{ args: [Rig['statuses'][number]] }>(rig.screen, 'call:status', (call) => rig.statuses.push(call.args[0]));
        listen<{ args: unknown[] }>(rig.screen, 'call:error', (call) => rig.errors.push(call.args[0]));
        resolve(rig);
      })
      .catch(reject);
  });
}

describe('twin-screen node', function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('passes a clean reading through unchanged and sets the topic', async function () {
    const rig = await load({ lowLimit: '0', highLimit: '400' });
    const r = rd(210.5, T0, { unit: 'degC' });
    rig.screen.receive({ payload: r } as never);
    await waitFor(() => rig.out.length === 1);
    expect(rig.out[0].payload).to.deep.equal(r);
    expect(rig.out[0].topic).to.equal('plant1/line1/extruder/melt_temp');
  });

  it('reads from Reading in and writes to Reading to (msg properties), the rest of the message kept', async function () {
    const rig = await load({ lowLimit: '0', highLimit: '400', property: 'reading', output: 'screened.reading' });
    rig.screen.receive({ payload: 'raw', reading: rd(450, T0) } as never);
    await waitFor(() => rig.out.length === 1);
    const m = rig.out[0] as unknown as { payload: unknown; reading: Reading; screened: { reading: Reading } };
    expect(m.payload).to.equal('raw');
    expect(m.screened.reading).to.include({ value: 450, quality: 'bad' });
    expect(m.reading, 'the input as it came').to.deep.equal(rd(450, T0));
  });

  it('flags range, rate and spike per reading, keeping the value; joins reasons; worst quality wins', async function () {
    const rig = await load({ lowLimit: '0', highLimit: '400', maxRatePerS: '5', spikeWindow: '5', spikeMinDelta: '1' });
    const values = [200, 200.5, 199.8, 200.2, 200.1, 200.3, 450, 200.4];
    values.forEach((v, i) => rig.screen.receive({ topic: 'x/y', payload: rd(v, T0 + i * 1000) } as never));
    await waitFor(() => rig.out.length === values.length);
    expect(rig.out.map((m) => m.payload.value)).to.deep.equal(values);
    const spike = rig.out[6].payload;
    expect(spike.quality).to.equal('bad');
    expect(spike.qualityReason).to.equal('range>high;rate;spike');
    expect(rig.out[7].payload).to.include({ quality: 'uncertain', qualityReason: 'rate' }); // coming back down
    expect(rig.out.slice(0, 6).every((m) => m.payload.quality === 'good')).to.equal(true);
    expect(rig.out[0].topic).to.equal('x/y'); // an existing topic is kept
  });

  it('sends duplicates and out-of-order readings on, marked bad (nothing dropped)', async function () {
    const rig = await load({});
    rig.screen.receive({ payload: rd(1, T0 + 2000) } as never);
    rig.screen.receive({ payload: rd(2, T0 + 2000) } as never);
    rig.screen.receive({ payload: rd(3, T0 + 1000) } as never);
    rig.screen.receive({ payload: rd(4, T0 + 3000) } as never);
    await waitFor(() => rig.out.length === 4);
    expect(rig.out.map((m) => [m.payload.value, m.payload.quality, m.payload.qualityReason])).to.deep.equal([
      [1, 'good', undefined],
      [2, 'bad', 'duplicate'],
      [3, 'bad', 'out-of-order'],
      [4, 'good', undefined],
    ]);
  });

  it('keeps a reading that arrived bad bad, and keeps its own reason first', async function () {
    const rig = await load({ highLimit: '100', sevRange: 'uncertain' });
    rig.screen.receive({ payload: rd(150, T0, { quality: 'bad', qualityReason: 'BadSensorFailure' }) } as never);
    await waitFor(() => rig.out.length === 1);
    expect(rig.out[0].payload).to.include({ quality: 'bad', qualityReason: 'BadSensorFailure;range>high', value: 150 });
  });

  it('applies per-tag overrides from the editor table; blank inherits, none removes a limit', async function () {
    const rig = await load({
      highLimit: '100',
      overrides: [
        { match: 'pressure*', highLimit: '300', lowLimit: '' },
        { match: 'plant1/line1/*/speed', highLimit: 'none' },
      ],
    });
    rig.screen.receive({ payload: rd(250, T0, { tag: 'pressure_in' }) } as never);
    rig.screen.receive({ payload: rd(350, T0, { tag: 'pressure_out' }) } as never);
    rig.screen.receive({ payload: rd(1e6, T0, { tag: 'speed' }) } as never);
    rig.screen.receive({ payload: rd(101, T0, { tag: 'melt_temp' }) } as never);
    await waitFor(() => rig.out.length === 4);
    expect(rig.out.map((m) => m.payload.qualityReason ?? 'ok')).to.deep.equal(['ok', 'range>high', 'ok', 'range>high']);
  });

  it('with the second output, sends copies of not-good readings there and everything on output 1', async function () {
    const rig = await load({ highLimit: '100', flaggedOutput: true, outputs: 2 });
    rig.screen.receive({ payload: rd(50, T0) } as never);
    rig.screen.receive({ payload: rd(150, T0 + 1) } as never);
    rig.screen.receive({ payload: rd(60, T0 + 2, { quality: 'uncertain' }) } as never);
    rig.screen.receive({ payload: rd(70, T0 + 3) } as never);
    await waitFor(() => rig.out.length === 4 && rig.flagged.length === 2);
    expect(rig.flagged.map((m) => m.payload.value)).to.deep.equal([150, 60]);
    expect(rig.flagged[0].payload.qualityReason).to.equal('range>high');
  });

  it('emits one stale reading per silence (wall clock), re-armed by the next reading', async function () {
    const rig = await load({ staleAfterMs: '150', flaggedOutput: true, outputs: 2 });
    const last = rd(42, T0, { unit: 'bar' });
    rig.screen.receive({ payload: last } as never);
    await waitFor(() => rig.out.length === 2, 5000, 10, 'stale reading');
    const stale = rig.out[1];
    expect(stale.topic).to.equal('plant1/line1/extruder/melt_temp');
    expect(stale.payload).to.deep.equal({ ...last, tsMs: T0 + 150, quality: 'bad', qualityReason: 'stale' });
    expect(rig.flagged.map((m) => m.payload.qualityReason)).to.deep.equal(['stale']);
    // Silence goes on: still only one stale reading after several more periods.
    await new Promise((r) => setTimeout(r, 600));
    expect(rig.out).to.have.length(2);
    rig.screen.receive({ payload: rd(43, T0 + 5000) } as never);
    await waitFor(() => rig.out.length === 4, 5000, 10, 'second stale reading');
    expect(rig.out[3].payload).to.include({ value: 43, tsMs: T0 + 5150, qualityReason: 'stale' });
  });

  it('flags a future timestamp bad and keeps screening later readings normally', async function () {
    const rig = await load({ maxFutureMs: '5000' });
    rig.screen.receive({ payload: rd(1, T0) } as never);
    rig.screen.receive({ payload: rd(2, Date.now() + 3_600_000) } as never);
    rig.screen.receive({ payload: rd(3, T0 + 1000) } as never);
    await waitFor(() => rig.out.length === 3);
    expect(rig.out.map((m) => m.payload.qualityReason ?? 'ok')).to.deep.equal(['ok', 'future', 'ok']);
    expect(rig.out[1].payload.quality).to.equal('bad');
  });

  describe('bad inputs: a clear error to Catch, a red status, and the node keeps working', function () {
    const tenMb = 'x'.repeat(10 * 1024 * 1024);
    const cases: Array<[string, unknown, RegExp]> = [
      ['a string', 'hello', /payload is not a Reading object/],
      ['no payload', undefined, /payload is not a Reading object/],
      ['malformed object', { foo: 1 }, /Reading.asset must be a non-empty string/],
      ['an array', [rd(1, T0)], /payload is an array of 1; twin-screen takes one Reading per message/],
      ['a non-numeric value', rd('12.5', T0), /Reading.value is not a number: string/],
      ['NaN', rd(NaN, T0), /Reading.value is not finite: NaN/],
      ['Infinity', rd(Infinity, T0), /Reading.value is not finite: Infinity/],
      ['a missing timestamp', rd(1, undefined), /Reading.tsMs must be epoch milliseconds/],
      ['an ISO timestamp string', rd(1, '2026-01-01T00:00:00Z'), /Reading.tsMs must be epoch milliseconds/],
      ['an unknown quality', rd(1, T0, { quality: 'ok-ish' }), /Reading.quality must be good, uncertain or bad/],
      ['a 10 MB string payload', tenMb, /payload is not a Reading object/],
      ['a 10 MB tag name', rd(1, T0, { tag: tenMb }), /must be at most 1024 characters/],
    ];
    for (const [what, payload, re] of cases) {
      it(`refuses ${what}`, async function () {
        const rig = await load({ maxRatePerS: '1' });
        rig.screen.receive({ payload: rd(10, T0) } as never);
        rig.screen.receive({ payload } as never);
        rig.screen.receive({ payload: rd(10.5, T0 + 1000) } as never);
        await waitFor(() => rig.caught.length === 1 && rig.out.length === 2, 10_000, 10, 'error and readings');
        expect(rig.caught[0].error?.message).to.match(re);
        expect(rig.caught[0].error?.message.length).to.be.below(200);
        expect(rig.caught[0].error?.source?.id).to.equal('s');
        expect(rig.statuses.some((s) => s.fill === 'red')).to.equal(true);
        // State untouched: the reading after the bad one is judged against the one before it.
        expect(rig.out.map((m) => m.payload.quality)).to.deep.equal(['good', 'good']);
        expect(rig.out[1].payload.value).to.equal(10.5);
      });
    }

    it('passes a Reading with a 10 MB extra property through, screened', async function () {
      const rig = await load({ highLimit: '5' });
      rig.screen.receive({ payload: rd(10, T0, { blob: tenMb }) } as never);
      await waitFor(() => rig.out.length === 1);
      expect(rig.out[0].payload).to.include({ quality: 'bad', qualityReason: 'range>high' });
      expect((rig.out[0].payload as unknown as { blob: string }).blob.length).to.equal(tenMb.length);
    });

    it('goes back from a red status to counts after good readings', async function () {
      const rig = await load({});
      rig.screen.receive({ payload: 'junk' } as never);
      rig.screen.receive({ payload: rd(1, T0) } as never);
      await waitFor(() => rig.statuses.some((s) => s.fill === 'red'));
      await waitFor(() => rig.statuses.length > 0 && rig.statuses[rig.statuses.length - 1].fill === 'green', 5000, 20, 'green status');
      expect(rig.statuses[rig.statuses.length - 1].text).to.equal('0/1 flagged');
    });
  });

  describe('config validation', function () {
    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['low ≥ high', { lowLimit: '10', highLimit: '5' }, /lowLimit \(10\) must be below highLimit \(5\)/],
      ['a non-numeric field', { spikeWindow: 'eleven' }, /spikeWindow must be a finite number, not "eleven"/],
      ['a tiny spike window', { spikeWindow: '2' }, /spikeWindow must be an integer from 3 to 1001/],
      ['an unknown severity', { sevSpike: 'terrible' }, /severity.spike must be "bad" or "uncertain"/],
      ['an override without a pattern', { overrides: [{ match: '', highLimit: '3' }] }, /override 1: match must be/],
      [
        'an override with a bad number',
        { overrides: [{ match: 'p*', staleAfterMs: '-5' }] },
        /override 1: staleAfterMs must be an integer/,
      ],
    ];
    for (const [what, cfg, re] of bad) {
      it(`refuses ${what}: node.error, red status, and every input is refused (not passed on unscreened)`, async function () {
        const rig = await load(cfg);
        await waitFor(() => rig.errors.length > 0 && rig.statuses.length > 0);
        expect(String(rig.errors[0])).to.match(re);
        expect(rig.statuses[0]).to.include({ fill: 'red', text: 'bad config' });
        rig.screen.receive({ payload: rd(1, T0) } as never);
        await waitFor(() => rig.caught.length === 1);
        expect(rig.caught[0].error?.message).to.match(/not screening: the node's configuration is invalid/);
        expect(rig.out).to.have.length(0);
      });
    }

    it('accepts the editor defaults', async function () {
      const rig = await load({
        lowLimit: '',
        highLimit: '',
        maxRatePerS: '',
        stuckTolerance: 0,
        stuckSamples: 0,
        stuckWindowMs: 0,
        spikeWindow: 0,
        spikeK: 3,
        spikeMinDelta: 0,
        staleAfterMs: 0,
        maxFutureMs: 5000,
        sevRange: 'bad',
        sevRate: 'uncertain',
        sevStuck: 'uncertain',
        sevSpike: 'uncertain',
        sevDuplicate: 'bad',
        sevOutOfOrder: 'bad',
        sevFuture: 'bad',
        sevStale: 'bad',
        overrides: [],
        flaggedOutput: false,
      });
      rig.screen.receive({ payload: rd(1, T0) } as never);
      await waitFor(() => rig.out.length === 1);
      expect(rig.errors).to.have.length(0);
      expect(rig.statuses[0]).to.include({ fill: 'grey', text: 'ready' });
    });
  });

  it('cancels its stale timers on close (no reading after redeploy)', async function () {
    const rig = await load({ staleAfterMs: '100' });
    const sent: unknown[] = [];
    listen<unknown>(rig.screen, 'call:send', (c) => sent.push(c));
    rig.screen.receive({ payload: rd(1, T0) } as never);
    await waitFor(() => rig.out.length === 1 && sent.length === 1);
    await helper.unload();
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).to.have.length(1); // no stale reading was sent after close
  });
});
