import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { fitPca, project, standardise } from '../../runtime/drift/pca.js';
import { modelSpeLimit, spe, speLimit } from '../../runtime/drift/spe.js';
import { correlatedRows, MV_TAGS } from '../support/drift-mv-data.js';

describe('drift: Q statistic (SPE)', () => {
  describe('Jackson–Mudholkar limit', () => {
    // With m equal residual eigenvalues λ, Q = λ χ²_m exactly; the JM approximation must come close.
    it('one residual eigenvalue: ≈ λ χ²₁(0.99) = 6.635 λ', () => {
      expect(speLimit([1], 0.01)).to.be.closeTo(6.6349, 6.6349 * 0.02);
    });
    it('four equal residual eigenvalues λ = 2: ≈ 2 χ²₄(0.99) = 26.55', () => {
      expect(speLimit([2, 2, 2, 2], 0.01)).to.be.closeTo(2 * 13.2767, 2 * 13.2767 * 0.01);
    });
    it('four equal residual eigenvalues λ = 1 at α = 0.05: ≈ χ²₄(0.95) = 9.488', () => {
      expect(speLimit([1, 1, 1, 1], 0.05)).to.be.closeTo(9.4877, 9.4877 * 0.01);
    });
    it('refuses an empty or zero residual space', () => {
      expect(() => speLimit([], 0.01)).to.throw(TwinError);
      expect(() => speLimit([0, 0], 0.01)).to.throw(TwinError);
    });
  });

  const ref = correlatedRows(400, 5);
  const m = fitPca(ref, MV_TAGS);
  const qOf = (row: number[]) => {
    const z = standardise(m, row);
    const t = project(m, z);
    const c = new Float64Array(m.tags.length);
    return { q: spe(m, z, t, c), c, z };
  };

  it('Q is the squared norm of the residual z − P Pᵀ z; contributions sum to it', () => {
    const { q, c, z } = qOf(ref[9]);
    const zz = Array.from(z).reduce((s, v) => s + v * v, 0);
    const t = project(m, z);
    const tt = Array.from(t).reduce((s, v) => s + v * v, 0);
    expect(q).to.be.closeTo(zz - tt, 1e-9); // Pythagoras: ‖z‖² = ‖t‖² + ‖r‖²
    expect(Array.from(c).reduce((s, v) => s + v, 0)).to.be.closeTo(q, 1e-12);
  });

  it('false-alarm rate on new in-control data is close to α', () => {
    const limit = modelSpeLimit(m, 0.01);
    const fresh = correlatedRows(20_000, 6);
    const rate = fresh.filter((r) => qOf(r).q > limit).length / fresh.length;
    expect(rate).to.be.within(0.004, 0.025);
  });

  it('isolates a sensor that breaks the correlation (inside its normal range) by its contribution', () => {
    const limit = modelSpeLimit(m, 0.01);
    let flagged = 0;
    const rows = correlatedRows(100, 7).map((r) => [r[0], r[1] + 0.4, r[2], r[3]]); // pressure offset 0.4 (< its ±1.5 range)
    for (const r of rows) {
      const { q, c } = qOf(r);
      if (q > limit) {
        flagged++;
        expect(Array.from(c).indexOf(Math.max(...c))).to.equal(1);
      }
    }
    expect(flagged).to.be.greaterThan(90);
  });

  it('a process shift along the model leaves Q in control (it is T²’s business)', () => {
    const limit = modelSpeLimit(m, 0.01);
    const rows = correlatedRows(500, 8, 3);
    const rate = rows.filter((r) => qOf(r).q > limit).length / rows.length;
    expect(rate).to.be.lessThan(0.03);
  });
});
