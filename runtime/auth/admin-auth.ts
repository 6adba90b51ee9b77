/**
 * Who may look at the supervisors' pages, who may decide, and the re-entered password of an
 * electronic signature. Everything is checked against Node-RED's own `adminAuth` setting: TwinLoop
 * keeps no second user store. The limits on password attempts are in password-failures.ts and
 * source-throttle.ts; the HTTP routes that use all three are the pages' adapters.
 */
import { compare } from 'bcryptjs';

/** A Node-RED adminAuth user entry (as `users` holds it, or as req.user carries it without the hash). */
export interface AdminUser {
  username: string;
  permissions?: string | string[];
  /** TwinLoop's addition: the name printed with a signature (21 CFR Part 11 style). */
  printedName?: string;
  name?: string;
  /** bcrypt hash (only in the settings entry, never on req.user). */
  password?: string;
  /** Node-RED's `default` (anonymous) user. */
  anonymous?: boolean;
}

/** settings.adminAuth after Node-RED's own merge of `adminAuth.module` (editor-api/lib/auth/index.js). */
export interface AdminAuth {
  type?: string;
  users?: AdminUser | AdminUser[] | ((username: string) => Promise<AdminUser | null | undefined>);
  authenticate?: (username: string, password: string) => Promise<AdminUser | null | undefined>;
  [key: string]: unknown;
}

export function mergedAdminAuth(raw: unknown): AdminAuth | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const a = raw as Record<string, unknown>;
  return Object.assign({}, a, (a.module as object | undefined) ?? {}) as AdminAuth;
}

const READ = /^((.+)\.)?read$/;
const WRITE = /^((.+)\.)?write$/;

/**
 * Node-RED's scope rule (editor-api/lib/auth/permissions.js), restated because that file is not a
 * public export: '*' is everything, 'read' / '*.read' match any `x.read`, arrays are "any of".
 * So a plain 'read' user may look (`twinloop.read`) but only '*' or 'twinloop.approve' may decide.
 */
export function hasPermission(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((s) => hasPermission(s, permission));
  if (typeof scope !== 'string') return false;
  if (scope === '*' || scope === permission) return true;
  if (scope === 'read' || scope === '*.read') return READ.test(permission);
  if (scope === 'write' || scope === '*.write') return WRITE.test(permission);
  return false;
}

export function printedNameOf(user: AdminUser | undefined, username: string): string {
  const n = user?.printedName ?? user?.name;
  return typeof n === 'string' && n.trim() !== '' ? n.trim() : username;
}

/** The settings entry of a user (array / single object / lookup function), hash included. */
export async function findAdminUser(auth: AdminAuth, username: string): Promise<AdminUser | undefined> {
  const { users } = auth;
  if (typeof users === 'function') return (await users(username)) ?? undefined;
  const list = Array.isArray(users) ? users : users ? [users] : [];
  return list.find((u) => u && u.username === username);
}

// A valid bcrypt hash of a throw-away password: an unknown user costs as much time as a known one,
// so the response time does not tell which user names exist.
const DUMMY_HASH = '$2b$10$bMZpG4siZAA0bYBwoonqi.NHGbUcI5nnRtWJem5Cn9yUcXC5k4w6C';

export type PasswordCheck = 'ok' | 'wrong' | 'unsupported';

/**
 * Check a re-entered password the way Node-RED's login would: an `authenticate` function if the
 * settings give one, otherwise the user's bcrypt hash. 'unsupported' when adminAuth has no way to
 * check a password (e.g. an OAuth `strategy` login): then nobody can sign on this page.
 */
export async function verifyPassword(auth: AdminAuth, username: string, password: string): Promise<PasswordCheck> {
  if (typeof auth.authenticate === 'function') {
    try {
      const u = await auth.authenticate(username, password);
      return u && (u.username === undefined || u.username === username) ? 'ok' : 'wrong';
    } catch {
      return 'wrong';
    }
  }
  if (auth.type !== 'credentials') return 'unsupported';
  let hash = DUMMY_HASH;
  let known = false;
  try {
    const u = await findAdminUser(auth, username);
    if (u && typeof u.password === 'string') {
      hash = u.password;
      known = true;
    }
  } catch {
    /* a throwing users() lookup is a failed check, not a crash */
  }
  const match = await compare(password, hash).catch(() => false);
  return known && match ? 'ok' : 'wrong';
}

/** What Node-RED's bearer-token authentication leaves on an admin request. */
export interface AuthenticatedRequest {
  user?: AdminUser;
  authInfo?: { scope?: unknown };
}

/** The logged-in user of a request; Node-RED's anonymous `default` user as 'anonymous'. */
export function requestUser(req: AuthenticatedRequest): AdminUser | undefined {
  const u = req.user;
  return u && typeof u.username === 'string' ? u : u?.anonymous ? { ...u, username: 'anonymous' } : undefined;
}

/** The token's scope (it may be narrower than the user's permissions), as Node-RED checks it. */
export function requestScope(req: AuthenticatedRequest): unknown {
  return req.authInfo?.scope ?? requestUser(req)?.permissions;
}

/**
 * Why a request may not use a page that needs `permission`, as HTTP status and text; undefined when
 * it may. Without adminAuth every request may (the editor is open to the same people). 403 rather
 * than Node-RED's 401 for a known user without the permission: 401 reads as "log in again".
 */
export function accessRefusal(
  auth: AdminAuth | undefined,
  req: AuthenticatedRequest,
  permission: string,
): { status: 401 | 403; error: string } | undefined {
  if (!auth) return undefined;
  const user = requestUser(req);
  if (!user) return { status: 401, error: 'log in first' };
  if (!hasPermission(requestScope(req), permission))
    return { status: 403, error: `user ${user.username} does not have the permission ${permission}` };
  return undefined;
}
