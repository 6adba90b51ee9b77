import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NAB_PROFILES,
  nabNormalise,
  nabRows,
  nabScoreFile,
  nabTimeMs,
  probationaryLength,
  scaledSigmoid,
} from '../../runtime/eval/nab-score.js';

const MIN = 60_000;
/** n rows one minute apart from t = 0. */
const minutes = (n: number) => Float64Array.from({ length: n }, (_, i) => i * MIN);
/** 0/1 detections at the given rows. */
function det(n: number, rows: number[]): Uint8Array {
  const d = new Uint8Array(n);
  for (const r of rows) d[r] = 1;
  return d;
}
const sig = (x: number) => 2 / (1 + Math.exp(5 * x)) - 1;

describe('NAB scorer (runtime/eval/nab-score)', () => {
  it('scaled sigmoid: +0.987 at a window start, 0 at its end, −1 three widths after', () => {
    expect(scaledSigmoid(-1)).to.be.closeTo(0.98661, 1e-5);
    expect(scaledSigmoid(-0.5)).to.be.closeTo(0.84828, 1e-5);
    expect(scaledSigmoid(0)).to.equal(0);
    expect(scaledSigmoid(1)).to.be.closeTo(-0.98661, 1e-5);
    expect(scaledSigmoid(3)).to.equal(-1);
  });

  it('probationary period: 15 % of the rows, at most 750', () => {
    expect(probationaryLength(1000)).to.equal(150);
    expect(probationaryLength(4032)).to.equal(604);
    expect(probationaryLength(15902)).to.equal(750);
  });

  // 100 rows, one window over rows 50..59 (width 10), probation 15 rows
  const ts = minutes(100);
  const rows = nabRows(ts, [[50 * MIN, 59 * MIN]]);
  const std = NAB_PROFILES.standard;

  it('a detection on the window’s first row earns A_TP, on its last row about a quarter', () => {
    expect(nabScoreFile(rows, det(100, [50]), std).score).to.be.closeTo(1, 1e-12);
    expect(nabScoreFile(rows, det(100, [59]), std).score).to.be.closeTo(sig(-0.1) / sig(-1), 1e-12);
  });

  it('only the earliest detection in a window counts; a window without one costs A_FN', () => {
    const s = nabScoreFile(rows, det(100, [55, 52, 58]), std);
    expect(s.score).to.be.closeTo(sig(-0.8) / sig(-1), 1e-12);
    expect(s.delayRows).to.deep.equal([2]);
    expect(s.tpRows).to.equal(3);
    expect(nabScoreFile(rows, det(100, []), std).score).to.equal(-1);
    expect(nabScoreFile(rows, det(100, []), NAB_PROFILES.reward_low_FN_rate).score).to.equal(-2);
  });

  it('false positives: full A_FP before any window, scaled by the distance after one; probation ignored', () => {
    expect(nabScoreFile(rows, det(100, [20]), std).score).to.be.closeTo(-1 - 0.11, 1e-12);
    expect(nabScoreFile(rows, det(100, [60]), std).score).to.be.closeTo(-1 + 0.11 * sig(1 / 9), 1e-12);
    expect(nabScoreFile(rows, det(100, [99]), NAB_PROFILES.reward_low_FP_rate).score).to.be.closeTo(-1 - 0.22, 1e-12);
    expect(nabScoreFile(rows, det(100, [10]), std).score).to.equal(-1);
  });

  it('normalises over files: null detector 0, perfect 100', () => {
    const perfect = nabScoreFile(rows, det(100, [50]), std);
    const none = nabScoreFile(rows, det(100, []), std);
    expect(nabNormalise([perfect, perfect], std)).to.be.closeTo(100, 1e-9);
    expect(nabNormalise([none, none], std)).to.equal(0);
    expect(nabNormalise([perfect, none], std)).to.be.closeTo(50, 1e-9);
  });

  it('reproduces NAB’s published per-file scores of the numenta detector on realTraffic/speed_7578', () => {
    const dir = join(__dirname, '..', 'fixtures', 'nab');
    const lines = readFileSync(join(dir, 'realTraffic', 'speed_7578.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const t = Float64Array.from(lines, (l) => nabTimeMs(l.split(',')[0]));
    const windows = (JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8'))['realTraffic/speed_7578.csv'] as [string, string][]).map(
      ([a, b]) => [nabTimeMs(a), nabTimeMs(b)] as [number, number],
    );
    // rows of results/numenta/realTraffic/numenta_speed_7578.csv with anomaly_score ≥ 0.5126953125
    const hits = [
      '2015-09-12 00:16:00',
      '2015-09-14 17:45:00',
      '2015-09-15 06:05:00',
      '2015-09-15 14:34:00',
      '2015-09-16 14:19:00',
      '2015-09-16 17:15:00',
      '2015-09-16 17:45:00',
    ].map(nabTimeMs);
    const d = Array.from(t, (x) => (hits.includes(x) ? 1 : 0));
    const r = nabRows(t, windows);
    const s = nabScoreFile(r, d, std);
    // results/numenta/numenta_standard_scores.csv: Score 1.23649741556, TP 4, FP 3
    expect(s.score).to.be.closeTo(1.23649741556, 1e-9);
    expect(s.tpRows).to.equal(4);
    expect(s.fpRows).to.equal(3);
    // sums of that file's S(t)_reward_low_FP_rate and S(t)_reward_low_FN_rate columns
    expect(nabScoreFile(r, d, NAB_PROFILES.reward_low_FP_rate).score).to.be.closeTo(
      -1 + 0.871604206333 + 2 * 0.847084961863 - 0.21855342899 - 0.44,
      1e-9,
    );
    expect(nabScoreFile(r, d, NAB_PROFILES.reward_low_FN_rate).score).to.be.closeTo(
      -2 + 0.871604206333 + 2 * 0.847084961863 - 0.109276714495 - 0.22,
      1e-9,
    );
  });
});
