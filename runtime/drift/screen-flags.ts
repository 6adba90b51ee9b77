/**
 * twin-screen's `stuck` and `spike` flags → sensor-fault DriftEvents. The mean-shift detectors
 * cannot see those faults (a spike is averaged away, a sensor stuck near its mean is no shift), and
 * the flagged readings are uncertain, which the detectors skip by default. twin-screen has already
 * judged them: this turns its verdict into events, one per episode, without touching a detector.
 *
 *  - The flag is a whole token of `qualityReason` split on `;` (twin-screen appends its reasons
 *    to the original one: `BadSensor;range>high;spike`), whatever the reading's quality.
 *  - Episode: consecutive flagged readings of one tag with the same fault type; it ends after
 *    `gapSamples` unflagged readings of the tag in a row (a stuck run broken by one odd reading is
 *    still one fault).
 *  - Stuck: one event when the episode starts, `startTsMs` = its first flagged reading, magnitude 0.
 *  - Spike: one event when an episode starts and at least `holdOffSamples` readings of the tag went
 *    by since the last spike event (a noisy sensor must not flood the output); the evidence counts
 *    the spikes since that last event. Magnitude = value − median of the tag's recent unflagged
 *    readings.
 */
import type { DriftEvent, SensorFaultType } from '../model/drift.js';
import type { Reading } from '../model/reading.js';
import { median } from '../stats/index.js';
import { TimedRing } from '../stats/timed-ring.js';

export const SCREEN_FLAG_DEFAULTS = { spikeEventHoldOffSamples: 60, screenEpisodeGapSamples: 10 };

/** Unflagged readings kept per tag for the spike's reference median. */
const MEDIAN_SAMPLES = 31;

type ScreenFault = Extract<SensorFaultType, 'stuck' | 'spike'>;

interface Episode {
  active: boolean;
  /** Unflagged readings of the tag since the last flagged one. */
  unflagged: number;
  startTsMs: number;
  /** Flagged readings in this episode. */
  flagged: number;
}

interface TagState {
  /** Readings of the tag seen here (any quality). */
  n: number;
  stuck: Episode;
  spike: Episode;
  /** Reading count at the last spike event (−Infinity: none yet). */
  lastSpikeEventN: number;
  /** Spike-flagged readings since the last spike event. */
  spikesSinceEvent: number;
  /** The tag's recent unflagged readings (the spike's reference median). */
  recent: TimedRing;
}

const NO_FAULTS: Readonly<{ stuck: boolean; spike: boolean }> = Object.freeze({ stuck: false, spike: false });
/** What push returns for a reading that starts no event (nearly all): not allocated per reading. */
const NO_EVENTS: DriftEvent[] = Object.freeze([]) as unknown as DriftEvent[];

/** The fault tokens present in a qualityReason. */
export function screenFaults(qualityReason: string | undefined): Readonly<{ stuck: boolean; spike: boolean }> {
  if (!qualityReason) return NO_FAULTS;
  let stuck = false;
  let spike = false;
  for (const t of qualityReason.split(';')) {
    const w = t.trim();
    if (w === 'stuck') stuck = true;
    else if (w === 'spike') spike = true;
  }
  return { stuck, spike };
}

function newEpisode(): Episode {
  return { active: false, unflagged: 0, startTsMs: NaN, flagged: 0 };
}

export class ScreenFlagEvents {
  private readonly tags = new Map<string, TagState>();

  constructor(
    private readonly holdOffSamples: number,
    private readonly gapSamples: number,
  ) {}

  /**
   * One reading of a watched tag (in order); returns the events it starts (usually none: then a
   * shared empty array, not to be changed). `key` is `asset/tag`, if the caller has it at hand.
   */
  push(r: Reading, key = `${r.asset}/${r.tag}`): DriftEvent[] {
    let st = this.tags.get(key);
    const f = screenFaults(r.qualityReason);
    if (!st) {
      st = {
        n: 0,
        stuck: newEpisode(),
        spike: newEpisode(),
        lastSpikeEventN: -Infinity,
        spikesSinceEvent: 0,
        recent: new TimedRing(MEDIAN_SAMPLES),
      };
      this.tags.set(key, st);
    }
    st.n++;
    const stuckEvent = this.step(st.stuck, f.stuck, r);
    let spikeEvent = false;
    if (f.spike) st.spikesSinceEvent++;
    const spikeStarts = this.step(st.spike, f.spike, r);
    if (spikeStarts && st.n - st.lastSpikeEventN >= this.holdOffSamples) spikeEvent = true;

    if (!f.stuck && !f.spike && r.quality !== 'bad') {
      st.recent.push(r.tsMs, r.value);
    }
    if (!stuckEvent && !spikeEvent) return NO_EVENTS;
    const out: DriftEvent[] = [];
    if (stuckEvent) out.push(this.event(r, 'stuck', st.stuck.startTsMs, 0, {}));
    if (spikeEvent) {
      const n = st.recent.length;
      // While the ring fills, slots 0 … n − 1 hold the readings; the median needs no order.
      const ref = n > 0 ? median(st.recent.values.subarray(0, n)) : r.value;
      out.push(
        this.event(r, 'spike', r.tsMs, r.value - ref, {
          recentMedian: n > 0 ? ref : null,
          medianSamples: n,
          spikesSinceLastEvent: st.spikesSinceEvent,
          holdOffSamples: this.holdOffSamples,
        }),
      );
      st.lastSpikeEventN = st.n;
      st.spikesSinceEvent = 0;
    }
    return out;
  }

  /** Advance one fault type's episode; true when this reading starts a new one. */
  private step(ep: Episode, flagged: boolean, r: Reading): boolean {
    if (!flagged) {
      if (ep.active && ++ep.unflagged >= this.gapSamples) ep.active = false;
      return false;
    }
    ep.unflagged = 0;
    if (ep.active) {
      ep.flagged++;
      return false;
    }
    ep.active = true;
    ep.startTsMs = r.tsMs;
    ep.flagged = 1;
    return true;
  }

  private event(r: Reading, faultType: ScreenFault, startTsMs: number, magnitude: number, extra: Record<string, unknown>): DriftEvent {
    return {
      asset: r.asset,
      tag: r.tag,
      tsMs: r.tsMs,
      startTsMs,
      kind: 'sensor-fault',
      faultType,
      method: 'twin-screen',
      direction: 'both',
      magnitude,
      evidence: { reason: 'flagged by twin-screen', qualityReason: r.qualityReason, value: r.value, ...extra },
      // The event rests on the flagged reading: never better than it.
      quality: r.quality,
    };
  }
}
