/**
 * The check of a `line` field beside a `cluster` field (twin-mqtt-in, twin-opcua-in): with a cluster
 * chosen, a 'site/area/line' id (three non-blank parts, no spaces at their ends); without one, any
 * value. Node-RED calls it with the node as `this`; while the dialog is open the cluster is the one
 * selected there, not yet saved.
 */
export function clusterLineValid(this: { cluster?: string }, v: unknown): boolean {
  const field = document.getElementById('node-input-cluster') as HTMLSelectElement | HTMLInputElement | null;
  const cluster = field ? field.value : this.cluster;
  if (!cluster || cluster === '_ADD_') return true;
  const parts = typeof v === 'string' ? v.split('/') : [];
  return parts.length === 3 && parts.every((p) => p !== '' && p === p.trim());
}
