// twin-alarm's state snapshot (runtime/alarm/alarm-state.ts): a detector, and the whole AnomalyAlarms,
// restored from a snapshot taken at reading k (through JSON text, as a store keeps it) go on exactly as
// the ones that ran through; a corrupt or foreign snapshot is refused with a TwinError naming the field.
import { expect } from 'chai';
import fc from 'fast-check';
import { ALARM_STATE_VERSION } from '../../runtime/alarm/alarm-state.js';
import { AnomalyAlarms } from '../../runtime/alarm/anomaly-alarms.js';
import type { AlarmEvent } from '../../runtime/alarm/types.js';
import {
  AnomalyDetector,
  DETECTOR_FLAGS,
  DETECTOR_NUMBERS,
  DETECTOR_PARTS,
  type AnomalyConfig,
  type AnomalyOutput,
} from '../../runtime/anomaly/detector.js';
import { TwinError } from '../../runtime/model/errors.js';
import { gauss } from '../support/drift-mv-data.js';

const T0 = Date.UTC(2026, 0, 1);
const ASSET = 'acme/plant1/line1/extruder';
const viaText = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));

/** A series of `n` readings: noise (σ 1) around 50, a level step of `stepSigma` from `stepAt`, spikes every `spikeEvery`. */
function series(seed: number, n: number, stepAt: number, stepSigma: number, spikeEvery: number): number[] {
  const g = gauss(seed);
  return Array.from({ length: n }, (_, i) => 50 + g() + (i >= stepAt ? stepSigma : 0) + (spikeEvery > 0 && i % spikeEvery === 0 ? 15 : 0));
}

const copy = (o: AnomalyOutput): AnomalyOutput => ({ ...o });

describe('alarm state snapshot (runtime/alarm/alarm-state.ts)', () => {
  it('every field of a detector is in its snapshot (a field added later must be added there too)', () => {
    const d = new AnomalyDetector({ learnSamples: 5 });
    for (let i = 0; i < 50; i++) d.step(T0 + i * 60_000, 50 + (i % 7));
    const known = new Set<string>([...DETECTOR_NUMBERS, ...DETECTOR_FLAGS, ...DETECTOR_PARTS]);
    expect(Object.keys(d).filter((k) => !known.has(k))).to.deep.equal([]);
  });

  it('property: a detector restored at reading k scores readings k+1…n exactly as the one that ran through', () => {
    const cfgs: Array<Partial<AnomalyConfig>> = [{}, { learnSamples: 40, longWindow: 100 }, { spikeWindowMs: 0, trendBlockMs: 60_000 }];
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1e6 }),
          n: fc.integer({ min: 50, max: 700 }),
          kFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          stepFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          stepSigma: fc.constantFrom(0, 4, 12),
          spikeEvery: fc.constantFrom(0, 37),
          dtMs: fc.constantFrom(1_000, 60_000),
          cfg: fc.constantFrom(...cfgs),
          predicted: fc.boolean(),
        }),
        (p) => {
          const xs = series(p.seed, p.n, Math.floor(p.stepFrac * p.n), p.stepSigma, p.spikeEvery);
          const k = Math.floor(p.kFrac * (p.n - 1));
          const run = (d: AnomalyDetector, i: number): AnomalyOutput =>
            copy(p.predicted ? d.stepPredicted(xs[i], 50, 1, T0 + i * p.dtMs) : d.step(T0 + i * p.dtMs, xs[i]));
          const through = new AnomalyDetector(p.cfg);
          const first = new AnomalyDetector(p.cfg);
          for (let i = 0; i <= k; i++) {
            run(through, i);
            run(first, i);
          }
          const restored = new AnomalyDetector(p.cfg);
          restored.restore(viaText(first.snapshot()));
          for (let i = k + 1; i < p.n; i++) expect(run(restored, i), `reading ${i}`).to.deep.equal(run(through, i));
        },
      ),
      { numRuns: 60, seed: 20261208 },
    );
  });

  it('AnomalyAlarms restored at a handover inside an episode: the same events after it, the episode not ended and raised again', () => {
    const wall = (): number => 0;
    const n = 1200;
    // noise, a 10 σ step from reading 700 (an episode from ≈ 820 s, after the 120 s baseline on-delay), handover at 900
    const xs = series(7, n, 700, 10, 0);
    const feed = (a: AnomalyAlarms, i: number): AlarmEvent[] => [
      ...a.push({ asset: ASSET, tag: 'melt_temp', value: xs[i], tsMs: T0 + i * 1000, quality: 'good', source: 't' }),
      ...a.push({ asset: ASSET, tag: 'zone1_sp', value: 200, tsMs: T0 + i * 1000, quality: 'good', source: 't' }),
    ];
    const through = new AnomalyAlarms({}, wall);
    const before = new AnomalyAlarms({}, wall);
    const k = 900;
    const early: AlarmEvent[] = [];
    for (let i = 0; i < k; i++) {
      feed(through, i);
      early.push(...feed(before, i));
    }
    expect(early.filter((e) => e.kind === 'raised').map((e) => e.episodeId)).to.deep.equal([`${ASSET}/melt_temp#1`]);
    before.command('ack', { id: `${ASSET}/melt_temp`, user: 'op', reason: '' });
    through.command('ack', { id: `${ASSET}/melt_temp`, user: 'op', reason: '' });
    const snap = before.snapshot();
    const restored = new AnomalyAlarms({}, wall);
    restored.restore(viaText(snap));
    expect(restored.list()).to.deep.equal(before.list());
    const a: AlarmEvent[] = [];
    const b: AlarmEvent[] = [];
    for (let i = k; i < n; i++) {
      a.push(...feed(through, i));
      b.push(...feed(restored, i));
    }
    expect(b).to.deep.equal(a);
    expect(
      b.filter((e) => e.kind === 'raised'),
      'no second raise of the open episode',
    ).to.deep.equal([]);
    const sizes = snap.tags.map((t) => `${t.tag} ${JSON.stringify(t).length} B`);
    console.log(`      snapshot per tag (JSON): ${sizes.join(', ')}; line meta ${JSON.stringify(snap.meta).length} B`);
  });

  it('a corrupt or foreign snapshot is refused with a TwinError naming what is wrong; the node can start afresh', () => {
    const d = new AnomalyDetector();
    for (let i = 0; i < 400; i++) d.step(T0 + i * 1000, 50 + Math.sin(i));
    const good = viaText(d.snapshot()) as Record<string, unknown>;
    const refused = (s: unknown, cfg: Partial<AnomalyConfig> = {}): string => {
      try {
        new AnomalyDetector(cfg).restore(s);
      } catch (err) {
        expect(err).to.be.instanceOf(TwinError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ ...good, v: 2 })).to.match(/version 2/);
    expect(refused(good, { longWindow: 500 })).to.match(/longWindow 1000 differs from this node's 500/);
    expect(refused({ ...good, longBuf: 'AAAA' })).to.match(/longBuf must hold 8000 bytes/);
    expect(refused({ ...good, num: { ...(good.num as object), longI: 5000 } })).to.match(/longI/);
    expect(refused({ ...good, num: { ...(good.num as object), level: 'x' } })).to.match(/level is not a number/);
    expect(refused(null)).to.match(/not an object/);

    const a = new AnomalyAlarms();
    for (let i = 0; i < 10; i++) a.push({ asset: ASSET, tag: 't', value: i, tsMs: T0 + i * 1000, quality: 'good', source: 't' });
    const snap = viaText(a.snapshot()) as { meta: Record<string, unknown>; tags: Array<Record<string, unknown>> };
    const alarmsRefuse = (s: unknown, cfg = {}): string => {
      try {
        new AnomalyAlarms(cfg).restore(s);
      } catch (err) {
        expect(err).to.be.instanceOf(TwinError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(alarmsRefuse({ ...snap, meta: { ...snap.meta, kind: 'other' } })).to.match(/not a twin-alarm state/);
    expect(alarmsRefuse({ ...snap, meta: { ...snap.meta, v: ALARM_STATE_VERSION + 1 } })).to.match(/version 2/);
    expect(alarmsRefuse({ ...snap, tags: [{ ...snap.tags[0], asset: 'x'.repeat(5000) }] })).to.match(/asset/);
    expect(alarmsRefuse(snap, { maxTags: 0.5 })).to.match(/max tags/);
    expect(alarmsRefuse({ ...snap, tags: [snap.tags[0], snap.tags[0], snap.tags[0]] }, { maxTags: 2 })).to.match(/3 tags/);
    // anything at all: a TwinError or taken, never another exception
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        try {
          new AnomalyAlarms().restore(junk);
        } catch (err) {
          expect(err).to.be.instanceOf(TwinError);
        }
        try {
          new AnomalyAlarms().restore({ meta: snap.meta, tags: [junk] });
        } catch (err) {
          expect(err).to.be.instanceOf(TwinError);
        }
        try {
          new AnomalyDetector().restore({ ...good, num: junk });
        } catch (err) {
          expect(err).to.be.instanceOf(TwinError);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
