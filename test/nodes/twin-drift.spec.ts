import { expect } from 'chai';
import { helper, nodeModule } from '../support/nr.js';
import { feedRig, loadNodeRig, type Msg, nodeRedPerSpec, type NodeRig, type Outputs } from '../support/node-rig.js';
import { gauss } from '../support/drift-mv-data.js';
import type { AnomalyScore, DriftEvent } from '../../runtime/model/drift.js';

const driftNode = nodeModule('twin-drift');

const ASSET = 'plant1/line1/extruder';
const T0 = Date.UTC(2026, 0, 1);
const STEP_MS = 1000;

type Rig = NodeRig & Outputs<{ events: DriftEvent; scores: AnomalyScore }>;

function rd(tag: string, i: number, value: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: ASSET, tag, value, tsMs: T0 + i * STEP_MS, quality: 'good', source: 'test', ...extra };
}

function load(cfg: Record<string, unknown>): Promise<Rig> {
  return loadNodeRig<{ events: DriftEvent; scores: AnomalyScore }>({
    modules: [driftNode],
    node: { id: 'd', type: 'twin-drift', name: 'drift', ...cfg },
    outputs: ['events', 'scores'],
  });
}

/** Feed payloads in order and wait until every one was completed or caught (and outputs delivered). */
const feed = (rig: Rig, payloads: unknown[]): Promise<void> =>
  feedRig(
    rig,
    payloads.map((payload) => ({ payload })),
  );

/**
 * Three coupled tags of one asset, `n` one-second samples; `shape(tag, i, value)` shapes them.
 * Levels/noise: a ≈ 200 ± 0.2, b ≈ 50 ± 0.5, c ≈ 10 ± 0.1.
 */
function line(n: number, seed: number, shape: (tag: string, i: number, v: number) => number = (_t, _i, v) => v, tags = ['a', 'b', 'c']) {
  const spec: Record<string, [number, number]> = { a: [200, 0.2], b: [50, 0.5], c: [10, 0.1] };
  const g = gauss(seed);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    for (const t of tags) {
      const [level, sd] = spec[t];
      out.push(rd(t, i, Number(shape(t, i, level + sd * g()).toFixed(4))));
    }
  }
  return out;
}

describe('twin-drift node', function () {
  this.timeout(60_000);
  nodeRedPerSpec();

  describe('config validation', function () {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['an unknown method', { method: 'magic' }, /unknown drift method "magic"/],
      ['a bad detector parameter', { method: 'adwin', params: { delta: '-1' } }, /delta/],
      ['an unknown detector parameter', { method: 'page-hinkley', params: { treshold: '10' } }, /unknown parameter 'treshold'/],
      [
        'classifyAfterSamples ≥ historySamples',
        { classifyAfterSamples: '700', historySamples: '600' },
        /classifyAfterSamples must be smaller/,
      ],
      ['a non-numeric scoreEvery', { scoreEvery: 'often' }, /scoreEvery/],
      ['a multivariate method without tags', { method: 'hotelling-t2+spe', params: { asset: ASSET } }, /tags must list at least 2/],
      ['a related rule without tags', { related: [{ match: 'a', tags: '' }] }, /related tags of 'a'/],
      ['an invalid uncertain policy', { uncertain: 'maybe' }, /uncertain must be skip or use/],
    ];
    for (const [what, cfg, re] of cases) {
      it(`refuses ${what}: node.error, red status, and every input refused through done(err)`, async function () {
        const rig = await load(cfg);
        expect(rig.errors.map(String).join('\n')).to.match(re);
        const st = rig.statuses[rig.statuses.length - 1];
        expect(st).to.include({ fill: 'red', shape: 'ring', text: 'bad config' });
        await feed(rig, [rd('a', 0, 1)]);
        expect(rig.caught).to.have.length(1);
        expect(rig.caught[0].error?.message).to.match(/not detecting/);
        expect(rig.scores).to.have.length(0);
      });
    }

    it('accepts the defaults (ADWIN, classification on) and says what it watches', async function () {
      const rig = await load({});
      expect(rig.errors).to.have.length(0);
      await feed(rig, [rd('a', 0, 1), rd('b', 0, 2)]);
      expect(rig.scores.map((m) => m.payload.method)).to.deep.equal(['adwin', 'adwin']);
      expect(rig.statuses[rig.statuses.length - 1]).to.include({ fill: 'green', text: 'watching 2 tags' });
    });
  });

  describe('bad input', function () {
    const bad: Array<[string, unknown, string]> = [
      ['a non-numeric value', rd('a', 1, 'hot'), 'NOT_NUMERIC'],
      ['NaN', rd('a', 1, NaN), 'NOT_FINITE'],
      ['Infinity', rd('a', 1, Infinity), 'NOT_FINITE'],
      ['a missing time', { ...rd('a', 1, 1), tsMs: undefined }, 'BAD_TIMESTAMP'],
      ['no asset', { ...rd('a', 1, 1), asset: '' }, 'BAD_PAYLOAD'],
      ['a string payload', 'zone1_temp=200', 'BAD_PAYLOAD'],
      ['an array payload', [rd('a', 1, 1)], 'BAD_PAYLOAD'],
      [
        'an Estimate with a NaN value',
        { asset: ASSET, tag: 'a', tsMs: T0, value: NaN, variance: 1, model: 'm', quality: 'good' },
        'NOT_FINITE',
      ],
    ];
    for (const [what, payload, code] of bad) {
      it(`${what} → done(err) (${code}), red status, nothing sent, and the node keeps working`, async function () {
        const rig = await load({});
        await feed(rig, [rd('a', 0, 1)]);
        await feed(rig, [payload]);
        expect(rig.caught).to.have.length(1);
        expect(rig.caught[0].error?.source?.id).to.equal('d');
        expect(rig.statuses[rig.statuses.length - 1]).to.include({ fill: 'red', text: code.toLowerCase().replace(/_/g, ' ') });
        expect(rig.scores).to.have.length(1);
        await feed(rig, [rd('a', 2, 1)]);
        expect(rig.scores).to.have.length(2);
        expect(rig.statuses[rig.statuses.length - 1]).to.include({ fill: 'green' });
      });
    }

    it('an out-of-order reading is refused (OUT_OF_ORDER) and not applied: later outputs are the same as without it', async function () {
      const data = line(400, 11, (t, i, v) => (t === 'a' && i >= 200 ? v + 2 : v));
      const clean = await load({ classify: false });
      await feed(clean, data);
      const cleanScores = clean.scores.map((m) => m.payload);
      const cleanEvents = clean.events.map((m) => m.payload);
      expect(cleanEvents.length).to.be.greaterThan(0);
      await helper.unload();

      const rig = await load({ classify: false });
      const withOld = [...data];
      withOld.splice(300 * 3, 0, rd('a', 100, 9999)); // 200 s old and far off: would move the detector a lot
      await feed(rig, withOld);
      expect(rig.caught).to.have.length(1);
      expect((rig.caught[0].error as { message: string }).message).to.match(/older than the last one/);
      expect(rig.scores.map((m) => m.payload)).to.deep.equal(cleanScores);
      expect(rig.events.map((m) => m.payload)).to.deep.equal(cleanEvents);
    });

    it('gaps in time are not errors; with resetAfterGapMs a tag starts afresh after a long silence', async function () {
      // 300 s at one level, an hour of silence, then 300 s 2 units higher.
      const before = line(300, 12, undefined, ['a']);
      const after = line(300, 13, (_t, _i, v) => v + 2, ['a']).map((r) => ({ ...r, tsMs: (r.tsMs as number) + 3_600_000 + 300_000 }));
      const plain = await load({ classify: false });
      await feed(plain, [...before, ...after]);
      expect(plain.caught).to.have.length(0);
      expect(plain.scores).to.have.length(600);
      expect(plain.events.length, 'the level change across the gap is a change').to.be.greaterThan(0);
      await helper.unload();

      const reset = await load({ classify: false, resetAfterGapMs: '600000' });
      await feed(reset, [...before, ...after]);
      expect(reset.caught).to.have.length(0);
      expect(reset.scores).to.have.length(600);
      expect(reset.events, 'restarted after the gap: nothing to compare the new level with').to.have.length(0);
    });
  });

  describe('quality', function () {
    it('bad-quality readings (however wild) do not move the detector: outputs equal those without them', async function () {
      const data = line(600, 21, (t, i, v) => (t === 'a' && i >= 250 ? v + 1.5 : v));
      const clean = await load({});
      await feed(clean, data);
      const cleanScores = clean.scores.map((m) => m.payload);
      const cleanEvents = clean.events.map((m) => m.payload);
      expect(cleanEvents.length).to.be.greaterThan(0);
      await helper.unload();

      const rig = await load({});
      const mixed: unknown[] = [];
      data.forEach((r, k) => {
        mixed.push(r);
        // After every 7th reading, a bad reading of the same tag, a millisecond later, far off.
        if (k % 7 === 0)
          mixed.push({
            ...r,
            tsMs: (r.tsMs as number) + 1,
            value: (r.value as number) + 500,
            quality: 'bad',
            qualityReason: 'BadSensorFailure',
          });
      });
      await feed(rig, mixed);
      expect(rig.caught).to.have.length(0);
      expect(rig.scores.map((m) => m.payload)).to.deep.equal(cleanScores);
      expect(rig.events.map((m) => m.payload)).to.deep.equal(cleanEvents);
    });

    it('uncertain readings are skipped by default, and with uncertain=use they move the detector and mark the score uncertain', async function () {
      const base = line(60, 22, undefined, ['a']);
      const data = [...base, rd('a', 60, 260, { quality: 'uncertain', qualityReason: 'spike' }), rd('a', 61, 200)];
      const skip = await load({ method: 'shewhart' });
      await feed(skip, data);
      expect(skip.scores).to.have.length(61);
      expect(skip.scores.every((m) => m.payload.quality === 'good')).to.equal(true);
      await helper.unload();

      const use = await load({ method: 'shewhart', uncertain: 'use' });
      await feed(use, data);
      expect(use.scores).to.have.length(62);
      const s = use.scores[60].payload;
      expect(s.quality).to.equal('uncertain');
      expect(s.score, 'a 60σ reading is far beyond the chart limit').to.be.greaterThan(1);
    });
  });

  describe('classification', function () {
    it('a step in one tag that the related tags share → process-change, with evidence.related showing who moved and by how much', async function () {
      const steps: Record<string, number> = { a: 3, b: -6, c: 1 };
      const rig = await load({ watch: 'a', related: [{ match: 'a', tags: 'b, c' }] });
      await feed(
        rig,
        line(600, 31, (t, i, v) => (i >= 300 ? v + steps[t] : v)),
      );
      expect(rig.events.length).to.be.greaterThan(0);
      const e = rig.events[0];
      expect(e.topic).to.equal(`${ASSET}/a/drift`);
      expect(e.payload).to.include({ asset: ASSET, tag: 'a', kind: 'process-change', method: 'adwin', direction: 'up' });
      expect(e.payload.startTsMs).to.be.at.most(e.payload.tsMs);
      expect(Math.abs(e.payload.startTsMs - (T0 + 300_000))).to.be.at.most(10_000);
      expect(e.payload.magnitude).to.be.closeTo(3, 0.3);
      const related = e.payload.evidence.related ?? [];
      expect(related.map((r) => r.tag)).to.deep.equal(['b', 'c']);
      for (const r of related) {
        expect(r.moved, r.tag).to.equal(true);
        expect(r.change, r.tag).to.be.closeTo(steps[r.tag], Math.abs(steps[r.tag]) * 0.2);
        expect(Math.abs(r.changeSigma), r.tag).to.be.greaterThan(3);
      }
      expect(String(e.payload.evidence.reason)).to.match(/related tag\(s\) b, c moved too/);
      // Only the watched tag has a detector and a score.
      expect(new Set(rig.scores.map((m) => m.payload.tag))).to.deep.equal(new Set(['a']));
    });

    it('a drift in one tag that the related tags (default: the other watched tags) do not follow → sensor-fault/drift', async function () {
      const rig = await load({});
      await feed(
        rig,
        line(700, 32, (t, i, v) => (t === 'a' && i >= 300 ? v + 0.01 * (i - 300) : v)),
      );
      const first = rig.events.find((m) => m.payload.tag === 'a');
      expect(first, 'an event on a').to.not.equal(undefined);
      const e = (first as Msg<DriftEvent>).payload;
      expect(e).to.include({ kind: 'sensor-fault', faultType: 'drift', direction: 'up' });
      expect(e.magnitude).to.be.greaterThan(0);
      const related = e.evidence.related ?? [];
      expect(related.map((r) => r.tag).sort()).to.deep.equal(['b', 'c']);
      expect(related.every((r) => r.moved === false)).to.equal(true);
      expect(
        rig.events.filter((m) => m.payload.tag !== 'a'),
        'no event on the quiet tags',
      ).to.have.length(0);
      expect(rig.statuses.some((st) => st.fill === 'yellow' && st.text === 'sensor: a')).to.equal(true);
    });

    it('a sensor that freezes (off its mean) while related tags go on → sensor-fault/stuck', async function () {
      const rig = await load({ related: [{ match: 'a', tags: 'b,c' }] });
      await feed(
        rig,
        line(600, 33, (t, i, v) => (t === 'a' && i >= 300 ? 200.9 : v)),
      );
      const e = rig.events.find((m) => m.payload.tag === 'a')?.payload;
      expect(e).to.include({ kind: 'sensor-fault', faultType: 'stuck' });
      expect(String(e?.evidence.reason)).to.match(/repeat 200.9/);
    });

    it('an isolated spike in one tag (Shewhart) → sensor-fault/spike', async function () {
      const rig = await load({ method: 'shewhart', params: { k: '6' }, classifyAfterSamples: '30' });
      await feed(
        rig,
        line(400, 34, (t, i, v) => (t === 'a' && i === 200 ? v + 5 : v)),
      );
      expect(rig.events).to.have.length(1);
      const e = rig.events[0].payload;
      expect(e).to.include({ tag: 'a', kind: 'sensor-fault', faultType: 'spike', method: 'shewhart' });
      expect(e.tsMs).to.equal(T0 + 200_000);
    });

    it('an estimate that moves with the tag corroborates a change no related tag shows; without it the change stays unclassified', async function () {
      const shape = (_t: string, i: number, v: number) => (i >= 300 ? v + 2 : v);
      const readings = line(600, 35, shape, ['a']);
      const alone = await load({});
      await feed(alone, readings);
      expect(alone.events[0].payload.kind).to.equal('unclassified');
      await helper.unload();

      const rig = await load({});
      const mixed: unknown[] = [];
      readings.forEach((r, i) => {
        mixed.push(r);
        // The model's expectation of a (from other inputs): the level, stepping with it.
        mixed.push({
          asset: ASSET,
          tag: 'a',
          tsMs: r.tsMs,
          value: i >= 300 ? 202 : 200,
          variance: 0.04,
          model: 'hybrid/test',
          quality: 'good',
        });
      });
      await feed(rig, mixed);
      expect(rig.caught).to.have.length(0);
      expect(rig.scores, 'estimates give no score').to.have.length(600);
      const e = rig.events[0].payload;
      expect(e.kind).to.equal('process-change');
      expect(e.evidence.estimate).to.equal(true);
      expect(Math.abs(e.evidence.residualChangeSigma as number)).to.be.lessThan(3);
    });

    it('a held detection is sent (classified with what there is) once its sensor gives only bad readings', async function () {
      const rig = await load({ related: [{ match: 'a', tags: 'b' }] });
      const data = line(300, 37, (t, i, v) => (t === 'a' && i >= 200 ? v + 3 : v), ['a', 'b']);
      await feed(rig, data);
      expect(rig.events, 'still waiting for readings after the change').to.have.length(0);
      const dead = [...Array(119)].map((_, k) => rd('a', 300 + k, 0, { quality: 'bad', qualityReason: 'BadSensorFailure' }));
      await feed(rig, dead);
      expect(rig.events, '119 bad readings in a row: still held').to.have.length(0);
      await feed(rig, [rd('a', 419, 0, { quality: 'bad' })]);
      expect(rig.events).to.have.length(1);
      expect(rig.events[0].payload).to.include({ tag: 'a', kind: 'sensor-fault', faultType: 'drift' });
      expect(rig.events[0].payload.evidence.related?.[0]).to.include({ tag: 'b', moved: false });
      expect(rig.events[0].payload.magnitude).to.be.closeTo(3, 0.5);
    });

    it('with classification off an event goes out at detection, unclassified', async function () {
      const rig = await load({ classify: false });
      await feed(
        rig,
        line(400, 36, (t, i, v) => (t === 'a' && i >= 200 ? v + 3 : v)),
      );
      const e = rig.events[0].payload;
      expect(e.kind).to.equal('unclassified');
      expect(e.evidence.related).to.equal(undefined);
      const at = rig.scores.findIndex((m) => m.payload.tag === 'a' && m.payload.tsMs === e.tsMs);
      expect(rig.scores[at].payload.score).to.be.at.least(1);
    });
  });

  describe('per-tag isolation and outputs', function () {
    it("a change in one tag leaves the other tags' scores exactly as they were, also for the same tag of another asset", async function () {
      const other = (r: Record<string, unknown>) => ({ ...r, asset: 'plant1/line2/extruder' });
      const quiet = line(400, 41);
      const busy = line(400, 41, (t, i, v) => (t === 'a' && i >= 150 ? v + 4 : v));
      const ref = await load({ classify: false });
      await feed(ref, [...quiet, ...quiet.map(other)]);
      const refOthers = ref.scores.filter((m) => !(m.payload.tag === 'a' && m.payload.asset === ASSET)).map((m) => m.payload);
      await helper.unload();

      const rig = await load({ classify: false });
      await feed(rig, [...busy, ...quiet.map(other)]);
      const others = rig.scores.filter((m) => !(m.payload.tag === 'a' && m.payload.asset === ASSET)).map((m) => m.payload);
      expect(others).to.deep.equal(refOthers);
      expect(rig.events.length).to.be.greaterThan(0);
      expect(rig.events.every((m) => m.payload.tag === 'a' && m.payload.asset === ASSET)).to.equal(true);
    });

    it('scores: topic <asset>/<tag>/score, thinned to every Nth and on change', async function () {
      const data = line(100, 42, undefined, ['a']);
      const every = await load({ scoreEvery: '10' });
      await feed(every, data);
      expect(every.scores).to.have.length(10);
      expect(every.scores[0].topic).to.equal(`${ASSET}/a/score`);
      expect(every.scores.map((m) => m.payload.tsMs)).to.deep.equal([...Array(10)].map((_, k) => T0 + (10 * k + 9) * STEP_MS));
      await helper.unload();

      const all = await load({});
      await feed(all, data);
      const full = all.scores.map((m) => m.payload.score);
      await helper.unload();
      const onChange = await load({ scoreMinChange: '0.05' });
      await feed(onChange, data);
      // The expected subset, computed from the full series with the same rule.
      const expected: number[] = [];
      let last = NaN;
      for (const s of full) {
        if (Number.isFinite(last) && Math.abs(s - last) < 0.05) continue;
        expected.push(s);
        last = s;
      }
      expect(onChange.scores.map((m) => m.payload.score)).to.deep.equal(expected);
      expect(expected.length).to.be.lessThan(full.length);
    });

    it('watch list with globs: unwatched tags give nothing', async function () {
      const rig = await load({ watch: 'a, plant1/*/extruder/c' });
      await feed(rig, line(5, 43));
      expect(new Set(rig.scores.map((m) => m.payload.tag))).to.deep.equal(new Set(['a', 'c']));
      expect(rig.statuses[rig.statuses.length - 1]).to.include({ text: 'watching 2 tags' });
    });
  });

  describe('multivariate (Hotelling T² + SPE)', function () {
    it('learns the reference, scores rows as tag "multivariate", and flags a sensor that leaves the correlation', async function () {
      const rig = await load({
        method: 'hotelling-t2+spe',
        params: { asset: ASSET, tags: 'a, b, c', referenceRows: '200' },
      });
      // One common factor drives all three; after row 300, a is offset by a sensor fault.
      const g = gauss(51);
      const data: unknown[] = [];
      for (let i = 0; i < 400; i++) {
        const f = g();
        const a = 200 + 2 * f + 0.1 * g() + (i >= 300 ? 1.5 : 0);
        const b = 50 + 5 * f + 0.25 * g();
        const c = 10 + 1 * f + 0.05 * g();
        data.push(rd('a', i, a), rd('b', i, b), rd('c', i, c));
      }
      await feed(rig, data);
      expect(rig.caught).to.have.length(0);
      expect(rig.scores).to.have.length(400 - 200);
      expect(rig.scores[0].topic).to.equal(`${ASSET}/multivariate/score`);
      expect(rig.scores.slice(0, 100).filter((m) => m.payload.score >= 1).length, 'in control before the fault').to.be.lessThan(10);
      const e = rig.events.find((m) => m.payload.startTsMs >= T0 + 300_000)?.payload;
      expect(e, 'an event after the fault').to.not.equal(undefined);
      expect(e).to.include({ tag: 'a', kind: 'sensor-fault' });
      expect(String(e?.method)).to.match(/spe/);
    });
  });

  describe('twin-screen flags (screenFlags)', function () {
    /** n readings of tag `a` around 200; `flag(i)` gives the qualityReason of reading i (undefined = clean). */
    function flagged(
      n: number,
      seed: number,
      flag: (i: number) => string | undefined,
      value: (i: number, v: number) => number = (_i, v) => v,
      tag = 'a',
    ) {
      const g = gauss(seed);
      const out: Record<string, unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const v = Number(value(i, 200 + 0.2 * g()).toFixed(4));
        const reason = flag(i);
        out.push(reason ? rd(tag, i, v, { quality: 'uncertain', qualityReason: reason }) : rd(tag, i, v));
      }
      return out;
    }
    const screenEvents = (rig: Rig) => rig.events.map((m) => m.payload).filter((e) => e.method === 'twin-screen');

    it('a run of stuck-flagged readings → one sensor-fault/stuck event, starting at the first flagged reading; the readings move no detector', async function () {
      // Frozen at 200.5 from 100 to 249, flagged by the screen from 129 (its stuckSamples = 30), with one
      // unflagged reading inside the run (a short gap keeps the episode); a second run from 300.
      const stuck = (i: number) => (i >= 129 && i < 250 && i !== 180) || (i >= 300 && i < 340);
      const data = flagged(
        400,
        61,
        (i) => (stuck(i) ? 'stuck' : undefined),
        (i, v) => ((i >= 100 && i < 250) || (i >= 290 && i < 340) ? 200.5 : v),
      );
      const rig = await load({ related: [] });
      await feed(rig, data);
      expect(rig.caught).to.have.length(0);
      const ev = screenEvents(rig);
      expect(ev.map((e) => [e.faultType, e.startTsMs, e.tsMs])).to.deep.equal([
        ['stuck', T0 + 129 * STEP_MS, T0 + 129 * STEP_MS],
        ['stuck', T0 + 300 * STEP_MS, T0 + 300 * STEP_MS],
      ]);
      const e = ev[0];
      expect(e).to.include({
        asset: ASSET,
        tag: 'a',
        kind: 'sensor-fault',
        method: 'twin-screen',
        direction: 'both',
        magnitude: 0,
        quality: 'uncertain',
      });
      expect(e.evidence).to.include({ reason: 'flagged by twin-screen', qualityReason: 'stuck' });
      expect(rig.events[0].topic).to.equal(`${ASSET}/a/drift`);
      // Still skipped: only the unflagged readings gave a score.
      const clean = data.filter((r) => r.quality === 'good').length;
      expect(rig.scores).to.have.length(clean);
      expect(rig.statuses.some((st) => st.fill === 'yellow' && st.text === 'sensor: a')).to.equal(true);
    });

    it('isolated spike-flagged readings → spike events, at most one per spikeEventHoldOffSamples readings, counting the spikes in the evidence', async function () {
      // Spikes (+5) at 100, 120, 150, 170, 200; hold-off 60 readings: events at 100 and 170 (70 after 100);
      // 200 is only 30 after 170. twin-screen joins reasons with ';' after the original one.
      const at = [100, 120, 150, 170, 200];
      const data = flagged(
        260,
        62,
        (i) => (at.includes(i) ? (i === 170 ? 'BadSensor;spike' : 'spike') : undefined),
        (i, v) => (at.includes(i) ? v + 5 : v),
      );
      const rig = await load({});
      await feed(rig, data);
      const ev = screenEvents(rig);
      expect(ev.map((e) => [e.faultType, e.tsMs, e.startTsMs])).to.deep.equal([
        ['spike', T0 + 100 * STEP_MS, T0 + 100 * STEP_MS],
        ['spike', T0 + 170 * STEP_MS, T0 + 170 * STEP_MS],
      ]);
      expect(ev[0].evidence.spikesSinceLastEvent).to.equal(1);
      expect(ev[1].evidence.spikesSinceLastEvent, 'spikes at 120, 150 and 170').to.equal(3);
      expect(ev[1].evidence.qualityReason).to.equal('BadSensor;spike');
      // magnitude: value − the recent median (≈ 200).
      for (const [k, e] of ev.entries()) {
        const i = k === 0 ? 100 : 170;
        expect(e.magnitude).to.be.closeTo((data[i].value as number) - 200, 0.3);
        expect(e.magnitude).to.be.closeTo((data[i].value as number) - (e.evidence.recentMedian as number), 1e-9);
      }
      await helper.unload();

      // A shorter hold-off lets every isolated spike through.
      const all = await load({ spikeEventHoldOffSamples: '10' });
      await feed(all, data);
      expect(screenEvents(all).map((e) => e.tsMs)).to.deep.equal(at.map((i) => T0 + i * STEP_MS));
    });

    it('screenFlags off → no event from the flags', async function () {
      const data = flagged(
        200,
        63,
        (i) => (i >= 50 && i < 120 ? 'stuck' : i === 150 ? 'spike' : undefined),
        (i, v) => (i >= 20 && i < 120 ? 200.5 : i === 150 ? v + 5 : v),
      );
      const on = await load({});
      await feed(on, data);
      expect(screenEvents(on).map((e) => e.faultType)).to.deep.equal(['stuck', 'spike']);
      await helper.unload();
      const off = await load({ screenFlags: false });
      await feed(off, data);
      expect(screenEvents(off)).to.deep.equal([]);
      expect(off.scores, 'the flagged readings are skipped either way').to.have.length(on.scores.length);
    });

    it('reasons other than stuck/spike (range>high, rate, stale, and words that merely contain them) give no event from this path', async function () {
      const reasons = ['range>high', 'rate', 'stale', 'range>high;rate', 'spiked', 'unstuck', 'duplicate'];
      const data = flagged(200, 64, (i) => (i >= 100 && i < 100 + reasons.length ? reasons[i - 100] : undefined));
      const rig = await load({});
      await feed(rig, data);
      expect(rig.caught).to.have.length(0);
      expect(screenEvents(rig)).to.deep.equal([]);
      // …while range>high together with spike does count.
      await feed(rig, [rd('a', 300, 260, { quality: 'bad', qualityReason: 'range>high;spike' })]);
      expect(screenEvents(rig).map((e) => [e.faultType, e.quality])).to.deep.equal([['spike', 'bad']]);
    });

    it('unwatched tags are ignored, even when flagged', async function () {
      const a = flagged(
        100,
        65,
        (i) => (i === 50 ? 'spike' : undefined),
        (i, v) => (i === 50 ? v + 5 : v),
        'a',
      );
      const b = flagged(
        100,
        66,
        (i) => (i >= 40 ? 'stuck' : i === 20 ? 'spike' : undefined),
        (i, v) => (i >= 10 ? 200.5 : v),
        'b',
      );
      const rig = await load({ watch: 'a' });
      const mixed: unknown[] = [];
      a.forEach((r, i) => mixed.push(r, b[i]));
      await feed(rig, mixed);
      expect(screenEvents(rig).map((e) => [e.tag, e.faultType])).to.deep.equal([['a', 'spike']]);
      await helper.unload();
      // Related-but-unwatched tags are kept for evidence only: no event either.
      const rel = await load({ watch: 'a', related: [{ match: 'a', tags: 'b' }] });
      await feed(rel, mixed);
      expect(screenEvents(rel).map((e) => [e.tag, e.faultType])).to.deep.equal([['a', 'spike']]);
    });

    it('refuses a bad spikeEventHoldOffSamples', async function () {
      const rig = await load({ spikeEventHoldOffSamples: '0' });
      expect(rig.errors.map(String).join('\n')).to.match(/spikeEventHoldOffSamples must be an integer ≥ 1/);
      expect(rig.statuses[rig.statuses.length - 1]).to.include({ fill: 'red', text: 'bad config' });
    });
  });
});
