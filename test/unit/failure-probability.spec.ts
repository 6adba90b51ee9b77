import { expect } from 'chai';
import fc from 'fast-check';
import { TwinError } from '../../runtime/model/errors.js';
import { failureDistribution, failureProbabilityBefore } from '../../runtime/maintenance/failure-probability.js';
import { normalCdf } from '../../runtime/stats/index.js';

const D = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 8);
const est = (p10: number, p50: number, p90: number, tsMs = T0) => ({ tsMs, rulP10Ms: p10 * D, rulMs: p50 * D, rulP90Ms: p90 * D });

describe('maintenance: failure probability from RUL quantiles', () => {
  it('Φ matches tabulated values to 1e-12', () => {
    expect(normalCdf(0)).to.be.closeTo(0.5, 1e-12);
    expect(normalCdf(1.2815515655446004)).to.be.closeTo(0.9, 1e-12);
    expect(normalCdf(-1.959963984540054)).to.be.closeTo(0.025, 1e-12);
    expect(normalCdf(3)).to.be.closeTo(0.9986501019683699, 1e-12);
  });

  it('passes through P10, P50 and P90 exactly, even when they are not symmetric in log time', () => {
    const d = failureDistribution(est(2, 10, 14));
    expect(failureProbabilityBefore(d, T0 + 2 * D)).to.be.closeTo(0.1, 1e-6);
    expect(failureProbabilityBefore(d, T0 + 10 * D)).to.equal(0.5);
    expect(failureProbabilityBefore(d, T0 + 14 * D)).to.be.closeTo(0.9, 1e-6);
  });

  it('counts from the estimate’s tsMs (event time): 0 at or before it, smooth tails after', () => {
    const d = failureDistribution(est(5, 10, 20));
    expect(failureProbabilityBefore(d, T0)).to.equal(0);
    expect(failureProbabilityBefore(d, T0 - D)).to.equal(0);
    const early = failureProbabilityBefore(d, T0 + 1 * D);
    expect(early).to.be.above(0).and.below(0.01);
    const late = failureProbabilityBefore(d, T0 + 60 * D);
    expect(late).to.be.above(0.99).and.below(1);
  });

  it('is monotone non-decreasing in t for any ordered quantiles (property)', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.double({ min: 0.01, max: 500, noNaN: true }),
          fc.double({ min: 1, max: 3, noNaN: true }),
          fc.double({ min: 1, max: 3, noNaN: true }),
        ),
        fc.array(fc.double({ min: -10, max: 3000, noNaN: true }), { minLength: 2, maxLength: 30 }),
        ([p10, a, b], ts) => {
          const d = failureDistribution(est(p10, p10 * a, p10 * a * b));
          const ps = [...ts].sort((x, y) => x - y).map((t) => failureProbabilityBefore(d, T0 + t * D));
          for (let i = 1; i < ps.length; i++) if (ps[i] < ps[i - 1]) return false;
          return ps.every((p) => p >= 0 && p <= 1);
        },
      ),
    );
  });

  it('P10 ≤ 0 is read as P50/100; P50 ≤ 0 means failure is due (1 after tsMs); equal quantiles are a sharp edge', () => {
    const d = failureDistribution(est(0, 10, 20));
    expect(failureProbabilityBefore(d, T0 + 0.1 * D)).to.be.closeTo(0.1, 1e-6);
    const due = failureDistribution(est(-1, 0, 2));
    expect(failureProbabilityBefore(due, T0 + 1)).to.equal(1);
    const sharp = failureDistribution(est(10, 10, 10));
    expect(failureProbabilityBefore(sharp, T0 + 9.99 * D)).to.equal(0);
    expect(failureProbabilityBefore(sharp, T0 + 10 * D)).to.equal(0.5);
    expect(failureProbabilityBefore(sharp, T0 + 10.01 * D)).to.equal(1);
  });

  it('refuses quantiles out of order and non-finite values', () => {
    expect(() => failureDistribution(est(10, 12, 5))).to.throw(TwinError, 'rulP10Ms 864000000 is above rulP90Ms 432000000');
    expect(() => failureDistribution(est(5, 30, 20))).to.throw(TwinError, 'rulMs 2592000000 is outside rulP10Ms..rulP90Ms');
    expect(() => failureDistribution({ ...est(5, 10, 20), rulMs: NaN })).to.throw(TwinError, 'RulEstimate.rulMs is not finite: NaN');
    expect(() => failureDistribution({ ...est(5, 10, 20), tsMs: Infinity })).to.throw(TwinError, 'RulEstimate.tsMs is not finite');
    expect(() => failureDistribution({ ...est(5, 10, 20), rulP90Ms: '7' as unknown as number })).to.throw(
      TwinError,
      'RulEstimate.rulP90Ms must be a number',
    );
  });
});
