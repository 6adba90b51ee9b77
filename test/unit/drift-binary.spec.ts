import { expect } from 'chai';
import { DDM_DEFAULTS, ddmDetector } from '../../runtime/drift/binary/ddm.js';
import { EDDM_DEFAULTS, eddmDetector } from '../../runtime/drift/binary/eddm.js';
import { HDDM_A_DEFAULTS, hddmADetector } from '../../runtime/drift/binary/hddm-a.js';
import { HDDM_W_DEFAULTS, hddmWDetector } from '../../runtime/drift/binary/hddm-w.js';
import type { AnyDetector } from '../../runtime/drift/detector.js';
import { getDetector } from '../../runtime/drift/registry.js';
import { TwinError } from '../../runtime/model/errors.js';
import { isVerified, riverExpected, riverStream, rng } from '../support/drift-data.js';

/** River's docstring loop: first warning after start / after each drift, and every drift. */
function docRun(d: AnyDetector, params: Record<string, unknown>, xs: number[]): { warning_first: number[]; drift: number[] } {
  const s = d.init(d.params(params));
  const warning_first: number[] = [];
  const drift: number[] = [];
  let printWarning = true;
  xs.forEach((x, i) => {
    const dr = d.step(s, x, i);
    if (d.warning!(s) && printWarning) {
      warning_first.push(i);
      printWarning = false;
    }
    if (dr) {
      drift.push(i);
      printWarning = true;
    }
  });
  return { warning_first, drift };
}

function bits(seed: number, n: number, p: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => (u() < p ? 1 : 0));
}

describe('drift: binary detectors (DDM, EDDM, HDDM_A, HDDM_W)', () => {
  const ex = riverExpected();
  const B = riverStream('B_rng42_binary_p05_then_p07');
  const np2 = riverStream('np2_seed12345_binom02_then_binom08');
  const np3 = riverStream('np3_seed12345_thresholded_normals_4x500');

  it('have River defaults', () => {
    expect(DDM_DEFAULTS).to.deep.equal({ warmStart: 30, warningThreshold: 2, driftThreshold: 3 });
    expect(EDDM_DEFAULTS).to.deep.equal({ warmStart: 30, alpha: 0.95, beta: 0.9 });
    expect(HDDM_A_DEFAULTS).to.deep.equal({ driftConfidence: 0.001, warningConfidence: 0.005, twoSidedTest: false });
    expect(HDDM_W_DEFAULTS).to.deep.equal({ driftConfidence: 0.001, warningConfidence: 0.005, lambda: 0.05, twoSidedTest: false });
  });

  describe('River docstring cross-checks on B (random.Random(42): p = 0.5 then 0.7): warnings and drifts', () => {
    const cases: Array<[string, AnyDetector, Record<string, unknown>]> = [
      ['binary.DDM()', ddmDetector, {}],
      ['binary.EDDM(alpha=0.8,beta=0.75)', eddmDetector, { alpha: 0.8, beta: 0.75 }],
      ['binary.HDDM_A()', hddmADetector, {}],
      ['binary.HDDM_W()', hddmWDetector, {}],
    ];
    for (const [key, d, params] of cases) {
      it(`${key} → warnings ${JSON.stringify(ex.B_rng42_binary_p05_then_p07[key].warning_first)}, drifts ${JSON.stringify(ex.B_rng42_binary_p05_then_p07[key].drift)}`, () => {
        const c = ex.B_rng42_binary_p05_then_p07[key];
        expect(isVerified(c)).to.equal(true);
        expect(docRun(d, params, B)).to.deep.equal({ warning_first: c.warning_first, drift: c.drift });
      });
    }
  });

  describe("River's old test cross-checks on np2 (numpy binomial 0.2 then 0.8) and np3", () => {
    const cases: Array<[string, string, AnyDetector, Record<string, unknown>, number[]]> = [
      ['np2_seed12345_binom02_then_binom08', 'DDM()', ddmDetector, {}, np2],
      ['np2_seed12345_binom02_then_binom08', 'HDDM_A()', hddmADetector, {}, np2],
      ['np2_seed12345_binom02_then_binom08', 'HDDM_W()', hddmWDetector, {}, np2],
      ['np3_seed12345_thresholded_normals_4x500', 'HDDM_A(two_sided_test=True)', hddmADetector, { twoSidedTest: true }, np3],
    ];
    for (const [stream, key, d, params, xs] of cases) {
      it(`${key} on ${stream.slice(0, 3)} → ${JSON.stringify(ex[stream][key].drift)}`, () => {
        const c = ex[stream][key];
        expect(isVerified(c)).to.equal(true);
        expect(docRun(d, params, xs).drift).to.deep.equal(c.drift);
      });
    }

    it('EDDM() and two-sided HDDM_W agree with the (unverified) latest-algorithm prototypes', () => {
      const e = ex.np2_seed12345_binom02_then_binom08['EDDM()'];
      expect(docRun(eddmDetector, {}, np2).drift).to.deep.equal(e.drift_latest_algorithm_prototype);
      const w = ex.np3_seed12345_thresholded_normals_4x500['HDDM_W(two_sided_test=True)'];
      expect(docRun(hddmWDetector, { twoSidedTest: true }, np3).drift).to.deep.equal(w.drift_latest_algorithm_prototype);
    });
  });

  // DDM and EDDM are known to fire early in a run, while their reference (s_min, or the maximum
  // error distance) rests on few samples; after that they settle — and, since that reference is
  // frozen at its best early point, they grow deaf on long runs (River's too): the rise is tested
  // after 1 000 samples for them, after 20 000 for HDDM, whose bounds hold from the start.
  const behaviour: Array<[AnyDetector, Record<string, unknown>, number, number]> = [
    [ddmDetector, {}, 2000, 1000],
    [eddmDetector, { alpha: 0.8, beta: 0.75 }, 2000, 1000],
    [hddmADetector, {}, 0, 20_000],
    [hddmWDetector, {}, 0, 20_000],
  ];
  for (const [d, params, settle, riseAfter] of behaviour) {
    describe(`${d.name}: behaviour`, () => {
      it(`no alarm on a stationary failure rate (20 000 bits at p = 0.1${settle ? `, after the first ${settle}` : ''})`, () => {
        for (const seed of [1, 2, 3]) {
          const s = d.init(d.params(params));
          const xs = bits(seed, 20_000, 0.1);
          for (let i = 0; i < xs.length; i++) {
            const dr = d.step(s, xs[i], i);
            if (i >= settle) expect(dr, `seed ${seed}, bit ${i}`).to.equal(false);
          }
        }
      });

      it(`flags a rise from p = 0.1 to 0.4 after ${riseAfter} bits soon, and dates it`, () => {
        for (const seed of [1, 2, 3]) {
          const s = d.init(d.params(params));
          const before = bits(seed, riseAfter, 0.1);
          for (let i = 0; i < before.length; i++) d.step(s, before[i], i);
          const after = bits(seed + 10, 2000, 0.4);
          let at = -1;
          for (let i = 0; i < after.length && at < 0; i++) if (d.step(s, after[i], riseAfter + i)) at = i;
          expect(at, `seed ${seed}`).to.be.within(0, 600);
          const c = d.change(s);
          expect(c.direction).to.equal('up');
          expect(c.meanAfter).to.be.greaterThan(c.meanBefore);
          expect(d.score(s)).to.be.at.least(1);
        }
      });

      it(
        'treats any non-zero value as an error (a 0/1 plant tag or a boolean)' +
          (d === eddmDetector ? ' — EDDM: only exactly 1, as in River' : ''),
        () => {
          const a = d.init(d.params(params));
          const b = d.init(d.params(params));
          const xs = [...bits(3, 3000, 0.05), ...bits(4, 1000, 0.6)];
          const ra = xs.map((x, i) => d.step(a, x, i));
          const rb = xs.map((x, i) => d.step(b, x * 7, i));
          expect(ra.includes(true)).to.equal(true);
          if (d === eddmDetector) expect(rb.includes(true)).to.equal(false);
          else expect(rb).to.deep.equal(ra);
        },
      );
    });
  }

  it('are in the registry and refuse bad parameters', () => {
    for (const name of ['ddm', 'eddm', 'hddm-a', 'hddm-w']) expect(getDetector(name).name).to.equal(name);
    expect(() => eddmDetector.params({ alpha: 0.5, beta: 0.9 })).to.throw(TwinError, /alpha must be ≥ beta/);
    expect(() => hddmADetector.params({ driftConfidence: 0 })).to.throw(TwinError, /driftConfidence/);
    expect(() => hddmWDetector.params({ lambda: 2 })).to.throw(TwinError, /lambda/);
    expect(() => ddmDetector.params({ warmStart: -1 })).to.throw(TwinError, /warmStart/);
  });
});
