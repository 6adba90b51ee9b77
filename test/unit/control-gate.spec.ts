// Marble tests of the approval gate's state machine (runtime/control/gate-machine.ts through
// gate-operator.ts) on a TestScheduler: expiry, supersession, the two-person rule, auto-approval,
// ramps paced by write results, dwell, and blocking on stale or bad inputs at write time.
import { expect } from 'chai';
import { Subject, map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Command, WriteResult } from '../../runtime/model/control.js';
import { GateMachine } from '../../runtime/control/gate-machine.js';
import { gateEffectBatches } from '../../runtime/control/gate-operator.js';
import { commandIdFor, validateGateConfig, type GateConfig, type GateInput } from '../../runtime/control/gate-state.js';
import { verifyCommand } from '../../runtime/control/command.js';
import { ManualScheduler } from '../support/control-manual-scheduler.js';
import {
  ASSET,
  KEY,
  TAG,
  batchLabel,
  envelope,
  gateConfig,
  proposal,
  reading,
  result as unsignedResult,
} from '../support/control-gate-fixtures.js';
import { signResult } from '../../runtime/control/gate-result-signature.js';
import { result } from '../support/control-gate-results.js';

const ts = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

/** Run inputs (hot marbles) through a fresh gate; returns the labelled batches observable. */
function gate(config: GateConfig, input$: Observable<GateInput>, s: TestScheduler, machine = new GateMachine(config)): Observable<string> {
  return input$.pipe(gateEffectBatches(machine, s), map(batchLabel));
}

/** The write result for step `step` of a proposal (command ids are derived, so tests can name them). */
function res(
  proposalId: string,
  step: number,
  value: number,
  outcome: WriteResult['outcome'],
  tsMs: number,
  readBackOk?: boolean,
): GateInput {
  const cmd = { id: commandIdFor(ASSET, TAG, proposalId, step), proposalId, asset: ASSET, tag: TAG, value } as Command;
  const r = unsignedResult(cmd, outcome, tsMs, readBackOk);
  if (readBackOk === undefined) {
    delete r.readBackOk; // a write result without a read-back
    delete r.readBackValue;
  }
  return { kind: 'result', result: signResult(KEY, r), token: 900 + step };
}

const approve = (proposalId: string, user: string, token = 1): GateInput => ({
  kind: 'decide',
  request: { proposalId, verdict: 'approve', user, printedName: user.toUpperCase(), reason: 'looks right' },
  token,
});
const reject = (proposalId: string, user: string, token = 2): GateInput => ({
  kind: 'decide',
  request: { proposalId, verdict: 'reject', user, printedName: user, reason: 'not now' },
  token,
});
const pol = (enabled: boolean, user: string, token: number): GateInput => ({ kind: 'policy', enabled, user, token });
const rd = (tag: string, value: number, tsMs: number, q: 'good' | 'uncertain' | 'bad' = 'good'): GateInput => ({
  kind: 'reading',
  reading: reading(tag, value, tsMs, q),
});
const prop = (id: string, from: number, to: number, o: Parameters<typeof proposal>[3] = {}): GateInput => ({
  kind: 'proposal',
  proposal: proposal(id, from, to, o),
});

/**
 * A run-mode marble from (frame, token) pairs, so that tests name times instead of counting dashes;
 * tokens at the same frame become a group.
 */
function at(...events: Array<[number, string]>): string {
  const byFrame = new Map<number, string>();
  for (const [t, k] of events) byFrame.set(t, (byFrame.get(t) ?? '') + k);
  let out = '';
  let frame = 0;
  for (const t of [...byFrame.keys()].sort((a, b) => a - b)) {
    const keys = byFrame.get(t)!;
    const token = keys.length > 1 ? `(${keys})` : keys;
    if (t < frame) throw new Error(`marble: frame ${t} is taken by the group before it`);
    if (t > frame) out += ` ${t - frame}ms `;
    out += token;
    frame = t + token.length;
  }
  return out.trim();
}

/** Unsubscribe after this frame (later effects, e.g. a long expiry, are not part of the test). */
const upTo = (frame: number) => `^ ${frame}ms !`;

/** Fresh setpoint (200) and interlock (mode 1) readings at time 0, as the marbles' first two frames. */
const FRESH = { s: rd(TAG, 200, 0), m: rd('mode', 1, 0) };

describe('approval gate (marbles)', function () {
  describe('expiry', function () {
    it('expires a pending proposal at its expiresTsMs: a decision at that moment is refused', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [1000, 'a']), {
          ...FRESH,
          p: prop('p1', 200, 202, { ttlMs: 1000 }),
          a: approve('p1', 'alice'),
        });
        expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [1000, 'b']), {
          a: 'proposal:p1:pending',
          b: 'expired:p1:expired reply:err',
        });
      });
    });

    it('expires it on its own timer when nobody decides', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p']), { ...FRESH, p: prop('p1', 200, 202, { ttlMs: 1000 }) });
        expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [1000, 'b']), {
          a: 'proposal:p1:pending',
          b: 'expired:p1:expired',
        });
      });
    });

    it('an approved change that cannot start before the proposal expires (dwell) expires instead of writing late', function () {
      ts().run(({ hot, expectObservable }) => {
        // p1 written and read back at 4; p2 approved at 101 must wait the 30 s dwell, but expires at 1005
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [4, 'b'], [100, 'q'], [101, 'c']), {
          ...FRESH,
          p: prop('p1', 200, 202),
          a: approve('p1', 'alice'),
          b: res('p1', 1, 202, 'written', 4, true),
          q: prop('p2', 202, 204, { nowMs: 100, ttlMs: 905 }),
          c: approve('p2', 'alice', 3),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(60_000)).toBe(
          at([2, 'a'], [3, 'b'], [4, 'c'], [100, 'd'], [101, 'e'], [1005, 'f']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/1=202 reply:ok:approved',
            c: 'readback:p1:done reply:ok:done',
            d: 'proposal:p2:pending',
            e: 'decision:p2:approved reply:ok:approved',
            f: 'expired:p2:expired',
          },
        );
      });
    });
  });

  describe('supersession', function () {
    it('a new proposal for the setpoint supersedes the pending one, which then never expires or gets approved', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [12, 'q'], [22, 'a']), {
          ...FRESH,
          p: prop('p1', 200, 202, { ttlMs: 1000 }),
          q: prop('p2', 200, 203),
          a: approve('p1', 'alice'),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(5000)).toBe(at([2, 'a'], [12, 'b'], [22, 'c']), {
          a: 'proposal:p1:pending',
          b: 'proposal:p2:pending superseded:p1:superseded',
          c: 'reply:err',
        });
      });
    });

    it('approving a change while another is being ramped supersedes the rest of the older ramp; the in-flight step is awaited first', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [100, 'q'], [101, 'b'], [200, 'r']), {
          ...FRESH,
          p: prop('p1', 200, 210), // ramp 205, 210
          a: approve('p1', 'alice'),
          q: prop('p2', 200, 196),
          b: approve('p2', 'bob', 3),
          r: res('p1', 1, 205, 'written', 200, true),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(40_000)).toBe(
          at([2, 'a'], [3, 'b'], [100, 'c'], [101, 'd'], [200, 'e'], [30_200, 'f']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/2=205 reply:ok:approved',
            c: 'proposal:p2:pending',
            d: 'decision:p2:approved superseded:p1:superseded reply:ok:approved',
            e: 'readback:p1:superseded reply:ok:superseded',
            // from 205 (p1's step, written and read back) down to 196: two steps of 4.5, the first 30 s (dwell) after that write
            f: 'cmd:p2:1/2=200.5',
          },
        );
      });
    });
  });

  describe('two-person rule', function () {
    const cfg = () => gateConfig({ twoPersonAboveStep: 3 });

    it('a change above the threshold needs two different approvers; the same user twice is refused', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [4, 'a'], [6, 'b'], [8, 'c']), {
          ...FRESH,
          p: prop('p1', 200, 204),
          a: approve('p1', 'alice'),
          b: approve('p1', 'alice', 2),
          c: approve('p1', 'bob', 3),
        });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [4, 'b'], [6, 'c'], [8, 'd']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:pending reply:ok:pending',
          c: 'reply:err',
          d: 'decision:p1:approved cmd:p1:1/1=204 reply:ok:approved',
        });
      });
    });

    it('one reject rejects, also after a first approval', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [4, 'a'], [6, 'b'], [8, 'c']), {
          ...FRESH,
          p: prop('p1', 200, 204),
          a: approve('p1', 'alice'),
          b: reject('p1', 'carol'),
          c: approve('p1', 'bob', 3),
        });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [4, 'b'], [6, 'c'], [8, 'd']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:pending reply:ok:pending',
          c: 'decision:p1:rejected reply:ok:rejected',
          d: 'reply:err',
        });
      });
    });

    it('a change at or below the threshold needs one approver; the size counts against the latest reading too', function () {
      ts().run(({ hot, expectObservable }) => {
        // the proposal says 202 → 204 (2), but the setpoint reads 200: the change is 4 > 3
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [4, 'a']), { ...FRESH, p: prop('p1', 202, 204), a: approve('p1', 'alice') });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [4, 'b']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:pending reply:ok:pending',
        });
      });
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [4, 'a']), { ...FRESH, p: prop('p1', 200, 203), a: approve('p1', 'alice') });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [4, 'b']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved cmd:p1:1/1=203 reply:ok:approved',
        });
      });
    });
  });

  describe('auto-approval', function () {
    const cfg = () => gateConfig({ twoPersonAboveStep: 3, autoApproval: { enabled: true, maxStep: 2 } });

    it('approves a small, good, in-envelope change as the policy, and leaves the rest to people', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [12, 'q'], [22, 'r']), {
          ...FRESH,
          p: prop('p1', 200, 201.5),
          q: prop('p2', 200, 197), // 3 > 2: a person decides
          r: prop('p3', 200, 199, { quality: 'uncertain' }), // small but uncertain: a person decides
        });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [12, 'b'], [22, 'c']), {
          a: 'proposal:p1:pending decision:p1:approved cmd:p1:1/1=201.5',
          b: 'proposal:p2:pending',
          c: 'proposal:p3:pending superseded:p2:superseded',
        });
      });
    });

    it('cannot be switched by a person where it is not configured', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [12, 'x'], [22, 'y']), {
          ...FRESH,
          p: prop('p1', 200, 201),
          x: pol(true, 'alice', 5),
          y: prop('p2', 200, 201),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [12, 'b'], [22, 'c']), {
          a: 'proposal:p1:pending',
          b: 'reply:err',
          c: 'proposal:p2:pending superseded:p1:superseded',
        });
      });
    });

    it('switched off (a recorded policy decision) it approves nothing; nor does it approve when the envelope does not hold', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [12, 'x'], [22, 'q'], [32, 'y'], [42, 'i'], [52, 'r']), {
          ...FRESH,
          p: prop('p1', 200, 201),
          x: pol(false, 'alice', 5),
          q: prop('p2', 200, 201.5),
          y: pol(true, 'alice', 6),
          i: rd('mode', 0, 40), // interlock no longer holds
          r: prop('p3', 200, 201.2), // (200 → 201 again would repeat p1, whose approval stands)
        });
        expectObservable(gate(cfg(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [12, 'b'], [22, 'c'], [32, 'd'], [52, 'e']), {
          a: 'proposal:p1:pending decision:p1:approved cmd:p1:1/1=201',
          b: 'policy:off reply:ok',
          c: 'proposal:p2:pending',
          d: 'policy:on reply:ok',
          e: 'proposal:p3:pending superseded:p2:superseded',
        });
      });
    });

    it('refuses a configuration whose auto-approval band exceeds the two-person threshold', function () {
      expect(() => validateGateConfig(gateConfig({ twoPersonAboveStep: 3, autoApproval: { enabled: true, maxStep: 4 } }))).to.throw(
        /must not exceed twoPersonAboveStep/,
      );
      expect(() => validateGateConfig(gateConfig({ signingKey: 'short' }))).to.throw(/signing key/);
      expect(() => validateGateConfig(gateConfig({ commandTtlMs: 10 }))).to.throw(/commandTtlMs/);
      expect(() => validateGateConfig(gateConfig({ twoPersonAboveStep: 0 }))).to.throw(/twoPersonAboveStep/);
      expect(validateGateConfig(gateConfig({ twoPersonAboveStep: 3, autoApproval: { enabled: true, maxStep: 3 } }))).to.be.an('object');
    });
  });

  describe('ramps and write results', function () {
    it('writes a large change in steps, each only after the previous step was written and read back, paced by dwell and rate', function () {
      ts().run(({ hot, expectObservable }) => {
        // 200 → 212 with maxStep 5: 204, 208, 212; a step of 4 needs max(30 s dwell, 4 / (10 per min) = 24 s) = 30 s
        const input = hot(
          at(
            [0, 's'],
            [1, 'm'],
            [2, 'p'],
            [3, 'a'],
            [100, 'r'],
            [30_000, 'S'],
            [30_001, 'M'],
            [30_200, 'u'],
            [60_100, 'T'],
            [60_101, 'N'],
            [60_300, 'x'],
          ),
          {
            ...FRESH,
            p: prop('p1', 200, 212),
            a: approve('p1', 'alice'),
            r: res('p1', 1, 204, 'written', 100, true),
            S: rd(TAG, 204, 30_000),
            M: rd('mode', 1, 30_001),
            u: res('p1', 2, 208, 'written', 30_200, true),
            T: rd(TAG, 208, 60_100),
            N: rd('mode', 1, 60_101),
            x: res('p1', 3, 212, 'written', 60_300, true),
          },
        );
        expectObservable(gate(gateConfig(), input, ts0())).toBe(
          at([2, 'a'], [3, 'b'], [100, 'c'], [30_100, 'd'], [30_200, 'e'], [60_200, 'f'], [60_300, 'g']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/3=204 reply:ok:approved',
            c: 'readback:p1:approved reply:ok:approved',
            d: 'cmd:p1:2/3=208', // 30 s after step 1's result, not before
            e: 'readback:p1:approved reply:ok:approved',
            f: 'cmd:p1:3/3=212',
            g: 'readback:p1:done reply:ok:done',
          },
        );
      });
    });

    it('waits for a late write result: the next step is paced from when the previous one was reported written', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [9_000, 'r'], [20_000, 'S'], [20_001, 'M']), {
          ...FRESH,
          p: prop('p1', 200, 210),
          a: approve('p1', 'alice'),
          r: res('p1', 1, 205, 'written', 9_000, true),
          S: rd(TAG, 205, 20_000),
          M: rd('mode', 1, 20_001),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(40_000)).toBe(at([2, 'a'], [3, 'b'], [9_000, 'c'], [39_000, 'd']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved cmd:p1:1/2=205 reply:ok:approved',
          c: 'readback:p1:approved reply:ok:approved',
          d: 'cmd:p1:2/2=210',
        });
      });
    });

    for (const [outcome, ok] of [
      ['written', false],
      ['written', undefined],
      ['refused', undefined],
      ['failed', undefined],
    ] as const) {
      it(`a step ${outcome}${ok === false ? ' with a read-back that differs' : outcome === 'written' ? ' without a read-back' : ''} fails the change; no further step`, function () {
        ts().run(({ hot, expectObservable }) => {
          const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [100, 'r']), {
            ...FRESH,
            p: prop('p1', 200, 212),
            a: approve('p1', 'alice'),
            r: res('p1', 1, 204, outcome, 100, ok),
          });
          const type = outcome === 'refused' ? 'refused' : ok === false ? 'readback' : 'write';
          expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [3, 'b'], [100, 'c']), {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/3=204 reply:ok:approved',
            c: `${type}:p1:failed reply:ok:failed`,
          });
        });
      });
    }

    it('a command with no write result fails the change after its expiry and the grace', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a']), { ...FRESH, p: prop('p1', 200, 203), a: approve('p1', 'alice') });
        // issued at 3, ttl 10 s, grace 5 s → 15 003
        expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [3, 'b'], [15_003, 'c']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved cmd:p1:1/1=203 reply:ok:approved',
          c: 'expired:p1:failed',
        });
      });
    });

    it('a repeated write result changes nothing; a different later one is recorded but does not change the state; one for a command it never issued is refused', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [5, 'r'], [7, 'x'], [9, 'f'], [11, 'y']), {
          ...FRESH,
          p: prop('p1', 200, 203),
          a: approve('p1', 'alice'),
          r: res('p1', 1, 203, 'written', 5, true),
          x: res('p1', 1, 203, 'written', 6, true),
          f: res('p1', 1, 203, 'failed', 8),
          y: res('p9', 1, 203, 'written', 7, true),
        });
        expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [3, 'b'], [5, 'c'], [7, 'd'], [9, 'e'], [11, 'g']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved cmd:p1:1/1=203 reply:ok:approved',
          c: 'readback:p1:done reply:ok:done',
          d: 'reply:ok:done',
          e: 'write:p1:done reply:ok:done',
          g: 'reply:err',
        });
      });
    });
  });

  describe('dwell', function () {
    it('a second change waits the minimum dwell after the last write before its first command', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [4, 'r'], [10, 'q'], [11, 'b']), {
          ...FRESH,
          p: prop('p1', 200, 202),
          a: approve('p1', 'alice'),
          r: res('p1', 1, 202, 'written', 4, true),
          q: prop('p2', 202, 199),
          b: approve('p2', 'bob', 3),
        });
        // last write reported at 4: p2's step (202 → 199) is due at 4 + max(30 s dwell, 3 / (10 per min) = 18 s)
        expectObservable(gate(gateConfig(), input, ts0()), upTo(40_000)).toBe(
          at([2, 'a'], [3, 'b'], [4, 'c'], [10, 'd'], [11, 'e'], [30_004, 'f']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/1=202 reply:ok:approved',
            c: 'readback:p1:done reply:ok:done',
            d: 'proposal:p2:pending',
            e: 'decision:p2:approved reply:ok:approved',
            f: 'cmd:p2:1/1=199',
          },
        );
      });
    });
  });

  describe('rate limits over time', function () {
    it('spaces ramp steps by the rate when it is slower than the dwell (down at 5 per min: 4 units take 48 s)', function () {
      const cfg = gateConfig({}, envelope({ rateDownPerMin: 5, maxInputAgeMs: 600_000 }));
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [100, 'r'], [48_200, 'u']), {
          ...FRESH,
          p: prop('p1', 200, 192), // 196, 192
          a: approve('p1', 'alice'),
          r: res('p1', 1, 196, 'written', 100, true),
          u: res('p1', 2, 192, 'written', 48_200, true),
        });
        expectObservable(gate(cfg, input, ts0())).toBe(at([2, 'a'], [3, 'b'], [100, 'c'], [48_100, 'd'], [48_200, 'e']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved cmd:p1:1/2=196 reply:ok:approved',
          c: 'readback:p1:approved reply:ok:approved',
          d: 'cmd:p1:2/2=192', // 48 s after step 1 was written, not the 30 s dwell
          e: 'readback:p1:done reply:ok:done',
        });
      });
    });

    it('a first step waits for the rate after the previous change, then goes', function () {
      const cfg = gateConfig({}, envelope({ rateUpPerMin: 4, minDwellMs: 0, maxInputAgeMs: 600_000 }));
      ts().run(({ hot, expectObservable }) => {
        // p1 writes +2 at 3 (result at 4); p2 +4 needs 4 / (4 per min) = 60 s after that
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [4, 'r'], [10, 'q'], [11, 'b']), {
          ...FRESH,
          p: prop('p1', 200, 202),
          a: approve('p1', 'alice'),
          r: res('p1', 1, 202, 'written', 4, true),
          q: prop('p2', 202, 206),
          b: approve('p2', 'bob', 3),
        });
        expectObservable(gate(cfg, input, ts0()), upTo(70_000)).toBe(
          at([2, 'a'], [3, 'b'], [4, 'c'], [10, 'd'], [11, 'e'], [60_004, 'f']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/1=202 reply:ok:approved',
            c: 'readback:p1:done reply:ok:done',
            d: 'proposal:p2:pending',
            e: 'decision:p2:approved reply:ok:approved',
            f: 'cmd:p2:1/1=206',
          },
        );
      });
    });
  });

  it('a step due a millisecond after the decision gets its timer although the wall clock moved on while the machine worked', async function () {
    // Found by the approval-latency bench: a decision in the same millisecond as the previous write
    // result has its step due 1 ms later; when now() had passed that millisecond by the time the
    // timer was armed, the step was no longer "in the future" and waited for the next unrelated wake-up.
    class MovingClock extends ManualScheduler {
      /** The next now() returns the time and then the clock reads 1 ms later (work takes time). */
      moveAfterNextRead = false;
      private movedMs = 0;
      override now(): number {
        const t = super.now() + this.movedMs;
        if (this.moveAfterNextRead) {
          this.moveAfterNextRead = false;
          this.movedMs += 1;
        }
        return t;
      }
    }
    const cfg = gateConfig({}, envelope({ rateUpPerMin: 1e9, rateDownPerMin: 1e9, minDwellMs: 0, ramp: false }));
    const m = new GateMachine(cfg);
    const T = 1_000;
    m.start(0);
    for (const input of [FRESH.s, FRESH.m, { kind: 'proposal', proposal: proposal('p1', 200, 201) }, approve('p1', 'alice')] as GateInput[])
      m.handle(input, T);
    const c1 = m.state.inflight!;
    m.handle({ kind: 'result', result: result(c1, 'written', T, true) }, T);
    m.handle({ kind: 'reading', reading: reading(TAG, 201, T) }, T);
    m.handle({ kind: 'proposal', proposal: proposal('p2', 201, 200) }, T);

    const clock = new MovingClock(T);
    const input$ = new Subject<GateInput>();
    const labels: string[] = [];
    input$.pipe(gateEffectBatches(m, clock), map(batchLabel)).subscribe((l) => labels.push(l));
    clock.moveAfterNextRead = true; // the decision is handled at T, the timer armed at T + 1
    input$.next(approve('p2', 'bob', 7));
    await clock.advanceTo(T + 5);
    expect(labels).to.deep.equal(['decision:p2:approved reply:ok:approved', 'cmd:p2:1/1=200']);
  });

  describe('blocking at write time', function () {
    it('blocks (records, does not write) a ramp step whose inputs went stale while it waited', function () {
      ts().run(({ hot, expectObservable }) => {
        // readings from 0 only, maxInputAgeMs 60 s: step 2 (due 30 100) is fresh enough, step 3 (due 60 200) is not
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a'], [100, 'r'], [30_200, 'u']), {
          ...FRESH,
          p: prop('p1', 200, 212),
          a: approve('p1', 'alice'),
          r: res('p1', 1, 204, 'written', 100, true),
          u: res('p1', 2, 208, 'written', 30_200, true),
        });
        expectObservable(gate(gateConfig(), input, ts0())).toBe(
          at([2, 'a'], [3, 'b'], [100, 'c'], [30_100, 'd'], [30_200, 'e'], [60_200, 'f']),
          {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved cmd:p1:1/3=204 reply:ok:approved',
            c: 'readback:p1:approved reply:ok:approved',
            d: 'cmd:p1:2/3=208',
            e: 'readback:p1:approved reply:ok:approved',
            f: 'blocked:p1:blocked',
          },
        );
      });
    });

    const cases: Array<[string, GateInput, GateInput]> = [
      ['the setpoint reading is bad', rd(TAG, 200, 0, 'bad'), FRESH.m],
      ['the setpoint reading is stale', rd(TAG, 200, -60_001), FRESH.m],
      ['the interlock does not hold', FRESH.s, rd('mode', 0, 0)],
      ['the interlock reading is uncertain', FRESH.s, rd('mode', 1, 0, 'uncertain')],
    ];
    for (const [why, s, m] of cases) {
      it(`blocks at once when ${why} at the moment of writing`, function () {
        ts().run(({ hot, expectObservable }) => {
          const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a']), { s, m, p: prop('p1', 200, 203), a: approve('p1', 'alice') });
          expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [3, 'b']), {
            a: 'proposal:p1:pending',
            b: 'decision:p1:approved blocked:p1:blocked reply:ok:blocked',
          });
        });
      });
    }

    it('refuses an approval outside the hard limits (nothing recorded)', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([0, 's'], [1, 'm'], [2, 'p'], [3, 'a']), { ...FRESH, p: prop('p1', 238, 241), a: approve('p1', 'alice') });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(1000)).toBe(at([2, 'a'], [3, 'b']), {
          a: 'proposal:p1:pending',
          b: 'reply:err',
        });
      });
    });

    it('just after start, a step waits for readings that have not arrived yet (up to maxInputAgeMs), then is blocked', function () {
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([1, 'm'], [2, 'p'], [3, 'a']), { m: FRESH.m, p: prop('p1', 200, 203), a: approve('p1', 'alice') });
        expectObservable(gate(gateConfig(), input, ts0())).toBe(at([2, 'a'], [3, 'b'], [60_000, 'c']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved reply:ok:approved',
          c: 'blocked:p1:blocked',
        });
      });
      ts().run(({ hot, expectObservable }) => {
        const input = hot(at([1, 'm'], [2, 'p'], [3, 'a'], [500, 's']), {
          m: FRESH.m,
          p: prop('p1', 200, 203),
          a: approve('p1', 'alice'),
          s: rd(TAG, 200, 500),
        });
        expectObservable(gate(gateConfig(), input, ts0()), upTo(10_000)).toBe(at([2, 'a'], [3, 'b'], [500, 'c']), {
          a: 'proposal:p1:pending',
          b: 'decision:p1:approved reply:ok:approved',
          c: 'cmd:p1:1/1=203',
        });
      });
    });
  });

  it('signs its commands so that a writer for the setpoint verifies them, with expiry now + commandTtlMs', function () {
    const m = new GateMachine(gateConfig());
    m.handle(FRESH.s, 0);
    m.handle(FRESH.m, 0);
    m.handle(prop('p1', 200, 203), 0);
    const effects = m.handle(approve('p1', 'alice'), 10);
    const cmd = effects.find((e) => e.kind === 'command');
    expect(cmd?.kind).to.equal('command');
    const c = (cmd as { command: Command }).command;
    expect(verifyCommand(KEY, c, { asset: ASSET, tag: TAG }, 10)).to.deep.equal({ ok: true });
    expect(c).to.include({
      expiresTsMs: 10_010,
      issuedTsMs: 10,
      fromValue: 200,
      value: 203,
      step: 1,
      steps: 1,
      envelopeVersion: gateConfig().envelopeVersion,
    });
    // the command record comes before the command itself
    const kinds = effects.map((e) => (e.kind === 'record' ? `record:${e.entry.type}` : e.kind));
    expect(kinds.indexOf('record:command')).to.be.lessThan(kinds.indexOf('command'));
    expect(verifyCommand('x'.repeat(32), c, { asset: ASSET, tag: TAG }, 10).refusal).to.equal('BAD_SIGNATURE');
  });
});

/** Each test creates its scheduler in ts().run; the operator needs the one that is running. */
let current: TestScheduler | undefined;
function ts0(): TestScheduler {
  return current!;
}
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the scheduler as `this` below
const origRun = TestScheduler.prototype.run;
TestScheduler.prototype.run = function <T>(this: TestScheduler, cb: Parameters<typeof origRun>[0]): T {
  current = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the scheduler of the running test, for ts0()
  return origRun.call(this, cb) as T;
};
void envelope;
