/**
 * A line's replicated stores held only while this instance owns the line (twin-ledger with a
 * twin-cluster). The line's ledger admits one writer (expected-append.ts); ownership is a TTL lease
 * (line-lease.ts). Following the lease keeps the two in step:
 *
 *   owned    → open the stores (the stream is read and verified) and append an 'owner' record first,
 *              so a former owner that was paused past its lease and resumes is refused
 *              (LedgerFencedError) on its very next append, even before the new owner decides anything;
 *   released → close the stores; until owned again, get() rejects with NotLineOwnerError.
 *
 * Pure: the stores are opened and closed through the functions given, no NATS here.
 */
import type { LedgerEntry } from '../control/stores.js';
import { TwinError } from '../model/errors.js';

/** Why an instance took a line's ledger, as the 'owner' record tells it. */
export type TakeoverReason = 'lease acquired';

export interface OwnerRecordData {
  line: string;
  /** The instance that owns the line from this record on (twin-cluster's instance name). */
  instance: string;
  reason: TakeoverReason;
}

/** The 'owner' record an instance appends first on a line it now owns (no asset or tag: no gate restores it). */
export function ownerEntry(line: string, instance: string, reason: TakeoverReason = 'lease acquired'): LedgerEntry<OwnerRecordData> {
  return { type: 'owner', data: { line, instance, reason } };
}

/** The stores were asked for while another instance owns the line (or none does yet). */
export class NotLineOwnerError extends TwinError {
  readonly notOwner = true;
  constructor(readonly line: string) {
    super('REFUSED', `line ${line} is owned by another instance (or by none yet): its ledger is open only on the line's owner`);
    this.name = 'NotLineOwnerError';
  }
}

export interface OwnedStoresOptions<S> {
  line: string;
  /** Open the stores and make them this instance's (append the 'owner' record); reject if that fails. */
  open(): Promise<S>;
  close(stores: S): Promise<void>;
  /** An eager open (on owned) failed: for the log; get() tries again. */
  onOpenError?(err: Error): void;
}

export class OwnedStores<S> {
  private isOwned = false;
  /** Counts ownership changes: an open that finishes after its ownership ended closes what it opened. */
  private epoch = 0;
  private current: Promise<S> | undefined;
  /** The previous stores closing: a new open waits for it (one handle per line per process). */
  private closing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: OwnedStoresOptions<S>) {}

  get line(): string {
    return this.opts.line;
  }

  /** This instance owns the line now (the stores may still be opening). */
  owns(): boolean {
    return this.isOwned && !this.stopped;
  }

  /** The line was acquired: open the stores at once (the 'owner' record fences the former owner). */
  owned(): void {
    if (this.stopped || this.isOwned) return;
    this.isOwned = true;
    this.epoch++;
    this.get().catch((err: Error) => this.opts.onOpenError?.(err));
  }

  /** The line was given up or lost: refuse from now on and close the stores. Resolves once they are closed. */
  released(): Promise<void> {
    if (!this.isOwned) return this.closing;
    this.isOwned = false;
    this.epoch++;
    const s = this.current;
    this.current = undefined;
    this.closing = this.closing
      .then(() =>
        s?.then(
          (x) => this.opts.close(x),
          () => undefined,
        ),
      )
      .catch(() => undefined);
    return this.closing;
  }

  /** The stores of the ownership now (opened on first use after a failed open); NotLineOwnerError while not owned. */
  get(): Promise<S> {
    if (this.stopped)
      return Promise.reject(new TwinError('BAD_CONFIG', `the ledger of line ${this.opts.line} is closed (flow stopped or redeployed)`));
    if (!this.isOwned) return Promise.reject(new NotLineOwnerError(this.opts.line));
    if (!this.current) {
      const epoch = this.epoch;
      const attempt = this.closing
        .then(() => {
          if (epoch !== this.epoch) throw new NotLineOwnerError(this.opts.line);
          return this.opts.open();
        })
        .then(async (s) => {
          if (epoch === this.epoch) return s;
          // released while opening: these stores belong to no ownership
          await this.opts.close(s).catch(() => undefined);
          throw new NotLineOwnerError(this.opts.line);
        });
      this.current = attempt;
      attempt.catch(() => {
        if (this.current === attempt) this.current = undefined;
      });
    }
    return this.current;
  }

  /** Stop for good (the node closes): release and close. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.released();
  }
}
