import { expect } from 'chai';
import { runInNewContext } from 'node:vm';
import { canonicalJson } from '../../runtime/control/canonical.js';

describe('control: canonical JSON', () => {
  it('sorts keys, drops undefined members, keeps plain values', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x', -0.5], c: undefined, d: { z: 1, y: {} } })).to.equal(
      '{"a":[true,null,"x",-0.5],"b":1,"d":{"y":{},"z":1}}',
    );
    expect(canonicalJson(Object.assign(Object.create(null), { k: 1 }))).to.equal('{"k":1}');
  });

  it('accepts a plain object made in another realm (a function node vm context)', () => {
    const foreign = runInNewContext('({ b: [1, { c: 2 }], a: "x" })');
    expect(canonicalJson(foreign)).to.equal('{"a":"x","b":[1,{"c":2}]}');
  });

  class Point {
    constructor(public x: number) {}
  }
  const refused: [string, unknown, RegExp][] = [
    ['a Date', { at: new Date(0) }, /\$\.at is a Date/],
    ['a Map', { m: new Map([[1, 2]]) }, /\$\.m is a Map/],
    ['a Set', [new Set([1])], /\$\[0\] is a Set/],
    ['a class instance', { p: new Point(1) }, /\$\.p is a Object \(Point\)/],
    ['a function', { f: () => 1 }, /\$\.f is a function/],
    ['undefined in an array', [1, undefined], /\$\[1\] is undefined/],
    ['NaN', { v: NaN }, /non-finite number NaN/],
    ['Infinity', [Infinity], /non-finite number Infinity/],
    ['a BigInt', { n: 1n }, /\$\.n is a BigInt/],
    ['a symbol', { s: Symbol('x') }, /\$\.s is a symbol/],
    ['top-level undefined', undefined, /\$ is undefined/],
  ];
  for (const [what, value, msg] of refused) {
    it(`refuses ${what} with a TypeError naming its path`, () => expect(() => canonicalJson(value)).to.throw(TypeError, msg));
  }
});
