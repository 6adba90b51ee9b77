import { expect } from 'chai';
import { CUSUM_DEFAULTS, cusumDetector, cusumInit, cusumStep } from '../../runtime/drift/cusum.js';
import { driftIndices, isVerified, normals, riverExpected, riverStream } from '../support/drift-data.js';
import { commonDetectorSuite } from '../support/drift-cases.js';

describe('drift: CUSUM', () => {
  const expected = riverExpected();

  it('has River defaults', () => {
    expect(CUSUM_DEFAULTS).to.deep.equal({ minInstances: 30, slack: 0.5, threshold: 5, mode: 'both' });
  });

  it('CUSUM() on C (random.Random(12345): N(0,1) then N(3,1)) → River docstring indices, both (reset in between)', () => {
    const c = expected.C_rng12345_gauss0_then_gauss3['CUSUM()'];
    expect(isVerified(c)).to.equal(true);
    expect(c.drift).to.have.length(2);
    expect(driftIndices(cusumInit(), cusumStep, riverStream('C_rng12345_gauss0_then_gauss3'))).to.deep.equal(c.drift);
  });

  it('at the classical settings alarms on stationary noise every few hundred samples, as River documents', () => {
    const n = 200_000;
    const alarms = driftIndices(cusumInit(), cusumStep, normals(99, n, 10, 2)).length;
    // Two-sided ARL0 at k = 0.5, h = 5 is about 465 samples (+ 30 warm-up per run).
    expect(n / alarms).to.be.within(200, 2000);
  });

  it('freezes μ and σ on the warm-up: a slow drift after it is caught, the same drift during it is not', () => {
    const xs = Array.from({ length: 400 }, (_, i) => 10 + (i >= 30 ? (i - 30) * 0.05 : 0) + Math.sin(i) * 0.5);
    const got = driftIndices(cusumInit(), cusumStep, xs);
    expect(got.length).to.be.greaterThan(0);
    expect(got[0]).to.be.within(30, 120);
  });

  it("mode 'up' ignores a decrease", () => {
    const xs = [...normals(3, 100, 10, 1), ...normals(4, 300, 5, 1)];
    expect(driftIndices(cusumInit({ mode: 'up', threshold: 8, slack: 1 }), cusumStep, xs)).to.deep.equal([]);
    expect(driftIndices(cusumInit({ mode: 'down', threshold: 8, slack: 1 }), cusumStep, xs)[0]).to.be.within(100, 110);
  });

  // k and h are in reference σ; at k = 1, h = 8 the in-control run length is ~10⁷ samples.
  commonDetectorSuite(cusumDetector, {
    params: { slack: 1, threshold: 8 },
    sd: 1,
    shiftSd: 3,
    maxDelay: 15,
    startWithin: [995, 1005],
    // mean since the sum left zero (a handful of samples, selected for pushing it up) minus a
    // reference from 30 warm-up samples: right in sign and order, not precise.
    magnitudeTol: 0.6,
    badParams: [
      [{ slack: -1 }, 'slack'],
      [{ threshold: 0 }, 'threshold'],
      [{ minInstances: 0 }, 'minInstances'],
      [{ mode: 'UP' }, 'mode'],
    ],
  });
});
