/**
 * For the maintenance-approval page specs: the real twin-approval node in maintenance mode with its
 * twin-ledger (ledger under the user dir, key from the env var the approvals server sets), deployed
 * through Node-RED's own admin API into the approvals server (test/support/approvals-server.ts).
 * `POST <httpNodeRoot>/test/maintenance` hands it a MaintenanceProposal as a flow would; every
 * MaintenanceOrder it sends on output 1 is kept, and `GET <httpNodeRoot>/test/orders` lists them.
 */
import { SIGNING_KEY_ENV, USERS, login, type TestUser } from './approvals-gate.js';
import { waitFor } from './ports.js';
import { M_ASSET } from './maintenance-proposal.js';

export const M_GATE_ID = 'maintenance1';
export const M_GATE_NAME = 'Extruder maintenance (real gate)';
/** Windows above this expected cost need two approvers. */
export const TWO_PERSON_ABOVE_EUR = 5000;

/** The approvals page's users plus an editor admin who may deploy flows. */
export const ADMIN: TestUser = { username: 'admin', password: 'admin-pass', permissions: '*' };
export const M_USERS: TestUser[] = [...USERS, ADMIN];

export function maintenanceFlow(): unknown[] {
  const z = 'maintenance-tab';
  return [
    { id: z, type: 'tab', label: 'maintenance approvals test' },
    { id: 'mled', type: 'twin-ledger', name: 'maintenance ledger', path: '', signingKeyEnv: SIGNING_KEY_ENV },
    {
      id: M_GATE_ID,
      type: 'twin-approval',
      z,
      name: M_GATE_NAME,
      mode: 'maintenance',
      asset: M_ASSET,
      twoPersonAboveEur: String(TWO_PERSON_ABOVE_EUR),
      ledger: 'mled',
      wires: [['keep-order'], []],
    },
    { id: 'm-in', type: 'http in', z, url: '/test/maintenance', method: 'post', wires: [[M_GATE_ID, 'm-ok']] },
    { id: 'm-ok', type: 'http response', z, statusCode: '204', wires: [] },
    {
      id: 'keep-order',
      type: 'function',
      z,
      name: 'keep orders',
      outputs: 0,
      func: "const all = global.get('orders') || []; all.push({ topic: msg.topic, replay: msg.replay === true, order: msg.payload }); global.set('orders', all); return null;",
    },
    { id: 'orders-in', type: 'http in', z, url: '/test/orders', method: 'get', wires: [['orders-out']] },
    {
      id: 'orders-out',
      type: 'function',
      z,
      outputs: 1,
      func: "msg.payload = global.get('orders') || []; return msg;",
      wires: [['orders-res']],
    },
    { id: 'orders-res', type: 'http response', z, statusCode: '200', wires: [] },
  ];
}

/** Deploy the flow as the editor does (full deploy, admin login) and wait for the gate to register. */
export async function deployMaintenanceFlow(url: string): Promise<void> {
  const token = await login(url, ADMIN.username, ADMIN.password);
  const res = await fetch(`${url}flows`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'Node-RED-API-Version': 'v1',
      'Node-RED-Deployment-Type': 'full',
    },
    body: JSON.stringify(maintenanceFlow()),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`deploying the maintenance flow: HTTP ${res.status} ${await res.text()}`);
  const gates = () =>
    fetch(`${url}twinloop/approvals/api/gates`, { headers: { authorization: `Bearer ${token}` } }).then(
      (r) => r.json() as Promise<{ gates: Array<{ id: string }> }>,
    );
  await waitFor(
    async () => (await gates()).gates.some((g) => g.id === M_GATE_ID),
    30_000,
    100,
    'the maintenance twin-approval to register',
  );
}

export const postProposal = (url: string, payload: unknown): Promise<Response> =>
  fetch(`${url}api/test/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

export const orders = (
  url: string,
): Promise<Array<{ topic: string; replay: boolean; order: import('../../runtime/model/maintenance.js').MaintenanceOrder }>> =>
  fetch(`${url}api/test/orders`).then((r) => r.json() as never);
