import { expect } from 'chai';
import { ReplayHubController, replayHub, type ReplaySource } from '../../runtime/replay/hub.js';
import { mqttClaims, opcuaClaims, opcuaUnits } from '../../runtime/replay/claims.js';
import { CAPTURE_ID, prepareReplayFlow } from '../../runtime/replay/flow.js';
import { InFlight } from '../../runtime/replay/idle.js';
import type { Reading } from '../../runtime/model/reading.js';

const reading = (asset: string, tag: string, value = 1): Reading => ({ asset, tag, value, tsMs: 1000, quality: 'good', source: 'replay' });

describe('replay: hub, routing rule, flow preparation, idleness', () => {
  let hub: ReplayHubController;
  beforeEach(() => {
    hub = new ReplayHubController();
  });
  afterEach(() => hub.deactivate());

  it('exists only while a replay is active, once per process', () => {
    expect(replayHub()).to.equal(undefined);
    hub.activate();
    expect(replayHub()).to.not.equal(undefined);
    expect(() => new ReplayHubController().activate()).to.throw(/already running/);
    hub.deactivate();
    expect(replayHub()).to.equal(undefined);
  });

  function source(id: string, claims: (a: string, t: string) => boolean, got: Record<string, string[]>): ReplaySource {
    got[id] = [];
    return { id, type: 't', claims, deliver: (rs) => got[id].push(...rs.map((r) => `${r.asset}/${r.tag}=${r.value}`)) };
  }

  it('gives a source exactly what it names, and every reading to a source that names nothing in the file', () => {
    hub.activate();
    const got: Record<string, string[]> = {};
    replayHub()!.register(source('opcua', opcuaClaims([{ asset: 'line/ex', tag: 'z1' }]), got));
    replayHub()!.register(source('mqtt', mqttClaims({ mode: 'json', pattern: 'line/ex/{tag}', assetTemplate: 'line/ex' }), got));
    replayHub()!.register(source('sparkplug', mqttClaims({ mode: 'sparkplug' }), got));
    const leave = replayHub()!.register(source('gone', () => true, got));
    leave();
    hub.plan(['line/ex/z1', 'line/ex/z2', 'other/z1']);
    expect(hub.catchAllSources().map((s) => s.id)).to.deep.equal(['sparkplug']);
    const n = hub.deliver([reading('line/ex', 'z1', 1), reading('line/ex', 'z2', 2), reading('other', 'z1', 3)]);
    expect(got).to.deep.equal({
      opcua: ['line/ex/z1=1'],
      mqtt: ['line/ex/z1=1', 'line/ex/z2=2'],
      sparkplug: ['line/ex/z1=1', 'line/ex/z2=2', 'other/z1=3'],
      gone: [],
    });
    expect(n).to.equal(6);
  });

  it('MQTT patterns claim what they map back to the same asset and tag', () => {
    const uns = mqttClaims({ pattern: '{asset+}/{tag}' });
    expect(uns('a/b', 'c')).to.equal(true);
    const fixed = mqttClaims({ pattern: 'site/{machine}/{tag}', assetTemplate: 'site/{machine}' });
    expect(fixed('site/m1', 'temp')).to.equal(true);
    expect(fixed('plant/m1', 'temp')).to.equal(false);
    const renamed = mqttClaims({ pattern: 'raw/{m}/{tag}', assetTemplate: 'line/{m}' });
    expect(renamed('raw/m1', 'temp')).to.equal(false); // live, topic raw/m1/temp becomes asset line/m1
    const objects = mqttClaims({ mode: 'json-object', pattern: '{asset+}' });
    expect(objects('plant/m1', 'temp')).to.equal(true);
    expect(
      opcuaUnits([
        { asset: 'a', tag: 't', unit: 'bar' },
        { asset: 'a', tag: 'u' },
      ])('a', 't'),
    ).to.equal('bar');
  });

  it('prepares a flow: capture wires on every TwinLoop port, twin-mqtt-out disabled', () => {
    const p = prepareReplayFlow(
      JSON.stringify([
        { id: 'tab', type: 'tab' },
        { id: 'off', type: 'tab', disabled: true },
        { id: 'in', type: 'twin-mqtt-in', z: 'tab', wires: [['s']] },
        { id: 's', type: 'twin-screen', z: 'tab', wires: [[], ['d']] },
        { id: 'd', type: 'debug', z: 'tab', wires: [] },
        { id: 'out', type: 'twin-mqtt-out', z: 'tab', wires: [] },
        { id: 'in2', type: 'twin-opcua-in', z: 'off', wires: [[]] },
        { id: 'in3', type: 'twin-opcua-in', z: 'tab', d: true, wires: [[]] },
      ]),
    );
    const byId = Object.fromEntries(p.flows.map((n) => [n.id, n]));
    expect(byId.in.wires).to.deep.equal([['s', CAPTURE_ID]]);
    expect(byId.s.wires).to.deep.equal([[CAPTURE_ID], ['d', CAPTURE_ID]]);
    expect(byId.d.wires).to.deep.equal([]);
    expect(byId.out.d).to.equal(true);
    expect(p.ingestion.map((n) => n.id)).to.deep.equal(['in']);
    expect(p.disabled.map((n) => n.id)).to.deep.equal(['out']);
    expect([...p.types].sort()).to.deep.equal(['debug', 'twin-mqtt-in', 'twin-mqtt-out', 'twin-opcua-in', 'twin-screen']);
  });

  it('cuts what writes or decides, leaves out the config nodes only they use, and fills unset connection variables', () => {
    const flow = JSON.stringify([
      { id: 'tab', type: 'tab' },
      { id: 'ep', type: 'twin-opcua-endpoint', endpointUrl: '${OPCUA_ENDPOINT}', securityMode: '${MODE}' },
      { id: 'ledger', type: 'twin-ledger', signingKeyEnv: 'TWINLOOP_SIGNING_KEY' },
      { id: 'env', type: 'twin-envelope', ledger: 'ledger', lowLimit: '${LOW}' },
      {
        id: 'in',
        type: 'twin-opcua-in',
        z: 'tab',
        endpoint: 'ep',
        samplingIntervalMs: '${SAMPLING}',
        items: [{ asset: '${ASSET}', tag: 't' }],
        wires: [['p']],
      },
      { id: 'p', type: 'twin-propose', z: 'tab', asset: '${ASSET}', wires: [['g']] },
      { id: 'g', type: 'twin-approval', z: 'tab', envelope: 'env', ledger: 'ledger', wires: [['w'], []] },
      { id: 'w', type: 'twin-opcua-write', z: 'tab', endpoint: 'ep', wires: [[]] },
      { id: 'h', type: 'twin-historian', z: 'tab', wires: [] },
      // records operator actions in the plant's ledger live; a replay must never append to it
      { id: 'al', type: 'twin-alarm', z: 'tab', ledger: 'ledger', wires: [[], []] },
    ]);
    const p = prepareReplayFlow(flow, { ASSET: 'a/b' });
    expect(p.disabled.map((n) => n.id)).to.deep.equal(['g', 'w', 'h']);
    expect(p.dropped.map((n) => n.id)).to.deep.equal(['ledger', 'env']);
    expect(p.flows.find((n) => n.id === 'al')).to.not.have.property('ledger');
    expect(p.placeholders).to.deep.equal(['MODE', 'OPCUA_ENDPOINT', 'SAMPLING']);
    const byId = Object.fromEntries(p.flows.map((n) => [n.id, n]));
    expect(byId.ep).to.include({ endpointUrl: 'opc.tcp://replay.invalid:4840/replay', securityMode: 'None' });
    expect(byId.in).to.include({ samplingIntervalMs: '1000' });
    expect(byId.in.items).to.deep.equal([{ asset: '${ASSET}', tag: 't' }]); // set: Node-RED resolves it
    // anything on the replay's path needs its variable: named, with the nodes that use it
    expect(() => prepareReplayFlow(flow, {})).to.throw(
      /the replay needs ASSET \(used by twin-opcua-in \(in\), twin-propose \(p\)\): set it in the command's environment, e\.g\. ASSET=… twinloop replay/,
    );
  });

  it('refuses a flow that is not JSON, not a list of nodes, or has nothing to replay into', () => {
    expect(() => prepareReplayFlow('{')).to.throw(/the flow is not JSON/);
    expect(() => prepareReplayFlow('{"a":1}')).to.throw(/JSON array of nodes/);
    expect(() => prepareReplayFlow('[{"type":"debug"}]')).to.throw(/element 1 of the flow has no id/);
    expect(() => prepareReplayFlow('[{"id":"a","type":"debug"},{"id":"a","type":"debug"}]')).to.throw(/two nodes have the id a/);
    expect(() => prepareReplayFlow('[{"id":"a","type":"subflow:nope"}]')).to.throw(/does not contain subflow nope/);
    expect(() => prepareReplayFlow('[{"id":"a","type":"twin-screen","wires":[[]]}]')).to.throw(/no active ingestion node/);
    expect(prepareReplayFlow('{"rev":"1","flows":[{"id":"a","type":"twin-mqtt-in","wires":[[]]}]}').ingestion).to.have.length(1);
  });

  it('waits until nothing is in flight and nothing moved during a turn', async () => {
    const f = new InFlight();
    const order: string[] = [];
    f.dispatched(2);
    setImmediate(() => {
      f.received();
      setImmediate(() => {
        f.received();
        order.push('received');
        f.dispatched();
        setTimeout(() => {
          f.received();
          order.push('timer');
        }, 5);
      });
    });
    await f.waitIdle(true);
    order.push('idle');
    expect(f.inFlight).to.equal(0);
    expect(order).to.deep.equal(['received', 'timer', 'idle']);
  });
});
