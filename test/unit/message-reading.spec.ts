import { expect } from 'chai';
import { StatusCodes } from 'node-opcua';
import {
  parseJsonText,
  qualityOfField,
  readingFromFields,
  validateMessageReadingConfig,
  DEFAULT_MESSAGE_READING_CONFIG,
  type MessageFields,
  type MessageReadingConfig,
} from '../../runtime/ingest/message-reading.js';

const NOW = 1_700_000_000_000;
const cfg = (over: Partial<MessageReadingConfig> = {}): MessageReadingConfig => ({ ...DEFAULT_MESSAGE_READING_CONFIG, ...over });
const at = { asset: 'plant/line1/extruder', tag: 'zone1_temp' };
const read = (f: Partial<MessageFields>, c = cfg()) => readingFromFields(c, { ...at, value: undefined, time: NOW - 1000, ...f }, NOW);
const errorOf = (fn: () => unknown): { code?: string; message: string } | undefined => {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  return undefined;
};

describe('message → Reading (twin-reading)', () => {
  it('takes a number, numeric text, a boolean as 0/1, JSON text with a value field and a Buffer', () => {
    expect(read({ value: 21.5 })).to.deep.equal({ ...at, value: 21.5, tsMs: NOW - 1000, quality: 'good', source: 'node-red' });
    expect(read({ value: ' 12.5\n' }).value).to.equal(12.5);
    expect(read({ value: true }).value).to.equal(1);
    expect(read({ value: 'false' }).value).to.equal(0);
    expect(read({ value: '{"value": 7, "unit": "bar"}' }).value).to.equal(7);
    expect(read({ value: Buffer.from('42') }).value).to.equal(42);
    expect(read({ value: Buffer.from('[3]') }).value).to.equal(3);
  });

  it('picks an element of an array (Modbus registers); a longer array without an element is an error', () => {
    expect(read({ value: [100, 200, 300] }, cfg({ element: 2 })).value).to.equal(300);
    expect(read({ value: [17] }).value).to.equal(17);
    const e = errorOf(() => read({ value: [1, 2] }));
    expect([e?.code, e?.message]).to.deep.equal(['NOT_NUMERIC', 'value is an array of 2: set Element to pick one']);
    expect(errorOf(() => read({ value: [1, 2] }, cfg({ element: 5 })))?.message).to.equal('value is an array of 2: no element 5');
  });

  it('refuses what is not a number, naming the field and where it came from', () => {
    const origins = { value: 'msg.payload', tag: 'msg.topic', asset: 'flow.asset' };
    const e1 = errorOf(() => readingFromFields(cfg(), { ...at, value: 'hot', time: NOW }, NOW, origins));
    expect([e1?.code, e1?.message]).to.deep.equal(['NOT_NUMERIC', 'value (msg.payload) is not numeric: "hot"']);
    expect(errorOf(() => read({ value: { temp: 3 } }))?.code).to.equal('NOT_NUMERIC');
    expect(errorOf(() => read({ value: Number.NaN }))?.code).to.equal('NOT_FINITE');
    expect(errorOf(() => read({ value: '{"value": 1' }))?.code).to.equal('BAD_JSON');
    expect(errorOf(() => read({ value: undefined }))?.code).to.equal('NOT_NUMERIC');
    const e2 = errorOf(() => readingFromFields(cfg(), { asset: 'a', tag: '', value: 1 }, NOW, origins));
    expect([e2?.code, e2?.message]).to.deep.equal(['BAD_PAYLOAD', 'tag (msg.topic) is missing or empty: ""']);
    expect(errorOf(() => readingFromFields(cfg(), { asset: undefined, tag: 't', value: 1 }, NOW, origins))?.message).to.equal(
      'asset (flow.asset) is missing or empty: undefined',
    );
    expect(errorOf(() => read({ value: 1, unit: 5 }))?.code).to.equal('BAD_PAYLOAD');
    // the one Reading check (singleReadingInput) still applies: names too long to key state by
    expect(errorOf(() => read({ value: 1, tag: 'x'.repeat(2000) }))?.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('reads the event time from epoch ms, numeric text, ISO text or a Date; no time = arrival time, uncertain', () => {
    const t = Date.UTC(2023, 10, 14, 22, 13, 0);
    expect(read({ value: 1, time: t }).tsMs).to.equal(t);
    expect(read({ value: 1, time: String(t) }).tsMs).to.equal(t);
    expect(read({ value: 1, time: new Date(t).toISOString() }).tsMs).to.equal(t);
    expect(read({ value: 1, time: new Date(t) }).tsMs).to.equal(t);
    const none = read({ value: 1, time: undefined });
    expect([none.tsMs, none.quality, none.qualityReason]).to.deep.equal([NOW, 'uncertain', 'no timestamp']);
    // OPC UA's "no time" (1601-01-01) is no time either
    expect(read({ value: 1, time: new Date(Date.UTC(1601, 0, 1)) }).qualityReason).to.equal('no timestamp');
    expect(errorOf(() => read({ value: 1, time: 'yesterday' }))?.code).to.equal('BAD_TIMESTAMP');
    expect(errorOf(() => read({ value: 1, time: NOW + 60_000 }))?.code).to.equal('BAD_TIMESTAMP');
    expect(read({ value: 1, time: NOW + 60_000 }, cfg({ maxFutureMs: 0 })).tsMs).to.equal(NOW + 60_000);
  });

  it('reads quality words, OPC UA status names and codes (node-opcua StatusCode objects too) and OPC DA bytes', () => {
    expect(qualityOfField(undefined, 'opcua')).to.deep.equal({ quality: 'good' });
    expect(qualityOfField('Good', 'opcua')).to.deep.equal({ quality: 'good' });
    expect(qualityOfField('uncertain', 'opcua')).to.deep.equal({ quality: 'uncertain' });
    expect(qualityOfField('BadSensorFailure', 'opcua')).to.deep.equal({ quality: 'bad', reason: 'BadSensorFailure' });
    expect(qualityOfField('UncertainLastUsableValue (0x40900000)', 'opcua')).to.deep.equal({
      quality: 'uncertain',
      reason: 'UncertainLastUsableValue',
    });
    expect(qualityOfField(0, 'opcua')).to.deep.equal({ quality: 'good' });
    expect(qualityOfField(StatusCodes.BadNoCommunication.value, 'opcua')).to.deep.equal({ quality: 'bad', reason: 'BadNoCommunication' });
    expect(qualityOfField(StatusCodes.UncertainInitialValue, 'opcua'), 'a node-opcua StatusCode').to.deep.equal({
      quality: 'uncertain',
      reason: 'UncertainInitialValue',
    });
    expect(qualityOfField(JSON.parse(JSON.stringify(StatusCodes.BadOutOfRange)), 'opcua'), 'its JSON form').to.deep.equal({
      quality: 'bad',
      reason: 'BadOutOfRange',
    });
    expect(qualityOfField(192, 'opcda')).to.deep.equal({ quality: 'good' });
    expect(qualityOfField(0, 'opcda')).to.deep.equal({ quality: 'bad', reason: 'OPC DA quality 0' });
    expect(qualityOfField(false, 'opcua')).to.deep.equal({ quality: 'bad' });
    expect(qualityOfField('meh', 'opcua')).to.deep.equal({ quality: 'uncertain', reason: 'unknown quality meh' });
  });

  it('a bad sample without a value is a bad reading (value 0), not an error; a bad sample keeps its value', () => {
    const r = read({ value: null, quality: 'BadNoCommunication' });
    expect([r.value, r.quality, r.qualityReason]).to.deep.equal([0, 'bad', 'BadNoCommunication; no value']);
    const k = read({ value: 5, quality: StatusCodes.BadSensorFailure.value, time: undefined });
    expect([k.value, k.quality, k.qualityReason, k.tsMs]).to.deep.equal([5, 'bad', 'BadSensorFailure', NOW]);
  });

  it('carries unit and source; numeric tags become text', () => {
    const r = read({ value: 1, unit: ' degC ', tag: 40001 as unknown as string }, cfg({ source: 'modbus' }));
    expect([r.unit, r.tag, r.source]).to.deep.equal(['degC', '40001', 'modbus']);
    expect(read({ value: 1, unit: '' })).to.not.have.property('unit');
  });

  it('parses JSON text only when it looks like an object or array', () => {
    expect(parseJsonText('{"a":1}')).to.deep.equal({ a: 1 });
    expect(parseJsonText(' [1,2]')).to.deep.equal([1, 2]);
    expect(parseJsonText('12')).to.equal('12');
    expect(parseJsonText(Buffer.from('12'))).to.equal('12');
    const o = { a: 1 };
    expect(parseJsonText(o)).to.equal(o);
  });

  it('validates its config', () => {
    expect(() => validateMessageReadingConfig(cfg())).to.not.throw();
    expect(errorOf(() => validateMessageReadingConfig(cfg({ element: -1 })))?.code).to.equal('BAD_CONFIG');
    expect(errorOf(() => validateMessageReadingConfig(cfg({ source: ' ' })))?.code).to.equal('BAD_CONFIG');
    expect(errorOf(() => validateMessageReadingConfig(cfg({ qualityCodes: 'x' as never })))?.code).to.equal('BAD_CONFIG');
  });
});
