/**
 * What a twin-ledger config node offers the nodes that use it (twin-approval, the writers), and the
 * pure rules for its ledger path and signing key. Kept apart from the node file so users can import
 * the types without registering anything.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Node, NodeDef } from 'node-red';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import type { ReleaseReason } from '../../runtime/cluster/cluster-member.js';
import { MIN_KEY_CHARS } from '../../runtime/control/command.js';
import { readSecretFile, unresolvedEnv } from '../shared/secret-file.js';

export interface TwinLedgerDef extends NodeDef {
  /** Ledger file; blank = `<userDir>/twinloop/ledger/<node id>.jsonl`; relative = against userDir. */
  path?: string;
  /** Name of an environment variable holding the signing key (for prebuilt flows); taken out of the environment at first read. */
  signingKeyEnv?: string;
  /** A file holding the signing key (owner-only: refused when group or others may read it); read once. */
  signingKeyFile?: string;
  /** 'file' (default: the embedded ledger file) or 'jetstream' (the line's replicated stream and KV claims). */
  storage?: 'file' | 'jetstream';
  /** JetStream: a twin-cluster config node whose servers, replicas and credentials to use (then `servers` and the NATS credentials here are ignored). */
  cluster?: string;
  /** JetStream: the cluster's nats:// URLs (comma or space separated). */
  servers?: string;
  /** JetStream: the line this ledger belongs to, 'site/area/line'. */
  line?: string;
  /** JetStream: stream and bucket replicas (1, 3 or 5; default 3). */
  replicas?: number | string;
  /** JetStream: how long an append waits for the cluster (leader election) before it is refused, in seconds (default 30). */
  waitS?: number | string;
}

export interface TwinLedgerCredentials {
  signingKey?: string;
  /** JetStream: NATS user and password (credentials, never in the flow JSON). */
  natsUser?: string;
  natsPassword?: string;
}

export interface TwinLedgerNode extends Node {
  /** Set when the configuration is unusable (bad path, no or short signing key); users show it in red. */
  configError?: string;
  /** The resolved ledger file (undefined when the path itself is invalid, and with JetStream storage). */
  ledgerPath?: string;
  /** The shared ledger, opened on first use; rejects when the file does not verify. */
  ledger(): Promise<Ledger>;
  /** The shared used-commands store at `<ledger path>.used`. */
  usedCommands(): Promise<UsedCommands>;
  /** HMAC key for commands (credential, else the key file, else the env var); undefined → gate and writers refuse to work. */
  signingKey(): string | undefined;
  /**
   * JetStream with a twin-cluster: the stores are open only while this instance owns the line;
   * otherwise ledger() and usedCommands() reject (REFUSED, naming the line). Absent without a cluster.
   */
  ownership?: LedgerOwnership;
}

/** A ledger that follows its line's ownership (twin-approval opens its gate on owned, closes it on released). */
export interface LedgerOwnership {
  /** 'site/area/line' */
  readonly line: string;
  /** This instance owns the line now (the stores may still be opening: ledger() waits for them). */
  owns(): boolean;
  /**
   * `onOwned()` now if owned and on each acquisition (ledger() then gives the freshly opened ledger,
   * its 'owner' record appended); `onReleased(reason)` before the stores close. Returns the unfollow.
   */
  follow(onOwned: () => void, onReleased: (reason: ReleaseReason) => void): () => void;
}

/** Environment variable names as POSIX shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The ledger file for a config node: the configured path (absolute, or relative to the user
 * directory), else `<userDir>/twinloop/ledger/<node id>.jsonl`. Without a user directory,
 * `$TWINLOOP_HOME/ledger` stands in; with neither, a relative or blank path is an error (an audit
 * ledger must not land in a temp folder by accident).
 */
export function resolveLedgerPath(
  configured: string | undefined,
  userDir: string | undefined,
  nodeId: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const p = (configured ?? '').trim();
  if (p !== '' && isAbsolute(p)) return resolve(p);
  const base = userDir ?? (env.TWINLOOP_HOME ? resolve(env.TWINLOOP_HOME) : undefined);
  if (!base)
    throw new Error(
      p === ''
        ? 'no ledger path and no Node-RED user directory: give an absolute path'
        : `ledger path '${p}' is relative and there is no Node-RED user directory`,
    );
  if (p !== '') return resolve(base, p);
  const safeId = nodeId.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(base, userDir ? 'twinloop' : '', 'ledger', `${safeId}.jsonl`);
}

/**
 * Secrets taken out of `process.env` (name → value): flow code reads the environment through
 * `env.get` / `$env` (Node-RED's getSetting), so a key left there is a key any editor's function node
 * can read. The first read moves it here; later reads (a redeploy, a second twin-ledger) find it here.
 */
const TAKEN_FROM_ENV = new Map<string, string>();

/** The value of env var `name`, removed from `env` at first read and kept in this module only. */
export function takeEnvSecret(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[name];
  if (v !== undefined) {
    if (v !== '') TAKEN_FROM_ENV.set(name, v);
    delete env[name];
  }
  return TAKEN_FROM_ENV.get(name);
}

/** The key in `path` (an owner-only file; see secret-file.ts). */
export function readKeyFile(path: string, platform: NodeJS.Platform = process.platform): { key?: string; problem?: string } {
  const r = readSecretFile(path, 'signing key', platform);
  return r.problem !== undefined ? { problem: r.problem } : { key: r.secret };
}

/**
 * The signing key: the credential if set, else the key file, else the named environment variable
 * (read through `lookup`: twin-ledger takes it out of process.env, see takeEnvSecret). Returns the
 * key or why there is none; the reason never contains the key.
 */
export function resolveSigningKey(
  credential: string | undefined,
  envName: string | undefined,
  lookup: (name: string) => string | undefined,
  keyFile?: string,
  readFile: (path: string) => { key?: string; problem?: string } = readKeyFile,
): { key?: string; problem?: string } {
  const name = (envName ?? '').trim();
  // `${NAME}` left as it is: no file was named (the env var source may still apply)
  const file = unresolvedEnv(keyFile) ? '' : (keyFile ?? '').trim();
  if (name !== '' && !ENV_NAME.test(name)) return { problem: `signing key env var name '${name}' is not a valid variable name` };
  let key = credential ?? '';
  let from = 'the signing key credential';
  if (key === '' && file !== '') {
    const f = readFile(file);
    if (f.problem) return { problem: f.problem };
    key = f.key ?? '';
    from = `file ${file}`;
  }
  if (key === '' && name !== '') {
    key = lookup(name) ?? '';
    from = `env var ${name}`;
  }
  if (key === '') {
    return {
      problem: name
        ? `no signing key: the credential is empty and env var ${name} is not set`
        : 'no signing key: set the signing key credential, a key file or an env var that holds it',
    };
  }
  if (key.length < MIN_KEY_CHARS)
    return { problem: `signing key from ${from} is too short (${key.length} characters, at least ${MIN_KEY_CHARS} needed)` };
  return { key };
}
