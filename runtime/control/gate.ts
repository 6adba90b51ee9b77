/**
 * The approval gate with its ledger, for either kind of proposal (gate-kind.ts): GateMachine (pure
 * rules) → gateEffects (time, timers) → this executor, which carries out the effects strictly in order:
 *   record  → append to the ledger (fsync) → only then report the state (events$, views, replies)
 *   command → emitted on commands$ only after every record before it is durable (setpoint)
 *   order   → emitted on orders$ likewise (maintenance)
 *   reply   → resolves the caller (decide(), setAutoApproval(), inputs) after its records are durable
 * If an append fails the gate halts: nothing more is emitted or reported as done (fail safe); the
 * ledger, which is the truth, is what a restart rebuilds from (gate-restore.ts).
 */
import { Subject, asyncScheduler, concatMap, from, type SchedulerLike, type Subscription } from 'rxjs';
import type { Command, LedgerRecord, Proposal, ProposalState, WriteResult } from '../model/control.js';
import type { MaintenanceOrder, MaintenanceProposal } from '../model/maintenance.js';
import type { Reading } from '../model/reading.js';
import { envelopeInputKeys, fromEnvelopeSource, readingKey } from './envelope.js';
import type { DecisionOutcome, DecisionRequest, MaintenanceState, MaintenanceView, ProposalView, TrendPoint } from './gate-registry.js';
import type { BaseProposal } from './gate-kind.js';
import type { MaintenanceGateConfig } from './gate-maintenance.js';
import { GateMachine } from './gate-machine.js';
import { gateEffects } from './gate-operator.js';
import { restoreGateState } from './gate-restore.js';
import {
  FINAL_STATES,
  isMaintenanceConfig,
  snapshot,
  type AnyGateConfig,
  type ChangeSnapshot,
  type GateConfig,
  type GateEffect,
  type GateInput,
  type GateState,
} from './gate-state.js';
import type { Ledger } from './stores.js';

export interface GateOptions<C extends AnyGateConfig = GateConfig> {
  config: C;
  ledger: Ledger;
  /** Wall clock in a flow; a TestScheduler / virtual clock in tests. */
  scheduler?: SchedulerLike;
  /** KPI tag for the page's trend (same asset unless `asset/tag`); default: each proposal's predictedEffect.kpiTag. */
  kpiTag?: string;
  /** History the trend keeps, and the least spacing of its points. */
  trendWindowMs?: number;
  trendSpacingMs?: number;
  /** Ended proposals stay in views() this long. */
  keepEndedMs?: number;
}

/** Output 2 of twin-approval: a state change, with the ledger record that made it durable. */
export interface GateStateEvent {
  proposalId: string;
  state: ProposalState;
  reason?: string;
  record: LedgerRecord;
}

export interface IssuedOrder {
  order: MaintenanceOrder;
  /** Re-sent unchanged after a restart (same id and signature). */
  replay: boolean;
}

/** What the page sees of a proposal, per kind. */
export type GateView<P extends BaseProposal> = P extends MaintenanceProposal ? MaintenanceView : ProposalView;

export interface IssuedCommand {
  command: Command;
  /** Re-emitted unchanged after a restart (the writer's single-use store keeps it exactly-once). */
  replay: boolean;
}

const RESULT_TYPES = new Set(['write', 'readback', 'refused']);

function resultKey(commandId: string, outcome: string, readBackOk: boolean | undefined): string {
  return JSON.stringify([commandId, outcome, readBackOk ?? null]);
}
/** Tags whose recent history the gate keeps for the page's chart (the setpoint and KPIs are never evicted). */
const MAX_TREND_KEYS = 50;

export class Gate<P extends BaseProposal = Proposal> {
  /** Setpoint gates: signed commands for the writers. */
  readonly commands$ = new Subject<IssuedCommand>();
  /** Maintenance gates: signed orders for a CMMS or work-order flow. */
  readonly orders$ = new Subject<IssuedOrder>();
  readonly events$ = new Subject<GateStateEvent>();
  /** A ledger append failed: the gate has halted. */
  readonly errors$ = new Subject<Error>();
  readonly machine: GateMachine<P>;
  halted: Error | undefined;

  private readonly scheduler: SchedulerLike;
  private readonly input$ = new Subject<GateInput<P>>();
  private readonly replies = new Map<number, (o: DecisionOutcome) => void>();
  private nextToken = 1;
  /** What has been made durable, per proposal: what the page and status may show. */
  private readonly durable = new Map<string, ChangeSnapshot<P>>();
  private readonly trends = new Map<string, { fixed: TrendPoint[]; latest?: TrendPoint }>();
  private readonly kpiKeys = new Set<string>();
  /** The envelope's inputs: charted only from the envelope's source, as the machine counts them. */
  private readonly inputKeys: ReadonlySet<string>;
  private sub: Subscription | undefined;
  private closed = false;
  /**
   * The write results already in the ledger for this gate's commands: the newest record per
   * (command, outcome, read-back), kept from the records read at open and every append since (the
   * writers append to the same ledger). undefined: the ledger cannot tell of appends, so each
   * result is looked up by reading the ledger.
   */
  private resultIndex: Map<string, LedgerRecord> | undefined;
  private stopIndexing: (() => void) | undefined;

  /** Read the ledger, rebuild the state, and build the gate (call start() once subscribed to its outputs). */
  static open(opts: GateOptions<MaintenanceGateConfig>): Promise<Gate<MaintenanceProposal>>;
  static open(opts: GateOptions<GateConfig>): Promise<Gate<Proposal>>;
  static async open(opts: GateOptions<AnyGateConfig>): Promise<Gate<Proposal> | Gate<MaintenanceProposal>> {
    const { ledger } = opts;
    // Listen before reading, so that nothing appended while the ledger is read is missed.
    const early: LedgerRecord[] = [];
    let gate: Gate<BaseProposal> | undefined;
    const off = ledger.onAppend?.((rec) => (gate ? gate.indexResult(rec) : early.push(rec)));
    let records: LedgerRecord[];
    try {
      records = await ledger.readAll();
    } catch (err) {
      off?.();
      throw err;
    }
    const g = new Gate<BaseProposal>(opts, restoreGateState(opts.config, records));
    if (off) {
      g.resultIndex = new Map();
      g.stopIndexing = off;
      for (const rec of records) g.indexResult(rec);
      const lastSeq = records.length > 0 ? records[records.length - 1]!.seq : -1;
      for (const rec of early) if (rec.seq > lastSeq) g.indexResult(rec);
    }
    gate = g;
    return g as unknown as Gate<Proposal> | Gate<MaintenanceProposal>;
  }

  constructor(
    readonly opts: GateOptions<AnyGateConfig>,
    state?: GateState<P>,
  ) {
    this.scheduler = opts.scheduler ?? asyncScheduler;
    this.machine = new GateMachine<P>(opts.config, state);
    this.setpointConfig = isMaintenanceConfig(opts.config) ? undefined : opts.config;
    this.inputKeys = this.setpointConfig ? envelopeInputKeys(this.setpointConfig.envelope) : new Set();
    for (const c of this.machine.state.changes.values()) {
      this.durable.set(c.proposal.id, snapshot(c));
      this.noteKpi(c.proposal);
    }
    if (opts.kpiTag && this.setpointConfig) this.kpiKeys.add(this.key(opts.kpiTag));
  }

  /** A setpoint gate's config (undefined in a maintenance gate). */
  private readonly setpointConfig: GateConfig | undefined;

  get config(): AnyGateConfig {
    return this.opts.config;
  }

  /**
   * Start the machine: from here on commands or orders (restored ones first) may be emitted.
   * Resolves when what the start did (re-sends, expiries while the gate was down) is durable.
   */
  start(): Promise<void> {
    if (this.sub) return Promise.resolve();
    this.sub = this.input$
      .pipe(
        gateEffects(this.machine, this.scheduler),
        concatMap((e) => from(this.execute(e))),
      )
      .subscribe({ error: (err: Error) => this.halt(err) });
    return this.push({ kind: 'tick' }).then(() => undefined);
  }

  proposal(p: P): Promise<DecisionOutcome> {
    this.noteKpi(p);
    return this.push({ kind: 'proposal', proposal: p });
  }

  reading(r: Reading): Promise<DecisionOutcome> {
    // the page charts the envelope's inputs as the gate counts them: from its source only
    const env = this.setpointConfig?.envelope;
    if (env && (fromEnvelopeSource(env, r) || !this.inputKeys.has(readingKey(r.asset, r.tag)))) this.trend(r);
    return this.push({ kind: 'reading', reading: r });
  }

  result(r: WriteResult): Promise<DecisionOutcome> {
    return this.push({ kind: 'result', result: r });
  }

  decide(request: DecisionRequest): Promise<DecisionOutcome> {
    return this.push({ kind: 'decide', request });
  }

  setAutoApproval(enabled: boolean, user: string, reason?: string): Promise<DecisionOutcome> {
    return this.push(reason === undefined ? { kind: 'policy', enabled, user } : { kind: 'policy', enabled, user, reason });
  }

  autoApprovalOn(): boolean {
    return this.machine.state.autoApprovalOn;
  }

  /**
   * Open proposals and recently ended ones, as the ledger has them; a setpoint's with the envelope
   * check as of now and the trend, a maintenance window's with its order once approved.
   */
  views(): GateView<P>[] {
    const nowMs = this.scheduler.now();
    const keepMs = this.opts.keepEndedMs ?? 10 * 60_000;
    const out: Array<ProposalView | MaintenanceView> = [];
    for (const s of this.durable.values()) {
      if (FINAL_STATES.has(s.state) && (s.endedTsMs ?? 0) < nowMs - keepMs) continue;
      const live = this.machine.state.changes.get(s.proposal.id);
      const requiredApprovals = live ? Math.max(s.requiredApprovals, this.machine.requiredApprovals(live)) : s.requiredApprovals;
      const env = this.setpointConfig?.envelope;
      let view: ProposalView | MaintenanceView;
      if (env) {
        const p = s.proposal as unknown as Proposal;
        const kpiKey = this.key(this.opts.kpiTag ?? p.predictedEffect.kpiTag);
        view = {
          proposal: p,
          state: s.state,
          decisions: s.decisions,
          requiredApprovals,
          envelope: this.machine.checkChange(p, nowMs),
          trend: {
            setpoint: this.trendPoints(readingKey(env.asset, env.tag)),
            kpi: this.trendPoints(kpiKey),
          },
        };
      } else {
        view = {
          proposal: s.proposal as unknown as MaintenanceProposal,
          state: s.state as MaintenanceState,
          decisions: [...s.decisions],
          requiredApprovals,
        };
        if (s.order !== undefined) view.order = s.order;
      }
      if (s.reason !== undefined) view.reason = s.reason;
      out.push(view);
    }
    return out as GateView<P>[];
  }

  /** For a status line: open proposals, and the change being written (setpoint) or the windows ordered (maintenance). */
  summary(): { pending: number; executing?: { step: number; steps: number }; approved?: number } {
    let pending = 0;
    let approved = 0;
    let executing: { step: number; steps: number } | undefined;
    for (const s of this.durable.values()) {
      if (s.state === 'pending') pending++;
      if (s.state === 'approved') approved++;
      if (s.state === 'approved' && s.step !== undefined) executing = { step: s.step, steps: s.steps ?? s.step };
    }
    if (!this.setpointConfig) return { pending, approved };
    return executing ? { pending, executing } : { pending };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopIndexing?.();
    this.sub?.unsubscribe();
    for (const reply of this.replies.values()) reply({ ok: false, error: 'the gate is closed' });
    this.replies.clear();
    this.input$.complete();
    this.commands$.complete();
    this.orders$.complete();
    this.events$.complete();
    this.errors$.complete();
  }

  // ---------------------------------------------------------------------------------------------

  private push(input: GateInput<P>): Promise<DecisionOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'the gate is closed' });
    if (!this.sub) return Promise.resolve({ ok: false, error: 'the gate has not started' });
    if (this.halted) return Promise.resolve({ ok: false, error: `the gate has halted: ${this.halted.message}` });
    const token = this.nextToken++;
    return new Promise((resolve) => {
      this.replies.set(token, resolve);
      this.input$.next({ ...input, token });
    });
  }

  private async execute(e: GateEffect<P>): Promise<void> {
    if (e.kind === 'reply') {
      const reply = this.replies.get(e.token);
      this.replies.delete(e.token);
      reply?.(this.halted ? { ok: false, error: `the gate has halted: ${this.halted.message}` } : e.outcome);
      return;
    }
    if (this.halted) return; // after a failed append nothing more reaches the plant or the page
    if (e.kind === 'command') {
      this.commands$.next({ command: e.command, replay: e.replay === true });
      return;
    }
    if (e.kind === 'order') {
      this.orders$.next({ order: e.order, replay: e.replay === true });
      return;
    }
    let rec: LedgerRecord;
    try {
      rec = (e.result && (await this.findResult(e.result))) || (await this.opts.ledger.append(e.entry));
    } catch (err) {
      this.halt(err as Error);
      return;
    }
    if (!e.snapshot) return;
    const s = e.snapshot;
    this.durable.set(s.proposal.id, s);
    const ev: GateStateEvent = { proposalId: s.proposal.id, state: s.state, record: rec };
    if (s.reason !== undefined) ev.reason = s.reason;
    this.events$.next(ev);
  }

  /** The writer appends its result before it sends it: do not record the same result twice. */
  private async findResult(r: WriteResult): Promise<LedgerRecord | undefined> {
    if (this.resultIndex) return this.resultIndex.get(resultKey(r.commandId, r.outcome, r.readBackOk));
    const all = await this.opts.ledger.readAll();
    for (let i = all.length - 1; i >= 0; i--) {
      const rec = all[i]!;
      const d = rec.data as Partial<WriteResult> | null;
      if (RESULT_TYPES.has(rec.type) && d && d.commandId === r.commandId && d.outcome === r.outcome && d.readBackOk === r.readBackOk)
        return rec;
    }
    return undefined;
  }

  /** Keep a result record for one of this gate's commands (the newest per key wins, as findResult's scan did). */
  private indexResult(rec: LedgerRecord): void {
    if (!this.resultIndex || !RESULT_TYPES.has(rec.type)) return;
    const d = rec.data as Partial<WriteResult> | null;
    if (!d || typeof d.commandId !== 'string' || typeof d.outcome !== 'string') return;
    if (d.readBackOk !== undefined && typeof d.readBackOk !== 'boolean') return;
    // other setpoints' results in a shared ledger are not ours to keep (memory stays bounded by our commands)
    if (!this.machine.state.commandOwner.has(d.commandId)) return;
    this.resultIndex.set(resultKey(d.commandId, d.outcome, d.readBackOk), rec);
  }

  private halt(err: Error): void {
    if (this.halted) return;
    this.halted = err;
    this.errors$.next(err);
  }

  private key(tag: string): string {
    return tag.includes('/') ? tag : readingKey(this.setpointConfig!.envelope.asset, tag);
  }

  private noteKpi(p: P): void {
    if (!this.setpointConfig) return;
    const k = (p as unknown as Proposal)?.predictedEffect?.kpiTag;
    if (typeof k === 'string' && k !== '' && !this.opts.kpiTag) this.kpiKeys.add(this.key(k));
  }

  /** Keep the setpoint's and KPI's recent history: points at least the spacing apart, plus the newest. */
  private trend(r: Reading): void {
    const key = readingKey(r.asset, r.tag);
    // Every tag may turn out to be a proposal's KPI: keep a short history of the most recently seen tags.
    if (!this.trends.has(key) && this.trends.size >= MAX_TREND_KEYS) {
      const env = this.setpointConfig!.envelope;
      const sp = readingKey(env.asset, env.tag);
      const victim = [...this.trends.keys()].find((k) => k !== sp && !this.kpiKeys.has(k));
      if (victim === undefined) return;
      this.trends.delete(victim);
    }
    const spacingMs = this.opts.trendSpacingMs ?? 10_000;
    const windowMs = this.opts.trendWindowMs ?? 30 * 60_000;
    let t = this.trends.get(key);
    if (!t) this.trends.set(key, (t = { fixed: [] }));
    const lastFixed = t.fixed[t.fixed.length - 1];
    if ((t.latest ?? lastFixed) && r.tsMs < (t.latest ?? lastFixed)!.tsMs) return; // late: the chart moves forward only
    const p = { tsMs: r.tsMs, value: r.value };
    if (!lastFixed || r.tsMs - lastFixed.tsMs >= spacingMs) {
      t.fixed.push(p);
      t.latest = undefined;
    } else t.latest = p;
    while (t.fixed.length > 0 && t.fixed[0]!.tsMs < r.tsMs - windowMs) t.fixed.shift();
  }

  private trendPoints(key: string): TrendPoint[] {
    const t = this.trends.get(key);
    if (!t) return [];
    return t.latest ? [...t.fixed, t.latest] : [...t.fixed];
  }
}
