/**
 * twin-ledger: the audit ledger and the command signing key of a closed loop (config node).
 * twin-approval and the writers that name it share one ledger file (opened on first use, shared
 * per path in the process), one used-commands store beside it, and one HMAC key. The key is a
 * Node-RED credential, an owner-only key file or an env var; it is never logged or put in a status
 * or error text. An env var is taken out of process.env at first read (ledger-api.ts, takeEnvSecret)
 * and never looked up through flow or global env, so flow code (`env.get`) cannot read the key. The
 * same key authenticates the ledger's records and its head checkpoint (ledger-auth.ts).
 */
import type { NodeAPI } from 'node-red';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import { resolveLedgerPath, resolveSigningKey, takeEnvSecret, type TwinLedgerCredentials, type TwinLedgerDef, type TwinLedgerNode } from './ledger-api.js';

/** Open a store once, on first use; forget a failed open so the next call tries again. */
function lazy<T extends { close(): Promise<void> }>(open: () => Promise<T>) {
  let p: Promise<T> | undefined;
  let closed = false;
  return {
    get(): Promise<T> {
      if (closed) return Promise.reject(new TwinError('BAD_CONFIG', 'twin-ledger is closed (flow stopped or redeployed)'));
      if (!p) {
        const attempt = open();
        p = attempt;
        attempt.catch(() => {
          if (p === attempt) p = undefined;
        });
      }
      return p;
    },
    async close(): Promise<void> {
      closed = true;
      const opened = await p?.catch(() => undefined);
      p = undefined;
      await opened?.close();
    },
  };
}

/** The conventional name (prebuilt flows, older `twinloop start`): out of flow code's reach before any flow starts. */
const DEFAULT_KEY_ENV = 'TWINLOOP_SIGNING_KEY';

export default function (RED: NodeAPI): void {
  takeEnvSecret(DEFAULT_KEY_ENV);
  function TwinLedger(this: TwinLedgerNode, def: TwinLedgerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-ledger');
    const creds = ((this as unknown as { credentials?: TwinLedgerCredentials }).credentials ?? {});
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;

    let pathError: string | undefined;
    try {
      node.ledgerPath = resolveLedgerPath(def.path, userDir, node.id);
    } catch (err) {
      pathError = (err as Error).message;
    }
    // process.env only: flow and global env live in the flow's JSON, which is no place for a key
    const { key, problem } = resolveSigningKey(creds.signingKey, def.signingKeyEnv, (name) => takeEnvSecret(name), def.signingKeyFile);
    node.configError = pathError ?? problem;
    if (node.configError) node.error(t('errors.config', { error: node.configError }));

    const notConfigured = (): Promise<never> => Promise.reject(new TwinError('BAD_CONFIG', t('errors.config', { error: pathError })));
    const ledger = lazy<Ledger>(() => (pathError ? notConfigured() : openFileLedger(node.ledgerPath!, key ? { signingKey: key } : {})));
    const used = lazy<UsedCommands>(() => (pathError ? notConfigured() : openUsedCommands(`${node.ledgerPath!}.used`)));
    node.ledger = () => ledger.get();
    node.usedCommands = () => used.get();
    node.signingKey = () => key;

    node.on('close', (_removed: boolean, done: () => void) => {
      Promise.all([ledger.close(), used.close()]).then(
        () => done(),
        (err) => {
          node.warn(`closing ${node.ledgerPath}: ${(err as Error).message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('twin-ledger', TwinLedger as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      signingKey: { type: 'password' },
    },
  });
}
