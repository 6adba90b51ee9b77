/**
 * The OPC UA side of twin-opcua-write (kept apart from the node file, whose only export must be the
 * Node-RED registration function; the approval-latency bench uses it too).
 */
import type { OpcuaConnection } from '../../runtime/ingest/opcua-session.js';
import type { WriterTransport } from '../../runtime/control/writer.js';

/** How long a command waits for a session that is being (re)established before it fails. */
const CONNECT_WAIT_MS = 5000;
/** Between read-back attempts while the plant has not yet taken the value. */
const READ_BACK_RETRY_MS = 100;

/**
 * OPC UA transport: read the present value, write a Double, read back. A PLC may apply a setpoint a
 * little later than it acknowledges the write, so the read-back repeats until the value matches or
 * readBackTimeoutMs has passed (and then reports the last value read).
 */
export function opcuaTransport(conn: OpcuaConnection, nodeId: string, readBackTimeoutMs: number): WriterTransport {
  return {
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

