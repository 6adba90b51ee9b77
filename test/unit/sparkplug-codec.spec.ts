import { expect } from 'chai';
import {
  encodeSparkplugPayload,
  decodeSparkplugPayload,
  parseSparkplugTopic,
  formatSparkplugTopic,
} from '../../runtime/ingest/sparkplug-codec.js';

describe('Sparkplug B codec', () => {
  it('round-trips a birth payload with names, aliases, units and 64-bit values', () => {
    const buf = encodeSparkplugPayload({
      timestampMs: 1_700_000_000_123,
      seq: 0,
      metrics: [
        { name: 'zone1_temp', alias: 1, type: 'Double', value: 201.5, unit: 'degC' },
        { name: 'parts', alias: 2, type: 'Int64', value: 123456789012 },
        { name: 'running', alias: 3, type: 'Boolean', value: true },
      ],
    });
    const p = decodeSparkplugPayload(buf);
    expect(p.timestampMs).to.equal(1_700_000_000_123);
    expect(p.seq).to.equal(0);
    expect(p.metrics[0]).to.include({ name: 'zone1_temp', alias: 1, value: 201.5, unit: 'degC' });
    expect(p.metrics[1]).to.include({ name: 'parts', value: 123456789012 });
    expect(p.metrics[2]).to.include({ value: true });
  });

  it('rejects bytes that are not a Sparkplug payload with BAD_PAYLOAD', () => {
    expect(() => decodeSparkplugPayload(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])))
      .to.throw()
      .with.property('code', 'BAD_PAYLOAD');
  });

  it('parses and formats topics, and refuses others', () => {
    const t = parseSparkplugTopic('spBv1.0/plant1/DDATA/line1/extruder');
    expect(t).to.deep.equal({ groupId: 'plant1', messageType: 'DDATA', edgeNodeId: 'line1', deviceId: 'extruder' });
    expect(formatSparkplugTopic(t!)).to.equal('spBv1.0/plant1/DDATA/line1/extruder');
    expect(parseSparkplugTopic('spBv1.0/plant1/NBIRTH/line1')).to.deep.equal({
      groupId: 'plant1',
      messageType: 'NBIRTH',
      edgeNodeId: 'line1',
    });
    expect(parseSparkplugTopic('spBv1.0/plant1/FOO/line1')).to.equal(undefined);
    expect(parseSparkplugTopic('acme/line1/temp')).to.equal(undefined);
  });
});
