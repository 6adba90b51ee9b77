/**
 * Signed write results: a writer signs each WriteResult it sends back to the gate with the same
 * HMAC-SHA256 key as the gate's commands, over the canonical JSON of the result without its
 * signature. The gate acts only on results that verify: otherwise a forged "written" result wired
 * into twin-approval could advance a ramp to its next step before the plant took the last one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WriteResult } from '../model/control.js';
import { canonicalJson } from './canonical.js';

function mac(key: string, body: Omit<WriteResult, 'signature'>): string {
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

export function signResult(key: string, result: Omit<WriteResult, 'signature'>): WriteResult {
  const { signature: _old, ...body } = result as WriteResult;
  return { ...body, signature: mac(key, body) };
}

/** True when the result carries a signature made with `key` over exactly its other fields. */
export function verifyResult(key: string, result: WriteResult): boolean {
  const { signature, ...body } = result;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  let expected: string;
  try {
    expected = mac(key, body);
  } catch {
    return false; // a field canonical JSON cannot hold (NaN, Infinity): not what a writer signs
  }
  return timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(expected, 'hex'));
}
