import { expect } from 'chai';
import { toFiniteNumber, toEpochMs, checkNotFuture, assertReading } from '../../runtime/model/reading.js';
import { worstQuality, parseQuality } from '../../runtime/model/quality.js';
import { TwinError } from '../../runtime/model/errors.js';

describe('model: Reading and quality', () => {
  it('coerces numbers, numeric strings and booleans; rejects the rest with a code', () => {
    expect(toFiniteNumber(3.5)).to.equal(3.5);
    expect(toFiniteNumber(' 42 ')).to.equal(42);
    expect(toFiniteNumber(true)).to.equal(1);
    expect(() => toFiniteNumber('abc'))
      .to.throw(TwinError, /not numeric/)
      .with.property('code', 'NOT_NUMERIC');
    expect(() => toFiniteNumber(''))
      .to.throw(TwinError)
      .with.property('code', 'NOT_NUMERIC');
    expect(() => toFiniteNumber(NaN))
      .to.throw(TwinError)
      .with.property('code', 'NOT_FINITE');
    expect(() => toFiniteNumber(Infinity))
      .to.throw(TwinError)
      .with.property('code', 'NOT_FINITE');
    expect(() => toFiniteNumber(null))
      .to.throw(TwinError)
      .with.property('code', 'NOT_NUMERIC');
  });

  it('parses ISO and epoch timestamps and refuses future ones', () => {
    expect(toEpochMs('2026-01-01T00:00:00Z')).to.equal(Date.UTC(2026, 0, 1));
    expect(toEpochMs(1700000000000)).to.equal(1700000000000);
    expect(toEpochMs('1700000000000')).to.equal(1700000000000);
    expect(() => toEpochMs('yesterday'))
      .to.throw(TwinError)
      .with.property('code', 'BAD_TIMESTAMP');
    expect(() => toEpochMs(undefined))
      .to.throw(TwinError)
      .with.property('code', 'BAD_TIMESTAMP');
    expect(() => checkNotFuture(10_000 + 60_000, 10_000)).to.throw(/in the future/);
    expect(() => checkNotFuture(10_000 + 1_000, 10_000)).not.to.throw();
  });

  it('takes the worst quality and maps payload quality words and OPC DA codes', () => {
    expect(worstQuality()).to.equal('good');
    expect(worstQuality('good', 'uncertain')).to.equal('uncertain');
    expect(worstQuality('uncertain', 'bad', 'good')).to.equal('bad');
    expect(parseQuality('GOOD')).to.equal('good');
    expect(parseQuality(192)).to.equal('good');
    expect(parseQuality(0x40)).to.equal('uncertain');
    expect(parseQuality(0)).to.equal('bad');
    expect(parseQuality('maybe')).to.equal(undefined);
  });

  it('validates Reading objects', () => {
    const ok = { asset: 'a', tag: 't', value: 1, tsMs: 1, quality: 'good', source: 'x' };
    expect(() => assertReading(ok)).not.to.throw();
    expect(() => assertReading({ ...ok, value: NaN }))
      .to.throw(TwinError)
      .with.property('code', 'NOT_FINITE');
    expect(() => assertReading({ ...ok, quality: 'fine' })).to.throw(/quality/);
    expect(() => assertReading('x')).to.throw(/not a Reading/);
  });
});
