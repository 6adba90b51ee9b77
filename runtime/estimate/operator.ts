/**
 * `estimate(config)`: the estimator as an RxJS operator, Reading → EstimateOutcome, one outcome
 * per reading, synchronously, in arrival order, keyed per asset and tag (see step.ts for the
 * rules). Bad input never errors the stream: an out-of-order reading comes out as an outcome with
 * `error` set and is not applied. The operator keeps no timers (dt comes from event time, the
 * readings' tsMs), so it needs no scheduler; it runs the same under TestScheduler, live or in a
 * replay.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { Estimate } from '../model/estimate.js';
import type { Reading } from '../model/reading.js';
import { validateEstimateConfig, type EstimateConfig } from './config.js';
import { estimateStep, estimatorInit, type EstimateOutcome, type EstimatorState } from './step.js';

/**
 * @param config raw or validated EstimateConfig; invalid config throws TwinError BAD_CONFIG here,
 *   when the operator is created, not inside the stream.
 * @param onState receives the estimator state once per subscription (for status and inspection).
 */
export function estimate(config: unknown, onState?: (s: EstimatorState) => void): OperatorFunction<Reading, EstimateOutcome> {
  const cfg: EstimateConfig = validateEstimateConfig(config);
  return (source) =>
    new Observable<EstimateOutcome>((subscriber) => {
      const state = estimatorInit(cfg);
      onState?.(state);
      return source.subscribe({
        next(r) {
          subscriber.next(estimateStep(state, r));
        },
        error(e) {
          subscriber.error(e);
        },
        complete() {
          subscriber.complete();
        },
      });
    });
}

/** Only the estimates (outcomes with errors or notes dropped): for pipelines that just want values. */
export function estimates(config: unknown): OperatorFunction<Reading, Estimate> {
  const op = estimate(config);
  return (source) =>
    new Observable<Estimate>((subscriber) =>
      op(source).subscribe({
        next(o) {
          if (o.estimate !== undefined) subscriber.next(o.estimate);
        },
        error(e) {
          subscriber.error(e);
        },
        complete() {
          subscriber.complete();
        },
      }),
    );
}
