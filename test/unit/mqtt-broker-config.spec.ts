import { expect } from 'chai';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { brokerOptions, outboxDir } from '../../nodes/twin-mqtt-broker/broker-config.js';

const def = (over: Record<string, unknown> = {}) =>
  ({ id: 'abc.123', type: 'twin-mqtt-broker', name: '', z: '', url: 'mqtt://h:1883', ...over }) as never;

describe('twin-mqtt-broker config', () => {
  it('defaults: persistent session, v5, stable client id, back-off 1 s → 30 s, no TLS', () => {
    const o = brokerOptions(def(), {});
    expect(o).to.include({
      url: 'mqtt://h:1883',
      clientId: 'twinloop-abc.123',
      clean: false,
      protocolVersion: 5,
      sessionExpiryS: 3600,
      keepaliveS: 60,
      reconnectPeriodMs: 1000,
      maxReconnectPeriodMs: 30_000,
      inflightWindow: 10,
      outboxMaxEntries: 100_000,
    });
    expect(o.tls).to.equal(undefined);
    expect(o.username).to.equal(undefined);
  });

  it('accepts mqtt://, mqtts:// and ws:// URLs; TLS settings for secure ones; credentials passed through', () => {
    expect(brokerOptions(def({ url: 'ws://h:8080/mqtt' }), {}).url).to.equal('ws://h:8080/mqtt');
    const s = brokerOptions(def({ url: 'mqtts://h:8883', rejectUnauthorized: false }), { user: 'u', password: 'p', passphrase: 'k' });
    expect(s.tls).to.deep.include({ rejectUnauthorized: false, passphrase: 'k' });
    expect([s.username, s.password]).to.deep.equal(['u', 'p']);
    expect(brokerOptions(def({ url: 'mqtts://h:8883' }), {}).tls?.rejectUnauthorized).to.equal(true);
  });

  it("without credentials: the user name and an owner-only password file (twinloop start's broker login); unresolved ${ENV} names nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-pw-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret-pw\n', { mode: 0o600 });
    const o = brokerOptions(def({ username: 'node-red', passwordFile: file }), {});
    expect([o.username, o.password]).to.deep.equal(['node-red', 's3cret-pw']);
    // the credentials win
    expect(brokerOptions(def({ username: 'node-red', passwordFile: file }), { user: 'u', password: 'p' })).to.include({
      username: 'u',
      password: 'p',
    });
    const none = brokerOptions(def({ username: '${TWINLOOP_MQTT_USER}', passwordFile: '${TWINLOOP_MQTT_PASSWORD_FILE}' }), {});
    expect([none.username, none.password]).to.deep.equal([undefined, undefined]);
    chmodSync(file, 0o644);
    expect(() => brokerOptions(def({ passwordFile: file }), {})).to.throw(
      `MQTT password file ${file} is open to other users (mode 0644): make it owner-only with chmod 600 ${file}`,
    );
    expect(() => brokerOptions(def({ passwordFile: join(dir, 'missing') }), {})).to.throw(/does not exist/);
  });

  it('puts the outbox under userDir, else TWINLOOP_HOME, else the temp dir', () => {
    expect(outboxDir('/data/nr', 'b1')).to.equal(join('/data/nr', 'twinloop', 'outbox', 'b1'));
    const saved = process.env.TWINLOOP_HOME;
    try {
      process.env.TWINLOOP_HOME = '/srv/twinloop';
      expect(outboxDir(undefined, 'b1')).to.equal(join('/srv/twinloop', 'twinloop', 'outbox', 'b1'));
      delete process.env.TWINLOOP_HOME;
      expect(outboxDir(undefined, 'a/../b')).to.equal(join(tmpdir(), 'twinloop-home', 'twinloop', 'outbox', 'a_.._b'));
    } finally {
      if (saved === undefined) delete process.env.TWINLOOP_HOME;
      else process.env.TWINLOOP_HOME = saved;
    }
  });
});
