// The embedded broker's publish rule (bin/lib/broker-acl.ts): only the simulator publishes the
// plant, Node-RED only its twin outputs and Sparkplug commands, nobody else anything.
import { expect } from 'chai';
import { isPlantTopic, mayPublish, NODE_RED_USER, SIM_USER } from '../../bin/lib/broker-acl.js';

const ACL = { plantAsset: 'demo/plant1/extrusion/line1/extruder', sparkplugGroup: 'plant1' };
const A = ACL.plantAsset;

describe('embedded broker ACL', function () {
  const cases: Array<[string, string | undefined, string, boolean]> = [
    ['the simulator, a UNS reading', SIM_USER, `${A}/melt_temp`, true],
    ['the simulator, Sparkplug data', SIM_USER, 'spBv1.0/plant1/DDATA/line1/extruder', true],
    ['the simulator, its death (will)', SIM_USER, 'spBv1.0/plant1/NDEATH/line1', true],
    ['the simulator, a twin output', SIM_USER, `${A}/twin/reading/melt_temp`, false],
    ['the simulator, another group', SIM_USER, 'spBv1.0/plant9/DDATA/line1/extruder', false],
    ['Node-RED, a UNS plant reading (the spoof of attack 1)', NODE_RED_USER, `${A}/melt_temp`, false],
    ['Node-RED, Sparkplug data', NODE_RED_USER, 'spBv1.0/plant1/NDATA/line1', false],
    ['Node-RED, a twin output', NODE_RED_USER, `${A}/twin/reading/melt_temp`, true],
    ['Node-RED, a rebirth request', NODE_RED_USER, 'spBv1.0/plant1/NCMD/line1', true],
    ['Node-RED, a topic outside twin/', NODE_RED_USER, 'demo/other', false],
    ['Node-RED, twin as the first level', NODE_RED_USER, 'twin/x', false],
    ['anonymous', undefined, `${A}/twin/reading/x`, false],
    ['another user', 'line1', `${A}/melt_temp`, false],
  ];
  for (const [what, user, topic, allowed] of cases) {
    it(`${what}: ${allowed ? 'allowed' : 'refused'}`, function () {
      expect(mayPublish(ACL, user, topic)).to.equal(allowed);
    });
  }
  it("plant topics are the asset's own levels and the group's births, deaths and data", function () {
    expect(isPlantTopic(ACL, A)).to.equal(false); // the asset itself carries no reading
    expect(isPlantTopic(ACL, `${A}/zone2_sp`)).to.equal(true);
    expect(isPlantTopic(ACL, 'spBv1.0/plant1/NCMD/line1')).to.equal(false);
  });
});
