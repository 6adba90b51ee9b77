/**
 * Line leases: which instance owns a line (site/area/line) now. Only the owner ingests, analyses,
 * proposes and writes for it.
 *
 * Why not a KV key with update(revision): on nats-server 2.9.10 a KV update(revision) lets two
 * writers win at R3 (128 double wins in 300 races, nats-server issue 4320), and renewal would need it.
 * So each line has a small lease stream (R3, file, deny delete/purge, last 64 events kept) and every
 * lease event (claim, renew, release) is appended with the stream-wide Expected-Last-Sequence of the
 * last event its writer saw (expected-append.ts): of two writers that saw the same event, one wins
 * and the other is refused. A renewal expects the holder's own last event, so once anyone else has
 * claimed the line, the old holder's renewal is refused (LeaseLostError) and it must stop.
 *
 * Expiry needs no shared clock. A holder counts its lease valid until (send time of its last
 * acknowledged claim or renewal) + ttl − margin, on its own monotonic clock. Another instance takes
 * a line over only after it has watched the stream's last event stay the same for a full ttl on its
 * own monotonic clock; it first saw that event after it was stored, so after the holder sent it,
 * hence after the holder's lease ran out (clock rates equal within the margin, ttl/10). A holder
 * that was paused past its lease and wakes up is not stopped by the lease alone: its next ledger
 * append is refused by the ledger stream's own expected sequence (jetstream-ledger.ts).
 *
 * Assignment (LineOwner): every instance heartbeats into a membership bucket whose entries expire
 * (KV max age = ttl; a plain put, no compare-and-set needed), counts the live members N, and holds at
 * most ⌈lines / N⌉ + slack lines: it claims free or expired lines up to that, and releases lines
 * beyond it, so a joining instance gets its share as the others shed theirs. Heartbeats say how many
 * lines a member holds, so nobody uses the slack while another holds less than its share (shareThisTick).
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { NatsConnection } from './nats-client.js';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from './nats-client.js';
import { Kvm, type KV } from './nats-client.js';
import { TwinError } from '../model/errors.js';
import { appendExpected, ensureLineStream, retryTransient, type ExpectedAppendOptions } from './expected-append.js';
import { encodeName, leaseStreamName, leaseSubject, parseLineId } from './line-id.js';

export interface LeaseEvent {
  kind: 'claim' | 'renew' | 'release';
  owner: string;
  epoch: number;
  ttlMs: number;
  /** Wall clock of the writer, for people only (expiry never compares clocks of two machines). */
  tsMs: number;
}

export interface Lease {
  line: string;
  owner: string;
  epoch: number;
  /** Stream seq of the holder's last acknowledged event. */
  seq: number;
  /** On the holder's monotonic clock: valid until then, unless renewed. */
  validUntilMs: number;
}

/** The line was claimed by someone else (or the renewal came too late to be sure): stop acting for it. */
export class LeaseLostError extends TwinError {
  readonly leaseLost = true;
  constructor(
    readonly line: string,
    reason: string,
  ) {
    super('REFUSED', `lease on line ${line} lost: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

export interface LeaseClientOptions extends ExpectedAppendOptions {
  nc: NatsConnection;
  /** This instance's id (unique per process run). */
  owner: string;
  /** How long a lease lasts after its last renewal (renew every ttl/3). */
  ttlMs: number;
  /** Stream replicas (default 3). */
  replicas?: number;
  /** Monotonic clock in ms (default performance.now): injectable so tests step time. */
  nowMs?: () => number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the lease stream of a line says now. */
export interface LeaseView {
  line: string;
  lastSeq: number;
  last?: LeaseEvent;
  /** Holder by the last event (undefined: never claimed or released). */
  holder?: string;
}

export class LeaseClient {
  private readonly js: JetStreamClient;
  private readonly ready = new Set<string>();
  /** Per line: the last event seq this client saw and when it first saw it (its own clock). */
  private readonly seen = new Map<string, { seq: number; sinceMs: number }>();
  private readonly now: () => number;

  private constructor(
    private readonly opts: LeaseClientOptions,
    private readonly jsm: JetStreamManager,
  ) {
    this.js = jetstream(opts.nc);
    this.now = opts.nowMs ?? (() => performance.now());
  }

  static async create(opts: LeaseClientOptions): Promise<LeaseClient> {
    if (!(opts.ttlMs > 0)) throw new TwinError('BAD_CONFIG', 'lease ttl must be > 0 ms');
    return new LeaseClient(opts, await retryTransient(() => jetstreamManager(opts.nc), opts.retryForMs));
  }

  get owner(): string {
    return this.opts.owner;
  }

  private async stream(line: string): Promise<{ stream: string; subject: string }> {
    const t = { stream: leaseStreamName(line), subject: leaseSubject(line) };
    if (!this.ready.has(line)) {
      const spec = { name: t.stream, subject: t.subject, replicas: this.opts.replicas ?? 3, maxMsgs: 64 };
      await retryTransient(() => ensureLineStream(this.jsm, spec), this.opts.retryForMs);
      this.ready.add(line);
    }
    return t;
  }

  /** Read the line's last lease event, and note when this client first saw it. */
  async observe(line: string): Promise<LeaseView> {
    parseLineId(line);
    const { stream } = await this.stream(line);
    // the stream leader answers getMessage; a fresh stream may not be known to every server for a moment
    const m = await retryTransient(() => this.jsm.streams.getMessage(stream, { last_by_subj: leaseSubject(line) }), this.opts.retryForMs);
    const lastSeq = m?.seq ?? 0;
    const last = m ? (JSON.parse(dec.decode(m.data)) as LeaseEvent) : undefined;
    const s = this.seen.get(line);
    if (!s || s.seq !== lastSeq) this.seen.set(line, { seq: lastSeq, sinceMs: this.now() });
    return { line, lastSeq, ...(last ? { last } : {}), ...(last && last.kind !== 'release' ? { holder: last.owner } : {}) };
  }

  /**
   * Claim the line if it is free (never claimed, released) or its holder has been silent for a full
   * ttl as watched by this client. Resolves undefined when it is held, or when another claimant won.
   */
  async tryClaim(line: string): Promise<Lease | undefined> {
    const view = await this.observe(line);
    if (view.holder !== undefined) {
      const quietMs = this.now() - this.seen.get(line)!.sinceMs;
      if (quietMs < (view.last?.ttlMs ?? this.opts.ttlMs)) return undefined;
    }
    const epoch = (view.last?.epoch ?? 0) + 1;
    const r = await this.append(line, this.event('claim', this.opts.owner, epoch), view.lastSeq);
    return r.stored ? { line, owner: this.opts.owner, epoch, seq: r.seq, validUntilMs: r.validUntilMs } : undefined;
  }

  /** Extend the lease; throws LeaseLostError when anyone else wrote to the line's lease since. */
  async renew(lease: Lease): Promise<Lease> {
    const r = await this.append(lease.line, this.event('renew', lease.owner, lease.epoch), lease.seq);
    if (!r.stored) throw new LeaseLostError(lease.line, r.reason);
    return { ...lease, seq: r.seq, validUntilMs: r.validUntilMs };
  }

  /** Give the line up at once (another instance may claim it without waiting). */
  async release(lease: Lease): Promise<void> {
    const r = await this.append(lease.line, this.event('release', lease.owner, lease.epoch), lease.seq);
    if (!r.stored) throw new LeaseLostError(lease.line, r.reason);
  }

  /** Still the owner by its own clock (a margin of ttl/10 before the lease runs out). */
  isValid(lease: Lease): boolean {
    return this.now() < lease.validUntilMs;
  }

  private event(kind: LeaseEvent['kind'], owner: string, epoch: number): LeaseEvent {
    return { kind, owner, epoch, ttlMs: this.opts.ttlMs, tsMs: Date.now() };
  }

  private async append(line: string, ev: LeaseEvent, expectedLastSeq: number) {
    const target = await this.stream(line);
    const sentMs = this.now();
    const msgId = `${encodeName(ev.owner)}-${ev.epoch}-${ev.kind}-${expectedLastSeq + 1}`;
    const r = await appendExpected(this.js, this.jsm, target, enc.encode(JSON.stringify(ev)), msgId, expectedLastSeq, this.opts);
    if (r.stored) this.seen.set(line, { seq: r.seq, sinceMs: sentMs });
    return r.stored
      ? { stored: true as const, seq: r.seq, validUntilMs: sentMs + ev.ttlMs - ev.ttlMs / 10 }
      : { stored: false as const, reason: r.reason };
  }
}

/** The most lines one instance may hold: ⌈lines / instances⌉ + slack. */
export function maxLinesPerInstance(lines: number, instances: number, slack: number): number {
  if (lines <= 0) return 0;
  return Math.ceil(lines / Math.max(1, instances)) + Math.max(0, slack);
}

/**
 * How many lines to claim up to and shed down to on this tick. The slack above the even share lets
 * survivors take a dead instance's lines at once (its heartbeat still counts it for a ttl), but held
 * by whoever started first it would leave a later instance with nothing. So while another live member
 * holds fewer than ⌊lines / N⌋, nobody claims beyond that, and one above it sheds one line per tick.
 * `othersHeld`: what the other members said they hold at their last heartbeat (unknown ones left out).
 */
export function shareThisTick(
  lines: number,
  instances: number,
  slack: number,
  held: number,
  othersHeld: readonly number[],
): { claimUpTo: number; shedDownTo: number } {
  const max = maxLinesPerInstance(lines, instances, slack);
  const fair = Math.floor(lines / Math.max(1, instances));
  if (!othersHeld.some((h) => h < fair)) return { claimUpTo: max, shedDownTo: max };
  return { claimUpTo: fair, shedDownTo: Math.min(max, Math.max(fair, held - 1)) };
}

/**
 * The order in which an instance tries lines (rendezvous hashing): each instance prefers different
 * lines, so N instances starting together mostly claim disjoint sets instead of racing for the same.
 */
export function preferenceOrder(lines: readonly string[], owner: string): string[] {
  const score = (l: string) => createHash('sha256').update(`${owner}\n${l}`).digest('hex');
  return [...lines].sort((a, b) => (score(a) < score(b) ? -1 : score(a) > score(b) ? 1 : 0));
}

export const MEMBERS_BUCKET = 'twinloop_members';

/** A member's heartbeat in the members bucket. */
interface MemberBeat {
  owner: string;
  tsMs: number;
  /** Lines held at the beat (absent from members of older versions). */
  held?: number;
}

/** The line count a heartbeat states, if it is a sane one (members are peers, but a value is checked anyway). */
function heldOf(entry: { string(): string } | null): number | undefined {
  if (!entry) return undefined;
  try {
    const held = (JSON.parse(entry.string()) as Partial<MemberBeat>).held;
    return typeof held === 'number' && Number.isInteger(held) && held >= 0 ? held : undefined;
  } catch {
    return undefined;
  }
}

export interface LineOwnerOptions extends LeaseClientOptions {
  lines: string[];
  /** Lines beyond the even share an instance may hold (default 1). */
  slack?: number;
  bucket?: string;
}

/**
 * Holds a fair share of lines for one instance: heartbeats its membership, renews its leases every
 * ttl/3, claims free or expired lines up to its share and releases lines above it. Events:
 * 'acquired' (line), 'lost' (line, error), 'released' (line), 'error' is not emitted: failures of
 * a tick are retried on the next one.
 */
export class LineOwner extends EventEmitter {
  private readonly held = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The live instances counted at the last tick that could read the membership. */
  private instances: number | undefined;

  private constructor(
    private readonly opts: LineOwnerOptions,
    private readonly leases: LeaseClient,
    private readonly members: KV,
  ) {
    super();
    for (const l of opts.lines) parseLineId(l);
  }

  static async start(opts: LineOwnerOptions): Promise<LineOwner> {
    const leases = await LeaseClient.create(opts);
    const members = await retryTransient(
      () =>
        new Kvm(jetstream(opts.nc)).create(opts.bucket ?? MEMBERS_BUCKET, {
          replicas: opts.replicas ?? 3,
          history: 1,
          ttl: opts.ttlMs,
          storage: 'file',
        }),
      opts.retryForMs,
    );
    const o = new LineOwner(opts, leases, members);
    o.schedule(0);
    return o;
  }

  /** Lines held now (by this instance's clock). */
  lines(): string[] {
    return [...this.held.values()]
      .filter((l) => this.leases.isValid(l))
      .map((l) => l.line)
      .sort();
  }

  lease(line: string): Lease | undefined {
    return this.held.get(line);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.opts.ttlMs / 3));
    }, ms);
  }

  /** One round: heartbeat, renew, shed or claim. Exposed for tests that step it. */
  async tick(): Promise<void> {
    const key = encodeName(this.opts.owner);
    try {
      const beat: MemberBeat = { owner: this.opts.owner, tsMs: Date.now(), held: this.held.size };
      await this.members.put(key, enc.encode(JSON.stringify(beat)));
    } catch {
      // membership is advisory (the share); the leases themselves decide ownership
    }
    for (const lease of [...this.held.values()]) {
      if (this.stopped) return;
      try {
        this.held.set(lease.line, await this.leases.renew(lease));
      } catch (err) {
        if (err instanceof LeaseLostError) {
          this.held.delete(lease.line);
          this.emit('lost', lease.line, err);
        } else if (!this.leases.isValid(lease)) {
          this.held.delete(lease.line);
          this.emit('lost', lease.line, err);
        }
      }
    }
    let instances: number;
    const othersHeld: number[] = [];
    try {
      const keys = new Set<string>([key]);
      for await (const k of await this.members.keys()) keys.add(k);
      instances = keys.size;
      this.instances = instances;
      for (const k of keys) {
        if (k === key) continue;
        const held = heldOf(await this.members.get(k).catch(() => null));
        if (held !== undefined) othersHeld.push(held);
      }
    } catch {
      // a count we could not read is not "alone": counting 1 would claim every line there is
      if (this.instances === undefined) return;
      instances = this.instances;
    }
    const { claimUpTo, shedDownTo } = shareThisTick(this.opts.lines.length, instances, this.opts.slack ?? 1, this.held.size, othersHeld);
    const mine = preferenceOrder(this.opts.lines, this.opts.owner);
    // shed the lines this instance likes least
    for (const line of [...mine].reverse()) {
      if (this.held.size <= shedDownTo || this.stopped) break;
      const lease = this.held.get(line);
      if (!lease) continue;
      this.held.delete(line);
      await this.leases.release(lease).catch(() => undefined);
      this.emit('released', line);
    }
    for (const line of mine) {
      if (this.held.size >= claimUpTo || this.stopped) break;
      if (this.held.has(line)) continue;
      try {
        const lease = await this.leases.tryClaim(line);
        if (lease && !this.stopped) {
          this.held.set(line, lease);
          this.emit('acquired', line);
        }
      } catch {
        // retried next tick
      }
    }
  }

  /**
   * Stop. With `release`, give every line up now (a clean shutdown); without, the leases simply
   * run out (as when the process dies).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (opts.release) {
      for (const lease of this.held.values()) await this.leases.release(lease).catch(() => undefined);
      await this.members.delete(encodeName(this.opts.owner)).catch(() => undefined);
    }
    this.held.clear();
  }
}
