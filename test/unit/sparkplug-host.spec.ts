import { expect } from 'chai';
import { SparkplugHost, rebirthPayload, REBIRTH_METRIC } from '../../runtime/ingest/sparkplug-host.js';
import { parseSparkplugTopic, type SparkplugPayload } from '../../runtime/ingest/sparkplug-codec.js';

const NOW = 1_700_000_000_000;
const T = (s: string) => parseSparkplugTopic(s)!;
const host = () =>
  new SparkplugHost({
    assetFor: (g, e, d) => ['uns', g, e, ...(d ? [d] : [])].join('/'),
    maxFutureMs: 5000,
    rebirthHoldOffMs: 1000,
  });
const nbirth = (bdSeq = 0): SparkplugPayload => ({
  timestampMs: NOW,
  seq: 0,
  metrics: [
    { name: 'bdSeq', type: 'Int64', value: bdSeq },
    { name: REBIRTH_METRIC, type: 'Boolean', value: false },
    { name: 'uptime_s', alias: 100, type: 'Double', value: 5, unit: 's' },
  ],
});
const dbirth = (seq: number): SparkplugPayload => ({
  timestampMs: NOW,
  seq,
  metrics: [
    { name: 'zone1_temp', alias: 1, type: 'Double', value: 200, unit: 'degC' },
    { name: 'alarm', alias: 2, type: 'Boolean', value: false },
    { name: 'recipe', alias: 3, type: 'String', value: 'PP-7' },
  ],
});
const born = () => {
  const h = host();
  h.step(T('spBv1.0/plant1/NBIRTH/line1'), nbirth(), NOW);
  h.step(T('spBv1.0/plant1/DBIRTH/line1/extruder'), dbirth(1), NOW);
  return h;
};

describe('Sparkplug B host state machine', () => {
  it('emits birth values as good readings with units, skipping control and string metrics', () => {
    const h = host();
    const r1 = h.step(T('spBv1.0/plant1/NBIRTH/line1'), nbirth(), NOW);
    expect(r1.readings.map((r) => [r.asset, r.tag, r.value, r.unit])).to.deep.equal([['uns/plant1/line1', 'uptime_s', 5, 's']]);
    const r2 = h.step(T('spBv1.0/plant1/DBIRTH/line1/extruder'), dbirth(1), NOW);
    expect(r2.readings.map((r) => [r.asset, r.tag, r.value, r.quality, r.source])).to.deep.equal([
      ['uns/plant1/line1/extruder', 'zone1_temp', 200, 'good', 'sparkplug'],
      ['uns/plant1/line1/extruder', 'alarm', 0, 'good', 'sparkplug'],
    ]);
    expect(r2.errors).to.deep.equal([]);
  });

  it('resolves DDATA aliases and metric timestamps', () => {
    const h = born();
    const r = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      {
        timestampMs: NOW,
        seq: 2,
        metrics: [
          { alias: 1, type: 'Double', value: 201.5, timestampMs: NOW - 50 },
          { alias: 2, type: 'Boolean', value: true },
          { alias: 3, type: 'String', value: 'x' },
        ],
      },
      NOW,
    );
    expect(r.readings.map((x) => [x.tag, x.value, x.tsMs, x.unit ?? null])).to.deep.equal([
      ['zone1_temp', 201.5, NOW - 50, 'degC'],
      ['alarm', 1, NOW, null],
    ]);
    expect(r.actions).to.deep.equal([]);
  });

  it('an unknown alias is an error and asks for a rebirth (held off for repeats)', () => {
    const h = born();
    const r = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      {
        seq: 2,
        metrics: [
          { alias: 99, type: 'Double', value: 1 },
          { alias: 1, type: 'Double', value: 2 },
        ],
      },
      NOW,
    );
    expect(r.errors.map((e) => e.code)).to.deep.equal(['UNKNOWN_ALIAS']);
    expect(r.errors[0].message).to.match(/alias 99/);
    expect(r.readings.map((x) => x.value)).to.deep.equal([2]);
    expect(r.actions).to.deep.equal([
      { type: 'rebirth', groupId: 'plant1', edgeNodeId: 'line1', topic: 'spBv1.0/plant1/NCMD/line1', reason: 'unknown alias 99' },
    ]);
    const again = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      { seq: 3, metrics: [{ alias: 99, type: 'Double', value: 1 }] },
      NOW + 10,
    );
    expect(again.errors).to.have.length(1);
    expect(again.actions).to.deep.equal([]);
    const later = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      { seq: 4, metrics: [{ alias: 99, type: 'Double', value: 1 }] },
      NOW + 2000,
    );
    expect(later.actions).to.have.length(1);
  });

  it('wraps seq 255 → 0 without complaint and answers a gap with a rebirth', () => {
    const h = born();
    let seq = 2;
    for (let i = 0; i < 300; i++) {
      const r = h.step(
        T('spBv1.0/plant1/DDATA/line1/extruder'),
        { seq: seq % 256, metrics: [{ alias: 1, type: 'Double', value: i }] },
        NOW,
      );
      expect(r.errors, `at seq ${seq % 256}`).to.deep.equal([]);
      seq++;
    }
    const gap = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      { seq: (seq + 3) % 256, metrics: [{ alias: 1, type: 'Double', value: 7 }] },
      NOW,
    );
    expect(gap.errors[0].message).to.match(/sequence gap/);
    expect(gap.actions.map((a) => a.topic)).to.deep.equal(['spBv1.0/plant1/NCMD/line1']);
    expect(gap.readings.map((x) => x.value)).to.deep.equal([7]);
  });

  it('NDEATH turns every known tag of the node and its devices bad, keeping the last value', () => {
    const h = born();
    h.step(T('spBv1.0/plant1/DDATA/line1/extruder'), { seq: 2, metrics: [{ alias: 1, type: 'Double', value: 205 }] }, NOW);
    const d = h.step(T('spBv1.0/plant1/NDEATH/line1'), { metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] }, NOW + 5);
    expect(d.readings.map((r) => [r.asset, r.tag, r.value, r.quality, r.qualityReason, r.tsMs])).to.deep.equal([
      ['uns/plant1/line1', 'uptime_s', 5, 'bad', 'NDEATH', NOW + 5],
      ['uns/plant1/line1/extruder', 'zone1_temp', 205, 'bad', 'NDEATH', NOW + 5],
      ['uns/plant1/line1/extruder', 'alarm', 0, 'bad', 'NDEATH', NOW + 5],
    ]);
    // data after death (no new birth) asks for a rebirth
    const r = h.step(T('spBv1.0/plant1/DDATA/line1/extruder'), { seq: 3, metrics: [{ alias: 1, type: 'Double', value: 1 }] }, NOW + 6);
    expect(r.readings).to.deep.equal([]);
    expect(r.actions).to.have.length(1);
  });

  it('ignores an NDEATH whose bdSeq belongs to an older session', () => {
    const h = host();
    h.step(T('spBv1.0/plant1/NBIRTH/line1'), nbirth(4), NOW);
    expect(h.step(T('spBv1.0/plant1/NDEATH/line1'), { metrics: [{ name: 'bdSeq', type: 'Int64', value: 3 }] }, NOW).readings).to.deep.equal(
      [],
    );
    expect(
      h.step(T('spBv1.0/plant1/NDEATH/line1'), { metrics: [{ name: 'bdSeq', type: 'Int64', value: 4 }] }, NOW).readings,
    ).to.have.length(1);
  });

  it('DDEATH turns only that device bad; null metrics are bad readings', () => {
    const h = born();
    const n = h.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      { seq: 2, metrics: [{ alias: 1, type: 'Double', value: null, isNull: true }] },
      NOW,
    );
    expect(n.readings[0]).to.include({ tag: 'zone1_temp', quality: 'bad', qualityReason: 'null value', value: 200 });
    const d = h.step(T('spBv1.0/plant1/DDEATH/line1/extruder'), { seq: 3, metrics: [] }, NOW);
    expect(d.readings.map((r) => [r.asset, r.tag, r.quality])).to.deep.equal([
      ['uns/plant1/line1/extruder', 'zone1_temp', 'bad'],
      ['uns/plant1/line1/extruder', 'alarm', 'bad'],
    ]);
    expect(d.errors).to.deep.equal([]);
  });

  it('data from a node never born asks for a rebirth; future timestamps are refused per metric', () => {
    const h = host();
    const r = h.step(T('spBv1.0/g/NDATA/e'), { seq: 5, metrics: [{ alias: 1, type: 'Double', value: 1 }] }, NOW);
    expect(r.errors[0].code).to.equal('UNKNOWN_ALIAS');
    expect(r.actions[0].topic).to.equal('spBv1.0/g/NCMD/e');
    const b = born();
    const f = b.step(
      T('spBv1.0/plant1/DDATA/line1/extruder'),
      {
        seq: 2,
        metrics: [
          { alias: 1, type: 'Double', value: 1, timestampMs: NOW + 60_000 },
          { alias: 2, type: 'Boolean', value: true },
        ],
      },
      NOW,
    );
    expect(f.errors.map((e) => e.code)).to.deep.equal(['BAD_TIMESTAMP']);
    expect(f.readings.map((x) => x.tag)).to.deep.equal(['alarm']);
  });

  it('builds the rebirth command payload', () => {
    expect(rebirthPayload(NOW).metrics).to.deep.equal([{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }]);
  });
});
