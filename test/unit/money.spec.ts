import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEur } from '../../runtime/model/money.js';

describe('money: one format on every page and in every text', () => {
  it('groups thousands, keeps two decimals and names the currency after the number', () => {
    expect(formatEur(4613.934)).to.equal('4,613.93 EUR');
    expect(formatEur(4641)).to.equal('4,641.00 EUR');
    expect(formatEur(0.2249)).to.equal('0.22 EUR');
    expect(formatEur(-1234567.5)).to.equal('-1,234,567.50 EUR');
    expect(formatEur(Number.NaN)).to.equal('–');
  });

  it('the browser pages format with this same function (their scripts import it; the bundle carries it)', () => {
    for (const page of ['approvals', 'overview']) {
      const src = readFileSync(join(__dirname, '..', '..', 'web', 'client', `${page}.ts`), 'utf8');
      expect(src, page).to.match(/^import \{ formatEur as eur \} from '\.\.\/\.\.\/runtime\/model\/money\.js';$/m);
    }
  });
});
