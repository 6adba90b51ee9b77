/**
 * twin-approval's configuration: the editor's fields (numbers may arrive as strings) and the config
 * nodes it references → a validated GateConfig, or a TwinError that names the field. Apart from the
 * node file so that the node module exports only its registration function.
 */
import type { NodeDef } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { validateGateConfig, type GateConfig } from '../../runtime/control/gate-state.js';
import { envelopeOf, type TwinEnvelopeNode } from '../twin-envelope/envelope-api.js';
import type { TwinLedgerNode } from '../twin-ledger/ledger-api.js';

export interface TwinApprovalDef extends NodeDef {
  envelope: string;
  ledger: string;
  /** Blank = two-person rule off. */
  twoPersonAboveStep?: string | number;
  autoApproval?: boolean | string;
  autoApprovalMaxStep?: string | number;
  commandTtlMs?: string | number;
  kpiTag?: string;
}

export function gateConfigFromDef(def: TwinApprovalDef, envNode: TwinEnvelopeNode | null, ledgerNode: TwinLedgerNode | null): GateConfig {
  const badCfg = (m: string) => new TwinError('BAD_CONFIG', m);
  const e = envelopeOf(envNode);
  if ('error' in e) throw badCfg(`envelope: ${e.error}`);
  if (!ledgerNode) throw badCfg('ledger: no twin-ledger configured');
  if (ledgerNode.configError) throw badCfg(`ledger: ${ledgerNode.configError}`);
  const key = ledgerNode.signingKey();
  if (!key) throw badCfg('ledger: no signing key');
  const number = (v: unknown, field: string, dflt?: number): number => {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      if (dflt === undefined) throw badCfg(`${field} is required`);
      return dflt;
    }
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    if (!Number.isFinite(n)) throw badCfg(`${field} must be a number, not ${JSON.stringify(v)}`);
    return n;
  };
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

