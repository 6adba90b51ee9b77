/**
 * What may arrive at the approval gate from a flow, checked before it gets near the state machine:
 * a Proposal, a Reading, a WriteResult, or the auto-approval switch. Anything else (a Command wired
 * back into the gate, a malformed record) is refused with an error that names the problem.
 */
import type { Proposal, WriteResult } from '../model/control.js';
import { TwinError } from '../model/errors.js';
import { GATE_MAX_FUTURE_MS, checkNotFuture, singleReadingInput, type Reading } from '../model/reading.js';
import { isCommandShape } from './command.js';

export type GateMessage =
  | { kind: 'proposal'; proposal: Proposal }
  | { kind: 'reading'; reading: Reading }
  | { kind: 'result'; result: WriteResult }
  | { kind: 'policy'; enabled: boolean };

export const MAX_ID_CHARS = 200;

export function badPayload(message: string): TwinError {
  return new TwinError('BAD_PAYLOAD', message);
}

/** o[k] as a non-empty string of at most `max` characters, or a BAD_PAYLOAD naming `what.k`. */
export function str(o: Record<string, unknown>, k: string, what: string, max = 1024): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw badPayload(`${what}.${k} must be a non-empty string`);
  if (v.length > max) throw badPayload(`${what}.${k} is longer than ${max} characters`);
  return v;
}

/** o[k] as a finite number, or a BAD_PAYLOAD naming `what.k`. */
export function num(o: Record<string, unknown>, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw badPayload(`${what}.${k} must be a finite number, not ${v === undefined ? 'missing' : JSON.stringify(v)}`);
  return v;
}

function obj(o: Record<string, unknown>, k: string, what: string): Record<string, unknown> {
  const v = o[k];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badPayload(`${what}.${k} must be an object`);
  return v as Record<string, unknown>;
}

/** A Proposal as twin-propose makes it; every field the gate, the ledger and the page rely on. */
export function assertProposal(x: unknown): asserts x is Proposal {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw badPayload('payload is not a Proposal object');
  const p = x as Record<string, unknown>;
  str(p, 'id', 'Proposal', MAX_ID_CHARS);
  str(p, 'asset', 'Proposal');
  str(p, 'tag', 'Proposal');
  num(p, 'currentValue', 'Proposal');
  num(p, 'proposedValue', 'Proposal');
  if (typeof p.rationale !== 'string') throw badPayload('Proposal.rationale must be a string');
  const e = obj(p, 'predictedEffect', 'Proposal');
  str(e, 'kpiTag', 'Proposal.predictedEffect');
  for (const k of ['currentKpi', 'predictedKpi', 'lowKpi', 'highKpi', 'intervalPct']) num(e, k, 'Proposal.predictedEffect');
  const f = obj(p, 'fit', 'Proposal');
  for (const k of ['n', 'r2', 'rmse']) num(f, k, 'Proposal.fit');
  const r = obj(p, 'fitRange', 'Proposal');
  for (const k of ['fromTsMs', 'toTsMs', 'setpointMin', 'setpointMax']) num(r, k, 'Proposal.fitRange');
  const created = num(p, 'createdTsMs', 'Proposal');
  const expires = num(p, 'expiresTsMs', 'Proposal');
  if (!(expires > created)) throw badPayload(`Proposal.expiresTsMs must be after createdTsMs`);
  if (p.quality !== 'good' && p.quality !== 'uncertain' && p.quality !== 'bad')
    throw badPayload(`Proposal.quality must be good, uncertain or bad, not ${String(p.quality)}`);
}

export function assertWriteResult(x: unknown): asserts x is WriteResult {
  const r = x as Record<string, unknown>;
  for (const k of ['commandId', 'proposalId', 'asset', 'tag', 'writer']) str(r, k, 'WriteResult');
  num(r, 'value', 'WriteResult');
  num(r, 'tsMs', 'WriteResult');
  if (r.outcome !== 'written' && r.outcome !== 'refused' && r.outcome !== 'failed' && r.outcome !== 'unknown')
    throw badPayload(`WriteResult.outcome must be written, refused, failed or unknown, not ${String(r.outcome)}`);
  if (r.readBackOk !== undefined && typeof r.readBackOk !== 'boolean') throw badPayload('WriteResult.readBackOk must be true or false');
}

/** Classify and check one message (topic `auto-approval` + boolean switches the policy). */
export function parseGateMessage(msg: { topic?: unknown; payload?: unknown }, nowMs: number): GateMessage {
  const x = msg.payload;
  if (msg.topic === 'auto-approval') {
    if (typeof x !== 'boolean') throw badPayload(`auto-approval switch: payload must be true or false, not ${typeof x}`);
    return { kind: 'policy', enabled: x };
  }
  if (x === null || typeof x !== 'object' || Array.isArray(x)) {
    throw badPayload(
      `payload is ${Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x}; twin-approval takes a Proposal, a Reading or a WriteResult`,
    );
  }
  const o = x as Record<string, unknown>;
  // A command coming back into the gate means a miswired flow: commands go to writers only.
  if (isCommandShape(x)) throw badPayload('payload is a Command: commands go from twin-approval to a writer, not into it');
  if ('commandId' in o || 'outcome' in o) {
    assertWriteResult(x);
    return { kind: 'result', result: x };
  }
  if ('proposedValue' in o) {
    assertProposal(x);
    return { kind: 'proposal', proposal: x };
  }
  if ('value' in o && 'quality' in o) {
    const r = singleReadingInput(x, 'twin-approval');
    // a reading stamped in the future would count as fresh, and as newest, for as long as its clock is ahead
    checkNotFuture(r.tsMs, nowMs, GATE_MAX_FUTURE_MS);
    return { kind: 'reading', reading: r };
  }
  throw badPayload('payload is not a Proposal, a Reading or a WriteResult');
}
