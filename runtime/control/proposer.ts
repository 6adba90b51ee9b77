/**
 * The setpoint proposer, in event time: it keeps a window of aligned samples (at each KPI reading,
 * the latest value of the setpoint, the constraint KPI and the other inputs), refits the response
 * models every refitIntervalMs of event time, and proposes the setpoint that reaches the KPI target
 * or minimises / maximises the KPI, subject to the constraint.
 *
 * Rules (issue 4, DESIGN principle 8):
 * - It only searches the setpoints the window has seen (up to their edge) and within the
 *   setpoint's own hard limits: the model knows nothing outside the data.
 * - It stays quiet when the predicted gain is below the deadband, or not significant.
 * - At most one open proposal per setpoint; a new one replaces it (`supersedes`) only when its
 *   proposed value (or the current value it starts from) differs by at least minChange. An open proposal closes when it expires (wall
 *   clock) or when the setpoint reaches its proposed value.
 * - Quality: bad samples are left out (too many → quiet); any uncertain sample or an uncertain
 *   current setpoint/input marks the proposal uncertain.
 *
 * No clocks and no I/O: the caller passes the wall clock (`nowMs`, used only for expiry), and ids
 * come from an injectable generator, so a replay makes the same decisions.
 */
import { randomUUID } from 'node:crypto';
import type { FitStats, PredictedEffect, Proposal } from '../model/control.js';
import type { Quality } from '../model/quality.js';
import { worstQuality } from '../model/quality.js';
import type { Reading } from '../model/reading.js';
import type { ProposerConfig } from './propose-config.js';
import { rationale } from './propose-rationale.js';
import { differenceSe, fitResponse, intervalT, predictResponse, type ResponseModel, type ResponseSample } from './response-model.js';

interface Held {
  value: number;
  tsMs: number;
  quality: Quality;
  unit?: string;
}

interface AlignedSample {
  tsMs: number;
  sp: number;
  kpi: number;
  con?: number;
  inputs: number[];
  quality: Quality;
}

/** What the proposer is doing, for a node's status line. */
export type ProposerStatus =
  | { phase: 'waiting'; reason: string }
  /** `blocked`: enough samples, but the setpoint has not moved enough, or too many are bad, or the model refuses. */
  | { phase: 'learning'; n: number; needed: number; reason?: string; blocked?: 'variation' | 'bad' | 'model' }
  | { phase: 'fitted'; r2: number; reason: string }
  /** A proposal is open (its value and quality); `reason` says why no newer one was sent. */
  | { phase: 'proposed'; value: number; r2: number; quality: Quality; reason?: string };

export interface ProposerOutcome {
  /** The reading was not used (another asset or tag, or older than what is held). */
  ignored?: string;
  /** A refit happened on this reading. */
  refitted: boolean;
  proposal?: Proposal;
  status: ProposerStatus;
}

/** Largest number of candidate setpoints evaluated per refit (the grid is coarsened beyond it). */
const MAX_CANDIDATES = 2000;

export class Proposer {
  private readonly held = new Map<string, Held>();
  private samples: AlignedSample[] = [];
  private head = 0;
  private lastKpiTsMs = -Infinity;
  private lastSpChangeTsMs?: number;
  private lastFitTsMs?: number;
  private open?: Proposal;
  private kpiUnit?: string;
  private status: ProposerStatus = { phase: 'waiting', reason: 'no KPI samples yet' };
  private readonly watched: Set<string>;

  constructor(
    private readonly cfg: ProposerConfig,
    private readonly newId: () => string = randomUUID,
  ) {
    this.watched = new Set([cfg.setpointTag, cfg.kpiTag, ...cfg.inputTags, ...(cfg.constraintTag ? [cfg.constraintTag] : [])]);
  }

  /** The open proposal (not yet expired nor reached), if any. */
  openProposal(): Proposal | undefined {
    return this.open;
  }

  push(r: Reading, nowMs: number): ProposerOutcome {
    const cfg = this.cfg;
    if (this.open && nowMs >= this.open.expiresTsMs) this.open = undefined;
    if (r.asset !== cfg.asset) return this.ignore(`asset ${r.asset} is not ${cfg.asset}`);
    if (!this.watched.has(r.tag)) return this.ignore(`tag ${r.tag} is not used`);

    if (r.tag !== cfg.kpiTag) {
      const prev = this.held.get(r.tag);
      if (prev && r.tsMs < prev.tsMs) return this.ignore(`${r.tag} older than the value held`);
      if (r.tag === cfg.setpointTag) this.onSetpoint(r, prev);
      this.held.set(r.tag, { value: r.value, tsMs: r.tsMs, quality: r.quality, unit: r.unit });
      // Only the KPI clocks the samples; the other tags are held until the next KPI reading.
      return { refitted: false, status: this.status };
    }

    if (r.tsMs <= this.lastKpiTsMs) return this.ignore('KPI reading out of order');
    this.lastKpiTsMs = r.tsMs;
    this.kpiUnit = r.unit ?? this.kpiUnit;
    this.addSample(r);
    this.trim(r.tsMs);

    const { usable, badCount, total } = this.counts();
    if (usable.length < cfg.minSamples) {
      this.status = { phase: 'learning', n: usable.length, needed: cfg.minSamples, reason: this.samplesReason() };
      return { refitted: false, status: this.status };
    }
    if (this.lastFitTsMs !== undefined && r.tsMs - this.lastFitTsMs < cfg.refitIntervalMs) return { refitted: false, status: this.status };
    this.lastFitTsMs = r.tsMs;
    if (badCount > (cfg.maxBadPct / 100) * total) {
      this.status = {
        phase: 'learning',
        n: usable.length,
        needed: cfg.minSamples,
        reason: `too many bad samples (${badCount} of ${total})`,
        blocked: 'bad',
      };
      return { refitted: true, status: this.status };
    }
    const proposal = this.evaluate(usable, nowMs);
    return { refitted: true, proposal, status: this.status };
  }

  private ignore(reason: string): ProposerOutcome {
    return { ignored: reason, refitted: false, status: this.status };
  }

  private onSetpoint(r: Reading, prev: Held | undefined): void {
    if (prev && r.value !== prev.value) this.lastSpChangeTsMs = r.tsMs;
    // The setpoint reached the open proposal's value: it was applied (or someone set it so).
    if (this.open && Math.abs(r.value - this.open.proposedValue) <= this.cfg.spResolution / 2) this.open = undefined;
  }

  private addSample(r: Reading): void {
    const cfg = this.cfg;
    const sp = this.held.get(cfg.setpointTag);
    if (!sp) return;
    // A static model reads a transient as a steady response: skip samples until the process settles.
    if (this.lastSpChangeTsMs !== undefined && r.tsMs - this.lastSpChangeTsMs < cfg.settleMs) return;
    const con = cfg.constraintTag ? this.held.get(cfg.constraintTag) : undefined;
    if (cfg.constraintTag && !con) return;
    const inputs: Held[] = [];
    for (const t of cfg.inputTags) {
      const h = this.held.get(t);
      if (!h) return;
      inputs.push(h);
    }
    const quality = worstQuality(r.quality, sp.quality, ...(con ? [con.quality] : []), ...inputs.map((h) => h.quality));
    this.samples.push({ tsMs: r.tsMs, sp: sp.value, kpi: r.value, con: con?.value, inputs: inputs.map((h) => h.value), quality });
  }

  private trim(nowTsMs: number): void {
    const from = nowTsMs - this.cfg.windowMs;
    while (this.head < this.samples.length && this.samples[this.head].tsMs < from) this.head++;
    if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }

  private counts(): { usable: AlignedSample[]; badCount: number; total: number } {
    const usable: AlignedSample[] = [];
    let badCount = 0;
    for (let i = this.head; i < this.samples.length; i++) {
      if (this.samples[i].quality === 'bad') badCount++;
      else usable.push(this.samples[i]);
    }
    return { usable, badCount, total: this.samples.length - this.head };
  }

  private samplesReason(): string | undefined {
    const cfg = this.cfg;
    if (!this.held.has(cfg.setpointTag)) return `no ${cfg.setpointTag} reading yet`;
    if (cfg.constraintTag && !this.held.has(cfg.constraintTag)) return `no ${cfg.constraintTag} reading yet`;
    const missing = cfg.inputTags.find((t) => !this.held.has(t));
    if (missing) return `no ${missing} reading yet`;
    return undefined;
  }

  private quiet(r2: number, reason: string): undefined {
    this.status = this.open
      ? { phase: 'proposed', value: this.open.proposedValue, r2, quality: this.open.quality, reason }
      : { phase: 'fitted', r2, reason };
    return undefined;
  }

  private evaluate(usable: AlignedSample[], nowMs: number): Proposal | undefined {
    const cfg = this.cfg;
    const kpiFit = fitResponse(
      usable.map((s): ResponseSample => ({ sp: s.sp, kpi: s.kpi, inputs: s.inputs })),
      cfg.model,
      cfg.minSamples,
    );
    if (!kpiFit.ok) {
      const blocked = kpiFit.code === 'no-variation' ? 'variation' : kpiFit.code === 'too-few-samples' ? undefined : 'model';
      this.status = { phase: 'learning', n: usable.length, needed: cfg.minSamples, reason: kpiFit.reason, ...(blocked ? { blocked } : {}) };
      return undefined;
    }
    const m = kpiFit.model;
    let cm: ResponseModel | undefined;
    if (cfg.constraintTag) {
      const conFit = fitResponse(
        usable.map((s) => ({ sp: s.sp, kpi: s.con!, inputs: s.inputs })),
        cfg.model,
        cfg.minSamples,
      );
      if (!conFit.ok) return this.quiet(m.r2, `${cfg.constraintTag} model: ${conFit.reason}`);
      cm = conFit.model;
    }

    const sp = this.held.get(cfg.setpointTag)!;
    if (sp.quality === 'bad') return this.quiet(m.r2, `${cfg.setpointTag} reading is bad`);
    const inputsHeld = cfg.inputTags.map((t) => this.held.get(t)!);
    if (inputsHeld.some((h) => h.quality === 'bad')) return this.quiet(m.r2, 'an input reading is bad');
    const inputs = inputsHeld.map((h) => h.value);
    const sp0 = sp.value;

    const lo = Math.max(m.spMin, cfg.spLowLimit ?? -Infinity);
    const hi = Math.min(m.spMax, cfg.spHighLimit ?? Infinity);
    const res = cfg.spResolution;
    const first = Math.ceil(lo / res - 1e-9);
    const last = Math.floor(hi / res + 1e-9);
    if (first > last) return this.quiet(m.r2, 'no setpoint seen lies within the hard limits');
    const stride = Math.max(1, Math.ceil((last - first + 1) / MAX_CANDIDATES));

    const objective = (kpi: number) => (cfg.mode === 'target' ? Math.abs(kpi - cfg.kpiTarget!) : cfg.mode === 'minimise' ? kpi : -kpi);
    const feasible = (v: number) => {
      if (!cm) return true;
      const c = predictResponse(cm, v, inputs, cfg.intervalPct);
      // The whole interval, not just the mean, must satisfy the constraint: a supervisor trusts a bound.
      return (
        (cfg.constraintMin === undefined || c.low >= cfg.constraintMin) && (cfg.constraintMax === undefined || c.high <= cfg.constraintMax)
      );
    };
    let best: { v: number; obj: number } | undefined;
    // Objective values this close count as equal: prefer the smaller move among them.
    const tie = 1e-3 * m.rmse;
    const candidates: number[] = [];
    for (let k = first; k <= last; k += stride) candidates.push(Number((k * res).toFixed(10)));
    if (candidates[candidates.length - 1] !== Number((last * res).toFixed(10))) candidates.push(Number((last * res).toFixed(10)));
    for (const v of candidates) {
      if (!feasible(v)) continue;
      const obj = objective(predictResponse(m, v, inputs, cfg.intervalPct).mean);
      if (!best || obj < best.obj - tie || (Math.abs(obj - best.obj) <= tie && Math.abs(v - sp0) < Math.abs(best.v - sp0)))
        best = { v, obj };
    }
    if (!best) {
      return this.quiet(m.r2, `no setpoint seen keeps ${cfg.constraintTag} within limits`);
    }
    const v1 = best.v;
    if (Math.abs(v1 - sp0) < res / 2) return this.quiet(m.r2, 'current setpoint is best');

    const p0 = predictResponse(m, sp0, inputs, cfg.intervalPct);
    const p1 = predictResponse(m, v1, inputs, cfg.intervalPct);
    // When the current setpoint already breaks the constraint, restoring it is the gain: the move
    // to the best setpoint that satisfies it is proposed even if the KPI gets worse.
    const restoring = !feasible(sp0);
    const changeHalfWidth = intervalT(m, cfg.intervalPct) * differenceSe(m, sp0, v1, inputs);
    if (!restoring) {
      const gain = objective(p0.mean) - objective(p1.mean);
      if (gain < cfg.deadband || gain <= 0) return this.quiet(m.r2, `gain ${gain.toPrecision(2)} below deadband`);
      // Significance is judged on the change of the MEAN KPI (its confidence interval must exclude
      // 0), not against the prediction interval: the PI holds one future sample's noise, which never
      // averages out, so a well-estimated improvement smaller than one sample's scatter would never
      // be proposed. The PI is still what the supervisor is shown for the predicted value.
      if (Math.abs(p1.mean - p0.mean) <= changeHalfWidth) return this.quiet(m.r2, 'gain not significant');
    }

    // A move smaller than minChange is not worth a supervisor's attention (nor a write).
    if (Math.abs(v1 - sp0) < cfg.minChange) return this.quiet(m.r2, 'change below minChange');
    // Materially different from the open proposal: its target, or the value it starts from (the
    // setpoint was changed by someone else since), moved by minChange or more.
    if (this.open && Math.abs(v1 - this.open.proposedValue) < cfg.minChange && Math.abs(sp0 - this.open.currentValue) < cfg.minChange) {
      return this.quiet(m.r2, 'same as open proposal');
    }

    // Quality: the worst of the samples used and of the current values the prediction starts from.
    const uncertainCount = usable.filter((s) => s.quality === 'uncertain').length;
    const quality = worstQuality(uncertainCount > 0 ? 'uncertain' : 'good', sp.quality, ...inputsHeld.map((h) => h.quality));
    const reasons: string[] = [];
    if (uncertainCount > 0) reasons.push(`${uncertainCount} of ${usable.length} samples uncertain`);
    if (sp.quality === 'uncertain') reasons.push(`${cfg.setpointTag} uncertain`);
    for (let j = 0; j < inputsHeld.length; j++) if (inputsHeld[j].quality === 'uncertain') reasons.push(`${cfg.inputTags[j]} uncertain`);

    const effect: PredictedEffect = {
      kpiTag: cfg.kpiTag,
      ...(this.kpiUnit ? { kpiUnit: this.kpiUnit } : {}),
      currentKpi: p0.mean,
      predictedKpi: p1.mean,
      lowKpi: p1.low,
      highKpi: p1.high,
      intervalPct: cfg.intervalPct,
      changeLowKpi: p1.mean - p0.mean - changeHalfWidth,
      changeHighKpi: p1.mean - p0.mean + changeHalfWidth,
    };
    if (cm) {
      const c0 = predictResponse(cm, sp0, inputs, cfg.intervalPct);
      const c1 = predictResponse(cm, v1, inputs, cfg.intervalPct);
      const cu = this.held.get(cfg.constraintTag!)?.unit;
      effect.others = [
        {
          kpiTag: cfg.constraintTag!,
          ...(cu ? { kpiUnit: cu } : {}),
          currentKpi: c0.mean,
          predictedKpi: c1.mean,
          lowKpi: c1.low,
          highKpi: c1.high,
          intervalPct: cfg.intervalPct,
        },
      ];
    }
    const fit: FitStats = { method: `ols-${cfg.model}`, n: m.n, r2: m.r2, rmse: m.rmse };
    const createdTsMs = usable[usable.length - 1].tsMs;
    const proposal: Proposal = {
      id: this.newId(),
      asset: cfg.asset,
      tag: cfg.setpointTag,
      currentValue: sp0,
      proposedValue: v1,
      ...(sp.unit ? { unit: sp.unit } : {}),
      rationale: rationale({
        cfg,
        currentValue: sp0,
        proposedValue: v1,
        spUnit: sp.unit,
        effect,
        kpiRmse: m.rmse,
        constraintRmse: cm?.rmse,
        restoring,
        n: m.n,
        r2: m.r2,
        spMin: m.spMin,
        spMax: m.spMax,
      }),
      predictedEffect: effect,
      fit,
      fitRange: { fromTsMs: usable[0].tsMs, toTsMs: createdTsMs, setpointMin: m.spMin, setpointMax: m.spMax },
      createdTsMs,
      // Expiry is for people (how long a supervisor may approve it): wall clock, not event time.
      expiresTsMs: nowMs + cfg.proposalTtlMs,
      quality,
      ...(reasons.length ? { qualityReason: reasons.join('; ') } : {}),
      ...(this.open ? { supersedes: this.open.id } : {}),
    };
    this.open = proposal;
    this.status = { phase: 'proposed', value: v1, r2: m.r2, quality };
    return proposal;
  }
}
