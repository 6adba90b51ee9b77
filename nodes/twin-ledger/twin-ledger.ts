/**
 * twin-ledger: the audit ledger and the command signing key of a closed loop (config node).
 * twin-approval and the writers that name it share one ledger file (opened on first use, shared
 * per path in the process), one used-commands store beside it, and one HMAC key. The key is a
 * Node-RED credential or an env var; it is never logged or put in a status or error text. The
 * same key authenticates the ledger's records and its head checkpoint (ledger-auth.ts).
 */
import type { NodeAPI } from 'node-red';
import { openFileLedger } from '../../runtime/control/file-ledger.js';
import { openUsedCommands } from '../../runtime/control/file-used-commands.js';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import { resolveLedgerPath, resolveSigningKey, type TwinLedgerCredentials, type TwinLedgerDef, type TwinLedgerNode } from './ledger-api.js';

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

export default function (RED: NodeAPI): void {
  function TwinLedger(this: TwinLedgerNode, def: TwinLedgerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-ledger');
    const creds = ((this as unknown as { credentials?: TwinLedgerCredentials }).credentials ?? {});
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
    const getSetting = (RED.util as unknown as { getSetting?: (n: unknown, name: string) => string | undefined }).getSetting;

    let pathError: string | undefined;
    try {
      node.ledgerPath = resolveLedgerPath(def.path, userDir, node.id);
    } catch (err) {
      pathError = (err as Error).message;
    }
    const { key, problem } = resolveSigningKey(creds.signingKey, def.signingKeyEnv, (name) => (getSetting ? getSetting(node, name) : process.env[name]));
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
