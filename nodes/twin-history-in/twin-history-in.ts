/**
 * twin-history-in: a time range of one measurement back from InfluxDB into the flow as TwinLoop
 * records, in time order: one message per record, or one message with the array.
 * The request comes from msg.payload ({ measurement | kind, asset?, tag?, fromMs, toMs, limit? }),
 * falling back field by field to the node's config; without fromMs/toMs the node's range ends now.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { checkMeasurement } from '../../runtime/store/influx-points.js';
import { historyRequest, MAX_HISTORY_LIMIT } from '../../runtime/store/influx-query.js';
import { refuseInputs } from '../shared/adapter.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import { translator } from '../shared/i18n.js';
import type { TwinInfluxConfigApi } from '../twin-influx-config/influx-config.js';

interface TwinHistoryInDef {
  id: string;
  influx: string;
  measurement: string;
  asset: string;
  tag: string;
  rangeMs: number | string;
  limit: number | string;
  output: 'each' | 'array';
}

export default function (RED: NodeAPI): void {
  function TwinHistoryInNode(this: Node, def: TwinHistoryInDef): void {
    RED.nodes.createNode(this, def as never);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-history-in');
    const config = RED.nodes.getNode(def.influx) as TwinInfluxConfigApi | null;
    const output = def.output || 'each';
    const rangeMs = def.rangeMs === undefined || def.rangeMs === '' ? 0 : Number(def.rangeMs);
    const limit = def.limit === undefined || def.limit === '' ? 10_000 : Number(def.limit);
    try {
      if (!config) throw new TwinError('BAD_CONFIG', 'no twin-influx-config selected');
      if (config.configError) throw new TwinError('BAD_CONFIG', config.configError);
      if (output !== 'each' && output !== 'array')
        throw new TwinError('BAD_CONFIG', `output must be 'each' or 'array', not '${String(output)}'`);
      if (!Number.isInteger(rangeMs) || rangeMs < 0)
        throw new TwinError('BAD_CONFIG', `rangeMs must be a whole number ≥ 0, not ${String(def.rangeMs)}`);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
        throw new TwinError('BAD_CONFIG', `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}, not ${String(def.limit)}`);
      if (def.measurement) checkMeasurement(String(def.measurement).trim(), 'BAD_CONFIG');
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const cfg = config!;
    statusIdle(node, t('status.ready'));

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | NodeMessage[][]) => void, done: (err?: Error) => void) => {
      let req;
      try {
        const p = msg.payload;
        const input = p !== null && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p) ? (p as Record<string, unknown>) : {};
        const nowMs = Date.now();
        req = historyRequest(input, {
          measurement: String(def.measurement ?? '').trim(),
          asset: String(def.asset ?? '').trim(),
          tag: String(def.tag ?? '').trim(),
          limit,
          ...(rangeMs > 0 ? { fromMs: nowMs - rangeMs, toMs: nowMs } : {}),
        });
      } catch (err) {
        statusError(node, errorStatusText(err));
        done(err as Error);
        return;
      }
      statusWarn(node, t('status.querying'));
      cfg.query(req).then(
        (records) => {
          if (output === 'array') {
            const out = msg as NodeMessage;
            out.topic = req.measurement;
            out.payload = records;
            send(out);
          } else if (records.length > 0) {
            const { _msgid: _, ...rest } = msg as NodeMessage & { _msgid?: string };
            send([
              records.map((r) => ({
                ...rest,
                topic: typeof r.tag === 'string' ? `${String(r.asset)}/${r.tag}` : String(r.asset),
                payload: r,
              })),
            ]);
          }
          (records.length === req.limit ? statusWarn : statusOk)(
            node,
            t(records.length === req.limit ? 'status.limited' : 'status.records', { n: records.length }),
          );
          done();
        },
        (err: Error) => {
          statusError(node, errorStatusText(err));
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => done());
  }

  RED.nodes.registerType('twin-history-in', TwinHistoryInNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
