import { expect } from 'chai';
import { compileTagPattern, tagList } from '../../runtime/model/tag-pattern.js';

describe('tag patterns', function () {
  it('tagList reads an editor field: text split at commas and new lines, or an array; blanks dropped', function () {
    expect(tagList(' zone1_temp, zone*_temp\nmelt_temp ,, ')).to.deep.equal(['zone1_temp', 'zone*_temp', 'melt_temp']);
    expect(tagList(['a', ' b ', ''])).to.deep.equal(['a', 'b']);
    expect(tagList(undefined)).to.deep.equal([]);
    expect(tagList(42)).to.deep.equal([]);
  });

  it('a pattern from the list matches tags as the nodes use it', function () {
    const m = compileTagPattern(tagList('zone*_temp')[0]!);
    expect(m('line1/extruder', 'zone2_temp')).to.equal(true);
    expect(m('line1/extruder', 'melt_temp')).to.equal(false);
  });
});
