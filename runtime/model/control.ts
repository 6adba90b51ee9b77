/**
 * Records of the closed loop: a proposal, the decisions on it, the signed commands that carry an
 * approved change to a writer, what the writer did, and the audit ledger that holds all of them.
 * Defined once here; the proposer, gate, writers, ledger and the supervisors' page all use them.
 */
import type { Quality } from './quality.js';

/** A proposed setpoint change (twin-propose → twin-approval). */
export interface Proposal {
  /** Unique id (UUID). */
  id: string;
  asset: string;
  /** The setpoint tag the change is for. */
  tag: string;
  currentValue: number;
  proposedValue: number;
  unit?: string;
  /** One or two sentences a supervisor can read: why this change. */
  rationale: string;
  predictedEffect: PredictedEffect;
  /** The response model's fit statistics. */
  fit: FitStats;
  /** The data the model was fitted on; the proposal never leaves setpointMin..setpointMax. */
  fitRange: FitRange;
  /** Event time the proposal was made. */
  createdTsMs: number;
  /** After this (wall clock) the proposal can no longer be approved. */
  expiresTsMs: number;
  /** Worst quality of the inputs it rests on ('uncertain' marks an uncertain proposal). */
  quality: Quality;
  qualityReason?: string;
  /** Id of the open proposal for the same setpoint this one replaces. */
  supersedes?: string;
}

/** The predicted effect of a proposal on its KPI, with a prediction interval. */
export interface PredictedEffect {
  kpiTag: string;
  kpiUnit?: string;
  /** KPI predicted at the current setpoint (model value, not the last reading). */
  currentKpi: number;
  /** KPI predicted at the proposed setpoint. */
  predictedKpi: number;
  /** Prediction interval of predictedKpi. */
  lowKpi: number;
  highKpi: number;
  /** Coverage of the interval in percent (e.g. 90). */
  intervalPct: number;
  /**
   * Confidence interval (same coverage) of the change of the MEAN KPI, predicted − current: what
   * the move is expected to gain on average. The prediction interval above holds one sample's noise
   * as well, so it may straddle the current value even when the gain is well established.
   */
  changeLowKpi?: number;
  changeHighKpi?: number;
  /** Other KPIs the objective used (e.g. a quality constraint), same shape. */
  others?: Array<Omit<PredictedEffect, 'others'>>;
}

export interface FitStats {
  /** e.g. 'ols-quadratic' */
  method: string;
  /** Samples used. */
  n: number;
  r2: number;
  /** Residual standard error, KPI units. */
  rmse: number;
}

export interface FitRange {
  fromTsMs: number;
  toTsMs: number;
  setpointMin: number;
  setpointMax: number;
}

/** Life cycle of a proposal in the approval gate. */
export type ProposalState =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'superseded'
  | 'blocked'
  /** every command of the change was written and read back */
  | 'done'
  /** a write or read-back failed */
  | 'failed';

export type Verdict = 'approve' | 'reject';

/** A supervisor's (or the auto-approval policy's) signed decision. */
export interface Decision {
  proposalId: string;
  verdict: Verdict;
  /** Login name; the auto-approval policy decides as `policy:auto-approval`. */
  user: string;
  /** The name printed with the signature (21 CFR Part 11 style). */
  printedName: string;
  /** What the signature means, e.g. 'Approved: I authorise this setpoint change'. */
  meaning: string;
  reason: string;
  /** Wall-clock time of the decision. */
  tsMs: number;
  /** Version hash of the envelope the change was checked against. */
  envelopeVersion: string;
}

/** One write of one value to the plant, signed by the gate (HMAC-SHA256), used at most once. */
export interface Command {
  /** Unique id (UUID): a writer never executes the same id twice. */
  id: string;
  proposalId: string;
  asset: string;
  tag: string;
  value: number;
  unit?: string;
  /** 1-based step of a ramp and the number of steps (1/1 for a single write). */
  step: number;
  steps: number;
  /** The value the setpoint is expected to have before this write. */
  fromValue: number;
  issuedTsMs: number;
  /** After this a writer refuses the command. */
  expiresTsMs: number;
  envelopeVersion: string;
  /** Hex HMAC-SHA256 over the canonical JSON of every other field (see runtime/control/command.ts). */
  signature: string;
}

/** What a writer did with a command (twin-opcua-write, twin-mqtt-write → twin-approval). */
export interface WriteResult {
  commandId: string;
  proposalId: string;
  asset: string;
  tag: string;
  value: number;
  /**
   * written: the plant accepted the write; refused: the writer would not write; failed: the write errored
   * (or, settled after a restart, the plant does not hold the value: not written before the crash);
   * unknown: settled after a restart, the plant could not be read, so whether the write before the crash
   * reached it is not known (the gate fails the change safely).
   */
  outcome: 'written' | 'refused' | 'failed' | 'unknown';
  reason?: string;
  /** Value read back after the write, and whether it matches. */
  readBackValue?: number;
  readBackOk?: boolean;
  /** Node id of the writer. */
  writer: string;
  tsMs: number;
  /**
   * Hex HMAC-SHA256 by the writer, with the gate's key, over the canonical JSON of every other field
   * (runtime/control/gate-result-signature.ts). The gate acts only on results that verify.
   */
  signature?: string;
}

/** Entry types of the audit ledger. */
export type LedgerEventType =
  | 'proposal'
  | 'decision'
  | 'command'
  /**
   * A writer's write-ahead record, fsync'ed BEFORE it writes to the plant: `{ commandId, value,
   * presentValue, ... }`. An intent without a 'write' result after it means the process died around
   * the write; after a restart the writer settles it from the plant's present value.
   */
  | 'write-intent'
  | 'write'
  | 'readback'
  | 'expired'
  | 'superseded'
  | 'blocked'
  | 'refused'
  | 'policy'
  /**
   * A signed MaintenanceOrder (runtime/model/maintenance.ts) issued by a maintenance gate once the
   * approvals it needs are durable. A maintenance gate's 'proposal', 'decision', 'expired' and
   * 'superseded' records use the types above; their data carries `kind: 'maintenance'` (the
   * proposal) or the proposal id, and no `tag`, so a setpoint gate's restore never reads them.
   */
  | 'order'
  /**
   * An operator's (or the system's) action on an alarm, recorded by a twin-alarm that has a ledger:
   * acknowledge, shelve, unshelve, shelving expired, chattering, out of / in service. `data` carries
   * `{ kind, alarmId, episodeId?, line, state, priority, user, reason, tsMs, untilTsMs?, via }`
   * (runtime/alarm/alarm-actions.ts); the gates' restore never reads them.
   */
  | 'alarm'
  /**
   * An instance became the owner of a line's JetStream ledger (twin-ledger with a twin-cluster), the
   * first record it appends: `data` carries `{ line, instance, reason }` (runtime/cluster/owned-stores.ts).
   * Appending it fences the former owner's handle at once (a paused owner's next append is refused);
   * it has no asset or tag, so the gates' restore never reads it.
   */
  | 'owner';

/** One line of the append-only, hash-chained ledger (JSON lines). */
export interface LedgerRecord<T = unknown> {
  /** 0-based position in the file. */
  seq: number;
  /** Wall-clock time of the append. */
  tsMs: number;
  type: LedgerEventType;
  asset?: string;
  tag?: string;
  proposalId?: string;
  /** The record's payload: a Proposal, Decision, Command, WriteResult, EnvelopeCheck, ... */
  data: T;
  /** hash of the record before ('0' × 64 for the first). */
  prevHash: string;
  /** hex SHA-256 over the canonical JSON of this record without `hash` and `mac`. */
  hash: string;
  /** HMAC-SHA256 over `hash` under a key derived from the ledger's signing key (absent in a ledger opened without a key). */
  mac?: string;
}

/** A condition on another tag that must hold for any change (e.g. mode == 1 (AUTO), alarm == 0). */
export interface InterlockCondition {
  /** Defaults to the envelope's asset. */
  asset?: string;
  tag: string;
  op: '==' | '!=' | '<' | '<=' | '>' | '>=';
  value: number;
}

/** The bounded control envelope of one setpoint of one asset. */
export interface EnvelopeConfig {
  asset: string;
  tag: string;
  unit?: string;
  lowLimit: number;
  highLimit: number;
  /** Largest single write, setpoint units. */
  maxStep: number;
  /** Rate limits, setpoint units per minute, for increases and decreases. */
  rateUpPerMin: number;
  rateDownPerMin: number;
  /** Minimum time between two changes of this setpoint. */
  minDwellMs: number;
  interlocks: InterlockCondition[];
  /** Further tags (same asset unless `asset/tag`) the decision rests on: must be fresh and of good enough quality. */
  inputTags: string[];
  /** Readings older than this (wall clock) are stale. */
  maxInputAgeMs: number;
  /** Lowest acceptable input quality. */
  minQuality: 'good' | 'uncertain';
  /** Ramp approved changes larger than maxStep in steps (otherwise they are refused). */
  ramp: boolean;
  /**
   * The plant connection the setpoint, interlocks and input tags are read from and the setpoint is
   * written through: the config node id of a twin-opcua-endpoint or twin-mqtt-broker. Readings whose
   * origin is another connection never count. Required by the twin-envelope node; optional here so
   * that pure tests can leave it out (then any reading counts).
   */
  source?: string;
}

export type EnvelopeViolationCode =
  | 'ABOVE_HIGH'
  | 'BELOW_LOW'
  | 'STEP_TOO_LARGE'
  | 'RATE_UP'
  | 'RATE_DOWN'
  | 'DWELL'
  | 'INTERLOCK'
  | 'STALE_INPUT'
  | 'BAD_INPUT'
  | 'MISSING_INPUT';

export interface EnvelopeViolation {
  code: EnvelopeViolationCode;
  message: string;
  tag?: string;
}

/** The result of checking a change (or one ramp step) against an envelope. */
export interface EnvelopeCheck {
  ok: boolean;
  /** Version hash of the envelope checked against. */
  version: string;
  checkedTsMs: number;
  violations: EnvelopeViolation[];
}
