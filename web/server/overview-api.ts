/**
 * The live overview (`<adminRoot>twinloop/overview`) and its JSON API under the Node-RED admin root,
 * behind the same logins and permission as the supervisors' approvals page (Node-RED's adminAuth,
 * permission twinloop.read; runtime/auth/admin-auth.ts decides):
 *   GET api/data?node=ID&epoch=E&since=REV   what changed in one twin-overview node's store since
 *                                             revision REV, and the pending proposals of every gate
 * Each twin-overview node registers its store here; the page polls every 2 s.
 */
import { randomUUID } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import type { NextFunction, Request, Response } from 'express';
import { gateName, isMaintenanceGate, listAllGates, type AnyGateHandle } from '../../runtime/control/gate-registry.js';
import type { OverviewStore } from '../../runtime/overview/series-store.js';
import { accessRefusal, mergedAdminAuth, requestUser } from '../../runtime/auth/admin-auth.js';
import { READ_PERMISSION } from './approvals-api.js';
import { overviewPageHtml } from './overview-html.js';
import { sendPage } from './send-page.js';

export const OVERVIEW_PATH = '/twinloop/overview';

interface Overview {
  id: string;
  name: string;
  store: OverviewStore;
  /** Changes with every new store (a redeploy): a page holding an older cursor starts afresh. */
  epoch: string;
}

const overviews = new Map<string, Overview>();

export function registerOverview(id: string, name: string, store: OverviewStore): void {
  overviews.set(id, { id, name, store, epoch: randomUUID() });
}

export function unregisterOverview(id: string): void {
  overviews.delete(id);
}

// One set of routes per admin app (a test helper or a restarted embedded runtime gets a new app).
const registeredApps = new WeakSet<object>();

/** Register the page's routes once per runtime (twin-overview calls this at module load). */
export function registerOverviewPage(RED: NodeAPI): void {
  const app = RED.httpAdmin;
  if (!app || registeredApps.has(app)) return;
  registeredApps.add(app);
  const settings = RED.settings as unknown as { adminAuth?: unknown };

  // Node-RED authenticates (bearer token → req.user); the permission '' lets every known user
  // through so that accessRefusal can answer a missing permission with 403 rather than 401.
  const authenticated = RED.auth?.needsPermission ? RED.auth.needsPermission('') : (_q: Request, _s: Response, next: NextFunction) => next();
  const mayRead = (req: Request, res: Response, next: NextFunction) => {
    const refused = accessRefusal(mergedAdminAuth(settings.adminAuth), req as never, READ_PERMISSION);
    if (refused) return void res.status(refused.status).json({ error: refused.error });
    next();
  };

  app.get(OVERVIEW_PATH, (_req: Request, res: Response) => sendPage(res, overviewPageHtml));

  app.get(`${OVERVIEW_PATH}/api/data`, authenticated, mayRead, (req: Request, res: Response) => {
    const nodes = [...overviews.values()].map((o) => ({ id: o.id, name: o.name })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const wanted = typeof req.query.node === 'string' ? req.query.node : '';
    const o = overviews.get(wanted) ?? overviews.get(nodes[0]?.id ?? '');
    const user = requestUser(req as never);
    const base = { nowMs: Date.now(), username: user?.username ?? null, nodes, proposals: pendingProposals() };
    if (!o) return void res.json({ ...base, node: null });
    const since = Number(req.query.since);
    const fresh = req.query.epoch !== o.epoch || !Number.isInteger(since) || since < 0 || since > o.store.rev;
    res.json({ ...base, node: o.id, epoch: o.epoch, full: fresh, ...o.store.changes(fresh ? 0 : since) });
  });
}

/** The proposals waiting for a supervisor, in a few words each (the approvals page has the rest). */
function pendingProposals(): unknown[] {
  const out: unknown[] = [];
  for (const g of listAllGates()) {
    try {
      out.push(...(isMaintenanceGate(g) ? maintenanceProposals(g) : setpointProposals(g)));
    } catch {
      /* a gate that cannot list its proposals now is left out of this poll; the approvals page reports it */
    }
  }
  return out;
}

function approvals(decisions: Array<{ verdict: string }>): number {
  return decisions.filter((d) => d.verdict === 'approve').length;
}

function setpointProposals(g: Exclude<AnyGateHandle, { kind: 'maintenance' }>) {
  return g.views().filter((v) => v.state === 'pending').map((v) => ({
    kind: 'setpoint' as const,
    id: v.proposal.id,
    gateName: gateName(g),
    asset: v.proposal.asset,
    tag: v.proposal.tag,
    unit: v.proposal.unit,
    currentValue: v.proposal.currentValue,
    proposedValue: v.proposal.proposedValue,
    rationale: v.proposal.rationale,
    envelopeOk: v.envelope.ok,
    approvals: approvals(v.decisions),
    requiredApprovals: v.requiredApprovals,
    expiresTsMs: v.proposal.expiresTsMs,
  }));
}

function maintenanceProposals(g: Extract<AnyGateHandle, { kind: 'maintenance' }>) {
  return g.views().filter((v) => v.state === 'pending').map((v) => ({
    kind: 'maintenance' as const,
    id: v.proposal.id,
    gateName: gateName(g),
    asset: v.proposal.asset,
    job: v.proposal.job,
    window: {
      startMs: v.proposal.window.startMs, endMs: v.proposal.window.endMs, startLocal: v.proposal.window.startLocal,
      endLocal: v.proposal.window.endLocal, timeZone: v.proposal.window.timeZone, expectedCostEur: v.proposal.window.expectedCostEur,
    },
    rulMs: v.proposal.rul.rulMs,
    approvals: approvals(v.decisions),
    requiredApprovals: v.requiredApprovals,
    expiresTsMs: v.proposal.expiresTsMs,
  }));
}
