/**
 * The limit on wrong re-entered (signature) passwords per user, and one password check under it.
 */
import type { PasswordCheck } from './admin-auth.js';

/**
 * Wrong re-entered passwords per user (only a logged-in user can re-enter a password, so only that
 * user, or someone holding their token, can use this up): after `maxFailures` inside `windowMs` the
 * user may not sign until the oldest failure leaves the window. A check under way counts against
 * the limit until it is settled, so parallel attempts cannot get more than `maxFailures` password
 * checks through (use `checkWithLimit`).
 */
export class PasswordFailures {
  private readonly failures = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();

  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 10 * 60_000,
  ) {}

  /** Milliseconds until this user may try again (0 = now). */
  lockedForMs(user: string, nowMs: number): number {
    const recent = this.recent(user, nowMs);
    if (recent.length >= this.maxFailures) return recent[0] + this.windowMs - nowMs;
    // checks under way could each still fail: wait for them rather than start more than the limit allows
    return recent.length + (this.inflight.get(user) ?? 0) >= this.maxFailures ? 1000 : 0;
  }

  /** Reserve one password check: 0 = go (then `settle` exactly once), else milliseconds to wait. */
  begin(user: string, nowMs: number): number {
    const wait = this.lockedForMs(user, nowMs);
    if (wait === 0) this.inflight.set(user, (this.inflight.get(user) ?? 0) + 1);
    return wait;
  }

  /** End a reserved check: 'ok' clears the user's failures, 'wrong' adds one, 'none' (no password was checked) only releases. */
  settle(user: string, outcome: 'ok' | 'wrong' | 'none', nowMs: number): void {
    const n = (this.inflight.get(user) ?? 1) - 1;
    if (n > 0) this.inflight.set(user, n);
    else this.inflight.delete(user);
    if (outcome === 'ok') this.failures.delete(user);
    else if (outcome === 'wrong') this.failures.set(user, [...this.recent(user, nowMs), nowMs]);
  }

  fail(user: string, nowMs: number): void {
    this.failures.set(user, [...this.recent(user, nowMs), nowMs]);
  }

  succeed(user: string): void {
    this.failures.delete(user);
  }

  private recent(user: string, nowMs: number): number[] {
    return (this.failures.get(user) ?? []).filter((t) => nowMs - t < this.windowMs);
  }
}

/**
 * One password check under the limit: refused (with the wait) without calling `check` when the
 * user is over it; otherwise the check, counted. `nowMs` is read again when the check ends.
 */
export async function checkWithLimit(
  failures: PasswordFailures,
  user: string,
  nowMs: () => number,
  check: () => Promise<PasswordCheck>,
): Promise<{ check: PasswordCheck } | { lockedMs: number }> {
  const wait = failures.begin(user, nowMs());
  if (wait > 0) return { lockedMs: wait };
  let result: PasswordCheck = 'wrong'; // a check that throws counts as a wrong password
  try {
    result = await check();
    return { check: result };
  } finally {
    // 'unsupported' is no attempt at a password: it neither counts nor clears
    failures.settle(user, result === 'unsupported' ? 'none' : result, nowMs());
  }
}
