/**
 * The maintenance kind of the approval gate (gate-kind.ts): twin-maintenance → twin-approval in
 * maintenance mode. A MaintenanceProposal puts a window to the supervisors; approved by the approvals
 * it needs (from different users), it becomes one signed MaintenanceOrder for a CMMS or work-order
 * flow. Nothing is written to the plant and there is no envelope: a window is not a setpoint.
 *
 * Expiry is wall-clock time (approvals happen to people): a proposal expires at its expiresTsMs or
 * when its window starts, whichever comes first (a window in progress can no longer be approved).
 * A new proposal supersedes the pending one it names in `supersedes` and any pending one for the
 * same job (the gate is for one asset). A decision stands for a proposal of the same asset, job and
 * window (start and end) as one already approved or rejected; expired and superseded ones were not
 * decided: their window may come back.
 *
 * Ledger records carry the proposal's asset and id but no `tag`, so that a setpoint gate on the same
 * ledger and asset never reads them; 'proposal' data is the MaintenanceProposal (`kind: 'maintenance'`),
 * decision data says `kind: 'maintenance'`, and an 'order' record holds the signed order.
 */
import type { LedgerRecord } from '../model/control.js';
import type { MaintenanceOrder, MaintenanceProposal, MaintenanceWindow } from '../model/maintenance.js';
import { badConfig, isRecord } from '../model/errors.js';
import { MIN_KEY_CHARS } from './command.js';
import { badPayload, MAX_ID_CHARS, num, str } from './gate-input.js';
import { jsonMacMatches, withJsonMac } from './json-mac.js';
import type { KindRules } from './gate-kind.js';
import { MAINTENANCE_MEANING } from './gate-registry.js';
import { commandIdFor, type Change, type GateEffect, type GateState } from './gate-state.js';
import type { GateMachine } from './gate-machine.js';

export interface MaintenanceGateConfig {
  kind: 'maintenance';
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

function quality(o: Record<string, unknown>, what: string): void {
  if (!QUALITIES.has(o.quality as string)) throw badPayload(`${what}.quality must be good, uncertain or bad, not ${String(o.quality)}`);
}

function assertWindow(x: unknown, what: string, asset: string): asserts x is MaintenanceWindow {
  if (!isRecord(x)) throw badPayload(`${what} must be an object`);
  if (str(x, 'asset', what, MAX_TEXT_CHARS) !== asset)
    throw badPayload(`${what}.asset ${String(x.asset)} is not the proposal's asset ${asset}`);
  for (const k of ['tsMs', 'rank', 'startMs', 'endMs', 'expectedCostEur', 'productionLossMinutes']) num(x, k, what);
  if (!((x.endMs as number) > (x.startMs as number)))
    throw badPayload(`${what}: the window must end after it starts (endMs ${String(x.endMs)} ≤ startMs ${String(x.startMs)})`);
  for (const k of ['startLocal', 'endLocal', 'timeZone']) str(x, k, what, MAX_TEXT_CHARS);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: x.timeZone as string });
  } catch {
    throw badPayload(`${what}.timeZone ${String(x.timeZone)} is not an IANA time zone`);
  }
  if (!isRecord(x.costParts)) throw badPayload(`${what}.costParts must be an object`);
  for (const k of ['jobEur', 'downtimeEur', 'expectedFailureEur', 'energyEur']) num(x.costParts, k, `${what}.costParts`);
  const pf = num(x, 'failureProbability', what);
  if (pf < 0 || pf > 1) throw badPayload(`${what}.failureProbability must be between 0 and 1, not ${pf}`);
  if (typeof x.why !== 'string') throw badPayload(`${what}.why must be a string`);
  quality(x, what);
}

/** A MaintenanceProposal as twin-maintenance makes it: every field the gate, the ledger and the page rely on. */
export function assertMaintenanceProposal(x: unknown): asserts x is MaintenanceProposal {
  if (!isRecord(x))
    throw badPayload(`payload is ${Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x}, not a MaintenanceProposal`);
  if (x.kind !== 'maintenance')
    throw badPayload(`payload is not a MaintenanceProposal (kind must be 'maintenance', not ${JSON.stringify(x.kind)})`);
  str(x, 'id', 'MaintenanceProposal', MAX_ID_CHARS);
  const asset = str(x, 'asset', 'MaintenanceProposal', 1024);
  str(x, 'job', 'MaintenanceProposal', 1024);
  if (typeof x.rationale !== 'string') throw badPayload('MaintenanceProposal.rationale must be a string');
  assertWindow(x.window, 'MaintenanceProposal.window', asset);
  if (!Array.isArray(x.alternatives)) throw badPayload('MaintenanceProposal.alternatives must be an array (empty when there are none)');
  x.alternatives.forEach((w, i) => assertWindow(w, `MaintenanceProposal.alternatives[${i}]`, asset));
  const rul = x.rul;
  if (!isRecord(rul)) throw badPayload('MaintenanceProposal.rul must be an object');
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
  return isRecord(order) && jsonMacMatches(key, order);
}

// -------------------------------------------------------------------------------------------------
// The kind's rules.

/** Two different approvers for a window whose expected cost is above the threshold, else one. */
export function requiredApprovals(config: MaintenanceGateConfig, p: MaintenanceProposal): number {
  return p.window.expectedCostEur > config.twoPersonAboveEur ? 2 : 1;
}

export function maintenanceRules(config: MaintenanceGateConfig, m: GateMachine<MaintenanceProposal>): KindRules<MaintenanceProposal> {
  const issueOrder = (c: Change<MaintenanceProposal>, nowMs: number, out: GateEffect<MaintenanceProposal>[]): void => {
    const p = c.proposal;
    c.order = signOrder(config.signingKey, {
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
    m.record(out, c, 'order', c.order);
    out.push({ kind: 'order', order: c.order });
  };

  return {
    kind: 'maintenance',
    noun: 'maintenance proposal',
    subject: 'maintenance window',
    meaning: MAINTENANCE_MEANING,
    asset: config.asset,
    wrongTarget: (p) => (p.asset !== config.asset ? `maintenance proposal is for ${p.asset}; this gate is for ${config.asset}` : undefined),
    tooLate: (p, nowMs) =>
      nowMs >= p.window.startMs
        ? `maintenance proposal ${p.id}: its window starts at ${p.window.startLocal} (${p.window.timeZone}), which is already past`
        : undefined,
    // A pending proposal can be decided until it expires or its window starts, whichever is first.
    decideByMs: (p) => Math.min(p.expiresTsMs, p.window.startMs),
    expiryReason: (p, nowMs) =>
      nowMs >= p.window.startMs
        ? `the window started at ${p.window.startLocal} (${p.window.timeZone}) before it was decided`
        : 'not decided before it expired',
    // One open proposal per job: the newest to arrive is what the ranking now thinks.
    replaces: (old, p) => old.id === p.supersedes || old.job === p.job,
    decisionStands: (c, p) => {
      if (c.state !== 'approved' && c.state !== 'rejected') return false;
      const q = c.proposal;
      return q.asset === p.asset && q.job === p.job && q.window.startMs === p.window.startMs && q.window.endMs === p.window.endMs;
    },
    approvalsNeeded: (c) => requiredApprovals(config, c.proposal),
    decisionFields: () => ({}),
    decisionExtras: () => ({ kind: 'maintenance' }),
    onApproved: issueOrder,
    /**
     * After a restore: an approved proposal whose order is in the ledger is re-sent unchanged (same id
     * and signature: a receiver keyed on the id takes it once) while its window has not ended; one
     * approved without its order record (a crash between the two) gets its order now.
     */
    start: (nowMs, out) => {
      for (const c of m.state.changes.values()) {
        if (c.state !== 'approved') continue;
        if (!c.order) issueOrder(c, nowMs, out);
        else if (nowMs < c.order.endMs) out.push({ kind: 'order', order: c.order, replay: true });
      }
    },
    restoredProposal: (data) => {
      const d = data as Partial<MaintenanceProposal> | null;
      return isRecord(d) && d.kind === 'maintenance' && typeof d.id === 'string' ? (d as MaintenanceProposal) : undefined;
    },
    restoreRecord: (_state: GateState<MaintenanceProposal>, rec: LedgerRecord, c) => {
      if (rec.type === 'order' && c) c.order = rec.data as MaintenanceOrder;
    },
  };
}
