import { expect } from 'chai';
import { influxTimestamp, recordToPoint, rowToRecord, type InfluxPoint } from '../../runtime/store/influx-points.js';
import { historyQuery, historyRequest, recordsFromRaw } from '../../runtime/store/influx-query.js';
import { ASSET, T0, drift, energy, energyShift, estimate, everyKind, reading, windowRec } from '../support/influx-records.js';

/** What InfluxDB gives back for a point: one row whose columns are its tags and fields. */
function asRow(p: InfluxPoint): Record<string, unknown> {
  return { ...p.tags, ...p.fields };
}

describe('influx points: records ⇄ InfluxDB points', () => {
  it('maps a Reading to measurement reading, tags asset/tag/quality (+ site, line), fields value/unit/source, ms timestamp', () => {
    const p = recordToPoint(reading(3, { qualityReason: 'stale' }), { precision: 'ms', extraTags: { site: 'hamburg', line: 'line2' } });
    expect(p).to.deep.equal({
      measurement: 'reading',
      tags: { site: 'hamburg', line: 'line2', asset: ASSET, tag: 'zone1_temp', quality: 'good' },
      fields: { value: 200.375, unit: 'degC', qualityReason: 'stale', source: 'opcua' },
      timestamp: String(T0 + 300),
    });
  });

  it('gives each kind its own measurement and the identity tags that keep records at one time apart', () => {
    const pts = everyKind().map((r) => recordToPoint(r, { precision: 'ms' }));
    expect(pts.map((p) => p.measurement)).to.deep.equal([
      'reading',
      'estimate',
      'drift',
      'score',
      'rul',
      'window',
      'window',
      'energy',
      'energy',
      'demand',
      'baseline',
    ]);
    expect(pts[1].tags).to.deep.equal({ asset: ASSET, tag: 'zone1_temp', quality: 'uncertain', model: 'kalman/local-trend' });
    expect(pts[2].tags.method).to.equal('page-hinkley');
    expect([pts[5].tags.rank, pts[6].tags.rank]).to.deep.equal(['1', '2']);
    expect([pts[7].tags.scope, pts[8].tags.scope, pts[8].tags.label]).to.deep.equal(['interval', 'shift', 'early']);
    // Same measurement, tags and time means the same point in InfluxDB: every key here is distinct.
    const keys = pts.map((p) => JSON.stringify([p.measurement, p.tags, p.timestamp]));
    expect(new Set(keys).size).to.equal(pts.length);
  });

  it('flattens objects of numbers into dotted fields and keeps other nested values as JSON text', () => {
    const e = recordToPoint(estimate, { precision: 'ms' });
    expect(e.fields['state.level']).to.equal(201.25);
    expect(e.fields['state.slopePerS']).to.equal(0.002);
    expect(e.fields.covariance_json).to.equal('[[0.04,0.001],[0.001,0.0004]]');
    const d = recordToPoint(drift, { precision: 'ms' });
    expect(JSON.parse(d.fields.evidence_json as string)).to.deep.equal(drift.evidence);
    expect(recordToPoint(energyShift, { precision: 'ms' }).fields.energyKwhByPeriod_json).to.equal('{}');
    expect(recordToPoint(windowRec(1), { precision: 'ms' }).fields['costParts.downtimeEur']).to.equal(300.5);
  });

  it('round-trips every kind: record → point → row → record gives the record back', () => {
    for (const r of everyKind()) {
      const p = recordToPoint(r, { precision: 'ms', extraTags: { site: 's1' } });
      const back = rowToRecord(p.measurement, { time: 0, ...asRow(p), unrelated: null }, r.tsMs as number, ['site']);
      expect(back, p.measurement).to.deep.equal(r);
    }
  });

  it('writes the timestamp at the configured precision (nanoseconds beyond 2^53 exactly)', () => {
    expect(influxTimestamp(1_700_000_000_123, 'ms')).to.equal('1700000000123');
    expect(influxTimestamp(1_700_000_000_123.4568, 'u')).to.equal('1700000000123457');
    expect(influxTimestamp(1_700_000_000_123.4568, 'n')).to.equal('1700000000123457000');
    expect(influxTimestamp(1_700_000_000_999, 's')).to.equal('1700000000');
    expect(influxTimestamp(1_700_000_000_123.9, 'ms')).to.equal('1700000000123');
  });

  it("takes the measurement from the node, then msg.kind, then the shape, then the record's kind field", () => {
    expect(recordToPoint(reading(0), { precision: 'ms', measurement: 'raw' }).measurement).to.equal('raw');
    expect(recordToPoint(reading(0), { precision: 'ms' }, 'screened').measurement).to.equal('screened');
    const proposal = { kind: 'maintenance', asset: ASSET, tsMs: T0, job: 'bearing' };
    expect(recordToPoint(proposal, { precision: 'ms' }).measurement).to.equal('maintenance');
  });

  it('refuses what cannot be stored, naming the problem', () => {
    const bad: [unknown, RegExp][] = [
      [null, /must be an object/],
      [[reading(0)], /must be an object/],
      ['text', /must be an object/],
      [{ asset: ASSET, tsMs: T0, foo: 1 }, /cannot tell the record kind/],
      [{ ...reading(0), asset: '' }, /asset must be a non-empty string/],
      [{ ...reading(0), tsMs: 'yesterday' }, /tsMs must be epoch milliseconds/],
      [{ ...reading(0), tsMs: NaN }, /tsMs must be epoch milliseconds/],
      [{ ...reading(0), quality: 'great' }, /quality must be good, uncertain or bad/],
      [{ ...reading(0), value: Infinity }, /value is not finite/],
      [{ ...reading(0), tag: 'a\nb' }, /line break/],
      [{ ...reading(0), time: 5 }, /key 'time' cannot be stored/],
      [{ ...reading(0), 'a.b': 5 }, /key 'a.b' cannot be stored/],
      [{ ...reading(0), site: 'x' }, /key 'site' cannot be stored/],
    ];
    for (const [payload, re] of bad) {
      expect(() => recordToPoint(payload, { precision: 'ms', extraTags: { site: 'hamburg' } }), JSON.stringify(payload)).to.throw(re);
    }
    expect(() => recordToPoint({ ...reading(0), tag: 7 }, { precision: 'ms' }, 'reading')).to.throw(/tag must be a string/);
    expect(() => recordToPoint({ ...windowRec(1), rank: '1' }, { precision: 'ms' }, 'window')).to.throw(/rank must be a number/);
    expect(() => recordToPoint(reading(0), { precision: 'ms' }, 'bad measurement')).to.throw(/measurement 'bad measurement'/);
  });
});

describe('influx query: history requests', () => {
  it('merges the request over the node defaults and validates it', () => {
    const req = historyRequest({ kind: 'reading', asset: ASSET, fromMs: '2025-12-04T00:00:00Z' }, { toMs: T0 + 1000, limit: '50' });
    expect(req).to.deep.equal({ measurement: 'reading', asset: ASSET, tag: undefined, fromMs: T0, toMs: T0 + 1000, limit: 50 });
    expect(() => historyRequest({ fromMs: 1, toMs: 2 }, {})).to.throw(/measurement \(or kind\) is required/);
    expect(() => historyRequest({ measurement: 'reading', toMs: 2 }, {})).to.throw(/fromMs is required/);
    expect(() => historyRequest({ measurement: 'reading', fromMs: 5, toMs: 2 }, {})).to.throw(/must be after/);
    expect(() => historyRequest({ measurement: 'reading', fromMs: 1, toMs: 2, limit: 0 }, {})).to.throw(/limit must be/);
    expect(() => historyRequest({ measurement: 'x;drop', fromMs: 1, toMs: 2 }, {})).to.throw(/measurement/);
    expect(() => historyRequest({ measurement: 'reading', asset: 5, fromMs: 1, toMs: 2 }, {})).to.throw(/asset must be a string/);
  });

  it("builds InfluxQL with quoted literals, the deployment's tags and the retention policy", () => {
    const q = historyQuery(
      { measurement: 'reading', asset: "it's\\", tag: 't', fromMs: 1000, toMs: 2000.5, limit: 10 },
      { site: 'hh', line: '' },
      'one_year',
    );
    expect(q).to.equal(
      `SELECT * FROM "one_year"."reading" WHERE time >= 1000000u AND time < 2000500u AND "asset" = 'it\\'s\\\\' AND "tag" = 't' AND "site" = 'hh' ORDER BY time ASC LIMIT 10`,
    );
  });

  it('turns a raw answer into records in time order, and an error answer into an error', () => {
    const p1 = recordToPoint(energy, { precision: 'u' });
    const p2 = recordToPoint(energyShift, { precision: 'u' });
    const cols = ['time', ...new Set([...Object.keys(asRow(p1)), ...Object.keys(asRow(p2))])];
    const row = (p: InfluxPoint, t: number) => cols.map((c) => (c === 'time' ? t * 1000 : (asRow(p)[c] ?? null)));
    const raw = {
      results: [
        { statement_id: 0, series: [{ name: 'energy', columns: cols, values: [row(p2, energyShift.tsMs + 1), row(p1, energy.tsMs)] }] },
      ],
    };
    expect(recordsFromRaw('energy', raw)).to.deep.equal([energy, { ...energyShift, tsMs: energyShift.tsMs + 1 }]);
    expect(recordsFromRaw('energy', { results: [{ statement_id: 0 }] })).to.deep.equal([]);
    expect(() => recordsFromRaw('energy', { results: [{ error: 'database not found: x' }] })).to.throw(/database not found/);
  });
});
