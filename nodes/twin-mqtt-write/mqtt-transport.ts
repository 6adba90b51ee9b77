/**
 * The MQTT side of twin-mqtt-write (kept apart from the node file, whose only export must be the
 * Node-RED registration function): the link's subscriptions, publishes and waits. What is sent and
 * how a read-back message is read (json or Sparkplug, aliases, rebirth) is runtime/control/mqtt-readback.ts.
 *
 * A command goes out directly (QoS 1), never through the broker node's disk outbox: a setpoint
 * delivered late, after the link returns, would act on a plant that has moved on, so with the link
 * down the write fails. The present value is the last one seen (forgotten when the link drops); the read-back is the first
 * value within tolerance seen after the publish, else, at the timeout, the last value seen after it
 * (a sample already on its way when the command left can arrive after it: it is not a failure yet).
 * Interlocks and inputs are the latest readings twin-mqtt-in received on the same broker (MQTT
 * cannot be asked for a value). Without broker ACLs anyone who can publish there can fake them:
 * MQTT is an authenticated source only where the broker lets only the plant publish plant topics.
 */
import type { MessageHandler } from '../../runtime/ingest/mqtt-link.js';
import { formatSparkplugTopic } from '../../runtime/ingest/sparkplug-codec.js';
import {
  SparkplugReadBack,
  commandMessage,
  jsonReadBackValue,
  readBackOf,
  readBackSource,
  rebirthRequest,
  sparkplugTopicOf,
  type MqttWriteSettings,
} from '../../runtime/control/mqtt-readback.js';
import type { Command } from '../../runtime/model/control.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { WriterTransport } from '../../runtime/control/writer.js';
import type { Reading } from '../../runtime/model/reading.js';

export type { MqttWriteFormat, MqttWriteSettings } from '../../runtime/control/mqtt-readback.js';

/** The part of a twin-mqtt-broker node the transport uses. */
export interface MqttWriteLink {
  subscribe(filter: string, qos: 0 | 1 | 2, handler: MessageHandler): (unsubscribe?: boolean) => void;
  publishDirect(topic: string, payload: Buffer | string, qos?: 0 | 1 | 2): Promise<void>;
  /** Whether the link is up now (a command with the link down fails at once, with a clear reason). */
  isConnected(): boolean;
}

const TOPIC_PART = /^[^#+\0]+$/;

/** Validate the MQTT fields; throws BAD_CONFIG naming the field. */
export function validateMqttWriteSettings(def: Record<string, unknown>, readBackTimeoutMs: number): MqttWriteSettings {
  const str = (k: string) => (typeof def[k] === 'string' ? (def[k] as string).trim() : '');
  const bad = (msg: string) => new TwinError('BAD_CONFIG', msg);
  const format = str('format') || 'json';
  if (format !== 'json' && format !== 'sparkplug') throw bad(`format must be json or sparkplug, not ${JSON.stringify(format)}`);
  const s: MqttWriteSettings = {
    format,
    commandTopic: str('commandTopic'),
    readBackTopic: str('readBackTopic'),
    groupId: str('groupId'),
    edgeNodeId: str('edgeNodeId'),
    deviceId: str('deviceId'),
    metric: str('metric'),
    readBackTimeoutMs,
  };
  if (format === 'json') {
    if (!s.commandTopic || !TOPIC_PART.test(s.commandTopic))
      throw bad('commandTopic is required and must not contain + or # (a command goes to one topic)');
    if (!s.readBackTopic || !TOPIC_PART.test(s.readBackTopic)) throw bad('readBackTopic is required and must not contain + or #');
  } else {
    for (const k of ['groupId', 'edgeNodeId'] as const) {
      if (!s[k] || /[/#+]/.test(s[k])) throw bad(`${k} is required and must not contain /, + or #`);
    }
    if (/[/#+]/.test(s.deviceId)) throw bad('deviceId must not contain /, + or #');
    if (!s.metric) throw bad('metric is required (the Sparkplug metric name of the setpoint)');
  }
  return s;
}

interface Waiter {
  accept(v: number): boolean;
}

export class MqttWriteTransport implements WriterTransport {
  private last: number | undefined;
  /** Values seen since the last publish of a command. */
  private sinceWrite: number[] | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly sparkplug: SparkplugReadBack;
  private lastRebirthMs = 0;
  private unsubs: Array<(u?: boolean) => void> = [];

  constructor(
    private readonly link: MqttWriteLink,
    private readonly s: MqttWriteSettings,
    /** The latest readings received on the same broker, by `asset/tag` (the broker node's LatestReadings). */
    private readonly latest: { get(key: string): Reading | undefined },
    private readonly now: () => number = Date.now,
  ) {
    this.sparkplug = new SparkplugReadBack(s.metric);
  }

  async readInputs(keys: readonly string[]): Promise<ReadonlyMap<string, Reading>> {
    this.requireLink();
    const out = new Map<string, Reading>();
    for (const k of keys) {
      const r = this.latest.get(k);
      if (r) out.set(k, r);
    }
    return out;
  }

  private spTopic(type: 'CMD' | 'BIRTH' | 'DATA' | 'DEATH'): string {
    return sparkplugTopicOf(this.s, type);
  }

  /** Subscribe to the read-back topics. */
  start(): void {
    if (this.s.format === 'json') {
      this.unsubs.push(this.link.subscribe(this.s.readBackTopic, 1, (_t, payload) => this.onJson(payload)));
    } else {
      this.unsubs.push(this.link.subscribe(this.spTopic('BIRTH'), 0, (_t, p) => this.onSparkplug(p, true)));
      this.unsubs.push(this.link.subscribe(this.spTopic('DATA'), 0, (_t, p) => this.onSparkplug(p, false)));
      // a death (the device's, or its edge node's) means the last value is no longer the plant's
      this.unsubs.push(this.link.subscribe(this.spTopic('DEATH'), 0, () => this.forget()));
      if (this.s.deviceId) {
        const nodeDeath = formatSparkplugTopic({ groupId: this.s.groupId, edgeNodeId: this.s.edgeNodeId, messageType: 'NDEATH' });
        this.unsubs.push(this.link.subscribe(nodeDeath, 0, () => this.forget()));
      }
    }
  }

  stop(): void {
    this.unsubs.splice(0).forEach((u) => u());
  }

  /** The link went down or the edge node died: the last value may no longer be the plant's. */
  forget(): void {
    this.last = undefined;
  }

  private onJson(payload: Buffer): void {
    const v = jsonReadBackValue(payload);
    if (v !== undefined) this.seen(v);
  }

  private onSparkplug(payload: Buffer, birth: boolean): void {
    const { values, rebirth } = this.sparkplug.take(payload, birth);
    for (const v of values) this.seen(v);
    // data by alias without the birth that names them: ask the edge node for one
    if (rebirth) this.requestRebirth();
  }

  private requestRebirth(): void {
    const nowMs = this.now();
    if (nowMs - this.lastRebirthMs < this.s.readBackTimeoutMs) return;
    this.lastRebirthMs = nowMs;
    const { topic, payload } = rebirthRequest(this.s, nowMs);
    this.link.publishDirect(topic, payload, 0).catch(() => undefined);
  }

  private seen(v: number): void {
    if (!Number.isFinite(v)) return;
    this.last = v;
    this.sinceWrite?.push(v);
    for (const w of [...this.waiters]) if (w.accept(v)) this.waiters.delete(w);
  }

  /** Resolve with the first value `accept`ed within timeoutMs, else undefined. */
  private waitFor(accept: (v: number) => boolean, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const w: Waiter = {
        accept: (v) => {
          if (!accept(v)) return false;
          clearTimeout(timer);
          resolve(v);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  private where(): string {
    return readBackSource(this.s);
  }

  private requireLink(): void {
    if (!this.link.isConnected()) throw new TwinError('CONNECTION', 'not connected to the broker');
  }

  async readCurrent(): Promise<number> {
    this.requireLink();
    if (this.last !== undefined) return this.last;
    if (this.s.format === 'sparkplug') this.requestRebirth();
    const v = await this.waitFor(() => true, this.s.readBackTimeoutMs);
    if (v === undefined) throw new TwinError('CONNECTION', `no value seen on ${this.where()} within ${this.s.readBackTimeoutMs} ms`);
    return v;
  }

  async write(value: number, cmd: Command): Promise<void> {
    this.requireLink();
    this.sinceWrite = [];
    const { topic, payload } = commandMessage(this.s, value, cmd.id, this.now());
    await this.link.publishDirect(topic, payload, 1);
  }

  async readBack(expected: number, toleranceAbs: number): Promise<number> {
    const seen = this.sinceWrite ?? [];
    try {
      const early = readBackOf(seen, expected, toleranceAbs);
      if (early?.match) return early.value;
      const v = await this.waitFor((x) => Math.abs(x - expected) <= toleranceAbs, this.s.readBackTimeoutMs);
      if (v !== undefined) return v;
      const late = readBackOf(seen, expected, toleranceAbs);
      if (late) return late.value;
      throw new TwinError('CONNECTION', `no value seen on ${this.where()} within ${this.s.readBackTimeoutMs} ms of the command`);
    } finally {
      this.sinceWrite = undefined;
    }
  }
}
