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
  type AutoApprovalPolicy,
  type DecisionRequest,
  type GateHandle,
  type TrendPoint,
} from '../../runtime/control/gate-registry.js';
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
/** Trend points per series sent every poll: enough for a 480 px chart. */
const TREND_POINTS = 240;

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

  app.get(`${base}/api/gates`, ...read, (_req: Request, res: Response) => {
    res.json({ gates: listGates().map(gateSummary) });
  });

  app.get(`${base}/api/proposals`, ...read, (_req: Request, res: Response) => {
    const proposals: unknown[] = [];
    for (const g of listGates()) {
      try {
        if (g.kind === 'maintenance') {
          for (const v of g.views()) proposals.push({ gateId: g.id, gateName: gateName(g), kind: 'maintenance', ...v });
        } else {
          for (const v of g.views())
            proposals.push({
              gateId: g.id,
              gateName: gateName(g),
              kind: 'setpoint',
              ...v,
              trend: { setpoint: thin(v.trend.setpoint), kpi: thin(v.trend.kpi) },
            });
        }
      } catch (err) {
        log('warn', `gate ${g.id}: views failed: ${(err as Error).message}`);
      }
    }
    res.json({ nowMs: Date.now(), proposals });
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
      const gate = findGate(body.gateId);
      if (!gate) return void res.status(404).json({ error: `no approval gate ${body.gateId} is running` });
      // The meaning the supervisor kept or edited; blank = the standard one for the gate's kind (the gate checks its length).
      const meaning =
        typeof body.meaning === 'string' && body.meaning.trim() !== ''
          ? body.meaning.trim()
          : (gate.kind === 'maintenance' ? MAINTENANCE_MEANING : DEFAULT_MEANING)[verdict];
      const request: DecisionRequest = {
        proposalId: body.proposalId,
        verdict,
        user: signer.username,
        printedName: signer.printedName,
        reason: signer.reason,
        meaning,
      };
      const outcome = await gate.decide(request);
      log(
        'info',
        `${signer.username} ${verdict} ${body.proposalId} on gate ${gate.id}: ${outcome.ok ? `ok, now ${outcome.state}` : `refused: ${outcome.error}`}`,
      );
      audit('decide', req, { gateId: gate.id, proposalId: body.proposalId, verdict, ok: outcome.ok, state: outcome.state });
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
      const gate = findGate(body.gateId);
      if (!gate) return void res.status(404).json({ error: `no approval gate ${body.gateId} is running` });
      if (gate.kind === 'maintenance')
        return void res.status(409).json({ error: `gate ${gate.name} decides maintenance windows: it has no auto-approval policy` });
      const outcome = await gate.setAutoApproval(body.enabled, signer.username, signer.reason);
      log(
        'info',
        `${signer.username} switched auto-approval ${body.enabled ? 'on' : 'off'} on gate ${gate.id}: ${outcome.ok ? 'ok' : `refused: ${outcome.error}`}`,
      );
      audit('auto-approval', req, { gateId: gate.id, enabled: body.enabled, ok: outcome.ok });
      if (!outcome.ok) return void res.status(409).json({ error: outcome.error ?? 'the gate refused the change' });
      res.json({ ok: true, autoApproval: policyOf(gate) });
    })().catch((err) => serverError(res, err));
  });

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

/** A gate as GET api/gates lists it (web/client/approvals-types.ts Gate). */
function gateSummary(g: GateHandle) {
  if (g.kind === 'maintenance')
    return {
      id: g.id,
      kind: 'maintenance' as const,
      name: gateName(g),
      asset: g.asset,
      // JSON has no Infinity: null = the two-person rule is off.
      twoPersonAboveEur: Number.isFinite(g.twoPersonAboveEur) ? g.twoPersonAboveEur : null,
      ...(g.alarm ? { alarm: g.alarm } : {}),
    };
  return {
    id: g.id,
    kind: 'setpoint' as const,
    name: gateName(g),
    asset: g.asset,
    tag: g.tag,
    unit: g.envelope?.unit,
    envelopeVersion: g.envelopeVersion,
    envelope: g.envelope,
    // JSON has no Infinity: null = the two-person rule is off.
    twoPersonAboveStep: Number.isFinite(g.twoPersonAboveStep) ? g.twoPersonAboveStep : null,
    autoApproval: policyOf(g),
    // the gate could not start on its ledger and refuses to act: why, and what to do
    ...(g.alarm ? { alarm: g.alarm } : {}),
  };
}

/** The gate's policy; a handle from before `configured` existed is read by the old convention (a band > 0). */
function policyOf(g: GateHandle<'setpoint'>): AutoApprovalPolicy {
  const p = g.autoApproval();
  return typeof p.configured === 'boolean' ? p : { ...p, configured: p.maxStep > 0 };
}

/** At most TREND_POINTS points, evenly picked, the newest always kept. */
function thin(points: TrendPoint[]): TrendPoint[] {
  if (points.length <= TREND_POINTS) return points;
  const every = points.length / TREND_POINTS;
  const out: TrendPoint[] = [];
  for (let i = 0; i < TREND_POINTS - 1; i++) out.push(points[Math.floor(i * every)]);
  out.push(points[points.length - 1]);
  return out;
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
