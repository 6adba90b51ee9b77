/**
 * The gate machine as an RxJS operator: inputs in, effects out, with time and the timer taken from
 * an injected SchedulerLike (wall clock in a flow, virtual time under TestScheduler). Expiry, dwell
 * and the spacing of ramp steps are all timers re-armed after every input for the machine's next
 * wake-up, so nothing polls.
 */
import { Observable, mergeMap, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Proposal } from '../model/control.js';
import type { BaseProposal } from './gate-kind.js';
import type { GateMachine } from './gate-machine.js';
import type { GateEffect, GateInput } from './gate-state.js';

/** The effects one at a time, in order. */
export function gateEffects<P extends BaseProposal = Proposal>(
  machine: GateMachine<P>,
  scheduler: SchedulerLike,
): OperatorFunction<GateInput<P>, GateEffect<P>> {
  return (input$) =>
    input$.pipe(
      gateEffectBatches(machine, scheduler),
      mergeMap((batch) => batch),
    );
}

/** The effects of each input (or timer tick) as one array; empty batches are not emitted. */
export function gateEffectBatches<P extends BaseProposal = Proposal>(
  machine: GateMachine<P>,
  scheduler: SchedulerLike,
): OperatorFunction<GateInput<P>, GateEffect<P>[]> {
  return (input$) =>
    new Observable<GateEffect<P>[]>((subscriber) => {
      let timer: Subscription | undefined;
      let timerAtMs = Infinity;

      // The wake-up is computed for the instant the machine acted at, not a fresh now(): on a wall
      // clock a millisecond may pass in between, and a step due at exactly that millisecond would
      // then no longer be "in the future" and never get its timer.
      const arm = (nowMs: number): void => {
        const atMs = machine.nextWakeMs(nowMs);
        if (atMs === timerAtMs) return;
        timer?.unsubscribe();
        timer = undefined;
        timerAtMs = atMs;
        if (atMs === Infinity) return;
        timer = scheduler.schedule(
          () => {
            timer = undefined;
            timerAtMs = Infinity;
            const tickMs = scheduler.now();
            emit(machine.handle({ kind: 'tick' }, tickMs), tickMs);
          },
          Math.max(0, atMs - scheduler.now()),
        );
      };
      const emit = (effects: GateEffect<P>[], nowMs: number): void => {
        if (effects.length > 0) subscriber.next(effects);
        arm(nowMs);
      };

      const startMs = scheduler.now();
      emit(machine.start(startMs), startMs);
      const sub = input$.subscribe({
        next: (input) => {
          let effects: GateEffect<P>[];
          const nowMs = scheduler.now();
          try {
            effects = machine.handle(input, nowMs);
          } catch (err) {
            subscriber.error(err); // a bug in the machine: stop rather than act on a broken state
            return;
          }
          emit(effects, nowMs);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
