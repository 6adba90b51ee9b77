/**
 * The embedded MQTT broker of `twinloop start`: aedes on a TCP port of 127.0.0.1 (by default).
 * It stands in for the plant's broker in the demo; a real site points twin-mqtt-broker at its own.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(port: number, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as { port: number }).port;
  return {
    url: `mqtt://${host}:${actualPort}`,
    port: actualPort,
    stop: () =>
      // Closing the broker first disconnects its clients, which server.close() would wait for.
      new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}
