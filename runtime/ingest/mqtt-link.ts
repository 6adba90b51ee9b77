/**
 * One MQTT connection shared by several users (the twin-mqtt-broker config node's engine), with
 * store-and-forward publishing through an Outbox.
 *
 * Publishing: `enqueue` makes the message durable in the outbox first; a single delivery loop then
 * publishes the oldest messages in order, at most `inflightWindow` at a time, waits for each PUBACK
 * and acknowledges the delivered prefix in the outbox. While disconnected it simply waits: the
 * outbox keeps growing up to its limit, after which enqueue refuses (never a silent drop).
 * With MQTT v5 every queued message carries user properties `twinloop-src` (outbox id) and
 * `twinloop-seq`, so a receiver can drop the repeats QoS 1 allows (see mqtt-dedupe.ts).
 *
 * Subscribing: handlers are registered per filter; the broker sees one SUBSCRIBE per filter and
 * mqtt.js re-subscribes after a reconnect.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TwinError } from '../model/errors.js';
import type { Outbox } from '../store/outbox.js';
import { SEQ_PROPERTY, SRC_PROPERTY } from './mqtt-dedupe.js';
import { compileTopicFilter } from './mqtt-topic-map.js';

export interface OutboundMessage {
  topic: string;
  /** UTF-8 text (JSON for TwinLoop records). */
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  /** Clean start; false keeps the session (subscriptions, queued QoS ≥ 1 messages) on the broker. */
  clean: boolean;
  /** MQTT v5 session expiry after disconnect, seconds (only when clean is false). */
  sessionExpiryS: number;
  keepaliveS: number;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string; rejectUnauthorized: boolean };
  /** First reconnect delay; doubled after every failed attempt up to maxReconnectPeriodMs. */
  reconnectPeriodMs: number;
  maxReconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** Messages published and awaiting PUBACK at once (order is kept; 1 = strictly one by one). */
  inflightWindow: number;
  outbox?: Outbox<OutboundMessage>;
  /** Published by the broker when this connection dies without a DISCONNECT (Sparkplug STATE offline). */
  will?: OutboundMessage;
}

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

interface Sub {
  filter: string;
  qos: 0 | 1 | 2;
  handler: MessageHandler;
  /** The filter, compiled once: every message is matched against every subscription. */
  matches: (topic: string) => boolean;
}

export class MqttLink extends EventEmitter {
  state: LinkState = 'disconnected';
  lastError?: Error;
  /** Messages delivered (PUBACKed) through the outbox since start. */
  delivered = 0;
  private client?: MqttClient;
  private readonly subs = new Set<Sub>();
  private delivering = false;
  private closed = false;
  private currentReconnectMs: number;

  constructor(private readonly opts: MqttLinkOptions) {
    super();
    this.currentReconnectMs = opts.reconnectPeriodMs;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get outbox(): Outbox<OutboundMessage> | undefined {
    return this.opts.outbox;
  }

  start(): void {
    if (this.client || this.closed) return;
    this.connectWith(this.opts.protocolVersion);
  }

  /** The protocol version in use (5 may fall back to 4 for a 3.1.1-only broker such as aedes). */
  protocolVersion: 4 | 5 = 5;

  private connectWith(protocolVersion: 4 | 5): void {
    const o = this.opts;
    this.protocolVersion = protocolVersion;
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: o.clean,
      keepalive: o.keepaliveS,
      protocolVersion,
      reconnectOnConnackError: true,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: o.connectTimeoutMs,
      resubscribe: true,
      queueQoSZero: false,
      ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain } } : {}),
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(protocolVersion === 5 && !o.clean ? { properties: { sessionExpiryInterval: o.sessionExpiryS } } : {}),
      ...(o.tls
        ? {
            ...(o.tls.ca ? { ca: o.tls.ca } : {}),
            ...(o.tls.cert ? { cert: o.tls.cert } : {}),
            ...(o.tls.key ? { key: o.tls.key } : {}),
            ...(o.tls.passphrase ? { passphrase: o.tls.passphrase } : {}),
            rejectUnauthorized: o.tls.rejectUnauthorized,
          }
        : {}),
    };
    this.setState('connecting');
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('connect', () => {
      this.currentReconnectMs = o.reconnectPeriodMs;
      client.options.reconnectPeriod = o.reconnectPeriodMs;
      this.lastError = undefined;
      this.setState('connected');
      void this.deliver();
    });
    client.on('reconnect', () => {
      // Back off: each further attempt waits twice as long, up to the maximum.
      this.currentReconnectMs = Math.min(o.maxReconnectPeriodMs, this.currentReconnectMs * 2);
      client.options.reconnectPeriod = this.currentReconnectMs;
      this.setState('connecting');
    });
    client.on('close', () => {
      if (!this.closed) this.setState('disconnected');
    });
    client.on('error', (err) => {
      if (protocolVersion === 5 && (err as { code?: number }).code === 1 && this.client === client) {
        // CONNACK 1 = unacceptable protocol version: the broker speaks only MQTT 3.1.1. Without
        // v5 user properties receivers cannot drop repeats, so say so once.
        this.emit('notice', 'broker refuses MQTT v5; falling back to 3.1.1 (receivers cannot drop repeats)');
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end(true);
        this.client = undefined;
        this.connectWith(4);
        return;
      }
      // Never log credentials: the message of an mqtt.js error does not contain them.
      this.lastError = err;
      this.emit('linkError', err);
    });
    client.on('message', (topic, payload, packet) => {
      for (const s of this.subs) {
        if (!s.matches(topic)) continue;
        try {
          s.handler(topic, payload, packet);
        } catch (err) {
          this.emit('linkError', err as Error);
        }
      }
    });
    // Subscriptions made before start.
    const filters = new Map<string, 0 | 1 | 2>();
    for (const s of this.subs) filters.set(s.filter, Math.max(filters.get(s.filter) ?? 0, s.qos) as 0 | 1 | 2);
    for (const [f, qos] of filters) client.subscribe(f, { qos });
  }

  private setState(s: LinkState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  /**
   * Register a handler for a filter; returns the function that removes it. Pass `unsubscribe` =
   * false when the flow merely stops: a persistent session then keeps queueing for us.
   */
  subscribe(filter: string, qos: 0 | 1 | 2, handler: MessageHandler): (unsubscribe?: boolean) => void {
    const sub: Sub = { filter, qos, handler, matches: compileTopicFilter(filter) };
    const firstForFilter = ![...this.subs].some((s) => s.filter === filter && s.qos >= qos);
    this.subs.add(sub);
    if (this.client && firstForFilter) this.client.subscribe(filter, { qos });
    return (unsubscribe = true) => {
      this.subs.delete(sub);
      if (unsubscribe && this.client && ![...this.subs].some((s) => s.filter === filter)) this.client.unsubscribe(filter);
    };
  }

  /** Store-and-forward: resolves once the message is durable in the outbox. */
  async enqueue(msg: OutboundMessage): Promise<number> {
    const ob = this.opts.outbox;
    if (!ob) throw new TwinError('QUEUE', 'this broker connection has no outbox');
    const seq = await ob.enqueue(msg);
    void this.deliver();
    return seq;
  }

  /** Publish now, bypassing the outbox (commands whose point is lost when late, e.g. a rebirth request). */
  publishDirect(topic: string, payload: Buffer | string, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.client || !this.client.connected) {
        reject(new TwinError('CONNECTION', `not connected to ${this.opts.url}`));
        return;
      }
      this.client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Deliver the outbox in order while connected. One loop at a time. */
  private async deliver(): Promise<void> {
    const ob = this.opts.outbox;
    if (!ob || this.delivering) return;
    this.delivering = true;
    let failed = false;
    try {
      failed = !(await this.deliverLoop(ob));
    } catch (err) {
      // An outbox that cannot record an ack: stop here and retry later.
      failed = true;
      if (!this.closed) this.emit('linkError', err as Error);
    } finally {
      this.delivering = false;
    }
    if (this.closed || !this.client?.connected || ob.size() === 0) return;
    if (failed) {
      // Still connected but refused (e.g. a v5 PUBACK reason code ≥ 0x80 from an ACL): the message
      // stays first in line (never dropped) and is retried with back-off; the status shows the error.
      this.retryDelayMs = Math.min(this.opts.maxReconnectPeriodMs, Math.max(this.opts.reconnectPeriodMs, this.retryDelayMs * 2));
      const timer = setTimeout(() => void this.deliver(), this.retryDelayMs);
      timer.unref();
    } else {
      this.retryDelayMs = 0;
      setImmediate(() => void this.deliver()); // messages enqueued while the last batch was in flight
    }
  }

  private retryDelayMs = 0;

  /** Deliver until the outbox is empty or the link drops (true), or a publish failed (false). */
  private async deliverLoop(ob: Outbox<OutboundMessage>): Promise<boolean> {
    while (!this.closed && this.client?.connected) {
      // After a refusal, send one at a time until the head goes through, so later messages do not
      // overtake it again and again.
      const batch = await ob.peek(this.retryDelayMs > 0 ? 1 : this.opts.inflightWindow);
      if (batch.length === 0) return true;
      const results = await Promise.allSettled(batch.map((e) => this.publishOne(e.record, e.seq, ob.id)));
      let k = 0;
      while (k < results.length && results[k].status === 'fulfilled') k++;
      if (k > 0) {
        await ob.ack(k);
        this.delivered += k;
        this.emit('delivered', k);
      }
      if (k < results.length) {
        const r = results[k] as PromiseRejectedResult;
        if (!this.closed) this.emit('linkError', r.reason instanceof Error ? r.reason : new Error(String(r.reason)));
        // Resume from the first undelivered message: on the next 'connect', or after a back-off.
        return false;
      }
    }
    return true;
  }

  private publishOne(m: OutboundMessage, seq: number, src: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = this.client;
      if (!client) {
        reject(new TwinError('CONNECTION', 'no client'));
        return;
      }
      const properties = this.protocolVersion === 5 ? { userProperties: { [SRC_PROPERTY]: src, [SEQ_PROPERTY]: String(seq) } } : undefined;
      client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain, ...(properties ? { properties } : {}) }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  /** Close the connection (DISCONNECT when possible) and the outbox. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (client) {
      await new Promise<void>((resolve) => {
        if (!client.connected) {
          client.end(true, {}, () => resolve()); // nothing to say goodbye to; unacked messages stay in the outbox
          return;
        }
        const timer = setTimeout(() => client.end(true, {}, () => resolve()), 2000);
        client.end(false, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.setState('closed');
    await this.opts.outbox?.close();
  }
}
