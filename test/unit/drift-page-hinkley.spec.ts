import { expect } from 'chai';
import { PAGE_HINKLEY_DEFAULTS, pageHinkleyDetector, pageHinkleyInit, pageHinkleyStep } from '../../runtime/drift/page-hinkley.js';
import { driftIndices, isVerified, riverExpected, riverStream } from '../support/drift-data.js';
import { commonDetectorSuite } from '../support/drift-cases.js';

describe('drift: Page-Hinkley', () => {
  const expected = riverExpected();

  describe('River cross-checks (exact indices)', () => {
    it('has River defaults', () => {
      expect(PAGE_HINKLEY_DEFAULTS).to.deep.include({ minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' });
    });

    it('PageHinkley() on A (random.Random(12345): 0/1 then 4..7) → River docstring indices', () => {
      const c = expected.A_rng12345_choices01_then_4to7['PageHinkley()'];
      expect(isVerified(c)).to.equal(true);
      expect(driftIndices(pageHinkleyInit(), pageHinkleyStep, riverStream('A_rng12345_choices01_then_4to7'))).to.deep.equal(c.drift);
    });

    it("legacy one-sided PageHinkley on np1 (numpy seed 12345) → River's old test indices, including the one after the reset", () => {
      const c = expected.np1_seed12345_randint2_then_randint8['PageHinkley(legacy one-sided, pre-mode API)'];
      expect(isVerified(c)).to.equal(true);
      expect(c.drift).to.have.length(2);
      const got = driftIndices(pageHinkleyInit({ legacy: true }), pageHinkleyStep, riverStream('np1_seed12345_randint2_then_randint8'));
      expect(got).to.deep.equal(c.drift);
    });

    it('two-sided PageHinkley on np1 agrees with the (unverified) prototype indices', () => {
      // Not binding (prototype only); kept because it exercises the decrease side and three resets.
      const c = expected.np1_seed12345_randint2_then_randint8['PageHinkley() latest two-sided'];
      expect(isVerified(c)).to.equal(false);
      expect(driftIndices(pageHinkleyInit(), pageHinkleyStep, riverStream('np1_seed12345_randint2_then_randint8'))).to.deep.equal(c.drift);
    });
  });

  it("mode 'up' ignores a decrease that mode 'down' flags", () => {
    const xs = [...new Array(200).fill(5), ...new Array(200).fill(3)];
    expect(driftIndices(pageHinkleyInit({ mode: 'up' }), pageHinkleyStep, xs)).to.deep.equal([]);
    const down = driftIndices(pageHinkleyInit({ mode: 'down' }), pageHinkleyStep, xs);
    expect(down.length).to.be.greaterThan(0);
    expect(down[0]).to.be.within(200, 260);
  });

  it('does not test before minInstances samples', () => {
    const xs = [0, 0, 0, 1000, 1000, 1000, 1000, 1000];
    expect(driftIndices(pageHinkleyInit({ minInstances: 6 }), pageHinkleyStep, xs)).to.deep.equal([5]);
    expect(driftIndices(pageHinkleyInit({ minInstances: 3 }), pageHinkleyStep, xs)[0]).to.equal(3);
  });

  // Page-Hinkley's δ and λ are in the tag's units (River's defaults suit 0/1-scale streams):
  // the common cases use noise of sd 0.1.
  commonDetectorSuite(pageHinkleyDetector, {
    params: {},
    sd: 0.1,
    shiftSd: 10,
    maxDelay: 100,
    // The start is where the cumulative sum was extreme; with δ = 0.005 against noise of 0.1 the
    // sum before the shift is nearly a driftless random walk, so its extreme can lie hundreds of
    // samples early and the "after" mean is diluted accordingly. Honest, so the bounds are wide.
    startWithin: [600, 1010],
    magnitudeTol: 0.9,
    badParams: [
      [{ threshold: 0 }, 'threshold'],
      [{ alpha: 1.5 }, 'alpha'],
      [{ minInstances: 2.5 }, 'minInstances'],
      [{ mode: 'sideways' }, 'mode'],
      [{ delta: Number.NaN }, 'delta'],
      [{ legacy: 'yes' }, 'legacy'],
    ],
  });
});
