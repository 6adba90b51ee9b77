/**
 * A SchedulerLike whose clock moves only when a test says so, for async tests (a ledger that
 * answers through promises) where TestScheduler's synchronous flush cannot wait. advanceTo() runs
 * due actions in time order and lets promises settle after each.
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

interface Queued {
  atMs: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export const settle = () => new Promise<void>((r) => setImmediate(r));

export class ManualScheduler implements SchedulerLike {
  private t: number;
  private seq = 0;
  private queue: Queued[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const q: Queued = { atMs: this.t + delay, seq: this.seq++, run: () => work.call(action, state), cancelled: false };
    const sub = new Subscription(() => {
      q.cancelled = true;
    });
    const action = Object.assign(sub, {
      schedule: (s?: T, d = 0) => this.schedule(work, d, s),
    }) as unknown as SchedulerAction<T>;
    this.queue.push(q);
    return sub;
  }

  /** Run everything due up to `ms` (in time order), settling promises between actions. */
  async advanceTo(ms: number): Promise<void> {
    await settle();
    for (;;) {
      const due = this.queue.filter((q) => !q.cancelled && q.atMs <= ms).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (!due) break;
      this.queue = this.queue.filter((q) => q !== due);
      this.t = Math.max(this.t, due.atMs);
      due.run();
      for (let i = 0; i < 5; i++) await settle();
    }
    this.t = Math.max(this.t, ms);
    for (let i = 0; i < 5; i++) await settle();
  }

  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }
}
