/**
 * A gate as the supervisors' pages receive it, built once for both routes to it: the local registry
 * (web/server/approvals-api.ts) and another cluster instance's gate service
 * (runtime/cluster/gate-service.ts), which sends the same summary and views over NATS.
 */
import type { Verdict } from '../model/control.js';
import {
  DEFAULT_MEANING,
  MAINTENANCE_MEANING,
  gateName,
  type AutoApprovalPolicy,
  type GateHandle,
  type MaintenanceView,
  type ProposalView,
  type TrendPoint,
} from './gate-registry.js';
import type { ProposalKind } from './gate-kind.js';

/** Trend points per series sent every poll: enough for a 480 px chart. */
export const TREND_POINTS = 240;

/** A gate as GET api/gates lists it (web/client/approvals-types.ts Gate). */
export function gateSummary(g: GateHandle) {
  if (g.kind === 'maintenance')
    return {
      id: g.id,
      kind: 'maintenance' as const,
      name: gateName(g),
      asset: g.asset,
      // JSON has no Infinity: null = the two-person rule is off.
      twoPersonAboveEur: Number.isFinite(g.twoPersonAboveEur) ? g.twoPersonAboveEur : null,
      ...(g.alarm ? { alarm: g.alarm } : {}),
    };
  return {
    id: g.id,
    kind: 'setpoint' as const,
    name: gateName(g),
    asset: g.asset,
    tag: g.tag,
    unit: g.envelope?.unit,
    envelopeVersion: g.envelopeVersion,
    envelope: g.envelope,
    // JSON has no Infinity: null = the two-person rule is off.
    twoPersonAboveStep: Number.isFinite(g.twoPersonAboveStep) ? g.twoPersonAboveStep : null,
    autoApproval: policyOf(g),
    // the gate could not start on its ledger and refuses to act: why, and what to do
    ...(g.alarm ? { alarm: g.alarm } : {}),
  };
}

export type GateSummary = ReturnType<typeof gateSummary>;

/** A proposal as GET api/proposals lists it (web/client/approvals-types.ts View). */
export type GateView =
  | (ProposalView & { gateId: string; gateName: string; kind: 'setpoint' })
  | (MaintenanceView & { gateId: string; gateName: string; kind: 'maintenance' });

/** The gate's open and recently ended proposals as the page shows them (trends thinned). */
export function gateViews(g: GateHandle): GateView[] {
  if (g.kind === 'maintenance') return g.views().map((v) => ({ gateId: g.id, gateName: gateName(g), kind: 'maintenance' as const, ...v }));
  return g.views().map((v) => ({
    gateId: g.id,
    gateName: gateName(g),
    kind: 'setpoint' as const,
    ...v,
    trend: { setpoint: thin(v.trend.setpoint), kpi: thin(v.trend.kpi) },
  }));
}

/** The gate's policy; a handle from before `configured` existed is read by the old convention (a band > 0). */
export function policyOf(g: GateHandle<'setpoint'>): AutoApprovalPolicy {
  const p = g.autoApproval();
  return typeof p.configured === 'boolean' ? p : { ...p, configured: p.maxStep > 0 };
}

/** What a signature means: the supervisor's own (kept or edited) wording, else the standard one for the gate's kind. */
export function meaningFor(kind: ProposalKind, verdict: Verdict, given: unknown): string {
  if (typeof given === 'string' && given.trim() !== '') return given.trim();
  return (kind === 'maintenance' ? MAINTENANCE_MEANING : DEFAULT_MEANING)[verdict];
}

/** At most TREND_POINTS points, evenly picked, the newest always kept. */
export function thin(points: TrendPoint[]): TrendPoint[] {
  if (points.length <= TREND_POINTS) return points;
  const every = points.length / TREND_POINTS;
  const out: TrendPoint[] = [];
  for (let i = 0; i < TREND_POINTS - 1; i++) out.push(points[Math.floor(i * every)]);
  out.push(points[points.length - 1]);
  return out;
}
