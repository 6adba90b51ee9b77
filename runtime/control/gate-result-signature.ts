/**
 * Signed write results: a writer signs each WriteResult it sends back to the gate with the same
 * HMAC-SHA256 key as the gate's commands, over the canonical JSON of the result without its
 * signature. The gate acts only on results that verify: otherwise a forged "written" result wired
 * into twin-approval could advance a ramp to its next step before the plant took the last one.
 */
import type { WriteResult } from '../model/control.js';
import { jsonMacMatches, withJsonMac } from './json-mac.js';

export function signResult(key: string, result: Omit<WriteResult, 'signature'>): WriteResult {
  return withJsonMac(key, result) as WriteResult;
}

/** True when the result carries a signature made with `key` over exactly its other fields. */
export function verifyResult(key: string, result: WriteResult): boolean {
  return jsonMacMatches(key, result);
}
