import { expect } from 'chai';
import { from, map, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { detectDrift, type DriftOutput } from '../../runtime/drift/operator.js';
import { detectDriftByName, detectorNames, detectorRegistry, getDetector, registerDetector } from '../../runtime/drift/registry.js';
import { shewhart, shewhartDetector } from '../../runtime/drift/shewhart.js';
import { pageHinkley } from '../../runtime/drift/page-hinkley.js';
import { adwin, adwinDetector } from '../../runtime/drift/adwin.js';
import { cusum } from '../../runtime/drift/cusum.js';
import { ewma } from '../../runtime/drift/ewma.js';
import { normals } from '../support/drift-data.js';

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
function rd(tag: string, value: number, i: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'plant1/line2/extruder', tag, value, tsMs: T0 + i * 1000, quality: 'good', source: 'test', ...extra };
}
/** One letter per output: s score, D score with a drift event, k skipped, r rejected. */
function letter(o: DriftOutput): string {
  return o.type === 'score' ? (o.event ? 'D' : 's') : o.type === 'skipped' ? 'k' : 'r';
}
async function run(readings: unknown[], op = shewhart({ minInstances: 3 })): Promise<DriftOutput[]> {
  return lastValueFrom(from(readings).pipe(op, toArray()));
}

describe('drift: detectDrift operator (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('emits one output per reading, in the same frame; the drift reading carries a DriftEvent', () => {
    ts.run(({ hot, expectObservable }) => {
      const v = { a: rd('t', 10, 0), b: rd('t', 11, 1), c: rd('t', 9, 2), d: rd('t', 10.5, 3), e: rd('t', 50, 4) };
      const src = hot('-a-b-c--d-e|', v);
      expectObservable(src.pipe(shewhart({ minInstances: 3 }), map(letter))).toBe('-s-s-s--s-D|');
    });
  });

  it('skips bad readings (they never move a detector) and, by default, uncertain ones', () => {
    ts.run(({ hot, expectObservable }) => {
      const v = {
        a: rd('t', 10, 0),
        b: rd('t', 11, 1),
        x: rd('t', 1e6, 2, { quality: 'bad', qualityReason: 'BadSensorFailure' }),
        u: rd('t', -1e6, 3, { quality: 'uncertain' }),
        c: rd('t', 9, 4),
        d: rd('t', 10.5, 5),
      };
      expectObservable(hot('ab-x-u-cd|', v).pipe(shewhart({ minInstances: 3 }), map(letter))).toBe('ss-k-k-ss|');
    });
  });

  it('rejects NaN, Infinity and malformed payloads with a TwinError and keeps going (no RxJS error)', () => {
    ts.run(({ hot, expectObservable }) => {
      const v = {
        a: rd('t', 10, 0),
        n: rd('t', Number.NaN, 1),
        i: rd('t', Number.POSITIVE_INFINITY, 2),
        m: { asset: 'plant1', value: 3 },
        b: rd('t', 11, 3),
      };
      const codes = hot('a-n-i-m-b|', v).pipe(
        detectDrift(shewhartDetector, { minInstances: 3 }),
        map((o) => (o.type === 'rejected' ? o.error.code : letter(o))),
      );
      expectObservable(codes).toBe('a-n-i-m-b|', { a: 's', n: 'NOT_FINITE', i: 'NOT_FINITE', m: 'BAD_PAYLOAD', b: 's' });
    });
  });

  it('passes an upstream error through (a bug, not bad input)', () => {
    ts.run(({ hot, expectObservable }) => {
      const err = new Error('boom');
      expectObservable(hot('a-#', { a: rd('t', 1, 0) }, err).pipe(shewhart(), map(letter))).toBe('s-#', undefined, err);
    });
  });
});

describe('drift: detectDrift operator (per tag, quality, events)', () => {
  it('rejected and skipped readings leave the detector exactly as it was', async () => {
    const xs = [...normals(1, 200, 10, 1), ...normals(2, 60, 16, 1)];
    const clean = xs.map((x, i) => rd('t', x, i));
    const noisy: unknown[] = [];
    clean.forEach((r, i) => {
      noisy.push(r);
      if (i % 7 === 0) noisy.push({ ...r, value: 1e9, quality: 'bad' });
      if (i % 11 === 0) noisy.push({ ...r, value: Number.NaN });
      if (i % 13 === 0) noisy.push({ ...r, value: -1e9, quality: 'uncertain' });
    });
    const a = (await run(clean, adwin())).filter((o) => o.type === 'score');
    const b = (await run(noisy, adwin())).filter((o) => o.type === 'score');
    expect(b).to.have.length(clean.length);
    expect(b).to.deep.equal(a);
    expect(a.some((o) => o.type === 'score' && o.event)).to.equal(true);
  });

  it('keeps one detector per asset/tag: interleaved tags give the same results as each tag alone', async () => {
    const hot = [...normals(3, 300, 50, 1), ...normals(4, 100, 56, 1)].map((x, i) => rd('zone1_temp', x, i));
    const cold = normals(5, 400, 50, 1).map((x, i) => rd('zone2_temp', x, i));
    const other = normals(5, 400, 50, 1).map((x, i) => ({ ...rd('zone1_temp', x, i), asset: 'plant1/line2/cooler' }));
    const mixed: Reading[] = [];
    for (let i = 0; i < 400; i++) mixed.push(hot[i], cold[i], other[i]);
    const all = await run(mixed, cusum({ slack: 1, threshold: 8 }));
    const pick = (asset: string, tag: string) =>
      all.filter((o) => o.type === 'score' && o.reading.asset === asset && o.reading.tag === tag);
    expect(pick('plant1/line2/extruder', 'zone1_temp')).to.deep.equal(await run(hot, cusum({ slack: 1, threshold: 8 })));
    expect(pick('plant1/line2/extruder', 'zone2_temp')).to.deep.equal(await run(cold, cusum({ slack: 1, threshold: 8 })));
    const events = all.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
    expect(events.length).to.be.greaterThan(0);
    expect(events.every((e) => e.asset === 'plant1/line2/extruder' && e.tag === 'zone1_temp')).to.equal(true);
  });

  it('a DriftEvent says when the change began, which way, how much, and why (event time only)', async () => {
    const xs = [...normals(6, 500, 2, 0.1), ...normals(7, 200, 3, 0.1)];
    const out = await run(
      xs.map((x, i) => rd('screw_speed', x, i, { unit: 'rpm' })),
      pageHinkley(),
    );
    const ev = out.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
    expect(ev.length).to.be.greaterThan(0);
    const e = ev[0];
    expect(e).to.include({ asset: 'plant1/line2/extruder', tag: 'screw_speed', kind: 'unclassified', method: 'page-hinkley', direction: 'up', quality: 'good' });
    expect(e.tsMs).to.be.within(T0 + 500_000, T0 + 600_000);
    expect(e.startTsMs).to.be.at.most(e.tsMs);
    expect(e.startTsMs).to.be.at.least(T0);
    expect(e.magnitude).to.be.within(0.1, 1.2);
    expect(e.evidence.threshold).to.equal(50);
    expect(e.evidence.statistic as number).to.be.greaterThan(50);
    const sc = out.find((o) => o.type === 'score' && o.event === e);
    expect(sc && sc.type === 'score' && sc.score.score).to.be.at.least(1);
  });

  it('AnomalyScore: score = statistic / threshold, 0 in warm-up, method and quality set', async () => {
    const xs = [10, 11, 9, 10, 10.5, 9.5, 14];
    const out = await run(xs.map((x, i) => rd('p', x, i)), shewhart({ minInstances: 3, k: 3 }));
    const scores = out.map((o) => (o.type === 'score' ? o.score : null));
    expect(scores[0]).to.deep.equal({ asset: 'plant1/line2/extruder', tag: 'p', tsMs: T0, method: 'shewhart', score: 0, quality: 'good' });
    // μ = 10, σ = 1 (ddof 1) frozen on the third sample: |14 − 10| / (3·1)
    expect(scores[6]?.score).to.be.closeTo(4 / 3, 1e-12);
    expect(scores[4]?.score).to.be.closeTo(0.5 / 3, 1e-12);
  });

  it("uncertain: 'use' feeds uncertain readings and marks what rests on them uncertain", async () => {
    const rs = [10, 11, 9, 10].map((x, i) => rd('p', x, i));
    rs.push(rd('p', 40, 4, { quality: 'uncertain' }), rd('p', 10, 5), rd('p', 10.2, 6));
    const out = await run(rs, shewhart({ minInstances: 3 }, { uncertain: 'use' }));
    expect(out.map(letter).join('')).to.equal('ssssDss');
    const d = out[4];
    expect(d.type === 'score' && d.event?.quality).to.equal('uncertain');
    expect(d.type === 'score' && d.score.quality).to.equal('uncertain');
    // after the drift the detector starts a new run: its outputs are good again
    expect(out[5].type === 'score' && out[5].score.quality).to.equal('good');
  });

  it('rejects a reading older than the tag\'s last one (OUT_OF_ORDER) without feeding it', async () => {
    const out = await run([rd('p', 10, 5), rd('p', 1000, 4), rd('p', 11, 6), rd('q', 1, 0)]);
    expect(out.map(letter).join('')).to.equal('srss');
    const r = out[1];
    expect(r.type === 'rejected' && r.error).to.be.instanceOf(TwinError).with.property('code', 'OUT_OF_ORDER');
  });

  it('each subscription has its own detectors', async () => {
    const op = shewhart({ minInstances: 3 });
    const rs = [10, 11, 9, 50].map((x, i) => rd('p', x, i));
    expect((await run(rs, op)).map(letter).join('')).to.equal('sssD');
    expect((await run(rs, op)).map(letter).join('')).to.equal('sssD');
  });

  it('refuses bad parameters and options when the operator is created', () => {
    expect(() => adwin({ delta: 2 })).to.throw(TwinError, /delta/).with.property('code', 'BAD_CONFIG');
    expect(() => ewma({}, { uncertain: 'maybe' as 'use' })).to.throw(TwinError, /uncertain/).with.property('code', 'BAD_CONFIG');
  });
});

describe('drift: detector registry', () => {
  it('lists the univariate detectors by name, each with defaults, describe, init and step', () => {
    expect(detectorNames()).to.include.members(['page-hinkley', 'cusum', 'adwin', 'ewma', 'shewhart']);
    for (const name of ['page-hinkley', 'cusum', 'adwin', 'ewma', 'shewhart']) {
      const d = detectorRegistry.get(name)!;
      expect(d.name).to.equal(name);
      expect(d.describe).to.be.a('string').and.not.equal('');
      const s = d.init(d.params({}));
      expect(d.step(s, 1, 0)).to.equal(false);
      expect(d.count(s)).to.equal(1);
    }
  });

  it('picks a method by name and refuses unknown names with the known ones listed', async () => {
    const rs = [10, 11, 9, 50].map((x, i) => rd('p', x, i));
    expect((await run(rs, detectDriftByName('shewhart', { minInstances: 3 }))).map(letter).join('')).to.equal('sssD');
    expect(() => getDetector('kswin')).to.throw(TwinError, /kswin.*page-hinkley/).with.property('code', 'BAD_CONFIG');
    expect(() => detectDriftByName(undefined)).to.throw(TwinError);
  });

  it('lets another detector register under a new name, but not take an existing one', () => {
    const copy = { ...adwinDetector, name: 'adwin-test-copy' };
    registerDetector(copy);
    expect(getDetector('adwin-test-copy')).to.equal(copy);
    expect(() => registerDetector({ ...adwinDetector })).to.throw(TwinError, /already registered/);
  });
});
