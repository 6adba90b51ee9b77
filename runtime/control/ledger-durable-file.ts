/**
 * An append-only file whose appends resolve only once they are on disk (written and fdatasync'ed),
 * in call order, plus the per-process sharing of such files by path. Used by the file ledger and
 * the used-commands store.
 *
 * Group commit: lines handed in while a write is in flight are written together with one write and
 * one fdatasync, still in call order, and each caller is answered after the sync that covers its
 * line. A burst of appends therefore costs a few syncs instead of one each.
 *
 * After a failed write or sync the file's state is unknown (part of a line may be on disk, and a
 * failed fsync may have dropped dirty pages), so the file refuses every later append: appending
 * after a torn line would bury it mid-file. The owner must look at the file and reopen it.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TwinError, type TwinErrorCode } from '../model/errors.js';

/**
 * TwinError code for a ledger or used-commands store that cannot be used (broken chain, torn line,
 * failed write). The model has no store code of its own yet; the outbox's 'QUEUE' is the nearest.
 */
export const STORE_ERROR_CODE: TwinErrorCode = 'LEDGER';

interface Pending {
  text: string;
  meta?: unknown;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class DurableAppendFile {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
    private readonly afterSync?: (lastMeta: unknown) => Promise<void>,
  ) {}

  /**
   * Open for appending, creating the file and its directory; a new file's directory entry is synced too.
   * `afterSync` runs after each group's sync, before its callers are answered, with the `meta` of
   * the group's last append (the ledger replaces its head checkpoint there); if it fails, the group fails.
   */
  static async open(path: string, afterSync?: (lastMeta: unknown) => Promise<void>): Promise<DurableAppendFile> {
    const dir = dirname(path);
    await fsp.mkdir(dir, { recursive: true });
    const existed = await fsp.stat(path).then(
      () => true,
      () => false,
    );
    // Owner-only from birth (0600), whatever the process umask: the ledger and the used ids are the plant's record.
    const fh = await fsp.open(path, 'a', 0o600);
    if (!existed) await syncDir(dir);
    return new DurableAppendFile(path, fh, afterSync);
  }

  /** Why the file refuses appends, if it does. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Append `text` (whole lines, each ending in '\n'); resolves once it is durable. */
  append(text: string, meta?: unknown): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new TwinError(STORE_ERROR_CODE, `${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ text, meta, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Wait for every append made so far to settle. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Waits for pending appends, then closes the handle. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    await this.fh.close();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.fh.appendFile(batch.length === 1 ? batch[0].text : batch.map((p) => p.text).join(''), 'utf8');
        await this.fh.datasync();
        if (this.afterSync) await this.afterSync(batch[batch.length - 1].meta);
      } catch (err) {
        this.failure = new TwinError(
          STORE_ERROR_CODE,
          `${this.path}: write failed (${(err as Error).message}); no further appends until the file is checked and reopened`,
          { cause: err },
        );
        for (const p of [...batch, ...this.queue]) p.reject(this.failure);
        this.queue = [];
        break;
      }
      for (const p of batch) p.resolve();
    }
    this.flushing = undefined;
  }
}

/** fsync a directory so a file just created in it survives a power loss (not supported everywhere). */
async function syncDir(dir: string): Promise<void> {
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dir, 'r');
    await dh.sync();
  } catch {
    /* some platforms (Windows) cannot open or sync a directory; the file's own syncs still hold */
  } finally {
    await dh?.close();
  }
}

/**
 * One shared instance per resolved path in this process, reference counted: two nodes that name
 * the same file must share one writer, or their appends would interleave and fork the chain.
 * A new open waits until a previous instance of the same path has finished closing.
 */
export class SharedByPath<T, A = undefined> {
  private readonly open = new Map<string, { refs: number; value: Promise<T> }>();
  private readonly closing = new Map<string, Promise<void>>();

  constructor(
    private readonly opener: (path: string, arg?: A) => Promise<T>,
    private readonly closer: (value: T) => Promise<void>,
  ) {}

  /**
   * Acquire the instance for `path`; `release` must be called once per acquire. `arg` goes to the
   * opener when this acquire opens the instance (a later acquire shares the instance as opened).
   */
  async acquire(path: string, arg?: A): Promise<{ key: string; value: T; release: () => Promise<void> }> {
    const key = resolve(path);
    let entry = this.open.get(key);
    if (!entry) {
      const prior = (this.closing.get(key) ?? Promise.resolve()).catch(() => undefined);
      entry = { refs: 0, value: prior.then(() => this.opener(key, arg)) };
      this.open.set(key, entry);
      const e = entry;
      // A failed open is forgotten, so a later open (after someone fixed the file) tries again.
      e.value.catch(() => {
        if (this.open.get(key) === e) this.open.delete(key);
      });
    }
    entry.refs++;
    const e = entry;
    let value: T;
    try {
      value = await e.value;
    } catch (err) {
      e.refs--;
      throw err;
    }
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      if (this.open.get(key) === e) this.open.delete(key);
      const done = this.closer(value).finally(() => {
        if (this.closing.get(key) === done) this.closing.delete(key);
      });
      this.closing.set(key, done);
      await done;
    };
    return { key, value, release };
  }
}
