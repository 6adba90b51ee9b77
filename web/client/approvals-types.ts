/**
 * What the approvals API answers (web/server/approvals-api.ts), in the runtime's types (types only:
 * nothing of runtime/control/ is bundled into the page).
 */
import type { AutoApprovalPolicy, MaintenanceView, ProposalView } from '../../runtime/control/gate-registry.js';
import type { LedgerAlarm } from '../../runtime/control/ledger-auth.js';
import type { LedgerVerification } from '../../runtime/control/stores.js';
import type { LedgerRecord } from '../../runtime/model/control.js';

export interface Me {
  adminAuth: boolean;
  username: string | null;
  printedName: string | null;
  canApprove: boolean;
}

interface GateBase {
  id: string;
  name: string;
  asset: string;
  alarm?: LedgerAlarm;
  /** In a cluster: the instance serving the gate (decisions go there) and the line it acts for. */
  instance?: string;
  line?: string;
  /** Served by another instance than the one this page talks to. */
  remote?: boolean;
}
export interface SetpointGate extends GateBase {
  kind: 'setpoint';
  tag: string;
  unit?: string;
  twoPersonAboveStep: number | null;
  autoApproval: AutoApprovalPolicy;
}
export interface MaintenanceGate extends GateBase {
  kind: 'maintenance';
  twoPersonAboveEur: number | null;
}
export type Gate = SetpointGate | MaintenanceGate;

/** In a cluster: who owns which line, and the lines no instance owns now (a takeover in progress). */
export interface ClusterInfo {
  instance: string;
  instances: string[];
  owners: Record<string, string>;
  unowned: string[];
}

export type SetpointView = ProposalView & { gateId: string; gateName: string; kind: 'setpoint' };
export type MaintenanceCardView = MaintenanceView & { gateId: string; gateName: string; kind: 'maintenance' };
export type View = SetpointView | MaintenanceCardView;

export interface Ledger {
  ledgerLocation: string;
  gates: Array<{ id: string; kind: 'setpoint' | 'maintenance'; name: string; asset: string; tag?: string }>;
  verification: LedgerVerification | { ok: null; reason: string };
  total: number;
  /** Newest first; `data` is the record type's payload (a proposal, decision, command, write result, …). */
  records: LedgerRecord[];
  writers: Record<string, string>;
  error?: string;
}
