/**
 * A gate that could not start on its ledger (not authentic, truncated, missing, broken) still
 * appears on the supervisors' page, with the alarm: why it refuses to act and what to do. It lists
 * no proposals and refuses every decision; nothing reaches the plant.
 */
import type { DecisionOutcome, GateFacts, GateHandle } from './gate-registry.js';
import type { LedgerAlarm } from './ledger-auth.js';

const refusal = (alarm: LedgerAlarm) => `the gate refuses to act: ${alarm.reason}`;

/** The handle of a gate of either kind that refuses to act: what it shows, the alarm, and refusals. */
export function alarmedGateHandle(g: GateFacts, alarm: LedgerAlarm): GateHandle {
  const refuse = async (): Promise<DecisionOutcome> => ({ ok: false, error: refusal(alarm) });
  const calls = {
    alarm,
    views: () => [],
    decide: refuse,
    ledgerRecords: async () => {
      throw new Error(refusal(alarm));
    },
  };
  if (g.kind === 'maintenance') return { ...g, ...calls };
  return { ...g, ...calls, autoApproval: () => ({ enabled: false, configured: false, maxStep: 0 }), setAutoApproval: refuse };
}
