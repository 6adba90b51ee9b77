/**
 * twin-alarm with its defaults (watch blank: every tag it is fed is scored) behind twin-estimate in
 * a real Node-RED, fed by the plant simulator's engine (event time): the modelled tags' Estimates, and
 * Readings of every other tag and of the setpoints (the known inputs). A setpoint step moves the tags
 * with no model (heater power, drive power and current, melt pressure): the settling window after
 * the setpoint's change keeps them quiet; a feed starvation moves them all: one alarm, the others
 * recorded as its consequences.
 */
import { expect } from 'chai';
import { ASSET, MIN, loadAlarmSimRig, raised, simulate, type AlarmSimRig } from '../support/alarm-sim-rig.js';
import { nodeRedPerSpec } from '../support/node-rig.js';

/** Tags read straight into twin-alarm, scored on the learned baseline (no model), and the setpoints (known inputs). */
const RELATED = ['zone1_heater_kw', 'zone2_temp', 'melt_temp', 'melt_pressure', 'motor_power', 'motor_current', 'quality_index'];
const SETPOINTS = ['zone1_sp', 'screw_speed_sp'];

const load = (alarm: Record<string, unknown> = {}): Promise<AlarmSimRig> => loadAlarmSimRig(alarm, [...RELATED, ...SETPOINTS]);
const STEPS = [
  { atMs: 10 * MIN, command: 'set zone1_sp 200' },
  { atMs: 20 * MIN, command: 'set screw_speed_sp 90' },
];

describe('twin-alarm with its defaults (every tag): known inputs and one alarm per process change', function () {
  this.timeout(240_000);
  nodeRedPerSpec();

  it('setpoint steps (zone +10 °C, screw 80 → 90 rpm): no alarm; the setpoints are not scored', async function () {
    const rig = await load();
    await simulate(rig, STEPS, 30 * MIN);
    expect(rig.caught.map((m) => m.error?.message)).to.deep.equal([]);
    expect(raised(rig)).to.deep.equal([]);
    expect(rig.events.filter((e) => SETPOINTS.some((t) => e.alarmId.endsWith(`/${t}`)))).to.deep.equal([]);
  });

  it('the same steps with no settling window: the tags with no model alarm', async function () {
    const rig = await load({ settleMs: 0 });
    await simulate(rig, STEPS, 30 * MIN);
    expect(raised(rig).length).to.be.at.least(1);
    expect(raised(rig).every((e) => e.cause?.method === 'learned-baseline')).to.equal(true);
  });

  it('feed starvation: one annunciated alarm; the other tags that alarmed are recorded as its consequences', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'disturb feed_starve 0.5' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/throughput`]);
    expect(r[0].cause?.kind).to.equal('process-change');
    const rest = rig.events.filter((e) => e.kind === 'raised' && !e.annunciated);
    expect(rest.length).to.be.at.least(2);
    for (const e of rest) expect(e).to.include({ suppressedBy: `${ASSET}/throughput`, state: 'suppressed-by-design' });
  });
});
