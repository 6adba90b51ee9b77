import { expect } from 'chai';
import { StatusCodes } from 'node-opcua';
import { qualityOfStatusCode, statusName } from '../../runtime/ingest/opcua-status.js';

describe('opcua-status: StatusCode → quality + reason', function () {
  it('maps the severity bits: 00 good, 01 uncertain, 10 and 11 bad', function () {
    expect(qualityOfStatusCode(0x00000000).quality).to.equal('good');
    expect(qualityOfStatusCode(0x40000000).quality).to.equal('uncertain');
    expect(qualityOfStatusCode(0x80000000).quality).to.equal('bad');
    expect(qualityOfStatusCode(0xc0000000).quality).to.equal('bad');
    // the low bits never change the severity
    expect(qualityOfStatusCode(0x3fffffff).quality).to.equal('good');
    expect(qualityOfStatusCode(0x7fffffff).quality).to.equal('uncertain');
  });

  it('gives the status name as the reason for uncertain and bad codes', function () {
    expect(qualityOfStatusCode(StatusCodes.BadSensorFailure)).to.deep.equal({ quality: 'bad', reason: 'BadSensorFailure' });
    expect(qualityOfStatusCode(StatusCodes.BadSensorFailure.value)).to.deep.equal({ quality: 'bad', reason: 'BadSensorFailure' });
    expect(qualityOfStatusCode(StatusCodes.UncertainLastUsableValue.value)).to.deep.equal({
      quality: 'uncertain',
      reason: 'UncertainLastUsableValue',
    });
    expect(qualityOfStatusCode(StatusCodes.BadNoCommunication.value)).to.deep.equal({ quality: 'bad', reason: 'BadNoCommunication' });
    expect(qualityOfStatusCode(StatusCodes.BadConnectionClosed.value).reason).to.equal('BadConnectionClosed');
  });

  it('omits the reason for plain Good, also with info bits (overflow)', function () {
    expect(qualityOfStatusCode(StatusCodes.Good)).to.deep.equal({ quality: 'good' });
    expect(qualityOfStatusCode(StatusCodes.GoodWithOverflowBit)).to.deep.equal({ quality: 'good' });
    expect(qualityOfStatusCode(StatusCodes.GoodWithOverflowBit.value)).to.deep.equal({ quality: 'good' });
  });

  it('keeps the name of a good sub-code (GoodClamped)', function () {
    expect(qualityOfStatusCode(StatusCodes.GoodClamped.value)).to.deep.equal({ quality: 'good', reason: 'GoodClamped' });
  });

  it('names a code with info bits by its code part, and an unknown code in hex', function () {
    expect(statusName((StatusCodes.UncertainLastUsableValue.value | 0x0400) >>> 0)).to.equal('UncertainLastUsableValue');
    expect(statusName({ value: 0x80000000, name: 'Bad#Overflow' })).to.equal('Bad');
    expect(qualityOfStatusCode(0x80ff0000 >>> 0)).to.deep.equal({ quality: 'bad', reason: '0x80FF0000' });
  });
});
