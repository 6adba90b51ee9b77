// RUL as a plant runs it, on C-MAPSS FD001 (test/fixtures/cmapss): the built CLI as child
// processes. `twinloop fit` learns from 80 engines written as a plant CSV; 20 held-out engines,
// each cut at a random cycle as in NASA's test set, are replayed through twin-mqtt-in → twin-rul
// with `twinloop replay`. Accuracy bounds only (loose: the full 5-fold figure is
// bench/rul-accuracy.ts), no timing.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCmapss } from '../../runtime/maintenance/cmapss.js';
import { seededShuffle } from '../../runtime/maintenance/rul-model.js';
import { rulModelFromText } from '../../runtime/maintenance/rul-json.js';
import { CMAPSS_CYCLE_MS } from '../../bin/cmapss-to-csv.js';
import { prng } from '../../bench/prng.js';
import { coverage, nasaCutRows, phm08, rmse, runCli, runFold } from '../../bench/rul-cv.js';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const CMAPSS_FILE = CMAPSS_FD001;

describe('RUL on C-MAPSS FD001 through twinloop fit and twinloop replay', function () {
  this.timeout(180_000);
  let dir: string;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'rul-fd001-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fit on 80 engines, replay 20 held-out engines cut at random: RMSE and P10-P90 coverage within loose bounds', async function () {
    const order = seededShuffle(readCmapss(CMAPSS_FILE, CMAPSS_CYCLE_MS), 11);
    const cut = prng(11);
    const held = order.slice(80);
    const r = await runFold({
      dir,
      fold: 0,
      train: order.slice(0, 80),
      held,
      cutRows: held.map((u) => nasaCutRows(u.values.length, cut())),
      method: 'similarity',
      capCycles: 125,
      seed: 11,
      cycleMs: CMAPSS_CYCLE_MS,
    });
    expect(r.fit.stdout).to.match(/^fitted rul-similarity on 80 assets, \d+ rows \(median row interval 3600000 ms/);
    expect(r.fit.stdout).to.match(/RUL cap 450000000 ms \(125\.0 rows\)/);
    expect(r.fit.stdout).to.match(/1[0-9] of 24 channels trend with time to failure: s2, /);
    const model = rulModelFromText(readFileSync(join(dir, 'model-similarity-0.json'), 'utf8'));
    expect(model.kind).to.equal('rul-similarity');
    expect(model.domain!.units).to.equal(80);
    // one estimate per replayed row of every engine
    const rows = r.cases.reduce((s, c, i) => s + held[i].values.length - c.trueRul, 0);
    expect(r.estimates).to.equal(rows);
    expect(r.replay.stderr).not.to.match(/node error/);
    const e = rmse(r.cases),
      cov = coverage(r.cases);
    console.log(
      `      20 held-out engines: RMSE ${e.toFixed(1)} cycles (capped ${rmse(r.cases, 125).toFixed(1)}), PHM08 ${phm08(r.cases).toFixed(0)}, P10-P90 coverage ${(100 * cov).toFixed(0)} %`,
    );
    expect(e, 'RMSE (cycles)').to.be.lessThan(30);
    expect(cov, 'P10-P90 coverage').to.be.within(0.5, 0.98);
    for (const c of r.cases) expect(c.p10).to.be.at.most(c.pred).and.at.most(c.p90);
  });

  describe('twinloop fit: help and bad input', function () {
    const fails = async (args: string[], re: RegExp) => {
      const r = await runCli(['fit', ...args]);
      expect(r.code, r.stderr).to.be.greaterThan(0);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(re);
      expect(r.stdout).to.equal('');
    };

    it('--help names every option and says the last row is the failure', async function () {
      const r = await runCli(['fit', '--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(
        /^Usage: twinloop fit --kind rul --input TRAIN\.csv --asset-column NAME --time-column NAME --out MODEL\.json/,
      );
      for (const o of ['--method', '--rul-cap-ms', '--rul-cap', '--seed', '--delimiter']) expect(r.stdout).to.include(o);
      expect(r.stdout).to.include('LAST ROW IS ITS FAILURE');
    });

    it('missing or wrong options, a missing file, a bad CSV, too few assets', async function () {
      const csv = join(dir, 'small.csv');
      writeFileSync(csv, 'engine,time,a\ne1,1,1\ne1,2,2\n');
      const base = ['--input', csv, '--asset-column', 'engine', '--time-column', 'time', '--out', join(dir, 'm.json')];
      await fails(base, /^twinloop fit: --kind is required \(rul\)/);
      await fails(['--kind', 'energy', ...base], /--kind must be rul, got 'energy'/);
      await fails(['--kind', 'rul', '--input', csv], /--asset-column is required/);
      await fails(['--kind', 'rul', ...base, '--method', 'magic'], /--method must be one of similarity, ols, trend, got 'magic'/);
      await fails(['--kind', 'rul', ...base, '--rul-cap', '0'], /--rul-cap must be a number > 0, got '0'/);
      await fails(['--kind', 'rul', ...base, '--rul-cap', '5', '--rul-cap-ms', '5'], /give --rul-cap-ms or --rul-cap, not both/);
      await fails(['--kind', 'rul', ...base, '--bogus'], /Unknown option '--bogus'/);
      await fails(
        ['--kind', 'rul', ...base.map((a) => (a === csv ? join(dir, 'nope.csv') : a))],
        /cannot read the input .*nope\.csv: no such file/,
      );
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, 'engine,time,a\ne1,1,1\ne1,later,2\n');
      await fails(['--kind', 'rul', ...base.map((a) => (a === csv ? bad : a))], /bad\.csv: line 3, column "time": not an ISO-8601 time/);
      await fails(['--kind', 'rul', ...base], /small\.csv: need at least 10 run-to-failure units, got 1/);
    });
  });
});
