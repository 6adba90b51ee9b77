// Sparkplug B in a cluster: the owner of a line is the line's primary host. A real 3-node nats-server
// cluster, a real Mosquitto and two Node-RED runtimes in child processes, each with a twin-cluster and a
// Sparkplug twin-mqtt-in bound to the same line. The owner publishes `spBv1.0/STATE/<host id>` online
// (retained) with offline as its MQTT will; SIGKILLed, the broker publishes the will (edge nodes
// start to store and forward), and once the lease has run out the other instance says online with a
// timestamp of its own. The host id is the line's, so edge nodes need no change on a takeover.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import { lineClientId } from '../../runtime/cluster/cluster-config.js';
import { leaseHolders } from '../../runtime/cluster/lease-view.js';
import { jetstreamManager } from '../../runtime/cluster/nats-client.js';
import { parseState, type HostState } from '../../runtime/ingest/sparkplug-state.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { endClient, rawClient, subscribe } from '../support/mqtt-helpers.js';
import { waitFor } from '../support/ports.js';

const LINE = 'spec/state/line1';
const HOST_ID = lineClientId(LINE);
const TTL_S = 2;
const dist = join(__dirname, '..', '..', 'dist', 'nodes');
const nodesDirs = ['twin-mqtt-broker', 'twin-mqtt-in', 'twin-cluster'].map((t) => join(dist, t));

describe('twin-mqtt-in (Sparkplug B) in a cluster: the line owner is the primary host (STATE online, offline as its will)', function () {
  this.timeout(120_000);
  const natsBin = ensureDebianBinary('nats-server', 'nats-server');
  const mosqBin = ensureDebianBinary('mosquitto', 'mosquitto');
  let nats: NatsCluster;
  let mosq: Mosquitto;
  let tmp: string;
  const children = new Map<string, NodeRedChild>();
  const clients: MqttClient[] = [];

  before(async function () {
    if (!natsBin || !mosqBin) this.skip();
    nats = await startNatsCluster(natsBin!, 3);
    mosq = await startMosquitto(mosqBin!);
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'cluster-state-'));
  });
  after(async () => {
    for (const c of clients) await endClient(c);
    for (const c of children.values()) await c.kill();
    await mosq?.stop();
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function startInstance(name: string): Promise<void> {
    const home = join(tmp, name);
    mkdirSync(home, { recursive: true });
    const flow = [
      { id: 't1', type: 'tab', label: `instance ${name}` },
      { id: 'b', type: 'twin-mqtt-broker', url: mosq.url, clientId: `state-${name}`, protocolVersion: 5, reconnectPeriodMs: 100 },
      { id: 'c', type: 'twin-cluster', servers: nats.servers.join(','), instance: name, lines: LINE, ttlS: TTL_S, replicas: 3, slack: 0 },
      {
        id: 'in',
        type: 'twin-mqtt-in',
        z: 't1',
        broker: 'b',
        cluster: 'c',
        line: LINE,
        mode: 'sparkplug',
        sparkplugGroup: 'g1',
        qos: 1,
        wires: [],
      },
    ];
    writeFileSync(join(home, 'flows.json'), JSON.stringify(flow));
    children.set(name, await startNodeRedChild(home, nodesDirs));
  }

  /** Every STATE message a subscriber gets, with its retain flag. */
  async function watchState(clientId: string): Promise<Array<HostState & { retain: boolean }>> {
    const got: Array<HostState & { retain: boolean }> = [];
    const c = await rawClient(mosq.url, { protocolVersion: 5, clientId });
    clients.push(c);
    c.on('message', (_t, payload, packet) => {
      const s = parseState(payload);
      if (s) got.push({ ...s, retain: packet.retain });
    });
    await subscribe(c, `spBv1.0/STATE/${HOST_ID}`, 1);
    return got;
  }

  async function holder(): Promise<string | undefined> {
    const nc = await nats.connect();
    try {
      return (await leaseHolders(await jetstreamManager(nc), [LINE]))[0]!.holder;
    } finally {
      await nc.close();
    }
  }

  it('the owner says online; SIGKILLed, its will says offline; the next owner says online after the lease', async () => {
    const seen = await watchState('spec-state-watch');
    await Promise.all([startInstance('A'), startInstance('B')]);
    await waitFor(() => seen.some((s) => s.online), 30_000, 50, 'online STATE from the owner');
    const owner = (await waitFor(holder, 10_000, 100, 'the line has a holder'))!;
    const other = owner === 'A' ? 'B' : 'A';
    const born = seen.find((s) => s.online)!.timestamp;
    expect(
      seen.filter((s) => !s.online),
      'no offline while the owner lives',
    ).to.deep.equal([]);

    const n = seen.length;
    const killedAt = performance.now();
    await children.get(owner)!.kill();
    await waitFor(() => seen.slice(n).some((s) => !s.online), 10_000, 20, 'the will: offline');
    const offlineMs = performance.now() - killedAt;
    const will = seen.slice(n).find((s) => !s.online)!;
    expect(will, "the will carries the dead owner's timestamp").to.include({ online: false, timestamp: born });
    await waitFor(() => seen.slice(n).some((s) => s.online), 30_000, 20, 'online from the next owner');
    const onlineMs = performance.now() - killedAt;
    const next = seen.slice(n).find((s) => s.online)!;
    expect(next.timestamp, 'a new host session').to.be.greaterThan(born);
    expect(await holder()).to.equal(other);
    // a subscriber arriving now (an edge node starting) gets the retained online
    const late = await watchState('spec-state-late');
    await waitFor(() => late.length > 0, 10_000, 20, 'the retained STATE');
    // the first message a new subscriber gets is the stored one; a live one may follow it
    expect(late[0]).to.deep.equal({ online: true, timestamp: next.timestamp, retain: true });
    expect(
      seen.slice(n).filter((s) => s.online),
      'one online after the takeover: the queued will is not answered twice',
    ).to.have.length(1);
    // a will that lands after our online (an earlier owner paused past its lease, then cut off) is answered
    const zombie = await rawClient(mosq.url, { protocolVersion: 5, clientId: 'spec-state-zombie-will' });
    clients.push(zombie);
    const m = seen.length;
    await zombie.publishAsync(`spBv1.0/STATE/${HOST_ID}`, JSON.stringify({ online: false, timestamp: born }), { qos: 1, retain: true });
    await waitFor(() => seen.slice(m).some((s) => s.online), 10_000, 20, 'online again after a late will');
    expect(seen.slice(m)).to.deep.equal([
      { online: false, timestamp: born, retain: false },
      { online: true, timestamp: next.timestamp, retain: false },
    ]);
    console.log(
      `      STATE ${HOST_ID}: kill of ${owner} → offline (will) ${Math.round(offlineMs)} ms, → online from ${other} ` +
        `${(onlineMs / 1000).toFixed(1)} s (lease ${TTL_S} s); messages seen ${seen.length} (one online per host session)`,
    );
  });
});
