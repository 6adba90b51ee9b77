import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateSeries, parseAlarms, parseTime, parseWindows } from '../../runtime/eval/evaluate.js';

const FIX = join(__dirname, '..', 'fixtures', 'nab');
const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'twinloop.js');
// the published numenta detections on speed_7578 (see eval-nab-score.spec.ts)
const HITS = [
  '2015-09-12 00:16:00',
  '2015-09-14 17:45:00',
  '2015-09-15 06:05:00',
  '2015-09-15 14:34:00',
  '2015-09-16 14:19:00',
  '2015-09-16 17:15:00',
  '2015-09-16 17:45:00',
];

/** speed_7578 as an alarm CSV (timestamp,value,alarm) with the numenta detections. */
function alarmCsv(): string {
  const lines = readFileSync(join(FIX, 'realTraffic', 'speed_7578.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return ['timestamp,value,alarm', ...lines.map((l) => `${l},${HITS.includes(l.split(',')[0]) ? 1 : 0}`)].join('\n');
}

describe('twinloop evaluate (runtime/eval/evaluate + bin/commands/evaluate)', () => {
  it('reads times as ms, ISO or NAB text (UTC)', () => {
    expect(parseTime(1000)).to.equal(1000);
    expect(parseTime('2015-09-12 00:16:00')).to.equal(Date.UTC(2015, 8, 12, 0, 16));
    expect(parseTime('2015-09-12T00:16:00.000000')).to.equal(Date.UTC(2015, 8, 12, 0, 16));
    expect(parseTime('2015-09-12T02:16:00+02:00')).to.equal(Date.UTC(2015, 8, 12, 0, 16));
    expect(() => parseTime('yesterday')).to.throw('not a time');
  });

  it('parses JSON-lines alarms and CSV or NAB-JSON windows', () => {
    const a = parseAlarms('{"tsMs":2000,"anomalous":false}\n{"tsMs":1000,"anomalous":true,"value":3}\n');
    expect(a).to.deep.equal({ tsMs: [1000, 2000], flags: [1, 0], values: [3, undefined], eventsOnly: false });
    expect(parseAlarms('{"ts":"2024-01-01 00:00:00"}').eventsOnly).to.equal(true);
    expect(parseWindows('start,end\n1000,2000\n')).to.deep.equal([[1000, 2000]]);
    expect(parseWindows(readFileSync(join(FIX, 'windows.json'), 'utf8'))).to.have.length(4);
    expect(() => parseWindows('{"a":[],"b":[]}')).to.throw('--key');
  });

  it('gives NAB’s published score for the numenta detections on speed_7578, normalised for the one file', () => {
    const r = evaluateSeries(parseAlarms(alarmCsv()), parseWindows(readFileSync(join(FIX, 'windows.json'), 'utf8')));
    // raw 1.23649741556 (NAB results), null −4, perfect 4
    expect(r.nab!.standard).to.be.closeTo((100 * (1.23649741556 + 4)) / 8, 1e-7);
    expect(r.events).to.include({ windows: 4, caught: 3, alarms: 7, falseAlarms: 3 });
    expect(r.pointwise!.tp).to.equal(4);
  });

  it('runs as a command: JSON report, SVG timeline, exit 2 on a missing file', function () {
    const dir = mkdtempSync(join(tmpdir(), 'twinloop-evaluate-'));
    writeFileSync(join(dir, 'alarms.csv'), alarmCsv());
    const out = execFileSync(
      process.execPath,
      [BIN, 'evaluate', join(dir, 'alarms.csv'), join(FIX, 'windows.json'), '--json', '--svg', join(dir, 't.svg')],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out).nab.standard).to.be.closeTo(65.456, 1e-3);
    expect(readFileSync(join(dir, 't.svg'), 'utf8')).to.match(/^<svg[\s\S]*labelled windows[\s\S]*<\/svg>$/);
    const bad = spawnSync(process.execPath, [BIN, 'evaluate', join(dir, 'nope.csv'), join(FIX, 'windows.json')], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/cannot read .*nope\.csv/);
  });
});
