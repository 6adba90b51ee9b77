import type { Node } from 'node-red';

/**
 * The status vocabulary every TwinLoop node uses (as Node-RED's core MQTT node does):
 * green dot = working, yellow ring = connecting or degraded, red ring = error, grey = idle.
 * Text is kept under 20 characters so it fits under a node in the editor.
 */
export const MAX_STATUS_CHARS = 19;

function short(text: string): string {
  return text.length > MAX_STATUS_CHARS ? text.slice(0, MAX_STATUS_CHARS - 1) + '…' : text;
}

export function statusOk(node: Node, text: string): void {
  node.status({ fill: 'green', shape: 'dot', text: short(text) });
}
export function statusWarn(node: Node, text: string): void {
  node.status({ fill: 'yellow', shape: 'ring', text: short(text) });
}
export function statusError(node: Node, text: string): void {
  node.status({ fill: 'red', shape: 'ring', text: short(text) });
}
export function statusIdle(node: Node, text: string): void {
  node.status({ fill: 'grey', shape: 'ring', text: short(text) });
}
export function statusClear(node: Node): void {
  node.status({});
}

/** The error's code for a status line (`NOT_NUMERIC`), else its first words. */
export function errorStatusText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code.toLowerCase().replace(/_/g, ' ');
  return String(e?.message ?? err);
}
