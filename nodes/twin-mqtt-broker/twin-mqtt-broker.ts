/**
 * twin-mqtt-broker: the shared MQTT connection (config node). One mqtt.js client per config node,
 * shared by every twin-mqtt-in/out that names it (register/deregister as in Node-RED's core
 * 10-mqtt.js), plus the disk outbox that twin-mqtt-out publishes through.
 */
import type { NodeAPI } from 'node-red';
import { MqttLink, type LinkState, type OutboundMessage } from '../../runtime/ingest/mqtt-link.js';
import { LatestReadings } from '../../runtime/ingest/source-items.js';
import { FileOutbox } from '../../runtime/store/file-outbox.js';
import { TwinError } from '../../runtime/model/errors.js';
import {
  brokerOptions,
  outboxDir,
  type TwinMqttBrokerApi,
  type TwinMqttBrokerCredentials,
  type TwinMqttBrokerDef,
} from './broker-config.js';
import { translator } from '../shared/i18n.js';

export default function (RED: NodeAPI): void {
  function TwinMqttBrokerNode(this: TwinMqttBrokerApi, def: TwinMqttBrokerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-mqtt-broker');
    const creds = (this as unknown as { credentials?: TwinMqttBrokerCredentials }).credentials ?? {};
    const users = new Map<string, (state: LinkState | 'error', text: string) => void>();

    // the latest readings twin-mqtt-in nodes received here, for the twin-mqtt-write re-read
    node.latest = new LatestReadings();
    const broadcast = (state: LinkState | 'error', text: string): void => {
      if (state !== 'connected') node.latest.clear();
      for (const cb of users.values()) cb(state, text);
    };

    try {
      const o = brokerOptions(def, creds);
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
      const outbox = FileOutbox.open<OutboundMessage>(outboxDir(userDir, node.id), { maxEntries: o.outboxMaxEntries });
      node.link = new MqttLink({ ...o, outbox });
      // a session the broker keeps while nobody is connected: it queues the line's readings during a takeover
      node.openLink = (clientId, will) =>
        new MqttLink({ ...o, clientId, clean: false, sessionExpiryS: Math.max(o.sessionExpiryS, 3600), ...(will ? { will } : {}) });
      let lastLogged = '';
      node.link.on('state', (s: LinkState) => {
        if (s === 'connected') {
          if (lastLogged) node.log(`${o.url}: connected`);
          lastLogged = '';
        }
        broadcast(s, s);
      });
      node.link.on('notice', (text: string) => node.warn(`${o.url}: ${text}`));
      node.link.on('linkError', (err: Error) => {
        // One line, no options object: credentials never reach the log. A refused reconnect
        // repeats every back-off period: log it once until something changes.
        if (err.message !== lastLogged) node.log(`${o.url}: ${err.message}`);
        lastLogged = err.message;
        const code = (err as { code?: unknown }).code;
        broadcast('error', typeof code === 'string' ? code : err.message.replace(/^(Connection refused|Publish error): /, ''));
      });
      // Messages queued by a previous run are delivered even before a user registers.
      if (outbox.size() > 0) node.link.start();
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(`${t('errors.config')}: ${node.configError}`);
    }

    node.register = (user, onState) => {
      users.set(user.id, onState);
      if (node.configError) {
        onState('error', 'config error');
        return;
      }
      onState(node.link!.state, node.link!.state);
      node.link!.start();
    };

    node.deregister = (user, done) => {
      users.delete(user.id);
      done();
    };

    node.subscribe = (filter, qos, handler) => {
      if (!node.link) return () => undefined;
      return node.link.subscribe(filter, qos, handler);
    };

    node.enqueue = async (msg) => {
      if (!node.link) throw new TwinError('BAD_CONFIG', `broker config is invalid: ${node.configError}`);
      return node.link.enqueue(msg);
    };

    node.publishDirect = async (topic, payload, qos = 0) => {
      if (!node.link) throw new TwinError('BAD_CONFIG', `broker config is invalid: ${node.configError}`);
      return node.link.publishDirect(topic, payload, qos);
    };

    node.queueSize = () => node.link?.outbox?.size() ?? 0;

    node.on('close', (_removed: boolean, done: () => void) => {
      const link = node.link;
      if (!link) {
        done();
        return;
      }
      link.close().then(done, (err) => {
        node.warn(`closing ${def.url}: ${(err as Error).message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('twin-mqtt-broker', TwinMqttBrokerNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
      passphrase: { type: 'password' },
    },
  });
}
