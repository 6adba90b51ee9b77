// The two password limits of the supervisors' page (runtime/auth/), with an
// injected clock and an injected password check that counts how often it runs.
import { expect } from 'chai';
import type { PasswordCheck } from '../../runtime/auth/admin-auth.js';
import { checkWithLimit, PasswordFailures } from '../../runtime/auth/password-failures.js';
import { SourceThrottle, sourceOfAddress } from '../../runtime/auth/source-throttle.js';

describe('password limits (runtime/auth/)', function () {
  it('100 parallel wrong signature passwords: at most the limit (5) of real password checks', async function () {
    const f = new PasswordFailures(5, 10 * 60_000);
    let checks = 0;
    const release: Array<() => void> = [];
    const slowWrong = () =>
      new Promise<PasswordCheck>((resolve) => {
        checks++;
        release.push(() => resolve('wrong'));
      });
    const all = Array.from({ length: 100 }, () => checkWithLimit(f, 'supervisor', () => 1000, slowWrong));
    await new Promise((r) => setImmediate(r));
    for (const r of release.splice(0)) r();
    const out = await Promise.all(all);
    expect(checks).to.equal(5);
    expect(out.filter((o) => 'check' in o)).to.have.length(5);
    expect(out.filter((o) => 'lockedMs' in o)).to.have.length(95);
    // after they settle: locked for the window, still without a check
    expect(await checkWithLimit(f, 'supervisor', () => 2000, slowWrong)).to.deep.equal({ lockedMs: 10 * 60_000 - 1000 });
    expect(checks).to.equal(5);
    // another user is not affected
    expect(
      await checkWithLimit(
        f,
        'supervisor2',
        () => 2000,
        async () => 'ok',
      ),
    ).to.deep.equal({ check: 'ok' });
  });

  it('a right password clears the failures; a check that throws counts as wrong; "unsupported" does not count', async function () {
    const f = new PasswordFailures(2, 60_000);
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => 'wrong',
    );
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => 'ok',
    );
    expect(f.lockedForMs('u', 1)).to.equal(0);
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => 'unsupported',
    );
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => 'unsupported',
    );
    expect(f.lockedForMs('u', 1)).to.equal(0);
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => {
        throw new Error('users() failed');
      },
    ).catch(() => undefined);
    await checkWithLimit(
      f,
      'u',
      () => 0,
      async () => 'wrong',
    );
    expect(f.lockedForMs('u', 1)).to.equal(59_999);
  });

  it('logins by source: free failures, then a delay that doubles; another source is never held back; a success clears', function () {
    const t = new SourceThrottle(3, 1000, 60_000, 30 * 60_000);
    let now = 0;
    const fail = (src: string) => {
      expect(t.begin(src, now)).to.equal(0);
      t.settle(src, false, now);
    };
    fail('10.0.0.9');
    fail('10.0.0.9');
    fail('10.0.0.9'); // third failure: the first delay
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const w = t.waitMs('10.0.0.9', now);
      waits.push(w);
      expect(t.begin('10.0.0.9', now)).to.equal(w); // refused during the wait, without a check
      now += w;
      fail('10.0.0.9');
    }
    expect(waits).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000]);
    expect(t.waitMs('10.0.0.9', now)).to.equal(60_000); // capped
    // the supervisor, from another address, is not held back at all
    expect(t.begin('10.0.0.20', now)).to.equal(0);
    t.settle('10.0.0.20', true, now);
    // forgotten after forgetMs; a success clears at once
    expect(t.waitMs('10.0.0.9', now + 30 * 60_000)).to.equal(0);
    fail('10.0.0.7');
    expect(t.begin('10.0.0.7', now)).to.equal(0);
    t.settle('10.0.0.7', true, now);
    expect(t.waitMs('10.0.0.7', now)).to.equal(0);
  });

  it('parallel logins from one source past the free failures get one check at a time', function () {
    const t = new SourceThrottle(1, 1000);
    expect(t.begin('s', 0)).to.equal(0);
    t.settle('s', false, 0);
    const starts = Array.from({ length: 50 }, () => t.begin('s', 1000));
    expect(starts.filter((w) => w === 0)).to.have.length(1);
  });

  it('sources: IPv4 and IPv4-mapped as they are, IPv6 by /64', function () {
    expect(sourceOfAddress('127.0.0.2')).to.equal('127.0.0.2');
    expect(sourceOfAddress('::ffff:10.1.2.3')).to.equal('10.1.2.3');
    expect(sourceOfAddress('2001:db8:0:1:aaaa::1')).to.equal(sourceOfAddress('2001:db8:0:1:bbbb:cccc:dddd:eeee'));
    expect(sourceOfAddress('2001:db8:0:1::1')).to.not.equal(sourceOfAddress('2001:db8:0:2::1'));
    expect(sourceOfAddress(undefined)).to.equal('unknown');
  });
});
