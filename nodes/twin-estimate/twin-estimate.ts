/**
 * twin-estimate: state estimation per asset and tag (Kalman filters, fusion, hybrid physics +
 * regression). Thin adapter: a Subject fed by the input, piped through the runtime operator
 * `estimate` (runtime/estimate/); each accepted reading gives at most one Estimate, synchronously,
 * on the same message; a rejected one gives done(err) and a red status.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Subject, type Subscription } from 'rxjs';
import type { Reading } from '../../runtime/model/reading.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { EstimateConfig } from '../../runtime/estimate/config.js';
import type { EstimateOutcome } from '../../runtime/estimate/step.js';
import { estimate } from '../../runtime/estimate/operator.js';
import { configFromDef, readingFromPayload, translator, type TwinEstimateDef } from './estimate-def.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';

/** Status line refresh period: per-message status updates would flood the editor at high rates. */
const STATUS_EVERY_MS = 1000;

function compact(n: number): string {
  return n < 1000 ? String(n) : n < 1e6 ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k` : `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

export default function (RED: NodeAPI): void {
  function TwinEstimateNode(this: Node, def: TwinEstimateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string);

    let config: EstimateConfig;
    try {
      config = configFromDef(def);
    } catch (err) {
      const reason = (err as Error).message;
      node.error(t('errors.config', { error: reason }));
      statusError(node, t('status.config'));
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
        done(new TwinError('BAD_CONFIG', t('errors.notConfigured', { error: reason })));
      });
      return;
    }

    let total = 0;
    let uncertain = 0;
    let uncertainSinceStatus = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    let showingError = false;
    let lastStatusMs = 0;
    const updateStatus = (): void => {
      statusTimer = undefined;
      lastStatusMs = Date.now();
      const text = t('status.counts', { total: compact(total), uncertain: compact(uncertain) });
      if (uncertainSinceStatus > 0) statusWarn(node, text);
      else statusOk(node, text);
      uncertainSinceStatus = 0;
      showingError = false;
    };
    const scheduleStatus = (): void => {
      if (statusTimer !== undefined) return;
      const waitMs = showingError ? STATUS_EVERY_MS : lastStatusMs + STATUS_EVERY_MS - Date.now();
      if (waitMs <= 0) updateStatus();
      else statusTimer = setTimeout(updateStatus, waitMs);
    };
    const showError = (err: unknown): void => {
      showingError = true;
      if (statusTimer !== undefined) {
        clearTimeout(statusTimer);
        statusTimer = undefined;
      }
      statusError(node, errorStatusText(err));
    };
    statusIdle(node, t('status.ready'));

    // The operator answers synchronously: the outcome of `input.next(r)` lands here before next() returns.
    let outcome: EstimateOutcome | undefined;
    const input = new Subject<Reading>();
    const sub: Subscription = input.pipe(estimate(config)).subscribe((o) => {
      outcome = o;
    });

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      let reading: Reading;
      try {
        reading = readingFromPayload(msg.payload);
      } catch (err) {
        showError(err);
        done(err as Error);
        return;
      }
      outcome = undefined;
      input.next(reading);
      const o = outcome as EstimateOutcome | undefined;
      outcome = undefined;
      if (o?.error) {
        showError(o.error);
        done(o.error);
        return;
      }
      if (o?.estimate) {
        const e = o.estimate;
        total++;
        if (e.quality !== 'good') {
          uncertain++;
          uncertainSinceStatus++;
        }
        const out = msg as NodeMessage;
        out.topic = `${e.asset}/${e.tag}`;
        out.payload = e;
        send(out);
        scheduleStatus();
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
  RED.nodes.registerType('twin-estimate', TwinEstimateNode);
}
