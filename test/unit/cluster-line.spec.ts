/**
 * The pure parts of scale-out (runtime/cluster): line ids encoded into stream names without loss,
 * the share of lines per instance, and the rendezvous order in which instances try lines.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeName, encodeName, ledgerStreamName, leaseSubject, parseLineId } from '../../runtime/cluster/line-id.js';
import { maxLinesPerInstance, preferenceOrder } from '../../runtime/cluster/line-lease.js';

describe('cluster: line ids, shares and preference order', () => {
  it('a line id is site/area/line: three non-empty parts', () => {
    expect(parseLineId('plant7/extrusion/line1')).to.equal('plant7/extrusion/line1');
    for (const bad of ['plant7/line1', 'a//c', 'a/b/c/d', ' a/b/c', '', 'a/b/\n', 42]) {
      expect(() => parseLineId(bad), String(bad)).to.throw(/line id/);
    }
  });

  it('stream names and subjects hold only what NATS allows, and two ids never share one', () => {
    expect(ledgerStreamName('plant7/extrusion/line_1')).to.equal('TWINLOOP_LEDGER_plant7_2fextrusion_2fline_5f1');
    expect(leaseSubject('Werk Köln/a.b/*')).to.match(/^twinloop\.lease\.[A-Za-z0-9_]+$/);
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(decodeName(encodeName(a))).to.equal(a);
        expect(encodeName(a)).to.match(/^[A-Za-z0-9_]*$/);
        if (a !== b) expect(encodeName(a)).to.not.equal(encodeName(b));
      }),
    );
  });

  it('an instance holds at most ⌈lines / instances⌉ + slack lines', () => {
    expect(maxLinesPerInstance(6, 3, 0)).to.equal(2);
    expect(maxLinesPerInstance(7, 3, 0)).to.equal(3);
    expect(maxLinesPerInstance(6, 2, 1)).to.equal(4);
    expect(maxLinesPerInstance(6, 0, 0), 'no members seen: this instance alone').to.equal(6);
    expect(maxLinesPerInstance(0, 3, 1)).to.equal(0);
    // N instances with their shares can always hold every line
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 50 }), (lines, n) => {
        expect(maxLinesPerInstance(lines, n, 0) * n).to.be.at.least(lines);
      }),
    );
  });

  it('instances prefer different lines (rendezvous order), each a permutation of all lines', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `p/a/line${i}`);
    const orders = ['inst-0', 'inst-1', 'inst-2'].map((o) => preferenceOrder(lines, o));
    for (const o of orders) expect([...o].sort()).to.deep.equal([...lines].sort());
    expect(preferenceOrder(lines, 'inst-0')).to.deep.equal(orders[0]);
    // the first choices of three instances overlap far less than identical orders would
    const firsts = orders.map((o) => new Set(o.slice(0, 20)));
    const shared = [...firsts[0]].filter((l) => firsts[1].has(l) && firsts[2].has(l)).length;
    expect(shared).to.be.below(20);
  });
});
