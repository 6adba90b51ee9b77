/**
 * Signed commands: the approval gate signs each write with HMAC-SHA256 under a key that only the
 * gate and the writers hold (a Node-RED credential); a writer checks the signature, the expiry and
 * the target before it writes. Single use is checked against a UsedCommands store (writer side).
 */
import { randomUUID } from 'node:crypto';
import type { Command } from '../model/control.js';
import { jsonMacMatches, jsonMac } from './json-mac.js';

export type UnsignedCommand = Omit<Command, 'signature' | 'id'> & { id?: string };

/** Smallest key we accept: 16 bytes (as text, at least 16 characters). */
export const MIN_KEY_CHARS = 16;

export function signCommand(key: string, cmd: UnsignedCommand): Command {
  if (typeof key !== 'string' || key.length < MIN_KEY_CHARS) throw new Error(`signing key must have at least ${MIN_KEY_CHARS} characters`);
  const body = { ...cmd, id: cmd.id ?? randomUUID() } as Omit<Command, 'signature'>;
  return { ...body, signature: jsonMac(key, body) };
}

export type CommandRefusal =
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'WRONG_TARGET'
  | 'REPLAYED'
  | 'OUTSIDE_ENVELOPE'
  | 'NO_DECISION'
  // the writer's own re-read of interlocks and inputs through its connection disagrees (writer.ts)
  | 'INPUT_MISMATCH';

export interface CommandCheck {
  ok: boolean;
  refusal?: CommandRefusal;
  reason?: string;
}

/** Target a writer is configured for. */
export interface CommandTarget {
  asset: string;
  tag: string;
}

const NUMBER_FIELDS = ['value', 'step', 'steps', 'fromValue', 'issuedTsMs', 'expiresTsMs'] as const;
const STRING_FIELDS = ['id', 'proposalId', 'asset', 'tag', 'envelopeVersion', 'signature'] as const;

/** Shape check for anything that claims to be a Command (it arrives from a flow: trust nothing). */
export function isCommandShape(x: unknown): x is Command {
  if (x === null || typeof x !== 'object') return false;
  const c = x as Record<string, unknown>;
  return (
    NUMBER_FIELDS.every((k) => typeof c[k] === 'number' && Number.isFinite(c[k])) &&
    STRING_FIELDS.every((k) => typeof c[k] === 'string' && (c[k] as string).length > 0)
  );
}

/**
 * Signature, expiry and target, in that order (a forged command is reported as forged even when it
 * is also expired). Does not check single use: that needs the writer's UsedCommands store.
 */
export function verifyCommand(key: string, x: unknown, target: CommandTarget, nowMs: number): CommandCheck {
  if (!isCommandShape(x)) return { ok: false, refusal: 'MALFORMED', reason: 'not a command (missing or invalid fields)' };
  if (!jsonMacMatches(key, x)) {
    return { ok: false, refusal: 'BAD_SIGNATURE', reason: 'signature does not verify' };
  }
  if (nowMs > x.expiresTsMs) return { ok: false, refusal: 'EXPIRED', reason: `expired ${new Date(x.expiresTsMs).toISOString()}` };
  if (x.asset !== target.asset || x.tag !== target.tag) {
    return { ok: false, refusal: 'WRONG_TARGET', reason: `for ${x.asset}/${x.tag}, this writer writes ${target.asset}/${target.tag}` };
  }
  return { ok: true };
}
