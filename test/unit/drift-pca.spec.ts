import { expect } from 'chai';
import { TwinError } from '../../runtime/model/errors.js';
import { fitPca, project, standardise } from '../../runtime/drift/pca.js';
import { correlatedRows, MV_TAGS } from '../support/drift-mv-data.js';

/** Correlation matrix computed independently of the implementation (plain loops, Pearson). */
function correlation(rows: number[][]): number[][] {
  const p = rows[0].length;
  const n = rows.length;
  const mean = Array.from({ length: p }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const c = Array.from({ length: p }, () => new Array(p).fill(0));
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (const r of rows) {
        sab += (r[a] - mean[a]) * (r[b] - mean[b]);
        saa += (r[a] - mean[a]) ** 2;
        sbb += (r[b] - mean[b]) ** 2;
      }
      c[a][b] = sab / Math.sqrt(saa * sbb);
    }
  }
  return c;
}

describe('drift: PCA fit', () => {
  const rows = correlatedRows(500, 1);
  const m = fitPca(rows, MV_TAGS);

  it('standardises each tag with its reference mean and sample std', () => {
    const mean0 = rows.reduce((s, r) => s + r[0], 0) / rows.length;
    const sd0 = Math.sqrt(rows.reduce((s, r) => s + (r[0] - mean0) ** 2, 0) / (rows.length - 1));
    expect(m.mean[0]).to.be.closeTo(mean0, 1e-9);
    expect(m.std[0]).to.be.closeTo(sd0, 1e-9);
    const z = standardise(m, rows[7]);
    expect(z[0]).to.be.closeTo((rows[7][0] - mean0) / sd0, 1e-9);
  });

  it('gives the eigenpairs of the correlation matrix, in descending order, orthonormal', () => {
    const c = correlation(rows);
    const p = MV_TAGS.length;
    expect(m.eigenvalues.reduce((s, v) => s + v, 0)).to.be.closeTo(p, 1e-9); // trace of a correlation matrix
    for (let i = 1; i < p; i++) expect(m.eigenvalues[i]).to.be.at.most(m.eigenvalues[i - 1]);
    for (let i = 0; i < p; i++) {
      // C v = λ v
      for (let a = 0; a < p; a++) {
        let cv = 0;
        for (let b = 0; b < p; b++) cv += c[a][b] * m.loadings[b * p + i];
        expect(cv).to.be.closeTo(m.eigenvalues[i] * m.loadings[a * p + i], 1e-8);
      }
      for (let j = 0; j < p; j++) {
        let dot = 0;
        for (let a = 0; a < p; a++) dot += m.loadings[a * p + i] * m.loadings[a * p + j];
        expect(dot).to.be.closeTo(i === j ? 1 : 0, 1e-9);
      }
    }
  });

  it('finds the structure: one process direction over the three coupled tags, one for the independent tag', () => {
    const p = MV_TAGS.length;
    expect(m.eigenvalues[0]).to.be.greaterThan(2.8);
    expect(m.eigenvalues[1]).to.be.closeTo(1, 0.2);
    // PC1 loads the coupled tags about equally and barely the vibration tag.
    for (const j of [0, 1, 2]) expect(Math.abs(m.loadings[j * p + 0])).to.be.closeTo(1 / Math.sqrt(3), 0.03);
    expect(Math.abs(m.loadings[3 * p + 0])).to.be.lessThan(0.1);
  });

  it('chooses k by cumulative explained variance (default 0.9) and keeps a residual space', () => {
    expect(m.k).to.equal(2);
    expect(m.explained).to.be.at.least(0.9);
    expect(fitPca(rows, MV_TAGS, { varianceFraction: 0.5 }).k).to.equal(1);
    expect(fitPca(rows, MV_TAGS, { varianceFraction: 1 }).k).to.equal(3); // capped at p − 1
    expect(fitPca(rows, MV_TAGS, { components: 3 }).k).to.equal(3);
  });

  it('projects a standardised row on the retained components', () => {
    const z = standardise(m, rows[3]);
    const t = project(m, z);
    expect(t.length).to.equal(m.k);
    const p = MV_TAGS.length;
    let t0 = 0;
    for (let j = 0; j < p; j++) t0 += m.loadings[j * p] * z[j];
    expect(t[0]).to.be.closeTo(t0, 1e-12);
  });

  it('drops a tag that is flat in the reference and says so', () => {
    const withFlat = rows.map((r) => [...r, 42]);
    const mf = fitPca(withFlat, [...MV_TAGS, 'setpoint']);
    expect(mf.droppedTags).to.deep.equal(['setpoint']);
    expect(mf.tags).to.deep.equal(MV_TAGS);
    expect(mf.columns).to.deep.equal([0, 1, 2, 3]);
    expect(Array.from(standardise(mf, withFlat[0]))).to.deep.equal(Array.from(standardise(m, rows[0])));
  });

  it('refuses too few rows, too few varying tags and bad options', () => {
    const err = (f: () => unknown, code: string) => {
      try {
        f();
      } catch (e) {
        expect(e).to.be.instanceOf(TwinError);
        expect((e as TwinError).code).to.equal(code);
        return;
      }
      expect.fail('no error');
    };
    err(() => fitPca(rows.slice(0, 5), MV_TAGS), 'MODEL');
    err(
      () =>
        fitPca(
          rows.map((r) => [r[0], 1]),
          ['a', 'b'],
        ),
      'MODEL',
    );
    err(() => fitPca([[1, 2, 3]], ['a', 'b']), 'MODEL');
    err(() => fitPca(rows, MV_TAGS, { varianceFraction: 0 }), 'BAD_CONFIG');
    err(() => fitPca(rows, MV_TAGS, { components: 4 }), 'BAD_CONFIG');
  });
});
