import { expect } from 'chai';
import { showDuration, storeDuration, type DurationUnit } from '../../editor/duration.js';
import { errorLine } from '../../editor/json-error.js';

const UP: DurationUnit[] = ['s', 'min', 'h', 'd'];

describe("editor: durations with units (the dialogs' number + unit boxes)", () => {
  it('shows a stored millisecond value in the largest unit that holds it exactly', () => {
    expect(showDuration(3_600_000, 'ms', UP, 's')).to.deep.equal({ text: '1', unit: 'h' });
    expect(showDuration('900000', 'ms', UP, 's')).to.deep.equal({ text: '15', unit: 'min' });
    expect(showDuration('86400000', 'ms', UP, 's')).to.deep.equal({ text: '1', unit: 'd' });
    expect(showDuration('5400000', 'ms', UP, 's')).to.deep.equal({ text: '90', unit: 'min' });
    expect(showDuration('5000', 'ms', UP, 's')).to.deep.equal({ text: '5', unit: 's' });
  });

  it('falls back to a fraction of the smallest unit offered, or to ms where offered', () => {
    expect(showDuration('1500', 'ms', UP, 's')).to.deep.equal({ text: '1.5', unit: 's' });
    expect(showDuration('250', 'ms', ['ms', ...UP], 's')).to.deep.equal({ text: '250', unit: 'ms' });
  });

  it('keeps ${ENV} and text that is no number as they are, without a unit', () => {
    expect(showDuration('${OPCUA_SAMPLING_MS}', 'ms', UP, 's')).to.deep.equal({ text: '${OPCUA_SAMPLING_MS}', unit: null });
    expect(showDuration('soon', 'ms', UP, 's')).to.deep.equal({ text: 'soon', unit: null });
    expect(storeDuration(' ${OPCUA_SAMPLING_MS} ', 'min', 'ms')).to.equal('${OPCUA_SAMPLING_MS}');
    expect(storeDuration('soon', 'min', 'ms')).to.equal('soon');
  });

  it('shows 0 and blank in the zero unit', () => {
    expect(showDuration(0, 'ms', UP, 'min')).to.deep.equal({ text: '0', unit: 'min' });
    expect(showDuration('', 'ms', UP, 's')).to.deep.equal({ text: '', unit: 's' });
    expect(storeDuration('', 'h', 'ms')).to.equal('');
  });

  it('stores what was typed in the base unit, as a whole number of ms', () => {
    expect(storeDuration('15', 'min', 'ms')).to.equal('900000');
    expect(storeDuration('0.1', 'h', 'ms')).to.equal('360000');
    expect(storeDuration('1.5', 's', 'ms')).to.equal('1500');
    expect(storeDuration('1', 'd', 'min')).to.equal('1440');
    expect(storeDuration('90', 'min', 's')).to.equal('5400');
    expect(storeDuration('30', 's', 'min')).to.equal('0.5');
  });

  it('round-trips every value it shows', () => {
    for (const ms of [1, 999, 1000, 1500, 59_000, 60_000, 3_600_000, 5_400_000, 86_400_000, 90_000_000, 123_456_789]) {
      const units: DurationUnit[] = ['ms', ...UP];
      const shown = showDuration(ms, 'ms', units, 's');
      expect(storeDuration(shown.text, shown.unit!, 'ms'), `${ms} ms`).to.equal(String(ms));
    }
  });
});

describe('editor: the line of the dialog JSON an error is about', () => {
  const text = '{\n  "timeZone": "UTC",\n  "periods": [\n    { "name": "peak" },\n    { "name": "shoulder" }\n  ]\n}';
  it('takes the line JSON.parse names, or the line of its position', () => {
    expect(errorLine(text, 'not valid JSON (Unexpected token } in JSON at line 4 column 3)')).to.equal(4);
    expect(errorLine(text, 'Unexpected token at position 10')).to.equal(2);
  });
  it('finds the first name the runtime quotes', () => {
    expect(errorLine(text, "tariff: periods overlap: 'shoulder' window 1 and 'peak' window 1 both cover on mon 18:00–20:00")).to.equal(5);
    expect(errorLine(text, "tariff: unknown time zone 'Mars/Olympus'")).to.equal(null);
    expect(errorLine(text, 'tariff: needs at least one period')).to.equal(null);
  });
});
