/**
 * twin-drift on the simulated extrusion line, in a real Node-RED runtime: the simulator runs
 * headless (examples/plant-sim, deterministic for its seed), its samples go into twin-drift as
 * Readings, and the faults it injects must come out as sensor faults, its process disturbances
 * as process changes. The node config is the one recommended for the demo flow (node defaults
 * plus the watched and related tags), the same for every scenario.
 */
import { expect } from 'chai';
import type { Node, NodeMessage } from 'node-red';
import { runHeadless, assetPath, DEFAULT_PREFIX, type TagName } from '../../examples/plant-sim/index.js';
import type { AnomalyScore, DriftEvent } from '../../runtime/model/drift.js';
import { helper, nodeModule } from '../support/nr.js';
import { waitFor } from '../support/ports.js';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const driftNode = nodeModule('twin-drift');
const screenNode = nodeModule('twin-screen');

const ASSET = assetPath(DEFAULT_PREFIX);
const START = Date.UTC(2026, 0, 5, 6, 0, 0);
const HOUR_MS = 3_600_000;
const FAULT_AT_MS = HOUR_MS;

/** The tags the demo flow ingests, minus quality_index (pinned at 100 %: no usable noise level). */
const WATCHED: TagName[] = [
  'zone1_temp',
  'zone2_temp',
  'zone3_temp',
  'melt_pressure',
  'melt_temp',
  'motor_power',
  'throughput',
  'vibration',
  'screw_speed',
];

/** Recommended demo config (also in the report to the lead). */
export const DEMO_DRIFT_CONFIG = {
  method: 'adwin',
  watch: WATCHED.join(', '),
  related: [{ match: 'zone*_temp', tags: 'zone1_temp, zone2_temp, zone3_temp, melt_temp' }],
  classify: true,
  uncertain: 'skip',
  scoreEvery: '5',
};

type Msg<P> = NodeMessage & { payload: P; error?: { message: string } };
interface Run {
  events: DriftEvent[];
  scores: AnomalyScore[];
  errors: string[];
  readings: number;
}

function listen<T>(n: Node, event: string, fn: (x: T) => void): void {
  (n as unknown as { on(e: string, f: (x: T) => void): void }).on(event, fn);
}

/** Simulate `durationMs` with `commands`, feed every watched sample through twin-drift, collect its outputs. */
async function simulateThroughNode(
  durationMs: number,
  commands: Array<{ atMs: number; command: string }>,
  seed = 7,
  daysToFailure?: number,
): Promise<Run & { tripTsMs: number }> {
  const rows = runHeadless(
    { seed, startTsMs: START, publishIntervalMs: 1000, ...(daysToFailure ? { daysToFailure } : {}) },
    durationMs,
    commands,
  );
  const trip = rows.find((r) => r.readings.alarm.value === 1);
  const flow = [
    { id: 'd', type: 'twin-drift', name: 'drift', ...DEMO_DRIFT_CONFIG, wires: [['e'], ['s']] },
    { id: 'e', type: 'helper' },
    { id: 's', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['d'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
    { id: 'q', type: 'complete', scope: ['d'], uncaught: false, wires: [['z']] },
    { id: 'z', type: 'helper' },
  ];
  await helper.load([driftNode, catchNode, completeNode] as never, flow);
  const run = {
    events: [] as DriftEvent[],
    scores: [] as AnomalyScore[],
    errors: [] as string[],
    readings: 0,
    tripTsMs: trip ? trip.tsMs : Infinity,
  };
  let handled = 0;
  listen<Msg<DriftEvent>>(helper.getNode('e'), 'input', (m) => run.events.push(m.payload));
  listen<Msg<AnomalyScore>>(helper.getNode('s'), 'input', (m) => run.scores.push(m.payload));
  listen<Msg<unknown>>(helper.getNode('k'), 'input', (m) => {
    run.errors.push(String(m.error?.message));
    handled++;
  });
  listen<unknown>(helper.getNode('z'), 'input', () => handled++);
  const node = helper.getNode('d');
  for (const row of rows) {
    for (const tag of WATCHED) {
      const s = row.readings[tag];
      node.receive({
        topic: `${ASSET}/${tag}`,
        payload: { asset: ASSET, tag, value: s.value, tsMs: row.tsMs, quality: s.quality, source: 'sim' },
      } as never);
      run.readings++;
    }
    // Let Node-RED deliver between rows so the queues stay short.
    if (run.readings % 4500 === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => handled >= run.readings, 60_000, 20, 'every reading handled');
  await new Promise((r) => setTimeout(r, 50));
  return run;
}

/**
 * twin-screen as the demo flow configures it for these tags (scripts/make-demo-flow.py: spike
 * window 11 on melt_temp and the zones, stuck after 30 equal readings on the zones), without the
 * wall-clock stale check (the simulated time is not now).
 */
const DEMO_SCREEN_CONFIG = {
  lowLimit: '',
  highLimit: '',
  maxRatePerS: '',
  stuckTolerance: 0,
  stuckSamples: 0,
  stuckWindowMs: 0,
  spikeWindow: 0,
  spikeK: 6,
  spikeMinDelta: 3,
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
  flaggedOutput: false,
  outputs: 1,
  overrides: [
    { match: 'zone*_temp', lowLimit: 100, highLimit: 300, maxRatePerS: 5, stuckSamples: 30, spikeWindow: 11 },
    { match: 'melt_temp', lowLimit: 100, highLimit: 320, maxRatePerS: 5, spikeWindow: 11 },
    { match: 'melt_pressure', lowLimit: 0, highLimit: 400, spikeWindow: 11 },
    { match: 'vibration', lowLimit: 0, highLimit: 50, spikeWindow: 11 },
  ],
};

/** Simulate, feed every watched sample through twin-screen → twin-drift (demo configs), collect the events. */
async function simulateThroughScreen(
  durationMs: number,
  commands: Array<{ atMs: number; command: string }>,
  seed = 7,
): Promise<Run & { screened: Array<{ tag: string; tsMs: number; qualityReason?: string }> }> {
  const rows = runHeadless({ seed, startTsMs: START, publishIntervalMs: 1000 }, durationMs, commands);
  const flow = [
    { id: 'sc', type: 'twin-screen', name: 'screen', ...DEMO_SCREEN_CONFIG, wires: [['d', 'o']] },
    { id: 'o', type: 'helper' },
    { id: 'd', type: 'twin-drift', name: 'drift', ...DEMO_DRIFT_CONFIG, wires: [['e'], ['s']] },
    { id: 'e', type: 'helper' },
    { id: 's', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['sc', 'd'], uncaught: false, wires: [['k']] },
    { id: 'k', type: 'helper' },
    { id: 'q', type: 'complete', scope: ['d'], uncaught: false, wires: [['z']] },
    { id: 'z', type: 'helper' },
  ];
  await helper.load([screenNode, driftNode, catchNode, completeNode] as never, flow);
  const run = {
    events: [] as DriftEvent[],
    scores: [] as AnomalyScore[],
    errors: [] as string[],
    readings: 0,
    screened: [] as Array<{ tag: string; tsMs: number; qualityReason?: string }>,
  };
  let handled = 0;
  listen<Msg<DriftEvent>>(helper.getNode('e'), 'input', (m) => run.events.push(m.payload));
  listen<Msg<{ tag: string; tsMs: number; qualityReason?: string }>>(helper.getNode('o'), 'input', (m) => {
    if (m.payload.qualityReason) run.screened.push({ tag: m.payload.tag, tsMs: m.payload.tsMs, qualityReason: m.payload.qualityReason });
  });
  listen<Msg<unknown>>(helper.getNode('k'), 'input', (m) => {
    run.errors.push(String(m.error?.message));
    handled++;
  });
  listen<unknown>(helper.getNode('z'), 'input', () => handled++);
  const node = helper.getNode('sc');
  for (const row of rows) {
    for (const tag of WATCHED) {
      const s = row.readings[tag];
      node.receive({
        topic: `${ASSET}/${tag}`,
        payload: { asset: ASSET, tag, value: s.value, tsMs: row.tsMs, quality: s.quality, source: 'sim' },
      } as never);
      run.readings++;
    }
    if (run.readings % 4500 === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => handled >= run.readings, 60_000, 20, 'every reading handled');
  await new Promise((r) => setTimeout(r, 50));
  return run;
}

function describeEvent(e: DriftEvent): string {
  const moved = (e.evidence.related ?? []).filter((r) => r.moved).map((r) => `${r.tag} ${r.changeSigma.toFixed(1)}σ`);
  return `${e.tag} ${e.kind}${e.faultType ? '/' + e.faultType : ''} at +${((e.tsMs - START) / 60_000).toFixed(1)} min (start +${((e.startTsMs - START) / 60_000).toFixed(1)}), magnitude ${e.magnitude.toFixed(2)}, moved: [${moved.join(', ')}], ${String(e.evidence.reason)}`;
}

describe('twin-drift on the simulated extrusion line (headless simulator → real Node-RED)', function () {
  this.timeout(120_000);
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it('a thermocouple drift on zone2_temp (20 °C/h) is detected and classified sensor-fault/drift; no tag is flagged before it', async function () {
    const run = await simulateThroughNode(FAULT_AT_MS + 30 * 60_000, [{ atMs: FAULT_AT_MS, command: 'drift zone2_temp 20' }]);
    expect(run.errors).to.deep.equal([]);
    // Every 5th score per tag, plus the readings that raised a detection (those always pass).
    const perTag = Math.floor(run.readings / WATCHED.length / 5);
    for (const tag of WATCHED) {
      const n = run.scores.filter((s) => s.tag === tag).length;
      expect(n, `scores of ${tag}`).to.be.within(perTag, perTag + 20);
    }
    const before = run.events.filter((e) => e.startTsMs < START + FAULT_AT_MS);
    expect(before.map(describeEvent), 'false alarms in the hour before the fault').to.deep.equal([]);

    const first = run.events.find((e) => e.tag === 'zone2_temp');
    expect(first, 'an event on zone2_temp').to.not.equal(undefined);
    const e = first as DriftEvent;
    const text = describeEvent(e);
    expect(e.kind, text).to.equal('sensor-fault');
    expect(e.faultType, text).to.equal('drift');
    expect(e).to.include({ asset: ASSET, method: 'adwin', direction: 'up', quality: 'good' });
    expect(e.startTsMs, text).to.be.at.least(START + FAULT_AT_MS);
    expect(e.tsMs - (START + FAULT_AT_MS), 'detected within 10 simulated minutes').to.be.lessThan(10 * 60_000);
    expect(e.magnitude, text).to.be.greaterThan(0);
    // The evidence names the related tags and says none of them moved.
    const related = e.evidence.related ?? [];
    expect(related.map((r) => r.tag).sort()).to.deep.equal(['melt_temp', 'zone1_temp', 'zone3_temp']);
    expect(
      related.filter((r) => r.moved),
      text,
    ).to.deep.equal([]);
    // The drift goes on, so the detector (restarting after each detection) flags it again: every
    // later detection is the same episode, classified against the level before it began.
    const all = run.events.filter((e2) => e2.tag === 'zone2_temp');
    expect(all.length, 'repeated detections of the continuing drift').to.be.greaterThan(2);
    for (const later of all.slice(1)) {
      expect(later.kind, describeEvent(later)).to.equal('sensor-fault');
      expect(later.faultType, describeEvent(later)).to.equal('drift');
      expect(later.evidence.episodeStartTsMs, describeEvent(later)).to.equal(e.startTsMs);
    }
    expect(all[all.length - 1].magnitude, 'the episode magnitude grows with the drift').to.be.greaterThan(all[0].magnitude * 2);
    // No other tag is blamed for the thermocouple's drift.
    expect(run.events.filter((e2) => e2.tag !== 'zone2_temp').map(describeEvent)).to.deep.equal([]);
  });

  it('a process disturbance (feed starvation) is detected as process-change, with the related tags that moved', async function () {
    const run = await simulateThroughNode(FAULT_AT_MS + 20 * 60_000, [{ atMs: FAULT_AT_MS, command: 'disturb feed_starve 0.3' }]);
    expect(run.errors).to.deep.equal([]);
    expect(run.events.filter((e) => e.startTsMs < START + FAULT_AT_MS).map(describeEvent), 'false alarms before').to.deep.equal([]);
    const after = run.events.filter((e) => e.startTsMs >= START + FAULT_AT_MS - 60_000);
    expect(after.length).to.be.greaterThan(0);
    const flagged = new Set(after.map((e) => e.tag));
    // Starving the feed throat moves throughput, melt pressure and drive power together.
    for (const tag of ['throughput', 'melt_pressure', 'motor_power']) expect(flagged.has(tag), `${tag} flagged`).to.equal(true);
    for (const e of after) {
      const text = describeEvent(e);
      expect(e.kind, text).to.equal('process-change');
      expect(e.faultType, text).to.equal(undefined);
      expect(e.direction, text).to.equal('down');
      const moved = (e.evidence.related ?? []).filter((r) => r.moved);
      expect(moved.length, text).to.be.at.least(2);
      for (const r of moved) {
        expect(Math.abs(r.changeSigma), text).to.be.at.least(3);
        expect(Math.sign(r.change), `${r.tag} moved down with the feed`).to.equal(-1);
      }
    }
    const thr = after.find((e) => e.tag === 'throughput') as DriftEvent;
    // 30 % starvation takes 60 % × 0.3 = 18 % of the 160 kg/h.
    expect(thr.magnitude).to.be.closeTo(-0.18 * 160, 3);
  });

  it('slow gearbox wear (daysToFailure 0.1) before the trip: classified detections are mostly process-change; vibration is never called a sensor fault while the related tags moved', async function () {
    // Wear raises vibration (∝ wear³) and drive power (∝ wear²) and lowers throughput; the bearing
    // trips the line after about 2.3 h. Measured outside this spec with the same config, seeds 1..8:
    // 58–80 % of the classified pre-trip events are process-change (seed 7: 15 of 26).
    const run = await simulateThroughNode(2.5 * HOUR_MS, [], 7, 0.1);
    expect(run.errors).to.deep.equal([]);
    expect(run.tripTsMs, 'the worn bearing trips the line').to.be.lessThan(START + 2.5 * HOUR_MS);
    const pre = run.events.filter((e) => e.tsMs < run.tripTsMs);
    const classified = pre.filter((e) => e.kind !== 'unclassified');
    const processChange = classified.filter((e) => e.kind === 'process-change');
    const summary = classified.map(describeEvent).join('\n');
    expect(classified.length, 'classified detections of the wear').to.be.at.least(10);
    expect(processChange.length / classified.length, `share of process-change among\n${summary}`).to.be.greaterThan(0.5);
    // The tags wear moves are the ones flagged as a process change.
    const pcTags = new Set(processChange.map((e) => e.tag));
    expect(pcTags.has('vibration'), 'vibration flagged as process-change').to.equal(true);
    expect(
      [...pcTags].every((t) => ['vibration', 'motor_power', 'throughput', 'melt_pressure'].includes(t)),
      [...pcTags].join(', '),
    ).to.equal(true);
    // Never a sensor fault on vibration while the related tags, together, moved.
    for (const e of pre.filter((x) => x.tag === 'vibration' && x.kind === 'sensor-fault')) {
      const co = e.evidence.corroboration as { chi2Corroborates: boolean; corroborated: boolean; pValue: number };
      expect(co.corroborated, describeEvent(e)).to.equal(false);
      expect(co.pValue, describeEvent(e)).to.be.at.least(0.01);
    }
    // Process-change events say how they were corroborated, with the combined test in the evidence.
    for (const e of processChange) {
      const co = e.evidence.corroboration as { perTag: string[]; chi2Corroborates: boolean; dof: number };
      expect(co.perTag.length > 0 || co.chi2Corroborates, describeEvent(e)).to.equal(true);
      expect(co.dof, describeEvent(e)).to.be.greaterThan(0);
      // Wear moves drive power up and throughput down: where they moved on their own, it is that way.
      for (const r of e.evidence.related ?? []) {
        if (!r.moved) continue;
        if (r.tag === 'motor_power' || r.tag === 'vibration') expect(r.change, `${r.tag} in ${describeEvent(e)}`).to.be.greaterThan(0);
        if (r.tag === 'throughput' || r.tag === 'melt_pressure') expect(r.change, `${r.tag} in ${describeEvent(e)}`).to.be.lessThan(0);
      }
    }
    // No temperature is blamed for the wear.
    expect(pre.filter((e) => /^zone|^melt_temp/.test(e.tag)).map(describeEvent)).to.deep.equal([]);
  });

  it('injected spike and stuck faults, screened by twin-screen, come out of twin-drift as sensor-fault/spike and sensor-fault/stuck', async function () {
    const faultAtMs = 10 * 60_000;
    const run = await simulateThroughScreen(faultAtMs + 20 * 60_000, [
      { atMs: faultAtMs, command: 'spike melt_temp 15 0.01' },
      { atMs: faultAtMs, command: 'stuck zone1_temp' },
    ]);
    expect(run.errors).to.deep.equal([]);
    const fromScreen = run.events.filter((e) => e.method === 'twin-screen');
    const summary = fromScreen.map(describeEvent).join('\n');
    for (const e of fromScreen) {
      expect(e, describeEvent(e)).to.include({ asset: ASSET, kind: 'sensor-fault', direction: 'both' });
      expect(e.evidence.reason).to.equal('flagged by twin-screen');
    }

    // stuck: one event, from the first reading twin-screen flagged stuck on zone1_temp.
    const stuck = fromScreen.filter((e) => e.faultType === 'stuck');
    expect(
      stuck.map((e) => e.tag),
      summary,
    ).to.deep.equal(['zone1_temp']);
    const firstStuckFlag = run.screened.find((r) => r.tag === 'zone1_temp' && r.qualityReason?.split(';').includes('stuck'));
    expect(firstStuckFlag, 'twin-screen flagged zone1_temp stuck').to.not.equal(undefined);
    expect(stuck[0].startTsMs).to.equal(firstStuckFlag?.tsMs);
    expect(stuck[0].startTsMs).to.be.at.least(START + faultAtMs);
    expect(stuck[0].magnitude).to.equal(0);

    // spikes: with the demo's screen (Hampel k = 6 over 11 readings, at least 3 units) ordinary noise on
    // the temperatures is not flagged, so none of them has a spike event before the fault (melt_pressure's
    // heavier-tailed noise still gives a rare one: 2 in 90 simulated minutes when measured over 3 seeds);
    // the injected ±15 °C spikes come out at their size.
    const early = fromScreen.filter((e) => e.faultType === 'spike' && e.tsMs < START + faultAtMs && e.tag !== 'melt_pressure');
    expect(early.map(describeEvent), 'spike events before the fault').to.deep.equal([]);
    const melt = fromScreen.filter((e) => e.faultType === 'spike' && e.tag === 'melt_temp');
    const big = melt.filter((e) => Math.abs(e.magnitude) >= 10);
    expect(big.length, summary).to.be.at.least(2);
    for (const e of big) {
      expect(e.tsMs, describeEvent(e)).to.be.at.least(START + faultAtMs);
      expect(Math.abs(e.magnitude), describeEvent(e)).to.be.within(12, 18);
      expect(e.startTsMs).to.equal(e.tsMs);
    }
    // Rate limit: one spike event per 60 readings (1 Hz) of a tag at most, the evidence counting the flags.
    for (const tag of new Set(fromScreen.map((e) => e.tag))) {
      const ev = fromScreen.filter((e) => e.faultType === 'spike' && e.tag === tag);
      for (let k = 1; k < ev.length; k++) expect(ev[k].tsMs - ev[k - 1].tsMs, `${tag} hold-off`).to.be.at.least(60_000);
      const flags = run.screened.filter((r) => r.tag === tag && r.qualityReason?.split(';').includes('spike'));
      const counted = ev.reduce((n, e) => n + (e.evidence.spikesSinceLastEvent as number), 0);
      expect(counted, `${tag}: spikes counted up to its last event`).to.be.at.most(flags.length);
      expect(counted, `${tag}: at least one spike per event`).to.be.at.least(ev.length);
    }
    // No stuck event before the fault, and none on a tag that did not freeze.
    expect(fromScreen.filter((e) => e.faultType === 'stuck' && e.tsMs < START + faultAtMs).map(describeEvent)).to.deep.equal([]);
  });
});
