/**
 * Encoding and checking of runtime state snapshots (twin-alarm's per-tag state, runtime/alarm/alarm-state.ts):
 * JSON that restores bit for bit. Numbers that JSON cannot hold (NaN, ±Infinity) become the strings
 * 'NaN', 'Inf', '-Inf'; typed arrays become base64 of their little-endian bytes (8 bytes → 10.7
 * characters, exact, where a decimal double takes up to 24). A snapshot is untrusted input (it comes
 * back from a store another instance wrote): every reader checks type, shape and bounds and throws a
 * TwinError naming the field, never a TypeError, and never leaves a half-restored object behind.
 */
import { TwinError, isRecord } from './errors.js';

export type EncodedNumber = number | 'NaN' | 'Inf' | '-Inf';

/** Thrown for any snapshot that is not what this version wrote. */
export function badSnapshot(what: string): never {
  throw new TwinError('BAD_PAYLOAD', `state snapshot refused: ${what}`);
}

export function encNum(x: number): EncodedNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Inf' : '-Inf';
}

export function decNum(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === 'NaN') return NaN;
  if (v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return badSnapshot(`${field} is not a number`);
}

/** A finite number (JSON numbers only). */
export function decFinite(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return badSnapshot(`${field} is not a finite number`);
}

/** A whole number in [min, max]. */
export function decInt(v: unknown, field: string, min: number, max: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  return badSnapshot(`${field} must be a whole number in ${min}…${max}`);
}

export function decBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  return badSnapshot(`${field} is not true/false`);
}

export function decString(v: unknown, field: string, maxChars: number): string {
  if (typeof v === 'string' && v.length <= maxChars) return v;
  return badSnapshot(`${field} is not a string of at most ${maxChars} characters`);
}

export function decRecord(v: unknown, field: string): Record<string, unknown> {
  if (isRecord(v)) return v;
  return badSnapshot(`${field} is not an object`);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesLE(a: Float64Array | Uint8Array): Buffer {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (littleEndian || a instanceof Uint8Array) return b;
  const c = Buffer.from(b);
  c.swap64();
  return c;
}

export function encF64(a: Float64Array): string {
  return bytesLE(a).toString('base64');
}

export function encU8(a: Uint8Array): string {
  return bytesLE(a).toString('base64');
}

/** Base64 of exactly `length` little-endian doubles. */
export function decF64(v: unknown, field: string, length: number): Float64Array {
  const b = base64(v, field, length * 8);
  if (!littleEndian) b.swap64();
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function decU8(v: unknown, field: string, length: number): Uint8Array {
  return new Uint8Array(base64(v, field, length));
}

function base64(v: unknown, field: string, bytes: number): Buffer {
  // the length is checked on the text first, so a huge string is not decoded
  if (typeof v !== 'string' || v.length !== Math.ceil(bytes / 3) * 4) return badSnapshot(`${field} must hold ${bytes} bytes`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return badSnapshot(`${field} is not base64`);
  const b = Buffer.from(v, 'base64');
  if (b.length !== bytes) return badSnapshot(`${field} must hold ${bytes} bytes`);
  return b;
}
