import { expect } from 'chai';
import {
  decodeMqttPayload,
  validateMqttPayloadConfig,
  DEFAULT_MQTT_PAYLOAD_CONFIG,
  type MqttPayloadConfig,
} from '../../runtime/ingest/mqtt-payload.js';

const NOW = 1_700_000_000_000;
const at = { asset: 'plant/line1/extruder', tag: 'zone1_temp' };
const cfg = (over: Partial<MqttPayloadConfig> = {}): MqttPayloadConfig => ({ ...DEFAULT_MQTT_PAYLOAD_CONFIG, ...over });
const dec = (c: MqttPayloadConfig, p: string | Buffer, where: { asset: string; tag?: string } = at) => decodeMqttPayload(c, p, where, NOW);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('MQTT payload decoding', () => {
  it('decodes a plain number with receive time and good quality', () => {
    const { readings } = dec(cfg({ mode: 'number' }), Buffer.from(' 201.5\n'));
    expect(readings).to.deep.equal([{ ...at, value: 201.5, tsMs: NOW, quality: 'good', source: 'mqtt' }]);
  });

  it('refuses non-numeric, NaN and Infinity plain numbers', () => {
    expect(codeOf(() => dec(cfg({ mode: 'number' }), 'hot'))).to.equal('NOT_NUMERIC');
    expect(codeOf(() => dec(cfg({ mode: 'number' }), ''))).to.equal('NOT_NUMERIC');
    expect(codeOf(() => dec(cfg({ mode: 'number' }), 'NaN'))).to.equal('NOT_FINITE');
    expect(codeOf(() => dec(cfg({ mode: 'number' }), '-Infinity'))).to.equal('NOT_FINITE');
    expect(codeOf(() => dec(cfg({ mode: 'number' }), '1e999'))).to.equal('NOT_FINITE');
  });

  it('decodes the simulator contract JSON reading', () => {
    const { readings } = dec(cfg(), JSON.stringify({ value: 201.3, tsMs: NOW - 10, quality: 'good', unit: 'degC' }));
    expect(readings[0]).to.deep.equal({ ...at, value: 201.3, unit: 'degC', tsMs: NOW - 10, quality: 'good', source: 'mqtt' });
  });

  it('reads configured nested field paths, ISO timestamps and OPC quality codes', () => {
    const c = cfg({ valuePath: 'd.v', timestampPath: 'd.t', qualityPath: 'q', unitPath: '' });
    const { readings } = dec(c, JSON.stringify({ d: { v: '7.5', t: new Date(NOW - 1000).toISOString() }, q: 0x40, unit: 'x' }));
    expect(readings[0]).to.include({ value: 7.5, tsMs: NOW - 1000, quality: 'uncertain' });
    expect(readings[0]).not.to.have.property('unit');
  });

  it('a missing timestamp becomes receive time and uncertain "no timestamp"', () => {
    const { readings } = dec(cfg(), '{"value": 1}');
    expect(readings[0]).to.include({ tsMs: NOW, quality: 'uncertain', qualityReason: 'no timestamp' });
    // no timestamp field configured: receive time and quality unchanged
    const r2 = dec(cfg({ timestampPath: '' }), '{"value": 1}').readings[0];
    expect(r2).to.include({ tsMs: NOW, quality: 'good' });
  });

  it('refuses a timestamp further in the future than maxFutureMs, unless disabled', () => {
    const p = JSON.stringify({ value: 1, tsMs: NOW + 60_000 });
    expect(codeOf(() => dec(cfg(), p))).to.equal('BAD_TIMESTAMP');
    expect(dec(cfg({ maxFutureMs: 0 }), p).readings[0].tsMs).to.equal(NOW + 60_000);
    expect(codeOf(() => dec(cfg(), '{"value":1,"tsMs":"yesterday-ish"}'))).to.equal('BAD_TIMESTAMP');
  });

  it('passes out-of-order readings on unchanged (screening flags them)', () => {
    const a = dec(cfg(), JSON.stringify({ value: 1, tsMs: NOW - 10 })).readings[0];
    const b = dec(cfg(), JSON.stringify({ value: 2, tsMs: NOW - 5000 })).readings[0];
    expect([a.tsMs, b.tsMs]).to.deep.equal([NOW - 10, NOW - 5000]);
    expect(b.quality).to.equal('good');
  });

  it('malformed JSON, non-numeric, NaN-like and missing values get specific codes', () => {
    expect(codeOf(() => dec(cfg(), '{"value": 1'))).to.equal('BAD_JSON');
    expect(codeOf(() => dec(cfg(), '{"value": "warm", "tsMs": 1}'))).to.equal('NOT_NUMERIC');
    expect(codeOf(() => dec(cfg(), '{"value": {"x":1}, "tsMs": 1}'))).to.equal('NOT_NUMERIC');
    expect(codeOf(() => dec(cfg(), '{"tsMs": 1}'))).to.equal('NOT_NUMERIC');
    expect(codeOf(() => dec(cfg(), '{"value": 1e999, "tsMs": 1}'))).to.equal('NOT_FINITE');
  });

  it('a bad-quality dropout without value becomes a bad reading', () => {
    const r = dec(cfg(), JSON.stringify({ value: null, tsMs: NOW, quality: 'bad' })).readings[0];
    expect(r).to.include({ quality: 'bad', qualityReason: 'no value', value: 0 });
  });

  it('an unknown quality word makes the reading uncertain, never good', () => {
    const r = dec(cfg(), JSON.stringify({ value: 3, tsMs: NOW, quality: 'meh' })).readings[0];
    expect(r.quality).to.equal('uncertain');
    expect(r.qualityReason).to.match(/unknown quality/);
  });

  it('refuses a payload over maxPayloadBytes before parsing it', () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x7b); // 10 MiB of '{' (would be BAD_JSON if parsed)
    expect(codeOf(() => dec(cfg(), big))).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('decodes a JSON object of tags with a shared timestamp, keeping good tags beside a bad one', () => {
    const c = cfg({ mode: 'json-object' });
    const { readings, errors } = dec(
      c,
      JSON.stringify({ tsMs: NOW - 1, zone1_temp: 200, zone2_temp: { value: 210, quality: 'bad' }, mode: 'AUTO' }),
      { asset: 'a' },
    );
    expect(readings.map((r) => [r.tag, r.value, r.quality, r.tsMs])).to.deep.equal([
      ['zone1_temp', 200, 'good', NOW - 1],
      ['zone2_temp', 210, 'bad', NOW - 1],
    ]);
    expect(errors).to.have.length(1);
    expect(errors[0].code).to.equal('NOT_NUMERIC');
    expect(errors[0].message).to.match(/tag mode/);
    expect(codeOf(() => dec(c, '[1,2]', { asset: 'a' }))).to.equal('BAD_PAYLOAD');
    expect(codeOf(() => dec(c, '{"tsMs": 5}', { asset: 'a' }))).to.equal('BAD_PAYLOAD');
  });

  it('validates its config', () => {
    expect(() => validateMqttPayloadConfig(cfg())).not.to.throw();
    expect(codeOf(() => validateMqttPayloadConfig(cfg({ mode: 'xml' as never })))).to.equal('BAD_CONFIG');
    expect(codeOf(() => validateMqttPayloadConfig(cfg({ valuePath: 'a..b' })))).to.equal('BAD_CONFIG');
    expect(codeOf(() => validateMqttPayloadConfig(cfg({ maxFutureMs: -1 })))).to.equal('BAD_CONFIG');
    expect(codeOf(() => validateMqttPayloadConfig(cfg({ maxPayloadBytes: 0 })))).to.equal('BAD_CONFIG');
  });
});
