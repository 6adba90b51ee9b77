/**
 * One approvals view across a cluster: each instance serves the approval gates it runs to the
 * others over NATS request/reply, and asks them for theirs (messages and checks: gate-wire.ts).
 * A gate is served only while it is in this process's registry and, when it names a line, while
 * this instance owns that line: the owner is the single writer of the line's ledger, so a decision
 * taken on any instance's page is sent to it and decided there. A decision for a gate nobody
 * serves gets NATS' "no responders" at once and is refused, never queued: during a takeover the
 * page says so and the supervisor decides again once the new owner serves the gate.
 *
 * The asking instance has authenticated the user (password, permission); the owner trusts the
 * user named in the message because only cluster members can publish on these subjects: the NATS
 * account and its user's permissions are the boundary (ARCHITECTURE.md, cluster).
 *
 * Pure of node-red; the twin-cluster node starts it on its member's connection.
 */
import type { NatsConnection } from './nats-client.js';
import {
  findGate,
  listGates,
  onGatesChanged,
  type DecisionOutcome,
  type DecisionRequest,
  type GateHandle,
} from '../control/gate-registry.js';
import { gateSummary, gateViews, meaningFor, policyOf } from '../control/gate-summary.js';
import {
  GATES_LIST_SUBJECT,
  GATES_QUEUE,
  MAX_GATES_PER_REPLY,
  MAX_INSTANCES,
  MAX_REPLY_BYTES,
  MAX_VIEWS_PER_GATE,
  WIRE_VERSION,
  gateSubject,
  mergeListings,
  parseAutoApprovalMessage,
  parseDecideMessage,
  parseListReply,
  parseOutcomeReply,
  type ClusterListing,
  type ListReply,
  type OutcomeReply,
  type ServedGate,
} from './gate-wire.js';
import type { RemoteGates, RemoteOutcome } from './remote-gates.js';

/** The registry a service serves (the process's own by default; a test may give its own). */
export interface GateSource {
  list(): GateHandle[];
  find(id: string): GateHandle | undefined;
  onChange(listener: () => void): () => void;
}

const processRegistry: GateSource = { list: () => listGates(), find: (id) => findGate(id), onChange: onGatesChanged };

export interface GateServiceOptions {
  nc: NatsConnection;
  instance: string;
  /** The lines this instance may own (a line no instance answers for is shown as taken over). */
  lines: readonly string[];
  owns(line: string): boolean;
  ownedLines(): string[];
  registry?: GateSource;
  /** The list waits this long after the last reply for more (default 200 ms), at most listMaxWaitMs (default 1,000 ms). */
  listStallMs?: number;
  listMaxWaitMs?: number;
  /** A listing is reused this long (default 1,000 ms): every open page polls. */
  listCacheMs?: number;
  /** A decision is waited for this long (default 10,000 ms, under the page's own 15 s): the owner answers after its ledger append. */
  decideTimeoutMs?: number;
  log?(level: 'info' | 'warn', text: string): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

export class GateService implements RemoteGates {
  readonly instance: string;
  private readonly registry: GateSource;
  private readonly subs = new Map<string, { unsubscribe(): void }>();
  private readonly listSub: { unsubscribe(): void };
  private readonly stopListening: () => void;
  private cached?: { atMs: number; listing: Promise<ClusterListing> };
  private stopped = false;

  private constructor(private readonly opts: GateServiceOptions) {
    this.instance = opts.instance;
    this.registry = opts.registry ?? processRegistry;
    // every instance answers the list (no queue group): the asker gathers all replies
    this.listSub = opts.nc.subscribe(GATES_LIST_SUBJECT, {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        msg.respond(this.listReply());
      },
    });
    this.stopListening = this.registry.onChange(() => this.sync());
    this.sync();
  }

  static start(opts: GateServiceOptions): GateService {
    return new GateService(opts);
  }

  servesLocally(g: GateHandle): boolean {
    return g.line === undefined || this.opts.owns(g.line);
  }

  /** The gates served now. */
  served(): GateHandle[] {
    return this.registry.list().filter((g) => this.servesLocally(g));
  }

  /** Subscribe to the requests of each gate served now, unsubscribe from the others. Call on owned / released. */
  sync(): void {
    if (this.stopped) return;
    const want = new Set(this.served().map((g) => g.id));
    for (const [id, sub] of this.subs)
      if (!want.has(id)) {
        sub.unsubscribe();
        this.subs.delete(id);
      }
    for (const id of want) {
      if (this.subs.has(id)) continue;
      const sub = this.opts.nc.subscribe(gateSubject(id, '*'), {
        queue: GATES_QUEUE,
        callback: (err, msg) => {
          if (err || !msg.reply) return;
          const action = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
          void this.answer(id, action, msg.data).then(
            (r) => msg.respond(json(r)),
            (e: Error) => msg.respond(json(this.refusal(`gate ${id}: ${e.message}`))),
          );
        },
      });
      this.subs.set(id, sub);
    }
  }

  private refusal(error: string, notServed = false): OutcomeReply {
    return { v: WIRE_VERSION, instance: this.instance, ok: false, error, ...(notServed ? { notServed } : {}) };
  }

  /** A decision or policy switch for a gate served here, checked again: its line may have changed hands since. */
  private async answer(id: string, action: string, data: Uint8Array): Promise<OutcomeReply> {
    let raw: unknown;
    try {
      raw = JSON.parse(dec.decode(data));
    } catch {
      return this.refusal('the request is not JSON');
    }
    const g = this.registry.find(id);
    if (!g || !this.servesLocally(g)) return this.refusal(`instance ${this.instance} does not serve gate ${id} now`, true);
    if (action === 'decide') {
      const m = parseDecideMessage(raw);
      if ('error' in m) return this.refusal(m.error);
      const { v: _v, from, ...req } = m.ok;
      const outcome = await g.decide({ ...req, meaning: meaningFor(g.kind, req.verdict, req.meaning) });
      this.opts.log?.(
        'info',
        `${req.user} (signed on ${from}) ${req.verdict} ${req.proposalId} on gate ${id}: ${outcome.ok ? `ok, now ${outcome.state}` : `refused: ${outcome.error}`}`,
      );
      return this.outcomeReply(outcome);
    }
    if (action === 'auto-approval') {
      const m = parseAutoApprovalMessage(raw);
      if ('error' in m) return this.refusal(m.error);
      if (g.kind === 'maintenance') return this.refusal(`gate ${g.name} decides maintenance windows: it has no auto-approval policy`);
      const outcome = await g.setAutoApproval(m.ok.enabled, m.ok.user, m.ok.reason);
      this.opts.log?.('info', `${m.ok.user} (signed on ${m.ok.from}) switched auto-approval ${m.ok.enabled ? 'on' : 'off'} on gate ${id}`);
      return { ...this.outcomeReply(outcome), autoApproval: policyOf(g) };
    }
    return this.refusal(`unknown action ${action}`);
  }

  private outcomeReply(o: DecisionOutcome): OutcomeReply {
    return {
      v: WIRE_VERSION,
      instance: this.instance,
      ok: o.ok,
      ...(o.state !== undefined ? { state: o.state } : {}),
      ...(o.error !== undefined ? { error: o.error } : {}),
    };
  }

  /** This instance's answer to a list request, under MAX_REPLY_BYTES (trends, then views, then gates left out). */
  listReply(): Uint8Array {
    const gates: ServedGate[] = [];
    for (const g of this.served().slice(0, MAX_GATES_PER_REPLY)) {
      try {
        gates.push({ summary: gateSummary(g), views: gateViews(g).slice(0, MAX_VIEWS_PER_GATE), ...(g.line ? { line: g.line } : {}) });
      } catch (err) {
        this.opts.log?.('warn', `gate ${g.id}: views failed: ${(err as Error).message}`);
      }
    }
    const reply: ListReply = { v: WIRE_VERSION, instance: this.instance, lines: this.opts.ownedLines(), gates };
    if (this.served().length > MAX_GATES_PER_REPLY) reply.truncated = true;
    const max = Math.min(MAX_REPLY_BYTES, this.opts.nc.info?.max_payload ?? MAX_REPLY_BYTES);
    let out = json(reply);
    if (out.length <= max) return out;
    const noTrends = gates.map((g) => ({
      ...g,
      views: g.views.map((v) => (v.kind === 'setpoint' ? { ...v, trend: { setpoint: [], kpi: [] } } : v)),
    }));
    out = json({ ...reply, gates: noTrends, truncated: true });
    if (out.length <= max) return out;
    return json({ ...reply, gates: gates.map((g) => ({ ...g, views: [] })), truncated: true });
  }

  /** Every instance's gates (this one's own left to the local registry), gathered for a short while. */
  list(): Promise<ClusterListing> {
    const nowMs = Date.now();
    if (this.cached && nowMs - this.cached.atMs < (this.opts.listCacheMs ?? 1_000)) return this.cached.listing;
    const listing = this.gather();
    this.cached = { atMs: nowMs, listing };
    listing.catch(() => (this.cached = undefined));
    return listing;
  }

  private async gather(): Promise<ClusterListing> {
    const replies: ListReply[] = [];
    const problems: string[] = [];
    const it = await this.opts.nc.requestMany(GATES_LIST_SUBJECT, new Uint8Array(0), {
      strategy: 'stall',
      stall: this.opts.listStallMs ?? 200,
      maxWait: this.opts.listMaxWaitMs ?? 1_000,
    });
    try {
      for await (const m of it) {
        if (replies.length + problems.length >= MAX_INSTANCES) break;
        if (m.data.length > MAX_REPLY_BYTES) {
          problems.push(`a gate list of ${m.data.length} bytes was not taken`);
          continue;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(dec.decode(m.data));
        } catch {
          problems.push('a gate list that is not JSON was not taken');
          continue;
        }
        const r = parseListReply(raw);
        if ('error' in r) problems.push(r.error);
        else replies.push(r.ok);
        problems.push(...(r.dropped ?? []));
      }
    } catch (err) {
      // "no responders" cannot happen (this instance answers too); anything else ends the gathering
      problems.push(`gathering the gate lists: ${(err as Error).message}`);
    }
    for (const p of problems) this.opts.log?.('warn', p);
    const localIds = new Set(this.registry.list().map((g) => g.id));
    return mergeListings(this.instance, replies, localIds, this.opts.lines, problems);
  }

  decide(gateId: string, req: DecisionRequest): Promise<RemoteOutcome> {
    return this.ask(gateId, 'decide', { v: WIRE_VERSION, ...req, from: this.instance });
  }

  setAutoApproval(gateId: string, enabled: boolean, user: string, reason: string): Promise<RemoteOutcome> {
    return this.ask(gateId, 'auto-approval', { v: WIRE_VERSION, enabled, user, reason, from: this.instance });
  }

  private async ask(gateId: string, action: 'decide' | 'auto-approval', body: object): Promise<RemoteOutcome> {
    const noOwner = (): RemoteOutcome => ({
      answered: false,
      why: 'no-owner',
      error: `no instance serves gate ${gateId} now (its line is being taken over, or no instance runs it): nothing was decided; try again in a few seconds`,
    });
    let raw: unknown;
    try {
      const m = await this.opts.nc.request(gateSubject(gateId, action), json(body), { timeout: this.opts.decideTimeoutMs ?? 10_000 });
      raw = JSON.parse(dec.decode(m.data));
    } catch (err) {
      if (isNoResponders(err)) return noOwner();
      return {
        answered: false,
        why: 'no-answer',
        error: `the instance serving gate ${gateId} did not answer (${(err as Error).message}): the decision may or may not be recorded; reload before deciding again`,
      };
    }
    const r = parseOutcomeReply(raw);
    if ('error' in r)
      return {
        answered: false,
        why: 'no-answer',
        error: `the answer for gate ${gateId} was not understood (${r.error}): reload before deciding again`,
      };
    // the line changed hands between our request and its arrival: nothing was decided there
    if (r.ok.notServed) return noOwner();
    const outcome: DecisionOutcome = {
      ok: r.ok.ok,
      ...(r.ok.state !== undefined ? { state: r.ok.state as DecisionOutcome['state'] } : {}),
      ...(r.ok.error !== undefined ? { error: r.ok.error } : {}),
    };
    return { answered: true, instance: r.ok.instance, outcome, ...(r.ok.autoApproval ? { autoApproval: r.ok.autoApproval } : {}) };
  }

  stop(): void {
    this.stopped = true;
    this.stopListening();
    for (const s of this.subs.values()) s.unsubscribe();
    this.subs.clear();
    this.listSub.unsubscribe();
  }
}

/** nats.js 3 rejects a request nobody subscribes to with a RequestError whose isNoResponders() is true. */
function isNoResponders(err: unknown): boolean {
  const e = err as { isNoResponders?: () => boolean; cause?: { name?: string } } | null;
  return (typeof e?.isNoResponders === 'function' && e.isNoResponders()) || e?.cause?.name === 'NoRespondersError';
}
