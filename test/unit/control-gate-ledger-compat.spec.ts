// The one gate core writes the ledgers the two former gates wrote: the same scripted life of a
// setpoint gate and of a maintenance gate (test/support/gate-ledger-scenarios.ts) leaves the records
// in test/fixtures/gate-ledgers/, written by the gates before they shared a core (same types, data,
// times and hashes), and those ledgers restore. Also: a record without a kind is a setpoint's, and a
// maintenance gate refuses what only a setpoint gate takes.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerRecord } from '../../runtime/model/control.js';
import type { MaintenanceProposal } from '../../runtime/model/maintenance.js';
import { Gate } from '../../runtime/control/gate.js';
import { GateMachine } from '../../runtime/control/gate-machine.js';
import { recordKind } from '../../runtime/control/gate-kind.js';
import { restoreGateState } from '../../runtime/control/gate-restore.js';
import type { MaintenanceGateConfig } from '../../runtime/control/gate-maintenance.js';
import {
  maintenanceScenario,
  maintenanceScenarioConfig,
  setpointScenario,
  setpointScenarioConfig,
} from '../support/gate-ledger-scenarios.js';
import { reading } from '../support/control-gate-fixtures.js';

const FIXTURES = join(__dirname, '..', 'fixtures', 'gate-ledgers');
const fixture = (name: string): LedgerRecord[] => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as LedgerRecord[];
const maintenanceConfig = (): MaintenanceGateConfig => ({ kind: 'maintenance', ...maintenanceScenarioConfig() });
type AnyState = { changes: Map<string, { proposal: { id: string }; state: string }> };
const states = (s: AnyState) => [...s.changes.values()].map((c) => [c.proposal.id, c.state]);

describe('approval gate: ledgers from before the one core', function () {
  it('a setpoint gate writes the same records, byte for byte (hashes equal), as before', async function () {
    const records = await setpointScenario((o) => Gate.open(o));
    const types = ['proposal', 'decision', 'command', 'readback', 'proposal', 'decision', 'proposal', 'expired'];
    expect(records.map((r) => r.type)).to.deep.equal(types);
    expect(records).to.deep.equal(fixture('setpoint.json'));
  });

  it('a maintenance gate writes the same records, byte for byte (hashes equal), as the former maintenance gate', async function () {
    const records = await maintenanceScenario((o) => Gate.open({ ...o, config: maintenanceConfig() }));
    expect(records.filter((r) => r.type === 'order')).to.have.length(1);
    expect(records).to.deep.equal(fixture('maintenance.json'));
  });

  it('the old ledgers restore: states, decisions, the order', function () {
    const sp = restoreGateState(setpointScenarioConfig(), fixture('setpoint.json'));
    expect(states(sp)).to.deep.equal([
      ['p1', 'done'],
      ['p2', 'rejected'],
      ['p3', 'expired'],
    ]);
    expect(sp.changes.get('p1')!.commands).to.have.length(1);

    const m = restoreGateState<MaintenanceProposal>(maintenanceConfig(), fixture('maintenance.json'));
    expect(states(m)).to.deep.equal([
      ['one', 'approved'],
      ['two', 'pending'],
      ['rej', 'rejected'],
      ['old', 'superseded'],
      ['exp', 'expired'],
      ['new', 'pending'],
    ]);
    expect(m.changes.get('one')!.order).to.deep.equal(fixture('maintenance.json').find((r) => r.type === 'order')!.data);
    expect(m.changes.get('two')!.decisions.map((d) => d.user)).to.deep.equal(['alice']);
    expect(m.changes.get('rej')!.reason).to.equal('rejected by carol: parts not in stock');
    // the two gates on one ledger and asset never read each other's records
    const spAsset = setpointScenarioConfig().envelope.asset;
    const both = [...fixture('setpoint.json'), ...fixture('maintenance.json').map((r) => ({ ...r, asset: spAsset }))];
    expect(states(restoreGateState(setpointScenarioConfig(), both))).to.deep.equal(states(sp));
  });

  it("a record without a kind is a setpoint's; one that says maintenance is not, even under a setpoint's asset and tag", function () {
    expect(fixture('setpoint.json').every((r) => recordKind(r) === 'setpoint')).to.equal(true);
    expect(
      fixture('maintenance.json')
        .filter((r) => r.type === 'proposal')
        .every((r) => recordKind(r) === 'maintenance'),
    ).to.equal(true);
    const cfg = setpointScenarioConfig();
    const smuggled = fixture('maintenance.json')
      .filter((r) => r.type === 'proposal')
      .map((r) => ({ ...r, asset: cfg.envelope.asset, tag: cfg.envelope.tag }));
    expect(restoreGateState(cfg, smuggled).changes.size).to.equal(0);
  });

  it('a maintenance gate refuses readings, write results and policy switches, recording nothing', function () {
    const m = new GateMachine<MaintenanceProposal>(maintenanceConfig());
    const inputs = [
      { kind: 'reading' as const, reading: reading('mode', 1, 0), token: 1 },
      { kind: 'policy' as const, enabled: true, user: 'alice', token: 2 },
    ];
    for (const input of inputs) {
      const out = m.handle(input, 0);
      expect(out).to.deep.equal([
        {
          kind: 'reply',
          token: input.token,
          outcome: { ok: false, error: `a maintenance gate takes maintenance proposals only, not a ${input.kind}` },
        },
      ]);
    }
  });
});
