import { expect } from 'chai';
import { EUR_CLIENT_JS, formatEur } from '../../runtime/model/money.js';

describe('money: one format on every page and in every text', () => {
  // the pages' browser function, built from the same string the pages inline
  const browserEur = new Function(`${EUR_CLIENT_JS}; return eur;`)() as (v: unknown) => string;

  it('groups thousands, keeps two decimals and names the currency after the number', () => {
    expect(formatEur(4613.934)).to.equal('4,613.93 EUR');
    expect(formatEur(4641)).to.equal('4,641.00 EUR');
    expect(formatEur(0.2249)).to.equal('0.22 EUR');
    expect(formatEur(-1234567.5)).to.equal('-1,234,567.50 EUR');
    expect(formatEur(Number.NaN)).to.equal('–');
  });

  it('the browser pages format exactly as Node does', () => {
    for (const v of [0, 0.005, 0.0849, 1, 12.5, 999.995, 1850, 4613.93, 34_878.4, -12.345, 1e9]) {
      expect(browserEur(v), String(v)).to.equal(formatEur(v));
    }
    expect(browserEur(undefined)).to.equal('–');
    expect(browserEur('12')).to.equal('–');
  });
});
