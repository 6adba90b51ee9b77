/**
 * The pure parts of scale-out (runtime/cluster): line ids encoded into stream names without loss,
 * the share of lines per instance, and the rendezvous order in which instances try lines.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeName, encodeName, ledgerStreamName, leaseSubject, parseLineId } from '../../runtime/cluster/line-id.js';
import { maxLinesPerInstance, preferenceOrder, shareThisTick } from '../../runtime/cluster/line-lease.js';

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

  it('nobody uses the slack while another member holds less than its share; one line is shed per tick for it', () => {
    // nobody starving: the slack is there (a dead member's lines are taken at once)
    expect(shareThisTick(6, 3, 1, 2, [2, 2])).to.deep.equal({ claimUpTo: 3, shedDownTo: 3 });
    // the third instance just joined with nothing: the one holding 4 sheds one line now, nobody claims beyond 2
    expect(shareThisTick(6, 3, 1, 4, [2, 0])).to.deep.equal({ claimUpTo: 2, shedDownTo: 3 });
    expect(shareThisTick(6, 3, 1, 3, [2, 1])).to.deep.equal({ claimUpTo: 2, shedDownTo: 2 });
    expect(shareThisTick(6, 3, 1, 2, [3, 1]), 'at the fair share: keep it').to.deep.equal({ claimUpTo: 2, shedDownTo: 2 });
    expect(shareThisTick(6, 3, 1, 0, [3, 3]), 'the starving one itself claims up to the fair share').to.deep.equal({
      claimUpTo: 3,
      shedDownTo: 3,
    });
    // 7 lines on 3: 3/2/2 is fair, nobody is below ⌊7/3⌋
    expect(shareThisTick(7, 3, 0, 3, [2, 2])).to.deep.equal({ claimUpTo: 3, shedDownTo: 3 });
    // simulate members joining one by one: each tick every member sheds, then claims free lines in turn
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 2 }), (lines, n, slack) => {
        const held: number[] = [];
        for (let joined = 1; joined <= n; joined++) {
          held.push(0);
          for (let tick = 0; tick < 4 * lines + 8; tick++) {
            for (let i = 0; i < held.length; i++) {
              const others = held.filter((_, j) => j !== i);
              const { claimUpTo, shedDownTo } = shareThisTick(lines, held.length, slack, held[i]!, others);
              if (held[i]! > shedDownTo) held[i] = shedDownTo;
              const free = lines - held.reduce((a, b) => a + b, 0);
              if (held[i]! < claimUpTo) held[i]! += Math.min(free, claimUpTo - held[i]!);
            }
          }
        }
        expect(
          held.reduce((a, b) => a + b, 0),
          'every line held',
        ).to.equal(lines);
        expect(Math.min(...held), `nobody below ⌊${lines}/${n}⌋: ${held.join('/')}`).to.be.at.least(Math.floor(lines / n));
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
