/**
 * Sparkplug B host application as a pure state machine: feed it each decoded message and the
 * receive time, get back readings, errors and actions (rebirth requests) for the adapter to carry
 * out. No I/O, no clock: `nowMs` is passed in.
 *
 * - NBIRTH/DBIRTH: record every metric's name, alias, unit and type; emit their values.
 * - NDATA/DDATA: resolve aliases; an unknown alias is an error and asks for a rebirth.
 * - seq: every message from an edge node after NBIRTH (NDATA, DBIRTH, DDATA, DDEATH) increments
 *   seq by one, wrapping 255 → 0; a gap asks for a rebirth (readings are still emitted).
 * - NDEATH (with a bdSeq matching the birth, or none) marks every known tag of the node and its
 *   devices bad; DDEATH does so for one device. An NDEATH from an older session is ignored.
 * - Data from a node whose birth we have not seen asks for a rebirth.
 * Rebirth requests are held off per node (`rebirthHoldOffMs`) so a burst does not flood the node.
 */
import { TwinError } from '../model/errors.js';
import type { Reading } from '../model/reading.js';
import { checkNotFuture } from '../model/reading.js';
import { formatSparkplugTopic, type SparkplugMetric, type SparkplugPayload, type SparkplugTopic } from './sparkplug-codec.js';

export interface SparkplugHostConfig {
  /** Asset path for a node (device undefined) or device, e.g. from a template. */
  assetFor(groupId: string, edgeNodeId: string, deviceId?: string): string;
  /** 0 disables the check. */
  maxFutureMs: number;
  rebirthHoldOffMs: number;
}

export interface RebirthAction {
  type: 'rebirth';
  groupId: string;
  edgeNodeId: string;
  /** `spBv1.0/<group>/NCMD/<edge>`; the payload is metric `Node Control/Rebirth` = true. */
  topic: string;
  reason: string;
}

export interface SparkplugStepResult {
  readings: Reading[];
  errors: TwinError[];
  actions: RebirthAction[];
}

interface MetricInfo {
  name: string;
  unit?: string;
  type: string;
  /** Last good-or-not value, so a death can report bad with the value last seen. */
  lastValue?: number;
  numeric: boolean;
}

interface Scope {
  byAlias: Map<number, MetricInfo>;
  byName: Map<string, MetricInfo>;
  online: boolean;
}

interface EdgeNode {
  node: Scope;
  devices: Map<string, Scope>;
  bdSeq?: number;
  lastSeq?: number;
  born: boolean;
  lastRebirthMs?: number;
}

export const REBIRTH_METRIC = 'Node Control/Rebirth';

/** Metrics that are about the session, not the process: never turned into readings. */
function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Properties/');
}

const NUMERIC_TYPES = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean']);

function newScope(): Scope {
  return { byAlias: new Map(), byName: new Map(), online: true };
}

export class SparkplugHost {
  private readonly nodes = new Map<string, EdgeNode>();

  constructor(private readonly cfg: SparkplugHostConfig) {}

  /** Edge nodes currently known (for status). */
  get nodeCount(): number {
    return this.nodes.size;
  }

  step(topic: SparkplugTopic, payload: SparkplugPayload, nowMs: number): SparkplugStepResult {
    const out: SparkplugStepResult = { readings: [], errors: [], actions: [] };
    const key = `${topic.groupId}/${topic.edgeNodeId}`;
    const t = topic.messageType;
    if (t === 'STATE' || t === 'NCMD' || t === 'DCMD') return out;

    if (t === 'NBIRTH') {
      const bd = payload.metrics.find((m) => m.name === 'bdSeq');
      const en: EdgeNode = {
        node: newScope(),
        devices: new Map(),
        born: true,
        bdSeq: typeof bd?.value === 'number' ? bd.value : undefined,
        lastSeq: payload.seq,
      };
      this.nodes.set(key, en);
      this.birth(en.node, topic, payload, nowMs, out);
      return out;
    }

    const en = this.nodes.get(key);
    if (t === 'NDEATH') {
      if (!en) return out;
      const bd = payload.metrics.find((m) => m.name === 'bdSeq');
      // An NDEATH is the will of a session; a later session's birth makes an older will stale.
      if (typeof bd?.value === 'number' && en.bdSeq !== undefined && bd.value !== en.bdSeq) return out;
      this.death(en.node, topic, undefined, nowMs, 'NDEATH', out);
      for (const [dev, scope] of en.devices) this.death(scope, topic, dev, nowMs, 'NDEATH', out);
      en.born = false;
      en.lastSeq = undefined;
      return out;
    }

    if (!en || !en.born) {
      this.requestRebirth(topic, key, nowMs, `${t} from ${key} before its NBIRTH`, out);
      out.errors.push(new TwinError('UNKNOWN_ALIAS', `${t} from edge node ${key} whose birth was not seen; rebirth requested`));
      return out;
    }

    this.checkSeq(en, topic, key, payload, nowMs, out);

    if (t === 'DBIRTH') {
      const scope = newScope();
      en.devices.set(topic.deviceId ?? '', scope);
      this.birth(scope, topic, payload, nowMs, out);
      return out;
    }
    if (t === 'NDATA') {
      this.data(en.node, topic, key, payload, nowMs, out);
      return out;
    }
    const dev = topic.deviceId ?? '';
    const scope = en.devices.get(dev);
    if (t === 'DDEATH') {
      if (scope) this.death(scope, topic, topic.deviceId, nowMs, 'DDEATH', out);
      return out;
    }
    if (t === 'DDATA') {
      if (!scope || !scope.online) {
        this.requestRebirth(topic, key, nowMs, `DDATA from ${key}/${dev} before its DBIRTH`, out);
        out.errors.push(new TwinError('UNKNOWN_ALIAS', `DDATA from device ${key}/${dev} whose birth was not seen; rebirth requested`));
        return out;
      }
      this.data(scope, topic, key, payload, nowMs, out);
    }
    return out;
  }

  private checkSeq(en: EdgeNode, topic: SparkplugTopic, key: string, p: SparkplugPayload, nowMs: number, out: SparkplugStepResult): void {
    if (p.seq === undefined) return;
    if (en.lastSeq !== undefined) {
      const expected = (en.lastSeq + 1) % 256;
      if (p.seq !== expected) {
        out.errors.push(
          new TwinError('BAD_PAYLOAD', `Sparkplug sequence gap from ${key}: expected seq ${expected}, got ${p.seq}; rebirth requested`),
        );
        this.requestRebirth(topic, key, nowMs, `seq gap (expected ${expected}, got ${p.seq})`, out);
      }
    }
    en.lastSeq = p.seq;
  }

  private requestRebirth(topic: SparkplugTopic, key: string, nowMs: number, reason: string, out: SparkplugStepResult): void {
    let en = this.nodes.get(key);
    if (!en) {
      en = { node: newScope(), devices: new Map(), born: false };
      this.nodes.set(key, en);
    }
    if (en.lastRebirthMs !== undefined && nowMs - en.lastRebirthMs < this.cfg.rebirthHoldOffMs) return;
    en.lastRebirthMs = nowMs;
    out.actions.push({
      type: 'rebirth',
      groupId: topic.groupId,
      edgeNodeId: topic.edgeNodeId,
      reason,
      topic: formatSparkplugTopic({ groupId: topic.groupId, messageType: 'NCMD', edgeNodeId: topic.edgeNodeId }),
    });
  }

  private birth(scope: Scope, topic: SparkplugTopic, p: SparkplugPayload, nowMs: number, out: SparkplugStepResult): void {
    for (const m of p.metrics) {
      if (!m.name) {
        out.errors.push(new TwinError('BAD_PAYLOAD', `${topic.messageType} metric without a name (alias ${m.alias ?? '?'})`));
        continue;
      }
      const info: MetricInfo = { name: m.name, unit: m.unit, type: String(m.type), numeric: NUMERIC_TYPES.has(String(m.type)) };
      scope.byName.set(m.name, info);
      if (m.alias !== undefined) scope.byAlias.set(m.alias, info);
      if (!isControlMetric(m.name) && info.numeric) this.emit(info, m, topic, p, nowMs, out);
    }
  }

  private data(scope: Scope, topic: SparkplugTopic, key: string, p: SparkplugPayload, nowMs: number, out: SparkplugStepResult): void {
    for (const m of p.metrics) {
      const info = m.alias !== undefined ? scope.byAlias.get(m.alias) : m.name !== undefined ? scope.byName.get(m.name) : undefined;
      if (!info) {
        const what = m.alias !== undefined ? `alias ${m.alias}` : `metric '${m.name ?? '?'}'`;
        out.errors.push(
          new TwinError(
            'UNKNOWN_ALIAS',
            `${topic.messageType} from ${key}${topic.deviceId ? '/' + topic.deviceId : ''} has unknown ${what}; rebirth requested`,
          ),
        );
        this.requestRebirth(topic, key, nowMs, `unknown ${what}`, out);
        continue;
      }
      if (isControlMetric(info.name) || !info.numeric) continue;
      this.emit(info, m, topic, p, nowMs, out);
    }
  }

  private emit(
    info: MetricInfo,
    m: SparkplugMetric,
    topic: SparkplugTopic,
    p: SparkplugPayload,
    nowMs: number,
    out: SparkplugStepResult,
  ): void {
    const asset = this.cfg.assetFor(topic.groupId, topic.edgeNodeId, topic.deviceId);
    const tsMs = m.timestampMs ?? p.timestampMs ?? nowMs;
    if (this.cfg.maxFutureMs > 0) {
      try {
        checkNotFuture(tsMs, nowMs, this.cfg.maxFutureMs);
      } catch (err) {
        out.errors.push(new TwinError('BAD_TIMESTAMP', `${asset}/${info.name}: ${(err as Error).message}`));
        return;
      }
    }
    const base = { asset, tag: info.name, ...(info.unit ? { unit: info.unit } : {}), tsMs, source: 'sparkplug' as const };
    if (m.isNull || m.value === null || m.value === undefined) {
      out.readings.push({ ...base, value: info.lastValue ?? 0, quality: 'bad', qualityReason: 'null value' });
      return;
    }
    const v = typeof m.value === 'boolean' ? (m.value ? 1 : 0) : Number(m.value);
    if (!Number.isFinite(v)) {
      out.errors.push(
        new TwinError(
          typeof m.value === 'number' ? 'NOT_FINITE' : 'NOT_NUMERIC',
          `${asset}/${info.name}: value ${String(m.value).slice(0, 30)} is not a finite number`,
        ),
      );
      return;
    }
    info.lastValue = v;
    out.readings.push({ ...base, value: v, quality: 'good' });
  }

  private death(
    scope: Scope,
    topic: SparkplugTopic,
    deviceId: string | undefined,
    nowMs: number,
    why: string,
    out: SparkplugStepResult,
  ): void {
    scope.online = false;
    const asset = this.cfg.assetFor(topic.groupId, topic.edgeNodeId, deviceId);
    for (const info of scope.byName.values()) {
      if (isControlMetric(info.name) || !info.numeric) continue;
      out.readings.push({
        asset,
        tag: info.name,
        value: info.lastValue ?? 0,
        ...(info.unit ? { unit: info.unit } : {}),
        tsMs: nowMs,
        quality: 'bad',
        qualityReason: why,
        source: 'sparkplug',
      });
    }
  }
}

/** The payload of an NCMD rebirth request. */
export function rebirthPayload(nowMs: number): SparkplugPayload {
  return { timestampMs: nowMs, metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] };
}
