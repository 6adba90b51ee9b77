/**
 * The envelope over time, as RxJS operators for the approval gate: a reading cache the check needs,
 * the check applied at the moment an item passes (so a reading that has aged out in the meantime
 * blocks it), and approved changes turned into timed ramp steps. Time comes only from the injected
 * scheduler, so TestScheduler marble tests drive them in virtual time.
 */
import { concatMap, defer, filter, from, map, Observable, scan, startWith, timer, withLatestFrom } from 'rxjs';
import type { OperatorFunction, SchedulerLike } from 'rxjs';
import type { EnvelopeCheck, EnvelopeConfig } from '../model/control.js';
import type { Reading } from '../model/reading.js';
import { checkEnvelope, envelopeInputKeys, readingKey } from './envelope.js';
import { planRamp, requiredGapMs } from './ramp.js';

/** A change to carry out: the setpoint from fromValue to toValue. */
export interface SetpointChange {
  fromValue: number;
  toValue: number;
}

/** One write of a ramp (or the single write of a small change). */
export interface TimedStep extends SetpointChange {
  // toValue is this step's value; fromValue the value before it (the previous step's).
  /** 1-based position and count, as Command.step / Command.steps. */
  step: number;
  steps: number;
  /** When the step was emitted (scheduler clock). */
  atMs: number;
}

export interface Checked<T> {
  item: T;
  check: EnvelopeCheck;
}

/**
 * Keep the newest reading per `asset/tag` (by event time: a late, older reading never replaces a
 * newer one) and emit the map after each reading that changes it. Each emission is a new Map, so a
 * snapshot taken for a check never changes under it. `keys` limits the cache to the tags that matter.
 */
export function latestReadings(keys?: ReadonlySet<string>): OperatorFunction<Reading, ReadonlyMap<string, Reading>> {
  return (source) =>
    source.pipe(
      scan(
        (acc: { map: Map<string, Reading>; changed: boolean }, r: Reading) => {
          const key = readingKey(r.asset, r.tag);
          const held = acc.map.get(key);
          if ((keys && !keys.has(key)) || (held && held.tsMs > r.tsMs)) return { map: acc.map, changed: false };
          const next = new Map(acc.map);
          next.set(key, r);
          return { map: next, changed: true };
        },
        { map: new Map<string, Reading>(), changed: false },
      ),
      filter((acc) => acc.changed),
      map((acc) => acc.map as ReadonlyMap<string, Reading>),
    );
}

export interface WithinEnvelopeOptions {
  /** 'change' for whole approved changes (ramping allowed), 'step' for single writes. Default 'change'. */
  scope?: 'change' | 'step';
  /**
   * Time of the last change written to the setpoint. Without it the operator counts every item
   * that passes its check (and changes the value) as written at the time it passed.
   */
  lastChangeTsMs?: () => number | undefined;
}

/**
 * Check each item against the envelope at the moment it arrives (scheduler.now() is the check's
 * nowMs), with the latest readings from readings$ (none yet → MISSING_INPUT). Emits every item with
 * its check; the caller blocks and records what is not ok.
 */
export function withinEnvelope<T extends SetpointChange>(
  env: EnvelopeConfig,
  readings$: Observable<Reading>,
  scheduler: SchedulerLike,
  opts: WithinEnvelopeOptions = {},
): OperatorFunction<T, Checked<T>> {
  const scope = opts.scope ?? 'change';
  return (source) =>
    defer(() => {
      let lastOkMs: number | undefined; // per subscription: two gates never share pacing by accident
      const latest$ = readings$.pipe(latestReadings(envelopeInputKeys(env)), startWith(new Map() as ReadonlyMap<string, Reading>));
      return source.pipe(
        withLatestFrom(latest$),
        map(([item, readings]) => {
          const nowMs = scheduler.now();
          const lastChangeTsMs = opts.lastChangeTsMs ? opts.lastChangeTsMs() : lastOkMs;
          const check = checkEnvelope(env, { fromValue: item.fromValue, toValue: item.toValue, nowMs, lastChangeTsMs, readings, scope });
          if (!opts.lastChangeTsMs && check.ok && item.toValue !== item.fromValue) lastOkMs = nowMs;
          return { item, check };
        }),
      );
    });
}

/**
 * The steps of one change, each emitted when due by planRamp from startMs (default: now), then
 * complete. Plans whatever it is given: whether a change may be ramped (env.ramp) is the check's
 * business, before this.
 */
export function rampOf(
  env: EnvelopeConfig,
  change: SetpointChange,
  scheduler: SchedulerLike,
  startMs: number = scheduler.now(),
): Observable<TimedStep> {
  return defer(() => {
    const plan = planRamp(env, change.fromValue, change.toValue, startMs);
    return from(plan.map((p, i) => ({ p, i }))).pipe(
      // Each delay counts from the moment the step before was emitted (not from startMs), so a step
      // delivered late pushes the rest back: the gaps are never shorter than the plan's.
      concatMap(({ p, i }) =>
        timer(i === 0 ? Math.max(0, p.atMs - scheduler.now()) : p.atMs - plan[i - 1]!.atMs, scheduler).pipe(
          map(
            (): TimedStep => ({
              fromValue: i === 0 ? change.fromValue : plan[i - 1]!.value,
              toValue: p.value,
              step: i + 1,
              steps: plan.length,
              atMs: scheduler.now(),
            }),
          ),
        ),
      ),
    );
  });
}

/**
 * Approved changes → timed steps, one change at a time (a second change waits until the first has
 * finished: two ramps never interleave), and the first step of each change no sooner after the last
 * step before it than the dwell and rate of that step allow. `lastChangeTsMs` is the time of the last
 * change made before the stream started, if known.
 */
export function rampSteps(env: EnvelopeConfig, scheduler: SchedulerLike, lastChangeTsMs?: number): OperatorFunction<SetpointChange, TimedStep> {
  return (source) =>
    defer(() => {
      let lastMs = lastChangeTsMs;
      return source.pipe(
        concatMap((change) => {
          const plan = planRamp(env, change.fromValue, change.toValue, 0);
          if (plan.length === 0) return [];
          const now = scheduler.now();
          const earliest = lastMs === undefined ? now : lastMs + Math.ceil(requiredGapMs(env, change.fromValue, plan[0]!.value));
          return rampOf(env, change, scheduler, Math.max(now, earliest)).pipe(
            map((s) => {
              lastMs = s.atMs; // the time it went out, not the planned one: pacing counts from the real write
              return s;
            }),
          );
        }),
      );
    });
}
