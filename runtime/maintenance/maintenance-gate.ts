/**
 * The approval gate for maintenance windows (twin-maintenance → twin-approval in maintenance mode):
 *
 *   pending → approved (by the approvals it needs, from different users) → a signed MaintenanceOrder
 *   pending → rejected | expired | superseded
 *
 * Expiry is wall-clock time (approvals happen to people): a proposal expires at its expiresTsMs or
 * when its window starts, whichever comes first (a window in progress can no longer be approved).
 * A new proposal supersedes the pending one it names in `supersedes` and any pending one for the
 * same asset and job (the gate is for one asset). There is no envelope: a window is not a setpoint.
 *
 * A decision stands: a proposal for the same asset, job and window (start and end) as one already
 * approved or rejected is never put up again, also after a restart (the state comes from the ledger)
 * or when twin-maintenance, restarted or past its proposal's expiry, recommends the same window anew.
 * It is answered with `duplicateOf` and nothing is recorded. Expired and superseded ones were not
 * decided: their window may come back.
 *
 * Three parts, as the setpoint gate has them (runtime/control/gate-*.ts), here in one file because
 * each is small: MaintenanceMachine (pure rules: input + time → effects), restoreMaintenanceState
 * (the state rebuilt from the ledger on start) and MaintenanceGate (the executor: every ledger
 * record is durable before the state it makes is reported, and before the order it justifies is
 * emitted; a failed append halts the gate).
 *
 * Ledger records carry the proposal's asset and id but no `tag`, so that a setpoint gate on the same
 * ledger and asset never reads them; 'proposal' data is the MaintenanceProposal (`kind: 'maintenance'`).
 */
import { Subject, asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { LedgerRecord } from '../model/control.js';
import type { MaintenanceOrder, MaintenanceProposal, MaintenanceWindow } from '../model/maintenance.js';
import { badConfig } from '../model/errors.js';
import { MIN_KEY_CHARS } from '../control/command.js';
import { badPayload, MAX_ID_CHARS, num, str } from '../control/gate-input.js';
import { jsonMacMatches, withJsonMac } from '../control/json-mac.js';
import type { GateStateEvent } from '../control/gate.js';
import {
  MAINTENANCE_MEANING,
  MAX_MEANING_CHARS,
  MAX_REASON_CHARS,
  type DecisionOutcome,
  type DecisionRequest,
  type MaintenanceDecision,
  type MaintenanceState,
  type MaintenanceView,
} from '../control/gate-registry.js';
import { commandIdFor } from '../control/gate-state.js';
import type { Ledger, LedgerEntry } from '../control/stores.js';

export interface MaintenanceGateConfig {
  /** The asset this gate decides maintenance for. */
  asset: string;
  /** Windows whose expected cost is above this need two different approvers; Infinity = rule off. */
  twoPersonAboveEur: number;
  /** HMAC key for orders (the twin-ledger's signing key, as for commands). */
  signingKey: string;
}

export function validateMaintenanceGateConfig(c: MaintenanceGateConfig): MaintenanceGateConfig {
  if (typeof c.asset !== 'string' || c.asset.trim() === '') badConfig('asset is required in maintenance mode');
  if (!(c.twoPersonAboveEur >= 0)) badConfig(`twoPersonAboveEur must be ≥ 0 (blank = off), not ${c.twoPersonAboveEur}`);
  if (typeof c.signingKey !== 'string' || c.signingKey.length < MIN_KEY_CHARS) {
    badConfig(`the ledger's signing key is missing or shorter than ${MIN_KEY_CHARS} characters`);
  }
  return c;
}

// -------------------------------------------------------------------------------------------------
// The payload check: a MaintenanceProposal arrives from a flow, so nothing in it is trusted.

const QUALITIES = new Set(['good', 'uncertain', 'bad']);
/** Free text in a window (local times, zone, asset) may be longer than an id. */
const MAX_TEXT_CHARS = 4096;

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function quality(o: Record<string, unknown>, what: string): void {
  if (!QUALITIES.has(o.quality as string)) throw badPayload(`${what}.quality must be good, uncertain or bad, not ${String(o.quality)}`);
}

function assertWindow(x: unknown, what: string, asset: string): asserts x is MaintenanceWindow {
  if (!isObj(x)) throw badPayload(`${what} must be an object`);
  if (str(x, 'asset', what, MAX_TEXT_CHARS) !== asset) throw badPayload(`${what}.asset ${String(x.asset)} is not the proposal's asset ${asset}`);
  for (const k of ['tsMs', 'rank', 'startMs', 'endMs', 'expectedCostEur', 'productionLossMinutes']) num(x, k, what);
  if (!((x.endMs as number) > (x.startMs as number))) throw badPayload(`${what}: the window must end after it starts (endMs ${String(x.endMs)} ≤ startMs ${String(x.startMs)})`);
  for (const k of ['startLocal', 'endLocal', 'timeZone']) str(x, k, what, MAX_TEXT_CHARS);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: x.timeZone as string });
  } catch {
    throw badPayload(`${what}.timeZone ${String(x.timeZone)} is not an IANA time zone`);
  }
  if (!isObj(x.costParts)) throw badPayload(`${what}.costParts must be an object`);
  for (const k of ['jobEur', 'downtimeEur', 'expectedFailureEur', 'energyEur']) num(x.costParts, k, `${what}.costParts`);
  const pf = num(x, 'failureProbability', what);
  if (pf < 0 || pf > 1) throw badPayload(`${what}.failureProbability must be between 0 and 1, not ${pf}`);
  if (typeof x.why !== 'string') throw badPayload(`${what}.why must be a string`);
  quality(x, what);
}

/** A MaintenanceProposal as twin-maintenance makes it: every field the gate, the ledger and the page rely on. */
export function assertMaintenanceProposal(x: unknown): asserts x is MaintenanceProposal {
  if (!isObj(x)) throw badPayload(`payload is ${Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x}, not a MaintenanceProposal`);
  if (x.kind !== 'maintenance') throw badPayload(`payload is not a MaintenanceProposal (kind must be 'maintenance', not ${JSON.stringify(x.kind)})`);
  str(x, 'id', 'MaintenanceProposal', MAX_ID_CHARS);
  const asset = str(x, 'asset', 'MaintenanceProposal', 1024);
  str(x, 'job', 'MaintenanceProposal', 1024);
  if (typeof x.rationale !== 'string') throw badPayload('MaintenanceProposal.rationale must be a string');
  assertWindow(x.window, 'MaintenanceProposal.window', asset);
  if (!Array.isArray(x.alternatives)) throw badPayload('MaintenanceProposal.alternatives must be an array (empty when there are none)');
  x.alternatives.forEach((w, i) => assertWindow(w, `MaintenanceProposal.alternatives[${i}]`, asset));
  const rul = x.rul;
  if (!isObj(rul)) throw badPayload('MaintenanceProposal.rul must be an object');
  for (const k of ['tsMs', 'rulMs', 'rulP10Ms', 'rulP90Ms', 'healthIndex']) num(rul, k, 'MaintenanceProposal.rul');
  quality(rul, 'MaintenanceProposal.rul');
  // Not compared with each other: createdTsMs is the event time of the RUL the ranking rests on (a
  // simulator or a replay may run ahead of or behind the wall clock), expiresTsMs is wall-clock time.
  num(x, 'createdTsMs', 'MaintenanceProposal');
  num(x, 'expiresTsMs', 'MaintenanceProposal');
  quality(x, 'MaintenanceProposal');
  if (x.supersedes !== undefined) str(x, 'supersedes', 'MaintenanceProposal', MAX_ID_CHARS);
}

// -------------------------------------------------------------------------------------------------
// Signed orders: HMAC-SHA256 with the gate's key over the canonical JSON of every other field, as
// commands are signed (runtime/control/command.ts), so a CMMS adapter can check where an order came from.

type UnsignedOrder = Omit<MaintenanceOrder, 'signature'>;

export function signOrder(key: string, body: UnsignedOrder): MaintenanceOrder {
  if (typeof key !== 'string' || key.length < MIN_KEY_CHARS) throw new Error(`signing key must have at least ${MIN_KEY_CHARS} characters`);
  return withJsonMac(key, body) as MaintenanceOrder;
}

/** True when the order carries a signature made with `key` over exactly its other fields. */
export function verifyOrder(key: string, order: MaintenanceOrder): boolean {
  return isObj(order) && jsonMacMatches(key, order);
}

// -------------------------------------------------------------------------------------------------
// The state machine.

/** Everything the gate knows about one proposal (what the page sees, plus when it ended). */
export interface MaintenanceChange extends MaintenanceView {
  decisions: MaintenanceDecision[];
  endedTsMs?: number;
}

export interface MaintenanceGateState {
  /** By proposal id, in arrival order. */
  changes: Map<string, MaintenanceChange>;
}

export type MaintenanceInput =
  | { kind: 'proposal'; proposal: MaintenanceProposal }
  | { kind: 'decide'; request: DecisionRequest }
  /** Time passed: expiries. */
  | { kind: 'tick' };

export type MaintenanceEffect =
  /** Append to the ledger; then report the proposal's state as the snapshot has it. */
  | { kind: 'record'; entry: LedgerEntry; snapshot: MaintenanceChange }
  /** Emit an order (only after every record before it is durable); `replay`: re-sent after a restart. */
  | { kind: 'order'; order: MaintenanceOrder; replay?: boolean };

const FINAL: ReadonlySet<MaintenanceState> = new Set(['rejected', 'expired', 'superseded']);

/** A refused input: reported to the caller, nothing recorded. */
class Refusal extends Error {}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function copy(c: MaintenanceChange): MaintenanceChange {
  return { ...c, decisions: [...c.decisions] };
}

export class MaintenanceMachine {
  readonly state: MaintenanceGateState;

  constructor(readonly config: MaintenanceGateConfig, state?: MaintenanceGateState) {
    this.state = state ?? { changes: new Map() };
  }

  /**
   * After a restore: an approved proposal whose order is in the ledger is re-sent unchanged (same id
   * and signature: a receiver keyed on the id takes it once) while its window has not ended; one
   * approved without its order record (a crash between the two) gets its order now. Then time.
   */
  start(nowMs: number): MaintenanceEffect[] {
    const out: MaintenanceEffect[] = [];
    for (const c of this.state.changes.values()) {
      if (c.state !== 'approved') continue;
      if (!c.order) this.issueOrder(c, nowMs, out);
      else if (nowMs < c.order.endMs) out.push({ kind: 'order', order: c.order, replay: true });
    }
    this.advance(nowMs, out);
    return out;
  }

  handle(input: MaintenanceInput, nowMs: number): { effects: MaintenanceEffect[]; outcome: DecisionOutcome } {
    const out: MaintenanceEffect[] = [];
    // Time first: a proposal that expired a moment ago is expired before anyone decides on it.
    this.advance(nowMs, out);
    let outcome: DecisionOutcome = { ok: true };
    try {
      if (input.kind === 'proposal') outcome = this.onProposal(input.proposal, nowMs, out);
      else if (input.kind === 'decide') outcome = this.onDecide(input.request, nowMs, out);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err; // a bug: let it surface
      outcome = { ok: false, error: err.message };
    }
    return { effects: out, outcome };
  }

  /** When the machine next has something to do on its own (Infinity: nothing). */
  nextWakeMs(nowMs: number): number {
    let at = Infinity;
    for (const c of this.state.changes.values()) {
      if (c.state !== 'pending') continue;
      const t = endOfDecisionMs(c.proposal);
      if (t > nowMs && t < at) at = t;
    }
    return at;
  }


  private onProposal(p: MaintenanceProposal, nowMs: number, out: MaintenanceEffect[]): DecisionOutcome {
    if (p.asset !== this.config.asset) throw new Refusal(`maintenance proposal is for ${p.asset}; this gate is for ${this.config.asset}`);
    if (this.state.changes.has(p.id)) throw new Refusal(`maintenance proposal ${p.id} is already known (a replay?)`);
    const decided = decidedTwin(this.state, p);
    if (decided) return { ok: true, state: decided.state, duplicateOf: decided.proposal.id };
    if (p.quality === 'bad') throw new Refusal(`maintenance proposal ${p.id} rests on bad-quality inputs${p.qualityReason ? ` (${p.qualityReason})` : ''}`);
    if (nowMs >= p.expiresTsMs) throw new Refusal(`maintenance proposal ${p.id} expired at ${iso(p.expiresTsMs)} before it arrived`);
    if (nowMs >= p.window.startMs) throw new Refusal(`maintenance proposal ${p.id}: its window starts at ${p.window.startLocal} (${p.window.timeZone}), which is already past`);

    // One open proposal per job: the newest to arrive is what the ranking now thinks (as for setpoints).
    const replaced = [...this.state.changes.values()].filter(
      (old) => old.state === 'pending' && (old.proposal.id === p.supersedes || old.proposal.job === p.job),
    );

    const c: MaintenanceChange = { proposal: p, state: 'pending', decisions: [], requiredApprovals: requiredApprovals(this.config, p) };
    this.state.changes.set(p.id, c);
    this.record(out, c, 'proposal', p);
    for (const old of replaced) {
      this.end(old, 'superseded', `superseded by proposal ${p.id}`, nowMs);
      this.record(out, old, 'superseded', { supersededBy: p.id, state: old.state, reason: old.reason });
    }
    return { ok: true, state: c.state };
  }

  private onDecide(req: DecisionRequest, nowMs: number, out: MaintenanceEffect[]): DecisionOutcome {
    const c = this.state.changes.get(req.proposalId);
    if (!c) throw new Refusal(`no maintenance proposal ${req.proposalId} at this gate`);
    const user = typeof req.user === 'string' ? req.user.trim() : '';
    if (user === '') throw new Refusal('a decision needs the user who makes it');
    if (user.startsWith('policy:')) throw new Refusal('user names starting with "policy:" are reserved for policies');
    const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
    if (reason === '') throw new Refusal('a decision needs a reason');
    if (reason.length > MAX_REASON_CHARS) throw new Refusal(`the reason is longer than ${MAX_REASON_CHARS} characters`);
    if (req.verdict !== 'approve' && req.verdict !== 'reject') throw new Refusal(`verdict must be approve or reject, not ${String(req.verdict)}`);
    if (c.state !== 'pending') throw new Refusal(`maintenance proposal ${c.proposal.id} is ${c.state}${c.reason ? ` (${c.reason})` : ''}; it cannot be decided`);
    if (req.meaning !== undefined && typeof req.meaning !== 'string') throw new Refusal('the meaning of the signature must be text');
    const meaning = typeof req.meaning === 'string' && req.meaning.trim() !== '' ? req.meaning.trim() : MAINTENANCE_MEANING[req.verdict];
    if (meaning.length > MAX_MEANING_CHARS) throw new Refusal(`the meaning of the signature is longer than ${MAX_MEANING_CHARS} characters`);
    if (req.verdict === 'approve' && c.decisions.some((d) => d.verdict === 'approve' && d.user === user)) {
      throw new Refusal(`${user} has already approved this maintenance window; a second approval must come from a different user`);
    }
    const printedName = typeof req.printedName === 'string' && req.printedName.trim() !== '' ? req.printedName.trim() : user;
    const decision: MaintenanceDecision = { proposalId: c.proposal.id, verdict: req.verdict, user, printedName, meaning, reason, tsMs: nowMs };
    c.decisions.push(decision);
    if (req.verdict === 'reject') this.end(c, 'rejected', `rejected by ${user}: ${reason}`, nowMs);
    else if (c.decisions.filter((d) => d.verdict === 'approve').length >= c.requiredApprovals) c.state = 'approved';
    this.record(out, c, 'decision', { ...decision, kind: 'maintenance', state: c.state, requiredApprovals: c.requiredApprovals });
    if (c.state === 'approved') this.issueOrder(c, nowMs, out);
    return { ok: true, state: c.state };
  }

  private issueOrder(c: MaintenanceChange, nowMs: number, out: MaintenanceEffect[]): void {
    const p = c.proposal;
    c.order = signOrder(this.config.signingKey, {
      // derived like a command id (UUID-shaped, from the proposal): the same proposal never gets two order ids
      id: commandIdFor(p.asset, 'maintenance-order', p.id, 1),
      proposalId: p.id,
      asset: p.asset,
      job: p.job,
      startMs: p.window.startMs,
      endMs: p.window.endMs,
      timeZone: p.window.timeZone,
      approvedBy: c.decisions.filter((d) => d.verdict === 'approve').map((d) => d.user),
      issuedTsMs: nowMs,
    });
    this.record(out, c, 'order', c.order);
    out.push({ kind: 'order', order: c.order });
  }

  private advance(nowMs: number, out: MaintenanceEffect[]): void {
    for (const c of this.state.changes.values()) {
      if (c.state !== 'pending' || nowMs < endOfDecisionMs(c.proposal)) continue;
      const w = c.proposal.window;
      const why = nowMs >= w.startMs ? `the window started at ${w.startLocal} (${w.timeZone}) before it was decided` : 'not decided before it expired';
      this.end(c, 'expired', why, nowMs);
      this.record(out, c, 'expired', { state: c.state, reason: c.reason });
    }
  }

  private end(c: MaintenanceChange, state: MaintenanceState, reason: string, nowMs: number): void {
    c.state = state;
    c.reason = reason;
    c.endedTsMs = nowMs;
  }

  private record(out: MaintenanceEffect[], c: MaintenanceChange, type: LedgerEntry['type'], data: unknown): void {
    out.push({ kind: 'record', entry: { type, asset: c.proposal.asset, proposalId: c.proposal.id, data }, snapshot: copy(c) });
  }
}

/** The approved or rejected proposal for the same asset, job and window, if any: the decision that stands. */
export function decidedTwin(state: MaintenanceGateState, p: MaintenanceProposal): MaintenanceChange | undefined {
  for (const c of state.changes.values()) {
    if (c.state !== 'approved' && c.state !== 'rejected') continue;
    const q = c.proposal;
    if (q.asset === p.asset && q.job === p.job && q.window.startMs === p.window.startMs && q.window.endMs === p.window.endMs) return c;
  }
  return undefined;
}

/** Two different approvers for a window whose expected cost is above the threshold, else one. */
export function requiredApprovals(config: MaintenanceGateConfig, p: MaintenanceProposal): number {
  return p.window.expectedCostEur > config.twoPersonAboveEur ? 2 : 1;
}

/** A pending proposal can be decided until it expires or its window starts, whichever is first. */
function endOfDecisionMs(p: MaintenanceProposal): number {
  return Math.min(p.expiresTsMs, p.window.startMs);
}

// -------------------------------------------------------------------------------------------------
// Restore: the ledger is the truth. States come from the gate's own records as written.

export function restoreMaintenanceState(config: MaintenanceGateConfig, records: readonly LedgerRecord[]): MaintenanceGateState {
  const changes = new Map<string, MaintenanceChange>();
  for (const rec of records) {
    if (rec.asset !== config.asset || rec.tag !== undefined) continue;
    const data = rec.data as Record<string, unknown> | null;
    if (!isObj(data)) continue;
    if (rec.type === 'proposal') {
      if (data.kind === 'maintenance' && typeof data.id === 'string' && !changes.has(data.id)) {
        const p = data as unknown as MaintenanceProposal;
        changes.set(p.id, { proposal: p, state: 'pending', decisions: [], requiredApprovals: 1 });
      }
      continue;
    }
    const c = rec.proposalId === undefined ? undefined : changes.get(rec.proposalId);
    if (!c) continue;
    switch (rec.type) {
      case 'decision': {
        const { kind: _k, state, requiredApprovals, ...decision } = data;
        c.decisions.push(decision as unknown as MaintenanceDecision);
        if (typeof requiredApprovals === 'number') c.requiredApprovals = Math.max(c.requiredApprovals, requiredApprovals);
        if (typeof state === 'string') c.state = state as MaintenanceState;
        if (c.state === 'rejected') {
          c.reason = `rejected by ${String(decision.user)}: ${String(decision.reason)}`;
          c.endedTsMs = rec.tsMs;
        }
        break;
      }
      case 'expired':
      case 'superseded':
        c.state = (typeof data.state === 'string' ? data.state : rec.type) as MaintenanceState;
        if (typeof data.reason === 'string') c.reason = data.reason;
        c.endedTsMs = rec.tsMs;
        break;
      case 'order':
        c.order = data as unknown as MaintenanceOrder;
        break;
    }
  }
  // Approvals needed: as on arrival, and never fewer than the decisions recorded.
  for (const c of changes.values()) c.requiredApprovals = Math.max(c.requiredApprovals, requiredApprovals(config, c.proposal));
  return { changes };
}

// -------------------------------------------------------------------------------------------------
// The executor.

export interface MaintenanceGateOptions {
  config: MaintenanceGateConfig;
  ledger: Ledger;
  /** Wall clock in a flow; a manual clock in tests. */
  scheduler?: SchedulerLike;
  /** Ended proposals stay in views() this long. */
  keepEndedMs?: number;
}

export interface IssuedOrder {
  order: MaintenanceOrder;
  /** Re-sent unchanged after a restart (same id and signature). */
  replay: boolean;
}

export class MaintenanceGate {
  readonly orders$ = new Subject<IssuedOrder>();
  /** A state change, after the ledger record that made it durable (twin-approval's output 2). */
  readonly events$ = new Subject<GateStateEvent>();
  /** A ledger append failed: the gate has halted. */
  readonly errors$ = new Subject<Error>();
  readonly machine: MaintenanceMachine;
  halted: Error | undefined;

  private readonly scheduler: SchedulerLike;
  /** What has been made durable, per proposal: what the page and status may show. */
  private readonly durable = new Map<string, MaintenanceChange>();
  /** Inputs run one at a time, each with its appends, in arrival order. */
  private tail: Promise<void> = Promise.resolve();
  private timer: Subscription | undefined;
  private timerAtMs = Infinity;
  private started = false;
  private closed = false;

  /** Read the ledger, rebuild the state, and build the gate (call start() once subscribed to its outputs). */
  static async open(opts: MaintenanceGateOptions): Promise<MaintenanceGate> {
    return new MaintenanceGate(opts, restoreMaintenanceState(opts.config, await opts.ledger.readAll()));
  }

  constructor(readonly opts: MaintenanceGateOptions, state?: MaintenanceGateState) {
    this.scheduler = opts.scheduler ?? asyncScheduler;
    this.machine = new MaintenanceMachine(opts.config, state);
    for (const c of this.machine.state.changes.values()) this.durable.set(c.proposal.id, copy(c));
  }

  /** Start: re-sends restored orders, expires what expired while the gate was down (resolves when that is done). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.run((nowMs) => ({ effects: this.machine.start(nowMs), outcome: { ok: true } }));
  }

  proposal(p: MaintenanceProposal): Promise<DecisionOutcome> {
    return this.push({ kind: 'proposal', proposal: p });
  }

  decide(request: DecisionRequest): Promise<DecisionOutcome> {
    return this.push({ kind: 'decide', request });
  }

  /** Open proposals and recently ended ones, as the ledger has them. */
  views(): MaintenanceView[] {
    const keepMs = this.opts.keepEndedMs ?? 10 * 60_000;
    const nowMs = this.scheduler.now();
    const out: MaintenanceView[] = [];
    for (const c of this.durable.values()) {
      if (FINAL.has(c.state) && (c.endedTsMs ?? 0) < nowMs - keepMs) continue;
      const { endedTsMs: _e, ...view } = c;
      out.push({ ...view, decisions: [...c.decisions] });
    }
    return out;
  }

  /** For a status line. */
  summary(): { pending: number; approved: number } {
    let pending = 0;
    let approved = 0;
    for (const c of this.durable.values()) {
      if (c.state === 'pending') pending++;
      else if (c.state === 'approved') approved++;
    }
    return { pending, approved };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.unsubscribe();
    this.orders$.complete();
    this.events$.complete();
    this.errors$.complete();
  }

  // ---------------------------------------------------------------------------------------------

  private push(input: MaintenanceInput): Promise<DecisionOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'the gate is closed' });
    if (!this.started) return Promise.resolve({ ok: false, error: 'the gate has not started' });
    return this.run((nowMs) => this.machine.handle(input, nowMs));
  }

  /** Queue one step: the machine acts at the time the step runs, then its effects are carried out in order. */
  private run(step: (nowMs: number) => { effects: MaintenanceEffect[]; outcome: DecisionOutcome }): Promise<DecisionOutcome> {
    const result = this.tail.then(async (): Promise<DecisionOutcome> => {
      if (this.closed) return { ok: false, error: 'the gate is closed' };
      if (this.halted) return { ok: false, error: `the gate has halted: ${this.halted.message}` };
      const nowMs = this.scheduler.now();
      let r: { effects: MaintenanceEffect[]; outcome: DecisionOutcome };
      try {
        r = step(nowMs);
      } catch (err) {
        this.halt(err as Error); // a bug in the machine: stop rather than act on a broken state
        return { ok: false, error: `the gate has halted: ${(err as Error).message}` };
      }
      for (const e of r.effects) await this.execute(e);
      this.arm(nowMs);
      const halted = this.halted as Error | undefined; // an append above may have failed
      return halted ? { ok: false, error: `the gate has halted: ${halted.message}` } : r.outcome;
    });
    this.tail = result.then(() => undefined);
    return result;
  }

  private async execute(e: MaintenanceEffect): Promise<void> {
    if (this.halted || this.closed) return; // after a failed append nothing more is emitted or reported
    if (e.kind === 'order') {
      this.orders$.next({ order: e.order, replay: e.replay === true });
      return;
    }
    let rec: LedgerRecord;
    try {
      rec = await this.opts.ledger.append(e.entry);
    } catch (err) {
      this.halt(err as Error);
      return;
    }
    const s = e.snapshot;
    this.durable.set(s.proposal.id, s);
    const ev: GateStateEvent = { proposalId: s.proposal.id, state: s.state, record: rec };
    if (s.reason !== undefined) ev.reason = s.reason;
    this.events$.next(ev);
  }

  /** The timer for the next expiry, computed for the instant the machine acted at. */
  private arm(nowMs: number): void {
    if (this.closed) return;
    const atMs = this.machine.nextWakeMs(nowMs);
    if (atMs === this.timerAtMs) return;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.timerAtMs = atMs;
    if (atMs === Infinity) return;
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      void this.run((t) => this.machine.handle({ kind: 'tick' }, t));
    }, Math.max(0, atMs - this.scheduler.now()));
  }

  private halt(err: Error): void {
    if (this.halted) return;
    this.halted = err;
    this.errors$.next(err);
  }
}
