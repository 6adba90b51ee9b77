/**
 * Fixtures for the approval gate's specs: an envelope, gate configs, proposals, readings and write
 * results, and a compact label per effect so marble expectations stay readable.
 */
import { randomUUID } from 'node:crypto';
import type { EnvelopeConfig, Proposal, WriteResult, Command } from '../../runtime/model/control.js';
import type { Quality } from '../../runtime/model/quality.js';
import type { Reading } from '../../runtime/model/reading.js';
import { envelopeVersion } from '../../runtime/control/envelope.js';
import type { GateConfig, GateEffect } from '../../runtime/control/gate-state.js';

export const ASSET = 'acme/line1/extruder';
export const TAG = 'barrel_sp';
export const KEY = 'k'.repeat(32);

export function envelope(over: Partial<EnvelopeConfig> = {}): EnvelopeConfig {
  return {
    asset: ASSET,
    tag: TAG,
    unit: 'degC',
    lowLimit: 180,
    highLimit: 240,
    maxStep: 5,
    rateUpPerMin: 10,
    rateDownPerMin: 10,
    minDwellMs: 30_000,
    interlocks: [{ tag: 'mode', op: '==', value: 1 }],
    inputTags: [],
    maxInputAgeMs: 60_000,
    minQuality: 'good',
    ramp: true,
    ...over,
  };
}

export function gateConfig(over: Partial<GateConfig> = {}, env: EnvelopeConfig = envelope()): GateConfig {
  return {
    envelope: env,
    envelopeVersion: envelopeVersion(env),
    twoPersonAboveStep: Infinity,
    autoApproval: { enabled: false, maxStep: 0 },
    commandTtlMs: 10_000,
    signingKey: KEY,
    resultGraceMs: 5_000,
    ...over,
  };
}

export function proposal(id: string, from: number, to: number, o: { nowMs?: number; ttlMs?: number; quality?: Quality } = {}): Proposal {
  const nowMs = o.nowMs ?? 0;
  return {
    id,
    asset: ASSET,
    tag: TAG,
    currentValue: from,
    proposedValue: to,
    unit: 'degC',
    rationale: 'lower energy per kg while quality holds',
    predictedEffect: { kpiTag: 'energy_per_kg', currentKpi: 1, predictedKpi: 0.9, lowKpi: 0.85, highKpi: 0.95, intervalPct: 90 },
    fit: { method: 'ols-quadratic', n: 100, r2: 0.9, rmse: 0.01 },
    fitRange: { fromTsMs: nowMs - 3_600_000, toTsMs: nowMs, setpointMin: 150, setpointMax: 250 },
    createdTsMs: nowMs,
    expiresTsMs: nowMs + (o.ttlMs ?? 1_000_000),
    quality: o.quality ?? 'good',
  };
}

/**
 * A proposal as twin-propose makes one for a live plant (the integration specs): a fresh id, made now,
 * fitted ±30 units around `from`, expiring after `ttlMs`.
 */
export function liveProposal(
  asset: string,
  tag: string,
  from: number,
  to: number,
  o: { unit?: string; ttlMs?: number; rationale?: string } = {},
): Proposal {
  const now = Date.now();
  return {
    id: randomUUID(),
    asset,
    tag,
    currentValue: from,
    proposedValue: to,
    unit: o.unit ?? 'degC',
    rationale: o.rationale ?? `${tag} from ${from} to ${to}`,
    predictedEffect: {
      kpiTag: 'energy_per_kg',
      kpiUnit: 'kWh/kg',
      currentKpi: 0.31,
      predictedKpi: 0.3,
      lowKpi: 0.295,
      highKpi: 0.305,
      intervalPct: 90,
    },
    fit: { method: 'ols-quadratic', n: 120, r2: 0.93, rmse: 0.004 },
    fitRange: { fromTsMs: now - 3_600_000, toTsMs: now, setpointMin: from - 30, setpointMax: from + 30 },
    createdTsMs: now,
    expiresTsMs: now + (o.ttlMs ?? 120_000),
    quality: 'good',
  };
}

export function reading(tag: string, value: number, tsMs: number, quality: Quality = 'good'): Reading {
  return { asset: ASSET, tag, value, tsMs, quality, source: 'sim' };
}

export function result(
  cmd: Command,
  outcome: WriteResult['outcome'],
  tsMs: number,
  readBackOk: boolean | undefined = outcome === 'written',
): WriteResult {
  const r: WriteResult = {
    commandId: cmd.id,
    proposalId: cmd.proposalId,
    asset: cmd.asset,
    tag: cmd.tag,
    value: cmd.value,
    outcome,
    writer: 'writer-1',
    tsMs,
  };
  if (outcome === 'written' && readBackOk !== undefined) {
    r.readBackOk = readBackOk;
    r.readBackValue = readBackOk ? cmd.value : cmd.value - 1;
  }
  return r;
}

/** `proposal:p1:pending`, `cmd:p1:2/3=208`, `reply:ok:approved`, `reply:err` … */
export function label(e: GateEffect): string {
  if (e.kind === 'command')
    return `cmd:${e.command.proposalId}:${e.command.step}/${e.command.steps}=${e.command.value}${e.replay ? ':replay' : ''}`;
  if (e.kind === 'order') return `order:${e.order.proposalId}${e.replay ? ':replay' : ''}`;
  if (e.kind === 'reply') return e.outcome.ok ? `reply:ok${e.outcome.state ? ':' + e.outcome.state : ''}` : 'reply:err';
  if (e.entry.type === 'policy') return `policy:${(e.entry.data as { enabled: boolean }).enabled ? 'on' : 'off'}`;
  return `${e.entry.type}:${e.entry.proposalId}:${e.snapshot?.state}`;
}

/** One string per batch, command records left out (the command itself follows them). */
export function batchLabel(batch: GateEffect[]): string {
  return batch
    .filter((e) => !(e.kind === 'record' && e.entry.type === 'command'))
    .map(label)
    .join(' ');
}
