/**
 * `Screener`: the screen (screen.ts) plus its stale timers: the screen stage's one API, called one
 * reading at a time by the twin-screen node, the tests and the benchmark. Each reading is screened
 * synchronously and returned. In addition, a tag with `staleAfterMs` set that receives no accepted
 * reading for that long (receiving clock = the scheduler's) gets one bad `stale` reading through
 * `onStale`: last value, tsMs = last tsMs + staleAfterMs. Once per silence; the next accepted
 * reading re-arms it.
 *
 * One lazy timer per silent tag: a reading does not reschedule anything, it only records its
 * arrival time; when the timer fires early (the tag was updated meanwhile) it re-schedules itself
 * for the remainder. So the cost per reading is a map lookup, not a timer.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Reading } from '../../model/reading.js';
import { screenInit, screenStep, type ScreenState, type TagState } from './screen.js';
import { staleDueInMs, staleReading } from './stale.js';

export class Screener {
  readonly state: ScreenState;
  private readonly timers = new Map<TagState, Subscription>();
  private readonly fire: (this: SchedulerAction<TagState>, t?: TagState) => void;

  /** `config` raw or validated (BAD_CONFIG here, not per reading). */
  constructor(
    config: unknown,
    private readonly onStale: (r: Reading) => void,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    const timers = this.timers;
    this.state = screenInit(config, (evicted) => {
      timers.get(evicted)?.unsubscribe();
      timers.delete(evicted);
    });
    this.fire = function (this: SchedulerAction<TagState>, t?: TagState): void {
      const tag = t as TagState;
      const left = staleDueInMs(tag.stale, tag.checks, scheduler.now());
      if (left === Infinity) {
        timers.delete(tag);
      } else if (left > 0) {
        this.schedule(tag, left); // updated since the timer was set: wait for the rest
      } else {
        timers.delete(tag);
        onStale(staleReading(tag.stale, tag.checks, tag.checks.severity.stale));
      }
    };
  }

  /** Screen one reading (returned as is when nothing was flagged). */
  step(r: Reading): Reading {
    const out = screenStep(this.state, r, this.scheduler.now());
    const t = this.state.lastTag as TagState;
    if (t.stale.armed && !this.timers.has(t)) this.timers.set(t, this.scheduler.schedule(this.fire, t.checks.staleAfterMs, t));
    return out;
  }

  /** Stop every stale timer (the node closes). */
  close(): void {
    for (const timer of this.timers.values()) timer.unsubscribe();
    this.timers.clear();
  }
}
