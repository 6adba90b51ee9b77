/**
 * `twinloop replay`: a flow over recorded data, in event time. Reads a CSV (each row into Readings)
 * or a time range of an InfluxDB historian (page by page), hands the Readings in time order to the
 * flow's ingestion nodes (which open no connections) and
 * writes every message a TwinLoop node sends as one JSON line.
 */
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { format, parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { parseDelimiter } from '../../runtime/replay/csv.js';
import { CONNECTION_CONFIG_TYPES, prepareReplayFlow, describeNode, type PreparedFlow } from '../../runtime/replay/flow.js';
import { defaultAsset, loadReplayFile, rowReadings, type ReplayTable } from '../../runtime/replay/readings.js';
import { influxOptions, INFLUX_HELP_ENV, INFLUX_ONLY, INFLUX_OPTIONS } from '../lib/influx-input.js';
import { influxReadingPages, influxTopics } from '../../runtime/replay/influx-source.js';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';

export const replayHelp = `Usage: twinloop replay --flow FLOW.json --input DATA.csv [options]
       twinloop replay --flow FLOW.json --influx URL --database DB --from TIME --to TIME [options]

Runs a flow over recorded data, in event time, as fast as the flow allows, and writes every message
sent by a TwinLoop node (twin-*) as one JSON line: { "nodeId", "nodeType", "port", "topic", "payload" }.
Exits 0 once the input is drained and the flow is idle.

Options:
  --flow FILE           the flow (a JSON array, as the editor exports it)
  --input FILE          the data: CSV with a header row
  --influx URL          or the data from an InfluxDB 1.x historian (http://host:8086); exactly one
                        of --input and --influx
  --out FILE            where the JSON lines go (default: standard output)
  -h, --help            this text

For --input:
  --time-column NAME    column with ISO-8601 times or epoch ms (default: timestamp); a time
                        without a zone offset is UTC
  --asset-column NAME   column naming each row's asset (an empty cell: the default asset)
  --asset NAME          the default asset (default: the input file's base name)
  --skip-column NAME    a column that is not a tag (text such as a batch id); repeatable or a,b,c
  --delimiter C         field delimiter (default ','; 'tab' for tabs)

For --influx (the schema twin-historian writes: measurement reading, tags asset, tag, quality):
  --database DB         the database (required)
  --from TIME           start of the range, inclusive: ISO-8601 (UTC without a zone) or epoch ms
  --to TIME             end of the range, exclusive (both required)
  --measurement M       the measurement (default: reading)
  --asset A             only this asset; repeatable (their order orders a time step)
  --tag T               only this tag; repeatable (their order orders a time step)
  --site S, --line L    only points with this site / line tag (as twin-influx-config writes them)
  --retention-policy RP read this retention policy (default: the database's default)
  --page-size N         points per query (default 10000): memory stays bounded however long the range
${INFLUX_HELP_ENV}

The data: every column other than the time, asset and skipped columns is a tag; its cells must be
numbers or empty (an empty cell is no reading). Each row becomes one Reading per tag: topic
<asset>/<tag>, quality good, source "replay". Rows are replayed in time order: a file out of order
is sorted (stably: equal times keep their file order).
Bounds: a line of at most 1,048,576 characters, at most 10,000 columns, real calendar dates and
times from 1970 to 2199, numbers within ±1e15; anything else is refused with its line and column.

From InfluxDB: every point of the range is one Reading (topic <asset>/<tag>, its stored value,
quality, quality reason and unit, source "replay"), in time order; readings with the same time are
delivered together, ordered by asset, then tag (as listed with --asset / --tag, else by name), so a
CSV with one row per time and its tag columns in that order replays to the same output.

Which ingestion node gets which reading: a twin-opcua-in gets the readings whose asset and tag are
one of its items (with the item's unit); a twin-mqtt-in those whose topic <asset>/<tag> its topic
pattern maps back to the same asset and tag (with its default unit). A node that names none of the
file's asset/tag pairs (a Sparkplug B node, or one configured for other names) gets every reading.

Nothing is connected and nothing is decided: ingestion nodes and their twin-opcua-endpoint /
twin-mqtt-broker open no connection; twin-mqtt-out, twin-historian, twin-approval and the writers
(twin-opcua-write, twin-mqtt-write) are disabled for the replay (proposals are recorded, not
decided), and TwinLoop config nodes only they use (ledger, envelope) are left out. A \${NAME} that
is not set in the environment gets a placeholder in connection settings (endpoint, broker,
historian, sampling); anywhere else the replay names it and stops. Core nodes run as they are.
Node-RED runs in this process with a temporary user directory and no HTTP listener.

Time: readings are delivered one time step at a time, and the flow is idle before the next step, so
nodes that work in event time (screening, estimation, drift) give the same events as live. Checks
on the wall clock (twin-screen's stale check) do not fire in a replay that runs faster than real time.

Errors: a bad flow or bad data ends the run with exit code 2 and says where (line and column).
Errors that nodes report while running (bad input) are listed on stderr; the run goes on.
On a terminal, stderr shows progress (rows or readings done / total, per second); at the end one
summary line.

In the editor: Import > Examples > @twinloop/node-red-twin > replay > replay-csv replays an uploaded
CSV (or a file on the server) through twin-screen the same way.

Examples (in the project folder; the files ship in the package too):
  ASSET=demo/plant1/extrusion/line1/extruder npx twinloop replay --flow flows/line-monitoring.json \\
    --input examples/replay/extruder-spike.csv --asset demo/plant1/extrusion/line1/extruder --out events.jsonl
  npx twinloop replay --flow examples/ingest/opcua-and-mqtt.json --input examples/replay/extruder-spike.csv \\
    --asset demo/plant1/extrusion/line1/extruder --out events.jsonl
  INFLUX_USERNAME=reader INFLUX_PASSWORD=… npx twinloop replay --flow examples/ingest/opcua-and-mqtt.json \\
    --influx http://historian:8086 --database plant1 --from 2026-11-01 --to 2026-12-01 --out events.jsonl
`;

const OPTIONS = {
  flow: { type: 'string' },
  input: { type: 'string' },
  out: { type: 'string' },
  'time-column': { type: 'string' },
  'asset-column': { type: 'string' },
  asset: { type: 'string', multiple: true },
  ...INFLUX_OPTIONS,
  'skip-column': { type: 'string', multiple: true },
  delimiter: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Rows between full idle waits (which include a timer turn). */
const FULL_IDLE_EVERY_ROWS = 5000;
const MAX_ERRORS_SHOWN = 20;

function readFlowFile(path: string): PreparedFlow {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TwinError('BAD_FLOW', `cannot read the flow ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return prepareReplayFlow(text, process.env);
  } catch (err) {
    throw new TwinError('BAD_FLOW', `${path}: ${(err as Error).message}`);
  }
}

/** Buffered line writer with back-pressure, to a file or standard output. */
function lineWriter(out: string | undefined, stdoutWrite: typeof process.stdout.write) {
  // Standard output is written through the saved write function: process.stdout.write itself
  // goes to stderr during the run, so what a library prints cannot end up among the JSON lines.
  const stream =
    out === undefined
      ? {
          write: (chunk: string) => stdoutWrite(chunk),
          once: process.stdout.once.bind(process.stdout),
          on: process.stdout.on.bind(process.stdout),
        }
      : createWriteStream(out);
  let buf: string[] = [];
  let size = 0;
  let failed: Error | undefined;
  stream.on('error', (err: Error) => (failed = err));
  const flush = async () => {
    if (failed) throw new Error(`cannot write ${out ?? 'standard output'}: ${failed.message}`);
    if (buf.length === 0) return;
    const chunk = buf.join('');
    buf = [];
    size = 0;
    if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
  };
  return {
    line(s: string) {
      buf.push(s + '\n');
      size += s.length + 1;
    },
    get pendingBytes() {
      return size;
    },
    flush,
    async close() {
      await flush();
      if (out !== undefined)
        await new Promise<void>((r, j) =>
          (stream as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? j(err) : r())),
        );
    },
  };
}

function serialise(m: { nodeId: string; nodeType: string; port: number; topic: unknown; payload: unknown }): string {
  try {
    return JSON.stringify(m);
  } catch {
    return JSON.stringify({ ...m, payload: '[not serialisable as JSON]' });
  }
}

type ReplayValues = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>
>['values'];

/** What a replay reads: the time steps in order, and what the routes and progress need first. */
interface ReplayInput {
  /** "file" or "range", for messages. */
  what: string;
  topics: Set<string>;
  total: number;
  unit: 'rows' | 'readings';
  /** Each time step's readings; `rows` counts towards the full idle waits, `done` towards `total`. */
  steps(): AsyncIterable<{ readings: Reading[]; rows: number; done: number }>;
  summary(steps: number): string;
}

const CSV_ONLY = ['time-column', 'asset-column', 'skip-column', 'delimiter'] as const;

async function csvInput(values: ReplayValues, path: string, note: (s: string) => void): Promise<ReplayInput> {
  for (const o of INFLUX_ONLY) if (values[o] !== undefined) throw new UsageError(`--${o} goes with --influx, not --input`);
  if ((values.asset?.length ?? 0) > 1) throw new UsageError('--asset names the one default asset of a CSV input: give it once');
  let delimiter: string;
  try {
    delimiter = parseDelimiter(values.delimiter);
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
  const skipColumns = (values['skip-column'] ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const asset = values.asset?.[0] ?? defaultAsset(path);
  if (asset.trim() === '' || /[#+]/.test(asset) || asset.startsWith('/') || asset.endsWith('/'))
    throw new UsageError(`--asset must be an asset path without MQTT wildcards, got '${asset}'`);
  if (!existsSync(path) || !statSync(path).isFile()) throw new TwinError('BAD_CSV', `cannot read the input ${path}: no such file`);
  let table: ReplayTable;
  try {
    table = await loadReplayFile(path, {
      timeColumn: values['time-column'],
      assetColumn: values['asset-column'],
      asset,
      delimiter,
      skipColumns,
    });
  } catch (err) {
    throw new TwinError('BAD_CSV', `${path}: ${(err as Error).message}`);
  }
  if (table.sorted) note(`${path} is not in time order: replaying it sorted by time`);
  const { rows, tags } = table;
  return {
    what: 'file',
    topics: table.topics,
    total: rows.length,
    unit: 'rows',
    async *steps() {
      for (let i = 0; i < rows.length;) {
        const readings: Reading[] = [];
        let j = i;
        for (; j < rows.length && rows[j].tsMs === rows[i].tsMs; j++) readings.push(...rowReadings(rows[j], tags));
        yield { readings, rows: j - i, done: j - i };
        i = j;
      }
    },
    summary: () => `${rows.length} rows (${table.readingCount} readings)`,
  };
}

async function influxInput(values: ReplayValues): Promise<ReplayInput> {
  for (const o of CSV_ONLY) if (values[o] !== undefined) throw new UsageError(`--${o} goes with --input, not --influx`);
  for (const a of values.asset ?? [])
    if (a.trim() === '' || /[#+]/.test(a)) throw new UsageError(`--asset must be an asset path without MQTT wildcards, got '${a}'`);
  const { query, range, pageSize, describe } = influxOptions(values, values.asset ?? []);
  const counts = await influxTopics(query, range);
  if (counts.size === 0) throw new TwinError('BAD_PAYLOAD', `no readings in ${describe}`);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    what: 'range',
    topics: new Set(counts.keys()),
    total,
    unit: 'readings',
    async *steps() {
      for await (const page of influxReadingPages(query, range, pageSize)) {
        for (let i = 0; i < page.length;) {
          let j = i + 1;
          while (j < page.length && page[j].tsMs === page[i].tsMs) j++;
          yield { readings: page.slice(i, j), rows: 1, done: j - i };
          i = j;
        }
      }
    },
    summary: (steps) => `${steps} time steps (${total} readings)`,
  };
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(replayHelp);
    return 0;
  }
  if (!values.flow) throw new UsageError('--flow FILE is required');
  if (values.input !== undefined && values.influx !== undefined) throw new UsageError('give --input FILE or --influx URL, not both');
  if (values.input === undefined && values.influx === undefined) throw new UsageError('--influx URL or --input FILE is required');
  const note = (s: string) => process.stderr.write(`twinloop replay: ${s}\n`);
  const flow = readFlowFile(values.flow);
  const input = values.input !== undefined ? await csvInput(values, values.input, note) : await influxInput(values);

  // Anything a library prints must not end up among the JSON lines.
  const stdoutWrite = process.stdout.write.bind(process.stdout) as typeof process.stdout.write;
  const toStderr = (...a: unknown[]) => process.stderr.write(format(...a) + '\n');
  console.log = console.info = console.warn = console.debug = toStderr;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const writer = lineWriter(values.out, stdoutWrite);
  let messages = 0;
  const { startReplayRuntime } = await import('../lib/replay-runtime.js');
  const runtime = await startReplayRuntime(flow, (m) => {
    messages++;
    writer.line(serialise(m));
  });
  const runtimeErrors: string[] = [];
  try {
    if (flow.disabled.length > 0) {
      note(
        `disabled: ${flow.disabled.map(describeNode).join(', ')} (a replay writes to no broker, plant or historian and decides nothing)`,
      );
    }
    if (flow.placeholders.length > 0) {
      note(`${flow.placeholders.join(', ')} not set: placeholders in the connection settings (a replay connects to nothing)`);
    }
    const startErrors = runtime.takeLog();
    const fatal = startErrors.filter((e) => e.level === 'error' && !CONNECTION_CONFIG_TYPES.has(e.text.split(/[ :]/)[0]));
    for (const e of startErrors)
      if (!fatal.includes(e)) note(`${e.level === 'error' ? 'note (connection not used in a replay)' : 'warning'}: ${e.text}`);
    if (fatal.length > 0) throw new TwinError('BAD_FLOW', `${values.flow}: ${fatal.map((e) => e.text).join('; ')}`);

    runtime.hub.plan(input.topics);
    const sources = runtime.hub.sources();
    if (sources.length === 0) throw new TwinError('BAD_FLOW', `${values.flow}: no ingestion node joined the replay`);
    if (sources.length > 1)
      for (const s of runtime.hub.catchAllSources())
        note(`${s.type} (${s.id}) names none of the ${input.what}'s asset/tag pairs: it gets every reading`);

    const { total, unit } = input;
    const startMs = Date.now();
    const tty = process.stderr.isTTY === true;
    let lastProgressMs = startMs; // the first line after 250 ms: a short replay shows none
    const progress = (done: number) => {
      const now = Date.now();
      if (!tty || now - lastProgressMs < 250) return;
      lastProgressMs = now;
      const rate = done / Math.max(1e-3, (now - startMs) / 1000);
      process.stderr.write(
        `\r\x1b[2Kreplay: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} ${unit} (${((100 * done) / Math.max(1, total)).toFixed(0)} %), ${Math.round(rate).toLocaleString('en')} ${unit}/s`,
      );
    };
    let sinceFull = 0;
    let done = 0;
    let steps = 0;
    for await (const step of input.steps()) {
      // one time step: every reading with this time, delivered together, then the flow goes idle
      runtime.hub.deliver(step.readings);
      sinceFull += step.rows;
      done += step.done;
      steps++;
      if (sinceFull >= FULL_IDLE_EVERY_ROWS) {
        sinceFull = 0;
        await runtime.idle.waitIdle(true);
      } else {
        await runtime.idle.waitIdle(false);
      }
      for (const e of runtime.takeLog()) if (e.level === 'error') runtimeErrors.push(e.text);
      if (writer.pendingBytes > 1 << 16) await writer.flush();
      progress(done);
    }
    await runtime.idle.waitIdle(true, 50);
    for (const e of runtime.takeLog()) if (e.level === 'error') runtimeErrors.push(e.text);
    if (tty) process.stderr.write('\r\x1b[2K');
    const seconds = (Date.now() - startMs) / 1000;
    await writer.close();
    for (const e of runtimeErrors.slice(0, MAX_ERRORS_SHOWN)) note(`node error: ${e}`);
    if (runtimeErrors.length > MAX_ERRORS_SHOWN) note(`… and ${runtimeErrors.length - MAX_ERRORS_SHOWN} more node errors`);
    note(
      `${input.summary(steps)} in ${seconds.toFixed(2)} s, ${Math.round(done / Math.max(seconds, 1e-3))} ${unit}/s; ` +
        `${messages} messages${values.out ? ` written to ${values.out}` : ''}${runtimeErrors.length ? `; ${runtimeErrors.length} node errors` : ''}`,
    );
  } finally {
    await runtime.stop();
    // standard output stays redirected: libraries print late (node-opcua's start-up checks, say)
  }
  // A library's leftover timer or socket must not keep a finished replay alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return 0;
}
