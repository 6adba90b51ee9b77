/**
 * What `twinloop start` prints besides its own banner. By default only errors: Node-RED's console
 * log at level `error` (node warnings still reach the editor's debug sidebar and the nodes' status;
 * the OPC UA nodes report a failing connection there) and no node-opcua warnings.
 * TWINLOOP_LOG=warn|info shows warnings, less the node-opcua ones below; debug|trace everything.
 */
import { format } from 'node:util';
import { UsageError } from '../commands/usage.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level from TWINLOOP_LOG (TWINLOOP_LOG_LEVEL, its older name), `error` when unset. */
export function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const raw = (env.TWINLOOP_LOG ?? env.TWINLOOP_LOG_LEVEL ?? 'error').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new UsageError(`TWINLOOP_LOG must be one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
  }
  return raw as LogLevel;
}

/**
 * node-opcua warnings with nothing to act on:
 *  - W27 / CVE-2023-46809: Node 20 refuses RSA PKCS#1 v1.5 decryption; only the deprecated
 *    Basic128Rsa15 and Basic256 policies use it, and TwinLoop's endpoints and simulator offer
 *    Basic256Sha256 and the Aes* policies (RSA-OAEP / RSA-PSS) instead;
 *  - "Creating default certificate": a client's first start making its own certificate in the PKI.
 */
const NOTHING_TO_ACT_ON = [/NODE-OPCUA-W27/, /CVE-2023-46809/, /Creating default certificate/];

/** node-opcua's warnings at this level: none at fatal/error, filtered at warn/info, all at debug/trace. */
export async function quietOpcua(level: LogLevel): Promise<void> {
  if (level === 'debug' || level === 'trace') return;
  const opcua = await import('node-opcua');
  const quiet = level === 'fatal' || level === 'error';
  opcua.setWarningLogger((_context: unknown, ...args: unknown[]) => {
    const text = format(...args);
    if (quiet || NOTHING_TO_ACT_ON.some((r) => r.test(text))) return;
    process.stderr.write(`node-opcua: ${text}\n`);
  });
}
