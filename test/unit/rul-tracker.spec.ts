/** The live row assembly behind twin-rul, without Node-RED: bounded history, long silences, resets. */
import { expect } from 'chai';
import { readCmapss } from '../../runtime/maintenance/cmapss.js';
import type { UnitHistory } from '../../runtime/maintenance/health-index.js';
import { estimateRulAny, fitRulAny, type AnyRulModel } from '../../runtime/maintenance/rul-json.js';
import { RulTracker } from '../../runtime/maintenance/rul-tracker.js';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { CMAPSS_FD001 } from '../support/reference-data.js';

const CMAPSS_FILE = CMAPSS_FD001;
const HOUR = 3_600_000;

function rowReadings(u: UnitHistory, r: number, tsMs = u.tsMs[r], asset = u.asset): Reading[] {
  return u.channels.map((tag, c) => ({ asset, tag, value: u.values[r][c], tsMs, quality: 'good', source: 'test' }));
}

describe('maintenance: RUL tracker (rows from readings)', function () {
  this.timeout(30_000);
  let units: UnitHistory[];
  let model: AnyRulModel;

  before(function () {
    units = readCmapss(CMAPSS_FILE, HOUR);
    model = fitRulAny(units.slice(0, 20), { method: 'similarity', rulCapMs: 125 * HOUR, seed: 4 });
  });

  it('rows by shared time: the estimate at each row is the model on the history so far', function () {
    const t = new RulTracker(model);
    const u = units[40];
    for (let r = 0; r < 80; r++) {
      const got = rowReadings(u, r).flatMap((x) => t.push(x).estimates);
      expect(got).to.have.length(1);
      expect(got[0]).to.deep.equal(
        estimateRulAny(model, {
          ...u,
          tsMs: u.tsMs.slice(0, r + 1),
          values: u.values.slice(0, r + 1).map((row) => row.map((v, c) => (t.required.includes(u.channels[c]) ? v : NaN))),
        }),
      );
    }
    expect(t.assetCount).to.equal(1);
    expect(t.reset(u.asset)).to.equal(true);
    expect(t.assetCount).to.equal(0);
  });

  it("keeps a bounded history but the asset's age from its first row", function () {
    const t = new RulTracker(model, { maxHistoryRows: 70 });
    const u = units[41];
    const d = model.domain!;
    let last;
    // replay the engine's rows over and over, in increasing time: older than any training life
    const rows = Math.ceil(d.maxAgeMs / HOUR) + 20;
    for (let r = 0; r < rows; r++) for (const x of rowReadings(u, r % 100, r * HOUR)) last = t.push(x).estimates[0] ?? last;
    expect(last!.tsMs).to.equal((rows - 1) * HOUR);
    expect(last!.qualityReason).to.match(/beyond the longest training life/);
  });

  it('a long silence with rows by interval: bounded work, one estimate at its end', function () {
    const t = new RulTracker(model, { rowIntervalMs: 60_000, maxHistoryRows: 200 });
    const u = units[42];
    for (let r = 0; r < 70; r++) for (const x of rowReadings(u, r, r * 60_000)) t.push(x);
    const after = rowReadings(u, 70, 1e6 * 60_000).flatMap((x) => t.push(x).estimates);
    expect(after).to.have.length(1);
    expect(after[0].tsMs).to.equal(1e6 * 60_000);
    expect(after[0].quality).to.equal('uncertain');
    expect(after[0].qualityReason).to.match(/no reading of .* for over 3 intervals/);
  });

  it('bad readings change nothing; bad options are refused', function () {
    const t = new RulTracker(model);
    const u = units[43];
    rowReadings(u, 0).forEach((x) => t.push(x));
    expect(() => t.push({ ...rowReadings(u, 1)[5], tag: 'nope' })).to.throw(TwinError, /unknown channel 'nope'/);
    expect(() => t.push({ ...rowReadings(u, 1)[5], value: NaN })).to.throw(TwinError, /not finite/);
    expect(() => t.push(rowReadings(u, 0)[5])).to.throw(TwinError, /already complete/);
    expect(rowReadings(u, 1).flatMap((x) => t.push(x).estimates)).to.have.length(1);
    expect(() => new RulTracker(model, { rowIntervalMs: 0 })).to.throw(TwinError, /rowIntervalMs must be > 0/);
    expect(() => new RulTracker(model, { emitEveryRows: 1.5 })).to.throw(TwinError, /emitEveryRows must be an integer >= 1/);
    expect(() => new RulTracker(model, { maxHistoryRows: 1 })).to.throw(TwinError, /maxHistoryRows must be an integer >= 2/);
  });
});
