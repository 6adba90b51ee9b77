import { expect } from 'chai';
import { ADWIN_DEFAULTS, adwinBucketCount, adwinDetector, adwinInit, adwinStep } from '../../runtime/drift/adwin.js';
import { driftIndices, gaussian, isVerified, riverExpected, riverStream } from '../support/drift-data.js';
import { commonDetectorSuite } from '../support/drift-cases.js';

describe('drift: ADWIN', () => {
  const expected = riverExpected();

  it('has River defaults', () => {
    expect(ADWIN_DEFAULTS).to.deep.equal({ delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 });
  });

  it('ADWIN() on A (random.Random(12345)) → River docstring indices', () => {
    const c = expected.A_rng12345_choices01_then_4to7['ADWIN()'];
    expect(isVerified(c)).to.equal(true);
    expect(driftIndices(adwinInit(), adwinStep, riverStream('A_rng12345_choices01_then_4to7'))).to.deep.equal(c.drift);
  });

  it("ADWIN() on np1 (numpy seed 12345) → River's old test indices", () => {
    const c = expected.np1_seed12345_randint2_then_randint8['ADWIN()'];
    expect(isVerified(c)).to.equal(true);
    expect(driftIndices(adwinInit(), adwinStep, riverStream('np1_seed12345_randint2_then_randint8'))).to.deep.equal(c.drift);
  });

  it('checks only every `clock` samples: with clock 1 it flags earlier on the same stream', () => {
    const xs = riverStream('A_rng12345_choices01_then_4to7');
    const every = driftIndices(adwinInit({ clock: 1 }), adwinStep, xs);
    expect(every[0]).to.be.within(1000, 1022);
    expect((1 + every[0]) % 32).to.not.equal(0);
  });

  it('keeps the bucket count logarithmic: after 1 000 000 stationary samples ≤ maxBuckets·(log2(width/maxBuckets) + 2)', () => {
    const s = adwinInit();
    const g = gaussian(42);
    for (let i = 0; i < 1_000_000; i++) adwinStep(s, g(10, 1));
    const width = s.width;
    expect(width).to.be.greaterThan(100_000); // stationary: the window keeps growing...
    const bound = s.p.maxBuckets * (Math.log2(width / s.p.maxBuckets) + 2);
    expect(adwinBucketCount(s)).to.be.at.most(bound); // ...its summary does not
    expect(s.nRows).to.be.at.most(Math.ceil(Math.log2(width)) + 1);
    expect(s.capRows, 'allocated rows').to.be.at.most(32);
    // The window's total and variance agree with the buckets' (bookkeeping stays consistent).
    let total = 0;
    for (let r = 0; r < s.nRows; r++) for (let k = 0; k < s.cnt[r]; k++) total += s.tot[r * s.slots + k];
    expect(Math.abs(total - s.total) / s.total).to.be.below(1e-9);
    expect(s.variance / s.width).to.be.within(0.9, 1.1);
  });

  it('dates the change at the best cut: the start lies at the shift and the means on each side are right', () => {
    const g = gaussian(5);
    const xs = [...Array.from({ length: 3000 }, () => g(0, 1)), ...Array.from({ length: 500 }, () => g(2, 1))];
    const s = adwinInit();
    let at = -1;
    for (let i = 0; i < xs.length && at < 0; i++) if (adwinStep(s, xs[i], 5000 + i)) at = i;
    expect(at).to.be.within(3000, 3200);
    const c = adwinDetector.change(s);
    expect(c.startIndex).to.be.within(2960, 3040);
    expect(c.startT).to.equal(5000 + c.startIndex);
    expect(c.meanBefore).to.be.within(-0.2, 0.2);
    expect(c.meanAfter).to.be.within(1.5, 2.5);
  });

  commonDetectorSuite(adwinDetector, {
    params: {},
    sd: 1,
    shiftSd: 3,
    maxDelay: 64,
    startWithin: [970, 1030],
    magnitudeTol: 0.25,
    badParams: [
      [{ delta: 0 }, 'delta'],
      [{ delta: 1 }, 'delta'],
      [{ clock: 0 }, 'clock'],
      [{ maxBuckets: 1 }, 'maxBuckets'],
      [{ minWindowLength: 0.5 }, 'minWindowLength'],
      [{ gracePeriod: -1 }, 'gracePeriod'],
    ],
  });
});
