import { expect } from 'chai';
import { parseTopicPattern, matchTopic, compileTopicMapping, mapTopic, topicMatchesFilter } from '../../runtime/ingest/mqtt-topic-map.js';

describe('MQTT topic pattern and level mapping', () => {
  it('derives the subscription filter from the pattern', () => {
    expect(parseTopicPattern('{asset+}/{tag}').filter).to.equal('#');
    expect(parseTopicPattern('demo/{site}/{area}/{asset}/{tag}').filter).to.equal('demo/+/+/+/+');
    expect(parseTopicPattern('uns/{asset+}/twin/reading/{tag}').filter).to.equal('uns/#');
    expect(parseTopicPattern('a/+/b/#').filter).to.equal('a/+/b/#');
  });

  it('maps "asset = every level but the last, tag = the last level"', () => {
    const m = compileTopicMapping({ pattern: '{asset+}/{tag}', needsTag: true });
    expect(mapTopic(m, 'demo/plant1/extrusion/line1/extruder/zone1_temp')).to.deep.equal({
      asset: 'demo/plant1/extrusion/line1/extruder',
      tag: 'zone1_temp',
    });
    expect(mapTopic(m, 'onlyone')).to.equal(undefined);
  });

  it('matches a multi-level capture in the middle of literal levels', () => {
    const m = compileTopicMapping({ pattern: 'uns/{asset+}/twin/reading/{tag}', needsTag: true });
    expect(mapTopic(m, 'uns/a/b/c/twin/reading/t1')).to.deep.equal({ asset: 'a/b/c', tag: 't1' });
    expect(mapTopic(m, 'uns/a/b/c/twin/estimate/t1')).to.equal(undefined);
    expect(mapTopic(m, 'other/a/twin/reading/t1')).to.equal(undefined);
    expect(mapTopic(m, 'uns/twin/reading/t1')).to.equal(undefined); // {asset+} needs one level at least
  });

  it('builds the asset from several ISA-95 captures through a template', () => {
    const m = compileTopicMapping({
      pattern: '{site}/{area}/+/{machine}/{tag}',
      assetTemplate: 'acme/{site}/{area}/{machine}',
      tagTemplate: '{machine}_{tag}',
      needsTag: true,
    });
    expect(mapTopic(m, 'p1/extrusion/line1/extruder/speed')).to.deep.equal({ asset: 'acme/p1/extrusion/extruder', tag: 'extruder_speed' });
    expect(mapTopic(m, 'p1/extrusion/extruder/speed')).to.equal(undefined);
  });

  it('does not capture empty levels', () => {
    const m = compileTopicMapping({ pattern: '{asset+}/{tag}', needsTag: true });
    expect(mapTopic(m, 'a//b')).to.equal(undefined);
    expect(mapTopic(m, 'a/b/')).to.equal(undefined);
  });

  it('refuses invalid patterns and templates with BAD_CONFIG', () => {
    for (const bad of ['', 'a/#/b', '{a+}/{b+}', '{a+}/#', 'a/{x}{y}', 'a/b+', '{x}/{x}']) {
      expect(() => parseTopicPattern(bad), bad)
        .to.throw()
        .with.property('code', 'BAD_CONFIG');
    }
    expect(() => compileTopicMapping({ pattern: '{asset+}', needsTag: true })).to.throw(/tag template refers to \{tag\}/);
    expect(() => compileTopicMapping({ pattern: '{a}/{tag}', needsTag: true })).to.throw(/asset template refers to \{asset\}/);
    expect(() => compileTopicMapping({ pattern: '{asset+}', needsTag: false })).not.to.throw();
  });

  it('matches MQTT filters like a broker does', () => {
    expect(topicMatchesFilter('a/+/c', 'a/b/c')).to.equal(true);
    expect(topicMatchesFilter('a/+/c', 'a/b/c/d')).to.equal(false);
    expect(topicMatchesFilter('a/#', 'a')).to.equal(true);
    expect(topicMatchesFilter('a/#', 'a/b/c')).to.equal(true);
    expect(topicMatchesFilter('#', '$SYS/x')).to.equal(false);
    expect(topicMatchesFilter('a/b', 'a/c')).to.equal(false);
  });

  it('reports every capture of a match', () => {
    const p = parseTopicPattern('{site}/{rest+}');
    expect(matchTopic(p, 's/x/y')).to.deep.equal({ site: 's', rest: 'x/y' });
  });
});
