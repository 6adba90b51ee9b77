/**
 * What an MQTT writer (twin-mqtt-write) sends and reads back, without the link: there is no reply to
 * a publish, so the plant's value is what it reports.
 *  - json: the command `{"value":v,"commandId":..,"tsMs":..}` goes to a command topic; the value is
 *    read from a read-back topic carrying a UNS JSON reading `{"value":..,"quality":..}` or a bare number;
 *  - sparkplug: a DCMD (NCMD for a node-level metric) with the metric by name; the value is read from
 *    the device's BIRTH/DATA, where DATA may name metrics by alias only, learnt from the BIRTH
 *    (without a birth seen, the writer asks the edge node for a rebirth).
 * The transport in nodes/twin-mqtt-write/mqtt-transport.ts subscribes, publishes and waits.
 */
import { decodeSparkplugPayload, encodeSparkplugPayload, formatSparkplugTopic } from '../ingest/sparkplug-codec.js';
import { rebirthPayload } from '../ingest/sparkplug-host.js';

export type MqttWriteFormat = 'json' | 'sparkplug';

export interface MqttWriteSettings {
  format: MqttWriteFormat;
  /** json */
  commandTopic: string;
  readBackTopic: string;
  /** sparkplug */
  groupId: string;
  edgeNodeId: string;
  /** blank: a node-level metric (NCMD / NBIRTH / NDATA) */
  deviceId: string;
  metric: string;
  readBackTimeoutMs: number;
}

type SparkplugTarget = Pick<MqttWriteSettings, 'groupId' | 'edgeNodeId' | 'deviceId'>;

/** The Sparkplug topic of the setpoint's device (or its edge node, for a node-level metric). */
export function sparkplugTopicOf(s: SparkplugTarget, type: 'CMD' | 'BIRTH' | 'DATA' | 'DEATH'): string {
  const device = s.deviceId || undefined;
  return formatSparkplugTopic({
    groupId: s.groupId,
    edgeNodeId: s.edgeNodeId,
    messageType: `${device ? 'D' : 'N'}${type}` as 'DCMD',
    ...(device ? { deviceId: device } : {}),
  });
}

/** The NCMD that asks the edge node to publish its births again (so that aliases can be learnt). */
export function rebirthRequest(s: SparkplugTarget, nowMs: number): { topic: string; payload: Buffer } {
  const topic = formatSparkplugTopic({ groupId: s.groupId, edgeNodeId: s.edgeNodeId, messageType: 'NCMD' });
  return { topic, payload: encodeSparkplugPayload(rebirthPayload(nowMs)) };
}

/** The command message for `value`: topic and payload, in the configured format. */
export function commandMessage(
  s: MqttWriteSettings,
  value: number,
  commandId: string,
  nowMs: number,
): { topic: string; payload: string | Buffer } {
  if (s.format === 'json') return { topic: s.commandTopic, payload: JSON.stringify({ value, commandId, tsMs: nowMs }) };
  const payload = encodeSparkplugPayload({ timestampMs: nowMs, metrics: [{ name: s.metric, type: 'Double', value }] });
  return { topic: sparkplugTopicOf(s, 'CMD'), payload };
}

/** Where values are read back from, for error messages. */
export function readBackSource(s: MqttWriteSettings): string {
  return s.format === 'json' ? s.readBackTopic : `${sparkplugTopicOf(s, 'DATA')} metric ${s.metric}`;
}

/**
 * The value a json read-back message reports: a bare number, or a reading's numeric `value` unless
 * its quality is bad (a dropped-out sensor, a gap marker is not the plant's value). Anything else: none.
 */
export function jsonReadBackValue(payload: Buffer | string): number | undefined {
  let v: unknown;
  try {
    v = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const o = v as { value?: unknown; quality?: unknown } | null;
  if (o && typeof o === 'object' && typeof o.value === 'number' && Number.isFinite(o.value) && o.quality !== 'bad') return o.value;
  return undefined;
}

/**
 * One metric's values from a device's Sparkplug BIRTH and DATA messages. A BIRTH names the metric
 * and may give it an alias; DATA after it may carry only the alias. DATA by alias with no birth seen
 * cannot be read: `rebirth` says to ask for one.
 */
export class SparkplugReadBack {
  private alias: number | undefined;

  constructor(private readonly metric: string) {}

  take(payload: Uint8Array, birth: boolean): { values: number[]; rebirth: boolean } {
    let metrics;
    try {
      metrics = decodeSparkplugPayload(payload).metrics;
    } catch {
      return { values: [], rebirth: false };
    }
    if (birth) this.alias = undefined;
    const values: number[] = [];
    for (const m of metrics) {
      if (birth && m.name === this.metric && m.alias !== undefined) this.alias = m.alias;
      const mine = m.name === this.metric || (!birth && m.name === undefined && m.alias !== undefined && m.alias === this.alias);
      if (mine && typeof m.value === 'number' && !m.isNull && Number.isFinite(m.value)) values.push(m.value);
    }
    return { values, rebirth: !birth && this.alias === undefined && metrics.some((m) => m.name === undefined) };
  }
}

/**
 * The read-back of a write from the values seen since the publish: the first within tolerance of
 * the value written; when none is (yet), the last seen (a sample already on its way when the
 * command left can arrive after it), or undefined when none was seen.
 */
export function readBackOf(seen: readonly number[], expected: number, toleranceAbs: number): { value: number; match: boolean } | undefined {
  const hit = seen.find((v) => Math.abs(v - expected) <= toleranceAbs);
  if (hit !== undefined) return { value: hit, match: true };
  return seen.length > 0 ? { value: seen[seen.length - 1]!, match: false } : undefined;
}
