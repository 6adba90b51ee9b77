/**
 * Who may publish what on the embedded broker of `twinloop start` (issue 13: a reading published by
 * anyone on the plant network must not pass for the plant's). Two users, each with a password kept in
 * an owner-only file of the home: the simulator publishes the plant (its UNS topics
 * `<asset>/<tag>` and its Sparkplug B births, deaths and data); Node-RED publishes only TwinLoop's
 * own outputs (topics with a `twin` level below the asset: `<asset>/twin/...`) and Sparkplug commands
 * to the edge node (a rebirth request). Nobody connects anonymously; every user may subscribe.
 */

export const SIM_USER = 'plant-sim';
export const NODE_RED_USER = 'node-red';

const SPB_PLANT = new Set(['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA']);
const SPB_COMMANDS = new Set(['NCMD', 'DCMD']);

export interface BrokerAcl {
  /** The plant's UNS asset path (`demo/plant1/extrusion/line1/extruder`). */
  plantAsset: string;
  /** The plant's Sparkplug B group. */
  sparkplugGroup: string;
}

/** Whether `topic` is one of the plant's own (what only the simulator may publish). */
export function isPlantTopic(acl: BrokerAcl, topic: string): boolean {
  const levels = topic.split('/');
  if (levels[0] === 'spBv1.0') return levels[1] === acl.sparkplugGroup && SPB_PLANT.has(levels[2] ?? '');
  const asset = acl.plantAsset.split('/');
  return levels.length > asset.length && asset.every((a, i) => levels[i] === a) && levels[asset.length] !== 'twin';
}

/** A topic TwinLoop's flows publish: a `twin` level after at least one level (`<asset>/twin/<kind>/...`). */
function isTwinOutput(topic: string): boolean {
  const levels = topic.split('/');
  return levels[0] !== 'spBv1.0' && levels.indexOf('twin') >= 1 && !levels.includes('');
}

/** The publish rule: the simulator its plant topics, Node-RED its twin outputs and edge commands, nobody else anything. */
export function mayPublish(acl: BrokerAcl, user: string | undefined, topic: string): boolean {
  if (user === SIM_USER) return isPlantTopic(acl, topic);
  if (user === NODE_RED_USER) {
    const levels = topic.split('/');
    if (levels[0] === 'spBv1.0') return levels[1] === acl.sparkplugGroup && SPB_COMMANDS.has(levels[2] ?? '');
    return isTwinOutput(topic) && !isPlantTopic(acl, topic);
  }
  return false;
}
