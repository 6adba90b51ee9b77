/**
 * RUL on NASA C-MAPSS FD001 (training set only, test/fixtures/cmapss): 5-fold
 * cross-validation by engine. Each held-out engine is truncated at a seeded random cycle, as in
 * NASA's test set (at least 31 cycles observed, failure not yet reached), and its RUL is
 * forecast at the cut. Published FD001 figures (test set): OLS, RUL capped at 125: RMSE 21.9;
 * CNN 18.45; deep LSTM 16.14.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readCmapss, parseCmapss, cmapssUnits } from '../../runtime/maintenance/cmapss.js';
import type { UnitHistory } from '../../runtime/maintenance/health-index.js';
import { estimateRul, fitRulModel, rulModelFromJson, seededShuffle, type RulModel } from '../../runtime/maintenance/rul-model.js';
import { fitSimilarityModel, estimateRulSimilarity } from '../../runtime/maintenance/rul-similarity.js';
import { prng } from '../../bench/prng.js';
import { TwinError } from '../../runtime/model/errors.js';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const CMAPSS_FILE = CMAPSS_FD001;
/** nominal cycle length: event time is cycle × CYCLE_MS, RUL in cycles = rulMs / CYCLE_MS */
const CYCLE_MS = 60_000;
const CAP_CYCLES = 125;
const FOLDS = 5;
const MIN_OBSERVED = 31;

interface CvCase {
  asset: string;
  trueRul: number;
  pred: number;
  p10: number;
  p90: number;
  quality: string;
}

function truncate(u: UnitHistory, rows: number): UnitHistory {
  return { ...u, tsMs: u.tsMs.slice(0, rows), values: u.values.slice(0, rows) };
}

/** PHM08: d = predicted - true; late (d > 0) costs exp(d/10) - 1, early exp(-d/13) - 1. */
function phm08(cases: CvCase[]): number {
  return cases.reduce((s, c) => {
    const d = c.pred - c.trueRul;
    return s + (d < 0 ? Math.exp(-d / 13) - 1 : Math.exp(d / 10) - 1);
  }, 0);
}

function rmse(cases: CvCase[]): number {
  return Math.sqrt(cases.reduce((s, c) => s + (c.pred - c.trueRul) ** 2, 0) / cases.length);
}

/**
 * Rows observed at the cut. NASA's FD001 test engines have true RULs of 7..145 cycles and at
 * least 31 observed cycles: the cut draws a true RUL uniformly in that range (as far as the
 * engine's life allows). CUT=uniform draws the cut uniformly over the whole life instead.
 */
function cutRows(len: number, u: number): number {
  if (process.env.CUT === 'uniform') return MIN_OBSERVED + Math.floor(u * (len - MIN_OBSERVED));
  const maxRul = Math.min(145, len - MIN_OBSERVED);
  const rul = 7 + Math.floor(u * (maxRul - 7 + 1));
  return len - rul;
}

function crossValidate(units: UnitHistory[], seed: number): CvCase[] {
  const order = seededShuffle(units, seed);
  const cut = prng(seed + 1000);
  const cases: CvCase[] = [];
  for (let k = 0; k < FOLDS; k++) {
    const train = order.filter((_, i) => i % FOLDS !== k);
    const held = order.filter((_, i) => i % FOLDS === k);
    const model = fitRulModel(train, { rulCapMs: CAP_CYCLES * CYCLE_MS, seed });
    for (const u of held) {
      const len = u.values.length;
      const rows = cutRows(len, cut());
      const est = estimateRul(model, truncate(u, rows));
      cases.push({
        asset: u.asset,
        trueRul: (u.tsMs[len - 1] - u.tsMs[rows - 1]) / CYCLE_MS,
        pred: est.rulMs / CYCLE_MS,
        p10: est.rulP10Ms / CYCLE_MS,
        p90: est.rulP90Ms / CYCLE_MS,
        quality: est.quality,
      });
    }
  }
  return cases;
}

describe('maintenance: RUL model on C-MAPSS FD001', function () {
  this.timeout(60_000);
  let units: UnitHistory[];

  before(function () {
    expect(existsSync(CMAPSS_FILE), `${CMAPSS_FILE} (test/fixtures/cmapss)`).to.equal(true);
    units = readCmapss(CMAPSS_FILE, CYCLE_MS);
  });

  it('reads 100 engines, the last row of each being its failure', function () {
    expect(units).to.have.length(100);
    expect(units.reduce((s, u) => s + u.values.length, 0)).to.equal(20631);
    expect(units[0].channels).to.have.length(24);
    for (const u of units) expect(u.values.length).to.be.greaterThan(MIN_OBSERVED);
  });

  it('5-fold by engine, cut like the NASA test set: RMSE, PHM08, P10-P90 coverage beside a naive baseline', function () {
    const cases = crossValidate(units, 7);
    const r = rmse(cases),
      score = phm08(cases);
    const covered = cases.filter((c) => c.trueRul >= c.p10 && c.trueRul <= c.p90).length / cases.length;
    const capped = Math.sqrt(cases.reduce((s, c) => s + (c.pred - Math.min(c.trueRul, CAP_CYCLES)) ** 2, 0) / cases.length);
    // naive baseline: the mean true RUL of the cuts, whatever the sensors say
    const meanRul = cases.reduce((s, c) => s + c.trueRul, 0) / cases.length;
    const naive = Math.sqrt(cases.reduce((s, c) => s + (meanRul - c.trueRul) ** 2, 0) / cases.length);
    console.log(
      `      FD001 5-fold CV by engine (${cases.length} engines, seed 7, cut ${process.env.CUT ?? 'nasa'}): RMSE ${r.toFixed(2)} cycles (vs truth capped at 125: ${capped.toFixed(2)}; naive mean ${naive.toFixed(2)}), PHM08 ${score.toFixed(0)}, P10-P90 coverage ${(100 * covered).toFixed(0)} %`,
    );
    console.log('      published FD001 test RMSE: OLS-125 21.9, CNN 18.45, deep LSTM 16.14 (this model does not beat OLS-125 yet)');
    expect(cases).to.have.length(100);
    expect(r, 'RMSE well below the naive baseline').to.be.lessThan(0.75 * naive);
    if (process.env.CUT !== 'uniform') {
      // measured 20.9-23.7 over seeds 1-6 (mean 22.8), 22.3 at seed 7: a margin, not the published 21.9
      expect(r, 'RMSE (cycles)').to.be.lessThan(25);
      expect(score, 'PHM08').to.be.lessThan(3000);
    }
    expect(covered, 'P10-P90 coverage').to.be.within(0.7, 0.9);
    for (const c of cases) {
      expect(c.p10).to.be.at.most(c.pred);
      expect(c.p90).to.be.at.least(c.pred);
    }
  });

  it('similarity (HI trajectory matching, rul-similarity.ts), same folds and cuts: lower RMSE than the regression', function () {
    const order = seededShuffle(units, 7);
    const cut = prng(7 + 1000);
    const cases: CvCase[] = [];
    for (let k = 0; k < FOLDS; k++) {
      const train = order.filter((_, i) => i % FOLDS !== k);
      const model = fitSimilarityModel(train, { rulCapMs: CAP_CYCLES * CYCLE_MS, seed: 7, residualStride: 15 });
      for (const u of order.filter((_, i) => i % FOLDS === k)) {
        const len = u.values.length;
        const rows = cutRows(len, cut());
        const est = estimateRulSimilarity(model, truncate(u, rows));
        cases.push({
          asset: u.asset,
          trueRul: (u.tsMs[len - 1] - u.tsMs[rows - 1]) / CYCLE_MS,
          pred: est.rulMs / CYCLE_MS,
          p10: est.rulP10Ms / CYCLE_MS,
          p90: est.rulP90Ms / CYCLE_MS,
          quality: est.quality,
        });
      }
    }
    const r = rmse(cases),
      score = phm08(cases);
    const covered = cases.filter((c) => c.trueRul >= c.p10 && c.trueRul <= c.p90).length / cases.length;
    console.log(
      `      similarity: RMSE ${r.toFixed(2)} cycles, PHM08 ${score.toFixed(0)}, P10-P90 coverage ${(100 * covered).toFixed(0)} %`,
    );
    expect(cases).to.have.length(100);
    if (process.env.CUT !== 'uniform') {
      // measured 17.3 at seed 7 (regression 22.3), mean 16.7 over seeds 1-7 (bench/results/rul-accuracy.md)
      expect(r, 'RMSE (cycles)').to.be.lessThan(19.5);
      expect(r, 'beats the regression on the same cases').to.be.lessThan(rmse(crossValidate(units, 7)));
      expect(score, 'PHM08').to.be.lessThan(1000);
    }
    expect(covered, 'P10-P90 coverage').to.be.within(0.65, 0.92);
    for (const c of cases) expect(c.p10).to.be.at.most(c.pred);
  });

  describe('model contract', function () {
    let model: RulModel;
    let train: UnitHistory[];
    let held: UnitHistory[];

    before(function () {
      train = units.slice(0, 80);
      held = units.slice(80);
      model = fitRulModel(train, { rulCapMs: CAP_CYCLES * CYCLE_MS });
    });

    it('selects trending sensors only: no constant channel, no operational setting', function () {
      expect(model.signals.channels.length).to.be.within(8, 20);
      for (const [j, col] of model.signals.columns.entries()) {
        const vals = train.flatMap((u) => u.values.map((row) => row[col]));
        expect(Math.max(...vals), model.signals.channels[j]).to.be.greaterThan(Math.min(...vals));
        expect(model.signals.channels[j]).to.match(/^s\d+$/);
      }
      for (const constant of ['s1', 's5', 's10', 's16', 's18', 's19']) expect(model.signals.channels).not.to.include(constant);
    });

    it('forecasts less life and a lower health index near failure than early in life', function () {
      let closer = 0;
      for (const u of held) {
        const early = estimateRul(model, truncate(u, 40));
        const late = estimateRul(model, truncate(u, u.values.length - 5));
        if (late.rulMs < early.rulMs && late.healthIndex < early.healthIndex) closer++;
        for (const e of [early, late]) {
          expect(e.healthIndex).to.be.within(0, 1);
          expect(e.rulP10Ms).to.be.at.most(e.rulMs);
          expect(e.rulP90Ms).to.be.at.least(e.rulMs);
          expect(e.asset).to.equal(u.asset);
          expect(e.tsMs).to.equal(u.tsMs[e === early ? 39 : u.values.length - 6]);
        }
        expect(late.rulMs / CYCLE_MS).to.be.lessThan(40);
      }
      expect(closer).to.equal(held.length);
    });

    it('survives a JSON round trip with identical estimates', function () {
      const back = rulModelFromJson(JSON.parse(JSON.stringify(model)));
      for (const u of held.slice(0, 5)) {
        const h = truncate(u, Math.floor(u.values.length / 2));
        expect(estimateRul(back, h)).to.deep.equal(estimateRul(model, h));
      }
      expect(() => rulModelFromJson({ kind: 'other' })).to.throw(TwinError, /rul-ols/);
    });

    it('marks a short history or input quality as uncertain/bad, never better', function () {
      const short = estimateRul(model, truncate(held[0], 3));
      expect(short.quality).to.equal('uncertain');
      expect(short.qualityReason).to.match(/shorter than/);
      expect(estimateRul(model, truncate(held[0], 100), 'bad').quality).to.equal('bad');
      const odd = truncate(held[0], 100);
      const col = model.signals.columns[0];
      odd.values = odd.values.map((row, i) => (i >= 95 ? row.map((v, c) => (c === col ? v + 100 * model.signals.std[0] : v)) : row));
      const e = estimateRul(model, odd);
      expect(e.quality).to.equal('uncertain');
      expect(e.qualityReason).to.match(/outside the training range/);
    });

    it('rejects bad input with specific errors', function () {
      expect(() => estimateRul(model, truncate(held[0], 0))).to.throw(TwinError, /empty history/);
      const renamed = { ...held[0], channels: held[0].channels.map((c) => (c === model.signals.channels[0] ? 'x' : c)) };
      expect(() => estimateRul(model, renamed)).to.throw(TwinError, /expects/);
      const nan = truncate(held[0], 50);
      nan.values = nan.values.map((row, i) => (i === 49 ? row.map(() => NaN) : row));
      expect(() => estimateRul(model, nan)).to.throw(TwinError, /not finite/);
      expect(() => fitRulModel(train.slice(0, 3), { rulCapMs: 1 })).to.throw(TwinError, /at least/);
      expect(() => fitRulModel(train, { rulCapMs: 0 })).to.throw(TwinError, /rulCapMs/);
      const backwards = { ...train[0], tsMs: [...train[0].tsMs].reverse() };
      expect(() => fitRulModel([backwards, ...train.slice(1)], { rulCapMs: CAP_CYCLES * CYCLE_MS })).to.throw(TwinError, /not increasing/);
      expect(() => parseCmapss('1 1 0 0 100\n')).to.throw(TwinError, /expected 26 fields/);
      expect(() => parseCmapss(`1 1 ${'x '.repeat(24)}`)).to.throw(TwinError, /not a number/);
      expect(() => cmapssUnits([], 0)).to.throw(TwinError, /cycleMs/);
    });
  });
});
