// One SKAB file through the real `twinloop replay` CLI (built dist/bin/twinloop.js, child process)
// with examples/skab/skab-flow.json, checked against the runtime's multivariate step function fed
// the same rows directly (bench/skab.ts's path): the replay runs in event time, so the scores, the
// alarm per row and the events must be the same, not just close.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { alarmSeries, BIN, fileScore, readFlowDetector, replayFile, type ReplayLine } from '../../bench/skab-replay.js';
import { readSkabFile, runFile, skabDir, TAGS, type SkabFile } from '../../bench/skab.js';
import { mvInit, mvStep } from '../../runtime/drift/multivariate.js';
import { skipUnlessPresent } from '../support/reference-data.js';

const FILE = 'valve1/1.csv';
const FIT_ROWS = 400;

describe('SKAB through twinloop replay (CLI)', function () {
  this.timeout(60_000);
  let file: SkabFile;
  let lines: ReplayLine[];
  const det = readFlowDetector();

  before(async function () {
    const path = join(skabDir(), FILE);
    // SKAB is GPL-3.0: never copied into the project, read from beside it when it is there
    skipUnlessPresent(
      this,
      path,
      `SKAB reference data (${FILE}; GPL-3.0, not in the repository; optional, TWINLOOP_SKAB_DIR moves it)`,
      skabDir(),
    );
    if (!existsSync(BIN)) throw new Error(`${BIN} missing: build first (npx tsup)`);
    file = readSkabFile(path, FILE);
    lines = (await replayFile(path)).lines;
  });

  it('the flow is the protocol: T²+SPE over the 8 sensors, 400 reference rows, every score sent', () => {
    expect(det.mvConfig).to.deep.include({
      statistics: 'both',
      referenceRows: FIT_ROWS,
      consecutive: 3,
      alpha: 0.01,
      varianceFraction: 0.9,
    });
    // every reading reached the drift node through twin-mqtt-in, in row order
    const fromIn = lines.filter((l) => l.nodeType === 'twin-mqtt-in');
    expect(fromIn).to.have.length(file.tsMs.length * TAGS.length);
    expect(fromIn.slice(0, TAGS.length).map((l) => l.topic)).to.deep.equal(TAGS.map((t) => `skab/${t}`));
  });

  it('gives one score per scored row after the reference, at the row times, equal to the runtime step function', () => {
    const scores = lines.filter((l) => l.nodeType === 'twin-drift' && l.port === 1);
    expect(scores).to.have.length(file.tsMs.length - FIT_ROWS);
    expect(scores.map((l) => l.payload.tsMs)).to.deep.equal(file.tsMs.slice(FIT_ROWS));
    expect(scores.every((l) => l.topic === 'skab/multivariate/score')).to.equal(true);
    // The runtime fed the file's rows directly: the larger of T²/limit and SPE/limit per row.
    const s = mvInit({ asset: 'skab', tags: TAGS, ...det.mvConfig });
    const direct: number[] = [];
    for (let i = 0; i < file.tsMs.length; i++) {
      for (let j = 0; j < TAGS.length; j++) {
        const o = mvStep(s, {
          asset: 'skab',
          tag: TAGS[j],
          value: file.values[i][j],
          tsMs: file.tsMs[i],
          quality: 'good',
          source: 'replay',
        });
        if (o?.type === 'score') direct.push(Math.max(o.t2 / o.t2Limit, o.spe / o.speLimit));
      }
    }
    expect(scores.map((l) => l.payload.score)).to.deep.equal(direct);
  });

  it('the alarm per row is identical to the runtime-direct path (bench/skab.ts), and so is the F1', () => {
    const replay = alarmSeries(lines, file.tsMs, det);
    const direct = runFile(file, det.mvConfig);
    expect(replay.tsMs).to.deep.equal(direct.tsMs);
    expect(replay.flags).to.deep.equal(direct.flags);
    // not a trivial series: the file has anomalies and the alarm is both on and off
    expect(file.anomaly.slice(FIT_ROWS).filter((a) => a === 1).length).to.be.greaterThan(0);
    expect(replay.flags.filter((f) => f === 1).length).to.be.within(1, replay.flags.length - 1);
    // every DriftEvent marks the start of an alarm (its first out-of-control row, consecutive − 1 rows before the onset)
    const directEvents = Object.values(direct.events).reduce((a, b) => a + b, 0);
    expect(replay.events).to.equal(directEvents);
    expect(replay.eventsAtOnsets).to.equal(replay.events);
    expect(replay.risingEdges).to.be.at.least(replay.events);
    const f1 = fileScore(file, replay.flags);
    const f1Direct = fileScore(file, direct.flags);
    expect(f1).to.deep.equal(f1Direct);
    expect(f1.tp + f1.tn + f1.fp + f1.fn).to.equal(file.tsMs.length - FIT_ROWS);
    expect(f1.f1).to.be.greaterThan(0).and.at.most(1);
    process.stderr.write(
      `      ${FILE}: F1 ${f1.f1.toFixed(3)} (TP ${f1.tp} FP ${f1.fp} FN ${f1.fn} TN ${f1.tn}), ${replay.risingEdges} alarms, ${replay.events} events\n`,
    );
  });

  it('refuses to guess an alarm when a scored row has no score', () => {
    const scoreAt = file.tsMs[FIT_ROWS + 10];
    const gap = lines.filter((l) => !(l.port === 1 && l.nodeType === 'twin-drift' && l.payload.tsMs === scoreAt));
    expect(gap.length).to.equal(lines.length - 1);
    expect(() => alarmSeries(gap, file.tsMs, det)).to.throw(/row 410 .* has no score/);
    const early = lines.filter((l) => !(l.port === 1 && l.nodeType === 'twin-drift' && (l.payload.tsMs as number) === file.tsMs[FIT_ROWS]));
    expect(() => alarmSeries(early, file.tsMs, det)).to.throw(/first score is on row 401/);
  });
});
