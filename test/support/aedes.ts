/**
 * An in-process aedes broker on a free 127.0.0.1 port (MQTT 3.1.1: aedes refuses v5 connects).
 * Can be stopped and started again on the same port (aedes keeps no state across that).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { freePort } from './ports.js';

export interface AedesBroker {
  url: string;
  port: number;
  broker: Aedes;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startAedes(port?: number): Promise<AedesBroker> {
  const p = port ?? (await freePort());
  let broker!: Aedes;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const api: AedesBroker = {
    url: `mqtt://127.0.0.1:${p}`,
    port: p,
    get broker() {
      return broker;
    },
    async start() {
      if (server) return;
      broker = await Aedes.createBroker();
      server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        broker.handle(s);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(p, '127.0.0.1', () => resolve());
      });
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  } as AedesBroker;
  await api.start();
  return api;
}
