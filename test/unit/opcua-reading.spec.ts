import { expect } from 'chai';
import { DataType, DataValue, StatusCodes, Variant, VariantArrayType } from 'node-opcua';
import { dataValueToReading, gapReading } from '../../runtime/ingest/opcua-reading.js';

const item = { nodeId: 'ns=1;s=T', asset: 'a/b', tag: 't', unit: 'degC' };
const NOW = Date.UTC(2026, 0, 1, 12);
const opts = { nowMs: NOW, maxFutureMs: 5000 };

function dv(
  value: unknown,
  dataType: DataType,
  extra: Partial<{ statusCode: unknown; sourceTimestamp: Date | null; serverTimestamp: Date | null }> = {},
): DataValue {
  return new DataValue({
    value: new Variant({ dataType, value }),
    sourceTimestamp: (NOW - 1000) as unknown as Date,
    ...extra,
  } as never);
}

describe('opcua-reading: DataValue → Reading', function () {
  it('keeps the source timestamp and maps value, unit and source', function () {
    const src = new Date(NOW - 60_000);
    const r = dataValueToReading(dv(12.5, DataType.Double, { sourceTimestamp: src, serverTimestamp: new Date(NOW - 1) }), item, opts);
    expect(r).to.deep.equal({ asset: 'a/b', tag: 't', unit: 'degC', value: 12.5, tsMs: src.getTime(), quality: 'good', source: 'opcua' });
  });

  it('converts booleans to 0/1 and integer types to numbers', function () {
    const ts = { sourceTimestamp: new Date(NOW) };
    expect(dataValueToReading(dv(true, DataType.Boolean, ts), item, opts).value).to.equal(1);
    expect(dataValueToReading(dv(false, DataType.Boolean, ts), item, opts).value).to.equal(0);
    expect(dataValueToReading(dv(-7, DataType.Int32, ts), item, opts).value).to.equal(-7);
    // node-opcua carries (U)Int64 as [high, low] words
    const i64 = (dataType: DataType, value: number[]) =>
      new DataValue({ value: new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }), sourceTimestamp: new Date(NOW) });
    expect(dataValueToReading(i64(DataType.UInt64, [0, 5]), item, opts).value).to.equal(5);
    expect(dataValueToReading(i64(DataType.Int64, [1, 0]), item, opts).value).to.equal(2 ** 32);
    expect(dataValueToReading(i64(DataType.Int64, [-1, 0xffffffff]), item, opts).value).to.equal(-1);
  });

  it('throws NOT_NUMERIC for a good value that is not a number', function () {
    const ts = { sourceTimestamp: new Date(NOW) };
    expect(() => dataValueToReading(dv('abc', DataType.String, ts), item, opts))
      .to.throw(/not numeric/)
      .with.property('code', 'NOT_NUMERIC');
    expect(() => dataValueToReading(dv(new Date(), DataType.DateTime, ts), item, opts)).to.throw(/DateTime/);
    const arr = new DataValue({
      value: new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: [1, 2] }),
      sourceTimestamp: new Date(NOW),
    });
    expect(() => dataValueToReading(arr, item, opts)).to.throw(/array/);
    expect(() => dataValueToReading(new DataValue({ sourceTimestamp: new Date(NOW) }), item, opts)).to.throw(/null variant/);
    expect(() => dataValueToReading(dv(NaN, DataType.Double, ts), item, opts))
      .to.throw()
      .with.property('code', 'NOT_FINITE');
  });

  it('maps the status: uncertain and bad with the status name as reason', function () {
    const ts = { sourceTimestamp: new Date(NOW) };
    expect(
      dataValueToReading(dv(1, DataType.Double, { ...ts, statusCode: StatusCodes.UncertainSensorNotAccurate }), item, opts),
    ).to.include({
      quality: 'uncertain',
      qualityReason: 'UncertainSensorNotAccurate',
      value: 1,
    });
    expect(dataValueToReading(dv(2, DataType.Double, { ...ts, statusCode: StatusCodes.BadSensorFailure }), item, opts)).to.include({
      quality: 'bad',
      qualityReason: 'BadSensorFailure',
    });
  });

  it('gives a bad sample without a value the last value instead of throwing', function () {
    const bad = new DataValue({ statusCode: StatusCodes.BadNoCommunication, sourceTimestamp: new Date(NOW) });
    expect(dataValueToReading(bad, item, { ...opts, lastValue: 41 })).to.include({
      value: 41,
      quality: 'bad',
      qualityReason: 'BadNoCommunication',
    });
    expect(dataValueToReading(bad, item, opts)).to.include({ value: 0, quality: 'bad' });
    // a bad string value is bad, not an error
    expect(
      dataValueToReading(dv('x', DataType.String, { statusCode: StatusCodes.BadSensorFailure, sourceTimestamp: new Date(NOW) }), item, opts)
        .quality,
    ).to.equal('bad');
  });

  it('falls back to the server timestamp, then to the receive time with quality uncertain', function () {
    const server = new Date(NOW - 500);
    const r1 = dataValueToReading(dv(3, DataType.Double, { sourceTimestamp: null, serverTimestamp: server }), item, opts);
    expect(r1).to.include({ tsMs: server.getTime(), quality: 'good' });
    const r2 = dataValueToReading(dv(3, DataType.Double, { sourceTimestamp: null, serverTimestamp: null }), item, opts);
    expect(r2).to.include({ tsMs: NOW, quality: 'uncertain', qualityReason: 'no source timestamp' });
    // OPC UA's null time (1601) counts as missing
    const r3 = dataValueToReading(
      dv(3, DataType.Double, { sourceTimestamp: new Date(Date.UTC(1601, 0, 1)), serverTimestamp: null }),
      item,
      opts,
    );
    expect(r3).to.include({ tsMs: NOW, quality: 'uncertain' });
    // uncertain + no timestamp: both reasons
    const r4 = dataValueToReading(
      dv(3, DataType.Double, { sourceTimestamp: null, serverTimestamp: null, statusCode: StatusCodes.UncertainInitialValue }),
      item,
      opts,
    );
    expect(r4.qualityReason).to.equal('UncertainInitialValue; no source timestamp');
  });

  it('marks a source timestamp more than maxFutureMs ahead as bad (future timestamp), unless disabled', function () {
    const ahead = new Date(NOW + 5001);
    const r = dataValueToReading(dv(4, DataType.Double, { sourceTimestamp: ahead }), item, opts);
    expect(r).to.include({ quality: 'bad', qualityReason: 'future timestamp', tsMs: NOW, value: 4 });
    const edge = dataValueToReading(dv(4, DataType.Double, { sourceTimestamp: new Date(NOW + 5000) }), item, opts);
    expect(edge).to.include({ quality: 'good', tsMs: NOW + 5000 });
    const off = dataValueToReading(dv(4, DataType.Double, { sourceTimestamp: ahead }), item, { nowMs: NOW, maxFutureMs: 0 });
    expect(off).to.include({ quality: 'good', tsMs: ahead.getTime() });
  });

  it('builds the gap reading from the last value', function () {
    expect(gapReading(item, NOW, 'BadConnectionClosed', 7)).to.deep.equal({
      asset: 'a/b',
      tag: 't',
      unit: 'degC',
      value: 7,
      tsMs: NOW,
      quality: 'bad',
      qualityReason: 'BadConnectionClosed',
      source: 'opcua',
    });
  });
});
