/**
 * The home of `twinloop start` is private: the folder 0700, every file holding a secret 0600. Other
 * local users must not read the credential key, the editor's bearer tokens or the logins (issue 13).
 *
 * `twinloop start` sets umask 077 so that everything written from then on (ours and Node-RED's) is
 * born owner-only; files written before (an older version, another tool, a copy) are checked here.
 * Secret files are tightened, since no one else has a reason to read them; the folder itself is only
 * reported, since its mode may be the owner's deliberate choice (a folder shared with a group).
 */
import { chmodSync, existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The files in a home that hold secrets: ours, then Node-RED's (with its backups). */
export const HOME_SECRET_FILES = [
  'credential.key', // encrypts flows_cred.json
  'signing.key', // signs commands to the plant
  'demo-users.json', // generated passwords
  'mqtt-plant-sim.password', // the embedded broker's users (broker-acl.ts)
  'mqtt-node-red.password',
  '.sessions.json', // live editor/admin bearer tokens, 7 days
  '.config.runtime.json', // Node-RED's _credentialSecret when it made one
  '.config.runtime.json.backup',
  '.config.json', // the same, in Node-RED's older layout
  '.config.json.backup',
  'flows_cred.json', // the flows' credentials
  '.flows_cred.json.backup',
];

/** Private keys under `<home>/pki` (the simulator's OPC UA certificates): any file below a `private` folder. */
function pkiPrivateKeys(home: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, inPrivate: boolean, depth: number): void => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, inPrivate || name === 'private', depth + 1);
      else if (st.isFile() && inPrivate) out.push(p);
    }
  };
  walk(join(home, 'pki'), false, 0);
  return out;
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * Check `home` (which must exist) and tighten its secret files: one line per finding, each with what
 * was done or the command that fixes it. Empty when everything is private. Not on Windows (no modes).
 */
export function checkPrivateHome(home: string, platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return [];
  const lines: string[] = [];
  const homeMode = statSync(home).mode;
  if (homeMode & 0o077) {
    lines.push(`warning: ${home} is open to other users (mode ${octal(homeMode)}); to make it private: chmod 700 ${home}`);
  }
  const files = [...HOME_SECRET_FILES.map((f) => join(home, f)).filter((p) => existsSync(p)), ...pkiPrivateKeys(home)];
  for (const file of files) {
    const st = lstatSync(file);
    if (!st.isFile() || (st.mode & 0o077) === 0) continue; // a symlink is left to what it points at
    try {
      chmodSync(file, 0o600);
      lines.push(
        `warning: ${file} was readable by other users (mode ${octal(st.mode)}); made it 0600 ` +
          '(if others can log in to this machine, treat its secret as exposed)',
      );
    } catch {
      lines.push(`warning: ${file} is readable by other users (mode ${octal(st.mode)}) and could not be changed: chmod 600 ${file}`);
    }
  }
  return lines;
}
