/**
 * twin-overview: the live overview page (`<adminRoot>twinloop/overview`) of whatever TwinLoop records
 * are wired into it. Thin adapter over runtime/overview/series-store.ts: every record is merged into
 * a bounded, thinned store that the page polls (web/server/overview-api.ts). No outputs.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { OverviewStore } from '../../runtime/overview/series-store.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { statusIdle } from '../shared/status.js';
import { registerOverview, registerOverviewPage, unregisterOverview } from '../../web/server/overview-api.js';

export interface TwinOverviewDef extends NodeDef {
  windowMin?: string | number;
  pointsPerSeries?: string | number;
  maxSeries?: string | number;
}

/** A blank field is the default; anything else must be a number. */
function numberOr(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined || raw === null || String(raw).trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new TwinError('BAD_CONFIG', `${name} must be a number, got '${String(raw)}'`);
  return n;
}

export default function (RED: NodeAPI): void {
  registerOverviewPage(RED);
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-overview');

  function TwinOverviewNode(this: Node, def: TwinOverviewDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let store: OverviewStore;
    try {
      store = new OverviewStore({
        windowMs: Math.round(numberOr(def.windowMin, 'windowMin', 60) * 60_000),
        pointsPerSeries: numberOr(def.pointsPerSeries, 'pointsPerSeries', 240),
        maxSeries: numberOr(def.maxSeries, 'maxSeries', 500),
      });
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    let records = 0;
    let ignored = 0;
    const status = new ThrottledStatus(node, () => ({
      text: t('status.counts', { series: store.seriesCount, records: compactCount(records) }),
      warn: ignored > 0 && records === 0,
    }));

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      let result;
      try {
        result = store.add(msg.payload);
      } catch (err) {
        status.error(err);
        done(err as Error);
        return;
      }
      // Other kinds (anomaly scores, proposals, ...) may share a wildcard subscription: not drawn, not an error.
      if (result === 'ignored') ignored++;
      else records++;
      status.changed();
      done();
    });

    registerOverview(node.id, def.name || t('defaultName'), store);
    statusIdle(node, t('status.waiting'));

    node.on('close', (_removed: boolean, done: () => void) => {
      unregisterOverview(node.id);
      status.close();
      done();
    });
  }

  RED.nodes.registerType('twin-overview', TwinOverviewNode as never);
}
