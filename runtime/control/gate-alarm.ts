/**
 * A gate that could not start on its ledger (not authentic, truncated, missing, broken) still
 * appears on the supervisors' page, with the alarm: why it refuses to act and what to do. It lists
 * no proposals and refuses every decision; nothing reaches the plant.
 */
import type { GateHandle, MaintenanceGateHandle } from './gate-registry.js';
import type { LedgerAlarm } from './ledger-auth.js';

const refusal = (alarm: LedgerAlarm) => `the gate refuses to act: ${alarm.reason}`;

export function alarmedGateHandle(
  g: Pick<GateHandle, 'id' | 'name' | 'asset' | 'tag' | 'envelope' | 'envelopeVersion' | 'twoPersonAboveStep' | 'ledgerLocation'>,
  alarm: LedgerAlarm,
): GateHandle {
  return {
    ...g,
    alarm,
    autoApproval: () => ({ enabled: false, configured: false, maxStep: 0 }),
    views: () => [],
    decide: async () => ({ ok: false, error: refusal(alarm) }),
    setAutoApproval: async () => ({ ok: false, error: refusal(alarm) }),
    ledgerRecords: async () => {
      throw new Error(refusal(alarm));
    },
  };
}

export function alarmedMaintenanceHandle(
  g: Pick<MaintenanceGateHandle, 'id' | 'name' | 'asset' | 'twoPersonAboveEur' | 'ledgerLocation'>,
  alarm: LedgerAlarm,
): MaintenanceGateHandle {
  return {
    kind: 'maintenance',
    ...g,
    alarm,
    views: () => [],
    decide: async () => ({ ok: false, error: refusal(alarm) }),
    ledgerRecords: async () => {
      throw new Error(refusal(alarm));
    },
  };
}
