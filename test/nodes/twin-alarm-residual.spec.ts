/**
 * twin-estimate → twin-alarm in a real Node-RED, fed by the plant simulator's engine (event time):
 * the alarm scores the estimate's own prediction (method auto: an Estimate with `predicted` and
 * `innovationVar`), so a setpoint step the first-order model predicts raises nothing, while a stuck
 * sensor, a sensor drift, recurring spikes and a feed starvation each raise one alarm with its cause
 * and evidence.
 */
import { expect } from 'chai';
import { ASSET, MIN, loadAlarmSimRig, raised, simulate, type AlarmSimRig } from '../support/alarm-sim-rig.js';
import { nodeRedPerSpec } from '../support/node-rig.js';

/** Tags read straight into twin-alarm: related tags for the classification (not watched). */
const RELATED = ['zone1_heater_kw', 'zone2_temp', 'melt_temp', 'melt_pressure', 'motor_power', 'motor_current', 'quality_index'];

const load = (): Promise<AlarmSimRig> => loadAlarmSimRig({ watch: 'zone1_temp, throughput' }, RELATED);

describe('twin-alarm on twin-estimate: the twin residual', function () {
  this.timeout(180_000);
  nodeRedPerSpec();

  it('setpoint steps the models predict (zone +10 °C, screw 80 → 90 rpm) raise nothing', async function () {
    const rig = await load();
    await simulate(
      rig,
      [
        { atMs: 10 * MIN, command: 'set zone1_sp 200' },
        { atMs: 20 * MIN, command: 'set screw_speed_sp 90' },
      ],
      30 * MIN,
    );
    expect(rig.caught.map((m) => m.error?.message)).to.deep.equal([]);
    expect(raised(rig)).to.deep.equal([]);
  });

  it('a stuck thermocouple: one alarm, a sensor fault of type stuck, on the residual', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'stuck zone1_temp' }], 20 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'stuck', method: 'twin-residual' });
  });

  it('a thermocouple drift: one alarm, a sensor fault, and no related tag moved', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'drift zone1_temp 60' }], 20 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'drift' });
    expect((r[0].cause?.evidence as { corroboration: { perTag: string[] } }).corroboration.perTag).to.deep.equal([]);
  });

  it('a thermocouple spiking on 5 % of its readings: one alarm, a sensor fault of type spike', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'spike zone1_temp' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/zone1_temp`]);
    expect(r[0].cause).to.include({ kind: 'sensor-fault', faultType: 'spike' });
  });

  it('feed starvation: one alarm on throughput, a process change, with the related tags that moved', async function () {
    const rig = await load();
    await simulate(rig, [{ atMs: 10 * MIN, command: 'disturb feed_starve 0.5' }], 16 * MIN);
    const r = raised(rig);
    expect(r.map((e) => e.alarmId)).to.deep.equal([`${ASSET}/throughput`]);
    expect(r[0].cause?.kind).to.equal('process-change');
    expect((r[0].cause?.evidence as { corroboration: { perTag: string[] } }).corroboration.perTag).to.include.members([
      'melt_pressure',
      'motor_power',
    ]);
  });
});
