/**
 * A TCP relay between Node-RED and the plant's OPC UA server that can be frozen: while frozen it
 * forwards nothing in either direction but keeps every connection open, as a hung network path or a
 * PLC that has stopped answering would. The OPC UA client then sees no error (its readings stay as
 * they were, good, and age) and a write it starts waits for an answer: a command stands between
 * approval and write for as long as the test wants. Stopping the server instead closes the
 * connection, and the client marks every reading bad at once (the gate then blocks, rightly).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

export interface FreezableProxy {
  port: number;
  /** Stop forwarding (connections stay open, data waits in the socket buffers). */
  freeze(): void;
  /** Forward again, including whatever waited. */
  thaw(): void;
  /** Close every relayed connection (e.g. those of a process that was killed). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFreezableProxy(targetHost: string, targetPort: number): Promise<FreezableProxy> {
  const port = await freePort();
  let frozen = false;
  /** Per relayed connection: its two sockets and what waits to be forwarded while frozen. */
  const links = new Set<{ sockets: [Socket, Socket]; held: Array<[Socket, Buffer]> }>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const link = { sockets: [client, upstream] as [Socket, Socket], held: [] as Array<[Socket, Buffer]> };
    links.add(link);
    const drop = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    const relay = (to: Socket) => (chunk: Buffer) => {
      if (frozen) link.held.push([to, chunk]);
      else to.write(chunk);
    };
    client.on('data', relay(upstream)).on('error', drop).on('close', drop);
    upstream.on('data', relay(client)).on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const dropAll = () => {
    for (const l of links) for (const s of l.sockets) s.destroy();
    links.clear();
  };
  return {
    port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const l of links) for (const [to, chunk] of l.held.splice(0)) to.write(chunk);
    },
    dropAll,
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
