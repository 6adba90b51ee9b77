import { expect } from 'chai';
import { classifyChange, type TimedValue } from '../../runtime/drift/classify.js';
import { chi2Survival as chiSquareSurvival } from '../../runtime/stats/index.js';
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

  it('recurring spikes: a related tag past the bound now and then anyway (one of its outliers on a spike time) is no evidence; one past it at every spike time is', () => {
    const spikes = series(3, 5, 0.1, (i, v) => (i % 10 === 0 ? v + 3 : v));
    // +5 (25 σ) on every 7th reading, spikes or not: one falls on a spike time (70 s)
    const heavy = series(4, 10, 0.2).map((p, i) => ({ tsMs: p.tsMs, value: p.value + (i % 7 === 0 ? 5 : 0) }));
    const shared = series(5, 10, 0.2, (i, v) => (i % 10 === 0 ? v + 5 : v));
    const opts = { spikeMaxFraction: 0.15 };
    const withHeavy = classifyChange(
      { tag: 'pressure', window: spikes, changeTsMs: CHANGE, related: [{ tag: 'quality', window: heavy }] },
      opts,
    );
    expect(withHeavy).to.include({ kind: 'sensor-fault', faultType: 'spike' });
    const withShared = classifyChange(
      { tag: 'pressure', window: spikes, changeTsMs: CHANGE, related: [{ tag: 'flow', window: shared }] },
      opts,
    );
    expect(withShared.faultType).to.not.equal('spike');
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

  it('the per-tag threshold k and the combined test level are configurable', () => {
    const input = {
      tag: 'pressure',
      window: shifted(9, 5, 0.1, 1),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: shifted(10, 10, 0.2, 0.8) }], // ≈ 4 σ
    };
    const dflt = classifyChange(input);
    expect(dflt.kind).to.equal('process-change');
    expect(dflt.evidence.corroboration.perTag).to.deep.equal(['flow']);
    // k = 8: flow no longer moved on its own, but 4σ on 1 dof still passes χ² at 1 %…
    const k8 = classifyChange(input, { k: 8 });
    expect(k8.evidence.related[0].moved).to.equal(false);
    expect(k8.evidence.corroboration.chi2Corroborates).to.equal(true);
    // …and with a strict level for the combined test nothing corroborates.
    expect(classifyChange(input, { k: 8, corroborationAlpha: 1e-6 }).kind).to.not.equal('process-change');
  });

  it('χ² survival function: known quantiles', () => {
    expect(chiSquareSurvival(6.635, 1)).to.be.closeTo(0.01, 1e-4);
    expect(chiSquareSurvival(20.09, 8)).to.be.closeTo(0.01, 1e-4);
    expect(chiSquareSurvival(2, 2)).to.be.closeTo(Math.exp(-1), 1e-12);
    expect(chiSquareSurvival(0, 3)).to.equal(1);
  });

  /** 240 one-second samples (change at 120 s): level + slope·t + noise — a slow trend through both sides. */
  function trend(seed: number, level: number, sd: number, slopePerS: number): TimedValue[] {
    const g = gauss(seed);
    return Array.from({ length: 240 }, (_, i) => ({ tsMs: i * 1000, value: level + slopePerS * i + sd * g() }));
  }
  const TREND_CHANGE = 120_000;

  it('slow wear: related tags that each move ~2σ the way wear predicts corroborate through χ² (noise from successive differences, not inflated by the trend)', () => {
    // The two 2-minute halves' medians lie 120 s × slope apart: vibration 8σ, power, throughput and
    // pressure about 2.8σ, −2.7σ and −1.5σ of their noise — none reaches 3σ alone (and against the
    // spread of the before half, which holds the trend, each would be smaller still).
    const c = classifyChange({
      tag: 'vibration',
      window: trend(31, 2, 0.07, (8 * 0.07) / 120),
      changeTsMs: TREND_CHANGE,
      related: [
        { tag: 'motor_power', window: trend(32, 33, 0.25, (2.8 * 0.25) / 120) },
        { tag: 'throughput', window: trend(33, 160, 0.6, (-2.7 * 0.6) / 120) },
        { tag: 'melt_pressure', window: trend(34, 170, 1, (-1.5 * 1) / 120) },
        { tag: 'zone1_temp', window: trend(35, 190, 0.14, 0) },
      ],
    });
    expect(c.kind, c.evidence.reason).to.equal('process-change');
    const co = c.evidence.corroboration;
    expect(co.perTag).to.deep.equal([]);
    expect(co.chi2Corroborates).to.equal(true);
    expect(co.dof).to.equal(4);
    expect(co.pValue).to.be.lessThan(0.01);
    const power = c.evidence.related.find((r) => r.tag === 'motor_power')!;
    expect(power.noiseSigma).to.be.closeTo(0.25, 0.05); // the noise, not the noise + trend
    expect(power.changeSigma).to.be.within(2, 3);
    expect(power.moved).to.equal(false);
    expect(c.evidence.flagged.changeSigma).to.be.greaterThan(3);
  });

  it('a sensor drift stays sensor-fault/drift when the related tags do not move: one related tag 2σ off among quiet ones does not pass χ²', () => {
    const c = classifyChange({
      tag: 'zone2_temp',
      window: series(41, 205, 0.14, (i, v) => v + 0.03 * i), // ramps 1.8 °C over the minute after
      changeTsMs: CHANGE,
      related: [
        { tag: 'zone1_temp', window: shifted(42, 190, 0.14, 0.28) }, // 2σ: real, but alone not enough
        { tag: 'zone3_temp', window: steady(43, 215, 0.14) },
        { tag: 'melt_temp', window: steady(44, 220, 0.18) },
        { tag: 'screw_speed', window: steady(45, 80, 0.09) },
      ],
    });
    expect(c.kind, c.evidence.reason).to.equal('sensor-fault');
    expect(c.faultType).to.equal('drift');
    expect(c.evidence.corroboration.chi2Corroborates).to.equal(false);
    expect(c.evidence.corroboration.pValue).to.be.greaterThan(0.01);
    expect(c.evidence.related.every((r) => !r.moved)).to.equal(true);
  });

  it('chi2EffectiveSamples scores changes over their standard error: more sensitive (a real 2σ move of one tag counts), white noise still does not', () => {
    const drift = series(41, 205, 0.14, (i, v) => v + 0.03 * i);
    const quiet = [
      { tag: 'zone3_temp', window: steady(43, 215, 0.14) },
      { tag: 'melt_temp', window: steady(44, 220, 0.18) },
      { tag: 'screw_speed', window: steady(45, 80, 0.09) },
    ];
    const opts = { chi2EffectiveSamples: 30 };
    const noMove = classifyChange(
      { tag: 'zone2_temp', window: drift, changeTsMs: CHANGE, related: [{ tag: 'zone1_temp', window: steady(42, 190, 0.14) }, ...quiet] },
      opts,
    );
    expect(noMove.kind, noMove.evidence.reason).to.equal('sensor-fault');
    expect(noMove.evidence.corroboration.pValue).to.be.greaterThan(0.01);
    const oneMoved = classifyChange(
      {
        tag: 'zone2_temp',
        window: drift,
        changeTsMs: CHANGE,
        related: [{ tag: 'zone1_temp', window: shifted(42, 190, 0.14, 0.28) }, ...quiet],
      },
      opts,
    );
    expect(oneMoved.evidence.corroboration.chi2Corroborates).to.equal(true);
    expect(oneMoved.kind).to.equal('process-change');
  });

  it('a related tag with heavy, spiky noise does not corroborate a single-sensor drift', () => {
    const g = gauss(52);
    const spiky = steady(51, 50, 0.5).map((p, i) => ({ ...p, value: p.value + (i % 17 === 0 ? 8 * g() : 0) }));
    const c = classifyChange({
      tag: 'pressure',
      window: series(6, 5, 0.1, (i, v) => v + 0.02 * i),
      changeTsMs: CHANGE,
      related: [
        { tag: 'flow', window: spiky },
        { tag: 'power', window: steady(8, 20, 0.4) },
      ],
    });
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('drift');
    expect(c.evidence.corroboration.corroborated).to.equal(false);
  });

  it('a tag pinned at a limit (quality at 100 % half the time) cannot corroborate, however many σ its median moves', () => {
    // Noise around 99.9, clipped at 100: half the readings sit exactly on 100. After the change the
    // clipped share shifts, so the median moves, by many σ of the tiny spread it seems to have.
    const q = (seed: number, mean: number) =>
      series(seed, 0, 0.3).map((p) => ({ tsMs: p.tsMs, value: Math.min(100, (p.tsMs >= CHANGE ? mean : 100) + p.value) }));
    const c = classifyChange({
      tag: 'pressure',
      window: series(6, 5, 0.1, (i, v) => v + 0.02 * i),
      changeTsMs: CHANGE,
      related: [
        { tag: 'quality_index', window: q(61, 99.6) },
        { tag: 'power', window: steady(8, 20, 0.4) },
      ],
    });
    const qi = c.evidence.related.find((r) => r.tag === 'quality_index')!;
    expect(qi.change).to.be.lessThan(0);
    expect(qi.usable).to.equal(false);
    expect(qi.unusable).to.match(/pinned/);
    expect(qi.moved).to.equal(false);
    expect(c.evidence.corroboration.dof).to.equal(1); // only power is scored
    expect(c.kind).to.equal('sensor-fault');
    expect(c.faultType).to.equal('drift');
  });

  it('a tag with too few distinct values cannot corroborate', () => {
    const coarse = shifted(71, 10, 0.2, 1).map((p) => ({ ...p, value: Math.round(p.value) })); // 10 or 11 mostly
    const c = classifyChange({
      tag: 'pressure',
      window: shifted(9, 5, 0.1, 1),
      changeTsMs: CHANGE,
      related: [{ tag: 'coarse', window: coarse }],
    });
    expect(c.evidence.related[0].usable).to.equal(false);
    expect(c.evidence.related[0].moved).to.equal(false);
    expect(c.kind).to.not.equal('process-change');
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
    const c = classifyChange({
      tag: 'pressure',
      window: w,
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: shifted(18, 10, 0.2, 2) }],
    });
    expect(c.kind).to.equal('unclassified');
    expect(c.evidence.reason).to.match(/too little data/);
    expect(c.evidence.related[0].tag).to.equal('flow');
    expect(c.evidence.related[0].changeSigma).to.be.greaterThan(3);
  });

  it('a quiet tag (no change at all) stays unclassified', () => {
    const c = classifyChange({
      tag: 'pressure',
      window: steady(19, 5, 0.1),
      changeTsMs: CHANGE,
      related: [{ tag: 'flow', window: steady(20, 10, 0.2) }],
    });
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
