/**
 * The deterministic core of the simulator: model state + the fixed step / sample schedule, and a
 * headless runner for generating data sets (no servers, no clocks).
 */
import { parseSimCommand, SimError, type SimCommand } from './faults.js';
import { applyCommand, initialState, sample, step as stepModel, type PlantState, type Readings } from './model.js';
import { TAG_NAMES } from './tags.js';

export interface PlantModelOptions {
  seed?: number;
  /** Simulated time of the first sample, epoch ms (default: now). */
  startTsMs?: number;
  /** Simulated interval between samples (default 1000). A multiple of stepMs. */
  publishIntervalMs?: number;
  /** Fixed model step in simulated ms (default 100). Part of the determinism key. */
  stepMs?: number;
  /** Simulated days at nominal speed until the gearbox bearing fails (default 30). */
  daysToFailure?: number;
  /** Wear at start, 0..1 (default 0). */
  initialWear?: number;
}

export function resolveModelOptions(o: PlantModelOptions) {
  const stepMs = o.stepMs ?? 100;
  const publishIntervalMs = o.publishIntervalMs ?? 1000;
  const seed = o.seed ?? 1;
  const daysToFailure = o.daysToFailure ?? 30;
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new SimError('OUT_OF_RANGE', 'stepMs must be a positive integer');
  if (!Number.isInteger(publishIntervalMs) || publishIntervalMs < stepMs || publishIntervalMs % stepMs !== 0) {
    throw new SimError('OUT_OF_RANGE', `publishIntervalMs must be a multiple of stepMs (${stepMs})`);
  }
  if (!Number.isFinite(seed)) throw new SimError('NOT_FINITE', 'seed must be a number');
  if (!(daysToFailure > 0)) throw new SimError('OUT_OF_RANGE', 'daysToFailure must be > 0');
  return { stepMs, publishIntervalMs, seed, daysToFailure, startTsMs: o.startTsMs ?? Date.now(), initialWear: o.initialWear };
}

/**
 * The deterministic core: model state + the step/sample schedule. Commands are applied between
 * steps at the current simulated time.
 */
export class PlantEngine {
  state: PlantState;
  readonly stepMs: number;
  readonly publishIntervalMs: number;
  private readonly startTsMs: number;
  private stepsSinceSample = 0;
  last: { tsMs: number; readings: Readings };

  constructor(
    o: PlantModelOptions,
    private readonly emit: (tsMs: number, readings: Readings) => void = () => undefined,
  ) {
    const r = resolveModelOptions(o);
    this.stepMs = r.stepMs;
    this.publishIntervalMs = r.publishIntervalMs;
    this.startTsMs = r.startTsMs;
    this.state = initialState({ seed: r.seed, startTsMs: r.startTsMs, daysToFailure: r.daysToFailure, initialWear: r.initialWear });
    this.last = this.takeSample();
  }

  private takeSample(): { tsMs: number; readings: Readings } {
    const { state, readings } = sample(this.state);
    this.state = state;
    this.last = { tsMs: state.tMs, readings };
    this.emit(state.tMs, readings);
    return this.last;
  }

  /** Run whole steps up to `simMs` (the remainder is dropped: callers keep time in whole steps). */
  advance(simMs: number): void {
    const steps = Math.floor(simMs / this.stepMs);
    const perSample = this.publishIntervalMs / this.stepMs;
    for (let i = 0; i < steps; i++) {
      this.state = stepModel(this.state, this.stepMs);
      if (++this.stepsSinceSample === perSample) {
        this.stepsSinceSample = 0;
        this.takeSample();
      }
    }
  }

  apply(cmd: SimCommand): void {
    this.state = applyCommand(this.state, cmd);
  }

  get elapsedMs(): number {
    return this.state.tMs - this.startTsMs;
  }
}
export interface HeadlessRow {
  tsMs: number;
  readings: Readings;
}

/**
 * Run the model without servers for `durationMs` of simulated time and return every sample
 * (the first one at startTsMs). `commands` are applied when their offset from the start is reached.
 */
export function runHeadless(
  options: PlantModelOptions,
  durationMs: number,
  commands: Array<{ atMs: number; command: SimCommand | string }> = [],
): HeadlessRow[] {
  const rows: HeadlessRow[] = [];
  const engine = new PlantEngine(options, (tsMs, readings) => rows.push({ tsMs, readings }));
  const pending = [...commands].sort((a, b) => a.atMs - b.atMs);
  for (const c of pending) {
    if (c.atMs > engine.elapsedMs) engine.advance(Math.min(c.atMs, durationMs) - engine.elapsedMs);
    if (c.atMs <= durationMs) engine.apply(typeof c.command === 'string' ? parseSimCommand(c.command) : c.command);
  }
  engine.advance(durationMs - engine.elapsedMs);
  return rows;
}

/** Rows as CSV: `tsMs,<tag>...`; a bad-quality sample is an empty cell. */
export function rowsToCsv(rows: HeadlessRow[]): string {
  const lines = [['tsMs', ...TAG_NAMES].join(',')];
  for (const r of rows)
    lines.push([r.tsMs, ...TAG_NAMES.map((t) => (r.readings[t].quality === 'good' ? r.readings[t].value : ''))].join(','));
  return lines.join('\n') + '\n';
}
