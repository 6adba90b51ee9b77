/**
 * The OPC UA side of twin-opcua-write (kept apart from the node file, whose only export must be the
 * Node-RED registration function; the approval-latency bench uses it too).
 */
import type { OpcuaItem } from '../../runtime/ingest/opcua-config.js';
import type { OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import type { SourceItems } from '../../runtime/ingest/source-items.js';
import { GATE_MAX_FUTURE_MS, readingTopic, type Reading } from '../../runtime/model/reading.js';
import type { WriterTransport } from '../../runtime/control/writer.js';

/** How long a command waits for a session that is being (re)established before it fails. */
const CONNECT_WAIT_MS = 5000;
/** Between read-back attempts while the plant has not yet taken the value. */
const READ_BACK_RETRY_MS = 100;

/** Where the writer re-reads interlocks and inputs: the endpoint's id and the items its twin-opcua-in nodes read. */
export interface OpcuaInputSource {
  connection: string;
  items: SourceItems<OpcuaItem>;
}

/**
 * OPC UA transport: read the present value, write a Double, read back. A PLC may apply a setpoint a
 * little later than it acknowledges the write, so the read-back repeats until the value matches or
 * readBackTimeoutMs has passed (and then reports the last value read). Interlocks and inputs are
 * read in the same session, from the nodeIds the endpoint's twin-opcua-in nodes read them from.
 */
export function opcuaTransport(
  conn: OpcuaConnection,
  nodeId: string,
  readBackTimeoutMs: number,
  inputs: OpcuaInputSource,
): WriterTransport {
  return {
    async readInputs(keys) {
      const items: OpcuaItem[] = [];
      for (const k of keys) {
        const found = inputs.items.resolve(k, (a, b) => a.nodeId === b.nodeId);
        if ('item' in found) items.push(found.item);
      }
      const out = new Map<string, Reading>();
      if (items.length === 0) return out;
      // maxAge 0: the value now, so it is dated now (its source timestamp says when the value last
      // changed, and an interlock may hold for hours); a source time in the future makes it bad.
      const samples = await conn.read(items, GATE_MAX_FUTURE_MS);
      const nowMs = Date.now();
      for (const s of samples) {
        const origin = { connection: inputs.connection, item: s.item.nodeId };
        // a value that is no number is no reading the check could trust: bad, saying why
        const { asset, tag } = s.item;
        const r: Reading =
          s.kind === 'reading'
            ? { ...s.reading, tsMs: nowMs, origin }
            : { asset, tag, value: 0, tsMs: nowMs, quality: 'bad', qualityReason: s.error.message, source: 'opcua', origin };
        out.set(readingTopic(s.item), r);
      }
      return out;
    },
    async readCurrent() {
      await conn.whenConnected(CONNECT_WAIT_MS);
      return (await conn.readValue(nodeId)).value;
    },
    async write(value) {
      await conn.writeValue(nodeId, value);
    },
    async readBack(expected, toleranceAbs) {
      const until = Date.now() + readBackTimeoutMs;
      for (;;) {
        const { value } = await conn.readValue(nodeId);
        if (Math.abs(value - expected) <= toleranceAbs || Date.now() >= until) return value;
        await new Promise((r) => setTimeout(r, READ_BACK_RETRY_MS));
      }
    },
  };
}
