/**
 * Outbox on local disk: append-only JSON-lines segments plus a file holding the last acknowledged
 * sequence number.
 *
 * Layout of `dir`:
 *   meta.json            { "id": "<uuid>" }  the queue's identity, made once
 *   acked                the highest acknowledged seq (written to a temp file, fsynced, renamed)
 *   seg-<firstSeq>.jsonl one line per record: {"s":<seq>,"r":<record>}
 *
 * Enqueues are group-committed: records that arrive while a write is in flight are written and
 * fsynced together, and every caller is answered only after its fsync. A segment is closed once it
 * passes `segmentMaxBytes` and deleted once every record in it is acknowledged (compaction).
 * After a crash the last line of a segment may be torn; it was never acknowledged to its caller,
 * so it is skipped, and writing resumes in a fresh segment.
 * A lost `acked` update (power loss between rename and disk) means redelivery, never loss; the
 * receiver drops repeats by (id, seq).
 */
import { randomUUID } from 'node:crypto';
import {
  promises as fsp,
  mkdirSync,
  readdirSync,
  readFileSync,
  existsSync,
  writeFileSync,
  renameSync,
  openSync,
  fsyncSync,
  closeSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { isRecord, TwinError } from '../model/errors.js';
import type { Outbox, OutboxEntry } from './outbox.js';

export interface FileOutboxOptions {
  /** Records held (not yet acknowledged) before enqueue refuses; default 100 000. */
  maxEntries?: number;
  /** Segment size after which a new segment is started; default 4 MiB. */
  segmentMaxBytes?: number;
}

interface Segment {
  file: string;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
}

interface PendingWrite<T> {
  entry: OutboxEntry<T>;
  line: string;
  resolve: (seq: number) => void;
  reject: (err: unknown) => void;
}

const SEG = /^seg-(\d+)\.jsonl$/;

export class FileOutbox<T = unknown> implements Outbox<T> {
  readonly id: string;
  private readonly maxEntries: number;
  private readonly segmentMaxBytes: number;
  private entries: OutboxEntry<T>[] = [];
  private head = 0; // index of the oldest unacknowledged entry in `entries`
  private nextSeq: number;
  private ackedSeq: number;
  private segments: Segment[];
  private current: { fh: fsp.FileHandle; seg: Segment } | undefined;
  private writeQueue: PendingWrite<T>[] = [];
  private writing: Promise<void> | undefined;
  /** Records taken from writeQueue and being written (they count towards the limit). */
  private writingCount = 0;
  private ackChain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    id: string,
    ackedSeq: number,
    nextSeq: number,
    entries: OutboxEntry<T>[],
    segments: Segment[],
    opts: FileOutboxOptions,
  ) {
    this.id = id;
    this.ackedSeq = ackedSeq;
    this.nextSeq = nextSeq;
    this.entries = entries;
    this.segments = segments;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.segmentMaxBytes = opts.segmentMaxBytes ?? 4 * 1024 * 1024;
  }

  /** Open (or create) the outbox in `dir`, recovering what a previous process left. */
  static open<T = unknown>(dir: string, opts: FileOutboxOptions = {}): FileOutbox<T> {
    if (opts.maxEntries !== undefined && (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1)) {
      throw new TwinError('BAD_CONFIG', `outbox maxEntries must be a positive integer, not ${opts.maxEntries}`);
    }
    mkdirSync(dir, { recursive: true });
    const metaPath = join(dir, 'meta.json');
    let id: string;
    if (existsSync(metaPath)) {
      id = (JSON.parse(readFileSync(metaPath, 'utf8')) as { id: string }).id;
    } else {
      id = randomUUID();
      atomicWrite(metaPath, JSON.stringify({ id }) + '\n');
    }
    const ackPath = join(dir, 'acked');
    const ackedSeq = existsSync(ackPath) ? Number(readFileSync(ackPath, 'utf8').trim()) || 0 : 0;
    const segments: Segment[] = [];
    const entries: OutboxEntry<T>[] = [];
    let maxSeq = ackedSeq;
    const files = readdirSync(dir)
      .filter((f) => SEG.test(f))
      .sort((a, b) => Number(SEG.exec(a)![1]) - Number(SEG.exec(b)![1]));
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const lines = text.split('\n');
      lines.pop(); // '' after the last newline, or a torn line that was never acknowledged to its writer
      const seg: Segment = { file: f, firstSeq: Number(SEG.exec(f)![1]), lastSeq: 0, bytes: Buffer.byteLength(text) };
      for (const line of lines) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line) as unknown;
        } catch {
          continue; // cannot happen for fsynced lines; be lenient with a damaged file rather than refuse to start
        }
        if (!isRecord(parsed) || typeof parsed.s !== 'number') continue; // nor can a line not written as { s, r }
        seg.lastSeq = Math.max(seg.lastSeq, parsed.s);
        maxSeq = Math.max(maxSeq, parsed.s);
        if (parsed.s > ackedSeq) entries.push({ seq: parsed.s, record: parsed.r as T }); // what append() wrote
      }
      if (seg.lastSeq <= ackedSeq) {
        fsyncUnlink(join(dir, f)); // fully acknowledged (or empty): compact now
      } else segments.push(seg);
    }
    return new FileOutbox<T>(dir, id, ackedSeq, maxSeq + 1, entries, segments, opts);
  }

  size(): number {
    return this.entries.length - this.head + this.writeQueue.length + this.writingCount;
  }

  enqueue(record: T): Promise<number> {
    if (this.closed) return Promise.reject(new TwinError('QUEUE', 'outbox is closed'));
    if (this.size() >= this.maxEntries) {
      return Promise.reject(new TwinError('QUEUE', `outbox is full (${this.maxEntries} messages waiting); message refused`));
    }
    let line: string;
    const seq = this.nextSeq;
    try {
      line = JSON.stringify({ s: seq, r: record }) + '\n';
    } catch (err) {
      return Promise.reject(new TwinError('BAD_PAYLOAD', `record cannot be serialised: ${(err as Error).message}`));
    }
    this.nextSeq++;
    return new Promise<number>((resolve, reject) => {
      this.writeQueue.push({ entry: { seq, record }, line, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.drainWrites().finally(() => {
      this.writing = undefined;
      if (this.writeQueue.length > 0) this.kick();
    });
  }

  private async drainWrites(): Promise<void> {
    while (this.writeQueue.length > 0) {
      const batch = this.writeQueue;
      this.writeQueue = [];
      this.writingCount = batch.length;
      try {
        const data = batch.map((w) => w.line).join('');
        const bytes = Buffer.byteLength(data);
        if (!this.current || this.current.seg.bytes >= this.segmentMaxBytes) await this.roll(batch[0].entry.seq);
        const cur = this.current!;
        await cur.fh.appendFile(data);
        await cur.fh.datasync();
        cur.seg.bytes += bytes;
        cur.seg.lastSeq = batch[batch.length - 1].entry.seq;
        for (const w of batch) this.entries.push(w.entry);
        this.writingCount = 0;
        for (const w of batch) w.resolve(w.entry.seq);
      } catch (err) {
        this.writingCount = 0;
        const e = new TwinError('QUEUE', `outbox write failed: ${(err as Error).message}`, { cause: err });
        for (const w of batch) w.reject(e);
        // The segment may end in a torn line now: continue in a fresh one.
        await this.closeCurrent().catch(() => undefined);
      }
    }
  }

  private async roll(firstSeq: number): Promise<void> {
    await this.closeCurrent();
    const file = `seg-${String(firstSeq).padStart(12, '0')}.jsonl`;
    const fh = await fsp.open(join(this.dir, file), 'a', 0o600); // owner-only, whatever the umask
    const seg: Segment = { file, firstSeq, lastSeq: 0, bytes: 0 };
    this.segments.push(seg);
    this.current = { fh, seg };
    // Make the new directory entry durable too.
    syncDir(this.dir);
  }

  private async closeCurrent(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (cur) await cur.fh.close();
  }

  async peek(n: number): Promise<OutboxEntry<T>[]> {
    return this.entries.slice(this.head, this.head + Math.max(0, n));
  }

  ack(n: number): Promise<void> {
    const run = async (): Promise<void> => {
      const count = Math.min(Math.max(0, n), this.entries.length - this.head);
      if (count === 0) return;
      this.head += count;
      this.ackedSeq = this.entries[this.head - 1].seq;
      if (this.head > 1024 && this.head * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
      atomicWrite(join(this.dir, 'acked'), `${this.ackedSeq}\n`);
      await this.compact();
    };
    this.ackChain = this.ackChain.then(run, run);
    return this.ackChain;
  }

  /** Delete segments whose every record is acknowledged (the segment being written stays). */
  private async compact(): Promise<void> {
    const keep: Segment[] = [];
    for (const s of this.segments) {
      const isCurrent = this.current?.seg === s;
      if (!isCurrent && s.lastSeq > 0 && s.lastSeq <= this.ackedSeq) await fsp.unlink(join(this.dir, s.file)).catch(() => undefined);
      else keep.push(s);
    }
    this.segments = keep;
  }

  /** Number of segment files on disk (for tests of compaction). */
  segmentCount(): number {
    return this.segments.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.ackChain.catch(() => undefined);
    await this.closeCurrent();
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is still fsynced.
  }
}

function fsyncUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
