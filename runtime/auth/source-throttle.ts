/**
 * The limit on failed logins per source address (a growing delay, never a lock on a user name),
 * and the source an address is counted under.
 */

/**
 * Failed logins per source address, with a delay that grows: the first `freeFailures` failures
 * cost nothing (typos), then each one doubles the wait before the next attempt from that source
 * (`baseDelayMs`, 2×, 4×, … up to `maxDelayMs`). Never a lock on a user name: a stranger who
 * guesses a supervisor's password from one address slows only that address down. A source is
 * forgotten `forgetMs` after its last failure, and a success clears it. Attempts during the wait
 * are refused without a password check and do not lengthen it; a check under way counts, so
 * parallel attempts from one source get one check at a time once past the free failures.
 */
export class SourceThrottle {
  private readonly sources = new Map<string, { failures: number; lastFailMs: number; inflight: number }>();

  constructor(
    readonly freeFailures = 3,
    readonly baseDelayMs = 1000,
    readonly maxDelayMs = 5 * 60_000,
    readonly forgetMs = 30 * 60_000,
    /** Sources remembered at most (the oldest failures are forgotten first): bounded memory under a spray of addresses. */
    readonly maxSources = 10_000,
  ) {}

  /** The wait after `failures` failures (0 for the free ones). */
  delayAfter(failures: number): number {
    if (failures < this.freeFailures) return 0;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(30, failures - this.freeFailures));
  }

  /** The wait before the next attempt from `source` (0 = now), without reserving anything. */
  waitMs(source: string, nowMs: number): number {
    const s = this.live(source, nowMs);
    return s ? Math.max(0, s.lastFailMs + this.delayAfter(s.failures) - nowMs) : 0;
  }

  /** Reserve one check for `source`: 0 = go (then `settle` once), else milliseconds to wait. */
  begin(source: string, nowMs: number): number {
    const s = this.live(source, nowMs);
    if (!s) {
      this.sources.set(source, { failures: 0, lastFailMs: -Infinity, inflight: 1 });
      this.evict();
      return 0;
    }
    const waitMs = Math.max(0, s.lastFailMs + this.delayAfter(s.failures) - nowMs);
    if (waitMs > 0) return waitMs;
    // past the free failures, one check at a time (each could fail and double the wait)
    if (s.inflight > 0 && s.failures + s.inflight >= this.freeFailures) return this.baseDelayMs;
    s.inflight++;
    return 0;
  }

  settle(source: string, ok: boolean, nowMs: number): void {
    const s = this.sources.get(source);
    if (!s) return;
    s.inflight = Math.max(0, s.inflight - 1);
    if (ok) {
      if (s.inflight === 0) this.sources.delete(source);
      else s.failures = 0;
      return;
    }
    s.failures++;
    s.lastFailMs = nowMs;
    // re-insert: the Map's order is then the order of last failures (oldest evicted first)
    this.sources.delete(source);
    this.sources.set(source, s);
  }

  private live(source: string, nowMs: number) {
    const s = this.sources.get(source);
    if (s && s.inflight === 0 && nowMs - s.lastFailMs >= this.forgetMs) {
      this.sources.delete(source);
      return undefined;
    }
    return s;
  }

  private evict(): void {
    for (const k of this.sources.keys()) {
      if (this.sources.size <= this.maxSources) break;
      this.sources.delete(k);
    }
  }
}

/** The throttled source of a request's address: IPv4 (or IPv4-mapped) as is, IPv6 by its /64 (one host usually has a whole /64). */
export function sourceOfAddress(address: string | undefined): string {
  const a = (address ?? '').trim();
  if (a === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return (
    groups
      .slice(0, 4)
      .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
      .join(':') + '::/64'
  );
}
