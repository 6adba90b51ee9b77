/**
 * `screenReadings(config, scheduler)`: the screen as an RxJS operator. Each input reading comes
 * out once, synchronously, screened (see screen.ts). In addition, a tag with `staleAfterMs` set
 * that receives no accepted reading for that long (receiving clock = the scheduler's) gets one
 * bad `stale` reading: last value, tsMs = last tsMs + staleAfterMs. Once per silence; the next
 * accepted reading re-arms it.
 *
 * One lazy timer per silent tag: a reading does not reschedule anything, it only records its
 * arrival time; when the timer fires early (the tag was updated meanwhile) it re-schedules itself
 * for the remainder. So the cost per reading is a map lookup, not a timer.
 */
import { Observable, asyncScheduler, type OperatorFunction, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Reading } from '../../model/reading.js';
import { screenInit, screenStep, type ScreenState, type TagState } from './screen.js';
import { staleDueInMs, staleReading } from './stale.js';

/**
 * @param config raw or validated ScreenConfig; invalid config throws TwinError BAD_CONFIG here,
 *   when the operator is created, not inside the stream.
 * @param onState receives the screen state once per subscription (for status and inspection).
 */
export function screenReadings(
  config: unknown,
  scheduler: SchedulerLike = asyncScheduler,
  onState?: (s: ScreenState) => void,
): OperatorFunction<Reading, Reading> {
  screenInit(config); // validate eagerly
  return (source) =>
    new Observable<Reading>((subscriber) => {
      const timers = new Map<TagState, Subscription>();
      const state = screenInit(config, (evicted) => {
        timers.get(evicted)?.unsubscribe();
        timers.delete(evicted);
      });
      onState?.(state);

      function fire(this: SchedulerAction<TagState>, t?: TagState): void {
        const tag = t as TagState;
        const left = staleDueInMs(tag.stale, tag.checks, scheduler.now());
        if (left === Infinity) {
          timers.delete(tag);
        } else if (left > 0) {
          this.schedule(tag, left); // updated since the timer was set: wait for the rest
        } else {
          timers.delete(tag);
          subscriber.next(staleReading(tag.stale, tag.checks, tag.checks.severity.stale));
        }
      }

      const sub = source.subscribe({
        next(r) {
          const out = screenStep(state, r, scheduler.now());
          const t = state.lastTag as TagState;
          if (t.stale.armed && !timers.has(t)) {
            timers.set(t, scheduler.schedule(fire, t.checks.staleAfterMs, t));
          }
          subscriber.next(out);
        },
        error(e) {
          subscriber.error(e);
        },
        complete() {
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        for (const timer of timers.values()) timer.unsubscribe();
        timers.clear();
      };
    });
}
