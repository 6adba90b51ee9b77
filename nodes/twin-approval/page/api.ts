/**
 * The supervisors' page (/twinloop/approvals) and its HTTP API under the Node-RED admin root.
 * Placeholder signature; the page owner fills it in.
 */
import type { NodeAPI } from 'node-red';

let registered = false;

/** Register the page's routes once per runtime (twin-approval calls this at module load). */
export function registerApprovalsPage(RED: NodeAPI): void {
  if (registered) return;
  registered = true;
  void RED;
}
