import { expect } from 'chai';
import { classifyChange, type TimedValue } from '../../runtime/drift/classify.js';
import { gauss } from '../support/drift-mv-data.js';

const CHANGE = 60_000;
/** 120 one-second samples around CHANGE: level + noise, with `after(i, v)` shaping the post-change part. */
function series(seed: number, level: number, sd: number, after: (i: number, v: number) => number = (_, v) => v): TimedValue[] {
  const g = gauss(seed);
  const out: TimedValue[] = [];
  for (let i = 0; i < 120; i++) {
    const tsMs = i * 1000;
    const v = level + sd * g();
    out.push({ tsMs, value: tsMs >= CHANGE ? after(i - 60, v) : v });
  }
  return out;
}
const steady = (seed: number, level: number, sd: number) => series(seed, level, sd);
const shifted = (seed: number, level: number, sd: number, by: number) => series(seed, level, sd, (_, v) => v + by);

describe('drift: fault classification', () => {
  it('stuck: the value repeats after the change while it used to vary → sensor-fault/stuck', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: series(1, 5, 0.1, () => 5.03),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: steady(2, 10, 0.2) }],
    });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('stuck');
    expect(c.evidence.related).to.have.length(1);
    expect(c.evidence.related[0]).to.include({ tag: 'flow', moved: false });
  });

  it('spike: one reading far out, then back; related tags quiet → sensor-fault/spike', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: series(3, 5, 0.1, (i, v) => (i === 0 ? v + 3 : v)),
      changeTsMs: CHANGE,
      related: [
        { tag: 'flow', window: steady(4, 10, 0.2) },
        { tag: 'power', window: steady(5, 20, 0.4) },
      ],
    });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('spike');
    expect(c.evidence.related.map((r) => r.tag)).to.deep.equal(['flow', 'power']);
  });

  it('a spike that related tags share is not called a sensor spike', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: series(3, 5, 0.1, (i, v) => (i === 0 ? v + 3 : v)),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: series(4, 10, 0.2, (i, v) => (i === 0 ? v + 5 : v)) }],
    });
    expect(c.faultType).to.not.equal('spike');
  });

  it('drift in one sensor that related tags do not follow → sensor-fault/drift, with the evidence', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: series(6, 5, 0.1, (i, v) => v + 0.02 * i), // ramps 1.2 over the minute after
      changeTsMs: CHANGE,
      related: [
        { tag: 'flow', window: steady(7, 10, 0.2) },
        { tag: 'power', window: steady(8, 20, 0.4) },
      ],
    });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('drift');
    expect(c.direction).to.equal('up');
    expect(c.magnitude).to.be.greaterThan(0.3);
    expect(c.evidence.flagged.changeSigma).to.be.greaterThan(3);
    for (const r of c.evidence.related) {
      expect(r.moved).to.equal(false);
      expect(Math.abs(r.changeSigma)).to.be.lessThan(3);
    }
  });

  it('a level change that related tags corroborate → process-change, naming who moved and by how much', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: shifted(9, 5, 0.1, 1),
      changeTsMs: CHANGE,
      related: [
        { tag: 'flow', window: shifted(10, 10, 0.2, 2) },
        { tag: 'vibration', window: steady(11, 1, 0.05) },
      ],
    });
    expect(c.kind).to.equal('process-change');
    expect(c.faultType).to.equal(undefined);
    const flow = c.evidence.related.find((r) => r.tag === 'flow')!;
    expect(flow.moved).to.equal(true);
    expect(flow.change).to.be.closeTo(2, 0.2);
    expect(flow.changeSigma).to.be.greaterThan(3);
    expect(c.evidence.related.find((r) => r.tag === 'vibration')!.moved).to.equal(false);
  });

  it('the related threshold k is configurable (k·MAD-σ)', () => {
    const input = {
      tag: 'pressure',
      window: shifted(9, 5, 0.1, 1),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: shifted(10, 10, 0.2, 0.8) }], // ≈ 4 σ
    };
    expect(classifyChange(input).kind).to.equal('process-change');
    expect(classifyChange(input, { k: 8 }).kind).to.not.equal('process-change');
  });

  it('the physics estimate corroborates: residual steady → process-change; residual moved → sensor drift', () => {
    const window = shifted(12, 5, 0.1, 1);
    const followed = window.map((p) => ({ tsMs: p.tsMs, value: p.tsMs >= CHANGE ? 6 : 5 }));
    const flat = window.map((p) => ({ tsMs: p.tsMs, value: 5 }));
    const withEstimate = classifyChange({ tag: 'pressure', window, changeTsMs: CHANGE, related: [], expected: followed });
    expect(withEstimate.kind).to.equal('process-change');
    expect(Math.abs(withEstimate.evidence.residualChangeSigma!)).to.be.lessThan(3);
    const against = classifyChange({ tag: 'pressure', window, changeTsMs: CHANGE, related: [], expected: flat });
    expect(against.kind).to.equal('sensor-fault');
    expect(against.faultType).to.equal('drift');
  });

  it('with an estimate, spikes are judged on the residual: a process excursion the estimate follows is no sensor spike', () => {
    const window = series(23, 5, 0.1, (i, v) => (i === 0 ? v + 3 : v));
    const follows = window.map((p) => ({ tsMs: p.tsMs, value: p.tsMs === CHANGE ? 8 : 5 }));
    const c = classifyChange({ tag: 'pressure', window, changeTsMs: CHANGE, related: [], expected: follows });
    expect(c.faultType).to.not.equal('spike');
    const flat = window.map((p) => ({ tsMs: p.tsMs, value: 5 }));
    expect(classifyChange({ tag: 'pressure', window, changeTsMs: CHANGE, related: [], expected: flat }).faultType).to.equal('spike');
  });

  it('innovations in σ units count as estimate evidence', () => {
    const window = shifted(13, 5, 0.1, 1);
    const c = classifyChange({ tag: 'pressure', window, changeTsMs: CHANGE, related: [], innovationsSigma: new Array(20).fill(6) });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.evidence.meanInnovationSigma).to.equal(6);
  });

  it('a level change with nothing to compare against stays unclassified', () => {
    const c = classifyChange({ tag: 'pressure', window: shifted(14, 5, 0.1, 1), changeTsMs: CHANGE, related: [] });
    expect(c.kind).to.equal('unclassified');
    expect(c.evidence.related).to.deep.equal([]);
  });

  it('noise growth without a level change, related quiet → sensor-fault/noise', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: series(15, 5, 0.1, (_, v) => 5 + (v - 5) * 6),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: steady(16, 10, 0.2) }],
    });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('noise');
  });

  it('too little data → unclassified, but the related evidence is still filled', () => {
    const w = shifted(17, 5, 0.1, 1).filter((p) => p.tsMs < CHANGE + 3000); // 3 readings after
    const c = classifyChange({ tag: 'pressure', window: w, changeTsMs: CHANGE, related: [{ tag: 'flow', window: shifted(18, 10, 0.2, 2) }] });
    expect(c.kind).to.equal('unclassified');
    expect(c.evidence.reason).to.match(/too little data/);
    expect(c.evidence.related[0].tag).to.equal('flow');
    expect(c.evidence.related[0].changeSigma).to.be.greaterThan(3);
  });

  it('a quiet tag (no change at all) stays unclassified', () => {
    const c = classifyChange({ tag: 'pressure', window: steady(19, 5, 0.1), changeTsMs: CHANGE, related: [{ tag: 'flow', window: steady(20, 10, 0.2) }] });
    expect(c.kind).to.equal('unclassified');
  });

  it('a flat-before related tag that moves gets a large finite changeSigma (JSON-safe)', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: shifted(21, 5, 0.1, 1),
      changeTsMs: CHANGE,
      related: [{ tag: 'valve', window: steady(22, 0, 0).map((p) => ({ ...p, value: p.tsMs >= CHANGE ? 1 : 0 })) }],
    });
    expect(Number.isFinite(c.evidence.related[0].changeSigma)).to.equal(true);
    expect(c.evidence.related[0].moved).to.equal(true);
    expect(c.kind).to.equal('process-change');
  });
});
