// Lines owned across instances, readings without loss across a takeover: a real 3-node Debian
// nats-server cluster (leases at R3), a real Debian Mosquitto (persistent sessions), and two real Node-RED
// runtimes in child processes, each with its own twin-cluster (instance A, B) and a twin-mqtt-in
// bound to the same line. A publisher sends numbered readings of that line at QoS 1; the owner's
// flow appends each reading it emits to its own file. The owner is SIGKILLed mid-run (its lease
// runs out, nothing is released); the other instance takes the line over and gets, on the line's
// persistent session, what the broker queued meanwhile. Counted: every number processed at least
// once, lost, duplicates, and (printed, not asserted) the time from the kill to the first reading
// the new owner processed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MqttClient } from 'mqtt';
import type { TwinClusterNode } from '../../nodes/twin-cluster/cluster-api.js';
import { ensureDebianBinary } from '../support/debian.js';
import { startNatsCluster, type NatsCluster } from '../support/nats.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startNodeRedChild, type NodeRedChild } from '../support/node-red-child.js';
import { endClient, publish, rawClient } from '../support/mqtt-helpers.js';
import { waitFor } from '../support/ports.js';
import { helper, nodeModule } from '../support/nr.js';
import { recordNodeCalls, tempUserDir, type Recorder } from '../support/opcua-nr.js';

const LINE = 'spec/takeover/line1';
const dist = join(__dirname, '..', '..', 'dist', 'nodes');
const nodesDirs = ['twin-mqtt-broker', 'twin-mqtt-in', 'twin-cluster'].map((t) => join(dist, t));

/** The sequence numbers in a processed-readings file (one JSON reading a line; probes are tag 'probe'). */
function processed(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { tag: string; value: number })
    .filter((r) => r.tag === 'seq')
    .map((r) => r.value);
}
function probes(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"probe"')).length;
}

describe('twin-cluster + twin-mqtt-in: a line taken over without losing readings (3 nats-server, Mosquitto, 2 Node-RED)', function () {
  this.timeout(120_000);
  const natsBin = ensureDebianBinary('nats-server', 'nats-server');
  const mosqBin = ensureDebianBinary('mosquitto', 'mosquitto');
  let nats: NatsCluster;
  let mosq: Mosquitto;
  let tmp: string;
  const children: NodeRedChild[] = [];
  let pub: MqttClient | undefined;

  before(async function () {
    if (!natsBin || !mosqBin) this.skip();
    nats = await startNatsCluster(natsBin!, 3);
    mosq = await startMosquitto(mosqBin!);
    tmp = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'cluster-takeover-'));
  });
  after(async () => {
    await endClient(pub);
    for (const c of children) await c.kill();
    await mosq?.stop();
    await nats?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function instanceFlow(name: string, outFile: string): unknown[] {
    return [
      { id: 't1', type: 'tab', label: `instance ${name}` },
      {
        id: 'b',
        type: 'twin-mqtt-broker',
        url: mosq.url,
        clientId: `shared-${name}`,
        protocolVersion: 5,
        reconnectPeriodMs: 100,
        maxReconnectPeriodMs: 400,
      },
      { id: 'c', type: 'twin-cluster', servers: nats.servers.join(','), instance: name, lines: LINE, ttlS: 2, replicas: 3, slack: 0 },
      {
        id: 'in',
        type: 'twin-mqtt-in',
        z: 't1',
        broker: 'b',
        cluster: 'c',
        line: LINE,
        mode: 'number',
        pattern: 'spec/{asset}/{tag}',
        qos: 1,
        wires: [['f']],
      },
      {
        id: 'f',
        type: 'file',
        z: 't1',
        filename: outFile,
        filenameType: 'str',
        appendNewline: true,
        createDir: true,
        overwriteFile: 'false',
        encoding: 'none',
        wires: [],
      },
    ];
  }

  async function startInstance(name: string): Promise<{ child: NodeRedChild; file: string }> {
    const home = join(tmp, name);
    const file = join(tmp, `${name}.processed.jsonl`);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'flows.json'), JSON.stringify(instanceFlow(name, file)));
    const child = await startNodeRedChild(home, nodesDirs);
    children.push(child);
    return { child, file };
  }

  it('only the owner ingests; after a SIGKILL the other instance takes over: every reading processed, 0 lost', async () => {
    const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    pub = await rawClient(mosq.url, { protocolVersion: 5, clientId: 'spec-publisher' });
    // The line's session exists once its first owner has subscribed: probe until one instance processes a reading.
    await waitFor(
      async () => {
        await publish(pub!, 'spec/line1/probe', '0');
        return probes(a.file) + probes(b.file) > 0;
      },
      30_000,
      200,
      'one instance owns the line and ingests',
    );
    const [owner, other] = probes(a.file) > 0 ? [a, b] : [b, a];
    expect(probes(other.file), 'the instance that does not own the line ingests nothing').to.equal(0);

    const N = 600;
    const KILL_AT = 200;
    let seq = 0;
    const publishUpTo = async (end: number) => {
      for (; seq < end; seq++) {
        await publish(pub!, 'spec/line1/seq', String(seq));
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await publishUpTo(KILL_AT);
    // The owner has emitted and written every reading so far: a reading acknowledged to the broker but
    // not yet acted on inside a killed process is a separate case (see the report of issue 16).
    await waitFor(() => new Set(processed(owner.file)).size === KILL_AT, 20_000, 20, 'the owner processed the first readings');
    expect(processed(other.file)).to.deep.equal([]);

    await owner.child.kill();
    const killedAt = performance.now();
    let firstByOther: number | undefined;
    const watch = setInterval(() => {
      if (firstByOther === undefined && processed(other.file).length > 0) firstByOther = performance.now() - killedAt;
    }, 20);
    try {
      await publishUpTo(N);
      await waitFor(
        () => new Set([...processed(owner.file), ...processed(other.file)]).size === N,
        30_000,
        50,
        `all ${N} readings processed`,
      );
    } finally {
      clearInterval(watch);
    }
    const all = [...processed(owner.file), ...processed(other.file)];
    const seen = new Set(all);
    const lost = Array.from({ length: N }, (_, i) => i).filter((i) => !seen.has(i));
    const duplicates = all.length - seen.size;
    console.log(
      `      published ${N}, processed ${all.length} (owner ${processed(owner.file).length}, taker ${processed(other.file).length}), ` +
        `lost ${lost.length}, duplicates ${duplicates}, kill → first reading by the new owner ${Math.round(firstByOther ?? NaN)} ms (lease 2 s)`,
    );
    expect(lost).to.deep.equal([]);
    expect(processed(other.file).length, 'the other instance took the line over').to.be.greaterThan(0);
    expect(Math.min(...processed(other.file)), 'the new owner starts where the broker queued').to.be.at.least(KILL_AT);
  });

  describe('a clean handover in one runtime (a redeploy of instance A)', function () {
    let recorder: Recorder | undefined;
    afterEach(async function () {
      recorder?.restore();
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
    });

    it('the non-owner stands by; A closing releases the line and disconnects, B resumes the session: 0 lost', async () => {
      const line = 'spec/handover/line2';
      helper.settings({ userDir: tempUserDir('nr-cluster-handover-') });
      await new Promise<void>((r) => helper.startServer(() => r()));
      recorder = recordNodeCalls();
      const inst = (x: string) => [
        {
          id: `b${x}`,
          type: 'twin-mqtt-broker',
          url: mosq.url,
          clientId: `handover-${x}`,
          protocolVersion: 5,
          reconnectPeriodMs: 100,
          maxReconnectPeriodMs: 400,
        },
        {
          id: `c${x}`,
          type: 'twin-cluster',
          servers: nats.servers.join(','),
          instance: `H${x}`,
          lines: line,
          ttlS: 2,
          replicas: 3,
          slack: 0,
        },
        {
          id: `in${x}`,
          type: 'twin-mqtt-in',
          broker: `b${x}`,
          cluster: `c${x}`,
          line,
          mode: 'number',
          pattern: 'handover/{asset}/{tag}',
          qos: 1,
          wires: [[`out${x}`]],
        },
        { id: `out${x}`, type: 'helper' },
      ];
      await helper.load(['twin-mqtt-broker', 'twin-cluster', 'twin-mqtt-in'].map(nodeModule) as never, [...inst('A'), ...inst('B')]);
      const got: Record<'A' | 'B', number[]> = { A: [], B: [] };
      for (const x of ['A', 'B'] as const) {
        (helper.getNode(`out${x}`) as unknown as { on(e: string, f: (m: { payload: { value: number } }) => void): void }).on('input', (m) =>
          got[x].push(m.payload.value),
        );
      }
      const cA = helper.getNode('cA') as unknown as TwinClusterNode;
      const cB = helper.getNode('cB') as unknown as TwinClusterNode;
      await waitFor(() => cA.owns(line) !== cB.owns(line), 20_000, 50, 'one instance owns the line');
      const [owner, other] = cA.owns(line) ? (['A', 'B'] as const) : (['B', 'A'] as const);
      expect(recorder.lastStatus(`in${other}`)?.text).to.equal('standby (not owner)');
      await endClient(pub);
      pub = await rawClient(mosq.url, { protocolVersion: 5, clientId: 'spec-handover-publisher' });
      await waitFor(
        async () => {
          await publish(pub!, 'handover/line2/probe', '-1');
          return got[owner].length > 0;
        },
        20_000,
        100,
        'the owner subscribed',
      );
      got[owner].length = 0;
      const N = 300;
      for (let i = 0; i < N; i++) {
        await publish(pub!, 'handover/line2/seq', String(i));
        // the owner's flow is stopped (redeploy) a third of the way: its cluster node releases the line
        if (i === 100) void (helper.getNode(`c${owner}`) as unknown as { close(removed: boolean): Promise<void> }).close(false);
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => new Set([...got.A, ...got.B].filter((v) => v >= 0)).size === N, 20_000, 50, `all ${N} readings`);
      const all = [...got.A, ...got.B].filter((v) => v >= 0);
      const lost = Array.from({ length: N }, (_, i) => i).filter((i) => !all.includes(i));
      console.log(
        `      clean handover: published ${N}, processed ${all.length} (A ${got.A.length}, B ${got.B.length}), lost ${lost.length}, ` +
          `duplicates ${all.length - new Set(all).size}`,
      );
      expect(lost).to.deep.equal([]);
      expect((other === 'A' ? cA : cB).owns(line), 'the other instance owns the line now').to.equal(true);
      expect(got[other].filter((v) => v >= 0).length, 'the other instance ingests after the handover').to.be.greaterThan(0);
    });
  });
});
