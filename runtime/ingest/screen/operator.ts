/**
 * `screenReadings(config, scheduler)`: the screen as an RxJS operator over a `Screener`
 * (screener.ts): each input reading comes out once, synchronously, screened; a silent tag's stale
 * reading comes out when its timer fires.
 */
import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Reading } from '../../model/reading.js';
import { screenInit, type ScreenState } from './screen.js';
import { Screener } from './screener.js';

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
      const screener = new Screener(config, (r) => subscriber.next(r), scheduler);
      onState?.(screener.state);
      const sub = source.subscribe({
        next(r) {
          subscriber.next(screener.step(r));
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
        screener.close();
      };
    });
}
