/** `twinloop start --cluster`: its options checked, the flow it generates, and the credentials file it writes. */
import { createDecipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { clusterFlow } from '../../bin/lib/cluster-flow.js';
import { clusterFlowFile, clusterInstance, instanceClientId, setClusterEnv } from '../../bin/lib/cluster-instance.js';
import { lineClientId } from '../../runtime/cluster/cluster-config.js';
import { outTopic, validateOutConfig } from '../../runtime/ingest/mqtt-out-topic.js';
import { matchTopic, parseTopicPattern, topicMatchesFilter } from '../../runtime/ingest/mqtt-topic-map.js';

const base = { cluster: 'nats://a:4222,nats://b:4222', lines: 'acme/p1/l1,acme/p1/l2', 'mqtt-url': 'mqtt://broker:1883' };

describe('twinloop start --cluster: options, generated flow, credentials', () => {
  it('takes options before the environment; a blank instance is <host>-<pid>; lease 10 s by default', () => {
    const c = clusterInstance(base, { TWINLOOP_LINES: 'x/y/z', TWINLOOP_INSTANCE: 'nr9' }, 77);
    expect(c).to.include({ instance: 'nr9', leaseS: 10, mqttUrl: 'mqtt://broker:1883' });
    expect(c.lines).to.deep.equal(['acme/p1/l1', 'acme/p1/l2']);
    expect(c.servers).to.deep.equal(['nats://a:4222', 'nats://b:4222']);
    expect(clusterInstance({ ...base, 'lease-s': '3' }, {}, 77).instance).to.match(/-77$/);
    expect(
      clusterInstance({ cluster: base.cluster }, { TWINLOOP_LINES: 'x/y/z', TWINLOOP_MQTT_URL: 'mqtts://b:8883' }).lines,
    ).to.deep.equal(['x/y/z']);
  });

  it('refuses what would start an instance that owns nothing or leaks a secret, naming the option', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...base, lines: undefined as unknown as string }, /needs --lines/],
      [{ ...base, 'mqtt-url': undefined as unknown as string }, /needs --mqtt-url/],
      [{ ...base, lines: 'acme/l1' }, /site\/area\/line/],
      [{ ...base, cluster: 'http://a:4222' }, /nats:\/\/ or tls:\/\//],
      [{ ...base, cluster: 'nats://u:p@a:4222' }, /must not hold a user or password/],
      [{ ...base, 'mqtt-url': 'mqtt://u:p@b:1883' }, /TWINLOOP_MQTT_USER/],
      [{ ...base, 'mqtt-url': 'http://b' }, /not mqtt:\/\//],
      [{ ...base, 'lease-s': '0' }, /--lease-s must be 1–600 seconds/],
      [{ ...base, flow: '/nonexistent/flow.json' }, /--flow .*no such file/],
      [{ ...base, 'nats-ca': '/nonexistent/ca.pem' }, /--nats-ca .*no such file/],
    ];
    for (const [values, message] of bad) expect(() => clusterInstance(values, {}), JSON.stringify(values)).to.throw(message);
  });

  it('the flow: per line, in (only while owned, on the line session) → screen → out; the output never feeds the line back', () => {
    const flow = clusterFlow('acme/p1/l1\nacme/p1/l2');
    const ins = flow.filter((n) => n.type === 'twin-mqtt-in');
    expect(ins.map((n) => n.line)).to.deep.equal(['acme/p1/l1', 'acme/p1/l2']);
    const cluster = flow.find((n) => n.type === 'twin-cluster')!;
    expect(cluster).to.include({ servers: '${TWINLOOP_NATS_SERVERS}', instance: '${TWINLOOP_INSTANCE}', lines: '${TWINLOOP_LINES}' });
    for (const n of ins) {
      expect(n.cluster).to.equal(cluster.id);
      const screen = flow.find((x) => x.id === (n.wires as string[][])[0]![0])!;
      expect(screen.type).to.equal('twin-screen');
      const out = flow.find((x) => x.id === (screen.wires as string[][])[0]![0])!;
      expect(out.type).to.equal('twin-mqtt-out');
      // a reading of <line>/m1/temp comes back out as <line>/m1/twin/reading/temp, outside the line's subscription
      const pattern = parseTopicPattern(n.pattern as string);
      const caps = matchTopic(pattern, `${n.line as string}/m1/temp`)!;
      expect(caps).to.deep.equal({ asset: 'm1', tag: 'temp' });
      const asset = (n.assetTemplate as string).replace('{asset}', caps.asset!);
      const topic = outTopic(validateOutConfig(out as Parameters<typeof validateOutConfig>[0]), {
        asset,
        tag: 'temp',
        value: 1,
        tsMs: 0,
        quality: 'good',
      });
      expect(topic).to.equal(`${n.line as string}/m1/twin/reading/temp`);
      expect(topicMatchesFilter(pattern.filter, topic)).to.equal(false);
    }
    // ids stable per line: a restart keeps each node's saved state
    expect(clusterFlow('acme/p1/l2').map((n) => n.id)).to.include.members(
      flow.filter((n) => n.line === 'acme/p1/l2' || n.name === 'acme/p1/l2').map((n) => n.id),
    );
  });

  it("the instance's own MQTT client id is never a line's", () => {
    for (const name of ['acme/p1/l1', 'instance-A', 'nr1', 'x'.repeat(200)]) {
      expect(instanceClientId(name)).to.have.length.at.most(64);
      expect(instanceClientId(name)).to.not.equal(lineClientId('acme/p1/l1'));
    }
    expect(instanceClientId('nr1')).to.not.equal(instanceClientId('nr2'));
  });

  it('sets the variables the flow names; the NATS login goes to an encrypted credentials file, never the flow', () => {
    const home = mkdtempSync(join(tmpdir(), 'cluster-start-'));
    try {
      const env: NodeJS.ProcessEnv = { TWINLOOP_NATS_USER: 'svc', TWINLOOP_NATS_PASSWORD: 's3cret-pw' };
      const c = clusterInstance(base, env);
      setClusterEnv(c, env);
      expect(env).to.include({
        TWINLOOP_NATS_SERVERS: 'nats://a:4222,nats://b:4222',
        TWINLOOP_LINES: 'acme/p1/l1,acme/p1/l2',
        TWINLOOP_LEASE_S: '10',
      });
      const file = clusterFlowFile(c, home, 'the-credential-secret', env);
      expect(readFileSync(file, 'utf8')).to.not.include('s3cret-pw');
      const cred = JSON.parse(readFileSync(join(home, 'cluster-flows_cred.json'), 'utf8')) as { $: string };
      expect(JSON.stringify(cred)).to.not.include('s3cret-pw');
      // decrypted as Node-RED does (credentials.js: aes-256-ctr, sha256 of the secret, 16-byte IV in hex first)
      const key = createHash('sha256').update('the-credential-secret').digest();
      const d = createDecipheriv('aes-256-ctr', key, Buffer.from(cred.$.slice(0, 32), 'hex'));
      const plain = JSON.parse(d.update(cred.$.slice(32), 'base64', 'utf8') + d.final('utf8')) as Record<string, unknown>;
      expect(plain).to.deep.equal({ 'cluster-lines-cluster': { user: 'svc', password: 's3cret-pw' } });
      // without a login the file goes
      clusterFlowFile(c, home, 'the-credential-secret', {});
      expect(() => readFileSync(join(home, 'cluster-flows_cred.json'))).to.throw(/ENOENT/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
