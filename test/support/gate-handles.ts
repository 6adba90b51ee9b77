/**
 * For the cluster gate service's specs: a small GateHandle (setpoint kind) that keeps its proposals
 * in memory and records what decide() / setAutoApproval() got, and a registry of such handles per
 * simulated instance (runtime/cluster/gate-service.ts GateSource), so that two services in one
 * process serve different gates. The approvals page specs use the fuller TestGate (approvals-gate.ts).
 */
import type { EnvelopeConfig, Proposal } from '../../runtime/model/control.js';
import type { DecisionRequest, GateHandle, ProposalView, TrendPoint } from '../../runtime/control/gate-registry.js';
import type { GateSource } from '../../runtime/cluster/gate-service.js';

const ENVELOPE: EnvelopeConfig = {
  asset: 'spec/asset',
  tag: 'temp_sp',
  unit: 'degC',
  lowLimit: 190,
  highLimit: 240,
  maxStep: 5,
  rateUpPerMin: 2,
  rateDownPerMin: 2,
  minDwellMs: 60_000,
  interlocks: [],
  inputTags: [],
  maxInputAgeMs: 10_000,
  minQuality: 'good',
  ramp: false,
};

export function specProposal(id: string, nowMs = 1_700_000_000_000): Proposal {
  return {
    id,
    asset: ENVELOPE.asset,
    tag: ENVELOPE.tag,
    currentValue: 215,
    proposedValue: 211,
    unit: 'degC',
    rationale: 'lower energy per kg',
    predictedEffect: { kpiTag: 'kpi', currentKpi: 1, predictedKpi: 0.9, lowKpi: 0.85, highKpi: 0.95, intervalPct: 90 },
    fit: { method: 'ols-quadratic', n: 100, r2: 0.9, rmse: 0.01 },
    fitRange: { fromTsMs: nowMs - 3_600_000, toTsMs: nowMs, setpointMin: 205, setpointMax: 225 },
    createdTsMs: nowMs,
    expiresTsMs: nowMs + 900_000,
    quality: 'good',
  };
}

export interface MemoryGate extends GateHandle<'setpoint'> {
  decideCalls: DecisionRequest[];
  policyCalls: Array<{ enabled: boolean; user: string; reason?: string }>;
}

/** A gate with `proposals` pending; `trendPoints` points per series in each view. */
export function memoryGate(id: string, opts: { line?: string; proposals?: string[]; trendPoints?: number } = {}): MemoryGate {
  const trend: TrendPoint[] = Array.from({ length: opts.trendPoints ?? 3 }, (_, i) => ({
    tsMs: 1_700_000_000_000 + i * 1000,
    value: 200 + i,
  }));
  const views = new Map<string, ProposalView>(
    (opts.proposals ?? []).map((p) => [
      p,
      {
        proposal: specProposal(p),
        state: 'pending',
        decisions: [],
        requiredApprovals: 1,
        envelope: { ok: true, version: 'v1', checkedTsMs: 1_700_000_000_000, violations: [] },
        trend: { setpoint: trend, kpi: trend },
      },
    ]),
  );
  let enabled = true;
  const g: MemoryGate = {
    kind: 'setpoint',
    id,
    name: `gate ${id}`,
    asset: ENVELOPE.asset,
    ledgerLocation: `memory:${id}`,
    tag: ENVELOPE.tag,
    envelope: ENVELOPE,
    envelopeVersion: 'v1',
    twoPersonAboveStep: Infinity,
    ...(opts.line ? { line: opts.line } : {}),
    decideCalls: [],
    policyCalls: [],
    views: () => [...views.values()],
    decide: async (req) => {
      g.decideCalls.push(req);
      const v = views.get(req.proposalId);
      if (!v || v.state !== 'pending') return { ok: false, error: `proposal ${req.proposalId} is not pending` };
      v.state = req.verdict === 'approve' ? 'approved' : 'rejected';
      return { ok: true, state: v.state };
    },
    ledgerRecords: async () => [],
    autoApproval: () => ({ enabled, configured: true, maxStep: 1 }),
    setAutoApproval: async (on, user, reason) => {
      g.policyCalls.push({ enabled: on, user, reason });
      enabled = on;
      return { ok: true };
    },
  };
  return g;
}

/** One simulated instance's registry. */
export function memoryRegistry(): GateSource & { add(g: GateHandle): void; remove(id: string): void } {
  const gates = new Map<string, GateHandle>();
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  return {
    list: () => [...gates.values()],
    find: (id) => gates.get(id),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    add: (g) => {
      gates.set(g.id, g);
      changed();
    },
    remove: (id) => {
      gates.delete(id);
      changed();
    },
  };
}
