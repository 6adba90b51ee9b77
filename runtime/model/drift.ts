import type { Quality } from './quality.js';

/** What a detected change is judged to be. */
export type DriftKind = 'process-change' | 'sensor-fault' | 'unclassified';

/** The sensor-fault pattern, when `kind` is `sensor-fault`. */
export type SensorFaultType = 'stuck' | 'spike' | 'drift' | 'noise' | 'dropout';

/** One related tag's part in the evidence: did it move with the flagged tag, and by how much? */
export interface RelatedTagEvidence {
  tag: string;
  /** Change of its level across the change point, in its own unit. */
  change: number;
  /** The same change in units of its own noise (robust standard deviations). */
  changeSigma: number;
  /** True when the change is large enough to corroborate a process change. */
  moved: boolean;
  /** The noise σ the change was measured against, in the tag's unit. */
  noiseSigma?: number;
  /** False when the tag cannot corroborate (too little data, pinned at a limit…), with the reason. */
  usable?: boolean;
  unusable?: string;
}

export interface DriftEvidence {
  /** Related tags of the same asset and what they did. */
  related?: RelatedTagEvidence[];
  /** The detector's own statistic and threshold at detection. */
  statistic?: number;
  threshold?: number;
  /** Estimate-based evidence: mean innovation in σ units after the change, for example. */
  [key: string]: unknown;
}

/** A change detected in one tag (or, for multivariate methods, one asset) at one event time. */
export interface DriftEvent {
  asset: string;
  tag: string;
  /** Event time at which the change was detected, epoch ms. */
  tsMs: number;
  /** Best estimate of when the change began, epoch ms (≤ tsMs). */
  startTsMs: number;
  kind: DriftKind;
  faultType?: SensorFaultType;
  /** Detector, e.g. `page-hinkley`, `adwin`, `hotelling-t2`, `spe`. */
  method: string;
  direction: 'up' | 'down' | 'both';
  /** Size of the change in the tag's unit (mean after − mean before), where the method gives one. */
  magnitude: number;
  evidence: DriftEvidence;
  quality: Quality;
}

/** The continuous score a detector exposes for charts (second output of twin-drift). */
export interface AnomalyScore {
  asset: string;
  tag: string;
  tsMs: number;
  method: string;
  /** The detector's statistic, scaled so that `score >= 1` means "at the alarm threshold". */
  score: number;
  quality: Quality;
}
