import { expect } from 'chai';
import { confusion, nabScale, nabScore, nabWindows, NAB_PROFILES, pointwise, risingEdges } from '../../bench/skab-score.js';

describe('drift: SKAB scoring (point-wise and SKAB NAB)', () => {
  it('point-wise: counts summed over files before the ratios', () => {
    const a = confusion([0, 0, 1, 1, 1], [0, 1, 1, 1, 0]); // tp 2, tn 1, fp 1, fn 1
    const b = confusion([1, 1, 0], [1, 1, 1]); // tp 2, tn 0, fp 1, fn 0
    expect(a).to.deep.equal({ tp: 2, tn: 1, fp: 1, fn: 1 });
    const r = pointwise([a, b]);
    expect(r.f1).to.be.closeTo(4 / (4 + (2 + 1) / 2), 1e-12);
    expect(r.farPct).to.be.closeTo((100 * 2) / 3, 1e-12);
    expect(r.marPct).to.be.closeTo(20, 1e-12);
    expect(() => confusion([1], [1, 0])).to.throw();
  });

  it('scale function: A_tp at the change point, A_fp at the window end, falling in between', () => {
    const p = NAB_PROFILES.standard;
    expect(nabScale(0, p)).to.be.closeTo(p.aTp, 1e-12);
    expect(nabScale(1, p)).to.be.closeTo(p.aFp, 1e-12);
    expect(nabScale(0.5, p)).to.be.closeTo((p.aTp + p.aFp) / 2, 0.01);
    expect(nabScale(0.2, p)).to.be.greaterThan(nabScale(0.4, p));
  });

  it('windows to the right of each change point; an overlap moves the later window’s left edge', () => {
    expect(nabWindows([100_000, 130_000], 60_000)).to.deep.equal([
      [100_000, 160_000],
      [160_000, 190_000],
    ]);
  });

  const ts = Array.from({ length: 600 }, (_, i) => i * 1000);
  const cps = [100_000, 400_000];
  it('perfect detector 100, null detector 0, false positives cost A_fp each', () => {
    expect(nabScore([{ tsMs: ts, changePointsMs: cps, predictedMs: cps }]).standard).to.be.closeTo(100, 1e-9);
    const nul = nabScore([{ tsMs: ts, changePointsMs: cps, predictedMs: [] }]);
    expect(nul.standard).to.equal(0);
    expect(nul.missed).to.equal(2);
    const withFp = nabScore([{ tsMs: ts, changePointsMs: cps, predictedMs: [...cps, 300_000] }]);
    expect(withFp.falsePositives).to.equal(1);
    // (2 − 0.11 − (−2)) / (2 − (−2)) · 100
    expect(withFp.standard).to.be.closeTo((100 * (2 - 0.11 + 2)) / 4, 1e-9);
    expect(withFp.lowFp).to.be.closeTo((100 * (2 - 0.22 + 2)) / 4, 1e-9);
  });

  it('only the first prediction in a window counts; a late one scores less', () => {
    const early = nabScore([{ tsMs: ts, changePointsMs: [100_000], predictedMs: [110_000, 150_000] }]);
    const late = nabScore([{ tsMs: ts, changePointsMs: [100_000], predictedMs: [150_000] }]);
    expect(early.falsePositives).to.equal(0);
    expect(early.standard).to.be.greaterThan(late.standard);
    expect(early.meanDelayMs).to.equal(10_000);
  });

  it('rising edges of an alarm flag are the predicted change points', () => {
    expect(risingEdges([0, 1, 2, 3, 4, 5], [0, 1, 1, 0, 1, 1])).to.deep.equal([1, 4]);
  });
});
