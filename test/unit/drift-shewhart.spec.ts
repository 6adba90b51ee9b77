import { expect } from 'chai';
import { SHEWHART_DEFAULTS, shewhartDetector, shewhartInit, shewhartStep } from '../../runtime/drift/shewhart.js';
import { driftIndices, isVerified, normals, riverExpected, riverStream } from '../support/drift-data.js';
import { commonDetectorSuite } from '../support/drift-cases.js';

describe('drift: Shewhart chart', () => {
  const expected = riverExpected();

  it('has River defaults', () => {
    expect(SHEWHART_DEFAULTS).to.deep.equal({ k: 3, minInstances: 30, mode: 'both' });
  });

  it('Shewhart(k=4) on E (N(0,1) × 300 then N(5,1) × 200) → River docstring indices', () => {
    const c = expected.E_rng12345_gauss0x300_then_gauss5x200['Shewhart(k=4)'];
    expect(isVerified(c)).to.equal(true);
    expect(driftIndices(shewhartInit({ k: 4 }), shewhartStep, riverStream('E_rng12345_gauss0x300_then_gauss5x200'))).to.deep.equal(c.drift);
  });

  it('judges each sample alone: one outlier is enough, and the sample after it starts a new warm-up', () => {
    const xs = [...normals(8, 100, 10, 1), 30, ...normals(9, 20, 10, 1)];
    const s = shewhartInit();
    const got = driftIndices(s, shewhartStep, xs);
    expect(got).to.deep.equal([100]); // the 20 samples after it are a fresh warm-up: no test
    expect(shewhartDetector.count(s)).to.equal(20);
    expect(shewhartDetector.score(s)).to.equal(0);
  });

  it("tests the warm-up's last sample against the limits frozen on it (River freezes on sample minInstances)", () => {
    const xs = [...new Array(29).fill(0).map((_, i) => (i % 2 ? 1 : -1)), 100];
    expect(driftIndices(shewhartInit({ minInstances: 30, k: 3 }), shewhartStep, xs)).to.deep.equal([29]);
  });

  commonDetectorSuite(shewhartDetector, {
    params: { k: 5, minInstances: 500 },
    sd: 1,
    shiftSd: 8,
    maxDelay: 3,
    startWithin: [1000, 1003],
    magnitudeTol: 0.5,
    badParams: [
      [{ k: 0 }, 'k'],
      [{ minInstances: -3 }, 'minInstances'],
      [{ mode: 3 }, 'mode'],
    ],
  });
});
