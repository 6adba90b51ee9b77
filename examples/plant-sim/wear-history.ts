/**
 * Run-to-failure histories of the plant simulator's gearbox bearing, from the simulator's own model
 * (model.ts): each unit is a line started with its own wear rate (days to
 * failure), initial wear and noise seed, run at nominal speed and sampled like a historian until
 * the bearing fails. Failure is what the plant sees: the PLC's vibration trip (true vibration above
 * PLANT.tripVibrationMmS, at wear ≈ 0.97), which stops the screw; wear 1 is never reached by a
 * running line because a stopped screw does not wear. The last row is the trip sample.
 * Here, beside the simulator, because the runtime must not depend on an example.
 */
import { TwinError } from '../../runtime/model/errors.js';
import { seededShuffle } from '../../runtime/maintenance/rul-model.js';
import type { UnitHistory } from '../../runtime/maintenance/health-index.js';
import { initialState, sample, step } from './model.js';
import { isTagName, type TagName } from './tags.js';

export interface SimWearOptions {
  units: number;
  /** first noise seed; unit i uses seed + i (default 1) */
  seed?: number;
  /** days to failure at nominal speed, drawn evenly over [min, max] (default [20, 40]) */
  daysToFailure?: [number, number];
  /** initial wear, drawn evenly over [min, max] (default [0, 0.3]) */
  initialWear?: [number, number];
  /** historian sampling interval (default 1 h) */
  sampleIntervalMs?: number;
  /** model step; the model's lags are exact for any step (default 60 s) */
  stepMs?: number;
  /** simulator tags recorded as channels (default ['vibration']) */
  tags?: string[];
  /** event time of every unit's first sample (default 2026-01-01T00:00Z) */
  startTsMs?: number;
  /** units that have not failed after this long end there (default 200 days) and are refused */
  maxDays?: number;
}

/** Spread `n` values evenly over [lo, hi], shuffled with the seed so the two draws are not paired. */
function spread(n: number, [lo, hi]: [number, number], seed: number): number[] {
  return seededShuffle(
    Array.from({ length: n }, (_, i) => (n === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (n - 1))),
    seed,
  );
}

export function simWearHistories(options: SimWearOptions): UnitHistory[] {
  const o = {
    seed: 1,
    daysToFailure: [20, 40] as [number, number],
    initialWear: [0, 0.3] as [number, number],
    sampleIntervalMs: 3_600_000,
    stepMs: 60_000,
    tags: ['vibration'],
    startTsMs: Date.UTC(2026, 0, 1),
    maxDays: 200,
    ...options,
  };
  if (!(Number.isInteger(o.units) && o.units >= 1)) throw new TwinError('BAD_CONFIG', `units must be an integer >= 1, got ${o.units}`);
  if (!(Number.isInteger(o.stepMs) && o.stepMs > 0 && o.sampleIntervalMs % o.stepMs === 0 && o.sampleIntervalMs > 0)) {
    throw new TwinError('BAD_CONFIG', `sampleIntervalMs (${o.sampleIntervalMs}) must be a positive multiple of stepMs (${o.stepMs})`);
  }
  if (!(o.daysToFailure[0] > 0 && o.daysToFailure[1] >= o.daysToFailure[0]))
    throw new TwinError('BAD_CONFIG', 'daysToFailure must be [min, max] with 0 < min <= max');
  if (!(o.initialWear[0] >= 0 && o.initialWear[1] >= o.initialWear[0] && o.initialWear[1] < 0.9))
    throw new TwinError('BAD_CONFIG', 'initialWear must be [min, max] within 0..0.9');
  const unknown = o.tags.find((t) => !isTagName(t));
  if (unknown !== undefined) throw new TwinError('BAD_CONFIG', `unknown simulator tag '${unknown}'`);
  const tags = o.tags as TagName[];
  const days = spread(o.units, o.daysToFailure, o.seed);
  const wear0 = spread(o.units, o.initialWear, o.seed + 7919);
  const perSample = o.sampleIntervalMs / o.stepMs;
  const maxSteps = Math.ceil((o.maxDays * 86_400_000) / o.stepMs);
  return days.map((daysToFailure, i) => {
    let state = initialState({ seed: o.seed + i, startTsMs: o.startTsMs, daysToFailure, initialWear: wear0[i] });
    const tsMs: number[] = [],
      values: number[][] = [];
    const record = () => {
      const s = sample(state);
      state = s.state;
      tsMs.push(state.tMs);
      values.push(tags.map((t) => s.readings[t].value));
    };
    record();
    for (let k = 1; ; k++) {
      if (k > maxSteps) throw new TwinError('MODEL', `unit ${i}: no failure within ${o.maxDays} days`);
      state = step(state, o.stepMs);
      // the trip step's readings still show the vibration that tripped it (the screw stops after)
      if (state.alarm) {
        record();
        break;
      }
      if (k % perSample === 0) record();
    }
    return { asset: `sim-bearing-${i + 1}`, channels: [...tags], tsMs, values };
  });
}
