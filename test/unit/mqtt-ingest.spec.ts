import { expect } from 'chai';
import { MqttIngest } from '../../runtime/ingest/mqtt-ingest.js';
import { encodeSparkplugPayload, decodeSparkplugPayload } from '../../runtime/ingest/sparkplug-codec.js';

const NOW = 1_700_000_000_000;
const buf = (s: string) => Buffer.from(s);

describe('MQTT ingestion step (MqttIngest)', () => {
  it('maps, decodes and applies the configured unit when the payload has none', () => {
    const ing = new MqttIngest({ mode: 'json', pattern: 'uns/{asset+}/{tag}', unit: 'degC' });
    expect(ing.filter).to.equal('uns/#');
    const r = ing.process('uns/a/b/t1', buf(JSON.stringify({ value: 3, tsMs: NOW })), undefined, NOW);
    expect(r.readings).to.deep.equal([{ asset: 'a/b', tag: 't1', value: 3, unit: 'degC', tsMs: NOW, quality: 'good', source: 'mqtt' }]);
    const r2 = ing.process('uns/a/b/t1', buf(JSON.stringify({ value: 3, tsMs: NOW, unit: 'K' })), undefined, NOW);
    expect(r2.readings[0].unit).to.equal('K');
  });

  it('turns bad input into errors, never throws, and goes on', () => {
    const ing = new MqttIngest({ mode: 'json', maxPayloadBytes: 100 });
    const cases: Array<[string, Buffer, string]> = [
      ['x/t', buf('{oops'), 'BAD_JSON'],
      ['x/t', Buffer.alloc(101, 0x31), 'PAYLOAD_TOO_LARGE'],
      ['lonely', buf('{"value":1}'), 'UNMAPPED_TOPIC'],
    ];
    for (const [topic, p, code] of cases) {
      const r = ing.process(topic, p, undefined, NOW);
      expect(
        r.errors.map((e) => e.code),
        code,
      ).to.deep.equal([code]);
      expect(r.readings).to.deep.equal([]);
    }
    expect(ing.process('x/t', buf(JSON.stringify({ value: 1, tsMs: NOW })), undefined, NOW).readings).to.have.length(1);
  });

  it('drops outbox repeats before anything else', () => {
    const ing = new MqttIngest({ mode: 'number' });
    const props = { 'twinloop-src': 's', 'twinloop-seq': '1' };
    expect(ing.process('a/t', buf('1'), props, NOW)).to.include({ duplicate: false });
    const again = ing.process('a/t', buf('1'), props, NOW);
    expect(again.duplicate).to.equal(true);
    expect(again.readings).to.deep.equal([]);
  });

  it('Sparkplug mode: filter per group, node metrics without the device level, rebirth with its NCMD payload', () => {
    const ing = new MqttIngest({ mode: 'sparkplug', sparkplugGroup: 'plant1', assetTemplate: 'acme/{group}/{edge}/{device}' });
    expect(ing.filter).to.equal('spBv1.0/plant1/#');
    const birth = ing.process(
      'spBv1.0/plant1/NBIRTH/line1',
      encodeSparkplugPayload({
        seq: 0,
        timestampMs: NOW,
        metrics: [
          { name: 'bdSeq', type: 'Int64', value: 0 },
          { name: 'temp', alias: 1, type: 'Float', value: 20 },
        ],
      }),
      undefined,
      NOW,
    );
    expect(birth.readings.map((r) => r.asset)).to.deep.equal(['acme/plant1/line1']);
    const bad = ing.process(
      'spBv1.0/plant1/NDATA/line1',
      encodeSparkplugPayload({ seq: 1, metrics: [{ alias: 9, type: 'Float', value: 1 }] }),
      undefined,
      NOW,
    );
    expect(bad.errors[0].code).to.equal('UNKNOWN_ALIAS');
    expect(bad.actions[0].topic).to.equal('spBv1.0/plant1/NCMD/line1');
    expect(decodeSparkplugPayload(bad.actions[0].payload).metrics[0]).to.include({ name: 'Node Control/Rebirth', value: true });
    expect(ing.process('spBv1.0/STATE/host1', buf('ONLINE'), undefined, NOW)).to.deep.include({ readings: [], errors: [] });
  });

  it('refuses bad config with BAD_CONFIG', () => {
    for (const cfg of [
      { mode: 'xml' },
      { qos: 3 },
      { mode: 'sparkplug', sparkplugGroup: 'a+' },
      { mode: 'sparkplug', rebirthHoldOffMs: -1 },
      { pattern: '#/x' },
      { maxPayloadBytes: 0 },
    ]) {
      expect(() => new MqttIngest(cfg), JSON.stringify(cfg))
        .to.throw()
        .with.property('code', 'BAD_CONFIG');
    }
  });
});
