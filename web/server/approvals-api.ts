/**
 * The supervisors' page (`<adminRoot>twinloop/approvals`) and its JSON API under the Node-RED admin
 * root, protected by Node-RED's own adminAuth:
 *   GET  api/me, api/gates, api/proposals, api/history   permission twinloop.read ('read' users may look)
 *   POST api/decide, api/auto-approval                    permission twinloop.approve + re-entered password + reason
 * With no adminAuth configured every decision is refused: a signature needs a known user.
 * The page and the API see the gates only through runtime/control/gate-registry.ts: setpoint gates
 * and maintenance gates (a GateHandle's `kind`) are listed, shown and decided side by side, with the
 * same logins, permissions and signature.
 */
import { stat } from 'node:fs/promises';
import type { NodeAPI } from 'node-red';
import type { NextFunction, Request, Response } from 'express';
import type { LedgerRecord } from '../../runtime/model/control.js';
import type { LedgerVerification } from '../../runtime/control/stores.js';
import {
  DEFAULT_MEANING,
  MAINTENANCE_MEANING,
  findGate,
  gateName,
  listGates,
  MAX_REASON_CHARS,
  type DecisionOutcome,
  type DecisionRequest,
  type GateHandle,
} from '../../runtime/control/gate-registry.js';
import { gateSummary, gateViews, meaningFor, policyOf, type GateView } from '../../runtime/control/gate-summary.js';
import { remoteGates, type RemoteGates, type RemoteOutcome } from '../../runtime/cluster/remote-gates.js';
import type { ClusterListing } from '../../runtime/cluster/gate-wire.js';
import {
  accessRefusal,
  findAdminUser,
  hasPermission,
  mergedAdminAuth,
  requestScope,
  requestUser,
  printedNameOf,
  verifyPassword,
} from '../../runtime/auth/admin-auth.js';
import { checkWithLimit, PasswordFailures } from '../../runtime/auth/password-failures.js';
import { verifyLedgerFile } from '../../runtime/control/ledger-verify.js';
import { approvalsPageHtml } from './approvals-html.js';
import { sendPage } from './send-page.js';
import { quietErrorHandler } from './http-errors.js';

export const READ_PERMISSION = 'twinloop.read';
export const APPROVE_PERMISSION = 'twinloop.approve';

/** The standard meaning of a signature per verdict (defined with the gates, which record it when none is given). */
export { DEFAULT_MEANING, MAINTENANCE_MEANING };

/** The newest records sent to the history tab per ledger (the file itself keeps them all). */
const HISTORY_LIMIT = 300;

// One set of routes per admin app (a test helper or a restarted embedded runtime gets a new app).
const registeredApps = new WeakSet<object>();

/** Register the page's routes once per runtime (twin-approval calls this at module load). */
export function registerApprovalsPage(RED: NodeAPI): void {
  const app = RED.httpAdmin;
  if (!app || registeredApps.has(app)) return;
  registeredApps.add(app);

  const failures = new PasswordFailures();
  const settings = RED.settings as unknown as { adminAuth?: unknown };
  const adminAuth = () => mergedAdminAuth(settings.adminAuth);
  const log = (level: 'info' | 'warn', text: string) => RED.log[level](`[twinloop approvals] ${text}`);
  // Node-RED's audit log (settings logging.*.audit) adds the user, path and address; never the body.
  const audit = (event: string, req: Request, extra: Record<string, unknown> = {}) =>
    (RED.log as unknown as { audit?: (msg: object, req: Request) => void }).audit?.(
      { event: `twinloop.approvals.${event}`, ...extra },
      req,
    );

  // Node-RED authenticates (bearer token → req.user, 401 without one when adminAuth is on). The
  // permission '' lets every known user through so that *we* can answer a missing permission with
  // 403: Node-RED's own needsPermission would say 401, which reads as "log in again".
  const authenticated = RED.auth?.needsPermission
    ? RED.auth.needsPermission('')
    : (_q: Request, _s: Response, next: NextFunction) => next();

  const requirePermission = (permission: string) => (req: Request, res: Response, next: NextFunction) => {
    // no adminAuth: the editor is open too; decisions are refused below
    const refused = accessRefusal(adminAuth(), req as never, permission);
    if (!refused) return next();
    if (refused.status === 403) {
      log('warn', `${requestUser(req as never)!.username} lacks ${permission} (${req.method} ${req.path})`);
      audit('permission.fail', req, { permissions: permission });
    }
    res.status(refused.status).json({ error: refused.error });
  };

  const refuseWithoutAdminAuth = (_req: Request, res: Response, next: NextFunction) => {
    if (adminAuth()) return next();
    res.status(403).json({
      error:
        "approvals need Node-RED adminAuth: without logins a decision cannot be signed under a user's own name, so every decision is refused",
    });
  };

  const read = [authenticated, requirePermission(READ_PERMISSION)];
  const approve = [refuseWithoutAdminAuth, authenticated, requirePermission(APPROVE_PERMISSION)];
  const base = '/twinloop/approvals';

  app.get(base, (_req: Request, res: Response) => sendPage(res, approvalsPageHtml));

  app.get(`${base}/api/me`, ...read, (req: Request, res: Response) => {
    void (async () => {
      const auth = adminAuth();
      const user = requestUser(req as never);
      const entry = auth && user ? await findAdminUser(auth, user.username).catch(() => undefined) : undefined;
      res.json({
        adminAuth: !!auth,
        username: user?.username ?? null,
        printedName: user ? printedNameOf(entry ?? user, user.username) : null,
        canApprove: !!auth && !!user && !user.anonymous && hasPermission(requestScope(req as never), APPROVE_PERMISSION),
      });
    })().catch((err) => serverError(res, err));
  });

  // In a cluster (runtime/cluster/remote-gates.ts set), every instance's gates: this one's from its
  // registry, the others' over NATS, each marked with the instance that serves it and its line.
  app.get(`${base}/api/gates`, ...read, (_req: Request, res: Response) => {
    void clusterView(log).then(
      ({ remote, listing }) => {
        const mark = (g: GateHandle) => (remote ? { instance: remote.instance, ...(g.line ? { line: g.line } : {}) } : {});
        const local = localGates(remote).map((g) => ({ ...gateSummary(g), ...mark(g) }));
        const others = (listing?.gates ?? []).map((g) => ({
          ...g.summary,
          instance: g.instance,
          remote: true,
          ...(g.line ? { line: g.line } : {}),
        }));
        res.json({ gates: [...local, ...others], ...(listing ? { cluster: clusterSummary(listing) } : {}) });
      },
      (err) => serverError(res, err),
    );
  });

  app.get(`${base}/api/proposals`, ...read, (_req: Request, res: Response) => {
    void clusterView(log).then(
      ({ remote, listing }) => {
        const proposals: GateView[] = [];
        for (const g of localGates(remote)) {
          try {
            proposals.push(...gateViews(g));
          } catch (err) {
            log('warn', `gate ${g.id}: views failed: ${(err as Error).message}`);
          }
        }
        for (const g of listing?.gates ?? []) proposals.push(...g.views);
        res.json({ nowMs: Date.now(), proposals });
      },
      (err) => serverError(res, err),
    );
  });

  app.get(`${base}/api/history`, ...read, (_req: Request, res: Response) => {
    // One entry per ledger, not per gate: gates may share a twin-ledger, and the chain is the file's.
    const byLedger = new Map<string, GateHandle[]>();
    for (const g of listGates()) byLedger.set(g.ledgerLocation, [...(byLedger.get(g.ledgerLocation) ?? []), g]);
    const nodeName = (id: string): string | undefined => {
      const n = RED.nodes?.getNode?.(id) as { name?: unknown } | null | undefined;
      return typeof n?.name === 'string' && n.name.trim() !== '' ? n.name.trim() : undefined;
    };
    void Promise.all([...byLedger.values()].map((gs) => history(gs, nodeName))).then(
      (ledgers) => res.json({ nowMs: Date.now(), ledgers }),
      (err) => serverError(res, err),
    );
  });

  app.post(`${base}/api/decide`, ...approve, (req: Request, res: Response) => {
    void (async () => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const verdict = body.verdict;
      if (verdict !== 'approve' && verdict !== 'reject')
        return void res.status(400).json({ error: 'verdict must be "approve" or "reject"' });
      if (typeof body.gateId !== 'string' || typeof body.proposalId !== 'string')
        return void res.status(400).json({ error: 'gateId and proposalId are required' });
      if (body.meaning !== undefined && typeof body.meaning !== 'string')
        return void res.status(400).json({ error: 'meaning must be text' });
      const signer = await sign(req, res, `${verdict} ${body.proposalId}`);
      if (!signer) return;
      const remote = remoteGates();
      const gate = findGate(body.gateId);
      const request: DecisionRequest = {
        proposalId: body.proposalId,
        verdict,
        user: signer.username,
        printedName: signer.printedName,
        reason: signer.reason,
      };
      let outcome: DecisionOutcome;
      let at = '';
      if (gate && (!remote || remote.servesLocally(gate))) {
        // The meaning the supervisor kept or edited; blank = the standard one for the gate's kind (the gate checks its length).
        outcome = await gate.decide({ ...request, meaning: meaningFor(gate.kind, verdict, body.meaning) });
      } else if (remote) {
        // another instance owns the gate's line: the decision goes there, the line's single writer
        const sent = await remote.decide(body.gateId, {
          ...request,
          ...(typeof body.meaning === 'string' && body.meaning.trim() !== '' ? { meaning: body.meaning.trim() } : {}),
        });
        if (!sent.answered)
          return void refuseRemote(req, res, sent, `${signer.username} ${verdict} ${body.proposalId} on gate ${body.gateId}`);
        outcome = sent.outcome;
        at = ` (decided on instance ${sent.instance})`;
      } else return void res.status(404).json({ error: `no approval gate ${body.gateId} is running` });
      log(
        'info',
        `${signer.username} ${verdict} ${body.proposalId} on gate ${body.gateId}${at}: ${outcome.ok ? `ok, now ${outcome.state}` : `refused: ${outcome.error}`}`,
      );
      audit('decide', req, { gateId: body.gateId, proposalId: body.proposalId, verdict, ok: outcome.ok, state: outcome.state });
      if (!outcome.ok) return void res.status(409).json({ error: outcome.error ?? 'the gate refused the decision', state: outcome.state });
      res.json({ ok: true, state: outcome.state, user: signer.username, printedName: signer.printedName });
    })().catch((err) => serverError(res, err));
  });

  app.post(`${base}/api/auto-approval`, ...approve, (req: Request, res: Response) => {
    void (async () => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body.enabled !== 'boolean') return void res.status(400).json({ error: 'enabled must be true or false' });
      if (typeof body.gateId !== 'string') return void res.status(400).json({ error: 'gateId is required' });
      const signer = await sign(req, res, `auto-approval ${body.enabled ? 'on' : 'off'}`);
      if (!signer) return;
      const remote = remoteGates();
      const gate = findGate(body.gateId);
      if (gate && (!remote || remote.servesLocally(gate))) {
        if (gate.kind === 'maintenance')
          return void res.status(409).json({ error: `gate ${gate.name} decides maintenance windows: it has no auto-approval policy` });
        const outcome = await gate.setAutoApproval(body.enabled, signer.username, signer.reason);
        return void policyAnswer(req, res, signer.username, body.gateId, body.enabled, outcome, () => policyOf(gate));
      }
      if (!remote) return void res.status(404).json({ error: `no approval gate ${body.gateId} is running` });
      const sent = await remote.setAutoApproval(body.gateId, body.enabled, signer.username, signer.reason);
      if (!sent.answered) return void refuseRemote(req, res, sent, `${signer.username} auto-approval on gate ${body.gateId}`);
      policyAnswer(req, res, signer.username, body.gateId, body.enabled, sent.outcome, () => sent.autoApproval);
    })().catch((err) => serverError(res, err));
  });

  function policyAnswer(
    req: Request,
    res: Response,
    username: string,
    gateId: string,
    enabled: boolean,
    outcome: DecisionOutcome,
    policy: () => unknown,
  ): void {
    log(
      'info',
      `${username} switched auto-approval ${enabled ? 'on' : 'off'} on gate ${gateId}: ${outcome.ok ? 'ok' : `refused: ${outcome.error}`}`,
    );
    audit('auto-approval', req, { gateId, enabled, ok: outcome.ok });
    if (!outcome.ok) return void res.status(409).json({ error: outcome.error ?? 'the gate refused the change' });
    res.json({ ok: true, autoApproval: policy() });
  }

  /**
   * No owner answered: 503 when nobody serves the gate (a takeover: nothing was decided, try again),
   * 504 when the request went out and no answer came (it may have been decided: reload first).
   */
  function refuseRemote(req: Request, res: Response, sent: Extract<RemoteOutcome, { answered: false }>, what: string): void {
    log('warn', `${what}: ${sent.error}`);
    audit('remote.fail', req, { why: sent.why });
    if (sent.why === 'no-owner') res.set('Retry-After', '5');
    res.status(sent.why === 'no-owner' ? 503 : 504).json({ error: sent.error, takeover: sent.why === 'no-owner' });
  }

  /**
   * The electronic signature: a non-empty reason and the logged-in user's password again. Answers
   * the request itself (400/401/403/429) and returns undefined when the signature does not hold.
   * The user always comes from the token (req.user), never from the body.
   */
  async function sign(
    req: Request,
    res: Response,
    what: string,
  ): Promise<{ username: string; printedName: string; reason: string } | undefined> {
    const auth = adminAuth()!;
    const user = requestUser(req as never);
    if (!user || user.anonymous) {
      res.status(403).json({ error: 'an anonymous user cannot sign a decision' });
      return undefined;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (!reason) {
      res.status(400).json({ error: 'a reason is required' });
      return undefined;
    }
    if (reason.length > MAX_REASON_CHARS) {
      res.status(400).json({ error: `the reason is longer than ${MAX_REASON_CHARS} characters` });
      return undefined;
    }
    if (typeof body.password !== 'string' || body.password === '') {
      res.status(401).json({ error: 'enter your password to sign' });
      return undefined;
    }
    // the check is reserved before it starts, so parallel wrong passwords cannot get past the limit
    const limited = await checkWithLimit(failures, user.username, Date.now, () =>
      verifyPassword(auth, user.username, body.password as string),
    );
    if ('lockedMs' in limited) {
      res.set('Retry-After', String(Math.ceil(limited.lockedMs / 1000)));
      const wait = limited.lockedMs < 60_000 ? `${Math.ceil(limited.lockedMs / 1000)} s` : `${Math.ceil(limited.lockedMs / 60_000)} min`;
      res.status(429).json({ error: `too many wrong passwords: try again in ${wait}` });
      return undefined;
    }
    if (limited.check === 'unsupported') {
      res.status(403).json({
        error: 'this adminAuth cannot check a password (no credentials users or authenticate function): decisions cannot be signed',
      });
      return undefined;
    }
    if (limited.check === 'wrong') {
      log('warn', `wrong password from ${user.username} signing ${what} (from ${req.ip})`);
      audit('signature.fail', req, { action: what });
      res.status(401).json({ error: 'wrong password: the decision was not recorded' });
      return undefined;
    }
    const entry = await findAdminUser(auth, user.username).catch(() => undefined);
    return { username: user.username, printedName: printedNameOf(entry ?? user, user.username), reason };
  }

  // Errors thrown in the routes of the runtime's admin app (ours among them) answered in one line.
  // body-parser's 413/400 happen in the editor's app before it and never get here: twinloop start
  // answers them with the same handler on its outer app (bin/lib/embedded-node-red.ts); in another
  // Node-RED, NODE_ENV=production keeps Express from printing the stack.
  app.use(quietErrorHandler((text) => log('warn', `request refused: ${text}`)));

  /** The full message goes to the log; the answer names no file, path or stack. */
  function serverError(res: Response, err: unknown): void {
    log('warn', `request failed: ${(err as Error)?.message ?? err}`);
    if (!res.headersSent) res.status(500).json({ error: 'the server could not answer: see the Node-RED log' });
  }
}

/** The local gates the pages show: in a cluster, those this instance serves (a gate whose line it just lost is the new owner's). */
function localGates(remote: RemoteGates | undefined): GateHandle[] {
  return listGates().filter((g) => !remote || remote.servesLocally(g));
}

/** The cluster's listing when a cluster is set; a failed gathering shows the local gates and logs why. */
export async function clusterView(
  log: (level: 'info' | 'warn', text: string) => void,
): Promise<{ remote?: RemoteGates; listing?: ClusterListing }> {
  const remote = remoteGates();
  if (!remote) return {};
  try {
    return { remote, listing: await remote.list() };
  } catch (err) {
    log('warn', `listing the cluster's gates: ${(err as Error).message}`);
    return { remote };
  }
}

/** What the page shows of the cluster: who owns which line, and the lines nobody owns now (a takeover). */
function clusterSummary(l: ClusterListing) {
  return { instance: l.instance, instances: l.instances, owners: l.owners, unowned: l.unowned };
}

interface LedgerHistory {
  ledgerLocation: string;
  /** The gates that write to this ledger (tag: setpoint gates only). */
  gates: Array<{ id: string; kind: 'setpoint' | 'maintenance'; name: string; asset: string; tag?: string }>;
  verification: LedgerVerification | { ok: null; reason: string };
  total: number;
  /** Newest first. */
  records: LedgerRecord[];
  /** Names of the writer nodes (by node id) that appear in `records`, where a name is known. */
  writers: Record<string, string>;
  /** Why the records could not be read. */
  error?: string;
}

/**
 * The names of the writers in write / read-back / refused records (WriteResult.writer is the node
 * id): the History tab shows "write zone3_sp" rather than an id. A writer the runtime no longer
 * has, or one without a name, is left out (the page shows "writer <id>").
 */
export function writerNames(records: LedgerRecord[], nameOf: (id: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of records) {
    const id = (r.data as { writer?: unknown } | null)?.writer;
    if (typeof id !== 'string' || id === '' || id in out) continue;
    const name = nameOf(id);
    if (name) out[id] = name;
  }
  return out;
}

async function history(gates: GateHandle[], nameOf: (id: string) => string | undefined): Promise<LedgerHistory> {
  const location = gates[0].ledgerLocation;
  // A ledger that cannot be read (e.g. a file ledger that refuses an edited file) must not hide the
  // other ledgers or its own chain status: report the error in place of the records.
  let all: LedgerRecord[] = [];
  let error: string | undefined;
  try {
    all = await gates[0].ledgerRecords();
  } catch (err) {
    error = (err as Error)?.message ?? String(err);
  }
  const records = all.slice(-HISTORY_LIMIT).reverse();
  return {
    ledgerLocation: location,
    gates: gates.map((g) =>
      g.kind === 'maintenance'
        ? { id: g.id, kind: 'maintenance' as const, name: gateName(g), asset: g.asset }
        : { id: g.id, kind: 'setpoint' as const, name: gateName(g), asset: g.asset, tag: g.tag },
    ),
    verification: await verification(location),
    total: all.length,
    records,
    writers: writerNames(records, nameOf),
    error,
  };
}

const verified = new Map<string, { key: string; result: LedgerVerification }>();

/**
 * The chain check of the LEDGER part, over the file itself, not over what the gate holds in
 * memory: an edited file must show as broken. Cached per file size and mtime so a 2-second poll
 * does not re-hash an unchanged ledger.
 */
async function verification(location: string): Promise<LedgerVerification | { ok: null; reason: string }> {
  let key: string;
  try {
    const s = await stat(location);
    key = `${s.size}:${s.mtimeMs}`;
  } catch {
    return { ok: null, reason: `no ledger file at ${location}` };
  }
  const hit = verified.get(location);
  if (hit && hit.key === key) return hit.result;
  const { ok, records, firstBad } = await verifyLedgerFile(location);
  const result: LedgerVerification = { ok, records, firstBad };
  verified.set(location, { key, result });
  return result;
}
