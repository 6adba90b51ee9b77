/**
 * What cluster instances say to each other about approval gates over NATS (runtime/cluster/gate-service.ts),
 * and the checks every message gets on arrival: a message is untrusted input even from a member (a
 * bug, an older version, a misconfigured NATS user), so each is checked field by field, bounded in
 * size and count, and what fails is dropped with a reason. No NATS import: pure, unit-tested.
 *
 *   twinloop.gates.list                     every instance answers: its instance name, the lines it owns,
 *                                           the gates it serves (summary + views, as api/gates and
 *                                           api/proposals show them)
 *   twinloop.gates.<hex id>.decide          only the instance serving that gate subscribes (queue group):
 *   twinloop.gates.<hex id>.auto-approval   a decision / a policy switch, signed by a user the asking
 *                                           instance authenticated (password checked there, never sent)
 */
import { isRecord } from '../model/errors.js';
import type { Verdict } from '../model/control.js';
import { MAX_MEANING_CHARS, MAX_REASON_CHARS, type AutoApprovalPolicy, type DecisionRequest } from '../control/gate-registry.js';
import type { GateSummary, GateView } from '../control/gate-summary.js';

export const GATES_LIST_SUBJECT = 'twinloop.gates.list';
/** Only one member of this queue group gets a decision, even while two instances briefly serve a gate. */
export const GATES_QUEUE = 'twinloop-gates';
export const WIRE_VERSION = 1;

/** Longest gate id (a Node-RED node id is 16 characters). */
export const MAX_GATE_ID_CHARS = 200;
/** Longest instance name, user name, printed name or proposal id taken from a message. */
export const MAX_NAME_CHARS = 200;
/** Gates one instance may list; proposals one gate may show; instances one listing takes. */
export const MAX_GATES_PER_REPLY = 200;
export const MAX_VIEWS_PER_GATE = 100;
export const MAX_INSTANCES = 64;
/** Largest list reply taken (NATS' own default max_payload is 1 MB). */
export const MAX_REPLY_BYTES = 1024 * 1024;
/** Longest error text taken from another instance's answer. */
const MAX_ERROR_CHARS = 2000;

export type GateAction = 'decide' | 'auto-approval';

/** The subject of one gate's requests: the id hex-encoded, so that any id is one safe subject token. */
export function gateSubject(gateId: string, action: GateAction | '*'): string {
  return `twinloop.gates.${Buffer.from(gateId, 'utf8').toString('hex')}.${action}`;
}

export interface ServedGate {
  summary: GateSummary;
  /** The line the gate acts for, when it has one. */
  line?: string;
  views: GateView[];
}

export interface ListReply {
  v: typeof WIRE_VERSION;
  instance: string;
  /** Lines this instance owns now. */
  lines: string[];
  gates: ServedGate[];
  /** Gates or views were left out to keep the reply under MAX_REPLY_BYTES. */
  truncated?: boolean;
}

export interface DecideMessage extends DecisionRequest {
  v: typeof WIRE_VERSION;
  /** The instance whose page authenticated the user (for the owner's log). */
  from: string;
}

export interface AutoApprovalMessage {
  v: typeof WIRE_VERSION;
  enabled: boolean;
  user: string;
  reason: string;
  from: string;
}

export interface OutcomeReply {
  v: typeof WIRE_VERSION;
  instance: string;
  ok: boolean;
  state?: string;
  error?: string;
  /** The gate is not served here now (its line changed hands between the asking and the answer). */
  notServed?: boolean;
  /** After a policy switch: the policy now. */
  autoApproval?: AutoApprovalPolicy;
}

type Checked<T> = { ok: T } | { error: string };

const text = (v: unknown, max: number, empty = false): v is string =>
  typeof v === 'string' && v.length <= max && (empty || v.trim() !== '');
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A decision request as the owner receives it. */
export function parseDecideMessage(raw: unknown): Checked<DecideMessage> {
  if (!isRecord(raw) || raw.v !== WIRE_VERSION) return { error: 'not a decision message of this version' };
  const { proposalId, verdict, user, printedName, reason, meaning, from } = raw;
  if (verdict !== 'approve' && verdict !== 'reject') return { error: 'verdict must be "approve" or "reject"' };
  if (!text(proposalId, MAX_NAME_CHARS)) return { error: 'proposalId must be a non-empty text' };
  if (!text(user, MAX_NAME_CHARS) || !text(printedName, MAX_NAME_CHARS)) return { error: 'user and printedName must be non-empty texts' };
  if (!text(reason, MAX_REASON_CHARS)) return { error: `a reason of at most ${MAX_REASON_CHARS} characters is required` };
  if (meaning !== undefined && !text(meaning, MAX_MEANING_CHARS, true))
    return { error: `meaning must be text of at most ${MAX_MEANING_CHARS} characters` };
  if (!text(from, MAX_NAME_CHARS)) return { error: 'from must name the asking instance' };
  return {
    ok: {
      v: WIRE_VERSION,
      proposalId,
      verdict: verdict as Verdict,
      user,
      printedName,
      reason,
      from,
      ...(meaning !== undefined ? { meaning } : {}),
    },
  };
}

export function parseAutoApprovalMessage(raw: unknown): Checked<AutoApprovalMessage> {
  if (!isRecord(raw) || raw.v !== WIRE_VERSION) return { error: 'not an auto-approval message of this version' };
  const { enabled, user, reason, from } = raw;
  if (typeof enabled !== 'boolean') return { error: 'enabled must be true or false' };
  if (!text(user, MAX_NAME_CHARS)) return { error: 'user must be a non-empty text' };
  if (!text(reason, MAX_REASON_CHARS)) return { error: `a reason of at most ${MAX_REASON_CHARS} characters is required` };
  if (!text(from, MAX_NAME_CHARS)) return { error: 'from must name the asking instance' };
  return { ok: { v: WIRE_VERSION, enabled, user, reason, from } };
}

export function parseOutcomeReply(raw: unknown): Checked<OutcomeReply> {
  if (!isRecord(raw) || raw.v !== WIRE_VERSION) return { error: 'not an answer of this version' };
  const { instance, ok, state, error, notServed, autoApproval } = raw;
  if (!text(instance, MAX_NAME_CHARS)) return { error: 'the answer names no instance' };
  if (typeof ok !== 'boolean') return { error: 'the answer has no ok' };
  if (state !== undefined && !text(state, MAX_NAME_CHARS)) return { error: 'the answer has a bad state' };
  if (error !== undefined && typeof error !== 'string') return { error: 'the answer has a bad error' };
  if (autoApproval !== undefined && !policy(autoApproval)) return { error: 'the answer has a bad auto-approval policy' };
  return {
    ok: {
      v: WIRE_VERSION,
      instance,
      ok,
      ...(state !== undefined ? { state } : {}),
      ...(typeof error === 'string' ? { error: error.slice(0, MAX_ERROR_CHARS) } : {}),
      ...(notServed === true ? { notServed: true } : {}),
      ...(autoApproval !== undefined ? { autoApproval: autoApproval as AutoApprovalPolicy } : {}),
    },
  };
}

function policy(v: unknown): boolean {
  return isRecord(v) && typeof v.enabled === 'boolean' && typeof v.configured === 'boolean' && num(v.maxStep);
}

/** The summary fields the pages read, checked. */
function summaryProblem(s: unknown): string | undefined {
  if (!isRecord(s)) return 'no summary';
  if (!text(s.id, MAX_GATE_ID_CHARS)) return 'a bad id';
  if (!text(s.name, MAX_NAME_CHARS, true) || !text(s.asset, MAX_NAME_CHARS, true)) return 'a bad name or asset';
  if (s.alarm !== undefined && !(isRecord(s.alarm) && typeof s.alarm.reason === 'string' && typeof s.alarm.remedy === 'string'))
    return 'a bad alarm';
  if (s.kind === 'maintenance') return s.twoPersonAboveEur === null || num(s.twoPersonAboveEur) ? undefined : 'a bad two-person limit';
  if (s.kind !== 'setpoint') return 'an unknown kind';
  if (!text(s.tag, MAX_NAME_CHARS, true)) return 'a bad tag';
  if (!(s.twoPersonAboveStep === null || num(s.twoPersonAboveStep))) return 'a bad two-person step';
  if (!policy(s.autoApproval)) return 'a bad auto-approval policy';
  return undefined;
}

const points = (v: unknown): boolean => Array.isArray(v) && v.every((p) => isRecord(p) && num(p.tsMs) && num(p.value));

/** The view fields the pages read, checked. */
function viewProblem(v: unknown, gate: { id: string; kind: string }): string | undefined {
  if (!isRecord(v) || v.gateId !== gate.id || v.kind !== gate.kind || typeof v.gateName !== 'string') return 'a view of another gate';
  const p = v.proposal;
  if (!isRecord(p) || !text(p.id, MAX_NAME_CHARS) || typeof p.asset !== 'string' || !num(p.expiresTsMs)) return 'a bad proposal';
  if (typeof v.state !== 'string' || !num(v.requiredApprovals)) return 'a bad state';
  if (!Array.isArray(v.decisions) || !v.decisions.every((d) => isRecord(d) && typeof d.user === 'string' && typeof d.verdict === 'string'))
    return 'bad decisions';
  if (gate.kind === 'maintenance') {
    const w = p.window;
    return isRecord(w) && num(w.startMs) && num(w.endMs) && isRecord(p.rul) && typeof p.job === 'string' ? undefined : 'a bad window';
  }
  if (!num(p.currentValue) || !num(p.proposedValue) || typeof p.tag !== 'string') return 'bad values';
  if (!isRecord(v.envelope) || typeof v.envelope.ok !== 'boolean') return 'a bad envelope check';
  if (!isRecord(v.trend) || !points(v.trend.setpoint) || !points(v.trend.kpi)) return 'a bad trend';
  return undefined;
}

/**
 * Another instance's list reply, checked: the reply itself must be well formed; a gate or a view that
 * is not is left out, and said in `dropped`.
 */
export function parseListReply(raw: unknown): Checked<ListReply> & { dropped?: string[] } {
  if (!isRecord(raw) || raw.v !== WIRE_VERSION) return { error: 'not a gate list of this version' };
  if (!text(raw.instance, MAX_NAME_CHARS)) return { error: 'the list names no instance' };
  const instance = raw.instance;
  if (!Array.isArray(raw.lines) || raw.lines.length > 10_000 || !raw.lines.every((l) => text(l, MAX_NAME_CHARS)))
    return { error: `instance ${instance}: bad lines` };
  if (!Array.isArray(raw.gates) || raw.gates.length > MAX_GATES_PER_REPLY)
    return { error: `instance ${instance}: gates missing or more than ${MAX_GATES_PER_REPLY}` };
  const dropped: string[] = [];
  const gates: ServedGate[] = [];
  for (const g of raw.gates as unknown[]) {
    const problem = !isRecord(g) ? 'not an object' : summaryProblem(g.summary);
    if (problem || !isRecord(g)) {
      dropped.push(`instance ${instance}: a gate with ${problem}`);
      continue;
    }
    const summary = g.summary as GateSummary;
    if (g.line !== undefined && !text(g.line, MAX_NAME_CHARS)) {
      dropped.push(`instance ${instance}: gate ${summary.id} with a bad line`);
      continue;
    }
    const views: GateView[] = [];
    for (const v of (Array.isArray(g.views) ? g.views : []).slice(0, MAX_VIEWS_PER_GATE)) {
      const vp = viewProblem(v, summary);
      if (vp) dropped.push(`instance ${instance}: gate ${summary.id}: ${vp}`);
      else views.push(v as GateView);
    }
    gates.push({ summary, views, ...(typeof g.line === 'string' ? { line: g.line } : {}) });
  }
  const ok: ListReply = {
    v: WIRE_VERSION,
    instance,
    lines: raw.lines as string[],
    gates,
    ...(raw.truncated === true ? { truncated: true } : {}),
  };
  return dropped.length ? { ok, dropped } : { ok };
}

/** A gate another instance serves, as the asking instance's pages show it. */
export interface RemoteGate extends ServedGate {
  /** The instance that serves (owns) it: the one its decisions go to. */
  instance: string;
}

export interface ClusterListing {
  /** This instance's name. */
  instance: string;
  /** Gates served by other instances (not those in this instance's own registry). */
  gates: RemoteGate[];
  /** Who owns each line by the replies (a line two instances claimed in a handover shows the first by name). */
  owners: Record<string, string>;
  /** Lines this instance may own that no instance answered for: a takeover is in progress (or nobody runs it). */
  unowned: string[];
  /** Instances that answered, sorted. */
  instances: string[];
  /** Why a reply or a part of one was not taken. */
  problems: string[];
}

/**
 * One listing from the replies (this instance's own among them): gates this instance has in its
 * registry stay local (`localIds`); a gate two instances serve (a handover caught mid-way) is shown
 * once, from the instance that reports owning its line, else from the first by name.
 */
export function mergeListings(
  instance: string,
  replies: readonly ListReply[],
  localIds: ReadonlySet<string>,
  configuredLines: readonly string[],
  problems: string[] = [],
): ClusterListing {
  const sorted = [...replies].sort((a, b) => a.instance.localeCompare(b.instance));
  const owners = Object.create(null) as Record<string, string>;
  for (const r of sorted) for (const line of r.lines) owners[line] ??= r.instance;
  const byId = new Map<string, RemoteGate>();
  for (const r of sorted) {
    if (r.instance === instance) continue;
    for (const g of r.gates) {
      if (localIds.has(g.summary.id)) continue;
      const had = byId.get(g.summary.id);
      const owning = g.line !== undefined && r.lines.includes(g.line);
      if (!had || (owning && !(had.line !== undefined && owners[had.line] === had.instance)))
        byId.set(g.summary.id, { ...g, instance: r.instance });
    }
  }
  return {
    instance,
    gates: [...byId.values()],
    owners,
    unowned: configuredLines.filter((l) => !(l in owners)).sort(),
    instances: [...new Set(sorted.map((r) => r.instance))],
    problems,
  };
}
