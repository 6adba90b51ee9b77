import { expect } from 'chai';
import { recordKind, recordPath } from '../../runtime/model/record-kind.js';
import { outTopic, validateOutConfig } from '../../runtime/ingest/mqtt-out-topic.js';

const reading = { asset: 'a/b', tag: 't1', value: 1, tsMs: 1, quality: 'good', source: 'opcua' };
const estimate = { asset: 'a/b', tag: 't1', value: 1.1, variance: 0.2, tsMs: 1, model: 'kalman/local-level', quality: 'good' };
const drift = {
  asset: 'a/b',
  tag: 't1',
  tsMs: 5,
  startTsMs: 2,
  kind: 'sensor-fault',
  method: 'adwin',
  direction: 'up',
  magnitude: 3,
  evidence: {},
  quality: 'good',
};
const score = { asset: 'a/b', tag: 't1', tsMs: 5, method: 'adwin', score: 0.4, quality: 'good' };

describe('model: record kinds told by shape', () => {
  it('tells readings, estimates, drift events and scores apart', () => {
    expect(recordKind(reading)).to.equal('reading');
    expect(recordKind(estimate)).to.equal('estimate');
    expect(recordKind(drift)).to.equal('drift');
    expect(recordKind(score)).to.equal('score');
    expect(recordKind({ asset: 'a' })).to.equal(undefined);
    expect(recordKind({ asset: 'a', tsMs: 1, rulMs: 5, rulP10Ms: 1, rulP90Ms: 9, healthIndex: 0.4, quality: 'good' })).to.equal('rul');
    expect(
      recordKind({ asset: 'a', tsMs: 1, rank: 1, startMs: 2, endMs: 3, startLocal: '2026-01-01T00:00+01:00', quality: 'good' }),
    ).to.equal('window');
    expect(recordKind({ asset: 'a', tsMs: 1, scope: 'interval', energyKwh: 2, costEur: 0.4, quality: 'good' })).to.equal('energy');
    expect(recordKind({ asset: 'a', tsMs: 1, blockStartMs: 0, forecastKw: 12, quality: 'good' })).to.equal('demand');
    expect(recordKind({ asset: 'a', tsMs: 1, expectedKwh: 3, cusumKwh: -1, quality: 'good' })).to.equal('baseline');
    expect(recordPath(estimate)).to.equal('estimate/t1');
  });

  it('gives each kind its own twin-mqtt-out topic, so estimates never land on the readings topic', () => {
    const cfg = validateOutConfig({ prefix: 'uns' });
    expect(outTopic(cfg, reading)).to.equal('uns/a/b/twin/reading/t1');
    expect(outTopic(cfg, estimate)).to.equal('uns/a/b/twin/estimate/t1');
    expect(outTopic(cfg, drift)).to.equal('uns/a/b/twin/drift/t1');
    expect(outTopic(cfg, score)).to.equal('uns/a/b/twin/score/t1');
    expect(outTopic(cfg, { asset: 'a/b', kind: 'maintenance' })).to.equal('uns/a/b/twin/maintenance');
  });
});
