/**
 * The live overview (`<adminRoot>twinloop/overview`) and its JSON API under the Node-RED admin root,
 * behind the same logins and permission as the supervisors' approvals page (Node-RED's adminAuth,
 * permission twinloop.read; runtime/auth/admin-auth.ts decides):
 *   GET api/data?node=ID&epoch=E&since=REV   what changed in one twin-overview node's store since
 *                                             revision REV, and the pending proposals of every gate
 *                                             and the alarms of every twin-alarm node
 *   POST api/alarm  {sourceId, alarmId, action: ack|shelve|unshelve, reason?, durationMs?}
 *                   an operator's action on an alarm, as the logged-in user (permission twinloop.ack to
 *                   acknowledge, twinloop.shelve to shelve, unshelve and acknowledge); answered once
 *                   the twin-alarm has recorded it (its ledger, if it has one)
 * Each twin-overview node registers its store here; the page polls every 2 s. Alarms reach the page
 * as proposals do: through the handles their nodes register (runtime/alarm/alarm-registry.ts).
 * CSRF: the API takes the bearer token from the Authorization header (the page keeps it in
 * sessionStorage), never from a cookie, and POST wants a JSON body: another site's page cannot post
 * as the user.
 */
import { randomUUID } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import type { NextFunction, Request, Response } from 'express';
import { listGates } from '../../runtime/control/gate-registry.js';
import { gateViews, type GateView } from '../../runtime/control/gate-summary.js';
import type { ClusterListing } from '../../runtime/cluster/gate-wire.js';
import type { RemoteGates } from '../../runtime/cluster/remote-gates.js';
import type { OverviewStore } from '../../runtime/overview/series-store.js';
import { accessRefusal, hasPermission, mergedAdminAuth, requestScope, requestUser } from '../../runtime/auth/admin-auth.js';
import { ActionRate, alarmRows, parseAlarmAction } from '../../runtime/alarm/alarm-actions.js';
import { findAlarmSource, listAlarmSources } from '../../runtime/alarm/alarm-registry.js';
import { READ_PERMISSION, clusterView } from './approvals-api.js';
import { overviewPageHtml } from './overview-html.js';
import { sendPage } from './send-page.js';

export const OVERVIEW_PATH = '/twinloop/overview';
/** Acknowledge an alarm (operators). */
export const ACK_PERMISSION = 'twinloop.ack';
/** Shelve and unshelve alarms, and acknowledge them (supervisors: shelving hides an alarm for hours). */
export const SHELVE_PERMISSION = 'twinloop.shelve';

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
  const authenticated = RED.auth?.needsPermission
    ? RED.auth.needsPermission('')
    : (_q: Request, _s: Response, next: NextFunction) => next();
  const mayRead = (req: Request, res: Response, next: NextFunction) => {
    const refused = accessRefusal(mergedAdminAuth(settings.adminAuth), req as never, READ_PERMISSION);
    if (refused) return void res.status(refused.status).json({ error: refused.error });
    next();
  };

  const log = (level: 'info' | 'warn', text: string) => RED.log[level](`[twinloop overview] ${text}`);
  // Node-RED's audit log (settings logging.*.audit) adds the user, path and address; never the body.
  const audit = (event: string, req: Request, extra: Record<string, unknown> = {}) =>
    (RED.log as unknown as { audit?: (msg: object, req: Request) => void }).audit?.({ event: `twinloop.alarms.${event}`, ...extra }, req);
  const rate = new ActionRate();

  /** What the logged-in user may do with alarms (nothing without adminAuth: an action needs a name). */
  const alarmRights = (req: Request): { ack: boolean; shelve: boolean } => {
    const user = requestUser(req as never);
    if (!mergedAdminAuth(settings.adminAuth) || !user || user.anonymous) return { ack: false, shelve: false };
    const scope = requestScope(req as never);
    const shelve = hasPermission(scope, SHELVE_PERMISSION);
    return { ack: shelve || hasPermission(scope, ACK_PERMISSION), shelve };
  };

  app.get(OVERVIEW_PATH, (_req: Request, res: Response) => sendPage(res, overviewPageHtml));

  app.get(`${OVERVIEW_PATH}/api/data`, authenticated, mayRead, (req: Request, res: Response) => {
    const nodes = [...overviews.values()]
      .map((o) => ({ id: o.id, name: o.name }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const wanted = typeof req.query.node === 'string' ? req.query.node : '';
    const o = overviews.get(wanted) ?? overviews.get(nodes[0]?.id ?? '');
    const user = requestUser(req as never);
    const alarms = alarmsOf(alarmRights(req));
    // in a cluster the other instances' pending proposals too (runtime/cluster/remote-gates.ts)
    void clusterView(log).then(
      ({ remote, listing }) => {
        const base = {
          nowMs: Date.now(),
          username: user?.username ?? null,
          nodes,
          proposals: pendingProposals(remote, listing),
          ...alarms,
        };
        if (!o) return void res.json({ ...base, node: null });
        const since = Number(req.query.since);
        const fresh = req.query.epoch !== o.epoch || !Number.isInteger(since) || since < 0 || since > o.store.rev;
        res.json({ ...base, node: o.id, epoch: o.epoch, full: fresh, ...o.store.changes(fresh ? 0 : since) });
      },
      (err: Error) => {
        log('warn', `overview data failed: ${err.message}`);
        if (!res.headersSent) res.status(500).json({ error: 'the server could not answer: see the Node-RED log' });
      },
    );
  });

  app.post(`${OVERVIEW_PATH}/api/alarm`, authenticated, mayRead, (req: Request, res: Response) => {
    void (async () => {
      if (!mergedAdminAuth(settings.adminAuth)) {
        const error = "alarm actions need Node-RED adminAuth: without logins an action cannot be recorded under a user's own name";
        return void res.status(403).json({ error });
      }
      const user = requestUser(req as never);
      if (!user || user.anonymous) return void res.status(403).json({ error: 'an anonymous user cannot act on alarms' });
      if (!req.is('application/json')) return void res.status(415).json({ error: 'send the action as application/json' });
      const body = req.body as Record<string, unknown> | undefined;
      const action = body?.action;
      const rights = alarmRights(req);
      const needed = action === 'ack' ? ACK_PERMISSION : SHELVE_PERMISSION;
      if (!(action === 'ack' ? rights.ack : rights.shelve)) {
        log('warn', `${user.username} lacks ${needed} (alarm ${String(action)})`);
        audit('permission.fail', req, { permissions: needed });
        const what = action === 'ack' ? 'acknowledge alarms' : 'shelve or unshelve alarms';
        return void res.status(403).json({ error: `user ${user.username} may not ${what}: that needs the permission ${needed}` });
      }
      const source = typeof body?.sourceId === 'string' ? findAlarmSource(body.sourceId) : undefined;
      if (typeof body?.sourceId === 'string' && !source) {
        return void res.status(404).json({ error: `no twin-alarm node ${body.sourceId} is running` });
      }
      const parsed = parseAlarmAction(body, user.username, source?.maxShelveMs ?? 0);
      if ('error' in parsed) return void res.status(parsed.status).json({ error: parsed.error });
      const waitMs = rate.take(user.username, Date.now());
      if (waitMs > 0) {
        res.set('Retry-After', String(Math.ceil(waitMs / 1000)));
        return void res.status(429).json({ error: `too many alarm actions: try again in ${Math.ceil(waitMs / 1000)} s` });
      }
      const { sourceId: _s, ...request } = parsed.ok;
      const outcome = await source!.act(request);
      const result = outcome.ok ? `ok, ${outcome.events.length} events` : `refused: ${outcome.error}`;
      log('info', `${user.username} ${request.action} ${request.alarmId} on ${source!.id}: ${result}`);
      audit(request.action, req, { sourceId: source!.id, alarmId: request.alarmId, ok: outcome.ok });
      if (outcome.notRecorded) return void res.status(500).json({ error: outcome.error });
      if (!outcome.ok) return void res.status(409).json({ error: outcome.error ?? 'the alarm node refused the action' });
      const last = outcome.events[outcome.events.length - 1];
      res.json({ ok: true, user: user.username, changed: outcome.events.length > 0, state: last?.state, events: outcome.events });
    })().catch((err) => {
      log('warn', `alarm action failed: ${(err as Error)?.message ?? err}`);
      if (!res.headersSent) res.status(500).json({ error: 'the server could not answer: see the Node-RED log' });
    });
  });
}

/** The alarms of every twin-alarm node, what the user may do, and each node's longest shelving. */
function alarmsOf(rights: { ack: boolean; shelve: boolean }) {
  const sources = listAlarmSources();
  let alarms: unknown[] = [];
  try {
    alarms = alarmRows(sources);
  } catch {
    /* a node that cannot list its alarms now is left out of this poll */
  }
  return {
    alarms,
    alarmSources: sources.map((s) => ({ id: s.id, name: s.name, maxShelveMs: s.maxShelveMs, recordedIn: s.recordedIn ? 'ledger' : 'log' })),
    alarmRights: rights,
  };
}

/**
 * The proposals waiting for a supervisor, in a few words each (the approvals page has the rest): this
 * process's gates, and in a cluster the other instances' (each row then names the instance serving it).
 */
function pendingProposals(remote: RemoteGates | undefined, listing: ClusterListing | undefined): unknown[] {
  const out: unknown[] = [];
  for (const g of listGates()) {
    if (remote && !remote.servesLocally(g)) continue; // its line is another instance's now: listed from there
    try {
      const at = remote ? { instance: remote.instance } : {};
      out.push(...gateViews(g).flatMap((v) => pendingRow(v, at)));
    } catch {
      /* a gate that cannot list its proposals now is left out of this poll; the approvals page reports it */
    }
  }
  for (const g of listing?.gates ?? []) out.push(...g.views.flatMap((v) => pendingRow(v, { instance: g.instance })));
  return out;
}

function approvals(decisions: Array<{ verdict: string }>): number {
  return decisions.filter((d) => d.verdict === 'approve').length;
}

/** One pending proposal's row (none for a decided or ended one). */
function pendingRow(v: GateView, at: { instance?: string }): unknown[] {
  if (v.state !== 'pending') return [];
  if (v.kind === 'setpoint')
    return [
      {
        kind: 'setpoint' as const,
        id: v.proposal.id,
        gateName: v.gateName,
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
        ...at,
      },
    ];
  return [
    {
      kind: 'maintenance' as const,
      id: v.proposal.id,
      gateName: v.gateName,
      asset: v.proposal.asset,
      job: v.proposal.job,
      window: {
        startMs: v.proposal.window.startMs,
        endMs: v.proposal.window.endMs,
        startLocal: v.proposal.window.startLocal,
        endLocal: v.proposal.window.endLocal,
        timeZone: v.proposal.window.timeZone,
        expectedCostEur: v.proposal.window.expectedCostEur,
      },
      rulMs: v.proposal.rul.rulMs,
      approvals: approvals(v.decisions),
      requiredApprovals: v.requiredApprovals,
      expiresTsMs: v.proposal.expiresTsMs,
      ...at,
    },
  ];
}
