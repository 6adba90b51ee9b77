import { expect } from 'chai';
import { EWMA_DEFAULTS, ewmaDetector, ewmaInit, ewmaStep } from '../../runtime/drift/ewma.js';
import { driftIndices, isVerified, normals, riverExpected, riverStream } from '../support/drift-data.js';
import { commonDetectorSuite } from '../support/drift-cases.js';

describe('drift: EWMA chart', () => {
  const expected = riverExpected();

  it('has River defaults', () => {
    expect(EWMA_DEFAULTS).to.deep.equal({ alpha: 0.1, threshold: 4, minInstances: 30, mode: 'both' });
  });

  it('EWMA(alpha=0.1, threshold=4, min_instances=50) on D → River docstring indices', () => {
    const c = expected.D_rng12345_gauss0x1000_then_gauss3x1000['EWMA(alpha=0.1,threshold=4,min_instances=50)'];
    expect(isVerified(c)).to.equal(true);
    const s = ewmaInit({ alpha: 0.1, threshold: 4, minInstances: 50 });
    expect(driftIndices(s, ewmaStep, riverStream('D_rng12345_gauss0x1000_then_gauss3x1000'))).to.deep.equal(c.drift);
  });

  it('does not alarm on floating-point rounding of a constant (River would: bound 0, deviation 1e-17)', () => {
    const s = ewmaInit();
    for (let i = 0; i < 1000; i++) expect(ewmaStep(s, -0.3), `sample ${i}`).to.equal(false);
    // ...but a real change of the constant is still caught within a few samples.
    let at = -1;
    for (let i = 0; i < 20 && at < 0; i++) if (ewmaStep(s, -0.2)) at = i;
    expect(at).to.be.within(0, 19);
  });

  it("mode 'down' ignores an increase", () => {
    const xs = [...normals(3, 500, 10, 1), ...normals(4, 300, 14, 1)];
    expect(driftIndices(ewmaInit({ mode: 'down', threshold: 5 }), ewmaStep, xs)).to.deep.equal([]);
    expect(driftIndices(ewmaInit({ mode: 'up', threshold: 5 }), ewmaStep, xs)[0]).to.be.within(500, 520);
  });

  commonDetectorSuite(ewmaDetector, {
    // The limits rest on an EW variance (α = 0.1), itself noisy, so the tails are heavier than a
    // fixed-σ chart's: L = 6 for the no-false-alarm case.
    params: { threshold: 6 },
    sd: 1,
    shiftSd: 3,
    maxDelay: 30,
    startWithin: [990, 1005],
    magnitudeTol: 0.3,
    badParams: [
      [{ alpha: 0 }, 'alpha'],
      [{ threshold: -1 }, 'threshold'],
      [{ minInstances: 'ten' }, 'minInstances'],
      [{ mode: null }, 'mode'],
    ],
  });
});
