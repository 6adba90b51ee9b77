/**
 * The historian's writer over a real FileOutbox, with a scripted `send` standing in for InfluxDB's
 * HTTP answer (the real server is in test/integration/historian-influx.spec.ts).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileOutbox } from '../../runtime/store/file-outbox.js';
import type { InfluxPoint } from '../../runtime/store/influx-points.js';
import { InfluxWriter, type InfluxWriterOptions } from '../../runtime/store/influx-writer.js';
import { waitFor } from '../support/ports.js';

const tmp = () => mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'influx-writer-'));
const point = (i: number): InfluxPoint => ({
  measurement: 'reading',
  tags: { asset: 'a', tag: 't' },
  fields: { value: i },
  timestamp: String(1_700_000_000_000 + i),
});
const ids = (ps: InfluxPoint[]) => ps.map((p) => p.fields.value as number);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** An HTTP 400 as the influx client reports it. */
function refused(): Error {
  return Object.assign(new Error('partial write: field type conflict'), { res: { statusCode: 400 } });
}

function writer(dir: string, send: (p: InfluxPoint[]) => Promise<void>, over: Partial<InfluxWriterOptions> = {}, maxEntries?: number) {
  const outbox = FileOutbox.open<InfluxPoint>(dir, maxEntries ? { maxEntries } : {});
  return new InfluxWriter({
    outbox,
    send,
    batchSize: 100,
    flushMs: 20,
    retryMinMs: 10,
    retryMaxMs: 40,
    rejectedFile: join(dir, 'rejected.jsonl'),
    ...over,
  });
}

describe('influx writer: outbox-backed batches', () => {
  it('writes full batches at once and the rest after flushMs, in order, and empties the outbox', async () => {
    const batches: number[][] = [];
    const w = writer(tmp(), async (p) => void batches.push(ids(p)));
    await w.enqueue(range(250).map(point));
    await waitFor(() => w.size() === 0 && w.written === 250, 5000, 5, 'all written');
    expect(batches.map((b) => b.length)).to.deep.equal([100, 100, 50]);
    expect(batches.flat()).to.deep.equal(range(250));
    expect(w.state).to.equal('idle');
    await w.close();
  });

  it('keeps points while the database is down and retries with back-off, in order, none twice', async () => {
    const delivered: number[] = [];
    let failures = 0;
    const states: string[] = [];
    const w = writer(tmp(), async (p) => {
      if (failures < 4) {
        failures++;
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      }
      delivered.push(...ids(p));
    });
    w.on('state', (s: string) => states.push(s));
    for (let i = 0; i < 5; i++) await w.enqueue(range(60, i * 60).map(point));
    await waitFor(() => w.size() === 0, 5000, 5, 'drained');
    expect(failures).to.equal(4);
    expect(delivered).to.deep.equal(range(300));
    expect(states).to.include('retrying');
    expect(w.lastError).to.equal(undefined);
    await w.close();
  });

  it('isolates a point InfluxDB refuses (HTTP 400) into rejected.jsonl and writes the others', async () => {
    const dir = tmp();
    const delivered: number[] = [];
    const w = writer(dir, async (p) => {
      if (ids(p).includes(42)) throw refused();
      delivered.push(...ids(p));
    });
    const rejected: number[] = [];
    w.on('rejected', (p: InfluxPoint[]) => rejected.push(...ids(p)));
    await w.enqueue(range(150).map(point));
    await waitFor(() => w.size() === 0, 5000, 5, 'drained');
    expect(delivered).to.deep.equal(range(150).filter((i) => i !== 42));
    expect(rejected).to.deep.equal([42]);
    const lines = readFileSync(join(dir, 'rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).to.deep.equal([{ error: 'partial write: field type conflict', point: point(42) }]);
    await w.close();
  });

  it('does not acknowledge a write that finishes after close: the next run writes it again', async () => {
    const dir = tmp();
    let release!: () => void;
    const started = new Promise<void>((r) => {
      const w1 = writer(dir, (p) => {
        r();
        return new Promise<void>((res) => (release = () => res(void p)));
      });
      void w1.enqueue(range(10).map(point)).then(async () => {
        await started;
        await w1.close();
        release(); // the database answers after the flow stopped
      });
    });
    await started;
    await new Promise((r) => setTimeout(r, 50));
    const again: number[] = [];
    const w2 = writer(dir, async (p) => void again.push(...ids(p)));
    w2.start();
    await waitFor(() => w2.size() === 0 && again.length === 10, 5000, 5, 'rewritten');
    expect(again).to.deep.equal(range(10));
    await w2.close();
  });

  it('refuses points beyond the outbox limit with QUEUE, naming how many, and writes those accepted', async () => {
    const delivered: number[] = [];
    let up = false;
    const w = writer(
      tmp(),
      async (p) => {
        if (!up) throw new Error('down');
        delivered.push(...ids(p));
      },
      {},
      50,
    );
    await w.enqueue(range(40).map(point));
    let err: Error | undefined;
    await w.enqueue(range(20, 40).map(point)).catch((e: Error) => (err = e));
    expect((err as { code?: string } | undefined)?.code).to.equal('QUEUE');
    expect(err?.message).to.match(/^10 of 20 points refused: outbox is full/);
    up = true;
    await waitFor(() => w.size() === 0, 5000, 5, 'drained');
    expect(delivered).to.deep.equal(range(50));
    await w.close();
  });

  it('refuses a bad configuration', () => {
    const dir = tmp();
    expect(() => writer(dir, async () => undefined, { batchSize: 0 })).to.throw(/batchSize must be a whole number ≥ 1/);
    expect(() => writer(dir, async () => undefined, { retryMinMs: 100, retryMaxMs: 10 })).to.throw(
      /retryMaxMs must not be below retryMinMs/,
    );
    expect(existsSync(join(dir, 'rejected.jsonl'))).to.equal(false);
  });
});
