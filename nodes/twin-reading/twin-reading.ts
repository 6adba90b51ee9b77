/**
 * twin-reading: any message → one Reading, so the core `mqtt in`, node-red-contrib-opcua, Modbus or a
 * function node can feed the twin nodes without a hand-written function node. Thin adapter: the
 * editor's typedInputs become getters once (nodes/shared/typed-property.ts), the conversion and its
 * checks are runtime/ingest/message-reading.ts.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import {
  parseJsonText,
  readingFromFields,
  validateMessageReadingConfig,
  DEFAULT_MESSAGE_READING_CONFIG,
  type FieldOrigins,
  type MessageFields,
  type MessageReadingConfig,
  type QualityCodes,
} from '../../runtime/ingest/message-reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import { statusIdle } from '../shared/status.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { messageSetter, propertyGetter, type PropertyGetter } from '../shared/typed-property.js';

const FIELDS = ['value', 'asset', 'tag', 'unit', 'time', 'quality'] as const;
type Field = (typeof FIELDS)[number];

/** Each field's editor default: what an existing flow without the property gets. */
const DEFAULTS: Record<Field, [string, string]> = {
  value: ['payload', 'msg'],
  asset: ['', 'str'],
  tag: ['topic', 'msg'],
  unit: ['', 'str'],
  time: ['', 'date'], // the arrival time of the message
  quality: ['', 'str'], // none: good
};

export type TwinReadingDef = NodeDef &
  Partial<Record<Field | `${Field}Type`, string>> & {
    element?: string | number;
    qualityCodes?: string;
    source?: string;
    maxFutureS?: string | number;
    output?: string;
  };

export default function (RED: NodeAPI): void {
  function TwinReadingNode(this: Node, def: TwinReadingDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-reading');

    let config: MessageReadingConfig;
    const getters = {} as Record<Field, PropertyGetter>;
    const origins: FieldOrigins = {};
    let setOutput: (msg: NodeMessage, v: unknown) => void;
    let parsePayload = false;
    let anyAsync = false;
    try {
      const element = def.element === undefined || String(def.element).trim() === '' ? undefined : Number(def.element);
      const maxFutureS = def.maxFutureS === undefined || String(def.maxFutureS).trim() === '' ? undefined : Number(def.maxFutureS);
      config = {
        ...DEFAULT_MESSAGE_READING_CONFIG,
        source: def.source === undefined || def.source === '' ? DEFAULT_MESSAGE_READING_CONFIG.source : def.source,
        element,
        qualityCodes: (def.qualityCodes || DEFAULT_MESSAGE_READING_CONFIG.qualityCodes) as QualityCodes,
        maxFutureMs: maxFutureS === undefined ? DEFAULT_MESSAGE_READING_CONFIG.maxFutureMs : maxFutureS * 1000,
      };
      validateMessageReadingConfig(config);
      for (const f of FIELDS) {
        const type = def[`${f}Type`] || DEFAULTS[f][1];
        // a blank message path means nothing for the value and the tag: they keep their defaults
        const blank = (def[f] ?? '').trim() === '' && type === 'msg' && DEFAULTS[f][1] === 'msg';
        const value = blank ? DEFAULTS[f][0] : (def[f] ?? DEFAULTS[f][0]);
        try {
          getters[f] = propertyGetter(RED, node, value, type, Date.now);
        } catch (err) {
          throw new TwinError('BAD_CONFIG', `${f}: ${(err as Error).message}`);
        }
        origins[f] = getters[f].label;
        anyAsync ||= getters[f].async;
        // a path into the payload (`payload.value`) needs JSON text from `mqtt in` parsed first
        if (type === 'msg' && /^(msg\.)?payload[.[]/.test(value.trim())) parsePayload = true;
      }
      setOutput = messageSetter(RED.util, String(def.output ?? '').trim() || 'payload');
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    let total = 0;
    let notGood = 0;
    const status = new ThrottledStatus(node, () => ({
      text: t('status.counts', { total: compactCount(total), flagged: compactCount(notGood) }),
      warn: false,
    }));
    statusIdle(node, t('status.ready'));

    const emit = (msg: NodeMessageInFlow, f: MessageFields, send: (m: NodeMessage) => void, done: (err?: Error) => void): void => {
      let r: Reading;
      try {
        r = readingFromFields(config, f, Date.now(), origins);
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      total++;
      if (r.quality !== 'good') notGood++;
      const out = msg as NodeMessage;
      setOutput(out, r);
      out.topic = readingTopic(r);
      send(out);
      status.changed();
      done();
    };

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      try {
        if (parsePayload) msg.payload = parseJsonText(msg.payload, 'msg.payload');
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      const m = msg as NodeMessage;
      if (!anyAsync) {
        const f = {} as MessageFields;
        for (const k of FIELDS) f[k] = getters[k].get(m);
        emit(msg, f, send, done);
        return;
      }
      Promise.all(FIELDS.map((k) => getters[k].get(m))).then(
        (vals) => emit(msg, Object.fromEntries(FIELDS.map((k, i) => [k, vals[i]])) as unknown as MessageFields, send, done),
        (err: Error) => {
          const e = new TwinError('BAD_PAYLOAD', `JSONata: ${err.message}`, { cause: err });
          status.error(e);
          done(e);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-reading', TwinReadingNode);
}
