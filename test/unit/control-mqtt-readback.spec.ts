// What an MQTT writer sends and reads back (runtime/control/mqtt-readback.ts), with real Sparkplug B
// payloads from the project's codec: json read-back values (bare numbers, UNS readings, bad quality
// not the plant's value), Sparkplug metrics by name and by alias learnt from a birth, the rebirth
// request when data by alias comes without one, topics, command messages and the read-back choice.
import { expect } from 'chai';
import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  parseSparkplugTopic,
  type SparkplugMetric,
} from '../../runtime/ingest/sparkplug-codec.js';
import { REBIRTH_METRIC } from '../../runtime/ingest/sparkplug-host.js';
import {
  SparkplugReadBack,
  commandMessage,
  jsonReadBackValue,
  readBackOf,
  readBackSource,
  rebirthRequest,
  sparkplugTopicOf,
  type MqttWriteSettings,
} from '../../runtime/control/mqtt-readback.js';

const SP: MqttWriteSettings = {
  format: 'sparkplug',
  commandTopic: '',
  readBackTopic: '',
  groupId: 'plant1',
  edgeNodeId: 'plc7',
  deviceId: 'extruder1',
  metric: 'zone3/setpoint',
  readBackTimeoutMs: 2000,
};
const JSON_S: MqttWriteSettings = { ...SP, format: 'json', commandTopic: 'acme/line1/zone3_sp/set', readBackTopic: 'acme/line1/zone3_sp' };
const payload = (metrics: SparkplugMetric[]) => encodeSparkplugPayload({ timestampMs: 1, metrics });

describe('MQTT writer read-back (runtime/control/mqtt-readback.ts)', function () {
  it("json: a bare number or a reading's value; a bad reading, a non-number, broken JSON are no value", function () {
    expect(jsonReadBackValue(Buffer.from('212.5'))).to.equal(212.5);
    expect(jsonReadBackValue('{"value":210,"quality":"good"}')).to.equal(210);
    expect(jsonReadBackValue('{"value":210,"quality":"uncertain"}')).to.equal(210);
    expect(jsonReadBackValue('{"value":210,"quality":"bad"}')).to.equal(undefined);
    expect(jsonReadBackValue('{"value":"210"}')).to.equal(undefined);
    expect(jsonReadBackValue('null')).to.equal(undefined);
    expect(jsonReadBackValue('{"value":')).to.equal(undefined);
  });

  it('sparkplug: the metric by name in a birth and data; data by its alias once a birth named it; others ignored', function () {
    const rb = new SparkplugReadBack(SP.metric);
    const birth = payload([
      { name: SP.metric, alias: 7, type: 'Double', value: 200 },
      { name: 'zone3/temperature', alias: 8, type: 'Double', value: 199.1 },
    ]);
    expect(rb.take(birth, true)).to.deep.equal({ values: [200], rebirth: false });
    const byAlias = payload([
      { alias: 7, type: 'Double', value: 204 },
      { alias: 8, type: 'Double', value: 201 },
    ]);
    expect(rb.take(byAlias, false)).to.deep.equal({ values: [204], rebirth: false });
    expect(rb.take(payload([{ name: SP.metric, type: 'Double', value: 205 }]), false)).to.deep.equal({ values: [205], rebirth: false });
    // a null value is no value
    expect(rb.take(payload([{ alias: 7, type: 'Double', value: null, isNull: true }]), false).values).to.deep.equal([]);
    // a new birth without the alias forgets it: data by alias can no longer be read, a rebirth is asked
    rb.take(payload([{ name: SP.metric, type: 'Double', value: 206 }]), true);
    expect(rb.take(payload([{ alias: 7, type: 'Double', value: 207 }]), false)).to.deep.equal({ values: [], rebirth: true });
  });

  it('sparkplug: data by alias with no birth seen asks for a rebirth; an undecodable payload is nothing', function () {
    const rb = new SparkplugReadBack(SP.metric);
    expect(rb.take(payload([{ alias: 7, type: 'Double', value: 204 }]), false)).to.deep.equal({ values: [], rebirth: true });
    expect(rb.take(Buffer.from([0xff, 0xff, 0xff]), false)).to.deep.equal({ values: [], rebirth: false });
  });

  it("topics: the device's, or the edge node's for a node-level metric; the rebirth request goes to the edge node", function () {
    expect(sparkplugTopicOf(SP, 'CMD')).to.equal('spBv1.0/plant1/DCMD/plc7/extruder1');
    expect(sparkplugTopicOf({ ...SP, deviceId: '' }, 'DATA')).to.equal('spBv1.0/plant1/NDATA/plc7');
    const r = rebirthRequest(SP, 5000);
    expect(parseSparkplugTopic(r.topic)).to.include({ messageType: 'NCMD', edgeNodeId: 'plc7' });
    expect(decodeSparkplugPayload(r.payload).metrics.find((m) => m.name === REBIRTH_METRIC)?.value).to.equal(true);
    expect(readBackSource(SP)).to.equal('spBv1.0/plant1/DDATA/plc7/extruder1 metric zone3/setpoint');
    expect(readBackSource(JSON_S)).to.equal('acme/line1/zone3_sp');
  });

  it('command messages: json with the command id and time; sparkplug a DCMD with the metric by name as a Double', function () {
    const j = commandMessage(JSON_S, 204, 'cmd-1', 1234);
    expect(j).to.deep.equal({ topic: 'acme/line1/zone3_sp/set', payload: '{"value":204,"commandId":"cmd-1","tsMs":1234}' });
    const s = commandMessage(SP, 204, 'cmd-1', 1234);
    expect(s.topic).to.equal('spBv1.0/plant1/DCMD/plc7/extruder1');
    const decoded = decodeSparkplugPayload(s.payload as Buffer);
    expect(decoded.timestampMs).to.equal(1234);
    expect(decoded.metrics).to.have.length(1);
    expect(decoded.metrics[0]).to.include({ name: 'zone3/setpoint', type: 'Double', value: 204 });
  });

  it('read-back: the first value within tolerance seen since the publish, else the last seen, else none', function () {
    expect(readBackOf([199, 203.9, 204], 204, 0.2)).to.deep.equal({ value: 203.9, match: true });
    expect(readBackOf([199, 200], 204, 0.2)).to.deep.equal({ value: 200, match: false });
    expect(readBackOf([], 204, 0.2)).to.equal(undefined);
  });
});
