/**
 * twin-mqtt-out: any TwinLoop record back to the unified namespace, through the broker config
 * node's disk outbox (store and forward). done() only once the record is durable in the outbox.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { TwinError } from '../../runtime/model/errors.js';
import { statusError, statusIdle, statusOk, statusWarn, errorStatusText } from '../shared/status.js';
import type { TwinMqttBrokerApi } from '../twin-mqtt-broker/broker-config.js';
import { outTopic, recordJson, validateOutConfig } from '../../runtime/ingest/mqtt-out-topic.js';
import { translator } from '../shared/i18n.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';

interface TwinMqttOutDef extends NodeDef {
  broker: string;
  topicMode: 'uns' | 'fixed';
  prefix: string;
  kind: string;
  topic: string;
  qos: number | string;
  retain: boolean;
  /** Message property the record is read from; blank = payload. */
  property?: string;
}

export default function (RED: NodeAPI): void {
  function TwinMqttOutNode(this: Node, def: TwinMqttOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-mqtt-out');
    const broker = RED.nodes.getNode(def.broker) as TwinMqttBrokerApi | null;
    let cfg: ReturnType<typeof validateOutConfig>;
    let getInput: (msg: NodeMessage) => unknown;
    try {
      if (!broker) throw new TwinError('BAD_CONFIG', 'no twin-mqtt-broker selected');
      cfg = validateOutConfig(def);
      getInput = messageGetter(RED.util, propertyPath(def.property));
    } catch (err) {
      node.error(`${t('errors.config')}: ${(err as Error).message}`);
      statusError(node, t('status.config'));
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
        done(new TwinError('BAD_CONFIG', `${t('errors.config')}: ${(err as Error).message}`));
      });
      return;
    }
    let linkState = 'disconnected';
    let lastError: string | undefined;

    // node.status goes to every open editor: only send it when it changes.
    let shown = '';
    const once = (fn: typeof statusOk, text: string): void => {
      const key = `${fn.name}:${text}`;
      if (key === shown) return;
      shown = key;
      fn(node, text);
    };
    const showState = (): void => {
      if (lastError) return once(statusError, lastError);
      const queued = broker!.queueSize();
      if (linkState === 'connected') once(statusOk, queued > 0 ? t('status.sending', { n: queued }) : t('status.connected'));
      else if (queued > 0) once(statusWarn, t('status.queued', { n: queued }));
      else if (linkState === 'connecting') once(statusWarn, t('status.connecting'));
      else once(statusIdle, t('status.disconnected'));
    };

    broker!.register(node, (state, text) => {
      if (state === 'error') {
        once(statusError, text);
        return;
      }
      linkState = state;
      showState();
    });

    node.on('input', (msg: NodeMessage & { kind?: unknown }, _send: unknown, done: (err?: Error) => void) => {
      let topic: string;
      let payload: string;
      try {
        const record = getInput(msg);
        topic = outTopic(cfg, record, msg.kind);
        payload = recordJson(record);
      } catch (err) {
        done(err as Error);
        once(statusError, errorStatusText(err));
        lastError = undefined; // the next good message shows the link state again
        return;
      }
      broker!.enqueue({ topic, payload, qos: cfg.qos, retain: cfg.retain }).then(
        () => {
          lastError = undefined;
          showState();
          done();
        },
        (err: Error) => {
          lastError = errorStatusText(err);
          showState();
          lastError = undefined;
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      broker!.deregister(node, done);
    });
  }

  RED.nodes.registerType('twin-mqtt-out', TwinMqttOutNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
