/**
 * Node-RED itself killed (SIGKILL: no shutdown code runs) while twin-mqtt-out's outbox holds messages
 * for a broker that is down, then started again: every message reaches the broker once, in order.
 * Real parts: `twinloop start` as a child process, Debian's Mosquitto.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ensureDebianBinary } from '../support/debian.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startTwinloop, type TwinloopProcess } from '../support/twinloop-process.js';
import { waitFor } from '../support/ports.js';

const N = 200;

/** Records in the outbox's segment files (read as files: another process owns the outbox). */
function queuedOnDisk(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => /^seg-\d+\.jsonl$/.test(f))
    .reduce(
      (n, f) =>
        n +
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.endsWith('}')).length,
      0,
    );
}

/** A flow that, when TWINLOOP_TEST_PUBLISH=1, publishes N numbered readings through twin-mqtt-out once. */
function flow(brokerUrl: string): unknown[] {
  return [
    { id: 't1', type: 'tab', label: 'restart test' },
    {
      id: 'b1',
      type: 'twin-mqtt-broker',
      name: 'mosquitto',
      url: brokerUrl,
      clientId: 'twinloop-restart-test',
      protocolVersion: 5,
      cleanSession: false,
      sessionExpiryS: 3600,
      keepaliveS: 60,
      reconnectPeriodMs: 200,
      maxReconnectPeriodMs: 1000,
      outboxMaxEntries: 100000,
      inflightWindow: 10,
    },
    {
      id: 'go',
      type: 'inject',
      z: 't1',
      once: true,
      onceDelay: 0.5,
      repeat: '',
      topic: '',
      payload: '',
      payloadType: 'date',
      wires: [['gen']],
    },
    {
      id: 'gen',
      type: 'function',
      z: 't1',
      outputs: 1,
      wires: [['out']],
      func: `if (env.get('TWINLOOP_TEST_PUBLISH') !== '1') return null;
for (let i = 0; i < ${N}; i++) node.send({ payload: { asset: 'test/line/asset', tag: 'seq', value: i, tsMs: 1700000000000 + i, quality: 'good', source: 'test' } });
return null;`,
    },
    {
      id: 'out',
      type: 'twin-mqtt-out',
      z: 't1',
      broker: 'b1',
      topicMode: 'uns',
      prefix: '',
      kind: '',
      topic: '',
      qos: 1,
      retain: false,
      wires: [],
    },
  ];
}

describe('integration: Node-RED killed while the outbox holds messages', function () {
  this.timeout(120_000);
  let mosq: Mosquitto | undefined;
  let tl: TwinloopProcess | undefined;

  before(async function () {
    const bin = ensureDebianBinary('mosquitto', 'mosquitto');
    if (!bin) return this.skip();
    mosq = await startMosquitto(bin);
  });

  after(async function () {
    await tl?.kill();
    await mosq?.stop();
  });

  it('delivers every queued message once, in order, after the restart', async function () {
    await mosq!.stop(); // the broker is away while the flow publishes
    const home = mkdtempSync(join(tmpdir(), 'twinloop-restart-'));
    writeFileSync(join(home, 'flows.json'), JSON.stringify(flow(mosq!.url)));
    tl = await startTwinloop(['--no-sim'], { TWINLOOP_TEST_PUBLISH: '1' }, home);

    // Wait until all N are safely in the outbox on disk, then crash Node-RED.
    const outboxDir = join(home, 'twinloop', 'outbox', 'b1');
    await waitFor(() => queuedOnDisk(outboxDir) === N, 30_000, 200, `${N} messages in the outbox`);
    await tl.kill();

    // Broker back, a subscriber listening, Node-RED started again without publishing anything new.
    await mosq!.start();
    const got: number[] = [];
    const sub = await mqtt.connectAsync(mosq!.url, { protocolVersion: 5 });
    sub.on('message', (_t, buf) => got.push((JSON.parse(buf.toString()) as { value: number }).value));
    await sub.subscribeAsync('test/line/asset/twin/#', { qos: 1 });
    tl = await startTwinloop(['--no-sim'], { TWINLOOP_TEST_PUBLISH: '0' }, home);
    try {
      await waitFor(() => got.length >= N, 30_000, 100, `${N} messages at the subscriber`);
      await new Promise((r) => setTimeout(r, 1000)); // any duplicate would arrive now
      expect(got).to.deep.equal(Array.from({ length: N }, (_, i) => i));
    } finally {
      await sub.endAsync();
    }
    expect(await tl.stop()).to.equal(0);
  });
});
