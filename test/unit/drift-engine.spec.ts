// The drift stage's step (runtime/drift/drift-engine.ts) without Node-RED: routing, order, quality,
// score thinning, held and classified events, config refusals. The node spec covers the adapter.
import { expect } from 'chai';
import { DriftEngine, validateEngineConfig } from '../../runtime/drift/drift-engine.js';
import { TwinError } from '../../runtime/model/errors.js';

const ASSET = 'plant1/line1/extruder';
const T0 = Date.UTC(2026, 0, 1);

function rd(tag: string, i: number, value: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { asset: ASSET, tag, value, tsMs: T0 + i * 1000, quality: 'good', source: 'test', ...extra };
}

/** Shewhart with a 3-sample warm-up: μ = 10, σ = 1 from 10, 11, 9. */
const SHEWHART = { method: 'shewhart', params: { minInstances: 3 } };

describe('drift engine (runtime/drift/drift-engine.ts)', () => {
  it('refuses a bad config with BAD_CONFIG naming the field', () => {
    const refuse = (raw: Record<string, unknown>, re: RegExp) =>
      expect(() => validateEngineConfig(raw))
        .to.throw(TwinError, re)
        .with.property('code', 'BAD_CONFIG');
    refuse({ method: 'kswin' }, /kswin/);
    refuse({ historySamples: 50, classifyAfterSamples: 50 }, /classifyAfterSamples/);
    refuse({ related: [{ match: 'a', tags: ['other/asset'] }] }, /related tags of 'a'/);
    refuse({ uncertain: 'maybe' }, /uncertain/);
    refuse({ mode: 'multivariate', method: 'adwin' }, /hotelling-t2\+spe/);
  });

  it('with classification off an event goes out at detection, unclassified, and counts', () => {
    const e = new DriftEngine({ ...SHEWHART, classify: false });
    const outs = [10, 11, 9, 10, 30].map((x, i) => e.push(rd('p', i, x)));
    expect(outs.map((o) => o.events.length)).to.deep.equal([0, 0, 0, 0, 1]);
    expect(outs[4].events[0]).to.include({ asset: ASSET, tag: 'p', kind: 'unclassified', method: 'shewhart', direction: 'up' });
    expect(outs.every((o) => o.scores.length === 1)).to.equal(true);
    expect(e.eventCount).to.equal(1);
    expect(e.lastEvent).to.equal(outs[4].events[0]);
    expect(e.watchedCount).to.equal(1);
  });

  it('holds a detection for classifyAfterSamples readings, then classifies it', () => {
    const e = new DriftEngine({ ...SHEWHART, classifyAfterSamples: 3, historySamples: 40, minBeforeSamples: 5 });
    const xs = [10, 11, 9, 10, 10.5, 9.5, 10, 30, 30, 30, 30];
    const outs = xs.map((x, i) => e.push(rd('p', i, x)));
    const at = outs.findIndex((o) => o.events.length > 0);
    expect(at).to.equal(10); // detected at 7, sent three readings later
    // Classified (with what there is): the detector's own magnitude is kept beside the classifier's.
    expect(outs[at].events[0].evidence).to.include({ detectorMagnitude: 20 });
  });

  it('refuses an array, and an out-of-order reading without changing what follows', () => {
    const a = new DriftEngine(SHEWHART);
    const b = new DriftEngine(SHEWHART);
    expect(() => a.push([rd('p', 0, 1)]))
      .to.throw(TwinError)
      .with.property('code', 'BAD_PAYLOAD');
    const xs = [10, 11, 9, 10, 12];
    const outA = xs.map((x, i) => {
      const o = a.push(rd('p', i + 1, x));
      if (i === 2)
        expect(() => a.push(rd('p', 0, 1000)))
          .to.throw(TwinError)
          .with.property('code', 'OUT_OF_ORDER');
      return o;
    });
    const outB = xs.map((x, i) => b.push(rd('p', i + 1, x)));
    expect(outA).to.deep.equal(outB);
  });

  it('bad readings move nothing; uncertain ones are skipped unless uncertain = use', () => {
    const e = new DriftEngine(SHEWHART);
    expect(e.push(rd('p', 0, 1e9, { quality: 'bad' }))).to.deep.include({ outcome: 'skipped-bad', scores: [] });
    expect(e.push(rd('p', 1, 1e9, { quality: 'uncertain' })).outcome).to.equal('skipped-uncertain');
    const u = new DriftEngine({ ...SHEWHART, uncertain: 'use' });
    const o = u.push(rd('p', 1, 10, { quality: 'uncertain' }));
    expect(o.outcome).to.equal('used');
    expect(o.scores[0].quality).to.equal('uncertain');
  });

  it('takes an Estimate as evidence (or ignores it with classification off)', () => {
    const est = { asset: ASSET, tag: 'p', value: 10, variance: 0.1, model: 'local-level', tsMs: T0, quality: 'good' };
    expect(new DriftEngine(SHEWHART).push(est)).to.deep.include({ input: 'estimate', outcome: 'evidence' });
    expect(new DriftEngine({ ...SHEWHART, classify: false }).push(est).outcome).to.equal('ignored');
    expect(() => new DriftEngine(SHEWHART).push({ ...est, value: Number.NaN }))
      .to.throw(TwinError)
      .with.property('code', 'NOT_FINITE');
  });

  it('thins scores to every Nth; a detection always passes', () => {
    const e = new DriftEngine({ ...SHEWHART, classify: false, scoreEvery: 3 });
    const n = [10, 11, 9, 10, 10, 10, 30].map((x, i) => e.push(rd('p', i, x)).scores.length);
    expect(n).to.deep.equal([0, 0, 1, 0, 0, 1, 1]);
  });

  it('watches only the matching tags; an unwatched one is ignored', () => {
    const e = new DriftEngine({ ...SHEWHART, watch: ['**/extruder/melt_*'] });
    expect(e.push(rd('melt_temp', 0, 1)).outcome).to.equal('used');
    expect(e.push(rd('screw_speed', 0, 1)).outcome).to.equal('ignored');
    expect(e.watchedCount).to.equal(1);
  });

  it("relatedOf: the first matching rule, else the asset's other watched tags", () => {
    const e = new DriftEngine({ ...SHEWHART, related: [{ match: 'a', tags: ['b', 'c'] }] });
    for (const t of ['a', 'b', 'd']) e.push(rd(t, 0, 1));
    expect(e.relatedOf(ASSET, 'a')).to.deep.equal(['b', 'c']);
    expect(e.relatedOf(ASSET, 'd')).to.deep.equal(['a', 'b']);
  });

  it('multivariate: learning until the reference is fitted', () => {
    const e = new DriftEngine({ mode: 'multivariate', mv: { asset: ASSET, tags: ['x', 'y'], referenceRows: 10 } });
    expect(e.mvFitted).to.equal(false);
    expect(e.watchedCount).to.equal(2);
    for (let i = 0; i < 12; i++) {
      e.push(rd('x', i, Math.sin(i) + 10));
      e.push(rd('y', i, Math.cos(i * 1.3) + 5));
    }
    expect(e.mvFitted).to.equal(true);
  });
});
