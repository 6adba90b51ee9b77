/**
 * The embedded MQTT broker of `twinloop start`: aedes on a TCP port of 127.0.0.1 (by default).
 * It stands in for the plant's broker in the demo; a real site points twin-mqtt-broker at its own.
 * With `users`, a connect needs one of their names and passwords (anonymous ones are refused) and
 * every publish (a client's will too) passes `acl` (broker-acl.ts): a refused one is dropped, noted
 * in `refused`, and aedes closes the publisher's connection (MQTT 3.1.1 has no negative PUBACK).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { mayPublish, type BrokerAcl } from './broker-acl.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Publishes dropped by the ACL: `user topic` (newest last, at most 100). */
  refused: string[];
  stop(): Promise<void>;
}

export interface BrokerAuth {
  /** User name → password. */
  users: Record<string, string>;
  acl: BrokerAcl;
}

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

export async function startEmbeddedBroker(port: number, host = '127.0.0.1', auth?: BrokerAuth): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const refused: string[] = [];
  if (auth) {
    const users = new Map(Object.entries(auth.users).map(([u, p]) => [u, digest(p)]));
    broker.authenticate = (client, username, password, done) => {
      const want = username === undefined ? undefined : users.get(username);
      // compare digests: equal lengths, no early exit on the first differing byte
      const ok = want !== undefined && password !== undefined && timingSafeEqual(want, digest(password));
      if (ok) (client as unknown as { twinloopUser?: string }).twinloopUser = username;
      if (ok) done(null, true);
      else {
        const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 });
        done(err as never, false);
      }
    };
    broker.authorizePublish = (client, packet, done) => {
      const user = (client as unknown as { twinloopUser?: string } | null)?.twinloopUser;
      if (mayPublish(auth.acl, user, packet.topic)) return done(null);
      refused.push(`${user ?? '?'} ${packet.topic}`);
      if (refused.length > 100) refused.shift();
      done(new Error(`${user ?? 'anonymous'} may not publish to ${packet.topic}`));
    };
  }
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as { port: number }).port;
  return {
    url: `mqtt://${host}:${actualPort}`,
    port: actualPort,
    refused,
    stop: () =>
      // Closing the broker first disconnects its clients, which server.close() would wait for.
      new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}
