import { expect } from 'chai';
import {
  chi2Cdf,
  chi2Quantile,
  chi2Survival,
  fCdf,
  fQuantile,
  gammaP,
  gammaQ,
  lnGamma,
  madSigma,
  median,
  normalCdf,
  normalQuantile,
  quantileSorted,
  regularizedBeta,
  tQuantile,
} from '../../runtime/stats/index.js';

// Reference values from scipy 1.17.1 (scipy.stats.chi2/norm/f/t.ppf), an independent implementation (cdflib/boost).
describe('stats: distributions against reference values', () => {
  const chi2Ref: [number, number, number][] = [
    [0.95, 1, 3.841458820694124],
    [0.99, 1, 6.6348966010212145],
    [0.95, 10, 18.307038053275146],
    [0.999, 2, 13.815510557964274],
    [0.5, 100, 99.33412923598846],
    [0.05, 1, 0.003932140000019522],
    [0.01, 5, 0.5542980767282772],
    [0.975, 20, 34.16960690283833],
    [0.99, 50, 76.1538912490127],
    [0.9999, 3, 21.107513466160444],
    [0.001, 0.5, 1.3499395786230753e-12],
    [0.99, 1000, 1106.9689943522174],
  ];
  for (const [p, k, v] of chi2Ref) {
    it(`χ²(${p}, ${k}) = ${v} to 1e-11 relative, and inverts the CDF`, () => {
      const x = chi2Quantile(p, k);
      expect(Math.abs(x - v) / v).to.be.below(1e-11);
      expect(chi2Cdf(x, k)).to.be.closeTo(p, 1e-13);
    });
  }

  it('χ² at k = 1 is exact where Wilson–Hilferty was 7 % off', () => {
    // Wilson–Hilferty gives 3.58 at (0.95, 1); the exact value is z² = 1.959963984540054².
    expect(chi2Quantile(0.95, 1)).to.be.closeTo(1.959963984540054 ** 2, 1e-12);
  });

  it('χ² survival and the incomplete gamma identities', () => {
    expect(chi2Survival(2, 2)).to.be.closeTo(Math.exp(-1), 1e-15);
    expect(chi2Survival(0, 3)).to.equal(1);
    expect(gammaP(1, 2)).to.be.closeTo(1 - Math.exp(-2), 1e-15);
    expect(gammaP(3.5, 7) + gammaQ(3.5, 7)).to.be.closeTo(1, 1e-15);
  });

  const normRef: [number, number][] = [
    [0.975, 1.959963984540054],
    [1e-10, -6.361340902404056],
    [0.001, -3.090232306167813],
    [0.3, -0.5244005127080409],
    [0.999999, 4.753424308817087],
    [0.5, 0],
  ];
  for (const [p, v] of normRef) {
    it(`Φ⁻¹(${p}) = ${v} to 1e-9`, () => expect(normalQuantile(p)).to.be.closeTo(v, 1e-9));
  }

  it('Φ⁻¹ is antisymmetric and inverts Φ', () => {
    for (const p of [1e-6, 0.01, 0.2, 0.49]) {
      expect(normalQuantile(p)).to.be.closeTo(-normalQuantile(1 - p), 1e-9); // 1 − p rounds
      expect(normalCdf(normalQuantile(p))).to.be.closeTo(p, 1e-14 + 1e-12 * p);
    }
  });

  const fRef: [number, number, number, number][] = [
    [0.95, 3, 10, 3.7082648190468435],
    [0.99, 2, 50, 5.056610865435323],
    [0.95, 1, 5, 6.607890973703364],
    [0.999, 5, 120, 4.415675807297817],
  ];
  for (const [p, d1, d2, v] of fRef) {
    it(`F(${p}; ${d1}, ${d2}) = ${v}`, () => {
      expect(Math.abs(fQuantile(p, d1, d2) - v) / v).to.be.below(1e-10);
      expect(fCdf(v, d1, d2)).to.be.closeTo(p, 1e-12);
    });
  }

  it('t quantiles', () => {
    expect(tQuantile(0.95, 10)).to.be.closeTo(1.8124611228116756, 1e-10);
    expect(tQuantile(0.975, 1)).to.be.closeTo(12.706204736174694, 1e-8);
  });

  it('lnGamma and the incomplete beta', () => {
    expect(lnGamma(5)).to.be.closeTo(Math.log(24), 1e-13);
    expect(lnGamma(0.5)).to.be.closeTo(0.5 * Math.log(Math.PI), 1e-13);
    expect(lnGamma(-0.5)).to.be.closeTo(Math.log(2 * Math.sqrt(Math.PI)), 1e-13); // |Γ(−½)| = 2√π
    expect(regularizedBeta(0.3, 1, 4)).to.be.closeTo(1 - 0.7 ** 4, 1e-13);
  });

  it('one failure mode: a RangeError naming the function', () => {
    expect(() => normalQuantile(0)).to.throw(RangeError, /normalQuantile.*\(0, 1\)/);
    expect(() => normalQuantile(1)).to.throw(RangeError);
    expect(() => normalQuantile(NaN)).to.throw(RangeError);
    expect(() => chi2Quantile(0.5, 0)).to.throw(RangeError, /chi2Quantile.*degrees of freedom/);
    expect(() => fQuantile(1, 2, 3)).to.throw(RangeError, /fQuantile/);
    expect(() => fQuantile(0.5, 0, 3)).to.throw(RangeError, /fQuantile/);
    expect(() => tQuantile(0.4, 3)).to.throw(RangeError, /tQuantile/);
    expect(() => quantileSorted([1], 2)).to.throw(RangeError, /quantileSorted/);
  });
});

describe('stats: order statistics', () => {
  it('quantileSorted interpolates between order statistics (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).to.equal(1.75);
    expect(quantileSorted([], 0.5)).to.satisfy(Number.isNaN);
  });
  it('median sorts a copy; madSigma is normal-consistent', () => {
    const xs = [5, 1, 4, 2];
    expect(median(xs)).to.equal(3);
    expect(xs).to.deep.equal([5, 1, 4, 2]);
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([])).to.satisfy(Number.isNaN);
    // a typed array's view (screen-flags' recent readings) leaves the buffer as it was
    const ring = Float64Array.from([9, 7, 8, 0]);
    expect(median(ring.subarray(0, 3))).to.equal(8);
    expect(Array.from(ring)).to.deep.equal([9, 7, 8, 0]);
    expect(madSigma([1, 2, 3, 4, 100])).to.be.closeTo(1.4826, 1e-12);
  });
  it('median by selection equals the sorted middle exactly: sizes either side of 64, odd and even, repeats, runs, NaN', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bySort = (xs: number[]) => quantileSorted(Float64Array.from(xs).sort(), 0.5);
    const samples: number[][] = [];
    for (const n of [63, 64, 65, 100, 101, 1000, 1799, 1800]) {
      samples.push(Array.from({ length: n }, () => rand() * 10 - 5)); // distinct
      samples.push(Array.from({ length: n }, () => Math.round(rand() * 4))); // few values, many repeats
      samples.push(Array.from({ length: n }, (_, i) => i)); // sorted
      samples.push(Array.from({ length: n }, (_, i) => n - i)); // reversed
      samples.push(Array.from({ length: n }, () => 7)); // constant
      samples.push(Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : 2))); // a step
    }
    samples.push([...Array.from({ length: 80 }, () => rand()), NaN, 0.5]); // NaN sorts last
    for (const xs of samples) {
      const copy = [...xs];
      expect(median(xs), `n=${xs.length}`).to.deep.equal(bySort(xs));
      expect(xs, 'the input is left as it was').to.deep.equal(copy);
    }
  });
});
