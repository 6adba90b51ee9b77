/** Small helpers shared by the MQTT node and integration specs. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), prefix));
}

/** A connected raw mqtt.js client. */
export function rawClient(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 100, connectTimeout: 5000, ...opts });
    const onErr = (err: Error) => {
      c.end(true);
      reject(err);
    };
    c.once('error', onErr);
    c.once('connect', () => {
      c.off('error', onErr);
      c.on('error', () => undefined);
      resolve(c);
    });
  });
}

export function publish(
  c: MqttClient,
  topic: string,
  payload: string | Buffer,
  opts: mqtt.IClientPublishOptions = { qos: 1 },
): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve())));
}

export function subscribe(c: MqttClient, filter: string, qos: 0 | 1 | 2 = 1): Promise<void> {
  return new Promise((resolve, reject) => c.subscribe(filter, { qos }, (err) => (err ? reject(err) : resolve())));
}

export function endClient(c: MqttClient | undefined): Promise<void> {
  return new Promise((resolve) => (c ? c.end(true, {}, () => resolve()) : resolve()));
}
