/**
 * A guard in front of Node-RED's login (`POST <adminRoot>auth/token`), installed as the
 * `httpAdminMiddleware` setting (twinloop start does; see SECURITY.md for a settings.js of your
 * own). Node-RED itself refuses every login of a user name for 10 minutes after 5 attempts, from
 * anyone: a stranger could lock a supervisor out of approvals. Here instead:
 *   - attempts are throttled by source address with a growing delay (SourceThrottle), never by name;
 *   - the password is checked here first (as Node-RED would: verifyPassword); a wrong one is answered
 *     here and never reaches Node-RED, so its per-name counter only ever sees right passwords (and a
 *     successful login clears it).
 * Logins adminAuth cannot check here (an OAuth strategy, no users) pass through unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyPassword, type AdminAuth, type PasswordCheck } from '../../runtime/auth/admin-auth.js';
import { SourceThrottle, sourceOfAddress } from '../../runtime/auth/source-throttle.js';

/** Larger login bodies are not logins: refused before parsing. */
const MAX_BODY_BYTES = 16 * 1024;

type Req = IncomingMessage & { body?: unknown; _body?: boolean; path?: string };
type Res = ServerResponse & { status?: (n: number) => Res; json?: (b: unknown) => void };

export interface LoginThrottleOptions {
  throttle?: SourceThrottle;
  nowMs?: () => number;
  /** The password check (default: verifyPassword against adminAuth); injectable to count checks. */
  check?: (auth: AdminAuth, username: string, password: string) => Promise<PasswordCheck>;
  /** Told of each refused or failed attempt (source, user name as typed): for the log. */
  onFailure?: (source: string, username: string, waitMs: number) => void;
}

function send(res: Res, status: number, body: object, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

function readBody(req: Req): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped (as body-parser does), not the socket destroyed:
    // a client still sending would see a reset instead of the 413.
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text: string, contentType: string | undefined): Record<string, unknown> | undefined {
  try {
    if ((contentType ?? '').includes('application/json')) {
      const j = JSON.parse(text) as unknown;
      return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
    }
    return Object.fromEntries(new URLSearchParams(text));
  } catch {
    return undefined;
  }
}

/** The middleware; `adminAuth` is read per request (settings.adminAuth after Node-RED's merge). */
export function loginThrottle(adminAuth: () => AdminAuth | undefined, opts: LoginThrottleOptions = {}) {
  const throttle = opts.throttle ?? new SourceThrottle();
  const now = opts.nowMs ?? Date.now;
  const check = opts.check ?? verifyPassword;
  return (req: Req, res: Res, next: (err?: unknown) => void): void => {
    const path = req.path ?? (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/auth/token') return next();
    const auth = adminAuth();
    if (!auth || (typeof auth.authenticate !== 'function' && auth.type !== 'credentials')) return next();
    void (async () => {
      const text = await readBody(req);
      if (text === undefined) return send(res, 413, { error: 'invalid_request', error_description: 'request too large' });
      const body = parseBody(text, req.headers['content-type']);
      // Node-RED's body parser skips a request whose body is already parsed
      req.body = body ?? {};
      req._body = true;
      if (!body || body.grant_type !== 'password') return next();
      const username = typeof body.username === 'string' ? body.username : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const source = sourceOfAddress(req.socket?.remoteAddress);
      const waitMs = throttle.begin(source, now());
      if (waitMs > 0) {
        opts.onFailure?.(source, username, waitMs);
        const s = Math.ceil(waitMs / 1000);
        const description = `Too many failed logins from this address: wait ${s} s and try again.`;
        return send(res, 429, { error: 'too_many_attempts', error_description: description }, { 'Retry-After': String(s) });
      }
      let result: PasswordCheck = 'wrong';
      try {
        result = await check(auth, username, password);
      } finally {
        throttle.settle(source, result !== 'wrong', now());
      }
      if (result === 'wrong') {
        opts.onFailure?.(source, username, throttle.waitMs(source, now()));
        return send(res, 403, { error: 'invalid_grant', error_description: 'Login failed: wrong username or password.' });
      }
      next(); // right password (or one adminAuth cannot check here): Node-RED logs in as usual
    })().catch(next);
  };
}
