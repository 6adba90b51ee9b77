import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { AnyDetector } from '../../runtime/drift/detector.js';
import { driftStep, validateDriftOptions, type DriftOutput, type DriftStepOptions, type DriftTagEntry } from '../../runtime/drift/step.js';
import { detectorNames, detectorRegistry, getDetector, registerDetector } from '../../runtime/drift/registry.js';
import { shewhartDetector } from '../../runtime/drift/shewhart.js';
import { pageHinkleyDetector } from '../../runtime/drift/page-hinkley.js';
import { adwinDetector } from '../../runtime/drift/adwin.js';
import { cusumDetector } from '../../runtime/drift/cusum.js';
import { ewmaDetector } from '../../runtime/drift/ewma.js';
import { normals } from '../support/drift-data.js';

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
function rd(tag: string, value: number, i: number, extra: Partial<Reading> = {}): Reading {
  return { asset: 'plant1/line2/extruder', tag, value, tsMs: T0 + i * 1000, quality: 'good', source: 'test', ...extra };
}
/** One letter per output: s score, D score with a drift event, k skipped, r rejected. */
function letter(o: DriftOutput): string {
  return o.type === 'score' ? (o.event ? 'D' : 's') : o.type === 'skipped' ? 'k' : 'r';
}
/** A detector with its parameters and options, validated as the drift engine does. */
interface Stepper {
  detector: AnyDetector;
  params: unknown;
  opts: Required<DriftStepOptions>;
}
function stepper(detector: AnyDetector, params: unknown = {}, options: DriftStepOptions = {}): Stepper {
  return { detector, params: detector.params(params), opts: validateDriftOptions(options) };
}
const shewhart = (params: unknown = {}, options: DriftStepOptions = {}) => stepper(shewhartDetector, params, options);
const pageHinkley = (params: unknown = {}) => stepper(pageHinkleyDetector, params);
const adwin = (params: unknown = {}) => stepper(adwinDetector, params);
const cusum = (params: unknown = {}) => stepper(cusumDetector, params);
const ewma = (params: unknown = {}, options: DriftStepOptions = {}) => stepper(ewmaDetector, params, options);

/** Every input through one set of per-tag detectors, one output each. */
function run(inputs: unknown[], st: Stepper = shewhart({ minInstances: 3 })): DriftOutput[] {
  const tags = new Map<string, DriftTagEntry>();
  return inputs.map((x) => driftStep(st.detector, st.params, st.opts, tags, x));
}

describe('drift: driftStep (one output per input)', () => {
  it('the drift reading carries a DriftEvent', () => {
    expect(
      run([rd('t', 10, 0), rd('t', 11, 1), rd('t', 9, 2), rd('t', 10.5, 3), rd('t', 50, 4)])
        .map(letter)
        .join(''),
    ).to.equal('ssssD');
  });

  it('skips bad readings (they never move a detector) and, by default, uncertain ones', () => {
    const rs = [
      rd('t', 10, 0),
      rd('t', 11, 1),
      rd('t', 1e6, 2, { quality: 'bad', qualityReason: 'BadSensorFailure' }),
      rd('t', -1e6, 3, { quality: 'uncertain' }),
      rd('t', 9, 4),
      rd('t', 10.5, 5),
    ];
    expect(run(rs).map(letter).join('')).to.equal('sskkss');
  });

  it('rejects NaN, Infinity and malformed payloads with a TwinError and keeps going', () => {
    const out = run([
      rd('t', 10, 0),
      rd('t', Number.NaN, 1),
      rd('t', Number.POSITIVE_INFINITY, 2),
      { asset: 'plant1', value: 3 },
      rd('t', 11, 3),
    ]);
    expect(out.map((o) => (o.type === 'rejected' ? o.error.code : letter(o)))).to.deep.equal([
      's',
      'NOT_FINITE',
      'NOT_FINITE',
      'BAD_PAYLOAD',
      's',
    ]);
  });
});

describe('drift: driftStep (per tag, quality, events)', () => {
  it('rejected and skipped readings leave the detector exactly as it was', () => {
    const xs = [...normals(1, 200, 10, 1), ...normals(2, 60, 16, 1)];
    const clean = xs.map((x, i) => rd('t', x, i));
    const noisy: unknown[] = [];
    clean.forEach((r, i) => {
      noisy.push(r);
      if (i % 7 === 0) noisy.push({ ...r, value: 1e9, quality: 'bad' });
      if (i % 11 === 0) noisy.push({ ...r, value: Number.NaN });
      if (i % 13 === 0) noisy.push({ ...r, value: -1e9, quality: 'uncertain' });
    });
    const a = run(clean, adwin()).filter((o) => o.type === 'score');
    const b = run(noisy, adwin()).filter((o) => o.type === 'score');
    expect(b).to.have.length(clean.length);
    expect(b).to.deep.equal(a);
    expect(a.some((o) => o.type === 'score' && o.event)).to.equal(true);
  });

  it('keeps one detector per asset/tag: interleaved tags give the same results as each tag alone', () => {
    const hot = [...normals(3, 300, 50, 1), ...normals(4, 100, 56, 1)].map((x, i) => rd('zone1_temp', x, i));
    const cold = normals(5, 400, 50, 1).map((x, i) => rd('zone2_temp', x, i));
    const other = normals(5, 400, 50, 1).map((x, i) => ({ ...rd('zone1_temp', x, i), asset: 'plant1/line2/cooler' }));
    const mixed: Reading[] = [];
    for (let i = 0; i < 400; i++) mixed.push(hot[i], cold[i], other[i]);
    const all = run(mixed, cusum({ slack: 1, threshold: 8 }));
    const pick = (asset: string, tag: string) =>
      all.filter((o) => o.type === 'score' && o.reading.asset === asset && o.reading.tag === tag);
    expect(pick('plant1/line2/extruder', 'zone1_temp')).to.deep.equal(run(hot, cusum({ slack: 1, threshold: 8 })));
    expect(pick('plant1/line2/extruder', 'zone2_temp')).to.deep.equal(run(cold, cusum({ slack: 1, threshold: 8 })));
    const events = all.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
    expect(events.length).to.be.greaterThan(0);
    expect(events.every((e) => e.asset === 'plant1/line2/extruder' && e.tag === 'zone1_temp')).to.equal(true);
  });

  it('a DriftEvent says when the change began, which way, how much, and why (event time only)', () => {
    const xs = [...normals(6, 500, 2, 0.1), ...normals(7, 200, 3, 0.1)];
    const out = run(
      xs.map((x, i) => rd('screw_speed', x, i, { unit: 'rpm' })),
      pageHinkley(),
    );
    const ev = out.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
    expect(ev.length).to.be.greaterThan(0);
    const e = ev[0];
    expect(e).to.include({
      asset: 'plant1/line2/extruder',
      tag: 'screw_speed',
      kind: 'unclassified',
      method: 'page-hinkley',
      direction: 'up',
      quality: 'good',
    });
    expect(e.tsMs).to.be.within(T0 + 500_000, T0 + 600_000);
    expect(e.startTsMs).to.be.at.most(e.tsMs);
    expect(e.startTsMs).to.be.at.least(T0);
    expect(e.magnitude).to.be.within(0.1, 1.2);
    expect(e.evidence.threshold).to.equal(50);
    expect(e.evidence.statistic as number).to.be.greaterThan(50);
    const sc = out.find((o) => o.type === 'score' && o.event === e);
    expect(sc && sc.type === 'score' && sc.score.score).to.be.at.least(1);
  });

  it('AnomalyScore: score = statistic / threshold, 0 in warm-up, method and quality set', () => {
    const xs = [10, 11, 9, 10, 10.5, 9.5, 14];
    const out = run(
      xs.map((x, i) => rd('p', x, i)),
      shewhart({ minInstances: 3, k: 3 }),
    );
    const scores = out.map((o) => (o.type === 'score' ? o.score : null));
    expect(scores[0]).to.deep.equal({ asset: 'plant1/line2/extruder', tag: 'p', tsMs: T0, method: 'shewhart', score: 0, quality: 'good' });
    // μ = 10, σ = 1 (ddof 1) frozen on the third sample: |14 − 10| / (3·1)
    expect(scores[6]?.score).to.be.closeTo(4 / 3, 1e-12);
    expect(scores[4]?.score).to.be.closeTo(0.5 / 3, 1e-12);
  });

  it("uncertain: 'use' feeds uncertain readings and marks what rests on them uncertain", () => {
    const rs = [10, 11, 9, 10].map((x, i) => rd('p', x, i));
    rs.push(rd('p', 40, 4, { quality: 'uncertain' }), rd('p', 10, 5), rd('p', 10.2, 6));
    const out = run(rs, shewhart({ minInstances: 3 }, { uncertain: 'use' }));
    expect(out.map(letter).join('')).to.equal('ssssDss');
    const d = out[4];
    expect(d.type === 'score' && d.event?.quality).to.equal('uncertain');
    expect(d.type === 'score' && d.score.quality).to.equal('uncertain');
    // after the drift the detector starts a new run: its outputs are good again
    expect(out[5].type === 'score' && out[5].score.quality).to.equal('good');
  });

  it("rejects a reading older than the tag's last one (OUT_OF_ORDER) without feeding it", () => {
    const out = run([rd('p', 10, 5), rd('p', 1000, 4), rd('p', 11, 6), rd('q', 1, 0)]);
    expect(out.map(letter).join('')).to.equal('srss');
    const r = out[1];
    expect(r.type === 'rejected' && r.error)
      .to.be.instanceOf(TwinError)
      .with.property('code', 'OUT_OF_ORDER');
  });

  it('refuses bad parameters and options when they are validated (before any reading)', () => {
    expect(() => adwin({ delta: 2 }))
      .to.throw(TwinError, /delta/)
      .with.property('code', 'BAD_CONFIG');
    expect(() => ewma({}, { uncertain: 'maybe' as 'use' }))
      .to.throw(TwinError, /uncertain/)
      .with.property('code', 'BAD_CONFIG');
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

  it('picks a method by name and refuses unknown names with the known ones listed', () => {
    const rs = [10, 11, 9, 50].map((x, i) => rd('p', x, i));
    expect(
      run(rs, stepper(getDetector('shewhart'), { minInstances: 3 }))
        .map(letter)
        .join(''),
    ).to.equal('sssD');
    expect(() => getDetector('kswin'))
      .to.throw(TwinError, /kswin.*page-hinkley/)
      .with.property('code', 'BAD_CONFIG');
    expect(() => getDetector(undefined)).to.throw(TwinError);
  });

  it('lets another detector register under a new name, but not take an existing one', () => {
    const copy = { ...adwinDetector, name: 'adwin-test-copy' };
    registerDetector(copy);
    expect(getDetector('adwin-test-copy')).to.equal(copy);
    expect(() => registerDetector({ ...adwinDetector })).to.throw(TwinError, /already registered/);
  });
});
