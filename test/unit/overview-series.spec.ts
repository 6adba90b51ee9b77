import { expect } from 'chai';
import { OverviewStore, validateOverviewOptions, type SeriesDelta } from '../../runtime/overview/series-store.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { Quality } from '../../runtime/model/quality.js';

const A = 'p/line1/extruder';
const reading = (tag: string, value: number, tsMs: number, quality: Quality = 'good') => ({
  asset: A,
  tag,
  value,
  unit: 'degC',
  tsMs,
  quality,
  source: 'test',
});
const estimate = (tag: string, value: number, variance: number, tsMs: number) => ({
  asset: A,
  tag,
  value,
  variance,
  tsMs,
  model: 'kalman/first-order',
  quality: 'good',
});
const rul = (rulMs: number, tsMs: number) => ({
  asset: A,
  tsMs,
  rulMs,
  rulP10Ms: rulMs * 0.6,
  rulP90Ms: rulMs * 1.3,
  healthIndex: 0.5,
  quality: 'good',
});
const win = (rank: number, tsMs: number) => ({
  asset: A,
  tsMs,
  rank,
  startMs: tsMs + rank * 3_600_000,
  endMs: tsMs + rank * 3_600_000 + 21_600_000,
  startLocal: '2026-12-05T06:00:00+01:00',
  endLocal: '2026-12-05T12:00:00+01:00',
  timeZone: 'Europe/Berlin',
  expectedCostEur: 4000 + rank,
  costParts: { jobEur: 4000, downtimeEur: 0, expectedFailureEur: rank, energyEur: 0 },
  failureProbability: 0.01,
  productionLossMinutes: 0,
  why: 'planned stop',
  quality: 'good',
});
const cost = (startMs: number, costEur: number) => ({
  asset: A,
  tsMs: startMs + 900_000,
  scope: 'interval',
  startMs,
  endMs: startMs + 900_000,
  energyKwh: 10,
  costEur,
  energyKwhByPeriod: { peak: 10 },
  co2Kg: 3.8,
  gapMs: 0,
  quality: 'good',
});
const demand = (tsMs: number, forecastKw: number) => ({
  asset: A,
  tsMs,
  blockStartMs: 0,
  blockEndMs: 900_000,
  averageKwSoFar: 40,
  forecastKw,
  billingPeakKw: 45,
  alert: forecastKw > 45,
  shedKw: 0,
  quality: 'good',
});
const drift = (tag: string, tsMs: number) => ({
  asset: A,
  tag,
  tsMs,
  startTsMs: tsMs - 1000,
  kind: 'sensor-fault',
  method: 'adwin',
  direction: 'up',
  magnitude: 2,
  evidence: {},
  quality: 'good',
});

const seriesOf = (s: OverviewStore, key: string): SeriesDelta | undefined => s.changes(0).series.find((x) => x.key === key);

describe('overview: bounded, thinned series', () => {
  it('keeps min, max and the newest value per bucket, and never more buckets than configured', () => {
    const s = new OverviewStore({ windowMs: 600_000, pointsPerSeries: 60 }); // 10 s buckets
    for (let i = 0; i < 36_000; i++) s.add(reading('zone1_temp', 200 + (i % 7), 1_000_000 + i * 100)); // 1 h at 10 Hz
    const z = seriesOf(s, `reading|${A}|zone1_temp`)!;
    expect(z.points.length).to.be.at.most(60);
    expect(z.points.length).to.be.at.least(59);
    expect(z.bucketMs).to.equal(10_000);
    const last = z.points.at(-1)!;
    expect(last.tsMs).to.equal(Math.floor((1_000_000 + 35_999 * 100) / 10_000) * 10_000);
    expect(last.last).to.equal(200 + (35_999 % 7));
    const full = z.points[z.points.length - 2];
    expect(full).to.include({ n: 100, min: 200, max: 206 });
    expect(z.fromTsMs).to.equal(last.tsMs - 600_000 + 10_000);
    expect(z.points[0].tsMs).to.be.at.least(z.fromTsMs);
    expect(z.unit).to.equal('degC');
  });

  it('merges a late record into its bucket, refuses one before the window, and keeps the worst quality', () => {
    const s = new OverviewStore({ windowMs: 60_000, pointsPerSeries: 6 });
    expect(s.add(reading('t', 1, 50_000))).to.equal('stored');
    expect(s.add(reading('t', 5, 31_000))).to.equal('stored'); // before the first bucket, inside the window
    expect(s.add(reading('t', 9, 52_000, 'uncertain'))).to.equal('stored');
    expect(s.add(reading('t', 3, 51_000))).to.equal('stored'); // late, into the 50 s bucket
    const pts = seriesOf(s, `reading|${A}|t`)!.points;
    expect(pts.map((p) => p.tsMs)).to.deep.equal([30_000, 50_000]);
    expect(pts[1]).to.include({ n: 3, min: 1, max: 9, last: 9, lastTsMs: 52_000, quality: 'uncertain' });
    expect(s.add(reading('t', 4, 130_000))).to.equal('stored');
    expect(seriesOf(s, `reading|${A}|t`)!.points.map((p) => p.tsMs)).to.deep.equal([130_000]);
    expect(s.add(reading('t', 4, 70_000))).to.equal('old');
    expect(s.add(reading('t', 4, 80_000))).to.equal('stored');
  });

  it('gives estimates their ±2σ band and RUL its P10–P90 interval, widest in a bucket', () => {
    const s = new OverviewStore({ windowMs: 60_000, pointsPerSeries: 6 });
    s.add(estimate('zone1_temp', 200, 4, 1000)); // σ = 2
    s.add(estimate('zone1_temp', 201, 1, 2000)); // σ = 1
    const e = seriesOf(s, `estimate|${A}|zone1_temp`)!.points[0];
    expect(e).to.include({ lo: 196, hi: 204, last: 201, min: 200, max: 201 });
    s.add(rul(864_000_000, 5000));
    const r = seriesOf(s, `rul|${A}|`)!;
    expect(r.points[0]).to.include({ last: 864_000_000, lo: 864_000_000 * 0.6, hi: 864_000_000 * 1.3 });
    expect(() => s.add(estimate('x', 1, -1, 1))).to.throw(TwinError, /variance/);
  });

  it('answers only what changed since a cursor, and says where each series now starts', () => {
    const s = new OverviewStore({ windowMs: 60_000, pointsPerSeries: 6 });
    s.add(reading('a', 1, 1000));
    s.add(reading('b', 1, 1000));
    s.add(win(1, 1000));
    const cursor = s.changes(0).rev;
    expect(s.changes(cursor)).to.deep.include({ rev: cursor, series: [], assets: [] });
    s.add(reading('a', 2, 25_000));
    const d = s.changes(cursor);
    expect(d.series.map((x) => x.key)).to.deep.equal([`reading|${A}|a`]);
    expect(d.series[0].points.map((p) => p.tsMs)).to.deep.equal([20_000]);
    expect(d.assets).to.deep.equal([]);
    expect(d.drift).to.equal(undefined);
    expect(d.rev).to.be.above(cursor);
  });

  it('keeps the newest ranking of windows per asset, by rank; an older ranking is refused', () => {
    const s = new OverviewStore();
    for (const r of [2, 1, 3]) s.add(win(r, 1000));
    expect(s.changes(0).assets[0].windows!.map((w) => w.rank)).to.deep.equal([1, 2, 3]);
    s.add(win(1, 2000));
    expect(s.changes(0).assets[0].windows!.map((w) => [w.rank, w.tsMs])).to.deep.equal([[1, 2000]]);
    expect(s.add(win(2, 1000))).to.equal('old');
    expect(() => s.add({ ...win(1, 3000), rank: 0 })).to.throw(TwinError, /rank/);
  });

  it('keeps energy costs by end time (a redelivered interval replaces its record), bounded; the newest demand block', () => {
    const s = new OverviewStore({ maxEvents: 3 });
    for (const start of [0, 900_000, 1_800_000, 2_700_000]) s.add(cost(start, start / 900_000));
    s.add(cost(900_000, 7));
    const e = s.changes(0).assets[0].energy!;
    expect(e.map((c) => [c.startMs, c.costEur])).to.deep.equal([
      [900_000, 7],
      [1_800_000, 2],
      [2_700_000, 3],
    ]);
    s.add(demand(2000, 50));
    expect(s.add(demand(1000, 30))).to.equal('old');
    expect(s.changes(0).assets[0].demand).to.include({ forecastKw: 50, alert: true });
  });

  it('keeps the newest drift events, once each', () => {
    const s = new OverviewStore({ maxEvents: 2 });
    s.add(drift('a', 3000));
    s.add(drift('a', 3000));
    s.add(drift('b', 1000));
    expect(s.add(drift('c', 500))).to.equal('old');
    s.add(drift('c', 5000));
    expect(s.changes(0).drift!.map((d) => [d.tag, d.tsMs])).to.deep.equal([
      ['a', 3000],
      ['c', 5000],
    ]);
  });

  it('ignores objects of other kinds, refuses what is not a record, and bounds the number of series', () => {
    const s = new OverviewStore({ maxSeries: 2 });
    expect(s.add({ hello: 'world' })).to.equal('ignored');
    expect(s.add({ asset: A, tag: 't', tsMs: 1, method: 'adwin', score: 0.3, quality: 'good' })).to.equal('ignored');
    expect(() => s.add(42)).to.throw(TwinError, /a number, not a TwinLoop record/);
    expect(() => s.add(null)).to.throw(TwinError, /null/);
    expect(() => s.add([win(1, 1)])).to.throw(TwinError, /array of 1.*split it first/);
    expect(() => s.add({ ...reading('t', 1, 1), tsMs: 'yesterday' })).to.throw(TwinError, /tsMs/);
    expect(() => s.add({ ...reading('t', 1, 1), asset: '' })).to.throw(TwinError, /asset/);
    s.add(reading('a', 1, 1));
    s.add(reading('b', 1, 1));
    expect(() => s.add(reading('c', 1, 1))).to.throw(TwinError, /at most 2 series/);
    expect(s.add(reading('a', 2, 2))).to.equal('stored');
    expect(s.seriesCount).to.equal(2);
  });

  it('validates its options', () => {
    expect(validateOverviewOptions({})).to.deep.equal({ windowMs: 3_600_000, pointsPerSeries: 240, maxSeries: 500, maxEvents: 100 });
    expect(() => validateOverviewOptions({ windowMs: 10 })).to.throw(TwinError, /windowMs/);
    expect(() => validateOverviewOptions({ pointsPerSeries: 2.5 })).to.throw(TwinError, /pointsPerSeries/);
  });
});
