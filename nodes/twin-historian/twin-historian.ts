/**
 * twin-historian: any TwinLoop record (or an array of records) to InfluxDB through the config node's
 * disk buffer. done() only once the points are durable there; the config node's writer sends them in
 * batches, in order, and keeps them while the database is away.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { checkMeasurement, recordToPoint, type InfluxPoint } from '../../runtime/store/influx-points.js';
import type { WriterState } from '../../runtime/store/influx-writer.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { statusError, statusIdle } from '../shared/status.js';
import { translator } from '../shared/i18n.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';
import type { TwinInfluxConfigApi } from '../twin-influx-config/influx-config.js';

interface TwinHistorianDef {
  id: string;
  influx: string;
  measurement: string;
  /** Message property the record (or array of records) is read from; blank = payload. */
  property?: string;
}

/** Largest array of records one message may carry (the whole array is made durable at once). */
const MAX_RECORDS_PER_MSG = 100_000;

export default function (RED: NodeAPI): void {
  function TwinHistorianNode(this: Node, def: TwinHistorianDef): void {
    RED.nodes.createNode(this, def as never);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-historian');
    const config = RED.nodes.getNode(def.influx) as TwinInfluxConfigApi | null;
    const measurement = String(def.measurement ?? '').trim();
    let getInput: (msg: NodeMessage) => unknown;
    try {
      if (!config) throw new TwinError('BAD_CONFIG', 'no twin-influx-config selected');
      if (measurement) checkMeasurement(measurement, 'BAD_CONFIG');
      getInput = messageGetter(RED.util, propertyPath(def.property));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const cfg = config!;
    const opts = { ...cfg.pointOptions(), measurement: measurement || undefined };

    let state: WriterState | 'error' = 'idle';
    let detail = '';
    const status = new ThrottledStatus(node, () => {
      const n = cfg.buffered();
      if (state === 'retrying') return { text: t('status.buffered', { n: compactCount(n) }), warn: true };
      if (n > 0) return { text: t('status.buffered', { n: compactCount(n) }), warn: false };
      return { text: t('status.written', { n: compactCount(cfg.written()) }), warn: false };
    });
    statusIdle(node, t('status.ready'));

    cfg.register(node, (s, d) => {
      state = s;
      detail = d;
      if (s === 'error') statusError(node, t('status.config'));
      else status.changed();
    });

    node.on('input', (msg: NodeMessageInFlow & { kind?: unknown }, _send: unknown, done: (err?: Error) => void) => {
      if (state === 'error') {
        done(new TwinError('BAD_CONFIG', t('errors.notConfigured', { error: detail })));
        return;
      }
      let points: InfluxPoint[];
      try {
        const input = getInput(msg as NodeMessage);
        const records = Array.isArray(input) ? input : [input];
        if (records.length > MAX_RECORDS_PER_MSG)
          throw new TwinError('PAYLOAD_TOO_LARGE', `payload holds ${records.length} records; at most ${MAX_RECORDS_PER_MSG} per message`);
        // All or nothing: a bad record refuses the whole message, so a retry cannot store the rest twice.
        points = records.map((r, i) => {
          try {
            return recordToPoint(r, opts, msg.kind);
          } catch (err) {
            if (!Array.isArray(input)) throw err;
            const e = err as TwinError;
            throw new TwinError(e.code ?? 'BAD_PAYLOAD', `record ${i} of ${records.length}: ${e.message}`);
          }
        });
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      cfg.write(points).then(
        () => {
          status.changed();
          done();
        },
        (err: Error) => {
          status.error(err);
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.close();
      cfg.deregister(node, done);
    });
  }

  RED.nodes.registerType('twin-historian', TwinHistorianNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
