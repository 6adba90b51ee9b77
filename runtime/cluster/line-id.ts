/**
 * The line (site/area/line) is the unit of ownership across instances. Its id becomes part of
 * JetStream stream names (only A-Z a-z 0-9 - _) and KV keys, so it is encoded without loss: letters
 * and digits stay, every other byte of its UTF-8 becomes `_` and two hex digits ('/' is `_2f`).
 * Two different ids never share an encoding, so two lines never share a stream.
 */
import { TwinError } from '../model/errors.js';

/** Checked 'site/area/line': three non-empty parts without control characters. */
export function parseLineId(id: unknown): string {
  if (typeof id !== 'string') throw new TwinError('BAD_CONFIG', 'a line id must be a string "site/area/line"');
  const parts = id.split('/');
  if (parts.length !== 3 || parts.some((p) => p.trim() === '' || p !== p.trim())) {
    throw new TwinError('BAD_CONFIG', `line id '${id}' is not "site/area/line" (three non-empty parts)`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new TwinError('BAD_CONFIG', `line id '${id}' holds a control character`);
  if (id.length > 120) throw new TwinError('BAD_CONFIG', `line id '${id.slice(0, 40)}…' is longer than 120 characters`);
  return id;
}

/** Letters and digits kept, every other UTF-8 byte as `_xx`. */
export function encodeName(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function decodeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '_') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The stream that holds a line's audit ledger, and its one subject. */
export function ledgerStreamName(line: string): string {
  return `TWINLOOP_LEDGER_${encodeName(parseLineId(line))}`;
}
export function ledgerSubject(line: string): string {
  return `twinloop.ledger.${encodeName(parseLineId(line))}`;
}

/** The stream that holds a line's lease history (line-lease.ts), and its one subject. */
export function leaseStreamName(line: string): string {
  return `TWINLOOP_LEASE_${encodeName(parseLineId(line))}`;
}
export function leaseSubject(line: string): string {
  return `twinloop.lease.${encodeName(parseLineId(line))}`;
}
