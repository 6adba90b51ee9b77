/**
 * One scripted life of each kind of gate over an in-memory ledger with a manual clock: proposals,
 * decisions (one of two approvals, approval, rejection), a write result, an expiry, a supersede.
 * The ledger it leaves is compared with test/fixtures/gate-ledgers/, which the same script wrote
 * with the two gates as they were before they shared one core: the records (and so their hashes)
 * must not change, and such a ledger must still restore.
 */
import type { Observable } from 'rxjs';
import type { Command, LedgerRecord } from '../../runtime/model/control.js';
import type { Ledger } from '../../runtime/control/stores.js';
import { MemoryLedger } from './control-memory-ledger.js';
import { ManualScheduler } from './control-manual-scheduler.js';
import { TAG, gateConfig, proposal, reading } from './control-gate-fixtures.js';
import { result } from './control-gate-results.js';
import { M_ASSET, maintenanceProposal, maintenanceWindow } from './maintenance-proposal.js';

export const SCENARIO_T0 = Date.UTC(2026, 11, 4, 12, 0);
export const SCENARIO_KEY = 'scenario-signing-key-0123456789ab';

interface Outcome {
  ok: boolean;
  state?: string;
  error?: string;
}
interface Decide {
  proposalId: string;
  verdict: 'approve' | 'reject';
  user: string;
  printedName: string;
  reason: string;
}
/** What the scenarios use of a gate (the one core's Gate, and the two gates before it). */
export interface ScenarioGate {
  start(): unknown;
  proposal(p: never): Promise<Outcome>;
  decide(r: Decide): Promise<Outcome>;
  close(): void;
}
interface SetpointGate extends ScenarioGate {
  reading(r: ReturnType<typeof reading>): Promise<Outcome>;
  result(r: ReturnType<typeof result>): Promise<Outcome>;
  commands$: Observable<{ command: Command }>;
}

const decide = (proposalId: string, user: string, verdict: Decide['verdict'] = 'approve', reason = 'ok'): Decide => ({
  proposalId,
  verdict,
  user,
  printedName: user.toUpperCase(),
  reason,
});

function expectOk(o: Outcome, what: string): void {
  if (!o.ok) throw new Error(`${what}: ${o.error}`);
}

export const setpointScenarioConfig = () => gateConfig({ signingKey: 'k'.repeat(32) });

/** A setpoint gate: p1 approved, written and read back (done); p2 rejected; p3 expired. */
export async function setpointScenario(
  open: (o: { config: ReturnType<typeof gateConfig>; ledger: Ledger; scheduler: ManualScheduler }) => Promise<SetpointGate>,
): Promise<LedgerRecord[]> {
  const clock = new ManualScheduler(SCENARIO_T0);
  const ledger = new MemoryLedger([], () => clock.now());
  const gate = await open({ config: setpointScenarioConfig(), ledger, scheduler: clock });
  const commands: Command[] = [];
  gate.commands$.subscribe(({ command }) => commands.push(command));
  await gate.start();
  const t = SCENARIO_T0;
  expectOk(await gate.reading(reading('mode', 1, t)), 'mode');
  expectOk(await gate.reading(reading(TAG, 200, t)), 'setpoint');
  expectOk(await gate.proposal(proposal('p1', 200, 204, { nowMs: t }) as never), 'p1');
  expectOk(await gate.decide(decide('p1', 'alice')), 'approve p1');
  await clock.advanceBy(1000);
  for (const cmd of commands) expectOk(await gate.result(result(cmd, 'written', clock.now(), true)), 'result');
  expectOk(await gate.proposal(proposal('p2', 204, 208, { nowMs: clock.now() }) as never), 'p2');
  expectOk(await gate.decide(decide('p2', 'bob', 'reject', 'not during the trial')), 'reject p2');
  expectOk(await gate.proposal(proposal('p3', 204, 200, { nowMs: clock.now(), ttlMs: 60_000 }) as never), 'p3');
  await clock.advanceBy(61_000);
  gate.close();
  return ledger.records;
}

export const maintenanceScenarioConfig = () => ({ asset: M_ASSET, twoPersonAboveEur: 1000, signingKey: SCENARIO_KEY });

/** A maintenance gate: 'one' approved (order); 'two' half-approved; 'rej' rejected; 'old' superseded by 'new'; 'exp' expired. */
export async function maintenanceScenario(
  open: (o: { config: ReturnType<typeof maintenanceScenarioConfig>; ledger: Ledger; scheduler: ManualScheduler }) => Promise<ScenarioGate>,
): Promise<LedgerRecord[]> {
  const clock = new ManualScheduler(SCENARIO_T0);
  const ledger = new MemoryLedger([], () => clock.now());
  const gate = await open({ config: maintenanceScenarioConfig(), ledger, scheduler: clock });
  await gate.start();
  const t = SCENARIO_T0;
  const day = 86_400_000;
  const p = (id: string, job: string, startMs: number, costEur: number, over = {}) =>
    maintenanceProposal(id, { job, window: maintenanceWindow(startMs, 3_600_000, { expectedCostEur: costEur }), ...over }, t) as never;
  expectOk(await gate.proposal(p('one', 'Lubricate', t + day, 300)), 'one');
  expectOk(await gate.proposal(p('two', 'Replace gearbox bearing', t + 2 * day, 1850)), 'two');
  expectOk(await gate.proposal(p('rej', 'Clean screen changer', t + day, 200)), 'rej');
  expectOk(await gate.proposal(p('old', 'Replace belt', t + 3 * day, 400)), 'old');
  expectOk(await gate.proposal(p('exp', 'Inspect heater bands', t + day, 100, { expiresTsMs: t + 60_000 })), 'exp');
  expectOk(await gate.decide(decide('one', 'bob')), 'approve one');
  expectOk(await gate.decide(decide('two', 'alice')), 'approve two');
  expectOk(await gate.decide(decide('rej', 'carol', 'reject', 'parts not in stock')), 'reject rej');
  await clock.advanceBy(1000);
  expectOk(await gate.proposal(p('new', 'Replace belt', t + 4 * day, 400)), 'new');
  await clock.advanceTo(t + 61_000);
  gate.close();
  return ledger.records;
}
