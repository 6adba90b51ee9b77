import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Find a binary that a Debian package provides. When it is missing and we are root with apt,
 * install the package; otherwise return null so the suite can skip with a loud line.
 * Under CI (CI=true) a missing package is an error: CI must never skip a real-service suite.
 */
const tried = new Map<string, string | null>();
let aptUpdated = false;

export function ensureDebianBinary(pkg: string, bin: string): string | null {
  const key = `${pkg}:${bin}`;
  if (tried.has(key)) return tried.get(key)!;
  let found = which(bin);
  if (!found && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`[twinloop tests] installing Debian package ${pkg} (apt-get)…\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      aptUpdated = true;
    }
    spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
    found = which(bin);
  }
  if (!found) {
    const line = `Debian package '${pkg}' is not installed (${bin} not found): apt-get install ${pkg}`;
    if (process.env.CI) throw new Error(`CI must not skip: ${line}`);
    process.stderr.write(`\n!!!!! SKIPPING suites that need ${pkg}: ${line} !!!!!\n\n`);
  }
  tried.set(key, found);
  return found;
}

function which(bin: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin']) {
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  try {
    return execFileSync('which', [bin], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
