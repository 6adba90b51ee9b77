/**
 * twin-approval's configuration: the editor's fields (numbers may arrive as strings) and the config
 * nodes it references → a validated GateConfig, or a TwinError that names the field. Apart from the
 * node file so that the node module exports only its registration function.
 */
import type { NodeDef } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { validateGateConfig, type GateConfig } from '../../runtime/control/gate-state.js';
import { validateMaintenanceGateConfig, type MaintenanceGateConfig } from '../../runtime/control/gate-maintenance.js';
import { envelopeOf, type TwinEnvelopeNode } from '../twin-envelope/envelope-api.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';

export type ApprovalMode = 'setpoint' | 'maintenance';

export interface TwinApprovalDef extends NodeDef {
  /** What the gate decides on; blank = 'setpoint' (flows from before the mode existed). */
  mode?: string;
  envelope: string;
  ledger: string;
  /** Blank = two-person rule off. */
  twoPersonAboveStep?: string | number;
  autoApproval?: boolean | string;
  autoApprovalMaxStep?: string | number;
  commandTtlMs?: string | number;
  kpiTag?: string;
  /** Maintenance mode: the asset the gate decides maintenance for. */
  asset?: string;
  /** Maintenance mode: windows whose expected cost is above this need two approvers; blank = off. */
  twoPersonAboveEur?: string | number;
}

export function approvalMode(def: TwinApprovalDef): ApprovalMode {
  const m = typeof def.mode === 'string' ? def.mode.trim() : '';
  if (m === '' || m === 'setpoint') return 'setpoint';
  if (m === 'maintenance') return 'maintenance';
  throw new TwinError('BAD_CONFIG', `mode must be setpoint or maintenance, not ${JSON.stringify(def.mode)}`);
}

function signingKeyOf(ledgerNode: TwinLedgerNode | null): string {
  const badCfg = (m: string) => new TwinError('BAD_CONFIG', m);
  if (!ledgerNode) throw badCfg('ledger: no twin-ledger configured');
  if (ledgerNode.configError) throw badCfg(`ledger: ${ledgerNode.configError}`);
  const key = ledgerNode.signingKey();
  if (!key) throw badCfg('ledger: no signing key');
  return key;
}

function number(v: unknown, field: string, dflt?: number): number {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (dflt === undefined) throw new TwinError('BAD_CONFIG', `${field} is required`);
    return dflt;
  }
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new TwinError('BAD_CONFIG', `${field} must be a number, not ${JSON.stringify(v)}`);
  return n;
}

export function gateConfigFromDef(def: TwinApprovalDef, envNode: TwinEnvelopeNode | null, ledgerNode: TwinLedgerNode | null): GateConfig {
  const badCfg = (m: string) => new TwinError('BAD_CONFIG', m);
  const e = envelopeOf(envNode);
  if ('error' in e) throw badCfg(`envelope: ${e.error}`);
  const key = signingKeyOf(ledgerNode);
  const auto = def.autoApproval === true || def.autoApproval === 'true';
  return validateGateConfig({
    envelope: e.env,
    envelopeVersion: e.version,
    twoPersonAboveStep: number(def.twoPersonAboveStep, 'twoPersonAboveStep', Infinity),
    autoApproval: { enabled: auto, maxStep: auto ? number(def.autoApprovalMaxStep, 'autoApprovalMaxStep') : 0 },
    commandTtlMs: number(def.commandTtlMs, 'commandTtlMs', 60_000),
    signingKey: key,
  });
}

/** Maintenance mode: no envelope; the asset, the ledger's signing key and the two-person threshold in EUR. */
export function maintenanceConfigFromDef(def: TwinApprovalDef, ledgerNode: TwinLedgerNode | null): MaintenanceGateConfig {
  return validateMaintenanceGateConfig({
    kind: 'maintenance',
    asset: typeof def.asset === 'string' ? def.asset.trim() : '',
    twoPersonAboveEur: number(def.twoPersonAboveEur, 'twoPersonAboveEur', Infinity),
    signingKey: signingKeyOf(ledgerNode),
  });
}
