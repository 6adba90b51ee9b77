/**
 * Replay mode for ingestion nodes: while `twinloop replay` runs (the replay hub is active), a
 * twin-opcua-in or twin-mqtt-in opens no connection; it joins the hub and sends the readings the
 * hub gives it as its own messages (`msg.topic = <asset>/<tag>`, `msg.payload` = Reading).
 */
import type { Node, NodeMessage } from 'node-red';
import { replayHub } from '../../runtime/replay/hub.js';
import type { Claims } from '../../runtime/replay/claims.js';
import { readingTopic, type Reading } from '../../runtime/model/reading.js';
import { statusOk } from './status.js';

/** True in replay mode (the node must then open no live connection). */
export function inReplay(): boolean {
  return replayHub() !== undefined;
}

/**
 * Join the replay. `unitFor` supplies the unit a live reading would carry (an OPC UA item's unit,
 * say) when the file gives none. Returns false outside replay mode.
 */
export function joinReplay(
  node: Node,
  type: string,
  claims: Claims,
  unitFor?: (asset: string, tag: string) => string | undefined,
): boolean {
  const hub = replayHub();
  if (!hub) return false;
  const leave = hub.register({
    id: node.id,
    type,
    claims,
    deliver(readings: Reading[]) {
      for (const r of readings) {
        // a copy per node: two nodes given the same reading must not share (and mutate) one object
        const payload: Reading = { ...r };
        const unit = payload.unit ?? unitFor?.(r.asset, r.tag);
        if (unit) payload.unit = unit;
        // one send per reading: Node-RED would deep-clone every message after the first of a list
        node.send({ topic: readingTopic(payload), payload } as NodeMessage);
      }
    },
  });
  statusOk(node, 'replay');
  node.on('close', (_removed: boolean, done: () => void) => {
    leave();
    done();
  });
  return true;
}
