/**
 * twin-screen: quality screening of Readings (range, rate, stuck, spike, duplicate/out-of-order/
 * future timestamps, stale). Thin adapter: a Subject fed by the input, piped through the runtime
 * operator `screenReadings` (runtime/ingest/screen/); each input goes out once, screened, and a
 * silent tag produces one `stale` reading of its own.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Subject, asyncScheduler, type Subscription } from 'rxjs';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { ScreenConfig } from '../../runtime/ingest/screen/config.js';
import { screenReadings } from '../../runtime/ingest/screen/operator.js';
import { configFromDef, readingFromPayload, translator, type TwinScreenDef } from './screen-def.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';

/** Status line refresh period: per-message status updates would flood the editor at high rates. */
const STATUS_EVERY_MS = 1000;

function compact(n: number): string {
  return n < 1000 ? String(n) : n < 1e6 ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k` : `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

export default function (RED: NodeAPI): void {
  function TwinScreenNode(this: Node, def: TwinScreenDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);
    const two = def.flaggedOutput === true;

    let config: ScreenConfig;
    try {
      config = configFromDef(def);
    } catch (err) {
      const reason = (err as Error).message;
      node.error(t('errors.config', { error: reason }));
      statusError(node, t('status.config'));
      // Passing readings on unscreened would let bad data look good: refuse each one loudly.
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
        done(new TwinError('BAD_CONFIG', t('errors.notConfigured', { error: reason })));
      });
      return;
    }

    let total = 0;
    let notGood = 0;
    let notGoodSinceStatus = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    let showingError = false;
    let lastStatusMs = 0;
    const updateStatus = (): void => {
      statusTimer = undefined;
      lastStatusMs = Date.now();
      const text = t('status.counts', { total: compact(total), flagged: compact(notGood) });
      if (notGoodSinceStatus > 0) statusWarn(node, text);
      else statusOk(node, text);
      notGoodSinceStatus = 0;
      showingError = false;
    };
    /** At most one status update per STATUS_EVERY_MS; an error stays visible that long. */
    const scheduleStatus = (): void => {
      if (statusTimer !== undefined) return;
      const waitMs = showingError ? STATUS_EVERY_MS : lastStatusMs + STATUS_EVERY_MS - Date.now();
      if (waitMs <= 0) updateStatus();
      else statusTimer = setTimeout(updateStatus, waitMs);
    };
    statusIdle(node, t('status.ready'));

    /** The message being screened right now (the operator answers synchronously); none for stale readings. */
    let current: { msg: NodeMessageInFlow; send: (m: NodeMessage | Array<NodeMessage | null>) => void } | undefined;
    const input = new Subject<Reading>();
    const sub: Subscription = input.pipe(screenReadings(config, asyncScheduler)).subscribe((r) => {
      const bad = r.quality !== 'good';
      total++;
      if (bad) {
        notGood++;
        notGoodSinceStatus++;
      }
      let msg: NodeMessage;
      let send: (m: NodeMessage | Array<NodeMessage | null>) => void;
      if (current) {
        msg = current.msg;
        send = current.send;
        current = undefined;
        msg.payload = r;
        if (typeof msg.topic !== 'string' || msg.topic === '') msg.topic = readingTopic(r);
      } else {
        msg = { topic: readingTopic(r), payload: r }; // a stale reading: nobody's input
        send = (m) => node.send(m);
      }
      send(two ? [msg, bad ? msg : null] : msg);
      scheduleStatus();
    });

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      let reading: Reading;
      try {
        reading = readingFromPayload(msg.payload);
      } catch (err) {
        showingError = true;
        if (statusTimer !== undefined) {
          clearTimeout(statusTimer);
          statusTimer = undefined;
        }
        statusError(node, errorStatusText(err));
        done(err as Error);
        return;
      }
      current = { msg, send };
      try {
        input.next(reading);
      } finally {
        current = undefined;
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      sub.unsubscribe();
      if (statusTimer !== undefined) clearTimeout(statusTimer);
      statusTimer = undefined;
      done();
    });
  }
  RED.nodes.registerType('twin-screen', TwinScreenNode);
}
