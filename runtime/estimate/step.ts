/**
 * The estimation step: `estimateStep(state, reading) → outcome`, pure apart from mutating
 * `state`. It routes a reading to the estimate it feeds (per asset and tag), keeps event time,
 * applies the quality rules and builds the Estimate record. It is the estimate stage's one API:
 * the twin-estimate node, the unit tests and the benchmark all call it per reading.
 *
 * Rules (documented for users in the twin-estimate help):
 * - Event time: dt is the difference of `tsMs`. A reading whose tsMs is not after the last one of
 *   the same sensor (or before the estimate's time) is rejected with an OUT_OF_ORDER error and
 *   changes nothing.
 * - Gap: dt > maxGapMs re-initialises the estimate from the reading, marked `uncertain`
 *   (`gap of … s > maxGapMs: re-initialised`). Shorter gaps are predicted over: the variance grows.
 * - A `bad` reading is not applied: the estimate is predicted to its tsMs and emitted `uncertain`
 *   (`input bad: prediction only`), so the next good reading finds the same state it would have
 *   found without it (prediction over dt1 then dt2 equals prediction over dt1 + dt2). In fusion a
 *   bad sensor reading is skipped (no output): the other sensors carry the estimate. A bad first
 *   reading (or one after a long gap) gives no estimate.
 * - An `uncertain` reading is applied with R × uncertainVarFactor and the estimate is `uncertain`.
 *   It does not feed the noise adaptation, the NIS check or the hybrid's regression.
 * - The estimate is `uncertain` while the windowed NIS says the model does not fit, while a
 *   hybrid's inputs lie outside its fitted range (or it is not fitted yet), and while an input
 *   model has no input value or its input's last reading was not good.
 */
import type { Estimate } from '../model/estimate.js';
import { TwinError } from '../model/errors.js';
import type { Quality } from '../model/quality.js';
import type { Reading } from '../model/reading.js';
import { adaptQScale, adaptR, noiseReset, noiseWindow, type NoiseWindow } from './adaptive-noise.js';
import type { EstimateConfig } from './config.js';
import { FirstOrder } from './first-order.js';
import { Hybrid } from './hybrid.js';
import { LocalLevel } from './local-level.js';
import { LocalTrend } from './local-trend.js';
import type { StateModel } from './model.js';
import { nisInit, nisMisfit, nisPush, nisReason, nisReset, type NisTracker } from './nis.js';

/** One measurement channel of an estimate: a sensor tag with its own R and time order. */
export interface Channel {
  tag: string;
  /** Current measurement variance (adapted when adaptive R is on). */
  r: number;
  /** Configured measurement variance (the centre of the adaptation bounds). */
  r0: number;
  lastTsMs: number;
  rWin: NoiseWindow | undefined;
}

/** One estimated quantity: an asset and the tag its Estimates carry. */
export interface Track {
  asset: string;
  tag: string;
  model: StateModel;
  hybrid: Hybrid | undefined;
  /** Event time of the state; NaN before the first (or after an abandoned) initialisation. */
  tsMs: number;
  nis: NisTracker | undefined;
  qWin: NoiseWindow | undefined;
  qScale: number;
  /** The single channel (every model but fusion). */
  ch: Channel | undefined;
  /** Fusion: one channel per sensor tag. */
  chans: Map<string, Channel> | undefined;
  /** Input models: the input value (NaN until known), its time and quality. */
  u: number;
  uTsMs: number;
  uQuality: Quality;
  uReason: string | undefined;
}

export interface EstimatorState {
  cfg: EstimateConfig;
  /** Tracks by `asset/tag` of the estimate (in the order they were made: the oldest goes first at maxTags). */
  tracks: Map<string, Track>;
  /** The same tracks by asset, then tag: the lookup per reading, with no `asset/tag` string joined for it. */
  byAsset: Map<string, Map<string, Track>>;
  /** Input models: measured tag → input tag, and input tag → measured tags. */
  inputOf: Map<string, string>;
  drives: Map<string, string[]>;
  /** Input tag → the note of its readings (`input for …`), made once. */
  inputNotes: Map<string, string>;
  /** Fusion: sensor tag → its configured R. */
  sensorR: Map<string, number>;
}

/** What one reading produced: an estimate, an error (not applied), or a note (consumed silently). */
export interface EstimateOutcome {
  reading: Reading;
  estimate?: Estimate;
  error?: TwinError;
  note?: string;
}

/** Notes of readings the estimator does not use (most of a line's tags, for a model of a few). */
const NOT_CONFIGURED = 'tag is not configured: ignored';
const NOT_A_SENSOR = 'tag is not a configured sensor: ignored';

export function estimatorInit(cfg: EstimateConfig): EstimatorState {
  const inputOf = new Map<string, string>();
  const drives = new Map<string, string[]>();
  for (const p of cfg.pairs) {
    inputOf.set(p.tag, p.inputTag);
    const list = drives.get(p.inputTag) ?? [];
    list.push(p.tag);
    drives.set(p.inputTag, list);
  }
  const sensorR = new Map(cfg.sensors.map((s) => [s.tag, s.measurementVar] as [string, number]));
  const inputNotes = new Map([...drives].map(([input, measured]) => [input, `input for ${measured.join(', ')}`] as [string, string]));
  return { cfg, tracks: new Map(), byAsset: new Map(), inputOf, drives, inputNotes, sensorR };
}

function makeModel(cfg: EstimateConfig): StateModel {
  switch (cfg.model) {
    case 'local-level':
      return new LocalLevel(cfg);
    case 'fusion': {
      const m = new LocalLevel(cfg);
      (m as { name: string }).name = 'kalman/fusion';
      return m;
    }
    case 'local-trend':
      return new LocalTrend(cfg);
    case 'first-order':
      return new FirstOrder(cfg);
    case 'hybrid':
      return new Hybrid({
        ...cfg,
        window: cfg.hybridWindow,
        refitEvery: cfg.hybridRefitEvery,
        minSamples: cfg.hybridMinSamples,
      });
  }
}

function channel(cfg: EstimateConfig, tag: string, r0: number): Channel {
  return {
    tag,
    r: r0,
    r0,
    lastTsMs: -Infinity,
    rWin: cfg.adaptive === 'R' || cfg.adaptive === 'RQ' ? noiseWindow(cfg.adaptWindow) : undefined,
  };
}

function getTrack(st: EstimatorState, asset: string, tag: string): Track {
  let t = st.byAsset.get(asset)?.get(tag);
  if (t !== undefined) return t;
  const cfg = st.cfg;
  if (st.tracks.size >= cfg.maxTags) {
    // bounded memory: the oldest track goes
    const [oldKey, old] = st.tracks.entries().next().value as [string, Track];
    st.tracks.delete(oldKey);
    const of = st.byAsset.get(old.asset);
    of?.delete(old.tag);
    if (of?.size === 0) st.byAsset.delete(old.asset);
  }
  const model = makeModel(cfg);
  let chans: Map<string, Channel> | undefined;
  if (cfg.model === 'fusion') {
    chans = new Map();
    for (const s of cfg.sensors) chans.set(s.tag, channel(cfg, s.tag, s.measurementVar));
  }
  t = {
    asset,
    tag,
    model,
    hybrid: model instanceof Hybrid ? model : undefined,
    tsMs: NaN,
    nis: cfg.nisWindow > 0 ? nisInit(cfg.nisWindow, cfg.nisConfidence) : undefined,
    qWin: cfg.adaptive === 'Q' || cfg.adaptive === 'RQ' ? noiseWindow(cfg.adaptWindow) : undefined,
    qScale: 1,
    ch: chans ? undefined : channel(cfg, tag, cfg.measurementVar),
    chans,
    u: NaN,
    uTsMs: -Infinity,
    uQuality: 'good',
    uReason: undefined,
  };
  st.tracks.set(asset + '/' + tag, t);
  let tags = st.byAsset.get(asset);
  if (tags === undefined) st.byAsset.set(asset, (tags = new Map<string, Track>()));
  tags.set(tag, t);
  return t;
}

function iso(tsMs: number): string {
  return Number.isFinite(tsMs) ? new Date(tsMs).toISOString() : String(tsMs);
}

function outOfOrder(r: Reading, lastTsMs: number): EstimateOutcome {
  const what = r.tsMs === lastTsMs ? 'repeats' : 'is before';
  return {
    reading: r,
    error: new TwinError(
      'OUT_OF_ORDER',
      `${r.asset}/${r.tag}: tsMs ${iso(r.tsMs)} ${what} the last applied reading (${iso(lastTsMs)}); not applied`,
    ),
  };
}

function withReason(reason: string | undefined, more: string): string {
  return reason === undefined ? more : reason + '; ' + more;
}

/** An input (setpoint) reading: held for the measured tags it drives. */
function applyInput(st: EstimatorState, r: Reading, measured: string[]): EstimateOutcome {
  const first = getTrack(st, r.asset, measured[0]);
  if (r.tsMs <= first.uTsMs) return outOfOrder(r, first.uTsMs);
  for (const tag of measured) {
    const t = tag === measured[0] ? first : getTrack(st, r.asset, tag);
    t.uTsMs = r.tsMs;
    if (r.quality === 'bad') {
      // The input is unknown now: keep the last value, but do not vouch for it.
      t.uQuality = 'uncertain';
      t.uReason = `input ${r.tag} bad`;
    } else {
      t.u = r.value;
      t.uQuality = r.quality;
      t.uReason = r.quality === 'good' ? undefined : `input ${r.tag} uncertain`;
    }
  }
  return { reading: r, note: st.inputNotes.get(r.tag) as string };
}

/** A measurement of track `t` through channel `ch`. */
function applyMeasurement(st: EstimatorState, t: Track, ch: Channel, r: Reading): EstimateOutcome {
  const cfg = st.cfg;
  const ts = r.tsMs;
  if (ts <= ch.lastTsMs) return outOfOrder(r, ch.lastTsMs);
  if (ts < t.tsMs) return outOfOrder(r, t.tsMs);
  const fresh = Number.isNaN(t.tsMs);
  const gapMs = fresh ? 0 : ts - t.tsMs;
  const gap = cfg.maxGapMs > 0 && gapMs > cfg.maxGapMs;
  if (r.quality === 'bad') {
    if (t.chans !== undefined) return { reading: r, note: `bad reading of sensor ${r.tag} skipped` };
    if (fresh || gap) {
      t.tsMs = NaN; // the next usable reading starts afresh
      return { reading: r, note: 'no estimate: no state to predict from and the reading is bad' };
    }
  }
  const m = t.model;
  let quality: Quality = 'good';
  let reason: string | undefined;
  let innovation: number | undefined;
  let innovationVar = NaN;
  let nis: number | undefined;
  if (fresh || gap) {
    m.init(r.value, r.quality === 'good' ? ch.r : ch.r * cfg.uncertainVarFactor);
    if (t.nis) nisReset(t.nis);
    if (t.qWin) noiseReset(t.qWin);
    t.qScale = 1;
    if (gap) {
      quality = 'uncertain';
      reason = `gap of ${(gapMs / 1000).toFixed(1)} s > maxGapMs: re-initialised`;
    }
    if (r.quality !== 'good') {
      quality = 'uncertain';
      reason = withReason(reason, r.qualityReason ? `input uncertain (${r.qualityReason})` : 'input uncertain');
    }
  } else {
    m.predict(gapMs / 1000, t.u, t.qScale);
    if (r.quality === 'bad') {
      quality = 'uncertain';
      reason = r.qualityReason ? `input bad (${r.qualityReason}): prediction only` : 'input bad: prediction only';
    } else {
      const good = r.quality === 'good';
      innovation = m.update(r.value, good ? ch.r : ch.r * cfg.uncertainVarFactor);
      innovationVar = m.s;
      nis = (innovation * innovation) / m.s;
      if (good) {
        if (t.nis) nisPush(t.nis, nis);
        if (ch.rWin) ch.r = adaptR(ch.rWin, innovation, m.hph, ch.r, ch.r0 / cfg.adaptBoundFactor, ch.r0 * cfg.adaptBoundFactor);
        if (t.qWin)
          t.qScale = adaptQScale(
            t.qWin,
            m.gainSq * innovation * innovation,
            m.qStep,
            t.qScale,
            1 / cfg.adaptBoundFactor,
            cfg.adaptBoundFactor,
          );
        if (t.hybrid) t.hybrid.learn(r.value);
      } else {
        quality = 'uncertain';
        reason = r.qualityReason ? `input uncertain (${r.qualityReason})` : 'input uncertain';
      }
    }
  }
  t.tsMs = ts;
  ch.lastTsMs = ts;

  if (t.nis !== undefined && nisMisfit(t.nis)) {
    quality = 'uncertain';
    reason = withReason(reason, nisReason(t.nis));
  }
  if (t.hybrid !== undefined) {
    if (!t.hybrid.fitted) {
      quality = 'uncertain';
      reason = withReason(reason, 'residual model not fitted yet');
    } else if (t.hybrid.outOfRange) {
      quality = 'uncertain';
      reason = withReason(reason, 'input outside fitted range');
    }
  }
  if (cfg.pairs.length > 0) {
    if (Number.isNaN(t.u)) {
      quality = 'uncertain';
      reason = withReason(reason, 'no input yet');
    } else if (t.uQuality !== 'good') {
      quality = 'uncertain';
      reason = withReason(reason, t.uReason ?? 'input not good');
    }
  }

  // An update (the usual case) is one object literal with its fields: each field added to an object
  // afterwards costs a map transition and, past the literal's size, a second allocation for the
  // field store, per estimate (GC was a third of this node's cost in a profile).
  const e: Estimate =
    innovation === undefined
      ? { asset: t.asset, tag: t.tag, tsMs: ts, value: m.value(), variance: m.variance(), model: m.name, quality }
      : {
          asset: t.asset,
          tag: t.tag,
          tsMs: ts,
          value: m.value(),
          variance: m.variance(),
          model: m.name,
          quality,
          predicted: r.value - innovation,
          innovation,
          innovationVar,
          nis,
        };
  if (r.unit !== undefined) e.unit = r.unit;
  if (m.state !== undefined) e.state = m.state();
  if (m.covariance !== undefined) e.covariance = m.covariance();
  if (reason !== undefined) e.qualityReason = reason;
  return { reading: r, estimate: e };
}

/** Apply one reading (assumed well-formed: see assertReading) and say what it produced. */
export function estimateStep(st: EstimatorState, r: Reading): EstimateOutcome {
  const cfg = st.cfg;
  switch (cfg.model) {
    case 'local-level':
    case 'local-trend': {
      const t = getTrack(st, r.asset, r.tag);
      return applyMeasurement(st, t, t.ch as Channel, r);
    }
    case 'first-order':
    case 'hybrid': {
      if (st.inputOf.has(r.tag)) {
        const t = getTrack(st, r.asset, r.tag);
        return applyMeasurement(st, t, t.ch as Channel, r);
      }
      const measured = st.drives.get(r.tag);
      if (measured !== undefined) return applyInput(st, r, measured);
      return { reading: r, note: NOT_CONFIGURED }; // the tag is in `reading`: no string made per reading
    }
    case 'fusion': {
      if (!st.sensorR.has(r.tag)) return { reading: r, note: NOT_A_SENSOR };
      const t = getTrack(st, r.asset, cfg.fusedTag);
      return applyMeasurement(st, t, (t.chans as Map<string, Channel>).get(r.tag) as Channel, r);
    }
  }
}
