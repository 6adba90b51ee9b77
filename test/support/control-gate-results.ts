/**
 * Write results as a writer sends them: signed with the gate's key (runtime/control/gate-result-signature.ts),
 * built on the fixtures' unsigned result(). The gate ignores results that are not signed.
 */
import type { Command, WriteResult } from '../../runtime/model/control.js';
import { signResult } from '../../runtime/control/gate-result-signature.js';
import { KEY, result as unsignedResult } from './control-gate-fixtures.js';

export function result(cmd: Command, outcome: WriteResult['outcome'], tsMs: number, readBackOk?: boolean): WriteResult {
  return signResult(KEY, arguments.length >= 4 ? unsignedResult(cmd, outcome, tsMs, readBackOk) : unsignedResult(cmd, outcome, tsMs));
}

/** The same result with its signature made by someone without the key. */
export function forged(r: WriteResult, over: Partial<WriteResult> = {}): WriteResult {
  return signResult('a-forger-key-that-is-long-enough', { ...r, ...over });
}
