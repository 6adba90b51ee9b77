/**
 * Secrets kept in files (a signing key, a broker password): read once, refused when group or others
 * may read the file (a secret others can read is not one). A path is no secret, so a flow may name
 * it, also through `${ENV}`; the secret itself never passes through the environment flow code reads.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/** `${NAME}` left as it is: Node-RED found no such env var when it loaded the flow, so nothing was named. */
export function unresolvedEnv(value: string | undefined): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test((value ?? '').trim());
}

/**
 * The content of `path`, trimmed: refused when the path is relative, the file is missing, not a
 * file, empty, or open to group or others (modes are not checked on Windows). `what` names the
 * secret in the reason; the reason never contains the secret.
 */
export function readSecretFile(
  path: string,
  what: string,
  platform: NodeJS.Platform = process.platform,
): { secret?: string; problem?: string } {
  if (!isAbsolute(path)) return { problem: `${what} file '${path}' must be an absolute path` };
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { problem: `${what} file ${path} does not exist` };
    return { problem: `cannot read the ${what} file ${path} (${code ?? 'error'})` };
  }
  if (!st.isFile()) return { problem: `${what} file ${path} is not a file` };
  if (platform !== 'win32' && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    return { problem: `${what} file ${path} is open to other users (mode ${mode}): make it owner-only with chmod 600 ${path}` };
  }
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (err) {
    return { problem: `cannot read the ${what} file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  return secret === '' ? { problem: `${what} file ${path} is empty` } : { secret };
}
