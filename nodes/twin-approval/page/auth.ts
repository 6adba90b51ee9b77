/**
 * Who may look at the supervisors' page, who may decide, and the re-entered password of an
 * electronic signature. Everything is checked against Node-RED's own `adminAuth` setting: TwinLoop
 * keeps no second user store. No node-red import (plain functions, tested directly).
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

/**
 * Wrong re-entered passwords per user (only a logged-in user can re-enter a password, so only that
 * user, or someone holding their token, can use this up): after `maxFailures` inside `windowMs` the
 * user may not sign until the oldest failure leaves the window. A check under way counts against
 * the limit until it is settled, so parallel attempts cannot get more than `maxFailures` password
 * checks through (use `checkWithLimit`).
 */
export class PasswordFailures {
  private readonly failures = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();

  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 10 * 60_000,
  ) {}

  /** Milliseconds until this user may try again (0 = now). */
  lockedForMs(user: string, nowMs: number): number {
    const recent = this.recent(user, nowMs);
    if (recent.length >= this.maxFailures) return recent[0] + this.windowMs - nowMs;
    // checks under way could each still fail: wait for them rather than start more than the limit allows
    return recent.length + (this.inflight.get(user) ?? 0) >= this.maxFailures ? 1000 : 0;
  }

  /** Reserve one password check: 0 = go (then `settle` exactly once), else milliseconds to wait. */
  begin(user: string, nowMs: number): number {
    const wait = this.lockedForMs(user, nowMs);
    if (wait === 0) this.inflight.set(user, (this.inflight.get(user) ?? 0) + 1);
    return wait;
  }

  /** End a reserved check: 'ok' clears the user's failures, 'wrong' adds one, 'none' (no password was checked) only releases. */
  settle(user: string, outcome: 'ok' | 'wrong' | 'none', nowMs: number): void {
    const n = (this.inflight.get(user) ?? 1) - 1;
    if (n > 0) this.inflight.set(user, n);
    else this.inflight.delete(user);
    if (outcome === 'ok') this.failures.delete(user);
    else if (outcome === 'wrong') this.failures.set(user, [...this.recent(user, nowMs), nowMs]);
  }

  fail(user: string, nowMs: number): void {
    this.failures.set(user, [...this.recent(user, nowMs), nowMs]);
  }

  succeed(user: string): void {
    this.failures.delete(user);
  }

  private recent(user: string, nowMs: number): number[] {
    return (this.failures.get(user) ?? []).filter((t) => nowMs - t < this.windowMs);
  }
}

/**
 * One password check under the limit: refused (with the wait) without calling `check` when the
 * user is over it; otherwise the check, counted. `nowMs` is read again when the check ends.
 */
export async function checkWithLimit(
  failures: PasswordFailures,
  user: string,
  nowMs: () => number,
  check: () => Promise<PasswordCheck>,
): Promise<{ check: PasswordCheck } | { lockedMs: number }> {
  const wait = failures.begin(user, nowMs());
  if (wait > 0) return { lockedMs: wait };
  let result: PasswordCheck = 'wrong'; // a check that throws counts as a wrong password
  try {
    result = await check();
    return { check: result };
  } finally {
    // 'unsupported' is no attempt at a password: it neither counts nor clears
    failures.settle(user, result === 'unsupported' ? 'none' : result, nowMs());
  }
}

/**
 * Failed logins per source address, with a delay that grows: the first `freeFailures` failures
 * cost nothing (typos), then each one doubles the wait before the next attempt from that source
 * (`baseDelayMs`, 2×, 4×, … up to `maxDelayMs`). Never a lock on a user name: a stranger who
 * guesses a supervisor's password from one address slows only that address down. A source is
 * forgotten `forgetMs` after its last failure, and a success clears it. Attempts during the wait
 * are refused without a password check and do not lengthen it; a check under way counts, so
 * parallel attempts from one source get one check at a time once past the free failures.
 */
export class SourceThrottle {
  private readonly sources = new Map<string, { failures: number; lastFailMs: number; inflight: number }>();

  constructor(
    readonly freeFailures = 3,
    readonly baseDelayMs = 1000,
    readonly maxDelayMs = 5 * 60_000,
    readonly forgetMs = 30 * 60_000,
    /** Sources remembered at most (the oldest failures are forgotten first): bounded memory under a spray of addresses. */
    readonly maxSources = 10_000,
  ) {}

  /** The wait after `failures` failures (0 for the free ones). */
  delayAfter(failures: number): number {
    if (failures < this.freeFailures) return 0;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(30, failures - this.freeFailures));
  }

  /** The wait before the next attempt from `source` (0 = now), without reserving anything. */
  waitMs(source: string, nowMs: number): number {
    const s = this.live(source, nowMs);
    return s ? Math.max(0, s.lastFailMs + this.delayAfter(s.failures) - nowMs) : 0;
  }

  /** Reserve one check for `source`: 0 = go (then `settle` once), else milliseconds to wait. */
  begin(source: string, nowMs: number): number {
    const s = this.live(source, nowMs);
    if (!s) {
      this.sources.set(source, { failures: 0, lastFailMs: -Infinity, inflight: 1 });
      this.evict();
      return 0;
    }
    const waitMs = Math.max(0, s.lastFailMs + this.delayAfter(s.failures) - nowMs);
    if (waitMs > 0) return waitMs;
    // past the free failures, one check at a time (each could fail and double the wait)
    if (s.inflight > 0 && s.failures + s.inflight >= this.freeFailures) return this.baseDelayMs;
    s.inflight++;
    return 0;
  }

  settle(source: string, ok: boolean, nowMs: number): void {
    const s = this.sources.get(source);
    if (!s) return;
    s.inflight = Math.max(0, s.inflight - 1);
    if (ok) {
      if (s.inflight === 0) this.sources.delete(source);
      else s.failures = 0;
      return;
    }
    s.failures++;
    s.lastFailMs = nowMs;
    // re-insert: the Map's order is then the order of last failures (oldest evicted first)
    this.sources.delete(source);
    this.sources.set(source, s);
  }

  private live(source: string, nowMs: number) {
    const s = this.sources.get(source);
    if (s && s.inflight === 0 && nowMs - s.lastFailMs >= this.forgetMs) {
      this.sources.delete(source);
      return undefined;
    }
    return s;
  }

  private evict(): void {
    for (const k of this.sources.keys()) {
      if (this.sources.size <= this.maxSources) break;
      this.sources.delete(k);
    }
  }
}

/** The throttled source of a request's address: IPv4 (or IPv4-mapped) as is, IPv6 by its /64 (one host usually has a whole /64). */
export function sourceOfAddress(address: string | undefined): string {
  const a = (address ?? '').trim();
  if (a === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
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
export function accessRefusal(auth: AdminAuth | undefined, req: AuthenticatedRequest, permission: string): { status: 401 | 403; error: string } | undefined {
  if (!auth) return undefined;
  const user = requestUser(req);
  if (!user) return { status: 401, error: 'log in first' };
  if (!hasPermission(requestScope(req), permission)) return { status: 403, error: `user ${user.username} does not have the permission ${permission}` };
  return undefined;
}
