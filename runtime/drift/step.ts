/**
 * `driftStep(detector, params, options, tags, input)`: any univariate detector over Readings, the
 * step the drift engine (drift-engine.ts) and the benchmark call. One detector state per
 * `asset/tag` (created on the tag's first reading), fed in the order the readings arrive, in event
 * time only (`tsMs`; no clock, no scheduler needed). `params` are the detector's validated
 * parameters (`detector.params(raw)`), `options` from `validateDriftOptions`.
 *
 * Per input exactly one output:
 *  - `score`: the reading moved its tag's detector; carries the AnomalyScore and, when the
 *    detector flagged this reading, a DriftEvent (kind 'unclassified': classification is later).
 *  - `skipped`: bad quality (never moves a detector), or uncertain with `uncertain: 'skip'`.
 *  - `rejected`: not a well-formed Reading (NaN, Infinity, missing fields) or older than the
 *    tag's last accepted reading; the TwinError says why. Nothing is thrown for bad input
 *    (ARCHITECTURE.md principle 3).
 */
import type { AnomalyScore, DriftEvent } from '../model/drift.js';
import { TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';
import { assertReading, type Reading } from '../model/reading.js';
import type { AnyDetector } from './detector.js';

export interface DriftStepOptions {
  /** What uncertain readings do: 'skip' (default) leaves the detector alone; 'use' feeds them,
   *  and every score and event resting on them is marked uncertain. */
  uncertain?: 'skip' | 'use';
}

export type DriftOutput =
  | { type: 'score'; reading: Reading; score: AnomalyScore; event: DriftEvent | null }
  | { type: 'skipped'; reading: Reading; reason: 'bad-quality' | 'uncertain-quality' }
  | { type: 'rejected'; input: unknown; error: TwinError };

export interface DriftTagEntry {
  state: unknown;
  lastTsMs: number;
  /** An uncertain reading went into the detector's current run. */
  uncertainRun: boolean;
  /** The last step flagged a drift: the detector starts a new run on the next sample. */
  flagged: boolean;
}

export function validateDriftOptions(options: unknown): Required<DriftStepOptions> {
  const o = (options ?? {}) as DriftStepOptions;
  if (typeof o !== 'object') throw new TwinError('BAD_CONFIG', 'drift options must be an object');
  const uncertain = o.uncertain ?? 'skip';
  if (uncertain !== 'skip' && uncertain !== 'use') {
    throw new TwinError('BAD_CONFIG', `uncertain must be 'skip' or 'use', got ${JSON.stringify(uncertain)}`);
  }
  return { uncertain };
}

/** One input through `detector`, with the state of its asset/tag kept in `tags`. */
export function driftStep(
  detector: AnyDetector,
  params: unknown,
  opts: Required<DriftStepOptions>,
  tags: Map<string, DriftTagEntry>,
  input: unknown,
): DriftOutput {
  try {
    assertReading(input);
  } catch (e) {
    return { type: 'rejected', input, error: e as TwinError };
  }
  return driftStepReading(detector, params, opts, tags, `${input.asset}/${input.tag}`, input);
}

/**
 * `driftStep` for a Reading the caller has already checked (assertReading), with its state key
 * `asset/tag` at hand: the drift engine keeps one key string per tag instead of joining one per reading.
 */
export function driftStepReading(
  detector: AnyDetector,
  params: unknown,
  opts: Required<DriftStepOptions>,
  tags: Map<string, DriftTagEntry>,
  key: string,
  r: Reading,
): DriftOutput {
  if (r.quality === 'bad') return { type: 'skipped', reading: r, reason: 'bad-quality' };
  if (r.quality === 'uncertain' && opts.uncertain === 'skip') return { type: 'skipped', reading: r, reason: 'uncertain-quality' };

  let e = tags.get(key);
  if (e === undefined) {
    e = { state: detector.init(params), lastTsMs: -Infinity, uncertainRun: false, flagged: false };
    tags.set(key, e);
  } else if (r.tsMs < e.lastTsMs) {
    return {
      type: 'rejected',
      input: r,
      error: new TwinError(
        'OUT_OF_ORDER',
        `${key}: reading at ${new Date(r.tsMs).toISOString()} is older than the last one (${new Date(e.lastTsMs).toISOString()}); not fed to ${detector.name}`,
      ),
    };
  }
  e.lastTsMs = r.tsMs;
  if (e.flagged) e.uncertainRun = false;
  if (r.quality === 'uncertain') e.uncertainRun = true;

  const s = e.state;
  const drift = detector.step(s, r.value, r.tsMs);
  e.flagged = drift;
  const quality: Quality = e.uncertainRun ? 'uncertain' : 'good';
  const scoreValue = detector.score(s);
  const score: AnomalyScore = { asset: r.asset, tag: r.tag, tsMs: r.tsMs, method: detector.name, score: scoreValue, quality };
  let event: DriftEvent | null = null;
  if (drift) {
    const c = detector.change(s);
    const magnitude = c.meanAfter - c.meanBefore;
    event = {
      asset: r.asset,
      tag: r.tag,
      tsMs: r.tsMs,
      startTsMs: Number.isFinite(c.startT) ? Math.min(c.startT, r.tsMs) : r.tsMs,
      kind: 'unclassified',
      method: detector.name,
      direction: c.direction,
      magnitude: Number.isFinite(magnitude) ? magnitude : 0,
      evidence: {
        statistic: detector.statistic(s),
        threshold: detector.threshold(s),
        score: scoreValue,
        samples: detector.count(s),
        startIndex: c.startIndex,
        meanBefore: c.meanBefore,
        meanAfter: c.meanAfter,
      },
      quality,
    };
  }
  return { type: 'score', reading: r, score, event };
}
