/**
 * The logins of `twinloop start`. Approvals need Node-RED's adminAuth (a decision is signed under
 * a user's own name), so the editor always has a login: `admin` (everything; password from
 * TWINLOOP_ADMIN_PASSWORD, or generated), and on a loopback demo also two supervisors (for the
 * two-person rule; they also shelve alarms), an operator (acknowledges alarms) and a read-only
 * viewer. Generated passwords are random per user directory and kept in `<home>/demo-users.json`
 * (mode 0600), so a restart keeps them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashSync } from 'bcryptjs';
import { isRecord } from '../../runtime/model/errors.js';

export interface Login {
  username: string;
  /** Name printed with an electronic signature on the supervisors' page. */
  printedName: string;
  permissions: string | string[];
  /** Plain password (for printing at start; never written to flows or logs otherwise). */
  password: string;
  /** True when the password came from the environment (then it is not printed). */
  fromEnv?: boolean;
  /** What the login is for, as printed. */
  role: string;
}

/** Node-RED adminAuth user entries (bcrypt hashes) for these logins. */
export function adminAuthUsers(
  logins: Login[],
): Array<{ username: string; password: string; permissions: string | string[]; printedName: string }> {
  return logins.map((l) => ({
    username: l.username,
    password: hashSync(l.password, 10),
    permissions: l.permissions,
    printedName: l.printedName,
  }));
}

// Alarms on the overview page: operators acknowledge (twinloop.ack); supervisors also shelve (twinloop.shelve).
const SUPERVISOR = ['read', 'twinloop.approve', 'twinloop.ack', 'twinloop.shelve'];
const DEMO_USERS: Array<Omit<Login, 'password'>> = [
  {
    username: 'supervisor',
    printedName: 'Dana Reyes (shift supervisor)',
    permissions: SUPERVISOR,
    role: 'approves changes, shelves alarms',
  },
  { username: 'supervisor2', printedName: 'Sam Okafor (process engineer)', permissions: SUPERVISOR, role: 'second approver' },
  { username: 'operator', printedName: 'Lee Park (line operator)', permissions: ['read', 'twinloop.ack'], role: 'acknowledges alarms' },
  { username: 'viewer', printedName: 'Control room viewer', permissions: 'read', role: 'read only' },
];

const newPassword = () => randomBytes(9).toString('base64url');

/** The passwords an earlier start saved (user → password); an entry that is not text gets a new password. */
function savedPasswords(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const saved: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isRecord(saved)) return {};
  return Object.fromEntries(Object.entries(saved).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function loadLogins(home: string, opts: { adminPassword?: string; adminUser?: string; demoUsers: boolean }): Login[] {
  const file = join(home, 'demo-users.json');
  const saved = savedPasswords(file);
  const adminUser = opts.adminUser ?? 'admin';
  const logins: Login[] = [
    {
      username: adminUser,
      printedName: 'Administrator',
      permissions: '*',
      password: opts.adminPassword ?? (saved[adminUser] ??= newPassword()),
      fromEnv: opts.adminPassword !== undefined,
      role: 'editor and approvals',
    },
  ];
  if (opts.demoUsers) for (const u of DEMO_USERS) logins.push({ ...u, password: (saved[u.username] ??= newPassword()) });
  if (opts.adminPassword !== undefined) delete saved[adminUser];
  writeFileSync(file, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
  return logins;
}

export function describeLogins(logins: Login[]): string {
  const width = Math.max(...logins.map((l) => l.username.length));
  return logins
    .map((l) => `    ${l.username.padEnd(width)}  ${l.fromEnv ? '(password from TWINLOOP_ADMIN_PASSWORD)' : l.password}  ${l.role}`)
    .join('\n');
}

/**
 * A random secret made once per user directory and kept in `<home>/<file>` (mode 0600), so a
 * restart finds the same one. Never printed.
 */
export function homeSecret(home: string, file: string): string {
  const path = join(home, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(path, key + '\n', { mode: 0o600 });
  return key;
}

/**
 * The signing key as `twinloop start` provides it to the demo flow, read only (for `twinloop ledger
 * verify`): TWINLOOP_SIGNING_KEY, else the file TWINLOOP_SIGNING_KEY_FILE names, else
 * `<home>/signing.key` (signingKeyFile). Never creates a key. `source` names where it came from (never the key).
 */
export function findSigningKey(home: string, env: NodeJS.ProcessEnv = process.env): { key?: string; source?: string } {
  const fromEnv = env.TWINLOOP_SIGNING_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return { key: fromEnv, source: 'env TWINLOOP_SIGNING_KEY' };
  const file = signingKeyFile(home, env);
  if (!existsSync(file)) return {};
  const key = readFileSync(file, 'utf8').trim();
  return key === '' ? {} : { key, source: file };
}

/** Where `twinloop start` keeps the signing key: TWINLOOP_SIGNING_KEY_FILE, else `<home>/signing.key`. */
export function signingKeyFile(home: string, env: NodeJS.ProcessEnv = process.env): string {
  const f = env.TWINLOOP_SIGNING_KEY_FILE;
  return f !== undefined && f !== '' ? resolve(f) : join(home, 'signing.key');
}

/**
 * The key the approval gate signs commands with and the writers check (HMAC-SHA256), made once in
 * `<home>/signing.key` (0600). The demo flow's twin-ledger reads the file (TWINLOOP_SIGNING_KEY_FILE
 * names it, a path and no secret): the key itself is never in the environment flow code can read.
 */
export function demoSigningKey(home: string): string {
  return homeSecret(home, 'signing.key');
}

/** The file in the home that holds a user's password for the embedded MQTT broker (0600). */
export function brokerPasswordFile(user: string): string {
  return `mqtt-${user}.password`;
}

/**
 * The key Node-RED encrypts the flow credentials with (settings.credentialSecret):
 * TWINLOOP_CREDENTIAL_SECRET, else `<home>/credential.key`, so the credentials never depend on a
 * key Node-RED generates and warns about.
 */
export function credentialSecret(home: string): string {
  return homeSecret(home, 'credential.key');
}
