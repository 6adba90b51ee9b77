import { expect } from 'chai';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { mvInit, mvStep, validateMultivariateConfig, type MultivariateOutput, type MvScore } from '../../runtime/drift/multivariate.js';
import { correlatedRows, MV_TAGS } from '../support/drift-mv-data.js';

const ASSET = 'plant/line1/pump3';
function rd(tag: string, value: number, tsMs: number, extra: Partial<Reading> = {}): Reading {
  return { asset: ASSET, tag, value, tsMs, quality: 'good', source: 'test', ...extra };
}
/** One reading per tag per row, rows one second apart. */
function readingsOf(rows: number[][], tags: string[], t0Ms = 0): Reading[] {
  const out: Reading[] = [];
  rows.forEach((r, i) => tags.forEach((tag, j) => out.push(rd(tag, r[j], t0Ms + i * 1000))));
  return out;
}
/** A letter per output: F fitted, X fit failed, o in control, x out of control, A in alarm, E alarm + event. */
function letter(o: MultivariateOutput): string {
  if (o.type === 'fitted') return 'F';
  if (o.type === 'fit-failed') return 'X';
  if (o.event) return 'E';
  return o.alarm ? 'A' : o.outOfControl ? 'x' : 'o';
}

/** Readings through a fresh state: the outputs, in order (a reading that completes no row gives none). */
function steps(config: unknown, readings: Reading[]): MultivariateOutput[] {
  const s = mvInit(config);
  return readings.flatMap((r) => mvStep(s, r) ?? []);
}

describe('drift: multivariate detector (PCA T² + Q)', () => {
  describe('config', () => {
    const bad: [string, unknown][] = [
      ['not an object', 42],
      ['no asset', { tags: ['a', 'b'] }],
      ['one tag', { asset: ASSET, tags: ['a'] }],
      ['repeated tag', { asset: ASSET, tags: ['a', 'a'] }],
      ['reference too short', { asset: ASSET, tags: ['a', 'b', 'c'], referenceRows: 4 }],
      ['alpha', { asset: ASSET, tags: ['a', 'b'], alpha: 0 }],
      ['consecutive', { asset: ASSET, tags: ['a', 'b'], consecutive: 0 }],
      ['statistics', { asset: ASSET, tags: ['a', 'b'], statistics: 'mahalanobis' }],
      ['half a period', { asset: ASSET, tags: ['a', 'b'], referenceStartMs: 0 }],
      ['empty period', { asset: ASSET, tags: ['a', 'b'], referenceStartMs: 10, referenceEndMs: 10 }],
      ['classify after ≥ history', { asset: ASSET, tags: ['a', 'b'], classifyAfterRows: 50, historyRows: 50 }],
      ['maxAgeMs', { asset: ASSET, tags: ['a', 'b'], maxAgeMs: -1 }],
    ];
    for (const [what, cfg] of bad) {
      it(`rejects ${what} (BAD_CONFIG)`, () => {
        try {
          validateMultivariateConfig(cfg);
        } catch (e) {
          expect(e).to.be.instanceOf(TwinError);
          expect((e as TwinError).code).to.equal('BAD_CONFIG');
          return;
        }
        expect.fail('accepted');
      });
    }
  });

  describe('row alignment (step function)', () => {
    const cfg = { asset: ASSET, tags: ['x', 'y'], maxAgeMs: 2000, referenceRows: 4 };
    it('forms a row only when every tag has a new reading since the last row', () => {
      const s = mvInit(cfg);
      mvStep(s, rd('x', 1, 0));
      mvStep(s, rd('x', 2, 500)); // replaces x, still no row
      expect(s.rows).to.equal(0);
      mvStep(s, rd('y', 1, 600));
      expect(s.rows).to.equal(1);
      mvStep(s, rd('y', 2, 1000)); // x not renewed yet
      expect(s.rows).to.equal(1);
      mvStep(s, rd('x', 3, 1000));
      expect(s.rows).to.equal(2);
      expect(Array.from(s.row)).to.deep.equal([3, 2]);
    });
    it('does not hold a value older than maxAgeMs', () => {
      const s = mvInit(cfg);
      mvStep(s, rd('x', 1, 0));
      mvStep(s, rd('y', 1, 2500));
      expect(s.rows).to.equal(0);
      mvStep(s, rd('x', 1, 2600)); // now both fresh and close
      expect(s.rows).to.equal(1);
    });
    it('excludes bad readings, ignores older readings, other assets and other tags', () => {
      const s = mvInit(cfg);
      mvStep(s, rd('x', 1, 1000));
      mvStep(s, rd('y', 99, 1000, { quality: 'bad' }));
      mvStep(s, rd('y', 1, 1000, { asset: 'other' }));
      mvStep(s, rd('z', 1, 1000));
      expect(s.rows).to.equal(0);
      mvStep(s, rd('x', 5, 500)); // older than the held x
      mvStep(s, rd('y', 2, 1000));
      expect(s.rows).to.equal(1);
      expect(Array.from(s.row)).to.deep.equal([1, 2]);
      expect(s.ignored).to.equal(2);
    });
    it('uncertain readings make the row uncertain and keep it out of the reference', () => {
      const s = mvInit(cfg);
      const rows = [
        [1, 1.1],
        [2, 1.9],
        [3, 3.2],
        [4, 3.9],
      ];
      rows.forEach((r, i) => {
        mvStep(s, rd('x', r[0], i * 1000, i === 0 ? { quality: 'uncertain' } : {}));
        mvStep(s, rd('y', r[1], i * 1000));
      });
      expect(s.model).to.equal(undefined); // 3 good rows of 4: not fitted yet
      expect(s.refRows).to.have.length(3);
      let out: MultivariateOutput | undefined;
      mvStep(s, rd('x', 5, 4000));
      out = mvStep(s, rd('y', 5.2, 4000));
      expect(out?.type).to.equal('fitted');
      mvStep(s, rd('x', 7, 6000, { quality: 'uncertain' }));
      out = mvStep(s, rd('y', 7.1, 6000));
      expect(out?.type).to.equal('score');
      expect((out as MvScore).quality).to.equal('uncertain');
    });
  });

  describe('outputs row by row', () => {
    // Two coupled tags: y follows x. Eight reference rows, then normal rows and rows where y
    // leaves x (a broken correlation: Q far over its limit).
    const ref = [-1, 1, -0.5, 0.5, 0, 1.5, -1.5, 0.2].map((s, i) => [s + (i % 2 ? 0.05 : -0.05), s + (i % 3 ? 0.04 : -0.06)]);

    it('fits after the reference rows, scores each later row, alarms after `consecutive` and emits the event', () => {
      const rows = [...ref, [0.3, 0.31], [1, -1], [1.2, -1.1], [0.9, -1.2], [0.1, 0.12], [0.2, 0.2], [-0.3, -0.28]];
      const out = steps(
        { asset: ASSET, tags: ['x', 'y'], referenceRows: 8, consecutive: 2, classifyAfterRows: 2, alpha: 0.01 },
        readingsOf(rows, ['x', 'y']),
      );
      // One output per completed row: 7 silent reference rows, F on the 8th, o, x (first out of
      // control), E (second: alarm + event, classifyAfterRows reached), A (third out of control),
      // A (back in control, but the alarm clears only after `consecutive` = 2 in-control rows), o, o.
      expect(out.map(letter).join('')).to.equal('FoxEAAoo');
    });

    it('gives nothing before the fit', () => {
      expect(steps({ asset: ASSET, tags: ['x', 'y'], referenceRows: 8 }, readingsOf(ref.slice(0, 3), ['x', 'y']))).to.deep.equal([]);
    });
  });

  describe('detection and classification on synthetic plant data', () => {
    const cfg = { asset: ASSET, tags: MV_TAGS, referenceRows: 300, alpha: 0.01, consecutive: 3 };
    async function run(rows: number[][]): Promise<MultivariateOutput[]> {
      return steps(cfg, readingsOf(rows, MV_TAGS));
    }

    it('no alarm on in-control data (α = 1 %, 3 consecutive)', async () => {
      const out = await run(correlatedRows(800, 21));
      expect(out[0].type).to.equal('fitted');
      const scores = out.filter((o): o is MvScore => o.type === 'score');
      expect(scores).to.have.length(500);
      expect(scores.filter((s) => s.alarm)).to.have.length(0);
    });

    it('a drifting pressure sensor: Q alarm, pressure isolated by its contribution, classified a sensor drift', async () => {
      const rows = correlatedRows(460, 22);
      for (let i = 360; i < rows.length; i++) rows[i][1] += 0.01 * (i - 360); // ramps 1 over 100 s
      const out = await run(rows);
      const events = out.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
      expect(events.length).to.be.at.least(1);
      const e = events[0];
      expect(e.tag).to.equal('pressure');
      expect(e.method).to.match(/spe/);
      expect(e.kind).to.equal('sensor-fault');
      expect(e.faultType).to.equal('drift');
      expect(e.direction).to.equal('up');
      expect(e.startTsMs).to.be.at.least(360_000);
      expect(e.tsMs).to.be.greaterThan(e.startTsMs);
      expect(e.evidence.related!.map((r) => r.tag).sort()).to.deep.equal(['flow', 'power', 'vibration']);
      expect(e.evidence.related!.every((r) => !r.moved)).to.equal(true);
      expect(e.evidence.statistic).to.be.greaterThan(e.evidence.threshold!);
      expect(e.quality).to.equal('good');
    });

    it('a process change (all coupled tags move together): T² alarm, classified a process change', async () => {
      const rows = [...correlatedRows(400, 23), ...correlatedRows(60, 24, 4)];
      const out = await run(rows);
      const events = out.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []));
      expect(events.length).to.be.at.least(1);
      const e = events[0];
      expect(e.kind).to.equal('process-change');
      expect(['flow', 'pressure', 'power']).to.include(e.tag);
      expect(e.evidence.related!.filter((r) => r.moved).length).to.be.at.least(2);
      expect(e.startTsMs).to.equal(400_000);
    });

    it('a stuck sensor is isolated and classified stuck', async () => {
      const rows = correlatedRows(460, 25);
      for (let i = 380; i < rows.length; i++) rows[i][2] = 23.1; // power frozen at a plausible value
      const out = await run(rows);
      const e = out.flatMap((o) => (o.type === 'score' && o.event ? [o.event] : []))[0];
      expect(e).to.not.equal(undefined);
      expect(e.tag).to.equal('power');
      expect(e.kind).to.equal('sensor-fault');
      expect(e.faultType).to.equal('stuck');
    });

    it('fits on a given reference period instead of a row count', async () => {
      const rows = correlatedRows(300, 26);
      const out = steps({ asset: ASSET, tags: MV_TAGS, referenceStartMs: 50_000, referenceEndMs: 250_000 }, readingsOf(rows, MV_TAGS));
      expect(out[0]).to.include({ type: 'fitted', tsMs: 250_000, referenceRows: 200 });
      // Rows 251..299 are scored; row 250, which ends the period, carries the fit report.
      expect(out.filter((o) => o.type === 'score')).to.have.length(49);
    });

    it('reports a failed fit (a reference with one varying tag) and tries again', () => {
      const s = mvInit({ asset: ASSET, tags: ['x', 'y'], referenceRows: 4 });
      const outs: (MultivariateOutput | undefined)[] = [];
      for (let i = 0; i < 4; i++) {
        mvStep(s, rd('x', i, i * 1000));
        outs.push(mvStep(s, rd('y', 7, i * 1000)));
      }
      expect(outs[3]?.type).to.equal('fit-failed');
      expect((outs[3] as { reason: string }).reason).to.match(/2 varying tags/);
      expect(s.refRows).to.have.length(0);
    });
  });
});
