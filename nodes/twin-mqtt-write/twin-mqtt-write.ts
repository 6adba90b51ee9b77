/**
 * twin-mqtt-write: the MQTT command path for signed setpoint commands from twin-approval, through a
 * twin-mqtt-broker config node: a JSON command topic or a Sparkplug B DCMD, published directly
 * (never from the disk outbox: a late command is worse than none), and read back from what the
 * plant reports. The checks and ledger records are runtime/control/writer.ts's.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { envelopeInputKeys } from '../../runtime/control/envelope.js';
import { TwinError } from '../../runtime/model/errors.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { statusIdle, statusWarn } from '../shared/status.js';
import { attachWriterInput, validateWriterCommon, type WriterCommonDef } from '../shared/writer-adapter.js';
import type { TwinMqttBrokerApi } from '../twin-mqtt-broker/broker-config.js';
import { MqttWriteTransport, validateMqttWriteSettings } from './mqtt-transport.js';

interface TwinMqttWriteDef extends NodeDef, WriterCommonDef {
  broker: string;
  format: string;
  commandTopic: string;
  readBackTopic: string;
  groupId: string;
  edgeNodeId: string;
  deviceId: string;
  metric: string;
}

export default function (RED: NodeAPI): void {
  function TwinMqttWrite(this: Node, def: TwinMqttWriteDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-mqtt-write');
    let broker: TwinMqttBrokerApi;
    let transport: MqttWriteTransport;
    let unwant: (() => void) | undefined;
    try {
      const b = RED.nodes.getNode(def.broker) as TwinMqttBrokerApi | null;
      if (!b || typeof b.publishDirect !== 'function') throw new TwinError('BAD_CONFIG', t('errors.noBroker'));
      if (b.configError) throw new TwinError('BAD_CONFIG', t('errors.brokerInvalid', { error: b.configError }));
      broker = b;
      const cfg = validateWriterCommon(RED, def, def.broker, t);
      const link = {
        subscribe: b.subscribe.bind(b),
        publishDirect: b.publishDirect.bind(b),
        isConnected: () => b.link?.state === 'connected',
      };
      const settings = validateMqttWriteSettings(def as unknown as Record<string, unknown>, cfg.readBackTimeoutMs);
      transport = new MqttWriteTransport(link, settings, b.latest);
      attachWriterInput(node, cfg, transport, t);
      // the broker keeps the latest reading of this envelope's inputs for the re-read at write time
      unwant = b.latest.want(envelopeInputKeys(cfg.envelope));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    transport.start();
    broker.register(node, (state, text) => {
      if (state !== 'connected') transport.forget();
      if (state === 'connected') statusIdle(node, t('status.ready'));
      else if (state === 'connecting') statusWarn(node, t('status.connecting'));
      else statusWarn(node, state === 'error' ? text : t('status.disconnected'));
    });
    node.on('close', (_removed: boolean, done: () => void) => {
      transport.stop();
      unwant?.();
      broker.deregister(node, done);
    });
  }

  RED.nodes.registerType('twin-mqtt-write', TwinMqttWrite as never);
}
