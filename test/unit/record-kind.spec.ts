import { expect } from 'chai';
import { recordKind, recordPath } from '../../runtime/model/record-kind.js';
import { outTopic, validateOutConfig } from '../../runtime/ingest/mqtt-out-topic.js';

const reading = { asset: 'a/b', tag: 't1', value: 1, tsMs: 1, quality: 'good', source: 'opcua' };
const estimate = { asset: 'a/b', tag: 't1', value: 1.1, variance: 0.2, tsMs: 1, model: 'kalman/local-level', quality: 'good' };
const drift = { asset: 'a/b', tag: 't1', tsMs: 5, startTsMs: 2, kind: 'sensor-fault', method: 'adwin', direction: 'up', magnitude: 3, evidence: {}, quality: 'good' };
const score = { asset: 'a/b', tag: 't1', tsMs: 5, method: 'adwin', score: 0.4, quality: 'good' };

describe('model: record kinds told by shape', () => {
  it('tells readings, estimates, drift events and scores apart', () => {
    expect(recordKind(reading)).to.equal('reading');
    expect(recordKind(estimate)).to.equal('estimate');
    expect(recordKind(drift)).to.equal('drift');
    expect(recordKind(score)).to.equal('score');
    expect(recordKind({ asset: 'a' })).to.equal(undefined);
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
