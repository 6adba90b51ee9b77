/** `twinloop ledger verify FILE` (placeholder; the ledger owner fills it in). */
import { UsageError } from './usage.js';

export async function ledgerCommand(_argv: string[]): Promise<number> {
  throw new UsageError('not implemented yet');
}
