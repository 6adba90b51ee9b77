/**
 * Behaviour every univariate drift detector must show, as a mocha suite the per-detector specs
 * call with parameters that suit the method (its thresholds are in different units).
 */
import { expect } from 'chai';
import type { AnyDetector } from '../../runtime/drift/detector.js';
import { TwinError } from '../../runtime/model/errors.js';
import { driftIndices, normals } from './drift-data.js';

export interface CommonCase {
  /** Parameters for the stationary and step cases. */
  params: Record<string, unknown>;
  /** Noise standard deviation of the synthetic streams (level 10). */
  sd: number;
  /** Size of the level shift, in sd (applied up and down). */
  shiftSd: number;
  /** Largest acceptable detection delay after the shift, in samples. */
  maxDelay: number;
  /** Lowest / highest acceptable estimated start index (the shift is at 1000). */
  startWithin: [number, number];
  /** Relative tolerance of the magnitude estimate. */
  magnitudeTol: number;
  /** Parameters that are invalid, with the key the error must name. */
  badParams: Array<[Record<string, unknown>, string]>;
}

export function commonDetectorSuite(d: AnyDetector, c: CommonCase): void {
  describe(`${d.name}: common behaviour`, () => {
    it('never flags a constant stream (several levels, 20 000 samples each)', () => {
      for (const level of [0, 3.7, -0.3, 1234.567, 1e-9]) {
        const xs = new Array<number>(20_000).fill(level);
        expect(driftIndices(d.init(d.params(c.params)), d.step.bind(d), xs), `level ${level}`).to.deep.equal([]);
      }
    });

    it('never flags a noisy stationary stream (50 000 samples, three seeds)', () => {
      for (const seed of [1, 2, 3]) {
        const xs = normals(seed, 50_000, 10, c.sd);
        expect(driftIndices(d.init(d.params(c.params)), d.step.bind(d), xs), `seed ${seed}`).to.deep.equal([]);
      }
    });

    for (const dir of ['up', 'down'] as const) {
      it(`detects a step ${dir} of ${c.shiftSd} sd soon after it happens, with the right direction, start and size`, () => {
        const shift = (dir === 'up' ? 1 : -1) * c.shiftSd * c.sd;
        const xs = [...normals(11, 1000, 10, c.sd), ...normals(12, 1000, 10 + shift, c.sd)];
        const s = d.init(d.params(c.params));
        let first = -1;
        for (let i = 0; i < xs.length && first < 0; i++) if (d.step(s, xs[i], 1_000_000 + i * 1000)) first = i;
        expect(first, 'detection index').to.be.within(1000, 1000 + c.maxDelay);
        const ch = d.change(s);
        expect(ch.direction).to.equal(dir);
        expect(ch.startIndex, 'start index').to.be.within(c.startWithin[0], c.startWithin[1]);
        expect(ch.startT, 'start label = that sample').to.equal(1_000_000 + ch.startIndex * 1000);
        const mag = ch.meanAfter - ch.meanBefore;
        expect(Math.abs(mag - shift), `magnitude ${mag} vs ${shift}`).to.be.at.most(c.magnitudeTol * Math.abs(shift));
        expect(d.score(s), 'score at the drift').to.be.at.least(1);
      });
    }

    it('starts afresh on the sample after a drift (River resets the detector then)', () => {
      const shift = c.shiftSd * c.sd;
      const xs = [...normals(21, 1000, 10, c.sd), ...normals(22, 400, 10 + shift, c.sd)];
      const s = d.init(d.params(c.params));
      let first = -1;
      for (let i = 0; i < xs.length && first < 0; i++) if (d.step(s, xs[i])) first = i;
      expect(first).to.be.greaterThan(999);
      expect(d.count(s)).to.equal(first + 1);
      d.step(s, xs[first + 1]);
      expect(d.count(s), 'one sample into the new run').to.equal(1);
    });

    it('keeps a state of fixed shape: the same fields after 100 000 samples', () => {
      const s = d.init(d.params(c.params));
      const keys = Object.keys(s).sort();
      const xs = normals(5, 100_000, 10, c.sd);
      for (let i = 0; i < xs.length; i++) d.step(s, xs[i] + (i > 50_000 ? 3 * c.sd : 0));
      expect(Object.keys(s).sort()).to.deep.equal(keys);
      for (const k of keys) {
        const v = (s as Record<string, unknown>)[k];
        expect(Array.isArray(v), `${k} is not a growing array`).to.equal(false);
      }
    });

    it('defaults are complete and valid; bad parameters are refused with BAD_CONFIG naming the key', () => {
      expect(d.params({})).to.deep.equal({ ...d.defaults });
      expect(() => d.params({ bogus: 1 })).to.throw(TwinError, /bogus/);
      for (const [bad, key] of c.badParams) {
        let err: unknown;
        try {
          d.params(bad);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(bad)).to.be.instanceOf(TwinError);
        expect((err as TwinError).code).to.equal('BAD_CONFIG');
        expect((err as TwinError).message).to.contain(key);
      }
    });
  });
}
