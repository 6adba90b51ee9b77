import { expect } from 'chai';
import { prng } from '../../bench/prng.js';
import type { Proposal } from '../../runtime/model/control.js';
import type { Quality } from '../../runtime/model/quality.js';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { differenceSe, fitResponse, predictResponse, type ResponseSample } from '../../runtime/control/response-model.js';
import { tQuantile } from '../../runtime/stats/index.js';
import { validateProposerConfig, type ProposerConfig } from '../../runtime/control/propose-config.js';
import { Proposer, type ProposerOutcome } from '../../runtime/control/proposer.js';

const ASSET = 'plant/line1/extruder';

function gauss(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function cfg(over: Record<string, unknown> = {}): ProposerConfig {
  return validateProposerConfig({
    asset: ASSET,
    setpointTag: 'sp',
    kpiTag: 'kpi',
    mode: 'minimise',
    model: 'quadratic',
    windowMs: 10_000_000,
    refitIntervalMs: 0,
    minSamples: 30,
    deadband: 0,
    minChange: 1,
    proposalTtlMs: 600_000,
    ...over,
  });
}

function reading(tag: string, value: number, tsMs: number, quality: Quality = 'good'): Reading {
  return { asset: ASSET, tag, value, tsMs, quality, source: 'test' };
}

interface Stream {
  /** Setpoint held for each block of `perBlock` KPI samples. */
  blocks: number[];
  perBlock: number;
  kpi: (sp: number) => number;
  noiseSd: number;
  con?: (sp: number) => number;
  conNoiseSd?: number;
  seed?: number;
  /** Quality of the i-th KPI reading. */
  quality?: (i: number) => Quality;
  startTsMs?: number;
  dtMs?: number;
  nowMs?: number;
}

/** Feed a synthetic stream (setpoint, constraint, KPI each sample) and collect what comes out. */
function feed(p: Proposer, s: Stream): { proposals: Proposal[]; last: ProposerOutcome; endTsMs: number } {
  const n = gauss(prng(s.seed ?? 1));
  const dt = s.dtMs ?? 1000;
  let ts = s.startTsMs ?? 1_000_000;
  const proposals: Proposal[] = [];
  let last!: ProposerOutcome;
  let i = 0;
  for (const sp of s.blocks) {
    for (let k = 0; k < s.perBlock; k++, i++) {
      ts += dt;
      p.push(reading('sp', sp, ts), s.nowMs ?? 0);
      if (s.con) p.push(reading('con', s.con(sp) + (s.conNoiseSd ?? 0) * n(), ts), s.nowMs ?? 0);
      last = p.push(reading('kpi', s.kpi(sp) + s.noiseSd * n(), ts, s.quality?.(i) ?? 'good'), s.nowMs ?? 0);
      if (last.proposal) proposals.push(last.proposal);
    }
  }
  return { proposals, last, endTsMs: ts };
}

describe('control: response model (OLS with prediction intervals)', () => {
  it('Student t quantiles match the tables', () => {
    expect(tQuantile(0.95, 10)).to.be.closeTo(1.812, 0.001);
    expect(tQuantile(0.975, 5)).to.be.closeTo(2.571, 0.001);
    expect(tQuantile(0.975, 1)).to.be.closeTo(12.706, 0.01);
    expect(tQuantile(0.95, 1e6)).to.be.closeTo(1.645, 0.001);
  });

  it('recovers a known quadratic response', () => {
    const rand = prng(7);
    const n = gauss(prng(8));
    const truth = (sp: number) => 5 + 0.02 * (sp - 210) ** 2;
    const samples: ResponseSample[] = Array.from({ length: 400 }, () => {
      const sp = 200 + 20 * rand();
      return { sp, kpi: truth(sp) + 0.05 * n() };
    });
    const fit = fitResponse(samples, 'quadratic');
    if (!fit.ok) throw new Error(fit.reason);
    expect(fit.model.r2).to.be.greaterThan(0.99);
    expect(fit.model.rmse).to.be.closeTo(0.05, 0.01);
    for (const sp of [201, 205, 210, 215, 219]) {
      const pr = predictResponse(fit.model, sp);
      // Within 4 standard errors of the mean response, and the interval contains the truth.
      expect(Math.abs(pr.mean - truth(sp))).to.be.below(4 * pr.seMean);
      expect(pr.low).to.be.below(truth(sp));
      expect(pr.high).to.be.above(truth(sp));
    }
    // A straight line cannot: its residual error is far larger than the noise.
    const line = fitResponse(samples, 'linear');
    expect(line.ok && line.model.rmse).to.be.greaterThan(0.3);
  });

  it('90 % prediction intervals cover about 90 % of new samples over many noisy draws', () => {
    const rand = prng(11);
    const n = gauss(prng(12));
    const truth = (sp: number, u: number) => 3 - 0.1 * sp + 0.004 * sp * sp + 0.5 * u;
    let covered = 0;
    const draws = 1000;
    for (let d = 0; d < draws; d++) {
      const samples: ResponseSample[] = Array.from({ length: 25 }, () => {
        const sp = 10 + 10 * rand();
        const u = rand();
        return { sp, kpi: truth(sp, u) + 0.2 * n(), inputs: [u] };
      });
      const fit = fitResponse(samples, 'quadratic');
      if (!fit.ok) throw new Error(fit.reason);
      const sp = 10 + 10 * rand();
      const u = rand();
      const pr = predictResponse(fit.model, sp, [u], 90);
      const y = truth(sp, u) + 0.2 * n();
      if (y >= pr.low && y <= pr.high) covered++;
    }
    expect(covered / draws).to.be.within(0.86, 0.94);
  });

  it('the standard error of a difference is zero at the same point and grows with the distance', () => {
    const samples = Array.from({ length: 30 }, (_, i) => ({ sp: 200 + (i % 3) * 5, kpi: i % 7 }));
    const fit = fitResponse(samples, 'linear');
    if (!fit.ok) throw new Error(fit.reason);
    expect(differenceSe(fit.model, 205, 205)).to.equal(0);
    expect(differenceSe(fit.model, 205, 210)).to.be.greaterThan(0);
    expect(differenceSe(fit.model, 200, 210)).to.be.closeTo(2 * differenceSe(fit.model, 205, 210), 1e-9);
  });

  it('widens the uncertainty of the mean for autocorrelated residuals (AR(1) inflation), not for independent ones', () => {
    const n = gauss(prng(21));
    let ar = 0;
    const make = (phi: number) =>
      Array.from({ length: 600 }, (_, i) => {
        ar = phi * ar + Math.sqrt(1 - phi * phi) * n();
        const sp = 200 + ((10 * Math.floor(i / 100)) % 30); // 200, 210, 220, 200, …
        return { sp, kpi: 0.1 * sp + 0.5 * ar };
      });
    const white = fitResponse(make(0), 'linear');
    const red = fitResponse(make(0.8), 'linear');
    if (!white.ok || !red.ok) throw new Error('no fit');
    expect(white.model.rho).to.be.below(0.1);
    expect(white.model.inflation).to.be.below(1.25);
    expect(red.model.rho).to.be.within(0.65, 0.9);
    expect(red.model.inflation).to.be.greaterThan(4);
    // Same residual error, but the difference of means is known far less well.
    expect(differenceSe(red.model, 200, 220) / red.model.rmse).to.be.greaterThan(
      2 * (differenceSe(white.model, 200, 220) / white.model.rmse),
    );
  });

  it('refuses too few samples, no setpoint variation and collinear inputs', () => {
    const some = (k: number, sp: (i: number) => number, inputs?: (i: number) => number[]) =>
      Array.from({ length: k }, (_, i) => ({ sp: sp(i), kpi: Math.sin(i), ...(inputs ? { inputs: inputs(i) } : {}) }));
    const few = fitResponse(
      some(4, (i) => i),
      'quadratic',
    );
    expect(few.ok).to.equal(false);
    expect(!few.ok && few.reason).to.match(/too few samples/);
    const minN = fitResponse(
      some(20, (i) => i),
      'linear',
      50,
    );
    expect(!minN.ok && minN.reason).to.match(/too few samples \(20, need 50\)/);
    const flat = fitResponse(
      some(50, () => 210),
      'linear',
    );
    expect(!flat.ok && flat.reason).to.match(/no setpoint variation/);
    const twoLevels = fitResponse(
      some(50, (i) => (i % 2 ? 210 : 215)),
      'quadratic',
    );
    expect(!twoLevels.ok && twoLevels.reason).to.match(/2 distinct values, need 3/);
    expect(
      fitResponse(
        some(50, (i) => (i % 2 ? 210 : 215)),
        'linear',
      ).ok,
    ).to.equal(true);
    const collinear = fitResponse(
      some(
        50,
        (i) => 200 + i,
        (i) => [2 * (200 + i) + 1],
      ),
      'linear',
    );
    expect(!collinear.ok && collinear.reason).to.match(/collinear/);
    // An input that never moved is left out rather than refused.
    const constant = fitResponse(
      some(
        50,
        (i) => 200 + i,
        () => [7],
      ),
      'linear',
    );
    expect(constant.ok && constant.model.p).to.equal(2);
  });
});

describe('control: proposer', () => {
  const bowl = (sp: number) => 0.3 + 0.0005 * (sp - 209) ** 2;

  it('proposes the minimum of a quadratic response from a step test, with fit, range, interval and rationale', () => {
    const p = new Proposer(cfg({ minSamples: 60 }), () => 'id-1');
    const { proposals, endTsMs } = feed(p, { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002, nowMs: 5_000 });
    expect(proposals).to.have.length(1);
    const pr = proposals[0];
    expect(pr.id).to.equal('id-1');
    expect(pr.asset).to.equal(ASSET);
    expect(pr.tag).to.equal('sp');
    expect(pr.currentValue).to.equal(215);
    expect(pr.proposedValue).to.be.closeTo(209, 1);
    expect(pr.predictedEffect.predictedKpi).to.be.below(pr.predictedEffect.currentKpi);
    expect(pr.predictedEffect.lowKpi).to.be.below(pr.predictedEffect.predictedKpi);
    expect(pr.predictedEffect.highKpi).to.be.above(pr.predictedEffect.predictedKpi);
    expect(pr.predictedEffect.intervalPct).to.equal(90);
    expect(pr.fit.method).to.equal('ols-quadratic');
    expect(pr.fit.r2).to.be.greaterThan(0.8);
    expect(pr.fitRange.setpointMin).to.equal(205);
    expect(pr.fitRange.setpointMax).to.equal(217);
    expect(pr.createdTsMs).to.be.at.most(endTsMs);
    expect(pr.createdTsMs).to.equal(pr.fitRange.toTsMs);
    expect(pr.expiresTsMs).to.equal(5_000 + 600_000);
    expect(pr.quality).to.equal('good');
    expect(pr.supersedes).to.equal(undefined);
    expect(pr.rationale).to.match(/^Lower sp from 215\.0 to 20\d\.\d: predicted kpi −\d+\.\d %/);
    expect(pr.rationale).to.match(/90 % PI/);
    // The gain is significant: the confidence interval of the mean change excludes 0 (a lower KPI),
    // and it sits inside the wider prediction interval's span around the change.
    const e = pr.predictedEffect;
    expect(e.changeHighKpi!).to.be.below(0);
    expect(e.changeLowKpi!).to.be.below(e.predictedKpi - e.currentKpi);
    expect(e.changeHighKpi! - e.changeLowKpi!).to.be.below(e.highKpi - e.lowKpi);
    expect(pr.rationale).to.match(/mean change −[\d.]+ \(90 % CI −[\d.]+ to −[\d.]+\)/);
  });

  it('never proposes outside the setpoints it has seen, nor outside the hard limits', () => {
    const falling = (sp: number) => 500 - sp; // keeps falling well beyond the data
    const p = new Proposer(cfg({ model: 'linear' }));
    const { proposals } = feed(p, { blocks: [200, 205, 210, 207], perBlock: 20, kpi: falling, noiseSd: 0.1 });
    expect(proposals.length).to.be.greaterThan(0);
    for (const pr of proposals) {
      expect(pr.proposedValue).to.be.at.most(pr.fitRange.setpointMax);
      expect(pr.proposedValue).to.be.at.least(pr.fitRange.setpointMin);
    }
    expect(proposals[proposals.length - 1].proposedValue).to.equal(210); // the edge, not beyond

    const limited = new Proposer(cfg({ model: 'linear', spHighLimit: 208.5, spLowLimit: 150 }));
    const out = feed(limited, { blocks: [200, 205, 210, 203], perBlock: 20, kpi: falling, noiseSd: 0.1 }).proposals;
    expect(out.length).to.be.greaterThan(0);
    expect(out[out.length - 1].proposedValue).to.equal(208.5);
  });

  it("mode 'target' brings the predicted KPI to the target; 'maximise' goes the other way", () => {
    const line = (sp: number) => 0.5 * sp - 100;
    const t = new Proposer(cfg({ mode: 'target', kpiTarget: 5, model: 'linear' }));
    const pr = feed(t, { blocks: [200, 220, 200], perBlock: 30, kpi: line, noiseSd: 0.05 }).proposals.pop()!;
    expect(pr.proposedValue).to.be.closeTo(210, 0.2);
    expect(pr.predictedEffect.predictedKpi).to.be.closeTo(5, 0.1);
    expect(pr.rationale).to.match(/^Raise sp from 200\.0 to 210\.\d.*target 5/);
    const mx = new Proposer(cfg({ mode: 'maximise', model: 'linear' }));
    expect(feed(mx, { blocks: [200, 220, 210], perBlock: 30, kpi: line, noiseSd: 0.05 }).proposals.pop()?.proposedValue).to.equal(220);
  });

  it('stays quiet when the predicted gain is below the deadband', () => {
    const stream = { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002 };
    // The same data proposes without a deadband (so the silence below is the deadband's doing).
    expect(feed(new Proposer(cfg({ minSamples: 60 })), stream).proposals).to.have.length(1);
    const p = new Proposer(cfg({ minSamples: 60, deadband: 0.02 })); // the bowl's gain from 215 is 0.018
    const { proposals, last } = feed(p, stream);
    expect(proposals).to.have.length(0);
    expect(last.status.phase).to.equal('fitted');
    expect(last.status.phase === 'fitted' && last.status.reason).to.match(/below deadband/);
  });

  it('stays quiet on a KPI that does not depend on the setpoint (gain not significant), nearly always', () => {
    let proposed = 0;
    let notSignificant = 0;
    const seeds = 100;
    for (let seed = 1; seed <= seeds; seed++) {
      const p = new Proposer(cfg({ model: 'linear', minSamples: 40, refitIntervalMs: 1e12 }));
      const { proposals, last } = feed(p, { blocks: [200, 210], perBlock: 20, kpi: () => 1, noiseSd: 0.1, seed });
      proposed += proposals.length;
      if (last.status.phase === 'fitted' && /not significant/.test(last.status.reason)) notSignificant++;
    }
    // A 90 % test on the change of the mean: about 10 % false proposals on pure noise.
    expect(proposed / seeds).to.be.below(0.2);
    expect(notSignificant).to.be.greaterThan(0);
  });

  it('keeps one open proposal: quiet while the new best is the same, supersedes when it moves by minChange', () => {
    let id = 0;
    const p = new Proposer(cfg({ minSamples: 60, minChange: 2, windowMs: 200_000 }), () => `p${++id}`);
    const first = feed(p, { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002 });
    expect(first.proposals.map((x) => x.id)).to.deep.equal(['p1']);
    // More of the same plant: every refit finds the same setpoint → no new proposal.
    const same = feed(p, { blocks: [215], perBlock: 40, kpi: bowl, noiseSd: 0.002, startTsMs: first.endTsMs, seed: 2 });
    expect(same.proposals).to.have.length(0);
    expect(same.last.status).to.deep.include({
      phase: 'proposed',
      value: first.proposals[0].proposedValue,
      reason: 'same as open proposal',
    });
    expect(p.openProposal()?.id).to.equal('p1');
    // The plant changed: the optimum moved to 213 (4 units away): a new proposal supersedes p1.
    const shifted = (sp: number) => 0.3 + 0.0005 * (sp - 213) ** 2;
    const moved = feed(p, { blocks: [205, 217, 210, 215], perBlock: 50, kpi: shifted, noiseSd: 0.002, startTsMs: same.endTsMs, seed: 3 });
    expect(moved.proposals.length).to.be.greaterThan(0);
    expect(moved.proposals[0].supersedes).to.equal('p1');
    expect(moved.proposals[moved.proposals.length - 1].proposedValue).to.be.closeTo(213, 1);
    for (let k = 1; k < moved.proposals.length; k++) {
      expect(moved.proposals[k].supersedes).to.equal(moved.proposals[k - 1].id);
      expect(
        Math.abs(moved.proposals[k].proposedValue - moved.proposals[k - 1].proposedValue) >= 2 ||
          Math.abs(moved.proposals[k].currentValue - moved.proposals[k - 1].currentValue) >= 2,
      ).to.equal(true);
    }
  });

  it('closes the open proposal when it expires (wall clock) or the setpoint reaches it', () => {
    const p = new Proposer(cfg({ minSamples: 60, proposalTtlMs: 1000 }), () => 'x');
    const a = feed(p, { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002, nowMs: 0 });
    expect(a.proposals).to.have.length(1);
    expect(p.push(reading('kpi', 0.3, a.endTsMs + 1), 999).proposal).to.equal(undefined); // still open: same as open
    expect(p.openProposal()?.id).to.equal('x');
    // Expired at 1000: the next refit proposes afresh, superseding nothing.
    const again = p.push(reading('kpi', 0.3, a.endTsMs + 2), 1000).proposal;
    expect(again).to.not.equal(undefined);
    expect(again!.supersedes).to.equal(undefined);
    expect(again!.expiresTsMs).to.equal(2000);

    const q = new Proposer(cfg({ minSamples: 60 }), () => 'y');
    const b = feed(q, { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002 });
    q.push(reading('sp', b.proposals[0].proposedValue, b.endTsMs + 1), 0);
    expect(q.openProposal()).to.equal(undefined);
  });

  it('marks the proposal uncertain when an input sample was uncertain, leaves bad samples out, and stays quiet when too many are bad', () => {
    const stream = { blocks: [205, 217, 215], perBlock: 40, kpi: bowl, noiseSd: 0.002 };
    const u = feed(new Proposer(cfg({ minSamples: 60 })), { ...stream, quality: (i) => (i === 10 ? 'uncertain' : 'good') }).proposals;
    expect(u).to.have.length(1);
    expect(u[0].quality).to.equal('uncertain');
    expect(u[0].qualityReason).to.match(/1 of \d+ samples uncertain/);

    // A few bad samples, with wild values: left out, the proposal is as good as without them.
    const b = feed(new Proposer(cfg({ minSamples: 60 })), {
      ...stream,
      kpi: bowl,
      quality: (i) => (i % 20 === 0 ? 'bad' : 'good'),
    }).proposals;
    expect(b).to.have.length(1);
    expect(b[0].quality).to.equal('good');
    expect(b[0].fit.n).to.be.below(160);

    const many = feed(new Proposer(cfg({ minSamples: 60, maxBadPct: 20 })), { ...stream, quality: (i) => (i % 3 === 0 ? 'bad' : 'good') });
    expect(many.proposals).to.have.length(0);
    expect(many.last.status.phase === 'learning' && many.last.status.reason).to.match(/too many bad samples/);
  });

  it('respects a constraint KPI through its prediction-interval bound', () => {
    const falling = (sp: number) => 0.5 - 0.001 * sp; // lower is better → wants the highest setpoint
    const quality = (sp: number) => 100 - 0.05 * (sp - 200) ** 2; // ≥ 97 up to 207.75
    const stream = { blocks: [200, 210, 204, 202], perBlock: 40, kpi: falling, noiseSd: 0.0005, con: quality, conNoiseSd: 0.2 };
    const free = feed(new Proposer(cfg()), stream).proposals.pop()!;
    expect(free.proposedValue).to.equal(210);
    const p = new Proposer(cfg({ constraintTag: 'con', constraintMin: 97 }));
    const pr = feed(p, stream).proposals.pop()!;
    expect(pr.proposedValue).to.be.at.most(207.75);
    expect(pr.proposedValue).to.be.greaterThan(205);
    const c = pr.predictedEffect.others![0];
    expect(c.kpiTag).to.equal('con');
    expect(c.lowKpi).to.be.at.least(97);
    expect(quality(pr.proposedValue)).to.be.at.least(97);
    expect(pr.rationale).to.match(/while con stays ≥ 97 \(predicted/);
  });

  it('proposes to restore a constraint the current setpoint breaks', () => {
    const falling = (sp: number) => 0.5 - 0.001 * sp;
    const quality = (sp: number) => 100 - 0.05 * (sp - 200) ** 2;
    const p = new Proposer(cfg({ constraintTag: 'con', constraintMin: 97 }));
    const pr = feed(p, {
      blocks: [200, 204, 202, 210],
      perBlock: 40,
      kpi: falling,
      noiseSd: 0.0005,
      con: quality,
      conNoiseSd: 0.2,
    }).proposals.pop()!;
    expect(pr.currentValue).to.equal(210);
    expect(pr.proposedValue).to.be.within(205, 207.75);
    expect(pr.predictedEffect.predictedKpi).to.be.above(pr.predictedEffect.currentKpi); // the KPI pays for it
    expect(pr.rationale).to.match(/to bring con back ≥ 97/);
  });

  it('does not propose with too few samples or without setpoint variation, and says so', () => {
    const few = feed(new Proposer(cfg({ minSamples: 60 })), { blocks: [205, 213], perBlock: 20, kpi: bowl, noiseSd: 0.002 });
    expect(few.proposals).to.have.length(0);
    expect(few.last.status).to.deep.include({ phase: 'learning', n: 40, needed: 60 });
    const flat = feed(new Proposer(cfg({ minSamples: 60 })), { blocks: [213], perBlock: 100, kpi: bowl, noiseSd: 0.002 });
    expect(flat.proposals).to.have.length(0);
    expect(flat.last.status.phase === 'learning' && flat.last.status.reason).to.match(/no setpoint variation/);
  });

  it('aligns on event time: skips samples within settleMs of a setpoint change, drops samples older than the window, ignores other tags and assets', () => {
    const p = new Proposer(cfg({ settleMs: 10_000, minSamples: 1000, windowMs: 59_500 }));
    const a = feed(p, { blocks: [200, 210], perBlock: 30, kpi: bowl, noiseSd: 0.002 });
    // 30 at 200 (no change known yet) + 30 at 210 minus the 9 within 10 s of the change.
    expect(a.last.status).to.deep.include({ phase: 'learning', n: 50 });
    const b = feed(p, { blocks: [210], perBlock: 30, kpi: bowl, noiseSd: 0.002, startTsMs: a.endTsMs });
    expect(b.last.status).to.deep.include({ n: 50 }); // the window now holds 20 settled + 30 new samples at 210
    expect(p.push({ ...reading('kpi', 1, b.endTsMs + 1), asset: 'other' }, 0).ignored).to.match(/asset/);
    expect(p.push(reading('vibration', 1, b.endTsMs + 1), 0).ignored).to.match(/not used/);
    expect(p.push(reading('kpi', 1, b.endTsMs - 5), 0).ignored).to.match(/out of order/);
  });

  it('uses other inputs: a disturbance the model knows does not bias the proposal', () => {
    // KPI = bowl(sp) + 0.01·load; load happens to be high whenever sp is high (confounded).
    const p = new Proposer(cfg({ inputTags: ['load'], minSamples: 60 }));
    const n = gauss(prng(5));
    let ts = 0;
    let last: Proposal | undefined;
    for (const sp of [205, 213, 217, 215]) {
      for (let k = 0; k < 40; k++) {
        ts += 1000;
        const load = sp - 205 + 3 * Math.sin(k);
        p.push(reading('sp', sp, ts), 0);
        p.push(reading('load', load, ts), 0);
        const o = p.push(reading('kpi', bowl(sp) + 0.01 * load + 0.002 * n(), ts), 0);
        if (o.proposal) last = o.proposal;
      }
    }
    expect(last?.proposedValue).to.be.closeTo(209, 1.5);
  });
});

describe('control: proposer config', () => {
  const ok = { asset: 'a', setpointTag: 'sp', kpiTag: 'kpi' };
  const refuses = (over: Record<string, unknown>, re: RegExp) => {
    expect(() => validateProposerConfig({ ...ok, ...over })).to.throw(TwinError, re);
  };

  it('fills defaults and parses editor strings', () => {
    const c = validateProposerConfig({
      ...ok,
      windowMs: '60000',
      inputTags: 'a, b',
      spLowLimit: '',
      constraintTag: 'q',
      constraintMin: '98',
    });
    expect(c.windowMs).to.equal(60000);
    expect(c.inputTags).to.deep.equal(['a', 'b']);
    expect(c.spLowLimit).to.equal(undefined);
    expect(c.constraintMin).to.equal(98);
    expect(c.mode).to.equal('minimise');
    expect(c.model).to.equal('quadratic');
  });

  it('refuses what cannot work, naming the field', () => {
    refuses({ asset: '' }, /asset is required/);
    refuses({ kpiTag: 'sp' }, /kpiTag must differ/);
    refuses({ mode: 'target' }, /kpiTarget is required/);
    refuses({ mode: 'best' }, /mode must be/);
    refuses({ constraintTag: 'q' }, /constraintMin or constraintMax is required/);
    refuses({ constraintMin: 3 }, /constraintTag is required/);
    refuses({ constraintTag: 'q', constraintMin: 5, constraintMax: 1 }, /constraintMin must be below/);
    refuses({ inputTags: 'kpi' }, /inputTags must not repeat/);
    refuses({ model: 'cubic' }, /model must be/);
    refuses({ windowMs: 0 }, /windowMs must be > 0/);
    refuses({ windowMs: 'abc' }, /windowMs must be a number/);
    refuses({ minSamples: 2 }, /minSamples must be an integer/);
    refuses({ minChange: 0 }, /minChange must be > 0/);
    refuses({ spLowLimit: 10, spHighLimit: 5 }, /spLowLimit must be below/);
    refuses({ intervalPct: 100 }, /intervalPct/);
  });
});
