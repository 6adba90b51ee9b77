/**
 * The embedded store of used command ids: a JSON-lines file, one `{"id","tsMs"}` per claimed id,
 * loaded into a Set on open. claim() marks the id in memory at once (so a concurrent claim of the
 * same id gets false) and resolves true only after the line is fdatasync'ed: a writer that writes
 * after a true claim can never write the same command again, even across a crash.
 *
 * A torn last line (crash mid-claim) is cut off on open: that claim never resolved, so its command
 * was never written and may still be written once. A bad line anywhere else means an id may have
 * been lost (a command could be replayed), so the store refuses to open.
 *
 * One instance per resolved path per process, reference counted (see ledger-durable-file.ts).
 */
import { promises as fsp } from 'node:fs';
import { TwinError } from '../model/errors.js';
import type { UsedCommands } from './stores.js';
import { DurableAppendFile, SharedByPath, STORE_ERROR_CODE } from './ledger-durable-file.js';

class UsedCommandsCore {
  private constructor(
    private readonly file: DurableAppendFile,
    private readonly used: Set<string>,
  ) {}

  static async open(path: string): Promise<UsedCommandsCore> {
    const used = new Set<string>();
    const buf = await fsp.readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    });
    const lastNl = buf.lastIndexOf(0x0a);
    const complete = buf
      .subarray(0, lastNl + 1)
      .toString('utf8')
      .split('\n');
    complete.pop(); // the empty string after the last '\n'
    complete.forEach((text, i) => {
      if (text.trim() === '') return; // nothing lost in an empty line
      let id: unknown;
      try {
        id = (JSON.parse(text) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
      if (typeof id !== 'string' || id === '') {
        throw new TwinError(
          STORE_ERROR_CODE,
          `used-commands store ${path}: line ${i + 1} is not a claimed command id; refusing to open (a used command could be replayed)`,
        );
      }
      used.add(id);
    });
    if (lastNl + 1 < buf.length) {
      // Torn tail: a claim that never resolved. Cut it so the next line starts clean.
      const fh = await fsp.open(path, 'r+');
      try {
        await fh.truncate(lastNl + 1);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    return new UsedCommandsCore(await DurableAppendFile.open(path), used);
  }

  claim(commandId: string): Promise<boolean> {
    if (typeof commandId !== 'string' || commandId === '')
      return Promise.reject(new TwinError('BAD_PAYLOAD', 'command id must be a non-empty string'));
    if (this.file.failed) return Promise.reject(this.file.failed);
    if (this.used.has(commandId)) return Promise.resolve(false);
    // Marked before it is durable: a concurrent claim of the same id must lose. If the write
    // fails the id stays marked (the store refuses everything after a failed write anyway).
    this.used.add(commandId);
    return this.file.append(JSON.stringify({ id: commandId, tsMs: Date.now() }) + '\n').then(() => true);
  }

  has(commandId: string): boolean {
    return this.used.has(commandId);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

const shared = new SharedByPath<UsedCommandsCore>(
  (path) => UsedCommandsCore.open(path),
  (core) => core.close(),
);

/** Open (or create, with its directory) the used-commands store at `path`. */
export async function openUsedCommands(path: string): Promise<UsedCommands> {
  const { key, value: core, release } = await shared.acquire(path);
  let closed = false;
  return {
    claim: (id: string) =>
      closed ? Promise.reject(new TwinError(STORE_ERROR_CODE, `used-commands store ${key}: this handle is closed`)) : core.claim(id),
    has: (id: string) => core.has(id),
    close: async () => {
      closed = true;
      await release();
    },
  };
}
