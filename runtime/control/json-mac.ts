/**
 * HMAC-SHA256 over the canonical JSON of a record without its `signature` field: how the gate signs
 * commands and maintenance orders and how writers sign their results. One place, so that signer and
 * checker can never disagree on what is signed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical.js';

export function jsonMac(key: string, body: object): string {
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

/** `{ ...body, signature }` with the signature made over the body (an old signature is replaced). */
export function withJsonMac<T extends object>(key: string, record: T): Omit<T, 'signature'> & { signature: string } {
  const { signature: _old, ...body } = record as T & { signature?: unknown };
  return { ...body, signature: jsonMac(key, body) } as Omit<T, 'signature'> & { signature: string };
}

/** True when `record.signature` is the MAC of the record's other fields under `key` (constant time). */
export function jsonMacMatches(key: string, record: object): boolean {
  const { signature, ...body } = record as { signature?: unknown };
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  let expected: string;
  try {
    expected = jsonMac(key, body);
  } catch {
    return false; // a field canonical JSON cannot hold (NaN, Infinity): not what a signer signs
  }
  return timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(expected, 'hex'));
}
