import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { fitPca, project, standardise } from '../../runtime/drift/pca.js';
import { t2Contributions, t2FromScores, t2Limit } from '../../runtime/drift/hotelling.js';
import { fCdf, fQuantile, lnGamma, regularizedBeta } from '../../runtime/stats/index.js';
import { correlatedRows, MV_TAGS } from '../support/drift-mv-data.js';

describe('drift: Hotelling T²', () => {
  describe('F distribution (runtime/stats)', () => {
    it('ln Γ and the incomplete beta match closed forms', () => {
      expect(lnGamma(5)).to.be.closeTo(Math.log(24), 1e-12);
      expect(lnGamma(0.5)).to.be.closeTo(0.5 * Math.log(Math.PI), 1e-12);
      expect(regularizedBeta(0.5, 2, 2)).to.be.closeTo(0.5, 1e-12);
      // I_x(1, b) = 1 − (1 − x)^b
      expect(regularizedBeta(0.3, 1, 4)).to.be.closeTo(1 - 0.7 ** 4, 1e-12);
      // I_x(a, 1) = x^a
      expect(regularizedBeta(0.3, 3, 1)).to.be.closeTo(0.3 ** 3, 1e-12);
    });

    // Upper-tail critical values from published F tables (4 decimals).
    const table: [number, number, number, number][] = [
      [0.95, 1, 10, 4.9646],
      [0.95, 5, 20, 2.7109],
      [0.99, 5, 20, 4.1027],
      [0.99, 10, 10, 4.8491],
      [0.975, 4, 30, 3.2499],
      [0.95, 10, 120, 1.9105],
      [0.99, 2, 60, 4.9774],
      [0.95, 2, 2, 19.0],
      [0.95, 1, 1, 161.45],
    ];
    for (const [p, d1, d2, v] of table) {
      it(`F quantile ${p} (${d1}, ${d2}) = ${v}`, () => {
        const x = fQuantile(p, d1, d2);
        expect(x).to.be.closeTo(v, v * 1e-4);
        expect(fCdf(x, d1, d2)).to.be.closeTo(p, 1e-10);
      });
    }

    it('refuses probabilities outside (0, 1) and non-positive degrees of freedom', () => {
      expect(() => fQuantile(1, 2, 3)).to.throw(RangeError);
      expect(() => fQuantile(0.5, 0, 3)).to.throw(RangeError);
    });
  });

  it('phase-II control limit: k (n−1)(n+1) / (n (n−k)) · F_{1−α}(k, n−k)', () => {
    expect(t2Limit(1, 11, 0.05)).to.be.closeTo(((1 * 10 * 12) / (11 * 10)) * 4.9646, 1e-3);
    expect(t2Limit(5, 25, 0.01)).to.be.closeTo(((5 * 24 * 26) / (25 * 20)) * 4.1027, 1e-3);
    expect(t2Limit(2, 400, 0.01)).to.be.greaterThan(t2Limit(2, 400, 0.05));
    expect(() => t2Limit(3, 3, 0.01)).to.throw(TwinError);
    expect(() => t2Limit(2, 30, 0)).to.throw(TwinError);
  });

  const ref = correlatedRows(400, 2);
  const m = fitPca(ref, MV_TAGS);
  const t2Of = (row: number[]) => {
    const z = standardise(m, row);
    const t = project(m, z);
    return { z, t, t2: t2FromScores(m, t) };
  };

  it('T² over the reference rows sums to k (n − 1) (scores have variance λ)', () => {
    const sum = ref.reduce((s, r) => s + t2Of(r).t2, 0);
    expect(sum).to.be.closeTo(m.k * (ref.length - 1), 1e-6);
  });

  it('per-tag contributions sum to T² and point at the tag that moved', () => {
    const row = [...ref[0]];
    row[3] += 1.0; // vibration (own component) up by 10 σ
    const { z, t, t2 } = t2Of(row);
    const c = t2Contributions(m, z, t);
    expect(c.reduce((s, v) => s + v, 0)).to.be.closeTo(t2, 1e-9);
    expect(Array.from(c).indexOf(Math.max(...c))).to.equal(3);
  });

  it('false-alarm rate on new in-control data is close to α', () => {
    const alpha = 0.01;
    const limit = t2Limit(m.k, ref.length, alpha);
    const fresh = correlatedRows(20_000, 3);
    const rate = fresh.filter((r) => t2Of(r).t2 > limit).length / fresh.length;
    expect(rate).to.be.within(0.005, 0.02);
  });

  it('a process shift along the modelled direction drives T² over the limit', () => {
    const limit = t2Limit(m.k, ref.length, 0.01);
    const shifted = correlatedRows(200, 4, 4); // latent s moved 4 σ: all coupled tags follow
    const rate = shifted.filter((r) => t2Of(r).t2 > limit).length / shifted.length;
    expect(rate).to.be.greaterThan(0.8);
  });
});
