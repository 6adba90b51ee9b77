/**
 * twin-rul: remaining useful life per asset from a model file written by `twinloop fit --kind rul`.
 * Thin adapter over runtime/maintenance/rul-tracker.ts: Readings in (the tag names the model's
 * channel), a RulEstimate out per completed history row; a maintenance message resets the asset.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { singleReadingInput } from '../../runtime/model/reading.js';
import { rulModelFromText } from '../../runtime/maintenance/rul-json.js';
import { RulTracker } from '../../runtime/maintenance/rul-tracker.js';
import { translator } from '../shared/i18n.js';
import { statusIdle, statusOk } from '../shared/status.js';
import { ThrottledStatus, compactCount, refuseInputs } from '../shared/adapter.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';

export interface TwinRulDef extends NodeDef {
  modelPath: string;
  assetFrom?: string;
  /** Message property the Reading is read from; blank = payload. */
  property?: string;
  rowIntervalMs?: string | number;
  emitEveryRows?: string | number;
}

/** A blank config field is undefined; anything else must be a number. */
function optionalNumber(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new TwinError('BAD_CONFIG', `${name} must be a number, got '${String(raw)}'`);
  return n;
}

export default function (RED: NodeAPI): void {
  function TwinRulNode(this: Node, def: TwinRulDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-rul');

    let tracker: RulTracker;
    let assetFrom: string;
    let getInput: (msg: NodeMessage) => unknown;
    try {
      getInput = messageGetter(RED.util, propertyPath(def.property));
      const raw = String(def.modelPath ?? '').trim();
      if (raw === '') throw new TwinError('BAD_CONFIG', 'no model file: set Model file to the JSON written by twinloop fit');
      // relative paths are the user directory's, so a flow moves between sites with its models
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
      const path = isAbsolute(raw) ? raw : resolve(userDir, raw);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new TwinError(
          'MODEL',
          `cannot read the model file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      const model = rulModelFromText(text, path);
      const rowIntervalMs = optionalNumber(def.rowIntervalMs, 'rowIntervalMs');
      tracker = new RulTracker(model, {
        rowIntervalMs: rowIntervalMs === 0 ? undefined : rowIntervalMs,
        emitEveryRows: optionalNumber(def.emitEveryRows, 'emitEveryRows') ?? 1,
      });
      assetFrom = String(def.assetFrom ?? '').trim() || 'payload.asset';
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }

    let total = 0;
    let uncertainSinceStatus = 0;
    const status = new ThrottledStatus(node, () => {
      const warn = uncertainSinceStatus > 0;
      uncertainSinceStatus = 0;
      return { text: t('status.counts', { total: compactCount(total), assets: tracker.assetCount }), warn };
    });
    statusIdle(node, t('status.ready', { channels: tracker.required.length }));
    let droppedWarned = false;

    const fail = (err: unknown, done: (err?: Error) => void) => {
      status.error(err);
      done(err as Error);
    };

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | NodeMessage[][]) => void, done: (err?: Error) => void) => {
      const asset = RED.util.getMessageProperty(msg, assetFrom) as unknown;
      if ((msg as { reset?: unknown }).reset === true || msg.topic === 'maintenance') {
        if (typeof asset !== 'string' || asset === '')
          return fail(new TwinError('BAD_PAYLOAD', t('errors.resetAsset', { from: `msg.${assetFrom}` })), done);
        tracker.reset(asset);
        statusOk(node, t('status.reset', { asset: asset.split('/').pop() ?? asset }));
        return done();
      }
      let result;
      try {
        const reading = singleReadingInput(getInput(msg as NodeMessage), 'twin-rul');
        if (typeof asset !== 'string' || asset === '')
          throw new TwinError('BAD_PAYLOAD', t('errors.noAsset', { from: `msg.${assetFrom}` }));
        result = tracker.push(asset === reading.asset ? reading : { ...reading, asset });
      } catch (err) {
        return fail(err, done);
      }
      if (result.dropped && !droppedWarned) {
        droppedWarned = true; // once: a flow that never sends a channel would otherwise flood the log
        node.warn(result.dropped);
      }
      if (result.estimates.length > 0) {
        total += result.estimates.length;
        if (result.estimates.some((e) => e.quality !== 'good')) uncertainSinceStatus++;
        const msgs = result.estimates.map((e, i) => {
          const m = (i === 0 ? msg : RED.util.cloneMessage(msg)) as NodeMessage;
          m.topic = `${e.asset}/rul`;
          m.payload = e;
          return m;
        });
        send(msgs.length === 1 ? msgs[0] : [msgs]);
        status.changed();
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.close();
      done();
    });
  }
  RED.nodes.registerType('twin-rul', TwinRulNode);
}
