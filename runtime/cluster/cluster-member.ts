/**
 * One instance's membership of a cluster: one NATS connection and a LineOwner (line-lease.ts) behind
 * the small surface nodes need: `owns(line)`, 'owned' / 'released' events, and a status. What the
 * twin-cluster config node runs; loads the bundled NATS client, so import it only when a cluster is used.
 *
 * 'released' comes with a reason: 'shed' (over its share, given up cleanly), 'lost' (renewal refused
 * or too late: someone else may own it now) or 'stopped' (the member stops). A node that acts for a
 * line stops acting on any of them.
 */
import { EventEmitter } from 'node:events';
import { connectNats } from './nats-connect.js';
import type { NatsConnection } from './nats-client.js';
import { LineOwner } from './line-lease.js';
import type { ClusterSettings } from './cluster-config.js';

export interface ClusterMemberOptions extends ClusterSettings {
  user?: string;
  password?: string;
  /** Give up the first connection after this long (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Members bucket (tests use their own). */
  bucket?: string;
  /** Monotonic clock in ms (default performance.now). */
  nowMs?: () => number;
}

export type ReleaseReason = 'shed' | 'lost' | 'stopped';

export interface ClusterMemberEvents {
  owned: [line: string];
  released: [line: string, reason: ReleaseReason];
}

export class ClusterMember extends EventEmitter<ClusterMemberEvents> {
  private readonly held = new Set<string>();

  private readonly watchdog: NodeJS.Timeout;

  private constructor(
    readonly settings: ClusterMemberOptions,
    readonly nc: NatsConnection,
    private readonly owner: LineOwner,
  ) {
    super();
    owner.on('acquired', () => this.check());
    owner.on('released', (line: string) => this.set(line, false, 'shed'));
    owner.on('lost', (line: string) => this.set(line, false, 'lost'));
    // A renewal held up (servers away, a leader election) reports 'lost' only when it fails; by then
    // the lease may have run out and another instance be the owner. Look every ttl/10 instead.
    this.watchdog = setInterval(() => this.check(), Math.max(50, settings.ttlMs / 10));
    this.watchdog.unref();
  }

  /**
   * Bring what this member reports in line with the leases valid now: 'released' (reason 'lost') for
   * a lease that ran out on this instance's clock, 'owned' again when a late renewal succeeded.
   * Runs every ttl/10; exposed for tests that step the clock.
   */
  check(): void {
    const valid = new Set(this.owner.lines());
    for (const line of [...this.held]) if (!valid.has(line)) this.set(line, false, 'lost');
    for (const line of valid) this.set(line, true);
  }

  /** Connect (fails at once when no server answers) and start claiming lines. */
  static async start(opts: ClusterMemberOptions): Promise<ClusterMember> {
    const nc = await connectNats({ ...opts, name: `twinloop ${opts.instance}` });
    try {
      const owner = await LineOwner.start({
        nc,
        owner: opts.instance,
        ttlMs: opts.ttlMs,
        lines: opts.lines,
        slack: opts.slack,
        replicas: opts.replicas,
        ...(opts.bucket ? { bucket: opts.bucket } : {}),
        ...(opts.nowMs ? { nowMs: opts.nowMs } : {}),
      });
      return new ClusterMember(opts, nc, owner);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private set(line: string, owned: boolean, reason: ReleaseReason = 'stopped'): void {
    if (owned === this.held.has(line)) return;
    if (owned) {
      this.held.add(line);
      this.emit('owned', line);
    } else {
      this.held.delete(line);
      this.emit('released', line, reason);
    }
  }

  /** This instance owns the line now (a lease acquired and still valid by its own clock). */
  owns(line: string): boolean {
    return this.held.has(line) && this.owner.lines().includes(line);
  }

  /** Lines owned now, sorted. */
  lines(): string[] {
    return this.owner.lines();
  }

  /** Status text for an editor badge (< 20 characters): owned / may own. */
  statusText(): string {
    return `${this.lines().length}/${this.settings.lines.length} lines`;
  }

  /**
   * Stop: 'released' (reason 'stopped') for every owned line, then the leases are given up
   * (`release`, a clean shutdown: another instance takes over at once) or left to run out, and the
   * connection closes.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.watchdog);
    for (const line of [...this.held]) this.set(line, false, 'stopped');
    await this.owner.stop(opts);
    await this.nc.close().catch(() => undefined);
  }
}
